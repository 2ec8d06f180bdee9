"""ef.random (issue #7): distributions, reproducibility, counters, threads, devices, dtypes.

Statistical checks are sized from the sample: moment bounds are 6 standard errors wide and
Kolmogorov-Smirnov bounds are at significance 1e-6 (plus the dtype's grid step), so a correct
generator fails one with probability below 1e-6, while a wrong distribution (a shifted mean, a
missing tail, a biased bin) fails it for certain at these sample sizes. Seeds are fixed, so
each run checks the same draws.
"""

from __future__ import annotations

import copy
import math
import pickle
import threading
import types
import warnings

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core.plugins import (ArrayAPIBackend, hookimpl, kernels_from_namespace,
                                    register_plugin, unregister_plugin)

FLOATS = [ef.float16, ef.bfloat16, ef.float32, ef.float64]
GRID = {"float16": 2 ** -11, "bfloat16": 2 ** -8, "float32": 2 ** -24, "float64": 2 ** -53}
_erf = np.vectorize(math.erf)


def host(t) -> np.ndarray:
    return np.asarray(t.numpy()).astype(np.float64)


def ks_distance(sample, cdf) -> float:
    x = np.sort(np.asarray(sample, np.float64).ravel())
    n = x.size
    f = cdf(x)
    return float(max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n)))


def ks_bound(n, alpha=1e-6) -> float:
    return math.sqrt(-math.log(alpha / 2) / (2 * n))


def phi(x):
    return 0.5 * (1 + _erf(np.asarray(x) / math.sqrt(2)))


def binomial_ok(count, n, p, sigmas=6):
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p)) + 1


# -- reproducibility and counters -------------------------------------------------------------

METHODS = {
    "normal": lambda g: g.normal((5, 3)),
    "uniform": lambda g: g.uniform((5, 3), -1.0, 2.0, dtype=ef.float64),
    "uniform_int": lambda g: g.uniform((7,), 0, 100, dtype=ef.int32),
    "truncated_normal": lambda g: g.truncated_normal((6,), 1.0, 0.5),
    "categorical": lambda g: g.categorical(ef.zeros((2, 5)), 4),
    "bernoulli": lambda g: g.bernoulli(0.5, (12,)),
    "permutation": lambda g: g.permutation(10),
    "shuffle": lambda g: g.shuffle(ef.arange(10)),
}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_same_seed_same_values_next_draw_other_values(method):
    draw = METHODS[method]
    g1, g2 = ef.random.Generator(seed=123), ef.random.Generator.from_seed(123)
    first = [draw(g1).numpy() for _ in range(3)]
    again = [draw(g2).numpy() for _ in range(3)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(first[0], f) for f in first[1:]), "every draw was the same"
    other = draw(ef.random.Generator(seed=124)).numpy()
    assert not np.array_equal(other, first[0]) or method == "categorical"


def test_each_kernel_call_takes_one_fresh_counter():
    g = ef.random.Generator(seed=5)
    key, c0 = g.state
    assert c0 == 0
    g.normal((3,))
    assert g.state == (key, 1)
    g.uniform((3,), 0, 10, dtype=ef.int64)            # one kernel call
    g.uniform((3,), 0, 2 ** 64, dtype=ef.uint64)      # two: 64 bits from two halves
    assert g.state == (key, 4)
    g.skip(10)
    assert g.state == (key, 14)


def test_consecutive_draws_never_share_values():
    g = ef.random.Generator(seed=0)
    a = host(g.uniform((50_000,), dtype=ef.float64))
    b = host(g.uniform((50_000,), dtype=ef.float64))
    # 53-bit values: two independent streams share a value with probability ~ 3e-7.
    assert np.intersect1d(a, b).size == 0
    # and a longer draw is not a shifted copy of a shorter one at the next counter
    c = host(ef.random.Generator(seed=0).uniform((100_000,), dtype=ef.float64))
    np.testing.assert_array_equal(c[:50_000], a)
    assert np.intersect1d(c[50_000:], b).size == 0


