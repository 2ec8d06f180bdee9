"""ef.initializers: each distribution's bounds and moments against Keras' formulas, fans,
seeds, dtypes, and lookup by name."""

from __future__ import annotations

import math

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core import initializers as I

SHAPE = (400, 300)  # 120,000 draws: moments to a fraction of a percent
FAN_IN, FAN_OUT = SHAPE
# Variance of a unit normal truncated to [-2, 2].
TRUNC_VAR = 1 - 4 * math.exp(-2) / math.sqrt(2 * math.pi) / math.erf(2 / math.sqrt(2))


def _draw(init, shape=SHAPE, dtype=None):
    return init(shape, dtype=dtype).numpy().astype(np.float64)


def _check_moments(x, mean, var):
    n = x.size
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / n) + 1e-12
    # The sample variance's standard error is about var * sqrt(2 / n) (a bit less for uniform).
    assert abs(x.var() - var) < 5 * var * math.sqrt(2 / n)


@pytest.mark.parametrize("cls, fan, scale", [
    (I.GlorotUniform, (FAN_IN + FAN_OUT) / 2, 1.0),
    (I.HeUniform, FAN_IN, 2.0),
    (I.LecunUniform, FAN_IN, 1.0),
])
def test_uniform_variance_scaling_bounds_and_moments(cls, fan, scale):
    x = _draw(cls(seed=1))
    limit = math.sqrt(3 * scale / fan)
    assert x.min() >= -limit and x.max() <= limit
    assert x.max() > 0.999 * limit and x.min() < -0.999 * limit  # the whole interval is used
    _check_moments(x, 0.0, scale / fan)


@pytest.mark.parametrize("cls, fan, scale", [
    (I.GlorotNormal, (FAN_IN + FAN_OUT) / 2, 1.0),
    (I.HeNormal, FAN_IN, 2.0),
    (I.LecunNormal, FAN_IN, 1.0),
])
def test_truncated_variance_scaling_has_the_asked_variance(cls, fan, scale):
    x = _draw(cls(seed=2))
    stddev = math.sqrt(scale / fan) / 0.87962566103423978  # Keras' correction
    assert np.abs(x).max() <= 2 * stddev * (1 + 1e-6)
    _check_moments(x, 0.0, scale / fan)  # the truncation's loss is what the correction undoes


def test_untruncated_normal_and_fan_out_modes():
    x = _draw(I.VarianceScaling(3.0, "fan_out", "untruncated_normal", seed=3))
    _check_moments(x, 0.0, 3.0 / FAN_OUT)
    assert np.abs(x).max() > 2 * math.sqrt(3.0 / FAN_OUT)  # not truncated


def test_random_normal_uniform_and_truncated_normal():
    _check_moments(_draw(I.RandomNormal(mean=1.5, stddev=0.2, seed=4)), 1.5, 0.04)
    u = _draw(I.RandomUniform(-1.0, 3.0, seed=5))
    assert u.min() >= -1.0 and u.max() < 3.0
    _check_moments(u, 1.0, 16 / 12)
    t = _draw(I.TruncatedNormal(mean=-1.0, stddev=0.5, seed=6))
    assert t.min() >= -2.0 and t.max() <= 0.0
    _check_moments(t, -1.0, 0.25 * TRUNC_VAR)
    # Keras' defaults: stddev 0.05, limits +-0.05.
    assert np.abs(_draw(I.RandomUniform())).max() <= 0.05
    assert np.abs(_draw(I.TruncatedNormal())).max() <= 0.1


def test_constant_zeros_ones():
    assert _draw(I.Zeros(), (3,)).tolist() == [0, 0, 0]
    assert _draw(I.Ones(), (2,)).tolist() == [1, 1]
    assert _draw(I.Constant(2.5), (2, 1)).tolist() == [[2.5], [2.5]]
    assert _draw(I.Constant([1, 2]), (2,)).tolist() == [1, 2]
    with pytest.raises(ef.InvalidArgumentError, match=r"value has shape \(2,\); the weight asks "
                                                      r"for \(3,\)"):
        I.Constant([1, 2])((3,))


