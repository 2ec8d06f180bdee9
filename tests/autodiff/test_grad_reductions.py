"""Gradient rules of the statistical, searching, sorting, set and utility families (issue #3):
reverse-mode gradients against central differences to second order (float64), the dtype and
shape of ``ef.grad`` in float32, and the cases that need care: products with zeros, ties of
max/min, the where-NaN fix, sort's inverse permutation, diff's prepend/append.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core._registry import OPS
from eagerflow_core.testing import assert_close, check_grads
from eagerflow_core.testing import strategies as st_ef

FAMILIES = ("statistical", "searching", "sorting", "sets", "utility")
FLOATS = [ef.float32, ef.float64]

# The `device` fixture only enters `with device:` around the test: sharing it between
# hypothesis examples is what we want.
shared_device = settings(suppress_health_check=[*settings.default.suppress_health_check,
                                                HealthCheck.function_scoped_fixture])



# -- strategies -------------------------------------------------------------------------------

def small_shapes(min_dims=0):
    return st_ef.shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4)


@st.composite
def axes(draw, ndim):
    """None, one axis (maybe negative) or a tuple of distinct axes."""
    if ndim == 0:
        return draw(st.sampled_from([None, ()]))
    return draw(st.one_of(
        st.none(), st.integers(-ndim, ndim - 1),
        st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(
            lambda axs: tuple(a - ndim if i % 2 else a for i, a in enumerate(axs)))))


@st.composite
def floats(draw, min_dims=0, low=-3.0, high=3.0):
    """A float tensor of a small shape, values in [low, high], float32 or float64."""
    dt = draw(st.sampled_from(FLOATS))
    host = draw(st_ef.arrays(dt, draw(small_shapes(min_dims)), low=low, high=high))
    return ef.asarray(host, dtype=dt)


@st.composite
def distinct(draw, min_dims=0):
    """A float tensor whose values are at least 0.1 apart: no ties within the central
    differences' reach (max, min, sort, std are smooth there)."""
    dt = draw(st.sampled_from(FLOATS))
    shape = draw(small_shapes(min_dims))
    ints = draw(st_ef.arrays(ef.int64, shape, low=-50, high=50, unique=True))
    return ef.asarray(ints * 0.1, dtype=dt)


def check_float32_grad(f, x):
    """``ef.grad`` of ``sum(f(x))`` at a float32 ``x`` is a float32 tensor of x's shape."""
    g = ef.grad(lambda t: ef.sum(f(t)))(ef.astype(x, ef.float32))
    assert g.dtype == ef.float32 and g.shape == x.shape, (g.dtype, g.shape, x.shape)
    assert bool(ef.all(ef.isfinite(g)))


# -- every differentiable op of these families has a rule ----------------------------------------

def test_every_differentiable_op_has_a_rule():
    ops = [op for op in OPS.values() if op.family in FAMILIES]
    assert {op.name for op in ops} >= {"sum", "prod", "where", "sort", "diff", "unique_all"}
    missing = [op.name for op in ops if op.differentiable and op.vjp is None]
    assert not missing, f"differentiable ops without a gradient rule: {missing}"
    # Integer, bool and set outputs are declared non-differentiable rather than given a rule.
    for name in ("argmax", "argmin", "argsort", "count_nonzero", "nonzero", "searchsorted",
                 "all", "any", "unique_all", "unique_counts", "unique_inverse", "unique_values"):
        assert not OPS[name].differentiable and OPS[name].vjp is None, name


def test_set_values_have_no_gradient():
    x = ef.constant([3.0, 1.0, 3.0])
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.sum(ef.unique_values(x))
    assert "unique_values" in tape.explain(y, x)
    assert tape.gradient(y, x) is None


# -- sum, prod, mean --------------------------------------------------------------------------

@shared_device
@given(data=st.data())
def test_sum_and_mean_grads(device, data):
    x = data.draw(floats())
    axis, keepdims = data.draw(axes(x.ndim)), data.draw(st.booleans())
    for fn in (ef.sum, ef.mean):
        f = lambda t, fn=fn: fn(t, axis=axis, keepdims=keepdims)
        check_grads(f, (x,), order=2, name=fn.__name__)
        check_float32_grad(f, x)