def test_state_round_trip_reset_and_copies():
    g = ef.random.Generator(seed=9)
    g.normal((2,))
    state = g.state
    nxt = g.normal((4,)).numpy()
    np.testing.assert_array_equal(ef.random.Generator.from_state(state).normal((4,)).numpy(), nxt)
    g.reset(state)
    np.testing.assert_array_equal(g.normal((4,)).numpy(), nxt)
    g.reset_from_seed(9)
    g.normal((2,))
    np.testing.assert_array_equal(g.normal((4,)).numpy(), nxt)
    for make in (copy.copy, copy.deepcopy, lambda g: pickle.loads(pickle.dumps(g))):
        clone = make(g)
        assert clone.state == g.state and clone is not g
        np.testing.assert_array_equal(clone.normal((3,)).numpy(), g.normal((3,)).numpy())


def test_split_gives_independent_reproducible_generators():
    parent = ef.random.Generator(seed=1)
    kids = parent.split(3)
    assert len(kids) == 3 and parent.state[1] == 1  # the split took one counter
    draws = [host(k.uniform((1000,), dtype=ef.float64)) for k in kids]
    draws.append(host(parent.uniform((1000,), dtype=ef.float64)))
    for i in range(len(draws)):
        for j in range(i):
            assert np.intersect1d(draws[i], draws[j]).size == 0
            # independent streams: correlation within 6 / sqrt(n)
            assert abs(np.corrcoef(draws[i], draws[j])[0, 1]) < 6 / math.sqrt(1000)
    again = ef.random.Generator(seed=1).split(3)
    for k, a in zip(kids, again):
        assert k.key == a.key


def test_seeds_entropy_and_bad_seeds():
    assert ef.random.Generator(-3).state != ef.random.Generator(3).state
    assert ef.random.Generator(2 ** 100).state != ef.random.Generator(2 ** 100 + 1).state
    assert ef.random.Generator(np.int64(4)).state == ef.random.Generator(4).state
    a, b = ef.random.Generator(), ef.random.Generator.from_non_deterministic_state()
    assert a.state != b.state
    with pytest.raises(ef.ArgumentTypeError, match="seed must be an int"):
        ef.random.Generator(1.5)
    with pytest.raises(ef.ArgumentTypeError, match="seed must be an int"):
        ef.random.Generator(True)
    with pytest.raises(ef.InvalidArgumentError, match=r"\[0, 2\*\*64\)"):
        ef.random.Generator.from_state((-1, 0))
    with pytest.raises(ef.InvalidArgumentError, match="count"):
        ef.random.Generator(0).split(-1)


def test_one_generator_from_many_threads_hands_out_each_counter_once():
    n_threads, per_thread = 8, 150
    shared = ef.random.Generator(seed=77)
    got, barrier = [], threading.Barrier(n_threads)

    def work():
        barrier.wait()
        mine = [tuple(host(shared.uniform((4,), dtype=ef.float64))) for _ in range(per_thread)]
        got.extend(mine)
    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    serial = ef.random.Generator(seed=77)
    want = [tuple(host(serial.uniform((4,), dtype=ef.float64)))
            for _ in range(n_threads * per_thread)]
    # The same multiset of draws as one thread makes: every counter used exactly once.
    assert sorted(got) == sorted(want)
    assert shared.state == serial.state


# -- the global generator and set_seed ----------------------------------------------------------

def test_set_seed_makes_the_global_sequence_reproducible():
    ef.random.set_seed(42)
    first = [ef.random.normal((3,)).numpy(), ef.random.uniform((2,)).numpy(),
             ef.random.permutation(6).numpy()]
    ef.random.set_seed(42)
    again = [ef.random.normal((3,)).numpy(), ef.random.uniform((2,)).numpy(),
             ef.random.permutation(6).numpy()]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert ef.random.get_global_generator().state == ef.random.Generator(42).state[:1] + (3,)
    ef.random.set_seed(43)
    assert not np.array_equal(ef.random.normal((3,)).numpy(), first[0])


