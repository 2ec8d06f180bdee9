"""Data in and out of tensors, below the ops: Python/NumPy values to tensors, and raw copies
between devices.

``ops/creation.py`` (``asarray``, ``constant``), the dispatcher (a Python scalar or list where
a tensor is expected) and the fallback policy (inputs copied to another device) all come here,
so none of them imports another.

Memory ownership (issue #9): a tensor made from host data owns a copy unless the caller asked
to share (``asarray(..., copy=False)``, ``from_dlpack``); then the caller keeps the shared
memory unchanged for as long as the tensor lives.
"""

from __future__ import annotations

import numpy as np

from ._dtypes import (DType, bool_, default_complex, default_float, default_int,
                      from_numpy_dtype)
from ._errors import DTypeError, InvalidArgumentError
from ._tensor import Tensor, new_tensor

# Python values become the defaults (float32, int64...), as in PyTorch; NumPy keeps its dtypes.
_PY_DEFAULTS = {np.dtype(np.float64): default_float, np.dtype(np.complex128): default_complex,
                np.dtype(np.int64): default_int, np.dtype(np.bool_): bool_}


def host_array(obj, dtype: DType | None, op="asarray") -> np.ndarray:
    """``obj`` as a host NumPy array of ``dtype`` (or of the inferred dtype). The result may
    share memory with ``obj`` when it is a NumPy array."""
    from_python = not isinstance(obj, (np.ndarray, np.generic))
    if dtype is not None and from_python:
        _check_python_values(obj, dtype, op)  # its own message, not "cannot make a tensor"
    try:
        if dtype is not None:
            return np.asarray(obj, dtype=dtype.numpy)
        host = np.asarray(obj)
    except OverflowError as exc:
        raise InvalidArgumentError(f"{op}: a value does not fit {dtype}: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise InvalidArgumentError(
            f"{op}: cannot make a tensor from {type(obj).__name__}: {exc}; give a (nested, "
            f"rectangular) sequence of numbers, a NumPy array or a tensor") from None
    if host.dtype == object:
        raise InvalidArgumentError(
            f"{op}: cannot make a tensor from {type(obj).__name__} holding "
            f"{type(host.flat[0]).__name__ if host.size else 'nothing usable'} values; give a "
            f"(nested, rectangular) sequence of numbers, a NumPy array or a tensor")
    if from_python and host.dtype in _PY_DEFAULTS:
        want = _PY_DEFAULTS[host.dtype]
        if want.numpy != host.dtype:
            host = host.astype(want.numpy)
    return host


def _check_python_values(obj, dtype: DType, op):
    """NumPy turns ``[1e40]`` into float32 inf and ``[300]`` into a uint8 error only
    sometimes: check Python ints against an integer dtype's range first."""
    if dtype.kind in "iu" and isinstance(obj, int) and not isinstance(obj, bool):
        info = np.iinfo(dtype.numpy)
        if not info.min <= obj <= info.max:
            raise InvalidArgumentError(f"{op}: the Python int {obj} does not fit {dtype} "
                                       f"(range {info.min}..{info.max})")


def from_host(host: np.ndarray, dev, op="asarray") -> Tensor:
    """A tensor on ``dev`` holding ``host``'s values (sharing them on a host-memory device)."""
    try:
        dt = from_numpy_dtype(host.dtype)
    except DTypeError as exc:
        raise DTypeError(f"{op}: {exc}") from None
    if dt not in dev.native:
        raise DTypeError(f"{op}: backend {dev.backend.name!r} ({dev}) has no {dt} dtype")
    raw = dev.backend.backend.from_host(host, dev.index)
    native = dev.native[dt]
    if type(raw) is not dev.array_type:
        raw = dev.coerce(raw)
    if raw.dtype != native:
        raw = dev.kernels["astype"](raw, native)
    return new_tensor(raw, dt, dev)


def scalar_tensor(value, dev, op="asarray") -> Tensor:
    """A 0-d tensor of a Python or NumPy scalar's default dtype on ``dev``."""
    if isinstance(value, np.generic):
        value = value.item()
    return from_host(host_array(value, None, op), dev, op)


def move(t: Tensor, dev) -> Tensor:
    """``t`` copied to device ``dev`` through host memory (itself if already there); the
    copy is not an op: the caller decides what a tape sees (``ops/transfer.py``)."""
    if t._device is dev:
        return t
    if t._dtype not in dev.native:
        raise DTypeError(f"to_device: backend {dev.backend.name!r} ({dev}) has no {t._dtype}; "
                         f"cast first with ef.astype")
    host = t._device.backend.backend.to_host(t._data)
    return new_tensor(dev.backend.backend.from_host(host, dev.index), t._dtype, dev)


# -- pickling and copying by value (issue #9) ----------------------------------------------------

def rebuild_tensor(dtype_name: str, device_name: str, shape: tuple, payload: bytes) -> Tensor:
    """The tensor ``Tensor.__reduce__`` describes: only eagerflow and NumPy objects are made,
    from a dtype name, a device name, a shape and the raw bytes (C order)."""
    from ._devices import device as get_device
    from ._dtypes import as_dtype
    dt = as_dtype(dtype_name)
    host = np.frombuffer(payload, dtype=dt.numpy).reshape(shape).copy()
    return from_host(host, get_device(device_name), op="unpickle")


def _reduce(t: Tensor):
    host = t._device.backend.backend.to_host(t._data)
    if not host.flags.c_contiguous:
        host = host.copy(order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
    return (rebuild_tensor, (t._dtype.name, str(t._device), tuple(host.shape), host.tobytes()))


Tensor.__reduce__ = _reduce


# -- implicit conversion: data given where a tensor is expected (issue #8) -------------------

_DATA = (list, tuple, np.ndarray, np.generic)


def is_data(x) -> bool:
    """Host data an op converts by itself (TensorFlow's habit): a list, a tuple, a NumPy array
    or NumPy scalar. Tensors of any device are not: they never move silently."""
    return isinstance(x, _DATA) and not hasattr(x, "_ef_tensor_")


def implicit(x, dev, like=None, op="asarray") -> Tensor:
    """``x`` as a tensor on ``dev``, next to tensors of dtype ``like``.

    A NumPy array keeps its dtype (it is typed data; promotion then does the rest). A Python
    list is weak, like a Python scalar: it takes ``like``'s dtype where its values' kind allows
    (``[1, 2]`` beside a float32 tensor is float32), else the default of its kind.
    """
    if isinstance(x, (np.ndarray, np.generic)):
        host = np.array(x, copy=True)  # the tensor owns its memory
        return from_host(host, dev, op)
    host = host_array(x, None, op)
    if like is not None:
        from ._dtypes import weak_promote
        sample = {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}[host.dtype.kind]
        try:
            want = weak_promote(like, sample)
        except Exception:  # noqa: BLE001  (kinds that do not mix: leave it to promotion)
            want = None
        if want is not None and want.numpy != host.dtype:
            host = np.asarray(x, dtype=want.numpy)
    return from_host(host, dev, op)