def test_sum_and_mean_grad_values():
    x = ef.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert_close(ef.grad(lambda t: ef.sum(ef.sum(t, axis=1) * ef.constant([1.0, 10.0])))(x),
                 np.array([[1.0] * 3, [10.0] * 3]), dtype=ef.float32)
    assert_close(ef.grad(lambda t: ef.mean(t))(x), np.full((2, 3), 1 / 6), dtype=ef.float32)
    # An accumulation dtype: the gradient still has the input's dtype.
    g = ef.grad(lambda t: ef.sum(t, dtype=ef.float64))(x)
    assert_close(g, np.ones((2, 3)), dtype=ef.float32)
    # A reduction over an empty axis: an empty gradient.
    e = ef.zeros((0, 3))
    for fn in (ef.sum, ef.prod):
        assert_close(ef.grad(lambda t, fn=fn: ef.sum(fn(t, axis=0)))(e), np.zeros((0, 3)),
                     dtype=ef.float32)


@shared_device
@given(data=st.data())
def test_prod_grads(device, data):
    x = data.draw(floats(low=-1.5, high=1.5))  # products of 64 stay moderate
    axis, keepdims = data.draw(axes(x.ndim)), data.draw(st.booleans())
    f = lambda t: ef.prod(t, axis=axis, keepdims=keepdims)
    check_grads(f, (x,), order=2, name="prod")
    check_float32_grad(f, x)


def test_prod_grad_with_zeros_is_the_product_of_the_others():
    # No division by x: one zero gets the product of the others, everyone else 0; two zeros
    # give 0 everywhere (TensorFlow's division-based rule gives NaN at zeros).
    grad = ef.grad(lambda t: ef.prod(t))
    assert_close(grad(ef.constant([0.0, 2.0, 3.0])), np.array([6.0, 0.0, 0.0]), dtype=ef.float32)
    assert_close(grad(ef.constant([0.0, 2.0, 0.0])), np.zeros(3), dtype=ef.float32)
    x = ef.constant([[2.0, 0.0, 4.0], [1.0, -3.0, 5.0]])
    assert_close(ef.grad(lambda t: ef.sum(ef.prod(t, axis=1)))(x),
                 np.array([[0.0, 8.0, 0.0], [-15.0, 5.0, -3.0]]), dtype=ef.float32)
    # The second order is exact at zeros too (the rule is a polynomial in x).
    check_grads(lambda t: ef.prod(t, axis=0), (ef.constant([[0.0, 2.0], [0.0, 0.0], [3.0, 1.5]]),),
                order=2)
    hess = ef.hessian(lambda t: ef.prod(t))(ef.constant([0.0, 2.0, 3.0]))
    assert_close(hess, np.array([[0.0, 3.0, 2.0], [3.0, 0.0, 0.0], [2.0, 0.0, 0.0]]),
                 dtype=ef.float32)


def test_complex_prod_and_sum_use_the_conjugate():
    x = ef.constant([1 + 2j, -0.5 + 1j, 2 - 1j], dtype=ef.complex128)
    for f in (lambda t: ef.prod(t), lambda t: ef.sum(t * t), lambda t: ef.mean(t * t)):
        check_grads(f, (x,), order=2)
    # d prod / d x_0 = x_1 x_2; the rule returns its conjugate times g = 1.
    g = ef.vjp(lambda t: ef.prod(t), x)[1](ef.constant(1.0 + 0j, dtype=ef.complex128))[0]
    assert_close(g[0], np.conj((-0.5 + 1j) * (2 - 1j)), dtype=ef.complex128)


# -- max, min ---------------------------------------------------------------------------------

@shared_device
@given(data=st.data())
def test_max_min_grads(device, data):
    x = data.draw(distinct())
    axis, keepdims = data.draw(axes(x.ndim)), data.draw(st.booleans())
    for fn in (ef.max, ef.min):
        f = lambda t, fn=fn: fn(t, axis=axis, keepdims=keepdims)
        check_grads(f, (x,), order=2, name=fn.__name__)
        check_float32_grad(f, x)


