"""NumPy overrides for reductions, searching, sorting, sets and utility ops (the kit's table
covers the rest).

Two habits run through this file. Ufunc ``reduce`` methods are called directly: they skip the
Python wrappers of ``np.sum``/``np.max`` (about 1 µs per call on small arrays). And the 16-bit
floats are computed in float32 and cast back: float16 and bfloat16 accumulators lose most
digits after a few dozen additions (a bfloat16 sum of 125 values in [-10, 10] was off by ~1),
and ml_dtypes' bfloat16 compare function orders NaN in the middle, which breaks sort, unique
and searchsorted.
"""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np

F32 = np.dtype(np.float32)
BF16 = np.dtype(ml_dtypes.bfloat16)
F16 = np.dtype(np.float16)
HALF = frozenset((F16, BF16))


def _acc(dtype):
    """The dtype to accumulate in: float32 for the 16-bit floats, else ``dtype`` itself."""
    return F32 if dtype in HALF else dtype


def _count(shape, axis) -> int:
    """How many elements each output element of a reduction over ``axis`` combines."""
    if axis is None:
        return math.prod(shape)
    if isinstance(axis, int):
        return shape[axis]
    return math.prod(shape[a] for a in axis)


def _back(out, dtype):
    return out if out.dtype == dtype else np.asarray(out).astype(dtype)


# -- statistical -------------------------------------------------------------------------------

_add_reduce = np.add.reduce
_empty = np.empty


def _sum(x, /, *, axis=None, dtype=None, keepdims=False):
    # np.add.reduce skips np.sum's Python wrapper: about 1 µs less per call on small arrays.
    # A sum over everything writes into a fresh 0-d array: NumPy would return a scalar, which
    # the core would have to turn into an array on every call.
    dtype = x.dtype if dtype is None else dtype
    if dtype is F16 or dtype is BF16:  # identity tests: `in HALF` hashes, on every call
        return _back(np.add.reduce(x, axis=axis, dtype=F32, keepdims=keepdims), dtype)
    if axis is None and not keepdims:
        return _add_reduce(x, None, dtype, _empty((), dtype), False)
    return _add_reduce(x, axis, dtype, None, keepdims)


def _prod(x, /, *, axis=None, dtype=None, keepdims=False):
    dtype = x.dtype if dtype is None else dtype
    if dtype in HALF:
        return _back(np.multiply.reduce(x, axis=axis, dtype=F32, keepdims=keepdims), dtype)
    return np.multiply.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims)


def _max(x, /, *, axis=None, keepdims=False):
    if x.dtype == BF16:  # ml_dtypes' loop warns on NaN; float32 holds every bfloat16 exactly
        return _back(np.maximum.reduce(x.astype(F32), axis=axis, keepdims=keepdims), BF16)
    return np.maximum.reduce(x, axis=axis, keepdims=keepdims)


def _min(x, /, *, axis=None, keepdims=False):
    if x.dtype == BF16:
        return _back(np.minimum.reduce(x.astype(F32), axis=axis, keepdims=keepdims), BF16)
    return np.minimum.reduce(x, axis=axis, keepdims=keepdims)


def _mean(x, /, *, axis=None, keepdims=False):
    # The core lifts integers to float32 first, so x is floating here. The mean of nothing is
    # NaN (the standard's special case), without np.mean's RuntimeWarning.
    total = np.add.reduce(x, axis=axis, dtype=_acc(x.dtype), keepdims=keepdims)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _back(np.true_divide(total, _count(x.shape, axis)), x.dtype)


