"""Statistical reductions of the Array API standard: sum, prod, mean, min, max, std, var,
cumulative_sum, cumulative_prod."""

from __future__ import annotations

from .._dispatch import call
from .._dtypes import as_dtype, default_int, uint64
from .._registry import defop
from .._tensor import Tensor
from . import _rules as R
from ._define import public


def _sum_dtype(x, *, axis=None, dtype=None, keepdims=False):
    """The standard's rule: small integers accumulate in the default integer (unsigned in
    uint64), bool counts as an integer; floats keep their dtype."""
    if dtype is not None:
        return dtype
    if x.kind == "b" or (x.kind == "i" and x.itemsize < default_int.itemsize):
        return default_int
    if x.kind == "u" and x.itemsize < uint64.itemsize:
        return uint64
    return x


sum_op = defop("sum", family="statistical", dtype_rule=_sum_dtype, shape_rule=R.reduce_shape)


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


@public(sum_op)
def sum(x, /, *, axis=None, dtype=None, keepdims=False) -> Tensor:
    """Sum over ``axis`` (all axes by default).

    >>> import eagerflow_core as ef
    >>> ef.sum(ef.constant([[1, 2], [3, 4]]), axis=0)
    ef.Tensor([4, 6], shape=(2,), dtype=int64, device='cpu:0')
    """
    # The accumulation dtype is passed to the kernel explicitly, so that no backend sums int8
    # values in int8 and overflows.
    dtype = as_dtype(dtype) if dtype is not None else (
        _sum_dtype(x.dtype) if isinstance(x, Tensor) else None)
    return call(sum_op, (x,), {"axis": _axis(axis), "dtype": dtype, "keepdims": keepdims})


__all__ = ["sum"]
