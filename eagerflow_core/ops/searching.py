"""Searching ops of the Array API standard: argmax, argmin, count_nonzero, nonzero,
searchsorted, where.

argmax, argmin, count_nonzero, nonzero and searchsorted give integers: no gradient. where is
followed by its gradient rules.
"""

from __future__ import annotations

import numpy as np

from .._dispatch import as_tensor_arg, call
from .._dtypes import bool_, default_index, promote_types, scalar_dtype, weak_promote
from .._errors import ArgumentTypeError, AxisError, DTypeError, InvalidArgumentError, ShapeError
from .._registry import F, Masked, defjvp, defop, defvjp
from .._tensor import Tensor
from . import _rules as R
from ._define import public


# -- argmax, argmin ----------------------------------------------------------------------------
def _arg_dtype(x, *, axis=None, keepdims=False):
    R.require(x, "biuf", "a real (not complex)")
    return default_index


def _arg_shape(shape, *, axis=None, keepdims=False):
    if axis is not None and not isinstance(axis, int):
        raise AxisError(f"axis must be an int or None, got {axis!r}; argmax and argmin search "
                        f"one axis (or the flattened tensor)")
    axes = R.normalize_axes(axis, len(shape))
    if any(shape[a] == 0 for a in axes):
        raise ShapeError(f"cannot search an empty axis of shape {tuple(shape)} (axis={axis}): "
                         f"there is no element whose index to return")
    return R.reduce_shape(shape, axis, keepdims)


argmax_op = defop("argmax", family="searching", dtype_rule=_arg_dtype, shape_rule=_arg_shape,
                  differentiable=False)
argmin_op = defop("argmin", family="searching", dtype_rule=_arg_dtype, shape_rule=_arg_shape,
                  differentiable=False)


@public(argmax_op)
def argmax(x, /, *, axis=None, keepdims=False) -> Tensor:
    """Index of the largest value along ``axis`` (of the flattened tensor if None); the first
    one on ties.

    >>> import eagerflow_core as ef
    >>> ef.argmax(ef.constant([[1, 7, 7], [9, 0, 2]]), axis=1)
    ef.Tensor([1, 0], shape=(2,), dtype=int64, device='cpu:0')
    """
    return call(argmax_op, (x,), {"axis": axis, "keepdims": keepdims})


@public(argmin_op)
def argmin(x, /, *, axis=None, keepdims=False) -> Tensor:
    """Index of the smallest value along ``axis`` (of the flattened tensor if None); the first
    one on ties.

    >>> import eagerflow_core as ef
    >>> ef.argmin(ef.constant([[1.0, 7.0], [9.0, 0.5]]))
    ef.Tensor(3, shape=(), dtype=int64, device='cpu:0')
    """
    return call(argmin_op, (x,), {"axis": axis, "keepdims": keepdims})


# -- count_nonzero, nonzero --------------------------------------------------------------------
count_nonzero_op = defop("count_nonzero", family="searching", dtype_rule=R.index_dtype,
                         shape_rule=R.reduce_shape, differentiable=False)


@public(count_nonzero_op)
def count_nonzero(x, /, *, axis=None, keepdims=False) -> Tensor:
    """How many elements are nonzero (True, for bool) over ``axis`` (all axes by default).

    >>> import eagerflow_core as ef
    >>> ef.count_nonzero(ef.constant([[0, 1, 2], [0, 0, 3]]), axis=1)
    ef.Tensor([2, 1], shape=(2,), dtype=int64, device='cpu:0')
    """
    axis = tuple(axis) if isinstance(axis, list) else axis
    return call(count_nonzero_op, (x,), {"axis": axis, "keepdims": keepdims})


_NONZERO_0D = ("needs a tensor of at least 1 dimension, got a 0-d tensor (the standard "
               "forbids it); reshape it to (1,) first")


def _nonzero_shape(shape):
    if not shape:
        raise ShapeError(_NONZERO_0D)
    return [(None,)] * len(shape)  # how many are nonzero depends on the values


nonzero_op = defop("nonzero", family="searching", dtype_rule=R.index_dtype,
                   shape_rule=_nonzero_shape, differentiable=False)


@public(nonzero_op)
def nonzero(x, /) -> tuple[Tensor, ...]:
    """Indices of the nonzero elements: one int64 tensor per axis, in row-major order.

    >>> import eagerflow_core as ef
    >>> rows, cols = ef.nonzero(ef.constant([[0, 1], [2, 0]]))
    >>> rows
    ef.Tensor([0, 1], shape=(2,), dtype=int64, device='cpu:0')
    >>> cols.tolist()
    [1, 0]
    """
    if not isinstance(x, Tensor):
        x = as_tensor_arg(nonzero_op, x, allow_scalar=False)
    if x.ndim == 0:
        raise ShapeError("nonzero: " + _NONZERO_0D)
    return tuple(call(nonzero_op, (x,)))


