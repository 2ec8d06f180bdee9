"""On a GPU: the fused kernels against their NumPy references and against eagerflow's composites,
the Philox kernels against the NumPy stream, conv/pooling against the NumPy run of the same code,
streams, events and DLPack with PyTorch. Skipped, with the reason, where no GPU is usable (and
then a failure under EAGERFLOW_REQUIRE_GPU=1, as in make gpu-check)."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_cuda import CupyBackend, _philox, conv, reference as R
from eagerflow_cuda.fused import FUSED

AVAILABLE, REASON = CupyBackend().is_available()
pytestmark = pytest.mark.skipif(not AVAILABLE, reason=f"no CUDA device: {REASON}")

RNG = np.random.default_rng(99)
BF16 = np.dtype(ml_dtypes.bfloat16)
TOL = {"float32": 2e-5, "float16": 2e-3, "bfloat16": 1.6e-2, "float64": 1e-12}


@pytest.fixture(scope="module")
def cp():
    import cupy
    return cupy


@pytest.fixture(scope="module")
def backend():
    return ef.device("cuda").backend.backend


def host(shape, dtype, scale=3.0):
    return (RNG.standard_normal(shape) * scale).astype(dtype)


def close(got, want):
    got = got.get() if hasattr(got, "get") else got
    tol = TOL[np.dtype(want.dtype).name]
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol, atol=tol,
                               equal_nan=True)


SHAPES = [(5, 7), (64, 64), (33, 300), (8, 1024), (4, 1100), (3, 4099)]
DTYPES = [np.dtype(np.float32), np.dtype(np.float16), BF16]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_softmax_family_on_the_gpu(cp, shape, dtype):
    x, g = host(shape, dtype), host(shape, dtype, 1.0)
    for name in ("softmax", "log_softmax"):
        y = FUSED[f"nn.{name}"](cp.asarray(x))
        close(y, getattr(R, name)(x))
        close(FUSED[f"nn.{name}_grad"](cp.asarray(g), y), getattr(R, f"{name}_grad")(g, y.get()))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_cross_entropy_and_layer_norm_on_the_gpu(cp, shape, dtype):
    x = host(shape, dtype)
    labels = RNG.integers(0, shape[-1], shape[0])
    loss, lse = FUSED["nn.sparse_softmax_cross_entropy_fwd"](cp.asarray(labels), cp.asarray(x))
    want_loss, want_lse = R.sparse_softmax_cross_entropy(labels, x)
    close(loss, want_loss)
    g = host(shape[:1], dtype, 1.0)
    close(FUSED["nn.sparse_softmax_cross_entropy_grad"](cp.asarray(g), cp.asarray(labels),
                                                         cp.asarray(x), lse),
          R.sparse_softmax_cross_entropy_grad(g, labels, x, want_lse))
    gamma, beta = host(shape[-1:], dtype, 1.0), host(shape[-1:], dtype, 1.0)
    y, mean, rstd = FUSED["nn.layer_norm_fwd"](cp.asarray(x), cp.asarray(gamma), cp.asarray(beta))
    want = R.layer_norm(x, gamma, beta, 1e-3)
    close(y, want[0])
    gy = host(shape, dtype, 1.0)
    got = FUSED["nn.layer_norm_grad"](cp.asarray(gy), cp.asarray(x), mean, rstd, cp.asarray(gamma))
    for a, b in zip(got, R.layer_norm_grad(gy, x, want[1], want[2], gamma)):
        np.testing.assert_allclose(a.get().astype(np.float64), b.astype(np.float64),
                                   rtol=TOL[np.dtype(dtype).name] * 10,
                                   atol=TOL[np.dtype(dtype).name] * np.sqrt(shape[0]) * 10)


@pytest.mark.parametrize("act", ["relu", "gelu_tanh", "gelu_erf", "silu", "none"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_bias_activation_on_the_gpu(cp, dtype, act):
    x, b, g = host((257, 96), dtype), host((96,), dtype, 1.0), host((257, 96), dtype, 1.0)
    close(FUSED["nn.bias_act"](cp.asarray(x), cp.asarray(b), act), R.bias_act(x, b, act))
    dz, db = FUSED["nn.bias_act_grad"](cp.asarray(g), cp.asarray(x), cp.asarray(b), act)
    want_dz, want_db = R.bias_act_grad(g, x, b, act)
    close(dz, want_dz)
    np.testing.assert_allclose(db.get().astype(np.float64), want_db.astype(np.float64),
                               rtol=TOL[np.dtype(dtype).name], atol=TOL[np.dtype(dtype).name] * 20)


@pytest.mark.parametrize("pdt, sdt", [(np.float32, np.float32), (np.float16, np.float32),
                                      (BF16, BF16)], ids=str)
def test_adam_on_the_gpu(cp, pdt, sdt):
    n = 100_003
    p, g = host((n,), pdt, 1.0), host((n,), pdt, 1.0)
    m, v = host((n,), sdt, 0.1), np.abs(host((n,), sdt, 0.1))
    hyper = dict(lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, step=5, weight_decay=0.01)
    want = R.adam(p, g, m, v, *R.adam_hyper(**hyper))
    arrays = [cp.asarray(a) for a in (p, g, m, v)]
    FUSED["optimizers.adam"](*arrays, **hyper)
    for got, w in zip((arrays[0], arrays[2], arrays[3]), want):
        close(got, w)
    many = [[cp.asarray(a) for a in (p, g, m, v)] for _ in range(3)]
    FUSED["optimizers.adam_multi"](*zip(*many), **hyper)
    for quad in many:
        close(quad[0], want[0])


def test_fused_kernels_agree_with_eagerflows_composites(cp):
    x = host((128, 1000), np.float32)
    with ef.device("cuda"):
        t = ef.asarray(x)
        np.testing.assert_allclose(FUSED["nn.softmax"](t.raw).get(), ef.nn.softmax(t).numpy(),
                                   rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(FUSED["nn.log_softmax"](t.raw).get(),
                                   ef.nn.log_softmax(t).numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(FUSED["nn.gelu"](t.raw).get(), ef.nn.gelu(t).numpy(),
                                   rtol=1e-5, atol=1e-6)
        labels = RNG.integers(0, 1000, 128)
        want = ef.nn.sparse_softmax_cross_entropy_with_logits(ef.asarray(labels), t).numpy()
        got = FUSED["nn.sparse_softmax_cross_entropy_with_logits"](cp.asarray(labels), t.raw)
        np.testing.assert_allclose(got.get(), want, rtol=1e-5, atol=1e-5)


# -- random ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64"])
def test_philox_kernels_draw_the_numpy_stream_reproducibly(backend, dtype):
    uniform, normal = backend.random.uniform, backend.random.normal
    u = uniform(123, 7, (1000, 3), dtype)
    np.testing.assert_array_equal(u.get(), _philox.uniform(123, 7, (1000, 3), dtype))
    np.testing.assert_array_equal(u.get(), uniform(123, 7, (1000, 3), dtype).get())
    assert not np.array_equal(u.get(), uniform(123, 8, (1000, 3), dtype).get())
    z = normal(5, 0, (4097,), dtype)
    close(z, _philox.normal(5, 0, (4097,), dtype))
    table = ef.device("cuda").kernels
    assert table["random.uniform"] is not None and table["random.normal"] is not None


# -- conv and pooling: the same code on CuPy and on NumPy ----------------------------------------

@pytest.mark.parametrize("padding, strides, groups", [("SAME", 2, 1), ("VALID", 1, 2)])
def test_conv_and_pooling_on_the_gpu_match_numpy(cp, padding, strides, groups):
    x, w = host((2, 9, 10, 4), np.float32), host((3, 3, 4 // groups, 6), np.float32)
    kw = dict(strides=strides, padding=padding, groups=groups)
    y = conv.conv2d(cp.asarray(x), cp.asarray(w), **kw)
    want = conv.conv2d(x, w, **kw)
    np.testing.assert_allclose(y.get(), want, rtol=1e-4, atol=1e-4)
    g = host(want.shape, np.float32, 1.0)
    np.testing.assert_allclose(conv.conv2d_grad_input(cp.asarray(g), cp.asarray(w), x.shape,
                                                      **kw).get(),
                               conv.conv2d_grad_input(g, w, x.shape, **kw), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(conv.conv2d_grad_filter(cp.asarray(g), cp.asarray(x), w.shape,
                                                       **kw).get(),
                               conv.conv2d_grad_filter(g, x, w.shape, **kw), rtol=1e-4, atol=1e-3)
    for pool in (conv.max_pool2d, conv.avg_pool2d):
        np.testing.assert_allclose(pool(cp.asarray(x), 3, 2, padding).get(),
                                   pool(x, 3, 2, padding), rtol=1e-6, atol=1e-6)


# -- streams, events, DLPack ---------------------------------------------------------------------

def test_streams_and_events(cp, backend):
    s = backend.create_stream(0, non_blocking=True)
    start, end = backend.create_event(0), backend.create_event(0)
    prev = backend.current_stream(0)
    backend.set_current_stream(0, s)
    try:
        assert cp.cuda.get_current_stream().ptr == s.ptr
        backend.record_event(start, s)
        x = cp.ones((4096, 4096), dtype=cp.float32)
        y = x @ x  # queued on s
        backend.record_event(end, s)
    finally:
        backend.set_current_stream(0, prev)
    other = backend.create_stream(0)
    backend.stream_wait_event(other, end)
    backend.event_synchronize(end)
    assert backend.event_query(end) and backend.stream_query(s)
    assert backend.event_elapsed_ms(start, end) > 0
    backend.stream_synchronize(other)
    assert float(y[0, 0]) == 4096.0
    backend.synchronize(0)


def test_dlpack_with_pytorch_is_zero_copy_both_ways(cp, backend):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.fail("torch here has no CUDA: gpu-check needs torch's cu130 build")
    t = torch.arange(12, dtype=torch.float32, device="cuda").reshape(3, 4)
    e = ef.from_dlpack(t)
    assert e.device == "cuda:0" and e.raw.data.ptr == t.data_ptr()
    back = torch.from_dlpack(e)
    assert back.data_ptr() == t.data_ptr()
    # produced on a side stream: the consumer's stream waits for it, no copy, no host sync
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        big = torch.full((1 << 22,), 3.0, device="cuda")
    got = backend.from_dlpack_on_device(big)
    assert got.data.ptr == big.data_ptr() and float(got.sum()) == 3.0 * (1 << 22)
    assert backend.dlpack_stream(0) != 0
