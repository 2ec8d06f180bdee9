"""Statistical reductions of the Array API standard: sum, prod, mean, min, max, std, var,
cumulative_sum, cumulative_prod; and TensorFlow's names for them (reduce_sum, ...)."""

from __future__ import annotations

from .._dispatch import as_tensor_arg, call, call_reduce
from .._dtypes import ALL_DTYPES, as_dtype, default_float, default_int, uint64
from .._errors import AxisError, EagerflowError, InvalidArgumentError, ShapeError
from .._registry import defop
from .._tensor import Tensor
from . import _rules as R
from ._define import public
from .creation import astype


def _sum_dtype(x, *, dtype=None, **params):
    """The standard's rule: small integers accumulate in the default integer (unsigned in
    uint64), bool counts as an integer; floats keep their dtype."""
    if dtype is not None:
        return dtype
    if x.kind == "b" or (x.kind == "i" and x.itemsize < default_int.itemsize):
        return default_int
    if x.kind == "u" and x.itemsize < uint64.itemsize:
        return uint64
    return x


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _raise(op, exc: EagerflowError):
    """``exc`` again, its message prefixed with the op name (as the dispatcher does)."""
    raise type(exc)(f"{op.name}: {exc}") from None


def _tensor(op, x) -> Tensor:
    """``x`` as a Tensor (a Variable gives its value), so that the checks below see every
    input; lists and scalars raise ArgumentTypeError."""
    return x if isinstance(x, Tensor) else as_tensor_arg(op, x, allow_scalar=False)


def _lift(op, x) -> Tensor:
    """Integers and bools given to float-only statistics become the default float first."""
    x = _tensor(op, x)
    return astype(x, default_float) if x._dtype.kind in "biu" else x


# -- sum and prod ------------------------------------------------------------------------------
sum_op = defop("sum", family="statistical", dtype_rule=_sum_dtype, shape_rule=R.reduce_shape)
prod_op = defop("prod", family="statistical", dtype_rule=_sum_dtype, shape_rule=R.reduce_shape)


# The accumulation dtype of sum and prod for each input dtype (the fast path's table).
_SUM_DTYPES = {d: _sum_dtype(d) for d in ALL_DTYPES}


def _reduce_with_dtype(op, x, axis, dtype, keepdims):
    # The accumulation dtype is passed to the kernel explicitly, so that no backend sums int8
    # values in int8 and overflows.
    if dtype is None and type(x) is Tensor and type(axis) is not list:
        return call_reduce(op, x, axis, keepdims, _SUM_DTYPES)
    x = _tensor(op, x)
    dtype = _sum_dtype(x._dtype) if dtype is None else as_dtype(dtype)
    return call(op, (x,), {"axis": _axis(axis), "dtype": dtype, "keepdims": keepdims})


@public(sum_op)
def sum(x, /, *, axis=None, dtype=None, keepdims=False) -> Tensor:
    """Sum over ``axis`` (all axes by default).

    Integers smaller than the default integer accumulate in int64 (unsigned ones in uint64);
    float16 and bfloat16 keep their dtype.

    >>> import eagerflow_core as ef
    >>> ef.sum(ef.constant([[1, 2], [3, 4]]), axis=0)
    ef.Tensor([4, 6], shape=(2,), dtype=int64, device='cpu:0')
    """
    if dtype is None and type(x) is Tensor and type(axis) is not list:  # the fast path
        return call_reduce(sum_op, x, axis, keepdims, _SUM_DTYPES)
    return _reduce_with_dtype(sum_op, x, axis, dtype, keepdims)


@public(prod_op)
def prod(x, /, *, axis=None, dtype=None, keepdims=False) -> Tensor:
    """Product over ``axis`` (all axes by default); the product of nothing is 1.

    Accumulates in the same dtype as :func:`sum`.

    >>> import eagerflow_core as ef
    >>> ef.prod(ef.constant([[1, 2], [3, 4]], dtype=ef.int8), axis=1)
    ef.Tensor([ 2, 12], shape=(2,), dtype=int64, device='cpu:0')
    """
    return _reduce_with_dtype(prod_op, x, axis, dtype, keepdims)


# -- min and max -------------------------------------------------------------------------------
def _minmax_dtype(x, *, axis=None, keepdims=False):
    return R.require(x, "biuf", "a real (not complex)")


def _check_nonempty(op, shape, axis):
    """ShapeError if a reduction without identity (max, min) would reduce over nothing."""
    axes = R.normalize_axes(axis, len(shape))
    empty = [a for a in axes if shape[a] == 0]
    if empty:
        raise ShapeError(f"cannot take the {op} over axis {empty[0]} of shape {tuple(shape)}: "
                         f"it has no elements, and {op} has no identity value; reduce over "
                         f"non-empty axes, or check x.size first")


