"""ef.optimizers.schedules (issue #7, item 5): hand-computed values, Keras' formulas evaluated
in float32 as Keras evaluates them, and how optimizers read them."""

from __future__ import annotations

import math

import numpy as np
import pytest

import eagerflow_core as ef

S = ef.optimizers.schedules
STEPS = [0, 1, 2, 5, 9, 10, 11, 37, 100, 101, 250, 1000]


def _values(schedule, steps=STEPS):
    return np.array([float(schedule(t)) for t in steps])


# Keras' __call__ bodies, in float32 NumPy (its tensors are float32). eagerflow computes the
# same formulas in double precision on the host and rounds once, so the two differ by float32
# rounding, which grows with an exponent (0.96 ** 100: rounding 0.96 to float32 costs ~2e-6):
# hence rtol=1e-5 against Keras, and hand-computed values checked in double precision.
f32 = np.float32
KERAS_RTOL = 1e-5


def keras_exponential(init, decay_steps, rate, staircase, step):
    p = f32(step) / f32(decay_steps)
    if staircase:
        p = np.floor(p)
    return f32(init) * np.power(f32(rate), p)


def keras_inverse_time(init, decay_steps, rate, staircase, step):
    p = f32(step) / f32(decay_steps)
    if staircase:
        p = np.floor(p)
    return f32(init) / (f32(1) + f32(rate) * p)


def keras_polynomial(init, decay_steps, end, power, cycle, step):
    step, decay_steps = f32(step), f32(decay_steps)
    if cycle:
        decay_steps = decay_steps * (f32(1) if step == 0 else np.ceil(step / decay_steps))
    else:
        step = min(step, decay_steps)
    p = step / decay_steps
    return (f32(init) - f32(end)) * np.power(f32(1) - p, f32(power)) + f32(end)


def keras_cosine(init, decay_steps, alpha, warmup_target, warmup_steps, step):
    step, init, decay_steps = f32(step), f32(init), f32(decay_steps)

    def decay(s, rate):
        cosine = f32(0.5) * (f32(1) + np.cos(f32(math.pi) * (s / decay_steps)))
        return rate * ((f32(1) - f32(alpha)) * cosine + f32(alpha))
    if warmup_target is None:
        return decay(min(step, decay_steps), init)
    warmup_steps, warmup_target = f32(warmup_steps), f32(warmup_target)
    step = min(step, decay_steps + warmup_steps)
    if step < warmup_steps:
        return (warmup_target - init) * (step / warmup_steps) + init
    return decay(step - warmup_steps, warmup_target)


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay(staircase):
    s = S.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.96, staircase=staircase)
    want = [keras_exponential(0.1, 10, 0.96, staircase, t) for t in STEPS]
    np.testing.assert_allclose(_values(s), want, rtol=KERAS_RTOL)
    assert float(s(25)) == pytest.approx(0.1 * 0.96 ** (2 if staircase else 2.5), rel=1e-6)


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_decay(staircase):
    s = S.InverseTimeDecay(0.5, decay_steps=4, decay_rate=0.5, staircase=staircase)
    want = [keras_inverse_time(0.5, 4, 0.5, staircase, t) for t in STEPS]
    np.testing.assert_allclose(_values(s), want, rtol=KERAS_RTOL)
    assert float(s(6)) == pytest.approx(0.5 / (1 + 0.5 * (1 if staircase else 1.5)), rel=1e-6)


@pytest.mark.parametrize("cycle", [False, True])
@pytest.mark.parametrize("power", [1.0, 0.5, 2.0])
def test_polynomial_decay(cycle, power):
    s = S.PolynomialDecay(1.0, decay_steps=100, end_learning_rate=0.01, power=power, cycle=cycle)
    want = [keras_polynomial(1.0, 100, 0.01, power, cycle, t) for t in STEPS]
    np.testing.assert_allclose(_values(s), want, rtol=KERAS_RTOL)
    if power == 1.0:  # by hand: linear from 1 to 0.01 over 100 steps
        assert float(s(50)) == pytest.approx(0.505, rel=1e-6)
        assert float(s(150)) == pytest.approx(0.2575 if cycle else 0.01, rel=1e-6)


def test_piecewise_constant_decay_boundaries_belong_to_the_earlier_piece():
    s = S.PiecewiseConstantDecay([10, 100], [1.0, 0.5, 0.125])
    assert list(_values(s, [0, 9, 10, 11, 100, 101, 10_000])) == [1.0, 1.0, 1.0, 0.5, 0.5,
                                                                   0.125, 0.125]
    with pytest.raises(ValueError, match="2 boundaries need 3 values, got 2"):
        S.PiecewiseConstantDecay([1, 2], [1.0, 0.5])
    with pytest.raises(ValueError, match="increasing"):
        S.PiecewiseConstantDecay([5, 2], [1.0, 0.5, 0.1])


