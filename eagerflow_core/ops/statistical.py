"""Statistical reductions of the Array API standard: sum, prod, mean, min, max, std, var,
cumulative_sum, cumulative_prod; and TensorFlow's names for them (reduce_sum, ...).

Each op is followed by its gradient rules, in eagerflow ops so that every backend gets them
and they differentiate again: ``defvjp`` (a reduction's cotangent is reshaped to its keepdims
form and broadcast back over the reduced axes; complex inputs get the conjugate convention)
and ``defjvp`` (the reduction of the tangent, weighted where the op is not linear). The
reduce_* aliases call the functions below, so they need no rules of their own.
"""

from __future__ import annotations

from .._dispatch import as_tensor_arg, call, call_full
from .._dtypes import ALL_DTYPES, as_dtype, default_float
from .._errors import AxisError, EagerflowError, InvalidArgumentError, ShapeError
from .._registry import F, defjvp, defop, defvjp
from .._tensor import Tensor
from . import _rules as R
from ._define import public
from ._grad_util import cj, linear, with_kept_dims


def _sum_dtype(x, *, dtype=None, **params):
    """The standard's rule: small integers accumulate in the default integer (unsigned in
    uint64), bool counts as an integer; floats keep their dtype."""
    return R.accumulation_dtype(x) if dtype is None else dtype


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
    return F.astype(x, default_float) if x._dtype.kind in "biu" else x


# -- what the gradient rules share -------------------------------------------------------------
def _kept(t, shape, axis, keepdims):
    """A reduction's result ``t`` shaped to broadcast against its input's ``shape``."""
    return t if keepdims else with_kept_dims(t, shape, axis)


def _spread(g, x, axis, keepdims):
    """The cotangent ``g`` of a reduction of ``x``, copied to every element it reduced."""
    return F.broadcast_to(_kept(g, x.shape, axis, keepdims), x.shape)


def _count(shape, axis) -> int:
    n = 1
    for a in R.normalize_axes(axis, len(shape)):
        n *= shape[a]
    return n


def _along(axis, index) -> tuple:
    """A getitem key that applies ``index`` (a slice) to ``axis`` (>= 0) only."""
    return (slice(None),) * axis + (index,)


# -- sum and prod ------------------------------------------------------------------------------
sum_op = defop("sum", family="statistical", dtype_rule=_sum_dtype, shape_rule=R.reduce_shape)
prod_op = defop("prod", family="statistical", dtype_rule=_sum_dtype, shape_rule=R.reduce_shape)


# The accumulation dtype of sum and prod for each input dtype (the fast path's table).
_SUM_DTYPES = {d: _sum_dtype(d) for d in ALL_DTYPES}


def _reduce_with_dtype(op, x, axis, dtype, keepdims):
    # The accumulation dtype is passed to the kernel explicitly, so that no backend sums int8
    # values in int8 and overflows.
    if dtype is None and type(x) is Tensor and type(axis) is not list:
        acc = _SUM_DTYPES.get(x._dtype)
        return call(op, (x,), {"axis": axis, "dtype": acc, "keepdims": keepdims})
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
    if dtype is None and type(x) is Tensor:  # the common calls
        if axis is None and not keepdims:
            return call_full(sum_op, x, _sum_all)
        if type(axis) is not list:
            return call(sum_op, (x,), {"axis": axis, "dtype": _SUM_DTYPES.get(x._dtype),
                                       "keepdims": keepdims})
    return _reduce_with_dtype(sum_op, x, axis, dtype, keepdims)


def _sum_all(dt):
    return {"axis": None, "dtype": _SUM_DTYPES.get(dt), "keepdims": False}


@public(prod_op)
def prod(x, /, *, axis=None, dtype=None, keepdims=False) -> Tensor:
    """Product over ``axis`` (all axes by default); the product of nothing is 1.

    Accumulates in the same dtype as :func:`sum`.

    >>> import eagerflow_core as ef
    >>> ef.prod(ef.constant([[1, 2], [3, 4]], dtype=ef.int8), axis=1)
    ef.Tensor([ 2, 12], shape=(2,), dtype=int64, device='cpu:0')
    """
    return _reduce_with_dtype(prod_op, x, axis, dtype, keepdims)


defvjp(sum, lambda g, ans, x, *, axis, dtype, keepdims: _spread(g, x, axis, keepdims))
defjvp(sum, linear(sum_op))


