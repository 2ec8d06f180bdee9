"""The functional API (issue #3): grad, value_and_grad, vjp, jvp, jacobian, hessian,
stop_gradient and custom_gradient, against closed forms and finite differences."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core._errors import InvalidArgumentError, ShapeError
from eagerflow_core.testing import assert_close
from eagerflow_core.testing import strategies as efst


def _f64(a):
    return ef.constant(np.asarray(a, dtype=np.float64), dtype=ef.float64)


# -- grad and value_and_grad --------------------------------------------------------------------

def test_grad_argnums_int_and_tuple(device):
    def f(x, y):
        return ef.sum(x * y * y)
    x, y = ef.constant([1.0, 2.0]), ef.constant([3.0, 4.0])
    assert_close(ef.grad(f)(x, y), np.array([9.0, 16.0]), dtype=ef.float32)
    assert_close(ef.grad(f, argnums=1)(x, y), np.array([6.0, 16.0]), dtype=ef.float32)
    gx, gy = ef.grad(f, argnums=(0, 1))(x, y)
    assert_close(gx, np.array([9.0, 16.0]), dtype=ef.float32)
    assert_close(gy, np.array([6.0, 16.0]), dtype=ef.float32)
    (gy_only,) = ef.grad(f, argnums=(1,))(x, y)
    assert_close(gy_only, np.array([6.0, 16.0]), dtype=ef.float32)


def test_grad_of_an_argument_f_ignores_is_zeros(device):
    g = ef.grad(lambda x, y: ef.sum(x * 2.0), argnums=1)(ef.constant([1.0]), ef.constant([[5.0, 6.0]]))
    assert_close(g, np.zeros((1, 2)), dtype=ef.float32)


def test_grad_has_aux(device):
    x = ef.constant([1.0, 2.0])
    g, aux = ef.grad(lambda x: (ef.sum(x * x), {"double": x * 2.0}), has_aux=True)(x)
    assert_close(g, np.array([2.0, 4.0]), dtype=ef.float32)
    assert_close(aux["double"], np.array([2.0, 4.0]), dtype=ef.float32)


def test_grad_of_a_dict_argument_is_a_dict(device):
    g = ef.grad(lambda p: p["a"] * p["b"] * p["b"])({"a": ef.constant(2.0), "b": ef.constant(5.0)})
    assert set(g) == {"a", "b"}
    assert (float(g["a"]), float(g["b"])) == (25.0, 20.0)


def test_grad_needs_a_scalar_output(device):
    with pytest.raises(ShapeError, match=r"f must return a scalar.*\(2,\).*ef.vjp or ef.jacobian"):
        ef.grad(lambda x: x * 2.0)(ef.constant([1.0, 2.0]))
    # One element is a scalar, whatever its shape.
    assert_close(ef.grad(lambda x: x * 2.0)(ef.constant([[1.5]])), np.array([[2.0]]),
                 dtype=ef.float32)


def test_grad_argnums_out_of_range(device):
    with pytest.raises(InvalidArgumentError, match=r"argnums=2 but f got 2 arguments"):
        ef.grad(lambda x, y: x * y, argnums=2)(ef.constant(1.0), ef.constant(2.0))


def test_grad_keeps_dtype_and_shape(device):
    for dtype in (ef.float32, ef.float64):
        x = ef.ones((2, 3), dtype=dtype)
        g = ef.grad(lambda x: ef.sum(ef.sin(x)))(x)
        assert g.dtype == dtype and g.shape == (2, 3) and g.device == device


def test_value_and_grad(device):
    x = ef.constant(3.0)
    value, g = ef.value_and_grad(lambda x: x ** 3)(x)
    assert (float(value), float(g)) == (27.0, 27.0)
    (value, aux), g = ef.value_and_grad(lambda x: (x * x, "note"), has_aux=True)(x)
    assert (float(value), aux, float(g)) == (9.0, "note", 6.0)
    value, (g0, g1) = ef.value_and_grad(lambda a, b: a * b, argnums=(0, 1))(2.0, 5.0)
    assert (float(value), float(g0), float(g1)) == (10.0, 5.0, 2.0)


def test_grad_nests_for_higher_derivatives(device):
    x = _f64(0.7)
    assert abs(float(ef.grad(ef.grad(ef.sin))(x)) + np.sin(0.7)) < 1e-12
    assert abs(float(ef.grad(ef.grad(ef.grad(ef.sin)))(x)) + np.cos(0.7)) < 1e-12
    assert float(ef.grad(ef.grad(lambda x: x ** 3))(_f64(2.0))) == 12.0


def test_second_derivative_of_a_linear_function_is_zero_not_missing(device):
    # The inner gradient (3.0) does not depend on x: the outer grad gives zeros, as JAX does.
    g2 = ef.grad(ef.grad(lambda x: x * 3.0))(ef.constant(2.0))
    assert g2 is not None and float(g2) == 0.0 and g2.dtype == ef.float32


# -- vjp and jvp ---------------------------------------------------------------------------------

def _fn(x, y):
    return ef.sin(x) * y + x * x


def _jacobians(xs, ys):
    """d_fn/dx and d_fn/dy (elementwise, so diagonal), as dense matrices."""
    return np.diag(np.cos(xs) * ys + 2 * xs), np.diag(np.sin(xs))


def test_vjp_gives_one_gradient_per_primal(device):
    xs, ys = np.array([0.5, 1.5]), np.array([2.0, -1.0])
    value, back = ef.vjp(_fn, _f64(xs), _f64(ys))
    assert_close(value, np.sin(xs) * ys + xs * xs, dtype=ef.float64)
    u = np.array([1.0, -3.0])
    jx, jy = _jacobians(xs, ys)
    for _ in range(2):  # vjp_fn can be called again
        gx, gy = back(_f64(u))
        assert_close(gx, u @ jx, dtype=ef.float64)
        assert_close(gy, u @ jy, dtype=ef.float64)


def test_vjp_has_aux(device):
    value, back, aux = ef.vjp(lambda x: (x * 3.0, x + 1.0), ef.constant([1.0]), has_aux=True)
    assert_close(value, np.array([3.0]), dtype=ef.float32)
    assert_close(aux, np.array([2.0]), dtype=ef.float32)
    assert_close(back(ef.constant([2.0]))[0], np.array([6.0]), dtype=ef.float32)


@settings(max_examples=15)
@given(data=st.data())
def test_jvp_matches_finite_differences_and_the_vjp_jacobian(device, data):
    shape = data.draw(efst.shapes(min_dims=1, max_dims=1, min_side=1, max_side=4))
    xs, ys, tx, ty = (data.draw(efst.arrays(ef.float64, shape, low=-2, high=2)) for _ in range(4))
    value, tangent = ef.jvp(_fn, (_f64(xs), _f64(ys)), (_f64(tx), _f64(ty)))
    assert_close(value, np.sin(xs) * ys + xs * xs, dtype=ef.float64)

    eps = 1e-6
    def host(x, y):
        return np.sin(x) * y + x * x
    numeric = (host(xs + eps * tx, ys + eps * ty) - host(xs - eps * tx, ys - eps * ty)) / (2 * eps)
    assert_close(tangent, numeric, dtype=ef.float64, atol=1e-6, rtol=1e-6)

    # J v from the VJP: row i of J is vjp(e_i).
    _, back = ef.vjp(_fn, _f64(xs), _f64(ys))
    rows = [back(_f64(np.eye(xs.size)[i])) for i in range(xs.size)]
    jx = np.stack([r[0].numpy() for r in rows])
    jy = np.stack([r[1].numpy() for r in rows])
    assert_close(tangent, jx @ tx + jy @ ty, dtype=ef.float64)


def test_jvp_of_a_matrix_function(device):
    a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x, t = _f64([0.5, -0.5]), _f64([1.0, 2.0])
    _, tangent = ef.jvp(lambda x: ef.tanh(_f64(a) @ x), (x,), (t,))
    z = a @ np.array([0.5, -0.5])
    assert_close(tangent, (1 - np.tanh(z) ** 2) * (a @ np.array([1.0, 2.0])), dtype=ef.float64)


def test_jvp_tangents_have_the_structure_of_the_outputs(device):
    x, t = _f64([0.5, -0.5]), _f64([1.0, 2.0])
    outs, tangents = ef.jvp(lambda x: (x * 2.0, ef.sum(x * x)), (x,), (t,))
    assert isinstance(outs, tuple) and len(outs) == 2
    assert isinstance(tangents, tuple) and len(tangents) == 2
    assert_close(tangents[0], np.array([2.0, 4.0]), dtype=ef.float64)
    assert_close(tangents[1], np.asarray(2 * (0.5 * 1.0 - 0.5 * 2.0)), dtype=ef.float64)
    # The tangents have the structure of the outputs (JAX's jvp).
    _, tangents = ef.jvp(lambda x: {"double": x * 2.0, "sq": [x * x]}, (x,), (t,))
    assert set(tangents) == {"double", "sq"} and isinstance(tangents["sq"], list)
    assert_close(tangents["sq"][0], np.array([1.0, -2.0]), dtype=ef.float64)


def test_jvp_needs_one_tangent_per_primal(device):
    with pytest.raises(InvalidArgumentError, match="2 primals but 1 tangents"):
        ef.jvp(lambda x, y: x * y, (ef.constant(1.0), ef.constant(2.0)), (ef.constant(1.0),))


# -- jacobian and hessian -----------------------------------------------------------------------

def test_jacobian_function_closed_form(device):
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    xs = np.array([0.1, 0.2, 0.3])
    j = ef.jacobian(lambda x: ef.tanh(_f64(a) @ x))(_f64(xs))
    assert_close(j, (1 - np.tanh(a @ xs) ** 2)[:, None] * a, dtype=ef.float64, shape=(2, 3))
    jx, jy = ef.jacobian(lambda x, y: x * y, argnums=(0, 1))(_f64([1.0, 2.0]), _f64([3.0, 4.0]))
    assert_close(jx, np.diag([3.0, 4.0]), dtype=ef.float64)
    assert_close(jy, np.diag([1.0, 2.0]), dtype=ef.float64)


def test_hessian_closed_forms(device):
    xs = np.array([1.0, -2.0, 0.5])
    assert_close(ef.hessian(lambda x: ef.sum(x ** 3))(_f64(xs)), np.diag(6 * xs), dtype=ef.float64)

    a = np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 1.0], [0.0, -1.0, 2.0]])
    quad = ef.hessian(lambda x: ef.sum(x * (_f64(a) @ x)))(_f64(xs))
    assert_close(quad, a + a.T, dtype=ef.float64, shape=(3, 3))

    def f(x):
        return ef.sum(ef.sin(x)) * ef.sum(x)
    want = -np.diag(np.sin(xs)) * xs.sum() + np.cos(xs)[:, None] + np.cos(xs)[None, :]
    assert_close(ef.hessian(f)(_f64(xs)), want, dtype=ef.float64)


def test_jacobian_of_a_function_with_several_outputs(device):
    # JAX's structure: one Jacobian per output, each out.shape + arg.shape.
    x = _f64([1.0, 2.0])
    j_double, j_sum = ef.jacobian(lambda x: (x * 2.0, ef.sum(x * x)))(x)
    assert_close(j_double, 2 * np.eye(2), dtype=ef.float64, shape=(2, 2))
    assert_close(j_sum, np.array([2.0, 4.0]), dtype=ef.float64, shape=(2,))


def test_hessian_with_several_argnums(device):
    # f = x^2 y: H[i][j] = d2f / d(arg i) d(arg j), JAX's nesting.
    h = ef.hessian(lambda x, y: x * x * y, argnums=(0, 1))(_f64(2.0), _f64(3.0))
    assert [[float(h[i][j]) for j in range(2)] for i in range(2)] == [[6.0, 4.0], [4.0, 0.0]]


# -- stop_gradient --------------------------------------------------------------------------------

def test_stop_gradient_makes_a_constant(device):
    x = ef.constant([2.0, 3.0])
    assert_close(ef.grad(lambda x: ef.sum(x * ef.stop_gradient(x)))(x), np.array([2.0, 3.0]),
                 dtype=ef.float32)
    y = ef.stop_gradient(x)
    assert_close(y, np.array([2.0, 3.0]), dtype=ef.float32)
    with ef.GradientTape() as tape:
        tape.watch(x)
        z = ef.stop_gradient(x * x) + x
    assert_close(tape.gradient(z, x), np.ones(2), dtype=ef.float32)
    assert float(ef.stop_gradient(1.5)) == 1.5


def test_stop_gradient_stops_higher_orders_too(device):
    # d/dx [x^2 * sg(x)] = 2x * x; the second derivative sees sg(x) as a constant too: 2x.
    h = ef.grad(ef.grad(lambda x: x * x * ef.stop_gradient(x)))(_f64(3.0))
    assert float(h) == 6.0


# -- custom_gradient ------------------------------------------------------------------------------

@ef.custom_gradient
def _clip_grad(x):
    """Identity forward; the backward halves the gradient (so the rule visibly ran)."""
    def grad(dy):
        return dy * 0.5
    return x * 1.0, grad


def test_custom_gradient_rule_replaces_the_chain_rule(device):
    x = ef.constant([1.0, 2.0])
    assert_close(_clip_grad(x), np.array([1.0, 2.0]), dtype=ef.float32)  # no tape
    assert_close(ef.grad(lambda x: ef.sum(_clip_grad(x) * 3.0))(x), np.array([1.5, 1.5]),
                 dtype=ef.float32)


def test_custom_gradient_with_several_arguments(device):
    @ef.custom_gradient
    def mul(x, y):
        def grad(dy):
            return dy * y * 10.0, dy * x * 100.0
        return x * y, grad
    gx, gy = ef.grad(lambda x, y: mul(x, y), argnums=(0, 1))(ef.constant(2.0), ef.constant(3.0))
    assert (float(gx), float(gy)) == (30.0, 200.0)


def test_custom_gradient_with_several_outputs(device):
    @ef.custom_gradient
    def two(x):
        def grad(da, db):
            return da * 20.0 + db * 30.0
        return (x * 2.0, x * 3.0), grad
    x = ef.constant(1.0)
    # An output that no cotangent reaches gets zeros in grad_fn.
    assert float(ef.grad(lambda x: two(x)[0])(x)) == 20.0
    assert float(ef.grad(lambda x: two(x)[1])(x)) == 30.0
    assert float(ef.grad(lambda x: ef.sum(ef.stack(two(x))))(x)) == 50.0


def test_custom_gradient_with_variables_read_inside(device):
    w = ef.Variable(3.0, name="w")
    seen = {}

    @ef.custom_gradient
    def scale(x):
        def grad(dy, variables=None):
            seen["variables"] = variables
            return dy * w, [dy * x * 2.0]  # variable gradient doubled: visibly the rule's
        return x * w, grad

    x = ef.constant(2.0)
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = scale(x) * 5.0
    gx, gw = tape.gradient(y, [x, w])
    assert seen["variables"] is not None and len(seen["variables"]) == 1
    assert seen["variables"][0] is w
    assert (float(gx), float(gw)) == (15.0, 20.0)


def test_custom_gradient_second_order_differentiates_its_rule(device):
    @ef.custom_gradient
    def log1pexp(x):
        e = ef.exp(x)

        def grad(dy):
            return dy * (1 - 1 / (1 + e))
        return ef.log(1 + e), grad

    xs = np.array([-2.0, 0.0, 1.5])
    sig = 1 / (1 + np.exp(-xs))
    d2 = ef.grad(lambda x: ef.sum(ef.grad(lambda x: ef.sum(log1pexp(x)))(x)))(_f64(xs))
    assert_close(d2, sig * (1 - sig), dtype=ef.float64)


def test_custom_gradient_rule_with_variables_to_second_order(device):
    w = ef.Variable(ef.constant(3.0, dtype=ef.float64), name="w")

    @ef.custom_gradient
    def cube_times_w(x):
        def grad(dy, variables=None):
            return dy * 3.0 * x * x * w, [dy * x * x * x]
        return x * x * x * w, grad

    x = _f64(2.0)
    with ef.GradientTape() as outer:
        outer.watch(x)
        with ef.GradientTape() as inner:
            inner.watch(x)
            y = cube_times_w(x)
        gx = inner.gradient(y, x)
    dxx, dxw = outer.gradient(gx, [x, w])
    assert float(gx) == 36.0
    assert (float(dxx), float(dxw)) == (6 * 2.0 * 3.0, 3 * 4.0)


def test_custom_gradient_checks_what_grad_fn_returns(device):
    @ef.custom_gradient
    def bad(x, y):
        return x * y, lambda dy: dy
    with pytest.raises(InvalidArgumentError, match="returned 1 gradients for 2 tensor arguments"):
        ef.grad(lambda x, y: bad(x, y))(ef.constant(1.0), ef.constant(2.0))

    w = ef.Variable(1.0)

    @ef.custom_gradient
    def no_pair(x):
        return x * w, lambda dy, variables=None: dy
    with pytest.raises(InvalidArgumentError, match=r"return \(argument_grads, variable_grads\)"):
        ef.grad(no_pair)(ef.constant(1.0))


def test_custom_gradient_does_not_see_variables_read_by_another_thread(device):
    # A thread reading a Variable while another thread runs a custom_gradient function must
    # not make that Variable an input of the other thread's custom gradient.
    w = ef.Variable(1.0, name="elsewhere")
    inside, release = threading.Event(), threading.Event()

    @ef.custom_gradient
    def slow_double(x):
        inside.set()
        release.wait(10)
        return x * 2.0, lambda dy: dy * 2.0

    box = {}

    def run():
        try:
            with device:
                x = ef.constant(1.0)
                with ef.GradientTape() as tape:
                    tape.watch(x)
                    y = slow_double(x)
                box["grad"] = tape.gradient(y, x)
        except Exception as exc:  # noqa: BLE001 -- checked below
            box["error"] = exc
    th = threading.Thread(target=run)
    th.start()
    inside.wait(10)
    with ef.GradientTape() as mine:
        loss = w * 3.0
    release.set()
    th.join(10)
    assert "error" not in box, repr(box.get("error"))
    assert float(box["grad"]) == 2.0
    assert float(mine.gradient(loss, w)) == 3.0
