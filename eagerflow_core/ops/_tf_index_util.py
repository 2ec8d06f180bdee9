"""Argument handling and bounds checks that TensorFlow's index ops share (``tf_indexing``,
``tf_segment``): index arguments given as tensors, lists or NumPy arrays become tensors on
the data's device; indices are valid in ``[0, n)`` as on TensorFlow's CPU, checked here with
two reductions and a host read so that every backend reports a bad index the same way.
"""

from __future__ import annotations

import operator

from .. import _convert
from .._devices import default_device
from .._dispatch import call
from .._dtypes import int64
from .._errors import (ArgumentTypeError, AxisError, DeviceError, DTypeError,
                       InvalidArgumentError, OutOfRangeError, ShapeError)
from .._registry import F, OPS
from .._tensor import Symbolic, Tensor


def tensor_arg(x, op, what, like: Tensor | None = None) -> Tensor:
    """``x`` as a Tensor; lists and NumPy arrays (TensorFlow's habit) become tensors on
    ``like``'s device. A tensor on another device is refused: nothing moves silently."""
    if isinstance(x, Tensor):
        t = x
    elif hasattr(x, "_ef_tensor_"):
        t = x._ef_tensor_()
    elif _convert.is_data(x) or isinstance(x, (int, float, bool)):
        dev = like._device if like is not None else default_device()
        t = _convert.implicit([] if isinstance(x, (list, tuple)) and not len(x) else x, dev,
                              None, op)
        if isinstance(x, (list, tuple)) and not len(x):
            t = F.astype(t, int64)  # [] reads as float32: as an index list it is empty
    else:
        raise ArgumentTypeError(f"{op}: {what} must be a tensor (or a list), got "
                                f"{type(x).__name__}")
    if like is not None and t._device is not like._device:
        raise DeviceError(f"{op}: {what} is on {t._device} but the data is on {like._device}; "
                          f"move it with .to('{like._device}')")
    return t


def indices_arg(x, op, what, like: Tensor) -> Tensor:
    t = tensor_arg(x, op, what, like)
    if t._dtype.kind not in "iu":
        raise DTypeError(f"{op}: {what} must have an integer dtype, not {t._dtype}; cast with "
                         f"ef.astype({what}, ef.int64)")
    return t


def int_arg(x, op, what) -> int:
    if isinstance(x, Tensor) and x.ndim == 0 and x._dtype.kind in "iu":
        return int(x.item())
    if isinstance(x, bool):
        raise ArgumentTypeError(f"{op}: {what} must be an int, got a bool")
    try:
        return operator.index(x)
    except TypeError:
        raise ArgumentTypeError(f"{op}: {what} must be an int, got {type(x).__name__}") from None


def traced(t: Tensor) -> bool:
    """Whether ``t`` is a value ``ef.function`` is tracing (a shape, no values to check)."""
    return isinstance(t._data, Symbolic)


def host(t: Tensor, raw=None):
    """``raw`` (``t``'s data by default) as a host array; under ``ef.function`` the read
    raises its TracingError (an output shape that depends on the values cannot be traced)."""
    if traced(t):
        t.numpy()
    return t._device.backend.backend.to_host(t._data if raw is None else raw)


def extremes(idx: Tensor, axis=None):
    """Host (min, max) of an integer tensor (per last-axis column when ``axis`` is given)."""
    k = idx._device.kernels
    if axis is None:
        return int(host(idx, k["min"](idx._data))), int(host(idx, k["max"](idx._data)))
    return host(idx, k["min"](idx._data, axis=axis)), host(idx, k["max"](idx._data, axis=axis))


def out_of_range(op, what, bad, n, where) -> OutOfRangeError:
    return OutOfRangeError(f"{op}: {what} {bad} is out of range for {where} (valid: "
                           f"0..{n - 1})" if n > 0 else
                           f"{op}: {what} {bad} is out of range: {where} is empty")


def check_range(op, what, idx: Tensor, n: int, where: str):
    """Raise OutOfRangeError unless every value of ``idx`` is in ``[0, n)`` (not checked while
    ``ef.function`` traces: the values come later)."""
    if idx.size == 0 or traced(idx):
        return
    lo, hi = extremes(idx)
    if lo < 0 or hi >= n:
        raise out_of_range(op, what, lo if lo < 0 else hi, n, where)


def check_nd(op, idx: Tensor, shape: tuple, first: int, what="params"):
    """Bounds of gather_nd/scatter_nd indices: column j indexes axis ``first + j`` of ``shape``
    (not checked while ``ef.function`` traces)."""
    if idx.size == 0 or traced(idx):
        return
    los, his = extremes(idx, tuple(range(idx.ndim - 1)))
    for j, (lo, hi) in enumerate(zip(los.tolist(), his.tolist())):
        n = shape[first + j]
        bad = lo if lo < 0 else hi if hi >= n else None
        if bad is not None:
            raise OutOfRangeError(f"{op}: index {bad} in indices[..., {j}] is out of range for "
                                  f"axis {first + j} of {what} of shape {tuple(shape)} (valid "
                                  f"indices are 0..{n - 1})")


def axis_arg(op, axis, ndim, what="axis") -> int:
    a = int_arg(axis, op, what)
    if not -ndim <= a < max(ndim, 1):
        raise AxisError(f"{op}: {what} {a} is out of range for a tensor of {ndim} dimensions "
                        f"(valid: {-ndim}..{ndim - 1})")
    return a % ndim if ndim else 0


def batch_dims_arg(op, b, indices: Tensor, params: Tensor) -> int:
    b = int_arg(b, op, "batch_dims")
    b = b + indices.ndim if b < 0 else b
    if not 0 <= b <= indices.ndim or b > params.ndim:
        most = min(indices.ndim, params.ndim)
        raise InvalidArgumentError(f"{op}: batch_dims must be in 0..{most} (indices have "
                                   f"{indices.ndim} dimensions, params {params.ndim}), got {b}")
    if params.shape[:b] != indices.shape[:b]:
        raise ShapeError(f"{op}: the first batch_dims={b} dimensions of params {params.shape} "
                         f"and indices {indices.shape} must be equal")
    return b


def index_dtype(d, idx, *rest, **params):
    if idx.kind not in "iu":
        raise DTypeError(f"indices must have an integer dtype, not {idx}")
    return d


def getitem(x: Tensor, key) -> Tensor:
    """``x[key]`` for a normalised key (raw index arrays), through the core's getitem op."""
    return call(OPS["getitem"], (x,), {"key": key})