def _others_product(x, axes, dtype):
    """For each element of ``x``, the product of the other elements over ``axes``: running
    products from both ends, with no division by ``x``, so that a zero gets the exact gradient
    (TensorFlow's reduce_prod divides where it can) and so does the second order."""
    rest = [a for a in range(x.ndim) if a not in axes]
    order = rest + list(axes)
    moved = F.permute_dims(x, order) if order != sorted(order) else x
    flat = F.reshape(moved, moved.shape[:len(rest)] + (-1,))
    before = cumulative_prod(flat, axis=-1, dtype=dtype, include_initial=True)[..., :-1]
    after = cumulative_prod(F.flip(flat, axis=-1), axis=-1, dtype=dtype, include_initial=True)
    out = F.reshape(before * F.flip(after[..., :-1], axis=-1), moved.shape)
    if order == sorted(order):
        return out
    return F.permute_dims(out, [order.index(a) for a in range(x.ndim)])


def _prod_vjp(g, ans, x, *, axis, dtype, keepdims):
    axes = R.normalize_axes(axis, x.ndim)
    if not axes or x.size == 0:
        return _spread(g, x, axis, keepdims)
    return _spread(g, x, axis, keepdims) * _others_product(cj(x), axes, dtype)


def _prod_jvp(t, ans, x, *, axis, dtype, keepdims):
    axes = R.normalize_axes(axis, x.ndim)
    if axes and x.size:
        t = t * _others_product(x, axes, dtype)
    return sum(t, axis=axis, dtype=dtype, keepdims=keepdims)


defvjp(prod, _prod_vjp)
defjvp(prod, _prod_jvp)


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


# Tied extremes share the gradient evenly, as in TensorFlow's reduce_max and JAX: the reverse
# rule is then symmetric in the tied elements and still sums to g, and the forward rule is
# the mean of the tied elements' tangents (its transpose). A NaN result (NaN wins) is chosen
# by the NaNs that made it.
def _chosen(ans, x, axis, keepdims):
    return (x == _kept(ans, x.shape, axis, keepdims)) | F.isnan(x)


def _chosen_vjp(g, ans, x, *, axis, keepdims):
    chosen = _chosen(ans, x, axis, keepdims)
    count = F.astype(sum(chosen, axis=axis, keepdims=True), g.dtype)
    return F.where(chosen, _kept(g, x.shape, axis, keepdims) / count, 0)


def _chosen_jvp(t, ans, x, *, axis, keepdims):
    chosen = _chosen(ans, x, axis, keepdims)
    count = F.astype(sum(chosen, axis=axis, keepdims=keepdims), t.dtype)
    return sum(F.where(chosen, t, 0), axis=axis, keepdims=keepdims) / count


defvjp(max, _chosen_vjp)
defjvp(max, _chosen_jvp)
defvjp(min, _chosen_vjp)
defjvp(min, _chosen_jvp)


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


def _mean_vjp(g, ans, x, *, axis, keepdims):
    n = _count(x.shape, axis)
    return _spread(g / n if n else g, x, axis, keepdims)  # n == 0: x is empty, so is this


defvjp(mean, _mean_vjp)
defjvp(mean, linear(mean_op))


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


def _moment_scale(x, axis, correction) -> float:
    """1 / (N - correction); NaN where the moment itself is NaN (N - correction <= 0)."""
    n = _count(x.shape, axis) - correction
    return 1 / n if n > 0 else float("nan")


# d/dx_i of sum((x - m)**2) / (N - c) is 2 (x_i - m) / (N - c): the terms through the mean m
# sum to zero. d std = d var / (2 std). Where std is 0 (all values equal) the centred values
# are exactly 0 too, so the derivative is 0 (PyTorch's choice) rather than 0/0.
def _centred(x, axis):
    return x - mean(x, axis=axis, keepdims=True)


def _var_vjp(g, ans, x, *, axis, correction, keepdims):
    scale = 2 * _moment_scale(x, axis, correction)
    return _kept(g, x.shape, axis, keepdims) * (_centred(x, axis) * scale)


def _var_jvp(t, ans, x, *, axis, correction, keepdims):
    scale = 2 * _moment_scale(x, axis, correction)
    return sum(_centred(x, axis) * t, axis=axis, keepdims=keepdims) * scale