def _max_shape(shape, *, axis=None, keepdims=False):
    _check_nonempty("maximum", shape, axis)
    return R.reduce_shape(shape, axis, keepdims)


def _min_shape(shape, *, axis=None, keepdims=False):
    _check_nonempty("minimum", shape, axis)
    return R.reduce_shape(shape, axis, keepdims)


max_op = defop("max", family="statistical", dtype_rule=_minmax_dtype, shape_rule=_max_shape)
min_op = defop("min", family="statistical", dtype_rule=_minmax_dtype, shape_rule=_min_shape)


def _minmax(op, shape_rule, x, axis, keepdims):
    axis = _axis(axis)
    x = _tensor(op, x)
    if 0 in x.shape:  # a tuple test: free on the usual path
        try:
            shape_rule(x.shape, axis=axis, keepdims=keepdims)
        except (ShapeError, AxisError) as exc:
            _raise(op, exc)
    return call(op, (x,), {"axis": axis, "keepdims": keepdims})


@public(max_op)
def max(x, /, *, axis=None, keepdims=False) -> Tensor:
    """Largest value over ``axis`` (all axes by default); NaN wins.

    A reduction over an empty axis raises ShapeError: there is no identity to return.

    >>> import eagerflow_core as ef
    >>> ef.max(ef.constant([[1.0, 5.0], [3.0, 2.0]]), axis=1)
    ef.Tensor([5., 3.], shape=(2,), dtype=float32, device='cpu:0')
    """
    return _minmax(max_op, _max_shape, x, axis, keepdims)


@public(min_op)
def min(x, /, *, axis=None, keepdims=False) -> Tensor:
    """Smallest value over ``axis`` (all axes by default); NaN wins.

    A reduction over an empty axis raises ShapeError: there is no identity to return.

    >>> import eagerflow_core as ef
    >>> ef.min(ef.constant([[1, 5], [3, 2]]))
    ef.Tensor(1, shape=(), dtype=int64, device='cpu:0')
    """
    return _minmax(min_op, _min_shape, x, axis, keepdims)


# -- mean, var, std ----------------------------------------------------------------------------
def _mean_dtype(x, *, axis=None, keepdims=False):
    return x if x.kind in "fc" else default_float


def _var_dtype(x, *, axis=None, correction=0.0, keepdims=False):
    R.require(x, "biuf", "a real (not complex)")
    return x if x.kind == "f" else default_float


mean_op = defop("mean", family="statistical", dtype_rule=_mean_dtype, shape_rule=R.reduce_shape)
var_op = defop("var", family="statistical", dtype_rule=_var_dtype, shape_rule=R.reduce_shape)
std_op = defop("std", family="statistical", dtype_rule=_var_dtype, shape_rule=R.reduce_shape)


@public(mean_op)
def mean(x, /, *, axis=None, keepdims=False) -> Tensor:
    """Arithmetic mean over ``axis`` (all axes by default); the mean of nothing is NaN.

    Integer and bool inputs give the default float (float32), as in PyTorch and JAX.

    >>> import eagerflow_core as ef
    >>> ef.mean(ef.constant([[1, 2], [3, 5]]), axis=0)
    ef.Tensor([2. , 3.5], shape=(2,), dtype=float32, device='cpu:0')
    """
    return call(mean_op, (_lift(mean_op, x),), {"axis": _axis(axis), "keepdims": keepdims})


def _moment(op, x, axis, correction, keepdims):
    if isinstance(correction, bool) or not isinstance(correction, (int, float)) \
            or not correction >= 0:
        raise InvalidArgumentError(f"{op.name}: correction must be a non-negative int or float "
                                   f"(0 for the population, 1 for the sample {op.name}), "
                                   f"got {correction!r}")
    return call(op, (_lift(op, x),), {"axis": _axis(axis), "correction": correction,
                                  "keepdims": keepdims})


@public(var_op)
def var(x, /, *, axis=None, correction=0.0, keepdims=False) -> Tensor:
    """Variance over ``axis``: the mean squared deviation, dividing by ``N - correction``.

    ``correction=1`` gives the unbiased sample variance. NaN when ``N - correction <= 0``.
    Integer and bool inputs give the default float; complex inputs are refused.

    >>> import eagerflow_core as ef
    >>> ef.var(ef.constant([1.0, 2.0, 3.0, 4.0, 5.0]), correction=1)
    ef.Tensor(2.5, shape=(), dtype=float32, device='cpu:0')
    """
    return _moment(var_op, x, axis, correction, keepdims)