def test_op_seeds_follow_tensorflow():
    ef.random.set_seed(1)
    a1, a2 = ef.random.uniform((3,), seed=7).numpy(), ef.random.uniform((3,), seed=7).numpy()
    assert not np.array_equal(a1, a2)                      # a sequence, not one value
    ef.random.set_seed(1)
    np.testing.assert_array_equal(ef.random.uniform((3,), seed=7).numpy(), a1)
    np.testing.assert_array_equal(ef.random.uniform((3,), seed=7).numpy(), a2)
    ef.random.set_seed(2)                                  # the global seed takes part
    assert not np.array_equal(ef.random.uniform((3,), seed=7).numpy(), a1)
    ef.random.set_seed(None)                               # no global seed: still reproducible
    b = ef.random.uniform((3,), seed=7).numpy()
    ef.random.set_seed(None)
    np.testing.assert_array_equal(ef.random.uniform((3,), seed=7).numpy(), b)


def test_set_global_generator():
    mine = ef.random.Generator(seed=3)
    ef.random.set_global_generator(mine)
    assert ef.random.get_global_generator() is mine
    np.testing.assert_array_equal(ef.random.normal((2,)).numpy(),
                                  ef.random.Generator(seed=3).normal((2,)).numpy())
    with pytest.raises(ef.ArgumentTypeError):
        ef.random.set_global_generator(3)
    ef.random.set_seed(None)


# -- distributions ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
def test_uniform_is_uniform_on_0_1(dtype):
    n = 20_000
    x = ef.random.Generator(seed=11).uniform((n,), dtype=dtype)
    assert x.dtype is dtype and x.shape == (n,)
    v = host(x)
    assert v.min() >= 0 and v.max() < 1
    assert ks_distance(v, lambda t: np.clip(t, 0, 1)) <= ks_bound(n) + GRID[dtype.name]
    assert abs(v.mean() - 0.5) <= 6 * math.sqrt(1 / 12 / n)


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
def test_uniform_range_stays_half_open(dtype):
    g = ef.random.Generator(seed=12)
    x = host(g.uniform((50_000,), -2.0, 3.0, dtype=dtype))
    assert x.min() >= -2 and x.max() < 3
    assert abs(x.mean() - 0.5) <= 6 * 5 / math.sqrt(12 * x.size)
    # tensor bounds broadcast to the shape
    lo = ef.asarray([0.0, 10.0], dtype=dtype)
    y = host(g.uniform((1000, 2), lo, lo + 1))
    assert (y[:, 0] < 1).all() and (y[:, 1] >= 10).all() and (y[:, 1] < 11).all()


@pytest.mark.parametrize("dtype, lo, hi", [(ef.int32, -3, 4), (ef.uint8, 0, 256),
                                           (ef.int8, -128, -120),
                                           (ef.int64, 10 ** 12, 10 ** 12 + 5)])
def test_integer_uniform_every_value_equally_often(dtype, lo, hi):
    n = 40_000
    x = ef.random.Generator(seed=13).uniform((n,), lo, hi, dtype=dtype)
    assert x.dtype is dtype
    v = x.numpy().astype(np.int64)
    assert v.min() >= lo and v.max() < hi
    counts = np.bincount(v - lo, minlength=hi - lo)
    assert counts.size == hi - lo
    p = 1 / (hi - lo)
    assert all(binomial_ok(c, n, p) for c in counts), counts


@pytest.mark.parametrize("dtype, lo, hi", [(ef.int64, -2 ** 63, 2 ** 63), (ef.uint64, 0, 2 ** 64),
                                           (ef.int64, -5, 2 ** 40)])
def test_integer_uniform_wide_ranges(dtype, lo, hi):
    n = 20_000
    v = ef.random.Generator(seed=14).uniform((n,), lo, hi, dtype=dtype).numpy()
    as_int = [int(a) for a in v]
    assert min(as_int) >= lo and max(as_int) < hi
    span = hi - lo
    centred = np.array([(a - lo) / span for a in as_int])   # uniform on [0, 1)
    assert ks_distance(centred, lambda t: np.clip(t, 0, 1)) <= ks_bound(n)
    low_bits = np.array([(a - lo) & 0xFF for a in as_int])  # the low bits are random too
    assert all(binomial_ok(c, n, 1 / 256) for c in np.bincount(low_bits, minlength=256))


