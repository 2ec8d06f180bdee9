"""TensorFlow's segment reductions, ``bincount`` and ``boolean_mask``.

``segment_sum/mean/max`` take sorted (non-decreasing), non-negative 1-D segment ids, as
TensorFlow's CPU kernels require (they raise otherwise); the output has ``ids[-1] + 1``
segments, and an empty segment gives 0. ``unsorted_segment_sum`` takes ids of any order
and shape (a prefix of the data's shape), drops the elements whose id is negative and
raises for ids at or past ``num_segments``, as TensorFlow does. The number of segments, of
bins, or of selected elements is read on the host before the op runs, so the shape rules
give exact shapes.

Default implementations use the core's ``index_add`` / ``getitem`` / ``setitem`` (every
backend has them); ``segment_max``'s is a log-depth segmented scan of ``maximum``. The NumPy
backend runs ``np.add.at`` / ``ufunc.reduceat`` / ``np.bincount`` kernels instead.
"""

from __future__ import annotations

import numpy as np

from .._dispatch import call
from .._dtypes import bool_, int32
from .._errors import DTypeError, InvalidArgumentError, ShapeError
from .._registry import F, OPS, defjvp, defop, defvjp
from .._tensor import Tensor
from . import _rules as R
from . import _tf_index_util as U
from ._define import public
from ._grad_util import linear


def _segment_shape(data, ids, *, num_segments):
    return (num_segments,) + tuple(data[len(ids):])


_KIND_WORDS = {"iufc": "a numeric", "fc": "a floating-point", "iuf": "a real numeric"}


def _segment_dtype(kinds):
    def rule(d, ids, **params):
        R.require(d, kinds, _KIND_WORDS[kinds])
        return U.index_dtype(d, ids)
    return rule


def _index_add_impl(data, ids, *, num_segments):
    base = F.zeros((num_segments,) + data.shape[ids.ndim:], dtype=data._dtype,
                   device=data._device)
    return call(OPS["index_add"], (base, data), {"key": (ids._data,)})


def _segment_vjp(g, ans, data, ids, *, num_segments):
    return U.getitem(g, (ids._data,))  # each element's segment's cotangent


def _data_and_ids(op, data, ids, sorted_ids):
    data = U.tensor_arg(data, op, "data")
    ids = U.indices_arg(ids, op, "segment_ids", data)
    if sorted_ids and ids.ndim != 1:
        raise ShapeError(f"{op}: segment_ids must be 1-D, got shape {ids.shape}")
    if data.shape[:ids.ndim] != ids.shape:
        raise ShapeError(f"{op}: segment_ids of shape {ids.shape} must match the leading "
                         f"dimensions of data {data.shape}")
    return data, ids


# -- unsorted_segment_sum ------------------------------------------------------------------------

unsorted_segment_sum_op = defop(
    "unsorted_segment_sum", family="tf_indexing", nin=2, dtype_rule=_segment_dtype("iufc"),
    shape_rule=_segment_shape, impl=_index_add_impl)


@public(unsorted_segment_sum_op)
def unsorted_segment_sum(data, segment_ids, num_segments) -> Tensor:
    """Sums of the slices of ``data`` that share a segment id
    (``tf.math.unsorted_segment_sum``): ``out[s] = sum(data[i] for i where ids[i] == s)``,
    with shape ``(num_segments,) + data.shape[ids.ndim:]``. Ids come in any order; an element
    whose id is negative is dropped; an id at or past ``num_segments`` raises OutOfRangeError.

    >>> import eagerflow_core as ef
    >>> ef.unsorted_segment_sum(ef.constant([1.0, 2.0, 3.0, 4.0]), [2, 0, 2, -1], 3)
    ef.Tensor([2., 0., 4.], shape=(3,), dtype=float32, device='cpu:0')
    """
    op = "unsorted_segment_sum"
    data, ids = _data_and_ids(op, data, segment_ids, False)
    num = U.int_arg(num_segments, op, "num_segments")
    if num < 0:
        raise InvalidArgumentError(f"{op}: num_segments must be non-negative, got {num}")
    # (traced: the values come later; negative ids take the dropping path below anyway)
    lo, hi = (-1, -1) if U.traced(ids) else U.extremes(ids) if ids.size else (0, -1)
    if hi >= num:
        raise U.out_of_range(op, "segment id", hi, num, f"num_segments={num}")
    if lo >= 0:
        return call(unsorted_segment_sum_op, (data, ids), {"num_segments": num})
    # Dropped elements go to one extra segment, cut off after.
    ids = F.where(ids < 0, F.asarray(num, dtype=ids._dtype, device=ids._device), ids)
    out = call(unsorted_segment_sum_op, (data, ids), {"num_segments": num + 1})
    return out[:num]