def test_max_min_split_the_gradient_evenly_among_ties():
    x = ef.constant([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    assert_close(ef.grad(lambda t: ef.sum(ef.max(t, axis=1)))(x),
                 np.array([[0.5, 0.0, 0.5], [1 / 3, 1 / 3, 1 / 3]]), dtype=ef.float32)
    assert_close(ef.grad(lambda t: ef.min(t))(x),
                 np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]), dtype=ef.float32)
    assert_close(ef.grad(lambda t: ef.reduce_max(t, axis=0, keepdims=True)[0, 0])(x),
                 np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]), dtype=ef.float32)
    # A NaN maximum sends its gradient to the NaN that made it.
    y = ef.constant([1.0, float("nan"), 3.0])
    assert_close(ef.grad(lambda t: ef.max(t))(y), np.array([0.0, 1.0, 0.0]), dtype=ef.float32)


# -- var, std ---------------------------------------------------------------------------------

@shared_device
@given(data=st.data())
def test_var_std_grads(device, data):
    x = data.draw(distinct())
    axis, keepdims = data.draw(axes(x.ndim)), data.draw(st.booleans())
    n = int(np.prod([x.shape[a] for a in (range(x.ndim) if axis is None else
                                          (axis,) if isinstance(axis, int) else axis)]))
    correction = data.draw(st.sampled_from([0, 1, 0.5])) if n > 1 else 0
    for fn in (ef.var, ef.std):
        f = lambda t, fn=fn: fn(t, axis=axis, correction=correction, keepdims=keepdims)
        check_grads(f, (x,), order=2, name=fn.__name__)
        check_float32_grad(f, x)


def test_var_std_grad_values():
    x = ef.constant([1.0, 2.0, 4.0])
    # var = sum((x - m)^2) / (N - 1), m = 7/3: gradient 2 (x - m) / 2.
    assert_close(ef.grad(lambda t: ef.var(t, correction=1))(x),
                 np.array([-4 / 3, -1 / 3, 5 / 3]), dtype=ef.float32)
    s = np.std([1.0, 2.0, 4.0])
    assert_close(ef.grad(lambda t: ef.std(t))(x),
                 (np.array([1.0, 2.0, 4.0]) - 7 / 3) / (3 * s), dtype=ef.float32)
    # Equal values: the standard deviation's gradient is 0, not NaN.
    assert_close(ef.grad(lambda t: ef.std(t))(ef.constant([2.0, 2.0, 2.0])), np.zeros(3),
                 dtype=ef.float32)


# -- cumulative sums and products ---------------------------------------------------------------

@st.composite
def cumulative_args(draw, low=-3.0, high=3.0):
    x = draw(floats(min_dims=1, low=low, high=high))
    axis = None if x.ndim == 1 and draw(st.booleans()) else draw(st.integers(-x.ndim, x.ndim - 1))
    return x, axis, draw(st.booleans())


@shared_device
@given(args=cumulative_args())
def test_cumulative_sum_grads(device, args):
    x, axis, initial = args
    f = lambda t: ef.cumulative_sum(t, axis=axis, include_initial=initial)
    check_grads(f, (x,), order=2, name="cumulative_sum")
    check_float32_grad(f, x)


@shared_device
@given(args=cumulative_args(low=-1.5, high=1.5))
def test_cumulative_prod_grads(device, args):
    x, axis, initial = args
    f = lambda t: ef.cumulative_prod(t, axis=axis, include_initial=initial)
    check_grads(f, (x,), order=2, name="cumulative_prod")
    check_float32_grad(f, x)


def test_cumulative_grad_values_and_zeros():
    x = ef.constant([1.0, 2.0, 3.0])
    assert_close(ef.grad(lambda t: ef.sum(ef.cumulative_sum(t) * ef.constant([1.0, 10.0, 100.0])))(x),
                 np.array([111.0, 110.0, 100.0]), dtype=ef.float32)
    # With zeros, no division by x: y = [2, 0, 0, 0, 0], so x_1 gets 2 (1 + 3 + 3*0 + ...).
    z = ef.constant([2.0, 0.0, 3.0, 0.0, 5.0])
    assert_close(ef.grad(lambda t: ef.sum(ef.cumulative_prod(t)))(z),
                 np.array([1.0, 8.0, 0.0, 0.0, 0.0]), dtype=ef.float32)
    for t in (z, ef.constant([[0.0, 1.5, 0.0, 2.0], [1.0, 0.0, -2.0, 0.5]])):
        check_grads(lambda u: ef.cumulative_prod(u, axis=-1), (t,), order=2)
    # An accumulation dtype and a complex input.
    g = ef.grad(lambda t: ef.sum(ef.cumulative_prod(t, dtype=ef.float64)))(x)
    assert_close(g, np.array([1 + 2 + 6, 1 + 3, 2]), dtype=ef.float32)
    c = ef.constant([1 + 1j, 0.5 - 2j, -1 + 0.5j], dtype=ef.complex128)
    check_grads(lambda u: ef.cumulative_prod(u, include_initial=True), (c,), order=2)
    check_grads(lambda u: ef.cumulative_sum(u), (c,), order=2)