@pytest.mark.parametrize("alpha", [0.0, 0.1])
@pytest.mark.parametrize("warmup", [None, (1.0, 20)])
def test_cosine_decay_with_keras_warmup(alpha, warmup):
    target, wsteps = warmup or (None, 0)
    s = S.CosineDecay(0.0 if warmup else 1.0, decay_steps=200, alpha=alpha,
                      warmup_target=target, warmup_steps=wsteps)
    want = [keras_cosine(0.0 if warmup else 1.0, 200, alpha, target, wsteps, t) for t in STEPS]
    np.testing.assert_allclose(_values(s), want, rtol=KERAS_RTOL, atol=1e-7)
    if warmup:
        assert float(s(10)) == pytest.approx(0.5)  # half-way up the warm-up
        assert float(s(20)) == pytest.approx(1.0)  # the top
        assert float(s(120)) == pytest.approx(0.5 * (1 - alpha) + alpha)  # half-way down
    else:
        assert float(s(100)) == pytest.approx(0.5 * (1 - alpha) + alpha)
    assert float(s(10_000)) == pytest.approx(alpha * 1.0, abs=1e-7)


def test_cosine_decay_restarts_by_hand():
    s = S.CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5)
    assert float(s(0)) == 1.0
    assert float(s(5)) == pytest.approx(0.5)
    assert float(s(10)) == pytest.approx(0.5)  # the first restart, at m_mul
    assert float(s(20)) == pytest.approx(0.25)  # half-way through the 20-step second period
    assert float(s(30)) == pytest.approx(0.25)  # the second restart
    flat = S.CosineDecayRestarts(1.0, first_decay_steps=4, t_mul=1.0)
    assert list(_values(flat, [0, 2, 4, 6])) == pytest.approx([1.0, 0.5, 1.0, 0.5])


def test_linear_warmup_wraps_a_schedule_or_a_constant():
    inner = S.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)
    s = S.LinearWarmup(inner, warmup_steps=4, initial_learning_rate=0.2)
    np.testing.assert_allclose(_values(s, range(7)), [0.2, 0.4, 0.6, 0.8, 1.0, 0.5, 0.25],
                               rtol=1e-6)
    const = S.LinearWarmup(0.1, warmup_steps=10)
    np.testing.assert_allclose(_values(const, [0, 5, 10, 1000]), [0.0, 0.05, 0.1, 0.1],
                               rtol=1e-6)


def test_schedule_values_are_float32_tensors_and_accept_tensor_steps():
    s = S.ExponentialDecay(1.0, 2, 0.5)
    out = s(ef.Variable(4))
    assert isinstance(out, ef.Tensor) and out.dtype == ef.float32 and out.shape == ()
    assert float(out) == 0.25
    assert float(s(ef.constant(2))) == 0.5


def test_config_round_trip_and_bad_arguments():
    s = S.CosineDecay(0.1, 1000, alpha=0.01, warmup_target=0.5, warmup_steps=50)
    again = S.CosineDecay.from_config(s.get_config())
    np.testing.assert_array_equal(_values(again), _values(s))
    assert "warmup_target=0.5" in repr(s)
    for make in (lambda: S.ExponentialDecay(0.1, 0, 0.5), lambda: S.CosineDecay(0.1, -1),
                 lambda: S.PolynomialDecay(0.1, 0), lambda: S.LinearWarmup(0.1, 0),
                 lambda: S.CosineDecay(0.1, 10, warmup_target=1.0, warmup_steps=0)):
        with pytest.raises(ValueError, match="must be > 0"):
            make()


def test_an_optimizer_reads_its_schedule_at_each_step():
    s = S.CosineDecay(0.0, decay_steps=4, warmup_target=1.0, warmup_steps=2)
    w = ef.Variable([0.0], dtype=ef.float64)
    opt = ef.optimizers.SGD(learning_rate=s)
    rates = []
    for _ in range(8):
        rates.append(float(opt.learning_rate))
        opt.apply_gradients([(ef.constant([-1.0], dtype=ef.float64), w)])
    exact = [s._value(t) for t in range(8)]  # what the optimizer uses; the tensors are float32
    np.testing.assert_allclose(rates, exact, rtol=1e-7)
    np.testing.assert_allclose(w.numpy(), [sum(exact)], rtol=1e-15)
    np.testing.assert_allclose(rates, [0.0, 0.5, 1.0, 0.853553, 0.5, 0.146447, 0.0, 0.0],
                               atol=1e-6)