def test_integer_uniform_errors():
    g = ef.random.Generator(seed=0)
    with pytest.raises(ef.InvalidArgumentError, match="needs maxval"):
        g.uniform((2,), dtype=ef.int32)
    with pytest.raises(ef.InvalidArgumentError, match="minval < maxval"):
        g.uniform((2,), 5, 5, dtype=ef.int32)
    with pytest.raises(ef.InvalidArgumentError, match="int8"):
        g.uniform((2,), 0, 1000, dtype=ef.int8)
    with pytest.raises(ef.ArgumentTypeError, match="Python int bounds"):
        g.uniform((2,), 0.5, 3, dtype=ef.int32)
    with pytest.raises(ef.InvalidArgumentError, match="greater than maxval"):
        g.uniform((2,), 3.0, 1.0)


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
def test_normal_is_standard_normal(dtype):
    n = 20_000
    z = ef.random.Generator(seed=15).normal((n,), dtype=dtype)
    assert z.dtype is dtype
    v = host(z)
    step = 2 ** -7 if dtype.name == "bfloat16" else 2 ** -10 if dtype.name == "float16" else 0
    assert ks_distance(v, phi) <= ks_bound(n) + step
    assert abs(v.mean()) <= 6 / math.sqrt(n)
    assert abs(v.var() - 1) <= 6 * math.sqrt(2 / n) + step


def test_normal_mean_and_stddev_scalars_and_tensors():
    g = ef.random.Generator(seed=16)
    n = 40_000
    v = host(g.normal((n,), mean=3.0, stddev=0.5, dtype=ef.float64))
    assert abs(v.mean() - 3) <= 6 * 0.5 / math.sqrt(n)
    assert abs(v.std() - 0.5) <= 6 * 0.5 * math.sqrt(1 / (2 * n))
    mean = ef.asarray([-10.0, 10.0])
    w = host(g.normal((n, 2), mean=mean, stddev=ef.asarray([1.0, 2.0])))
    assert abs(w[:, 0].mean() + 10) < 0.1 and abs(w[:, 1].mean() - 10) < 0.1
    assert abs(w[:, 1].std() - 2) < 0.1
    with pytest.raises(ef.ShapeError, match=r"mean of shape \(3,\) does not broadcast"):
        g.normal((4, 2), mean=ef.zeros(3))


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
def test_truncated_normal_is_exact_within_two_stddev(dtype):
    n = 20_000
    v = host(ef.random.Generator(seed=17).truncated_normal((n,), dtype=dtype))
    assert np.abs(v).max() <= 2.0
    z = phi(2.0) - phi(-2.0)
    step = 2 ** -7 if dtype.name == "bfloat16" else 2 ** -10 if dtype.name == "float16" else 0
    assert ks_distance(v, lambda t: (phi(t) - phi(-2.0)) / z) <= ks_bound(n) + step
    # variance of the standard normal truncated to [-2, 2]
    var = 1 - 2 * 2 * math.exp(-2) / math.sqrt(2 * math.pi) / z
    assert abs(v.var() - var) <= 6 * math.sqrt(2 / n) + step


def test_truncated_normal_tails_and_scaling():
    v = host(ef.random.Generator(seed=18).truncated_normal((200_000,), mean=5.0, stddev=2.0,
                                                          dtype=ef.float64))
    assert v.min() >= 1.0 and v.max() <= 9.0
    # both tails are reached (the approximation's tail branch runs), in the right proportion
    z = phi(2.0) - phi(-2.0)
    tail = (phi(2.0) - phi(1.9)) / z
    for mask in (v > 5 + 2 * 1.9, v < 5 - 2 * 1.9):
        assert binomial_ok(mask.sum(), v.size, tail)