# -- where: the where-NaN fix -------------------------------------------------------------------

def test_where_gradient_is_finite_where_the_other_branch_is_not():
    x = ef.constant([0.0, 4.0])

    def f(t):
        return ef.sum(ef.where(t > 0, ef.sqrt(t), 0.0))

    g = ef.grad(f)(x)
    assert_close(g, np.array([0.0, 0.25]), dtype=ef.float32)
    # Second order through where: d2/dx2 sqrt(x) = -x**-1.5 / 4, and 0 where not selected.
    gg = ef.grad(lambda t: ef.sum(ef.grad(f)(t)))(x)
    assert_close(gg, np.array([0.0, -0.03125]), dtype=ef.float32)
    assert_close(ef.hessian(f)(x), np.array([[0.0, 0.0], [0.0, -0.03125]]), dtype=ef.float32)
    # The other branch too: log is -inf at 0 and its derivative inf.
    h = ef.grad(lambda t: ef.sum(ef.where(t <= 0, 1.0, ef.log(t))))(x)
    assert_close(h, np.array([0.0, 0.25]), dtype=ef.float32)
    # A condition that broadcasts against the branch.
    y = ef.constant([[0.0, 4.0], [0.0, 1.0]])
    c = ef.constant([False, True])
    k = ef.grad(lambda t: ef.sum(ef.where(c, ef.sqrt(t), 0.0)))(y)
    assert_close(k, np.array([[0.0, 0.25], [0.0, 0.5]]), dtype=ef.float32)


@shared_device
@given(data=st.data())
def test_where_grads(device, data):
    dt = data.draw(st.sampled_from(FLOATS))
    sc, s1, s2 = data.draw(st_ef.broadcastable_shapes(num=3, max_dims=3, max_side=3))
    cond = ef.asarray(data.draw(st_ef.arrays(ef.bool, sc)))
    x1 = ef.asarray(data.draw(st_ef.arrays(dt, s1, low=-2, high=2)), dtype=dt)
    x2 = ef.asarray(data.draw(st_ef.arrays(dt, s2, low=-2, high=2)), dtype=dt)

    def f(a, b):
        return ef.where(cond, a * a, ef.sin(b))

    check_grads(f, (x1, x2), order=2, name="where")
    ga, gb = ef.grad(lambda a, b: ef.sum(f(a, b)), argnums=(0, 1))(
        ef.astype(x1, ef.float32), ef.astype(x2, ef.float32))
    assert ga.dtype == gb.dtype == ef.float32 and ga.shape == s1 and gb.shape == s2


def test_where_with_scalars_bool_condition_and_promotion():
    x = ef.constant([1.0, -2.0, 3.0])
    assert_close(ef.grad(lambda t: ef.sum(ef.where(t > 0, t, 0)))(x), np.array([1.0, 0.0, 1.0]),
                 dtype=ef.float32)
    assert_close(ef.grad(lambda t: ef.sum(ef.where(t > 0, 5.0, t * t)))(x),
                 np.array([0.0, -4.0, 0.0]), dtype=ef.float32)
    assert_close(ef.grad(lambda t: ef.sum(ef.where(True, t, 0.0)))(x), np.ones(3),
                 dtype=ef.float32)
    assert_close(ef.grad(lambda t: ef.sum(ef.where(False, 1.0, t)))(x), np.ones(3),
                 dtype=ef.float32)
    # A float32 branch promoted against a float64 one gets a float32 gradient.
    y = ef.constant([10.0, 20.0, 30.0], dtype=ef.float64)
    gx, gy = ef.grad(lambda a, b: ef.sum(ef.where(a > 0, a, b)), argnums=(0, 1))(x, y)
    assert gx.dtype == ef.float32 and gy.dtype == ef.float64
    assert_close(gx, np.array([1.0, 0.0, 1.0]), dtype=ef.float32)
    assert_close(gy, np.array([0.0, 1.0, 0.0]), dtype=ef.float64)
    # A branch broadcast against the condition: its gradient sums over the broadcast axis.
    c = ef.constant([[True, False], [True, True]])
    b = ef.constant([2.0, 3.0])
    assert_close(ef.grad(lambda t: ef.sum(ef.where(c, t, 0.0)))(b), np.array([2.0, 1.0]),
                 dtype=ef.float32)