def _var_acc(x, axis, correction, keepdims):
    """The variance in the accumulation dtype (float32 for the 16-bit floats)."""
    acc = _acc(x.dtype)
    xa = x if acc == x.dtype else x.astype(acc)
    n = _count(x.shape, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.true_divide(np.add.reduce(xa, axis=axis, keepdims=True), n)
        dev = xa - mean
        ss = np.add.reduce(dev * dev, axis=axis, keepdims=keepdims)
        # The standard: N - correction <= 0 gives NaN (NumPy would give inf, or warn).
        return np.true_divide(ss, n - correction) if n - correction > 0 else ss * np.nan


def _var(x, /, *, axis=None, correction=0.0, keepdims=False):
    return _back(_var_acc(x, axis, correction, keepdims), x.dtype)


def _std(x, /, *, axis=None, correction=0.0, keepdims=False):
    return _back(np.sqrt(_var_acc(x, axis, correction, keepdims)), x.dtype)


def _cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    dtype = x.dtype if dtype is None else dtype
    out = np.cumulative_sum(x, axis=axis, dtype=_acc(dtype), include_initial=include_initial)
    return _back(out, dtype)


def _cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    dtype = x.dtype if dtype is None else dtype
    out = np.cumulative_prod(x, axis=axis, dtype=_acc(dtype), include_initial=include_initial)
    return _back(out, dtype)


# -- searching ---------------------------------------------------------------------------------

def _searchsorted(x1, x2, /, *, side="left", sorter=None):
    if x1.dtype == BF16:
        x1 = x1.astype(F32)
        x2 = x2.astype(F32) if isinstance(x2, np.ndarray) else x2
    return np.searchsorted(x1, x2, side=side, sorter=sorter)


# -- sorting -----------------------------------------------------------------------------------

def _sort(x, /, *, axis=-1, descending=False, stable=True):
    if x.ndim == 0:
        return x.copy()
    if x.dtype == BF16:
        return _sort(x.astype(F32), axis=axis, descending=descending, stable=stable).astype(BF16)
    kind = "stable" if stable or descending else None
    if descending:
        # NumPy has no descending sort. A stable ascending sort of the reversed axis, reversed
        # back, is a stable descending sort: equal elements keep their original order.
        return np.flip(np.sort(np.flip(x, axis), axis=axis, kind=kind), axis)
    return np.sort(x, axis=axis, kind=kind)


def _argsort(x, /, *, axis=-1, descending=False, stable=True):
    if x.ndim == 0:
        return np.zeros((), dtype=np.int64)  # np.argsort gives shape (1,) here
    if x.dtype == BF16:
        x = x.astype(F32)
    if descending:
        # As in _sort; positions in the reversed axis map back as n - 1 - i.
        n = x.shape[axis]
        rev = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
        return (n - 1) - np.flip(rev, axis)
    return np.argsort(x, axis=axis, kind="stable" if stable else None)


# -- sets --------------------------------------------------------------------------------------
# np.unique (sorted values, NaNs distinct as the standard wants) rather than np.unique_values,
# which in NumPy 2.3+ returns integers in hash order. Where inverse indices are wanted,
# return_index is asked for too: it makes np.unique sort stably, so the k-th NaN of the values
# is the k-th NaN of the input (a quicksort shuffles them). Results are plain tuples: the core
# wraps exact tuples only, and builds the standard's named tuples itself.

def _unique(x, **flags):
    flat = x.reshape(-1)
    if x.dtype == BF16:
        flat = flat.astype(F32)
    out = np.unique(flat, equal_nan=False, **flags)
    if not flags:
        return _back(out, x.dtype)
    return (_back(out[0], x.dtype),) + tuple(out[1:])


def _unique_all(x, /):
    values, index, inverse, counts = _unique(x, return_index=True, return_inverse=True,
                                             return_counts=True)
    return (values, index, inverse.reshape(x.shape), counts)


def _unique_counts(x, /):
    return _unique(x, return_counts=True)


def _unique_inverse(x, /):
    values, _, inverse = _unique(x, return_index=True, return_inverse=True)
    return (values, inverse.reshape(x.shape))


def _unique_values(x, /):
    return _unique(x)


# -- utility -----------------------------------------------------------------------------------

def _all(x, /, *, axis=None, keepdims=False):
    if x.dtype != np.bool_:
        x = x.astype(np.bool_)  # NaN and inf are True; complex is True if a part is nonzero
    return np.logical_and.reduce(x, axis=axis, keepdims=keepdims)


def _any(x, /, *, axis=None, keepdims=False):
    if x.dtype != np.bool_:
        x = x.astype(np.bool_)
    return np.logical_or.reduce(x, axis=axis, keepdims=keepdims)


KERNELS: dict = {
    "sum": _sum, "prod": _prod, "max": _max, "min": _min, "mean": _mean, "var": _var,
    "std": _std, "cumulative_sum": _cumulative_sum, "cumulative_prod": _cumulative_prod,
    "searchsorted": _searchsorted,
    "sort": _sort, "argsort": _argsort,
    "unique_all": _unique_all, "unique_counts": _unique_counts,
    "unique_inverse": _unique_inverse, "unique_values": _unique_values,
    "all": _all, "any": _any,
}


# -- where: a branch-free select for large arrays ------------------------------------------------
# np.where branches per element: on a random mask (relu's backward, masked cotangents) it runs
# ~20x slower than a multiply. Selecting bits instead is exact for every value (NaN, inf, -0.0)
# and branch-free: out = (x1 & m) | (x2 & ~m), with m all ones where the condition holds.
_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_SELECT_MIN_SIZE = 4096  # below this np.where's own overhead is smaller


def _where(condition, x1, x2, /):
    big = x1 if isinstance(x1, np.ndarray) else x2
    if (not isinstance(big, np.ndarray) or big.size < _SELECT_MIN_SIZE
            or condition.dtype != np.bool_):
        return np.where(condition, x1, x2)
    dt = np.result_type(x1, x2)
    u = _UINT.get(dt.itemsize)
    if u is None:  # complex128: no 16-byte unsigned integer
        return np.where(condition, x1, x2)
    shape = np.broadcast_shapes(condition.shape, np.shape(x1), np.shape(x2))
    mask = np.broadcast_to(condition, shape).astype(u)
    np.negative(mask, out=mask)  # 1 -> all ones (unsigned wrap-around)
    out = np.bitwise_and(np.broadcast_to(np.asarray(x1, dt), shape).view(u), mask)
    np.invert(mask, out=mask)
    np.bitwise_and(np.broadcast_to(np.asarray(x2, dt), shape).view(u), mask, out=mask)
    np.bitwise_or(out, mask, out=out)
    return out.view(dt)


KERNELS["where"] = _where