defvjp(unsorted_segment_sum_op, _segment_vjp, None)
defjvp(unsorted_segment_sum_op, linear(unsorted_segment_sum_op), None)


# -- segment_sum, segment_mean, segment_max --------------------------------------------------------

def _sorted_call(op, data, segment_ids):
    data, ids = _data_and_ids(op.name, data, segment_ids, True)
    num = 0
    if ids.size:
        lo, hi = U.extremes(ids)
        if lo < 0:
            raise U.out_of_range(op.name, "segment id", lo, hi + 1, "sorted segment ids")
        if ids.size > 1 and bool(F.any(ids[1:] < ids[:-1]).item()):
            raise InvalidArgumentError(f"{op.name}: segment_ids must be sorted (non-decreasing)"
                                       f"; use ef.unsorted_segment_sum for ids in any order")
        num = hi + 1
    return call(op, (data, ids), {"num_segments": num})


segment_sum_op = defop("segment_sum", family="tf_indexing", nin=2,
                       dtype_rule=_segment_dtype("iufc"), shape_rule=_segment_shape,
                       impl=_index_add_impl)


@public(segment_sum_op)
def segment_sum(data, segment_ids) -> Tensor:
    """Sums of the runs of ``data`` (along axis 0) that share a segment id
    (``tf.math.segment_sum``). ``segment_ids`` is 1-D, one id per row of ``data``, sorted
    and non-negative (else InvalidArgumentError / OutOfRangeError); the result has
    ``segment_ids[-1] + 1`` rows, 0 for an id that does not occur.

    >>> import eagerflow_core as ef
    >>> ef.segment_sum(ef.constant([[1, 2], [3, 4], [5, 6]]), [0, 0, 2])
    ef.Tensor([[4, 6],
               [0, 0],
               [5, 6]], shape=(3, 2), dtype=int64, device='cpu:0')
    """
    return _sorted_call(segment_sum_op, data, segment_ids)


defvjp(segment_sum_op, _segment_vjp, None)
defjvp(segment_sum_op, linear(segment_sum_op), None)


def _counts(ids: Tensor, num: int, dtype, ndim: int) -> Tensor:
    """Each segment's size (at least 1) as the real dtype of ``dtype``, shaped to broadcast
    against a (num, ...) tensor."""
    ones = F.ones(ids.shape, dtype=R.real_dtype(dtype), device=ids._device)
    n = call(segment_sum_op, (ones, ids), {"num_segments": num})
    return F.reshape(F.maximum(n, 1), (num,) + (1,) * (ndim - 1))


def _segment_mean_impl(data, ids, *, num_segments):
    sums = call(segment_sum_op, (data, ids), {"num_segments": num_segments})
    return sums / _counts(ids, num_segments, data._dtype, data.ndim)


segment_mean_op = defop("segment_mean", family="tf_indexing", nin=2,
                        dtype_rule=_segment_dtype("fc"), shape_rule=_segment_shape,
                        impl=_segment_mean_impl)


@public(segment_mean_op)
def segment_mean(data, segment_ids) -> Tensor:
    """Means of the runs of ``data`` that share a segment id (``tf.math.segment_mean``;
    ids as for ``segment_sum``, floating-point data); an empty segment gives 0.

    >>> import eagerflow_core as ef
    >>> ef.segment_mean(ef.constant([1.0, 3.0, 8.0]), [0, 0, 2])
    ef.Tensor([2., 0., 8.], shape=(3,), dtype=float32, device='cpu:0')
    """
    return _sorted_call(segment_mean_op, data, segment_ids)


def _segment_mean_vjp(g, ans, data, ids, *, num_segments):
    return U.getitem(g / _counts(ids, num_segments, g._dtype, g.ndim), (ids._data,))


defvjp(segment_mean_op, _segment_mean_vjp, None)
defjvp(segment_mean_op, linear(segment_mean_op), None)


