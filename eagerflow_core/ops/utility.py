"""Utility ops of the Array API standard: all, any (bools: no gradient), diff."""

from __future__ import annotations

import builtins

from .._dispatch import as_tensor_arg, call
from .._dtypes import weak_promote
from .._errors import AxisError, InvalidArgumentError, ShapeError
from .._registry import F, defjvp, defop, defvjp
from .._tensor import Tensor
from . import _rules as R
from ._define import public
from ._grad_util import linear

# -- all, any ----------------------------------------------------------------------------------
all_op = defop("all", family="utility", dtype_rule=R.bool_dtype, shape_rule=R.reduce_shape,
               differentiable=False)
any_op = defop("any", family="utility", dtype_rule=R.bool_dtype, shape_rule=R.reduce_shape,
               differentiable=False)


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


@public(all_op)
def all(x, /, *, axis=None, keepdims=False) -> Tensor:
    """True where every element over ``axis`` is nonzero (NaN counts as nonzero); True for
    an empty axis.

    >>> import eagerflow_core as ef
    >>> ef.all(ef.constant([[1, 0], [2, 3]]), axis=1)
    ef.Tensor([False,  True], shape=(2,), dtype=bool, device='cpu:0')
    """
    return call(all_op, (x,), {"axis": _axis(axis), "keepdims": keepdims})


@public(any_op)
def any(x, /, *, axis=None, keepdims=False) -> Tensor:
    """True where some element over ``axis`` is nonzero (NaN counts as nonzero); False for
    an empty axis.

    >>> import eagerflow_core as ef
    >>> ef.any(ef.constant([[0.0, 0.0], [0.0, 2.0]]), axis=1)
    ef.Tensor([False,  True], shape=(2,), dtype=bool, device='cpu:0')
    """
    return call(any_op, (x,), {"axis": _axis(axis), "keepdims": keepdims})


# -- diff --------------------------------------------------------------------------------------
def _diff_dtype(x, *, axis=-1, n=1):
    return R.require(x, "iufc", "a numeric (not bool)")


def _diff_shape(x, *, axis=-1, n=1):
    if not x:
        raise ShapeError("needs a tensor of at least 1 dimension, got a 0-d tensor")
    ax = R.normalize_axis(axis, len(x))
    out = list(x)
    out[ax] = builtins.max(x[ax] - n, 0)
    return tuple(out)


diff_op = defop("diff", family="utility", dtype_rule=_diff_dtype, shape_rule=_diff_shape)


def _join(x, prepend, append, axis):
    """``prepend``, ``x``, ``append`` joined along ``axis``. The core joins them (rather than
    passing them to the kernel) so that every backend's kernel is called the standard's way
    without a tensor keyword, and the gradient reaches them through concat."""
    ax = R.normalize_axis(axis, x.ndim)
    slice_shape = x.shape[:ax] + (1,) + x.shape[ax + 1:]
    parts = []
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is None:
            parts.append(None)
            continue
        if isinstance(extra, (bool, int, float, complex)):  # weak, as in binary ops
            dt = weak_promote(x.dtype, extra)
            try:
                extra = F.asarray(extra, dtype=dt, device=x.device)
            except InvalidArgumentError:
                raise InvalidArgumentError(f"diff: {name}={extra!r} does not fit {dt}, the "
                                           f"dtype of x; cast x first with ef.astype") from None
        elif not isinstance(extra, Tensor):
            extra = as_tensor_arg(diff_op, extra, allow_scalar=False)
        if extra.ndim == 0:  # one value stands for one slice
            extra = F.broadcast_to(extra, slice_shape)
        elif extra.ndim != x.ndim or builtins.any(
                e != d for i, (e, d) in enumerate(zip(extra.shape, x.shape)) if i != ax):
            want = ", ".join("k" if i == ax else str(d) for i, d in enumerate(x.shape))
            raise ShapeError(f"diff: {name} of shape {extra.shape} does not fit x of shape "
                             f"{x.shape}: it must have shape ({want}) for some k (axis {axis})")
        parts.append(extra)
    if parts[0] is None and parts[1] is None:
        return x
    return F.concat([p for p in (parts[0], x, parts[1]) if p is not None], axis=ax)


@public(diff_op)
def diff(x, /, *, axis=-1, n=1, prepend=None, append=None) -> Tensor:
    """The ``n``-th forward difference ``x[i+1] - x[i]`` along ``axis``.

    ``prepend`` and ``append`` are joined to ``x`` along ``axis`` first; they must match its
    shape on the other axes (a Python scalar or a 0-d tensor stands for one slice). Their
    dtypes promote with ``x``'s.

    >>> import eagerflow_core as ef
    >>> ef.diff(ef.constant([1, 4, 9, 16]))
    ef.Tensor([3, 5, 7], shape=(3,), dtype=int64, device='cpu:0')
    >>> ef.diff(ef.constant([1.0, 4.0]), prepend=0.0)
    ef.Tensor([1., 3.], shape=(2,), dtype=float32, device='cpu:0')
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InvalidArgumentError(f"diff: n must be a non-negative int, got {n!r}")
    if not isinstance(x, Tensor):
        x = as_tensor_arg(diff_op, x, allow_scalar=False)
    if x.ndim == 0:
        raise ShapeError("diff: needs a tensor of at least 1 dimension, got a 0-d tensor")
    if prepend is not None or append is not None:
        try:
            x = _join(x, prepend, append, axis)
        except AxisError as exc:
            raise AxisError(f"diff: {exc}") from None
    return call(diff_op, (x,), {"axis": axis, "n": n})


# The adjoint of one forward difference (y_i = x_{i+1} - x_i) is minus the difference of g
# with a zero joined at both ends; diff is linear, so its tangent is the difference of t.
# ``prepend``/``append`` reach both through the concat that joined them to x.
def _diff_vjp(g, ans, x, *, axis, n):
    if x.shape[axis] < n:  # the result was empty whatever x held
        return F.zeros_like(x)
    for _ in range(n):
        g = -diff(g, axis=axis, prepend=0, append=0)
    return g


defvjp(diff, _diff_vjp)
defjvp(diff, linear(diff_op))


__all__ = ["all", "any", "diff"]

