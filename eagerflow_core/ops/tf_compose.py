"""TensorFlow's everyday array ops that are compositions of other ops (issue #8 item 3):
``split`` is slicing, ``cumsum`` is ``cumulative_sum``, ``fill`` is ``full`` or
``broadcast_to``... They need no kernel and no gradient rule of their own: their gradients are
those of the ops they call. Other families' ops are reached through ``F``.
"""

from __future__ import annotations

from .._dtypes import int32
from .._errors import InvalidArgumentError, ShapeError
from .._registry import F
from .._tensor import Tensor
from . import _rules as R
from ._tf_args import along as _along
from ._tf_args import as_tensor as _tensor
from ._tf_args import axis_arg as _axis
from ._tf_args import ints as _ints


def split(value, num_or_size_splits, axis=0, num=None, name=None) -> list[Tensor]:
    """``value`` cut along ``axis`` into ``num_or_size_splits`` equal parts (an int), or into
    parts of the given sizes (a list, where one ``-1`` takes what is left) (``tf.split``).

    >>> import eagerflow_core as ef
    >>> [p.shape for p in ef.split(ef.ones((5, 2)), [2, -1])]
    [(2, 2), (3, 2)]
    >>> [p.tolist() for p in ef.split(ef.constant([1, 2, 3, 4]), 2)]
    [[1, 2], [3, 4]]
    """
    x = _tensor("split", value)
    ax = R.normalize_axis(axis, x.ndim) if x.ndim else None
    if ax is None:
        raise ShapeError("split: cannot split a 0-d tensor")
    n = x.shape[ax]
    if hasattr(num_or_size_splits, "tolist") and getattr(num_or_size_splits, "shape", 0) == ():
        num_or_size_splits = num_or_size_splits.tolist()
    if isinstance(num_or_size_splits, int) and not isinstance(num_or_size_splits, bool):
        parts = num_or_size_splits
        if parts <= 0 or n % parts:
            raise ShapeError(f"split: axis {ax} of size {n} does not divide into {parts} equal "
                             f"parts (shape {tuple(x.shape)}); give the sizes instead")
        sizes = [n // parts] * parts
    else:
        sizes = _ints(num_or_size_splits, "split: num_or_size_splits")
        unknown = [i for i, s in enumerate(sizes) if s == -1]
        if len(unknown) > 1 or any(s < -1 for s in sizes):
            raise InvalidArgumentError(f"split: sizes {sizes} may hold one -1 and otherwise "
                                       f"sizes >= 0")
        known = sum(s for s in sizes if s != -1)
        if unknown and known <= n:
            sizes[unknown[0]] = n - known
        if sum(sizes) != n or unknown and known > n:
            raise ShapeError(f"split: sizes {sizes} do not add up to {n}, the size of axis {ax} "
                             f"of shape {tuple(x.shape)}")
    if num is not None and num != len(sizes):
        raise InvalidArgumentError(f"split: num={num} but {len(sizes)} parts were asked for")
    out, start = [], 0
    for s in sizes:
        out.append(_along(x, ax, start, start + s))
        start += s
    return out


def range(start, limit=None, delta=1, dtype=None, name=None) -> Tensor:
    """``start, start + delta, ...`` up to (not including) ``limit`` (``tf.range``);
    ``range(n)`` counts from 0. The dtype follows ``ef.arange`` (int64 for ints, float32 for
    floats, unless ``dtype`` is given).

    >>> import eagerflow_core as ef
    >>> ef.range(3, 10, 3)
    ef.Tensor([3, 6, 9], shape=(3,), dtype=int64, device='cpu:0')
    """
    start, limit, delta = (v.tolist() if hasattr(v, "tolist") else v
                           for v in (start, limit, delta))
    if limit is None:
        start, limit = 0, start
    if delta == 0:
        raise InvalidArgumentError("range: delta must not be 0")
    return F.arange(start, limit, delta, dtype=dtype)


def fill(dims, value, name=None) -> Tensor:
    """A tensor of shape ``dims`` filled with ``value`` (``tf.fill``); a tensor ``value``
    keeps its dtype and device, and its gradient is the sum of the output's.

    >>> import eagerflow_core as ef
    >>> ef.fill([2, 3], 7)
    ef.Tensor([[7, 7, 7],
               [7, 7, 7]], shape=(2, 3), dtype=int64, device='cpu:0')
    """
    shape = tuple(_ints(dims, "fill: dims"))
    if any(d < 0 for d in shape):
        raise ShapeError(f"fill: dims {list(shape)} has a negative size")
    if hasattr(value, "shape") and not isinstance(value, (int, float, complex)):
        value = _tensor("fill", value)
        if tuple(value.shape) != ():
            raise ShapeError(f"fill: value must be a scalar, got shape {tuple(value.shape)}")
        return F.broadcast_to(value, shape)
    return F.full(shape, value)


def reverse(tensor, axis) -> Tensor:
    """``tensor`` with the order of its elements reversed along each axis in ``axis``
    (``tf.reverse``: a list of ints is required; ``ef.flip`` is the Array API's spelling).

    >>> import eagerflow_core as ef
    >>> ef.reverse(ef.constant([[1, 2], [3, 4]]), [1])
    ef.Tensor([[2, 1],
               [4, 3]], shape=(2, 2), dtype=int64, device='cpu:0')
    """
    return F.flip(tensor, axis=tuple(_ints(axis, "reverse: axis")))


def _cumulative(name, fn, x, axis, exclusive, reverse):
    x = _tensor(name, x)
    dtype = None if x.dtype.kind == "b" else x.dtype  # TensorFlow keeps the input's dtype
    if reverse:
        x = F.flip(x, axis=axis)
    out = fn(x, axis=axis, dtype=dtype, include_initial=bool(exclusive))
    if exclusive:
        ax = R.normalize_axis(axis, out.ndim)
        out = _along(out, ax, 0, out.shape[ax] - 1)
    return F.flip(out, axis=axis) if reverse else out


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    """Running sums along ``axis`` (``tf.math.cumsum``): ``exclusive`` leaves each element
    out of its own sum, ``reverse`` sums from the end. The dtype is the input's.

    >>> import eagerflow_core as ef
    >>> ef.cumsum(ef.constant([1, 2, 3]), exclusive=True, reverse=True)
    ef.Tensor([5, 3, 0], shape=(3,), dtype=int64, device='cpu:0')
    """
    return _cumulative("cumsum", F.cumulative_sum, x, axis, exclusive, reverse)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    """Running products along ``axis`` (``tf.math.cumprod``), as :func:`cumsum`.

    >>> import eagerflow_core as ef
    >>> ef.cumprod(ef.constant([1.0, 2.0, 3.0]), exclusive=True)
    ef.Tensor([1., 1., 2.], shape=(3,), dtype=float32, device='cpu:0')
    """
    return _cumulative("cumprod", F.cumulative_prod, x, axis, exclusive, reverse)


def _static(op_name, fn):
    """``shape``, ``size``, ``rank``: a fact of the static shape as a tensor on x's device."""
    def static(input, out_type=int32, name=None):
        x = _tensor(op_name, input)
        return F.asarray(fn(tuple(x.shape)), dtype=out_type, device=x.device)
    static.__name__ = static.__qualname__ = op_name
    return static


shape = _static("shape", list)
shape.__doc__ = """The shape of ``input`` as a 1-D int32 tensor (``tf.shape``; ``out_type``
    picks another integer dtype). ``x.shape`` is the same as a Python tuple.

    >>> import eagerflow_core as ef
    >>> ef.shape(ef.ones((2, 3)))
    ef.Tensor([2, 3], shape=(2,), dtype=int32, device='cpu:0')
    """
size = _static("size", lambda s: _prod(s))
size.__doc__ = """The number of elements of ``input`` as a 0-d int32 tensor (``tf.size``).

    >>> import eagerflow_core as ef
    >>> ef.size(ef.ones((2, 3)))
    ef.Tensor(6, shape=(), dtype=int32, device='cpu:0')
    """
rank = _static("rank", len)
rank.__doc__ = """The number of dimensions of ``input`` as a 0-d int32 tensor (``tf.rank``).

    >>> import eagerflow_core as ef
    >>> ef.rank(ef.ones((2, 3)))
    ef.Tensor(2, shape=(), dtype=int32, device='cpu:0')
    """


def _prod(s):
    n = 1
    for d in s:
        n *= d
    return n


def reduce_any(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Logical or over ``axis`` (``tf.reduce_any``); see ``ef.any``.

    >>> import eagerflow_core as ef
    >>> ef.reduce_any(ef.constant([[True, False], [False, False]]), axis=1)
    ef.Tensor([ True, False], shape=(2,), dtype=bool, device='cpu:0')
    """
    return F.any(input_tensor, axis=_axis(axis), keepdims=keepdims)


def reduce_all(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Logical and over ``axis`` (``tf.reduce_all``); see ``ef.all``.

    >>> import eagerflow_core as ef
    >>> ef.reduce_all(ef.constant([[True, False], [True, True]]), axis=1)
    ef.Tensor([False,  True], shape=(2,), dtype=bool, device='cpu:0')
    """
    return F.all(input_tensor, axis=_axis(axis), keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Population standard deviation over ``axis`` (``tf.math.reduce_std``).

    >>> import eagerflow_core as ef
    >>> ef.math.reduce_std(ef.constant([1.0, 3.0]))
    ef.Tensor(1., shape=(), dtype=float32, device='cpu:0')
    """
    return F.std(input_tensor, axis=_axis(axis), keepdims=keepdims)


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Population variance over ``axis`` (``tf.math.reduce_variance``).

    >>> import eagerflow_core as ef
    >>> ef.math.reduce_variance(ef.constant([1.0, 3.0]))
    ef.Tensor(1., shape=(), dtype=float32, device='cpu:0')
    """
    return F.var(input_tensor, axis=_axis(axis), keepdims=keepdims)


__all__ = ["cumprod", "cumsum", "fill", "range", "rank", "reduce_all", "reduce_any", "reverse",
           "shape", "size", "split"]