def _coordinates(condition) -> Tensor:
    """One-argument ``where``: ``nonzero``'s index tensors as the columns of an (n, ndim)
    tensor; a 0-d condition gives (1, 0) or (0, 0), as in TensorFlow."""
    if not isinstance(condition, Tensor):
        condition = as_tensor_arg(where_op, condition, allow_scalar=True)
    if condition.ndim == 0:
        return F.zeros((int(bool(condition)), 0), dtype=default_index, device=condition.device)
    return F.stack(nonzero(condition), axis=-1)


# -- searchsorted ------------------------------------------------------------------------------
def _searchsorted_dtype(x1, x2, *, side="left"):
    R.require(x1, "biuf", "a real (not complex)")
    if x2 is not None:
        R.require(x2, "biuf", "a real (not complex)")
    return default_index


def _x1_not_1d(shape):
    return f"x1 must be 1-D (the sorted values to search), got shape {tuple(shape)}"


def _searchsorted_shape(x1, x2, *, side="left"):
    if len(x1) != 1:
        raise ShapeError(_x1_not_1d(x1))
    return tuple(x2)


searchsorted_op = defop("searchsorted", family="searching", nin=2, dtype_rule=_searchsorted_dtype,
                        shape_rule=_searchsorted_shape, scalar_inputs=True, differentiable=False)


def _apply_sorter(x1, sorter):
    """``x1`` in sorted order. The core gathers it, so that every backend's kernel is called
    the standard's way without a tensor keyword (the dispatcher passes tensors positionally)."""
    if not isinstance(sorter, Tensor):
        sorter = as_tensor_arg(searchsorted_op, sorter, allow_scalar=False)
    if sorter._dtype.kind not in "iu":
        raise DTypeError(f"searchsorted: sorter must hold integer indices, not {sorter._dtype}")
    if sorter.shape != x1.shape:
        raise ShapeError(f"searchsorted: sorter must have the shape of x1 {x1.shape}, got "
                         f"{sorter.shape}")
    return F.take(x1, sorter)


@public(searchsorted_op)
def searchsorted(x1, x2, /, *, side="left", sorter=None) -> Tensor:
    """Where each value of ``x2`` would be inserted into the sorted 1-D ``x1`` to keep it
    sorted (``side`` picks before or after equal values).

    ``sorter`` (integer indices that sort ``x1``) lets ``x1`` itself be unsorted. ``x2`` may
    be a Python scalar; tensors of different dtypes are compared in their common dtype.

    >>> import eagerflow_core as ef
    >>> ef.searchsorted(ef.constant([1.0, 2.0, 2.0, 5.0]), ef.constant([2.0, 6.0]), side="right")
    ef.Tensor([3, 4], shape=(2,), dtype=int64, device='cpu:0')
    """
    op = searchsorted_op
    if side not in ("left", "right"):
        raise InvalidArgumentError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if not isinstance(x1, Tensor):
        x1 = as_tensor_arg(op, x1, allow_scalar=False)
    if x1.ndim != 1:
        raise ShapeError("searchsorted: " + _x1_not_1d(x1.shape))
    if not isinstance(x2, Tensor) and hasattr(x2, "_ef_tensor_"):  # a Variable: its value
        x2 = x2._ef_tensor_()
    if isinstance(x2, Tensor) and x2._dtype is not x1._dtype:
        try:
            common = promote_types(x1._dtype, x2._dtype)
        except DTypeError as exc:
            raise DTypeError(f"searchsorted: {exc}") from None
        x1, x2 = F.astype(x1, common, copy=False), F.astype(x2, common, copy=False)
    if sorter is not None:
        x1 = _apply_sorter(x1, sorter)
    return call(op, (x1, x2), {"side": side})


# -- where -------------------------------------------------------------------------------------
_SCALARS = (bool, int, float, complex)


def _where_dtype(condition, x1, x2):
    # The public function has cast x1 and x2 to their result dtype (a Python scalar stays a
    # scalar, weak, and arrives here as None).
    return x1 if x1 is not None else x2


where_op = defop("where", family="searching", nin=3, dtype_rule=_where_dtype,
                 shape_rule=R.broadcast_rule, scalar_inputs=True)


