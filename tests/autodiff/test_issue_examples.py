"""The examples of issue #3 (autodiff), exactly as a user would write them, on every device."""

from __future__ import annotations

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core.testing import assert_close


def _mlp_reference(x, t, w1, b1, w2, b2):
    """Loss and gradients of mean((tanh(x @ w1 + b1) @ w2 + b2 - t) ** 2), by hand, float64."""
    h = np.tanh(x @ w1 + b1)
    y = h @ w2 + b2
    loss = np.mean((y - t) ** 2)
    dy = 2 * (y - t) / y.size
    dh = dy @ w2.T * (1 - h * h)
    return loss, {"w1": x.T @ dh, "b1": dh.sum(0), "w2": h.T @ dy, "b2": dy.sum(0)}


def test_tanh_mlp_with_variables_on_a_tape(device):
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    init = {"w1": rng.standard_normal((3, 4)), "b1": rng.standard_normal(4),
            "w2": rng.standard_normal((4, 2)), "b2": rng.standard_normal(2)}
    params = {k: ef.Variable(v, dtype=ef.float32, name=k) for k, v in init.items()}

    def loss_fn():
        h = ef.tanh(ef.constant(x, dtype=ef.float32) @ params["w1"] + params["b1"])
        y = h @ params["w2"] + params["b2"]
        return ef.mean((y - ef.constant(t, dtype=ef.float32)) ** 2)

    with ef.GradientTape() as tape:
        loss = loss_fn()
    grads = tape.gradient(loss, params)

    expected_loss, expected = _mlp_reference(x, t, **init)
    assert_close(loss, np.asarray(expected_loss), dtype=ef.float32)
    assert set(grads) == set(params)
    for k in params:
        assert_close(grads[k], expected[k], dtype=ef.float32, shape=init[k].shape, msg=k)
        assert grads[k].device == device
    # The tape watched every Variable it saw read, in first-read order.
    assert [v.name for v in tape.watched_variables()] == ["w1", "b1", "w2", "b2"]

    # One plain gradient-descent step lowers the loss.
    for k, v in params.items():
        v.assign_sub(0.1 * grads[k])
    assert float(loss_fn()) < float(loss)


def _tanh_derivatives(x):
    t = np.tanh(x)
    s = 1 - t * t
    return [t, s, -2 * t * s, -2 * s * (1 - 3 * t * t), 8 * t * s * (2 - 3 * t * t)]


@pytest.mark.parametrize("dtype", [ef.float32, ef.float64])
def test_fourth_derivative_of_tanh_by_nested_grad(device, dtype):
    xs = np.linspace(-3.0, 3.0, 13)
    expected = _tanh_derivatives(xs)

    def elementwise_grad(f):
        return ef.grad(lambda x: ef.sum(f(x)))

    f = ef.tanh
    for order in range(1, 5):
        f = elementwise_grad(f)
        got = f(ef.constant(xs, dtype=dtype))
        assert_close(got, expected[order], dtype=dtype, scale=10.0, msg=f"order {order}")
    # The same, one scalar at a time, nesting ef.grad itself four times.
    d4 = ef.grad(ef.grad(ef.grad(ef.grad(ef.tanh))))
    for x, want in zip(xs[::4], expected[4][::4]):
        assert_close(d4(ef.constant(x, dtype=dtype)), np.asarray(want), dtype=dtype, scale=10.0)


def test_grad_of_cube_at_python_float(device):
    g = ef.grad(lambda x: x ** 3)(2.0)
    assert float(g) == 12.0
    assert g.dtype == ef.float32 and g.shape == () and g.device == device


def test_nested_tapes_give_second_derivative_6x(device):
    x = ef.constant(3.0)
    with ef.GradientTape() as outer:
        outer.watch(x)
        with ef.GradientTape() as inner:
            inner.watch(x)
            y = x * x * x
        dy_dx = inner.gradient(y, x)
    d2y_dx2 = outer.gradient(dy_dx, x)
    assert float(dy_dx) == 27.0
    assert float(d2y_dx2) == 18.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # exp(100) overflows float32, on purpose
def test_custom_gradient_log1pexp_is_finite_at_100(device):
    @ef.custom_gradient
    def log1pexp(x):
        e = ef.exp(x)

        def grad(dy):
            return dy * (1 - 1 / (1 + e))
        return ef.log(1 + e), grad

    x = ef.constant(100.0)
    g = ef.grad(log1pexp)(x)
    assert float(g) == 1.0
    # Without the custom rule the chain rule meets inf * 0: that is what the issue fixes.
    naive = ef.grad(lambda x: ef.log(1 + ef.exp(x)))(x)
    assert np.isnan(float(naive))
    # Away from overflow both agree with the sigmoid.
    small = ef.constant(0.5)
    want = 1 / (1 + np.exp(-0.5))
    assert abs(float(ef.grad(log1pexp)(small)) - want) < 1e-6
    assert abs(float(ef.grad(lambda x: ef.log(1 + ef.exp(x)))(small)) - want) < 1e-6
