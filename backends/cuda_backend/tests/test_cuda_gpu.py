"""The CUDA backend on a GPU: results against NumPy, the fused kernels against CuPy, moving
tensors between host and device. Each test is skipped, with the reason, where no GPU is usable."""

from __future__ import annotations

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core.testing import assert_close, reference
from eagerflow_cuda import CupyBackend

AVAILABLE, REASON = CupyBackend().is_available()
pytestmark = pytest.mark.skipif(not AVAILABLE, reason=f"no CUDA device: {REASON}")

RNG = np.random.default_rng(1234)


@pytest.fixture
def cuda():
    dev = ef.device("cuda")
    with dev:
        yield dev


@pytest.fixture
def cp():
    import cupy
    return cupy


def _host(shape, dtype, low=-3.0, high=3.0):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return RNG.integers(0, 2, shape).astype(bool)
    if dtype.kind in "iu":
        return RNG.integers(0 if dtype.kind == "u" else -50, 50, shape).astype(dtype)
    values = RNG.uniform(low, high, shape)
    if dtype.kind == "c":
        values = values + 1j * RNG.uniform(low, high, shape)
    return values.astype(dtype)


# -- results against NumPy ---------------------------------------------------------------------

UNARY = [("exp", np.exp, -3, 3), ("log", np.log, 0.1, 5), ("sqrt", np.sqrt, 0, 9),
         ("tanh", np.tanh, -3, 3), ("sin", np.sin, -3, 3), ("negative", np.negative, -3, 3),
         ("abs", np.abs, -3, 3)]
BINARY = [("add", np.add), ("subtract", np.subtract), ("multiply", np.multiply),
          ("divide", np.divide), ("maximum", np.maximum)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, ref, low, high", UNARY)
def test_unary_ops_match_numpy(cuda, name, ref, low, high, dtype):
    host = _host((4, 33), dtype, low, high)
    got = getattr(ef, name)(ef.asarray(host))
    assert got.device == "cuda:0"
    assert_close(got, ref(reference(host)), dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
@pytest.mark.parametrize("name, ref", BINARY)
def test_binary_ops_match_numpy_with_broadcasting(cuda, name, ref, dtype):
    a, b = _host((3, 1, 5), dtype), _host((4, 5), dtype)
    if name == "divide":
        b = np.where(b == 0, 1, b).astype(dtype)
    got = getattr(ef, name)(ef.asarray(a), ef.asarray(b))
    # TensorFlow's rule: int32 and int64 true division gives float64 (issue #8 item 5)
    want_dtype = "float64" if name == "divide" and dtype.startswith("int") else dtype
    assert_close(got, ref(reference(a), reference(b)), dtype=want_dtype)


def test_python_scalars_stay_weak(cuda):
    x = ef.asarray(np.arange(4, dtype=np.float32))
    got = x * 2 + 1
    assert_close(got, np.arange(4) * 2.0 + 1, dtype="float32")


@pytest.mark.parametrize("dtype, want", [("float32", "float32"), ("float64", "float64"),
                                         ("int32", "int64"), ("bool", "int64"),
                                         ("uint8", "uint64"), ("float16", "float16")])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
def test_sum_matches_numpy(cuda, dtype, want, axis):
    host = _host((5, 6, 7), dtype)
    got = ef.sum(ef.asarray(host), axis=axis)
    # float16 sums round every partial sum to 11 bits
    scale = 50 if dtype == "float16" else 10
    assert_close(got, np.sum(reference(host), axis=axis), dtype=want, scale=scale)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("sa, sb", [((8, 8), (8, 8)), ((3, 4), (4, 5)), ((2, 3, 4), (4, 5)),
                                    ((7,), (7, 2)), ((64, 128), (128, 32))])
def test_matmul_matches_numpy(cuda, sa, sb, dtype):
    a, b = _host(sa, dtype), _host(sb, dtype)
    got = ef.matmul(ef.asarray(a), ef.asarray(b))
    # TF32 is off unless CUPY_TF32=1, so float32 matmul keeps float32 accuracy.
    assert_close(got, reference(a) @ reference(b), dtype=dtype, scale=sa[-1])


def test_results_are_cupy_arrays_on_the_device(cuda, cp):
    x = ef.ones((2, 3), dtype=ef.float32)
    y = ef.exp(x) + x
    assert type(y.raw) is cp.ndarray and y.raw.device.id == 0
    assert y.device == "cuda:0" and y.dtype is ef.float32


def test_bfloat16_is_refused_with_a_clear_error(cuda):
    with pytest.raises(ef.DTypeError, match="bfloat16"):
        ef.zeros(3, dtype=ef.bfloat16)
    with pytest.raises(ef.DTypeError, match="bfloat16"):
        ef.ones(2, dtype=ef.bfloat16, device="cpu").to("cuda")


def test_mixing_devices_raises(cuda):
    with pytest.raises(ef.DeviceError, match="different devices"):
        ef.add(ef.ones(2, device="cpu"), ef.ones(2))


# -- the fused sums of csrc/reduce_sum.cu against CuPy ---------------------------------------

@pytest.fixture
def fused(cuda):
    f = cuda.backend.backend.sums
    assert f.ready(), f"csrc/reduce_sum.cu did not compile: {f.reason}"
    return f


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 255, 1023, 4099, 1 << 16, (1 << 22) + 5])
@pytest.mark.parametrize("offset", [0, 1, 2, 3])  # misaligned views take the head/tail path
def test_fused_sum_matches_cupy(fused, cp, n, offset):
    base = cp.asarray(RNG.standard_normal(n + offset).astype(np.float32))
    x = base[offset:]
    got = fused.sum_all(x)
    exact = float(cp.sum(x.astype(cp.float64)))
    assert got.dtype == np.float32 and got.shape == ()
    assert abs(float(got) - exact) <= 1e-6 * max(1.0, float(cp.sum(cp.abs(x))))
    np.testing.assert_allclose(float(got), float(cp.sum(x)), rtol=1e-4, atol=1e-4 * np.sqrt(n))