def _where_operand(x, dt):
    """``x`` as a kernel input of dtype ``dt``: tensors are cast, Python scalars stay weak."""
    if type(x) in _SCALARS:
        if type(x) is int and dt.kind in "iu":
            info = np.iinfo(dt.numpy)
            if not info.min <= x <= info.max:
                raise InvalidArgumentError(f"where: the Python int {x} does not fit {dt} "
                                           f"(range {info.min}..{info.max}); cast the tensor "
                                           f"first with ef.astype")
        return x
    return x if x._dtype is dt else F.astype(x, dt)


@public(where_op)
def where(condition, x1=None, x2=None, /) -> Tensor:
    """Elements of ``x1`` where ``condition`` is True, of ``x2`` elsewhere (all three
    broadcast together).

    ``condition`` must be bool. ``x1`` and ``x2`` promote to their common dtype; either may be
    a Python scalar, which takes the other's dtype.

    With ``condition`` alone (TensorFlow's ``tf.where(condition)``): the coordinates of its
    nonzero (True) elements in row-major order, an int64 tensor of shape ``(n, ndim)`` (the
    standard's ``nonzero``, stacked).

    >>> import eagerflow_core as ef
    >>> x = ef.constant([1.5, -2.0, 3.0])
    >>> ef.where(x > 0, x, 0)
    ef.Tensor([1.5, 0. , 3. ], shape=(3,), dtype=float32, device='cpu:0')
    >>> ef.where(ef.constant([[True, False], [True, True]]))
    ef.Tensor([[0, 0],
               [1, 0],
               [1, 1]], shape=(3, 2), dtype=int64, device='cpu:0')
    """
    if x2 is None:
        if x1 is not None:
            raise ArgumentTypeError("where: give both x1 and x2, or neither (then the "
                                    "coordinates of condition's True elements are returned)")
        return _coordinates(condition)
    if type(condition) is not bool:
        if not isinstance(condition, Tensor):
            condition = as_tensor_arg(where_op, condition, allow_scalar=False)
        if condition._dtype is not bool_:
            raise DTypeError(f"where: condition must be a bool tensor, not {condition._dtype}; "
                             f"compare first (x != 0) or cast with ef.astype(c, ef.bool)")
    # Promotion happens here, not in the dispatcher, which would promote the condition too
    # (a full-size cast of the mask to the values' dtype on every call).
    s1, s2 = type(x1) in _SCALARS, type(x2) in _SCALARS
    if not s1 and not isinstance(x1, Tensor):
        x1 = as_tensor_arg(where_op, x1, allow_scalar=False)
    if not s2 and not isinstance(x2, Tensor):
        x2 = as_tensor_arg(where_op, x2, allow_scalar=False)
    if s1 and s2:  # the standard wants one tensor; make one, as NumPy would
        dt = weak_promote(scalar_dtype(x1), x2)
        dev = condition.device if isinstance(condition, Tensor) else None
        x1 = F.asarray(x1, dtype=dt, device=dev)
    elif s1:
        dt = weak_promote(x2._dtype, x1)
    elif s2:
        dt = weak_promote(x1._dtype, x2)
    elif x1._dtype is x2._dtype:
        return call(where_op, (condition, x1, x2))
    else:
        try:
            dt = promote_types(x1._dtype, x2._dtype)
        except DTypeError as exc:
            raise DTypeError(f"where: {exc}") from None
    return call(where_op, (condition, _where_operand(x1, dt), _where_operand(x2, dt)))


# The reverse rules hand back Masked cotangents: structurally zero where the other branch was
# chosen, so an unselected branch whose local derivative is inf or NaN there contributes
# exactly 0, not 0 * inf (the where-NaN problem, pytorch#52248, jax#1052). A Python bool
# condition picks one branch whole; Python scalar branches get no rule (the engines never ask
# for them). The forward rule chooses between the tangents as the op chooses between values.
def _support(mask, ans):
    """``mask`` at the result's shape (a broadcast view), so that the engine keeps it for a
    branch of that shape."""
    return mask if mask.shape == ans.shape else F.broadcast_to(mask, ans.shape)


def _where_x1_vjp(g, ans, condition, x1, x2):
    if type(condition) is bool:
        return where(condition, g, 0)
    return Masked(where(condition, g, 0), _support(condition, ans))


def _where_x2_vjp(g, ans, condition, x1, x2):
    if type(condition) is bool:
        return where(condition, 0, g)
    return Masked(where(condition, 0, g), _support(F.logical_not(condition), ans))


def _where_jvp(tangents, ans, condition, x1, x2):
    _, t1, t2 = tangents
    return where(condition, 0 if t1 is None else t1, 0 if t2 is None else t2)


defvjp(where, None, _where_x1_vjp, _where_x2_vjp)
defjvp(where, all_inputs=_where_jvp)


__all__ = ["argmax", "argmin", "count_nonzero", "nonzero", "searchsorted", "where"]

