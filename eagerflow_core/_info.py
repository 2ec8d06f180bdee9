"""``__array_namespace_info__``: the Array API standard's inspection object.

Every answer is per device (the standard's ``device=`` argument; None: the current device,
the innermost ``with ef.device(...)``): ``capabilities`` reads the device's backend and kernel
table, ``dtypes`` the dtypes its backend holds. Only the standard's dtypes are reported;
float16 and bfloat16, which eagerflow also has, are not Array API dtypes.
"""

from __future__ import annotations

from . import _devices, _dtypes
from ._errors import InvalidArgumentError

_STANDARD = tuple(d for d in _dtypes.ALL_DTYPES if d.name not in ("float16", "bfloat16"))
# The standard's functions whose output shape depends on the values (besides boolean
# indexing): "data-dependent shapes" is True where a device has every one of them.
_DATA_DEPENDENT = ("nonzero", "repeat", "unique_all", "unique_counts", "unique_inverse",
                   "unique_values")


class Info:
    """What this namespace supports, per device.

    >>> import eagerflow_core as ef
    >>> info = ef.__array_namespace_info__()
    >>> info.default_dtypes()["real floating"], info.capabilities()["boolean indexing"]
    (ef.float32, True)
    >>> sorted(info.dtypes(kind="complex floating"))
    ['complex128', 'complex64']
    """

    def capabilities(self, *, device=None) -> dict:
        """``"boolean indexing"``, ``"data-dependent shapes"`` (eager execution knows every
        shape at once, where the device has the kernels) and ``"max dimensions"``. ``device``
        is an eagerflow extension: the standard asks about the current device."""
        dev = _devices.device(device)
        kernels = dev.kernels
        return {"boolean indexing": "getitem" in kernels and "setitem" in kernels,
                "data-dependent shapes": all(name in kernels for name in _DATA_DEPENDENT),
                "max dimensions": dev.backend.backend.max_dimensions}

    def default_device(self):
        return _devices.default_device()

    def devices(self) -> list:
        return _devices.devices()

    def default_dtypes(self, *, device=None) -> dict:
        _devices.device(device)  # an unknown device is an error, as in dtypes()
        return {"real floating": _dtypes.default_float, "complex floating": _dtypes.default_complex,
                "integral": _dtypes.default_int, "indexing": _dtypes.default_index}

    def dtypes(self, *, device=None, kind=None) -> dict:
        dev = _devices.device(device)
        supported = [d for d in _STANDARD if d in dev.native]
        if kind is not None:
            if not isinstance(kind, (str, tuple)):
                raise InvalidArgumentError(f"dtypes: kind must be a kind name or a tuple of them, "
                                           f"got {kind!r}")
            try:
                supported = [d for d in supported if _dtypes.isdtype(d, kind)]
            except InvalidArgumentError as exc:
                raise InvalidArgumentError(f"dtypes: {str(exc).partition(': ')[2]}") from None
        return {d.name: d for d in supported}


def __array_namespace_info__() -> Info:
    """The Array API inspection object (capabilities, devices, default and supported dtypes)."""
    return Info()