def _segment_max_impl(data, ids, *, num_segments):
    out = F.zeros((num_segments,) + data.shape[1:], dtype=data._dtype, device=data._device)
    n = data.shape[0]
    if n == 0:
        return out
    # Hillis-Steele inclusive scan of maximum within runs of equal ids (log2(n) steps): the
    # last element of each run then holds the run's maximum.
    same_shape = (n,) + (1,) * (data.ndim - 1)
    run = F.reshape(ids, same_shape)
    m, k = data, 1
    while k < n:
        joined = F.where(run[k:] == run[:-k], F.maximum(m[k:], m[:-k]), m[k:])
        m = F.concat([m[:k], joined], axis=0)
        k *= 2
    last = F.concat([ids[1:] != ids[:-1], F.ones((1,), dtype=bool_, device=ids._device)])
    return call(OPS["setitem"], (out, m[last]), {"key": (ids[last]._data,)})


segment_max_op = defop("segment_max", family="tf_indexing", nin=2,
                       dtype_rule=_segment_dtype("iuf"), shape_rule=_segment_shape,
                       impl=_segment_max_impl)


@public(segment_max_op)
def segment_max(data, segment_ids) -> Tensor:
    """Maxima of the runs of ``data`` that share a segment id (``tf.math.segment_max``; ids
    as for ``segment_sum``, real data); an empty segment gives 0, as in TensorFlow. The
    gradient goes to the elements equal to their segment's maximum, split equally among
    ties (TensorFlow's rule).

    >>> import eagerflow_core as ef
    >>> ef.segment_max(ef.constant([1.0, 3.0, -8.0, 2.0]), [0, 0, 2, 2])
    ef.Tensor([3., 0., 2.], shape=(3,), dtype=float32, device='cpu:0')
    """
    return _sorted_call(segment_max_op, data, segment_ids)


def _maxima(data, ans, ids, num_segments, dtype):
    """Which elements equal their segment's maximum, and how many do in each segment."""
    chosen = data == U.getitem(ans, (ids._data,))
    ties = call(segment_sum_op, (F.astype(chosen, dtype), ids), {"num_segments": num_segments})
    return chosen, F.maximum(ties, 1)  # (an empty segment has no tie and is never read back)


def _segment_max_vjp(g, ans, data, ids, *, num_segments):
    chosen, ties = _maxima(data, ans, ids, num_segments, g._dtype)
    return F.where(chosen, U.getitem(g / ties, (ids._data,)), 0)


def _segment_max_jvp(t, ans, data, ids, *, num_segments):
    # the mean tangent of the elements that tie for the maximum (the VJP's transpose)
    chosen, ties = _maxima(data, ans, ids, num_segments, t._dtype)
    return call(segment_sum_op, (F.where(chosen, t, 0), ids), {"num_segments": num_segments}) / ties


defvjp(segment_max_op, _segment_max_vjp, None)
defjvp(segment_max_op, _segment_max_jvp, None)


# -- bincount ------------------------------------------------------------------------------------

def _bincount_dtype(d, *, length, dtype):
    if d.kind not in "iu":
        raise DTypeError(f"arr must have an integer dtype, not {d}")
    return dtype


def _bincount_shape(arr, *, length, dtype):
    return (length,)


def _bincount_impl(arr, *, length, dtype):
    ones = F.ones(arr.shape, dtype=dtype, device=arr._device)
    return call(unsorted_segment_sum_op, (ones, arr), {"num_segments": length})


bincount_op = defop("bincount", family="tf_indexing", dtype_rule=_bincount_dtype,
                    shape_rule=_bincount_shape, differentiable=False, impl=_bincount_impl)


