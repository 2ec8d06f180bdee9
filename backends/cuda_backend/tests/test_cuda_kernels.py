"""The fused CUDA C kernels, run on the CPU emulator (tests/cuda_emulator.py) through the very
launchers the backend uses on a GPU (eagerflow_cuda/fused.py, _random.py, _fused.py), against
the NumPy references of the same math (eagerflow_cuda/reference.py, _philox.py). Every kernel
variant (warp-per-row with 8 or 32 slots, block-per-row, 16-byte or scalar accesses; float32,
float16, bfloat16) is checked, and the argument packing against each kernel's parameter list."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from eagerflow_cuda import _fused, _launch as L, _philox, _random, fused, reference as R

import cuda_emulator  # tests/cuda_emulator.py

pytestmark = [pytest.mark.cpu_only,
              pytest.mark.skipif(cuda_emulator.find_cxx() is None,
                                 reason="no C++ compiler (g++ or clang++) to build the emulator")]

BF16 = np.dtype(ml_dtypes.bfloat16)
DTYPES = [np.dtype(np.float32), np.dtype(np.float16), BF16]
TOL = {"float32": 2e-5, "float16": 2e-3, "bfloat16": 1.6e-2}  # about 2 ulps of each
RNG = np.random.default_rng(2024)


@pytest.fixture(scope="module")
def rt():
    return cuda_emulator.EmuRuntime(sm_count=2)


@pytest.fixture(scope="module")
def F(rt):
    return fused.Fused(rt)


def close(got, want, dtype=None):
    dtype = np.dtype(dtype or want.dtype)
    tol = TOL.get(dtype.name, 1e-12)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol,
                               atol=tol, equal_nan=True)


def data(shape, dtype, scale=3.0, aligned=True):
    """Random values; ``aligned=False`` gives a C-contiguous array that starts one element past
    a 16-byte boundary (the launchers must then pick the scalar kernels)."""
    n = int(np.prod(shape))
    flat = (RNG.standard_normal(n + 1) * scale).astype(dtype)
    out = (flat[:n] if aligned else flat[1:]).reshape(shape)
    assert L.aligned(out.ctypes.data) == aligned or n == 0
    return out


def counts(rt) -> dict[str, int]:
    """How many launches each kernel of the emulator has had so far."""
    return {name: len(fn.calls) for mod in rt.modules.values()
            for name, fn in mod._functions.items()}


def ran(rt, before: dict[str, int]) -> list[str]:
    """The kernels launched since ``before = counts(rt)``."""
    return sorted(n for n, c in counts(rt).items() if c > before.get(n, 0))


# shape -> the row kernel variant a 4-byte (16-byte aligned) array takes
ROW_SHAPES = [((5, 7), "warp8"), ((9, 64), "warp8v"), ((3, 300), "warp32v"),
              ((2, 1000), "warp32v"), ((2, 1100), "blockv"), ((3, 1025), "block"),
              ((20, 8), "warp8v")]


def _variant(shape, dtype, aligned):
    name, _ = L.row_kernel("x", shape[0], shape[-1], dtype.itemsize, aligned, "t")
    return name[2:-2]


@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [s for s, _ in ROW_SHAPES], ids=str)
def test_softmax_and_log_softmax_forward_and_backward(rt, F, shape, dtype, aligned):
    x = data(shape, dtype, aligned=aligned)
    g = data(shape, dtype, 1.0, aligned=aligned)
    variant = _variant(shape, dtype, aligned)
    for name in ("softmax", "log_softmax"):
        before = counts(rt)
        y = getattr(F, name)(x)
        close(y, getattr(R, name)(x))
        assert ran(rt, before) == [f"ef_softmax_fwd_{variant}_{L.tag(dtype)}"]
        # y is a fresh (aligned) array, g may not be: the launcher checks every row pointer
        before = counts(rt)
        close(getattr(F, f"{name}_grad")(g, y), getattr(R, f"{name}_grad")(g, y))
        assert ran(rt, before) == [f"ef_softmax_bwd_{variant}_{L.tag(dtype)}"]


def test_each_row_variant_is_exercised(rt, F):
    for shape, want in ROW_SHAPES:
        before = counts(rt)
        F.softmax(data(shape, np.float32))
        assert ran(rt, before) == [f"ef_softmax_fwd_{want}_f32"]
    before = counts(rt)
    F.softmax(data((3, 600), np.float32, aligned=False))
    assert ran(rt, before) == ["ef_softmax_fwd_warp32_f32"]


def test_softmax_over_another_axis_and_of_ints(F):
    x = data((4, 5, 6), np.float32)
    close(F.softmax(x, axis=1), np.moveaxis(R.softmax(np.moveaxis(x, 1, -1)), -1, 1))
    close(F.log_softmax(x, axis=0), np.moveaxis(R.log_softmax(np.moveaxis(x, 0, -1)), -1, 0))
    ints = np.arange(12, dtype=np.int32).reshape(3, 4)
    close(F.softmax(ints), R.softmax(ints.astype(np.float32)))  # lifted to float32


def test_softmax_rows_of_infinities_follow_the_composite(F):
    x = np.array([[1000.0, 1000.0, -np.inf], [-np.inf] * 3, [np.inf, 0.0, 1.0],
                  [np.nan, 0.0, 1.0]], np.float32)
    close(F.softmax(x), R.softmax(x))
    close(F.log_softmax(x), R.log_softmax(x))
    y = F.softmax(x)
    np.testing.assert_array_equal(y[0], [0.5, 0.5, 0.0])
    assert np.isnan(y[1]).all() and np.isnan(y[3]).all()


def test_float64_and_empty_arrays_take_the_reference(rt, F):
    before = counts(rt)
    x = data((3, 5), np.float64)
    close(F.softmax(x), R.softmax(x))
    assert F.log_softmax(np.zeros((0, 4), np.float32)).shape == (0, 4)
    assert F.softmax(np.zeros((3, 0), np.float32)).shape == (3, 0)
    assert ran(rt, before) == []


@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(6, 10), (9, 64), (4, 700), (2, 1200), (70, 8)], ids=str)
def test_sparse_cross_entropy_forward_and_backward(F, shape, dtype, aligned):
    x = data(shape, dtype, aligned=aligned)
    labels = RNG.integers(0, shape[-1], shape[0])
    labels[0] = shape[-1]  # out of range: NaN loss
    loss, lse = F.sparse_softmax_cross_entropy_fwd(labels, x)
    want_loss, want_lse = R.sparse_softmax_cross_entropy(labels, x)
    close(loss, want_loss)
    close(lse, want_lse.astype(np.float32), np.float32)
    assert np.isnan(loss[0]) and lse.dtype == np.float32
    g = data(shape[:-1], dtype, 1.0)
    close(F.sparse_softmax_cross_entropy_grad(g, labels, x, lse),
          R.sparse_softmax_cross_entropy_grad(g, labels, x, want_lse))
    close(F.sparse_softmax_cross_entropy_grad(g, labels, x),  # lse recomputed
          R.sparse_softmax_cross_entropy_grad(g, labels, x, want_lse))
    close(F.sparse_softmax_cross_entropy_with_logits(labels.astype(np.int32), x), want_loss)


def test_sparse_cross_entropy_keeps_leading_dims(F):
    x = data((2, 3, 5), np.float32)
    labels = RNG.integers(0, 5, (2, 3))
    loss, lse = F.sparse_softmax_cross_entropy_fwd(labels, x)
    assert loss.shape == lse.shape == (2, 3)
    assert F.sparse_softmax_cross_entropy_grad(np.ones((2, 3), np.float32), labels, x).shape == \
        (2, 3, 5)


@pytest.mark.parametrize("params", [True, False])
@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(6, 10), (9, 64), (4, 520), (2, 1200), (130, 16)], ids=str)
def test_layer_norm_forward_and_backward(F, shape, dtype, aligned, params):
    x = data(shape, dtype, aligned=aligned) + np.asarray(2.0, dtype)  # a non-zero mean
    gamma = data(shape[-1:], dtype, 1.0) if params else None
    beta = data(shape[-1:], dtype, 1.0) if params else None
    y, mean, rstd = F.layer_norm_fwd(x, gamma, beta, epsilon=1e-5)
    want_y, want_mean, want_rstd = R.layer_norm(x, gamma, beta, 1e-5)
    close(y, want_y)
    close(mean, want_mean.astype(np.float32), np.float32)
    close(rstd, want_rstd.astype(np.float32), np.float32)
    g = data(shape, dtype, 1.0, aligned=aligned)
    dx, dgamma, dbeta = F.layer_norm_grad(g, x, mean, rstd, gamma)
    want_dx, want_dgamma, want_dbeta = R.layer_norm_grad(g, x, want_mean, want_rstd, gamma)
    close(dx, want_dx)
    close(dbeta, want_dbeta)
    if params:
        close(dgamma, want_dgamma)
    else:
        assert dgamma is None


def test_layer_norm_over_trailing_axes(F):
    x = data((3, 4, 5), np.float32)
    gamma = data((4, 5), np.float32, 1.0)
    y, mean, rstd = F.layer_norm_fwd(x, gamma, None, axis=(1, 2), epsilon=1e-3)
    want_y, want_mean, _ = R.layer_norm(x.reshape(3, 20), gamma.reshape(20), None, 1e-3)
    close(y, want_y.reshape(3, 4, 5))
    assert mean.shape == (3,)
    dx, dgamma, dbeta = F.layer_norm_grad(np.ones_like(x), x, mean, rstd, gamma, axis=(1, 2))
    assert dx.shape == x.shape and dgamma.shape == (4, 5) and dbeta.shape == (4, 5)


ACTS = ["relu", "gelu_tanh", "gelu_erf", "silu", "none"]


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(7, 16), (5, 13), (100, 24), (3,)], ids=str)
def test_bias_activation_forward_and_backward(F, shape, dtype, aligned, act):
    x = data(shape, dtype, aligned=aligned)
    b = data(shape[-1:], dtype, 1.0)
    g = data(shape, dtype, 1.0)
    close(F.bias_act(x, b, act), R.bias_act(x, b, act))
    close(F.bias_act(x, None, act), R.bias_act(x, None, act))
    dz, db = F.bias_act_grad(g, x, b, act)
    want_dz, want_db = R.bias_act_grad(g, x, b, act)
    close(dz, want_dz)
    # dbias sums rounded values in float32: allow the float32 error of a sum of rows
    np.testing.assert_allclose(db.astype(np.float64), want_db.astype(np.float64),
                               rtol=TOL[dtype.name], atol=TOL[dtype.name] * np.sqrt(x.size))
    dz2, none = F.bias_act_grad(g, x, None, act)
    close(dz2, R.bias_act_grad(g, x, None, act)[0])
    assert none is None


def test_gelu_and_silu_entry_points(F):
    x = data((4, 33), np.float32)
    g = data((4, 33), np.float32, 1.0)
    close(F.gelu(x), R.act(x, "gelu_tanh"))
    close(F.gelu(x, approximate=False), R.act(x, "gelu_erf"))
    close(F.silu(x), R.act(x, "silu"))
    close(F.gelu_grad(g, x), (g * R.act_grad(x, "gelu_tanh")).astype(np.float32))
    close(F.silu_grad(g, x), (g * R.act_grad(x, "silu")).astype(np.float32))
    with pytest.raises(ValueError, match="unknown activation 'tanhh'"):
        F.bias_act(x, None, "tanhh")


ADAM_PAIRS = [(np.float32, np.float32), (np.float16, np.float16), (np.float16, np.float32),
              (BF16, BF16), (BF16, np.float32)]


@pytest.mark.parametrize("pdt, sdt", ADAM_PAIRS, ids=str)
@pytest.mark.parametrize("n", [1, 7, 4096 * 2 + 5])
def test_adam_single_and_multi_tensor_in_place(F, pdt, sdt, n):
    p, g = data((n,), pdt, 1.0), data((n,), pdt, 1.0)
    m, v = data((n,), sdt, 0.1), np.abs(data((n,), sdt, 0.1))
    hyper = dict(lr=1e-2, beta_1=0.9, beta_2=0.999, epsilon=1e-7, step=3, weight_decay=0.01)
    want = R.adam(p, g, m, v, *R.adam_hyper(**hyper))
    p1, m1, v1 = p.copy(), m.copy(), v.copy()
    assert F.adam_update(p1, g, m1, v1, **hyper) is None
    for got, w in zip((p1, m1, v1), want):
        close(got, w)
    # many tensors in one launch, with an empty one and a misaligned view among them
    q = data((n + 1,), pdt, 1.0)[1:]
    quads = [(p.copy(), g, m.copy(), v.copy()), (p[:0].copy(), g[:0], m[:0].copy(), v[:0].copy()),
             (q.copy(), g, m.copy(), v.copy())]
    F.adam_update_multi(*zip(*quads), **hyper)
    close(quads[0][0], want[0])
    close(quads[0][2], want[1])
    close(quads[0][3], want[2])
    close(quads[2][0], R.adam(q, g, m, v, *R.adam_hyper(**hyper))[0])


def test_adam_falls_back_for_other_dtypes_and_views(rt, F):
    p = np.ones(6, np.float64)
    g = np.full(6, 0.5)
    m, v = np.zeros(6), np.zeros(6)
    before = counts(rt)
    F.adam_update(p, g, m, v, lr=0.1, step=1)
    # by hand, step 1: m = 0.05, v = 0.00025, alpha = 0.1 * sqrt(0.001) / 0.1
    np.testing.assert_allclose(p, 1 - 0.05 * np.sqrt(0.001) / (np.sqrt(0.00025) + 1e-7),
                               rtol=1e-15)
    np.testing.assert_allclose(m, 0.05, rtol=1e-15)
    np.testing.assert_allclose(v, 0.00025, rtol=1e-15)
    assert ran(rt, before) == []  # float64: the reference, written back in place
    strided = np.ones(12, np.float32)[::2]
    F.adam_update(strided, np.full(6, 0.5, np.float32), np.zeros(6, np.float32),
                  np.zeros(6, np.float32), lr=0.1, step=1)
    np.testing.assert_allclose(strided, 0.9, atol=1e-6)
    with pytest.raises(ValueError, match="step counts from 1"):
        F.adam_update(p, g, m, v, lr=0.1, step=0)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64"])
@pytest.mark.parametrize("shape", [(7,), (1000,), (3, 5), (0,)], ids=str)
@pytest.mark.parametrize("key, counter", [(0, 0), (7, 5), (2**64 - 1, 2**64 - 2)])
def test_random_kernels_draw_the_philox_stream(rt, dtype, shape, key, counter):
    draw = _random.Random(rt)
    u = draw.uniform(key, counter, shape, dtype)
    np.testing.assert_array_equal(u, _philox.uniform(key, counter, shape, dtype))
    assert u.dtype == np.dtype(BF16 if dtype == "bfloat16" else dtype) and u.shape == shape
    assert u.size == 0 or (u.min() >= 0 and u.max() < 1)
    z = draw.normal(key, counter, shape, dtype)
    want = _philox.normal(key, counter, shape, dtype)
    np.testing.assert_allclose(z.astype(np.float64), want.astype(np.float64),
                               rtol=TOL.get(dtype, 1e-12), atol=TOL.get(dtype, 1e-12))


def test_random_kernels_reject_bad_arguments(rt):
    draw = _random.Random(rt)
    with pytest.raises(TypeError, match="int32 is not one of"):
        draw.uniform(0, 0, (3,), np.int32)
    with pytest.raises(ValueError, match="64-bit"):
        draw.normal(-1, 0, (3,))
    with pytest.raises(ValueError, match="2\\*\\*128"):
        draw.normal(0, 2**128, (3,))


@pytest.mark.parametrize("n, offset", [(1, 0), (5, 3), (4099, 1), (70001, 2)])
def test_float32_sums_of_reduce_sum_cu(rt, n, offset):
    sums = _fused.FusedSums(rt)
    assert sums.ready()
    base = RNG.standard_normal(n + offset).astype(np.float32)
    x = base[offset:]
    assert float(sums.sum_all(x)) == pytest.approx(float(np.sum(x.astype(np.float64))), abs=1e-5)
    rows = RNG.standard_normal((37, 29)).astype(np.float32)
    np.testing.assert_allclose(sums.sum_rows(rows), rows.astype(np.float64).sum(axis=1),
                               rtol=1e-6, atol=1e-6)


# -- the emulator itself: packing as CuPy does, the 16-bit conversions bit for bit ---------------

def test_arguments_are_checked_against_the_kernel_parameters(rt):
    fn = rt.function("softmax.cu", "ef_softmax_fwd_warp8_f32")
    assert fn.signature == [(1, 8), (1, 8), (3, 8), (3, 8), (3, 4)]
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(TypeError, match="got a Python int"):
        fn((1,), (256,), (x, x, 2, np.int64(3), np.int32(0)))
    with pytest.raises(TypeError, match="8-byte signed integer, got numpy.int32"):
        fn((1,), (256,), (x, x, np.int32(2), np.int64(3), np.int32(0)))
    with pytest.raises(TypeError, match="takes 5 arguments, got 4"):
        fn((1,), (256,), (x, x, np.int64(2), np.int64(3)))
    with pytest.raises(TypeError, match="reads a pointer"):
        fn((1,), (256,), (x, 0, np.int64(2), np.int64(3), np.int32(0)))
    with pytest.raises(ValueError, match="bad launch shape"):
        fn((0,), (256,), (x, x, np.int64(2), np.int64(3), np.int32(0)))


def test_half_and_bfloat16_conversions_are_bit_exact():
    from pathlib import Path
    mod = cuda_emulator.EmuModule(Path(__file__).parent / "cuda_emu" / "convert.cu")
    fn = mod.get_function("ef_test_convert")
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 65504, 65519.99, 65520, 1e-8,
                         2**-24, 2**-25, 3 * 2**-26, 2**-14, 1 + 2**-11, 1 + 3 * 2**-11,
                         3.3895314e38, 1 + 2**-8, 1 + 3 * 2**-8], np.float32)
    values = np.concatenate([specials, -specials, RNG.standard_normal(20000).astype(np.float32)
                             * np.float32(10) ** RNG.integers(-9, 6, 20000)]).astype(np.float32)
    halves = np.arange(65536, dtype=np.uint16).view(np.float16)
    n = max(values.size, halves.size)
    values = np.resize(values, n)
    h, b = np.empty(n, np.float16), np.empty(n, BF16)
    hout = np.empty(n, np.float32)
    fn((16,), (256,), (values, h, b, np.resize(halves, n), hout, np.int64(n)))
    with np.errstate(over="ignore"):  # 65520 and above round to inf, as intended
        want_h = values.astype(np.float16)
    np.testing.assert_array_equal(h.view(np.uint16)[~np.isnan(values)],
                                  want_h.view(np.uint16)[~np.isnan(values)])
    assert np.isnan(h[np.isnan(values)]).all()
    np.testing.assert_array_equal(b.view(np.uint16), values.astype(BF16).view(np.uint16))
    np.testing.assert_array_equal(hout.view(np.uint32)[:65536],
                                  halves.astype(np.float32).view(np.uint32))