# -- sort -------------------------------------------------------------------------------------

@shared_device
@given(data=st.data())
def test_sort_grads(device, data):
    x = data.draw(distinct(min_dims=1))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    descending = data.draw(st.booleans())
    f = lambda t: ef.sort(t, axis=axis, descending=descending)
    check_grads(f, (x,), order=2, name="sort")
    check_float32_grad(f, x)


def test_sort_grad_permutes_back():
    x = ef.constant([[3.0, 1.0, 2.0], [0.5, 5.0, 4.0]])
    w = ef.constant([1.0, 10.0, 100.0])
    assert_close(ef.grad(lambda t: ef.sum(ef.sort(t) * w))(x),
                 np.array([[100.0, 1.0, 10.0], [1.0, 100.0, 10.0]]), dtype=ef.float32)
    assert_close(ef.grad(lambda t: ef.sum(ef.sort(t, descending=True) * w))(x),
                 np.array([[1.0, 100.0, 10.0], [100.0, 1.0, 10.0]]), dtype=ef.float32)
    assert_close(ef.grad(lambda t: ef.sort(t, axis=0)[0, 1])(x),
                 np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]), dtype=ef.float32)


# -- diff -------------------------------------------------------------------------------------

@shared_device
@given(data=st.data())
def test_diff_grads(device, data):
    x = data.draw(floats(min_dims=1))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = data.draw(st.integers(0, 3))
    f = lambda t: ef.diff(t, axis=axis, n=n)
    check_grads(f, (x,), order=2, name="diff")
    check_float32_grad(f, x)
    # prepend/append tensors get their gradient through the join.
    side = x.shape[:axis % x.ndim] + (2,) + x.shape[axis % x.ndim + 1:]
    p = ef.asarray(data.draw(st_ef.arrays(x.dtype, side, low=-3, high=3)), dtype=x.dtype)
    check_grads(lambda t, q: ef.diff(t * q[_first(axis, x.ndim)], axis=axis, n=n, prepend=q,
                                     append=ef.exp(t)),
                (x, p), order=2, name="diff(prepend, append)")


def _first(axis, ndim):
    """A key taking the first slice along ``axis``, keeping the axis (so it broadcasts)."""
    return (slice(None),) * (axis % ndim) + (slice(0, 1),)


def test_diff_grad_values():
    x = ef.constant([1.0, 4.0, 9.0, 16.0])
    # sum(diff(x)) = x[-1] - x[0]
    assert_close(ef.grad(lambda t: ef.sum(ef.diff(t)))(x), np.array([-1.0, 0.0, 0.0, 1.0]),
                 dtype=ef.float32)
    # second difference: [x2 - 2x1 + x0, x3 - 2x2 + x1], weighted
    w = ef.constant([1.0, 10.0])
    assert_close(ef.grad(lambda t: ef.sum(ef.diff(t, n=2) * w))(x),
                 np.array([1.0, 8.0, -19.0, 10.0]), dtype=ef.float32)
    # n larger than the axis: an empty result, a zero gradient of x's shape.
    g = ef.grad(lambda t: ef.sum(ef.diff(t, n=6)))(x)
    assert_close(g, np.zeros(4), dtype=ef.float32)
    # A scalar prepend joins without a gradient of its own.
    assert_close(ef.grad(lambda t: ef.sum(ef.diff(t, prepend=0.0) ** 2))(ef.constant([1.0, 3.0])),
                 np.array([2 * 1.0 - 2 * 2.0, 2 * 2.0]), dtype=ef.float32)