@public(bincount_op)
def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=int32) -> Tensor:
    """How often each value ``0, 1, ...`` occurs in the non-negative integers ``arr``
    (``tf.math.bincount``), or, with ``weights`` (``arr``'s shape), the sum of the weights of
    each value. The result has ``max(arr) + 1`` bins, at least ``minlength`` and at most
    ``maxlength`` (values past it are dropped); counts are ``dtype`` (int32, TensorFlow's
    default), weighted sums have the weights' dtype and are differentiable in the weights.

    >>> import eagerflow_core as ef
    >>> ef.bincount([1, 1, 3], minlength=5)
    ef.Tensor([0, 2, 0, 1, 0], shape=(5,), dtype=int32, device='cpu:0')
    >>> ef.bincount([1, 1, 3], weights=ef.constant([0.5, 1.0, 2.0]))
    ef.Tensor([0. , 1.5, 0. , 2. ], shape=(4,), dtype=float32, device='cpu:0')
    """
    arr = U.indices_arg(arr, "bincount", "arr", None)
    lo, hi = U.extremes(arr) if arr.size else (0, -1)
    if lo < 0:
        raise InvalidArgumentError(f"bincount: arr must be non-negative, got the value {lo}")
    length = hi + 1
    if minlength is not None:
        length = max(length, U.int_arg(minlength, "bincount", "minlength"))
    if maxlength is not None:
        length = min(length, max(U.int_arg(maxlength, "bincount", "maxlength"), 0))
    keep = arr < length if hi >= length else None  # values past maxlength are dropped
    if weights is None:
        if keep is not None:
            arr = arr[keep]
        return call(bincount_op, (arr,), {"length": length, "dtype": dtype})
    weights = U.tensor_arg(weights, "bincount", "weights", arr)
    if weights.shape != arr.shape:
        raise ShapeError(f"bincount: weights of shape {weights.shape} must have arr's shape "
                         f"{arr.shape}")
    if keep is not None:
        arr, weights = arr[keep], weights[keep]
    return call(unsorted_segment_sum_op, (weights, arr), {"num_segments": length})


# -- boolean_mask --------------------------------------------------------------------------------

def _mask_dtype(d, mask, *, axis, count):
    if mask is not bool_:
        raise DTypeError(f"mask must be bool, not {mask}")
    return d


def _mask_shape(x, mask, *, axis, count):
    return tuple(x[:axis]) + (count,) + tuple(x[axis + len(mask):])


def _mask_key(mask: Tensor, axis: int) -> tuple:
    return (slice(None),) * axis + (mask._data,)


def _boolean_mask_impl(x, mask, *, axis, count):
    return U.getitem(x, _mask_key(mask, axis))


boolean_mask_op = defop("boolean_mask", family="tf_indexing", nin=2, dtype_rule=_mask_dtype,
                        shape_rule=_mask_shape, impl=_boolean_mask_impl)


@public(boolean_mask_op)
def boolean_mask(tensor, mask, axis=0) -> Tensor:
    """The slices of ``tensor`` where the bool ``mask`` is True (``tf.boolean_mask``):
    ``mask``'s shape matches ``tensor.shape[axis:axis + mask.ndim]``, and those axes become
    one of length ``count_nonzero(mask)``.

    >>> import eagerflow_core as ef
    >>> x = ef.constant([[1, 2], [3, 4], [5, 6]])
    >>> ef.boolean_mask(x, [True, False, True])
    ef.Tensor([[1, 2],
               [5, 6]], shape=(2, 2), dtype=int64, device='cpu:0')
    """
    tensor = U.tensor_arg(tensor, "boolean_mask", "tensor")
    mask = U.tensor_arg(mask, "boolean_mask", "mask", tensor)
    if mask._dtype is not bool_:
        raise DTypeError(f"boolean_mask: mask must be bool, not {mask._dtype}; compare first "
                         f"(for example mask != 0)")
    if mask.ndim == 0:
        raise ShapeError("boolean_mask: mask must have at least 1 dimension, got a 0-d mask")
    axis = U.axis_arg("boolean_mask", axis, tensor.ndim)
    covered = tensor.shape[axis:axis + mask.ndim]
    if covered != mask.shape:
        raise ShapeError(f"boolean_mask: mask of shape {mask.shape} must match the dimensions "
                         f"{covered} of tensor {tensor.shape} from axis {axis}")
    count = int(np.count_nonzero(U.host(mask)))
    return call(boolean_mask_op, (tensor, mask), {"axis": axis, "count": count})


defvjp(boolean_mask_op,
       lambda g, ans, x, mask, *, axis, count: F.scatter_add(x.shape, g, _mask_key(mask, axis)),
       None)
defjvp(boolean_mask_op, linear(boolean_mask_op), None)


__all__ = ["unsorted_segment_sum", "segment_sum", "segment_mean", "segment_max", "bincount",
           "boolean_mask"]