def test_truncated_normal_quantile_is_accurate():
    from statistics import NormalDist
    from eagerflow_core.random._distributions import _ndtri
    p = np.linspace(0.0228, 0.9772, 2001)
    got = _ndtri(ef.asarray(p)).numpy()
    want = np.array([NormalDist().inv_cdf(q) for q in p])
    np.testing.assert_allclose(got, want, rtol=2e-9, atol=2e-9)


def test_categorical_frequencies_follow_softmax():
    logits = ef.asarray([[0.0, 1.0, 2.0, -ef.inf], [3.0, 3.0, 3.0, 3.0]])
    n = 20_000
    s = ef.random.Generator(seed=19).categorical(logits, n, dtype=ef.int32)
    assert s.shape == (2, n) and s.dtype is ef.int32
    v = s.numpy()
    p0 = np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()
    counts0 = np.bincount(v[0], minlength=4)
    assert counts0[3] == 0                                   # -inf: never
    assert all(binomial_ok(c, n, p) for c, p in zip(counts0[:3], p0))
    assert all(binomial_ok(c, n, 0.25) for c in np.bincount(v[1], minlength=4))


def test_categorical_errors():
    g = ef.random.Generator(seed=0)
    with pytest.raises(ef.ShapeError, match="2-D"):
        g.categorical(ef.zeros(3), 2)
    with pytest.raises(ef.ShapeError, match="no classes"):
        g.categorical(ef.zeros((2, 0)), 2)
    with pytest.raises(ef.DTypeError, match="integer"):
        g.categorical(ef.zeros((2, 2)), 2, dtype=ef.float32)
    with pytest.raises(ef.InvalidArgumentError, match="num_samples"):
        g.categorical(ef.zeros((2, 2)), -1)


def test_bernoulli_frequencies_and_tensor_p():
    g = ef.random.Generator(seed=20)
    n = 40_000
    b = g.bernoulli(0.3, (n,))
    assert b.dtype is ef.bool
    assert binomial_ok(int(ef.sum(ef.astype(b, ef.int64))), n, 0.3)
    p = ef.asarray([0.0, 1.0, 0.5])
    m = g.bernoulli(p, (n, 3), dtype=ef.float32).numpy()
    assert m.dtype == np.float32 and (m[:, 0] == 0).all() and (m[:, 1] == 1).all()
    assert binomial_ok(m[:, 2].sum(), n, 0.5)
    assert g.bernoulli(p).shape == (3,)
    with pytest.raises(ef.InvalidArgumentError, match="probability"):
        g.bernoulli(1.5, (2,))


def test_permutation_is_uniform_over_orders():
    g = ef.random.Generator(seed=21)
    n = 6000
    orders = [tuple(g.permutation(3).tolist()) for _ in range(n)]
    counts = {o: orders.count(o) for o in set(orders)}
    assert sorted(counts) == [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]
    assert all(binomial_ok(c, n, 1 / 6) for c in counts.values()), counts


def test_permutation_and_shuffle_of_tensors():
    g = ef.random.Generator(seed=22)
    x = ef.reshape(ef.arange(12), (4, 3))
    s = g.shuffle(x)
    assert sorted(map(tuple, s.tolist())) == sorted(map(tuple, x.tolist()))  # whole rows move
    p = g.permutation(x, axis=1)
    assert sorted(p.tolist()[0]) == [0, 1, 2] and p.shape == (4, 3)
    assert all(sorted(row) == sorted(orig) for row, orig in zip(p.tolist(), x.tolist()))
    assert int(g.shuffle(ef.asarray(5))) == 5
    assert g.permutation(0).shape == (0,)
    with pytest.raises(ef.InvalidArgumentError, match="non-negative"):
        g.permutation(-2)
    with pytest.raises(ef.ArgumentTypeError):
        g.permutation("abc")


