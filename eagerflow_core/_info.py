"""``__array_namespace_info__``: the Array API standard's inspection object."""

from __future__ import annotations

from . import _devices, _dtypes


class Info:
    """What this namespace supports, per device.

    >>> import eagerflow_core as ef
    >>> info = ef.__array_namespace_info__()
    >>> info.default_dtypes()["real floating"], info.capabilities()["boolean indexing"]
    (ef.float32, True)
    """

    def capabilities(self) -> dict:
        # Boolean masks give data-dependent shapes; eager execution knows them at once.
        return {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": 64}

    def default_device(self):
        return _devices.default_device()

    def devices(self) -> list:
        return _devices.devices()

    def default_dtypes(self, *, device=None) -> dict:
        return {"real floating": _dtypes.default_float, "complex floating": _dtypes.default_complex,
                "integral": _dtypes.default_int, "indexing": _dtypes.default_index}

    def dtypes(self, *, device=None, kind=None) -> dict:
        dev = _devices.device(device)
        supported = [d for d in _dtypes.ALL_DTYPES if d in dev.native]
        if kind is not None:
            supported = [d for d in supported if _dtypes.isdtype(d, kind)]
        return {d.name: d for d in supported}


def __array_namespace_info__() -> Info:
    """The Array API inspection object (capabilities, devices, default and supported dtypes)."""
    return Info()