def test_fans_of_dense_and_convolution_kernels():
    assert I.compute_fans(()) == (1, 1)
    assert I.compute_fans((7,)) == (7, 7)
    assert I.compute_fans((5, 3)) == (5, 3)
    assert I.compute_fans((3, 3, 16, 32)) == (144, 288)  # HWIO
    assert I.compute_fans((5, 4, 8)) == (20, 40)  # Conv1D's (width, in, out)
    x = _draw(I.GlorotUniform(seed=0), (3, 3, 16, 32))
    assert np.abs(x).max() <= math.sqrt(6 / (144 + 288))


def test_seeds_repeat_and_the_global_seed_reproduces():
    a = I.HeNormal(seed=9)
    np.testing.assert_array_equal(_draw(a, (4, 4)), _draw(a, (4, 4)))  # Keras 3: same values
    assert not np.array_equal(_draw(I.HeNormal(seed=10), (4, 4)), _draw(a, (4, 4)))
    unseeded = I.GlorotUniform()
    first, second = _draw(unseeded, (4, 4)), _draw(unseeded, (4, 4))
    assert not np.array_equal(first, second)
    ef.random.set_seed(3)
    again = _draw(unseeded, (4, 4)), _draw(unseeded, (4, 4))
    ef.random.set_seed(3)
    np.testing.assert_array_equal(again[0], _draw(unseeded, (4, 4)))
    np.testing.assert_array_equal(again[1], _draw(unseeded, (4, 4)))


def test_dtypes():
    assert I.GlorotUniform()((2, 2), dtype=ef.float64).dtype == ef.float64
    assert I.HeNormal()((2, 2), dtype="float16").dtype == ef.float16
    assert I.Zeros()((2,), dtype=ef.int32).dtype == ef.int32
    with pytest.raises(ef.ArgumentTypeError, match="dtype int32 is not a real floating dtype"):
        I.RandomNormal()((2,), dtype=ef.int32)


def test_get_by_name_class_name_config_instance_and_callable():
    assert isinstance(I.get("glorot_uniform"), I.GlorotUniform)
    assert isinstance(I.get("HeNormal"), I.HeNormal)
    init = I.get({"class_name": "RandomNormal", "config": {"stddev": 2.0, "seed": 1}})
    assert init.stddev == 2.0 and init.seed == 1
    assert I.get({"class_name": "VarianceScaling",
                  "config": I.VarianceScaling(2.0, "fan_avg").get_config()}).scale == 2.0
    same = I.Ones()
    assert I.get(same) is same and I.get(None) is None
    fn = lambda shape, dtype=None: ef.full(shape, 7.0, dtype=dtype)  # noqa: E731
    assert I.get(fn) is fn
    layer = ef.layers.Dense(2, kernel_initializer=fn, bias_initializer=I.Constant(0.5))
    layer(ef.ones((1, 3)))
    assert layer.kernel.numpy().tolist() == [[7.0, 7.0]] * 3
    assert layer.bias.numpy().tolist() == [0.5, 0.5]
    with pytest.raises(ef.InvalidArgumentError, match="unknown initializer 'xavier'; valid "
                                                      "names: constant, glorot_normal"):
        I.get("xavier")
    with pytest.raises(ef.ArgumentTypeError, match="expected an initializer name"):
        I.get(3)


@pytest.mark.parametrize("make, match", [
    (lambda: I.VarianceScaling(0.0), "scale must be positive"),
    (lambda: I.VarianceScaling(mode="fan"), "mode must be one of"),
    (lambda: I.VarianceScaling(distribution="cauchy"), "distribution must be one of"),
    (lambda: I.GlorotUniform(seed=1.5), "seed must be an int or None"),
])
def test_bad_arguments(make, match):
    with pytest.raises((ef.InvalidArgumentError, ef.ArgumentTypeError), match=match):
        make()