def test_fused_sum_is_deterministic(fused, cp):
    x = cp.asarray(RNG.standard_normal(3_000_001).astype(np.float32))
    first = fused.sum_all(x)
    assert all(bool(fused.sum_all(x) == first) for _ in range(5))


@pytest.mark.parametrize("rows, cols", [(1, 1), (3, 5), (257, 33), (1000, 4096), (300, 8192),
                                        (5, 100_000)])
def test_fused_row_sums_match_cupy(fused, cp, rows, cols):
    x = cp.asarray(RNG.standard_normal((rows, cols)).astype(np.float32))
    got = fused.sum_rows(x)
    want = cp.sum(x.astype(cp.float64), axis=1)
    assert got.shape == (rows,) and got.dtype == np.float32
    np.testing.assert_allclose(cp.asnumpy(got), cp.asnumpy(want), rtol=1e-6, atol=1e-6 * cols)


def test_ef_sum_takes_the_fused_path(fused, cp):
    host = RNG.standard_normal((512, 64)).astype(np.float32)
    x = ef.asarray(host)
    assert bool(ef.sum(x).raw == fused.sum_all(x.raw))
    assert bool(cp.all(ef.sum(x, axis=-1).raw == fused.sum_rows(x.raw)))
    assert ef.sum(x, axis=1, keepdims=True).shape == (512, 1)


# -- moving data -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["bool", "int8", "uint16", "int32", "int64", "uint64", "float16",
                                   "float32", "float64", "complex64", "complex128"])
def test_to_cuda_and_back_round_trips(dtype):
    host = _host((3, 4), dtype)
    cpu = ef.asarray(host, device="cpu")
    gpu = cpu.to("cuda")
    assert gpu.device == "cuda:0" and gpu.dtype is cpu.dtype
    back = gpu.to("cpu")
    assert back.device == "cpu:0"
    np.testing.assert_array_equal(back.numpy(), host)
    np.testing.assert_array_equal(gpu.numpy(), host)  # .numpy() copies device to host


def test_asarray_on_cuda_and_from_dlpack(cp):
    host = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = ef.asarray(host, device="cuda")
    assert t.device == "cuda:0"
    np.testing.assert_array_equal(t.numpy(), host)
    raw = cp.arange(5, dtype=cp.float64)
    shared = ef.from_dlpack(raw)
    assert shared.device == "cuda:0" and shared.dtype is ef.float64
    assert shared.raw.data.ptr == raw.data.ptr  # zero-copy


def test_memory_stats_count_the_pool_and_its_peak(cuda):
    backend = cuda.backend.backend
    backend.reset_peak_memory_stats(0)
    before = backend.memory_stats(0)
    keep = ef.zeros((1024, 1024), dtype=ef.float32)
    after = backend.memory_stats(0)
    assert after["bytes_in_use"] >= before["bytes_in_use"] + 4 * 1024 * 1024
    assert after["bytes_reserved"] >= after["bytes_in_use"]
    tmp = ef.zeros((4096, 1024), dtype=ef.float32)  # 16 MiB, then freed
    del tmp
    stats = backend.memory_stats(0)
    assert stats["peak_bytes_in_use"] >= after["bytes_in_use"] + 16 * 1024 * 1024
    assert stats["bytes_in_use"] < stats["peak_bytes_in_use"]
    backend.reset_peak_memory_stats(0)
    assert backend.memory_stats(0)["peak_bytes_in_use"] == backend.memory_stats(0)["bytes_in_use"]
    backend.empty_cache(0)
    assert backend.memory_stats(0)["bytes_reserved"] <= stats["bytes_reserved"]
    del keep


def test_second_device_gets_its_own_arrays(cp):
    if cp.cuda.runtime.getDeviceCount() < 2:  # one GPU: cuda:1 is a clear error, not a skip
        with pytest.raises(ef.DeviceError, match="cuda:1"):
            ef.ones(4, device="cuda:1")
        return
    x = ef.ones(4, device="cuda:1")
    y = x + x
    assert y.device == "cuda:1" and y.raw.device.id == 1
    assert cp.cuda.runtime.getDevice() == 0  # the bound kernels restored the current device
    np.testing.assert_array_equal(y.numpy(), np.full(4, 2.0, np.float32))