def test_shuffle_is_differentiable_through_the_gather():
    x = ef.asarray([1.0, 2.0, 3.0])
    weights = ef.asarray([1.0, 10.0, 100.0])
    g = ef.grad(lambda x: ef.sum(ef.random.Generator(seed=1).shuffle(x) * weights))(x)
    assert sorted(g.tolist()) == [1.0, 10.0, 100.0]


# -- tapes, dtypes, devices ---------------------------------------------------------------------

def test_draws_are_constants_to_tapes_and_parameters_get_gradients():
    mean, std = ef.asarray(1.0), ef.asarray(2.0)
    g = ef.random.Generator(seed=23)
    with ef.GradientTape(persistent=True) as tape:
        tape.watch(mean)
        tape.watch(std)
        z = g.normal((5,), mean=mean, stddev=std)
        total = ef.sum(z)
    dm, ds = tape.gradient(total, [mean, std])
    assert float(dm) == 5.0
    zz = ef.random.Generator(seed=23).normal((5,))
    np.testing.assert_allclose(float(ds), float(ef.sum(zz)), rtol=1e-6)


def test_bad_dtypes_and_shapes_are_clear():
    g = ef.random.Generator(seed=0)
    with pytest.raises(ef.DTypeError, match=r"normal: dtype must be float16.*not int32"):
        g.normal((2,), dtype=ef.int32)
    with pytest.raises(ef.DTypeError, match="truncated_normal"):
        g.truncated_normal((2,), dtype=ef.complex64)
    with pytest.raises(ef.ShapeError, match="negative"):
        g.normal((2, -1))
    with pytest.raises(ef.ArgumentTypeError, match="shape must be"):
        g.normal("abc")
    assert g.normal(3).shape == (3,)
    assert g.normal(ef.asarray([2, 3])).shape == (2, 3)
    assert g.normal(()).shape == ()


def test_device_argument_and_default_device():
    g = ef.random.Generator(seed=0)
    assert g.normal((2,), device="cpu").device == "cpu:0"
    with ef.device("cpu"):
        assert g.uniform((2,)).device == "cpu:0"


def test_the_kit_takes_no_namespace_function_as_a_random_kernel():
    table = kernels_from_namespace(np)  # numpy.random.uniform has another signature
    assert not [name for name in table if name.startswith("random.")]


def numpy_table(drop):
    from eagerflow_numpy.kernels import build_table
    return {k: v for k, v in build_table().items() if k not in drop}


class NoRandom(ArrayAPIBackend):
    """The NumPy backend's kernels without the random ones."""
    name, device_type, namespace, array_type, priority = "norandom", "norandom", np, np.ndarray, -10

    def kernels(self):
        return numpy_table({"random.uniform", "random.normal", "random.permutation"})


@pytest.fixture
def norandom():
    ef.reset_fallback_stats()
    register_plugin(types.SimpleNamespace(eagerflow_backend=hookimpl(lambda: NoRandom())),
                    "norandom")
    try:
        yield ef.device("norandom")
    finally:
        ef.set_fallback_policy(None)
        ef.reset_fallback_stats()
        unregister_plugin("norandom")


def test_a_backend_without_random_kernels_draws_on_the_cpu_counted(norandom, monkeypatch):
    monkeypatch.delenv("EAGERFLOW_FALLBACK", raising=False)  # the default policy: error
    assert "random.uniform" not in norandom.kernels
    g = ef.random.Generator(seed=31)
    x = g.normal((4,), device=norandom)
    assert x.device == "norandom:0"
    np.testing.assert_array_equal(x.numpy(), ef.random.Generator(seed=31).normal((4,)).numpy())
    u = g.uniform((3,), 0, 5, dtype=ef.int64, device=norandom)
    assert u.device == "norandom:0"
    assert ef.fallback_stats() == {("random.normal", "norandom", "numpy"): 1,
                                   ("random.uniform", "norandom", "numpy"): 1}
    # permutation: the optional kernel is missing too, so it is drawn on the CPU as well
    p = g.permutation(ef.asarray([1, 2, 3], device=norandom))
    assert p.device == "norandom:0" and sorted(p.tolist()) == [1, 2, 3]
    assert ef.fallback_stats()[("random.permutation", "norandom", "numpy")] == 1
    # composites keep working there: dropout
    y = ef.nn.dropout(ef.ones(8, device=norandom), 0.5, seed=1)
    assert y.device == "norandom:0"


