"""ef.nn.dropout (issue #7): TensorFlow's semantics, seeded reproducibility, and its one-step
gradient rule ``g * mask / (1 - rate)`` checked against central differences to second and
third order."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core.testing import check_grads
from eagerflow_core.testing import strategies as efst

FLOATS = [ef.float16, ef.bfloat16, ef.float32, ef.float64]


def x64(shape, seed=0):
    rng = np.random.default_rng(seed)
    return ef.asarray(rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1, 1], size=shape))


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_kept_values_are_scaled_and_the_rest_are_zero(dtype, rate):
    x = ef.astype(x64((400, 50)), dtype)
    y = ef.nn.dropout(x, rate, seed=3)
    assert y.dtype is dtype and y.shape == x.shape and y.device == x.device
    xs, ys = x.numpy().astype(np.float64), y.numpy().astype(np.float64)
    kept = ys != 0                                         # x is never 0 here
    scale = 1 / (1 - rate)
    tol = {"float16": 2e-3, "bfloat16": 2e-2}.get(dtype.name, 1e-6)
    np.testing.assert_allclose(ys[kept], xs[kept] * scale, rtol=tol)
    n = kept.size
    assert abs(kept.sum() - n * (1 - rate)) <= 6 * math.sqrt(n * rate * (1 - rate))


def test_expectation_is_unchanged():
    x = ef.full((200_000,), 3.0, dtype=ef.float64)
    y = ef.nn.dropout(x, 0.25, seed=4).numpy()
    # mean of 3 * Bernoulli(0.75) / 0.75: standard error 3 * sqrt(0.25 / 0.75 / n)
    assert abs(y.mean() - 3.0) <= 6 * 3 * math.sqrt(0.25 / 0.75 / y.size)


def test_seed_is_stateless_generator_and_global_are_sequences():
    x = ef.ones((64,))
    a, b = ef.nn.dropout(x, 0.5, seed=11), ef.nn.dropout(x, 0.5, seed=11)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), ef.nn.dropout(x, 0.5, seed=12).numpy())
    g1, g2 = ef.random.Generator(seed=5), ef.random.Generator(seed=5)
    m1 = [ef.nn.dropout(x, 0.5, generator=g1).numpy() for _ in range(2)]
    m2 = [ef.nn.dropout(x, 0.5, generator=g2).numpy() for _ in range(2)]
    np.testing.assert_array_equal(m1[0], m2[0])
    np.testing.assert_array_equal(m1[1], m2[1])
    assert not np.array_equal(m1[0], m1[1])
    ef.random.set_seed(8)
    c = ef.nn.dropout(x, 0.5).numpy()
    ef.random.set_seed(8)
    np.testing.assert_array_equal(ef.nn.dropout(x, 0.5).numpy(), c)


def test_rate_zero_returns_x_and_its_gradient_is_one():
    x = ef.asarray([1.0, -2.0])
    assert ef.nn.dropout(x, 0.0) is x
    assert ef.grad(lambda x: ef.sum(ef.nn.dropout(x, 0.0)))(x).tolist() == [1.0, 1.0]


def test_noise_shape_shares_decisions():
    x = ef.ones((6, 5, 4))
    y = ef.nn.dropout(x, 0.5, noise_shape=(6, 1, None), seed=2).numpy()
    assert (y == y[:, :1, :]).all()            # one decision per (i, k), shared along axis 1
    assert 0 < (y != 0).mean() < 1
    z = ef.nn.dropout(x, 0.5, noise_shape=ef.asarray([1, 1, 1]), seed=2).numpy()
    assert len(np.unique(z)) == 1              # one decision for everything


def test_nan_propagates_as_in_tensorflow():
    x = ef.full((200,), float("nan"))
    y = ef.nn.dropout(x, 0.5, seed=0).numpy()
    assert np.isnan(y).all()                   # x * scale * mask: NaN * 0 is NaN


def test_errors_are_clear():
    x = ef.ones((2, 3))
    for bad in (1.0, 1.5, -0.1):
        with pytest.raises(ef.InvalidArgumentError, match=r"rate must be in \[0, 1\)"):
            ef.nn.dropout(x, bad)
    with pytest.raises(ef.ArgumentTypeError, match="rate must be a float"):
        ef.nn.dropout(x, "0.5")
    with pytest.raises(ef.ShapeError,
                       match=r"noise_shape \(2, 2\) does not fit x of shape \(2, 3\)"):
        ef.nn.dropout(x, 0.5, noise_shape=(2, 2))
    with pytest.raises(ef.ShapeError, match="noise_shape"):
        ef.nn.dropout(x, 0.5, noise_shape=(3,))
    with pytest.raises(ef.InvalidArgumentError, match="seed or a generator"):
        ef.nn.dropout(x, 0.5, seed=1, generator=ef.random.Generator(1))
    with pytest.raises(ef.ShapeError, match="scalar"):
        ef.nn.dropout(x, ef.asarray([0.5, 0.5]))
    assert ef.nn.dropout(x, ef.asarray(0.5), seed=1).shape == (2, 3)


def test_gradient_is_the_scaled_mask():
    x = x64((50,))
    y = ef.nn.dropout(x, 0.4, seed=6)
    mask = (y.numpy() != 0).astype(np.float64)
    g = ef.grad(lambda x: ef.sum(ef.nn.dropout(x, 0.4, seed=6) * ef.arange(50.0)))(x)
    np.testing.assert_allclose(g.numpy(), mask / 0.6 * np.arange(50.0), rtol=1e-12)


def test_tape_keeps_no_float_intermediate():
    x = x64((1000,))
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.nn.dropout(x, 0.5, seed=1)
    # one record: x, y and at most the bool mask (op by op it would add two float arrays)
    assert tape.held_bytes() <= x.size * 8 + y.size * 8 + x.size
    np.testing.assert_array_equal(tape.gradient(y, x).numpy() != 0, y.numpy() != 0)


@pytest.mark.parametrize("rate, noise", [(0.3, None), (0.5, (3, 1)), (0.8, (1, 4))])
def test_second_order_gradients(rate, noise):
    x = x64((3, 4), seed=1)
    check_grads(lambda x: ef.nn.dropout(x, rate, noise_shape=noise, seed=2), [x], order=2)
    # through a nonlinearity, to third order: the rule differentiates again
    check_grads(lambda x: ef.sin(ef.nn.dropout(x, rate, noise_shape=noise, seed=2)) * x, [x],
                order=3)


@given(data=st.data())
def test_gradients_on_drawn_inputs(data):
    shape = data.draw(efst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    x = ef.asarray(data.draw(efst.arrays(ef.float64, shape, low=-3, high=3)))
    rate = data.draw(st.sampled_from([0.1, 0.5, 0.75]))
    seed = data.draw(st.integers(0, 1000))
    check_grads(lambda x: ef.tanh(ef.nn.dropout(x, rate, seed=seed)), [x], order=2)


def test_dropout_of_a_variable_reaches_the_variable():
    v = ef.Variable(ef.ones((8,), dtype=ef.float64))
    with ef.GradientTape() as tape:
        y = ef.sum(ef.nn.dropout(v, 0.5, seed=3))
    g = tape.gradient(y, v)
    np.testing.assert_array_equal(g.numpy(), ef.nn.dropout(ef.ones((8,), dtype=ef.float64), 0.5,
                                                           seed=3).numpy())


def test_forward_mode_agrees():
    # dropout with a fixed seed is linear in x: its JVP is the same dropout of the tangent
    x, v = x64((6, 5)), x64((6, 5), seed=2)
    y, jv = ef.jvp(lambda x: ef.nn.dropout(x, 0.4, seed=1), (x,), (v,))
    np.testing.assert_allclose(jv.numpy(), ef.nn.dropout(v, 0.4, seed=1).numpy(), rtol=1e-12)
    np.testing.assert_array_equal(y.numpy(), ef.nn.dropout(x, 0.4, seed=1).numpy())