@public(std_op)
def std(x, /, *, axis=None, correction=0.0, keepdims=False) -> Tensor:
    """Standard deviation over ``axis``: the square root of :func:`var`.

    >>> import eagerflow_core as ef
    >>> ef.std(ef.constant([[1.0, 3.0], [2.0, 2.0]]), axis=1)
    ef.Tensor([1., 0.], shape=(2,), dtype=float32, device='cpu:0')
    """
    return _moment(std_op, x, axis, correction, keepdims)


# -- cumulative sums and products --------------------------------------------------------------
def _cumulative_shape(shape, *, axis=None, dtype=None, include_initial=False):
    if not shape:
        raise ShapeError("needs a tensor of at least 1 dimension, got a 0-d tensor; reshape "
                         "it to (1,) first")
    if axis is None:
        if len(shape) > 1:
            nd = len(shape)
            raise AxisError(f"axis must be given for a tensor of {nd} dimensions (shape "
                            f"{tuple(shape)}); valid axes are {-nd}..{nd - 1}")
        axis = 0
    axis = R.normalize_axis(axis, len(shape))
    out = list(shape)
    out[axis] += 1 if include_initial else 0
    return tuple(out)


cumulative_sum_op = defop("cumulative_sum", family="statistical", dtype_rule=_sum_dtype,
                          shape_rule=_cumulative_shape)
cumulative_prod_op = defop("cumulative_prod", family="statistical", dtype_rule=_sum_dtype,
                           shape_rule=_cumulative_shape)


def _cumulative(op, x, axis, dtype, include_initial):
    x = _tensor(op, x)
    if x.ndim != 1 and (axis is None or x.ndim == 0):  # NumPy would flatten a 0-d input
        try:
            _cumulative_shape(x.shape, axis=axis)
        except (ShapeError, AxisError) as exc:
            _raise(op, exc)
    dtype = _sum_dtype(x._dtype) if dtype is None else as_dtype(dtype)
    return call(op, (x,), {"axis": axis, "dtype": dtype, "include_initial": include_initial})


@public(cumulative_sum_op)
def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False) -> Tensor:
    """Running sum along ``axis`` (which may be left out for 1-D input).

    With ``include_initial=True`` the result starts with 0 (the sum of nothing), so the axis
    grows by one. Accumulates in the same dtype as :func:`sum`.

    >>> import eagerflow_core as ef
    >>> ef.cumulative_sum(ef.constant([1, 2, 3]), include_initial=True)
    ef.Tensor([0, 1, 3, 6], shape=(4,), dtype=int64, device='cpu:0')
    """
    return _cumulative(cumulative_sum_op, x, axis, dtype, include_initial)


@public(cumulative_prod_op)
def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False) -> Tensor:
    """Running product along ``axis`` (which may be left out for 1-D input).

    With ``include_initial=True`` the result starts with 1 (the product of nothing).

    >>> import eagerflow_core as ef
    >>> ef.cumulative_prod(ef.constant([[1.0, 2.0], [3.0, 4.0]]), axis=1)
    ef.Tensor([[ 1.,  2.],
               [ 3., 12.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    return _cumulative(cumulative_prod_op, x, axis, dtype, include_initial)


# -- TensorFlow's names ------------------------------------------------------------------------
# Same semantics as the standard's functions (reduce_mean of integers gives float32, where
# TensorFlow would truncate to an integer mean).

def reduce_sum(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """TensorFlow's spelling of :func:`sum`.

    >>> import eagerflow_core as ef
    >>> ef.reduce_sum(ef.constant([[1, 2], [3, 4]]), axis=1)
    ef.Tensor([3, 7], shape=(2,), dtype=int64, device='cpu:0')
    """
    return sum(input_tensor, axis=axis, keepdims=keepdims)


def reduce_prod(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """TensorFlow's spelling of :func:`prod`."""
    return prod(input_tensor, axis=axis, keepdims=keepdims)


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """TensorFlow's spelling of :func:`mean` (integers give float32, not an integer mean)."""
    return mean(input_tensor, axis=axis, keepdims=keepdims)


def reduce_max(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """TensorFlow's spelling of :func:`max`."""
    return max(input_tensor, axis=axis, keepdims=keepdims)


def reduce_min(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """TensorFlow's spelling of :func:`min`."""
    return min(input_tensor, axis=axis, keepdims=keepdims)


__all__ = ["sum", "prod", "mean", "min", "max", "std", "var", "cumulative_sum",
           "cumulative_prod", "reduce_sum", "reduce_prod", "reduce_mean", "reduce_max",
           "reduce_min"]