def test_random_fallback_warns_once_under_warn(norandom):
    ef.set_fallback_policy("warn")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ef.random.normal((2,), device=norandom)
        ef.random.normal((2,), device=norandom)
    assert len([w for w in caught if issubclass(w.category, ef.FallbackWarning)]) == 1


class PermutationLess(ArrayAPIBackend):
    """NumPy with random.uniform/normal but no random.permutation: the argsort path."""
    name, device_type, namespace, array_type, priority = "permless", "permless", np, np.ndarray, -10

    def kernels(self):
        return numpy_table({"random.permutation"})


def test_permutation_without_its_kernel_sorts_uniform_keys_on_the_device():
    register_plugin(types.SimpleNamespace(eagerflow_backend=hookimpl(lambda: PermutationLess())),
                    "permless")
    try:
        ef.reset_fallback_stats()
        dev = ef.device("permless")
        g = ef.random.Generator(seed=40)
        counts = {}
        for _ in range(3000):
            order = tuple(g.permutation(3, device=dev).tolist())
            counts[order] = counts.get(order, 0) + 1
        assert len(counts) == 6 and all(binomial_ok(c, 3000, 1 / 6) for c in counts.values())
        assert ef.fallback_stats() == {}
    finally:
        unregister_plugin("permless")


def test_conformance_kit_catches_a_broken_random_kernel():
    """A kernel that is not stateless (fresh entropy each call) or leaves [0, 1) fails."""
    from eagerflow_core.testing import conformance

    def stateful(key, counter, shape, dtype, /):
        return np.random.default_rng().random(shape).astype(dtype)

    def closed(key, counter, shape, dtype, /):
        return np.ones(shape, dtype)

    for bad, why in ((stateful, "second time"), (closed, r"outside \[0, 1\)")):
        class Broken(ArrayAPIBackend):
            name, device_type, namespace, array_type, priority = ("broken", "broken", np,
                                                                  np.ndarray, -10)

            def kernels(self, bad=bad):
                return {**numpy_table(()), "random.uniform": bad}
        register_plugin(types.SimpleNamespace(eagerflow_backend=hookimpl(lambda: Broken())),
                        "broken")
        try:
            report = conformance.run("broken", ops=["random.uniform"], dtypes=["float32"],
                                     checks=("values",), max_examples=10, progress=False)
        finally:
            unregister_plugin("broken")
        failed = [r for r in report.results if r.status == "fail"]
        assert failed and failed[0].check == "values", report.summary()
        assert __import__("re").search(why, failed[0].message), failed[0].message


def test_numpy_kernels_are_philox_substreams_and_keep_no_state():
    """The NumPy backend's kernel at (key, counter) is NumPy's Philox at key ``key`` and
    counter ``counter * 2**64`` (the documented substream), whatever ran before on the thread."""
    from eagerflow_numpy import _random as R
    for key, counter in [(0, 0), (2 ** 64 - 1, 2 ** 64 - 1), (12345, 7)]:
        R.uniform(1, 2, (3,), np.float32)       # leaves the thread's generator mid-stream
        fresh = np.random.Generator(np.random.Philox(key=key, counter=counter << 64))
        np.testing.assert_array_equal(R.normal(key, counter, (7,), np.float32),
                                      fresh.standard_normal(7, dtype=np.float32))
        fresh = np.random.Generator(np.random.Philox(key=key, counter=counter << 64))
        np.testing.assert_array_equal(R.uniform(key, counter, (5,), np.float64), fresh.random(5))
        fresh = np.random.Generator(np.random.Philox(key=key, counter=counter << 64))
        np.testing.assert_array_equal(R.permutation(key, counter, 9), fresh.permutation(9))