def _std_vjp(g, ans, x, *, axis, correction, keepdims):
    s = _kept(ans, x.shape, axis, keepdims)
    scale = _moment_scale(x, axis, correction)
    return _kept(g, x.shape, axis, keepdims) * (_centred(x, axis) * scale) / F.where(s == 0, 1, s)


def _std_jvp(t, ans, x, *, axis, correction, keepdims):
    scale = _moment_scale(x, axis, correction)
    d = sum(_centred(x, axis) * t, axis=axis, keepdims=keepdims) * scale
    return d / F.where(ans == 0, 1, ans)


defvjp(var, _var_vjp)
defjvp(var, _var_jvp)
defvjp(std, _std_vjp)
defjvp(std, _std_jvp)


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


def _cumulative_axis(x, axis) -> int:
    return R.normalize_axis(0 if axis is None else axis, x.ndim)


def _cumsum_vjp(g, ans, x, *, axis, dtype, include_initial):
    # Each x_k feeds every running sum from k on: the gradient is the reverse running sum.
    ax = _cumulative_axis(x, axis)
    if include_initial:
        g = g[_along(ax, slice(1, None))]
    return F.flip(cumulative_sum(F.flip(g, axis=ax), axis=ax), axis=ax)


defvjp(cumulative_sum, _cumsum_vjp)
defjvp(cumulative_sum, linear(cumulative_sum_op))


def _shifted(t, d, ax):
    """``t`` moved ``|d|`` places along ``ax``, towards the end if ``d > 0`` and the start if
    ``d < 0``, zero-filled."""
    n = d if d > 0 else -d
    pad = F.zeros(t.shape[:ax] + (n,) + t.shape[ax + 1:], dtype=t.dtype, device=t.device)
    if d > 0:
        return F.concat([pad, t[_along(ax, slice(None, -n))]], axis=ax)
    return F.concat([t[_along(ax, slice(n, None))], pad], axis=ax)


def _cumprod_vjp(g, ans, x, *, axis, dtype, include_initial):
    # grad_k = (x_0 ... x_{k-1}) * S_k, where S_k = sum_{i>=k} g_i x_{k+1} ... x_i solves the
    # reverse linear recurrence S_k = g_k + x_{k+1} S_{k+1}. TensorFlow divides a reverse
    # cumulative sum of g * ans by x, which is NaN at zeros; composing the recurrence's affine
    # steps in log2(N) doubling rounds (JAX's associative_scan) needs no division, so zeros get
    # exact first- and second-order gradients.
    ax = _cumulative_axis(x, axis)
    if include_initial:
        g = g[_along(ax, slice(1, None))]
    n = x.shape[ax]
    if n <= 1:
        return g
    xc = cj(x)
    before = cumulative_prod(xc, axis=ax, dtype=dtype, include_initial=True)
    s, a, d = g, _shifted(xc, -1, ax), 1  # S_k = s_k + a_k S_{k+d}
    while d < n:
        s = s + a * _shifted(s, -d, ax)
        if 2 * d < n:  # the last round needs no new coefficients
            a = a * _shifted(a, -d, ax)
        d *= 2
    return before[_along(ax, slice(None, -1))] * s


def _cumprod_jvp(t, ans, x, *, axis, dtype, include_initial):
    # The tangent D_k of P_k = x_0 ... x_k solves the forward linear recurrence
    # D_k = P_{k-1} t_k + x_k D_{k-1}: the same doubling rounds as the reverse rule, running
    # the other way, so zeros need no division here either.
    ax = _cumulative_axis(x, axis)
    n = x.shape[ax]
    before = cumulative_prod(x, axis=ax, dtype=dtype, include_initial=True)
    s, a, d = before[_along(ax, slice(None, -1))] * t, x, 1  # D_k = s_k + a_k D_{k-d}
    while d < n:
        s = s + a * _shifted(s, d, ax)
        if 2 * d < n:
            a = a * _shifted(a, d, ax)
        d *= 2
    if include_initial:  # the leading 1 is a constant
        pad = F.zeros(s.shape[:ax] + (1,) + s.shape[ax + 1:], dtype=s.dtype, device=s.device)
        s = F.concat([pad, s], axis=ax)
    return s


defvjp(cumulative_prod, _cumprod_vjp)
defjvp(cumulative_prod, _cumprod_jvp)


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
