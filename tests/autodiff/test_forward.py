"""Forward mode (issue #10): the forward interpreter, nesting with tapes, and the transpose
fallback for ops without a JVP rule."""

from __future__ import annotations

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core.autodiff import forward
from eagerflow_core.testing import assert_close


def _f64(a):
    return ef.asarray(np.asarray(a, dtype=np.float64))


def _numeric_jvp(f, x, t, eps=1e-6):
    return (f(_f64(x + eps * t)).numpy() - f(_f64(x - eps * t)).numpy()) / (2 * eps)


FUNCS = {
    "poly": lambda x: x * x * x - 2.0 * x,
    "trig": lambda x: ef.sin(x) * ef.cos(x * 3.0) + ef.tanh(x),
    "exp_log": lambda x: ef.log(ef.exp(x) + 1.0),
    "reduce": lambda x: ef.sum(x * x, axis=0) / ef.max(ef.abs(x) + 1.0),
    "shape": lambda x: ef.reshape(ef.flip(x, axis=1), (-1,))[::2] * 3.0,
    "matmul": lambda x: ef.matmul(x, ef.matrix_transpose(x)),
    "index": lambda x: x[0] * x[1, ::-1],
    "where": lambda x: ef.where(x > 0, ef.sqrt(ef.abs(x)), x * x),
    "nn": lambda x: ef.nn.softmax(x) * ef.nn.relu(x),
    "linalg": lambda x: ef.linalg.inv(x @ ef.matrix_transpose(x) + 3.0 * ef.eye(2, dtype=ef.float64)),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_jvp_matches_finite_differences(name):
    rng = np.random.default_rng(0)
    x, t = rng.uniform(0.3, 1.2, (2, 2)) * rng.choice([-1, 1], (2, 2)), rng.standard_normal((2, 2))
    f = FUNCS[name]
    value, tangent = ef.jvp(f, (_f64(x),), (_f64(t),))
    assert_close(value, f(_f64(x)).numpy(), dtype=ef.float64)
    np.testing.assert_allclose(tangent.numpy(), _numeric_jvp(f, x, t), rtol=1e-5, atol=1e-6)


def test_forward_over_reverse_hessian_vector_product():
    rng = np.random.default_rng(1)
    w = _f64(rng.standard_normal((5, 5)))
    x, v = rng.standard_normal(5), rng.standard_normal(5)

    def f(x):
        return ef.sum(ef.tanh(w @ x))

    hvp = ef.jvp(ef.grad(f), (_f64(x),), (_f64(v),))[1]
    by_reverse = ef.grad(lambda x: ef.sum(ef.grad(f)(x) * _f64(v)))(_f64(x))
    wn = w.numpy()
    s = 1 - np.tanh(wn @ x) ** 2
    want = wn.T @ (-2 * np.tanh(wn @ x) * s * (wn @ v))
    assert_close(hvp, want, dtype=ef.float64)
    assert_close(by_reverse, want, dtype=ef.float64)


def test_reverse_over_forward():
    x = ef.constant(1.3, dtype=ef.float64)
    # d/dx [ d/de (x + e)**3 at e=0 ] = d/dx 3x**2 = 6x
    g = ef.grad(lambda x: ef.jvp(lambda y: y ** 3, (x,), (ef.ones_like(x),))[1])(x)
    assert g.item() == pytest.approx(6 * 1.3)


def test_nested_forward_does_not_confuse_perturbations():
    # Siskind & Pearlmutter: d/dx (x * d/dy (x + y)) at y = 1 must be 1, not 2.
    def inner(x):
        return ef.jvp(lambda y: x + y, (ef.constant(1.0),), (ef.constant(1.0),))[1]

    out = ef.jvp(lambda x: x * inner(x), (ef.constant(2.0),), (ef.constant(1.0),))[1]
    assert out.item() == 1.0


def test_second_derivative_by_forward_over_forward():
    x = ef.constant(0.7, dtype=ef.float64)

    def d(f):
        return lambda x: ef.jvp(f, (x,), (ef.ones_like(x),))[1]
    assert d(d(ef.sin))(x).item() == pytest.approx(-np.sin(0.7))
    assert d(d(d(ef.tanh)))(x).item() == pytest.approx(
        -2 * (1 - np.tanh(0.7) ** 2) * (1 - 3 * np.tanh(0.7) ** 2))


def test_the_same_tensor_twice_counts_once():
    x = ef.constant(3.0)
    assert ef.jvp(lambda x: x * x, (x,), (ef.constant(1.0),))[1].item() == 6.0
    assert ef.jvp(lambda x: ef.linalg.det(ef.stack([ef.stack([x, x]), ef.stack([x, 1.0 + x])])),
                  (x,), (ef.constant(1.0),))[1].item() == pytest.approx(2 * 3.0 + 1.0 - 2 * 3.0)


def test_closures_and_variables_are_constants_and_outputs_without_tangent_are_zero():
    c = ef.constant(5.0)
    v = ef.Variable(2.0)
    value, tangent = ef.jvp(lambda x: (x * c + v, c * 2.0), (ef.constant(1.0),), (ef.constant(1.0),))
    assert tangent[0].item() == 5.0
    assert tangent[1].item() == 0.0


def test_setitem_carries_the_tangent_of_the_new_value():
    def f(x):
        y = x * 1.0
        y[0] = x[1] * 3.0
        return y
    _, t = ef.jvp(f, (ef.constant([1.0, 2.0]),), (ef.constant([1.0, 10.0]),))
    assert t.tolist() == [30.0, 10.0]


def test_integer_results_have_no_tangent():
    _, t = ef.jvp(lambda x: ef.argmax(x) + 0, (ef.constant([1.0, 3.0]),), (ef.constant([1.0, 1.0]),))
    assert t.dtype == ef.int64 and t.item() == 0


def test_ops_without_a_rule_use_the_transposed_vjp():
    op = ef.linalg.det.op
    assert op.jvp is None or op.jvp is not None  # either way jvp must work:
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    t = np.array([[1.0, 0.0], [0.0, 1.0]])
    _, got = ef.jvp(ef.linalg.det, (_f64(a),), (_f64(t),))
    # d det = det(A) tr(A^-1 dA)
    assert got.item() == pytest.approx(np.linalg.det(a) * np.trace(np.linalg.inv(a) @ t))
    assert forward._by_transpose is not None


def test_jvp_checks_tangent_shapes():
    with pytest.raises(ef.ShapeError, match=r"jvp: tangent 0 has shape \(3,\), its primal \(2,\)"):
        ef.jvp(ef.sin, (ef.ones(2),), (ef.ones(3),))


def test_the_interpreter_leaves_the_stack_on_error():
    from eagerflow_core._state import state
    with pytest.raises(ZeroDivisionError):
        ef.jvp(lambda x: 1 / 0, (ef.ones(2),), (ef.ones(2),))
    assert state.interp is None
