"""The CUDA plugin on any machine: loading, availability and its reason, routing of the kernel
table. These run with or without a GPU and assert what each case must give."""

from __future__ import annotations

import subprocess
import sys
import types

import numpy as np
import pytest

import eagerflow_core as ef
import eagerflow_cuda
from eagerflow_cuda import CupyBackend
from eagerflow_cuda.kernels import bind, build_table, make_sum

AVAILABLE, REASON = CupyBackend().is_available()


def _cuda_row():
    rows = [b for b in ef.backends() if b.name == "cuda"]
    assert len(rows) == 1, f"cuda is not listed once in ef.backends():\n{ef.backends()!r}"
    return rows[0]


# -- loading ----------------------------------------------------------------------------------

def test_import_is_light_and_does_not_import_cupy():
    code = "import sys, eagerflow_cuda; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plugin_is_listed_with_its_declared_attributes():
    row = _cuda_row()
    assert (row.device_type, row.priority, row.api_version) == ("cuda", 10, 1)
    assert row.source == "entry point eagerflow_cuda"


def test_plugin_status_matches_availability():
    row = _cuda_row()
    if AVAILABLE:
        assert row.status == "ok" and row.reason == ""
    else:
        assert row.status == "unavailable"
        assert row.reason == REASON
        assert "no usable CUDA device" in row.reason or "cupy is not installed" in row.reason


def test_using_cuda_without_a_device_raises_device_error_with_the_reason():
    if AVAILABLE:
        assert ef.device("cuda").type == "cuda"
        return
    with pytest.raises(ef.DeviceError, match="cuda") as info:
        ef.device("cuda")
    assert REASON in str(info.value)
    with pytest.raises(ef.DeviceError, match="no usable CUDA device|cupy is not installed"):
        ef.zeros(3, device="cuda:0")


def test_default_device_follows_availability():
    if AVAILABLE:
        assert ef.default_device().type == "cuda"
    else:
        assert ef.default_device().type == "cpu"
        assert all(d.type != "cuda" for d in ef.devices())


def test_reason_names_the_cuda_runtime_error_here():
    if AVAILABLE:
        assert REASON == ""
        return
    # Either cupy is missing, or the CUDA runtime said why (cudaErrorInsufficientDriver on a
    # machine without the NVIDIA driver, cudaErrorNoDevice with no visible GPU).
    assert "cupy is not installed" in REASON or "cudaError" in REASON or "counts 0" in REASON


# -- is_available, each failure mode -------------------------------------------------------------

def _fake_cupy(get_count):
    runtime = types.SimpleNamespace(getDeviceCount=get_count)
    cuda = types.SimpleNamespace(runtime=runtime)
    return types.SimpleNamespace(__version__="0.0-fake", cuda=cuda)


def test_reason_when_cupy_is_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` raise ImportError
    ok, why = CupyBackend().is_available()
    assert ok is False
    assert why.startswith("cupy is not installed") and "pip install cupy-cuda13x" in why


def test_reason_carries_the_runtime_error_text(monkeypatch):
    class CUDARuntimeError(RuntimeError):
        pass

    def count():
        raise CUDARuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient")

    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(count))
    ok, why = CupyBackend().is_available()
    assert ok is False
    assert why == ("cudaErrorInsufficientDriver: CUDA driver version is insufficient "
                   "(cupy 0.0-fake found no usable CUDA device)")


def test_reason_when_the_runtime_sees_no_device(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(lambda: 0))
    assert CupyBackend().is_available() == (
        False, "cupy 0.0-fake found no usable CUDA device (the CUDA runtime counts 0)")


def test_is_available_never_raises_on_a_broken_cupy(monkeypatch):
    broken = types.ModuleType("cupy")

    def boom(name):
        raise OSError("libcudart.so.13: cannot open shared object file")

    broken.__getattr__ = boom  # any attribute access fails, as a half-installed CuPy would
    monkeypatch.setitem(sys.modules, "cupy", broken)
    ok, why = CupyBackend().is_available()
    assert ok is False and "libcudart.so.13" in why


def test_availability_is_probed_once(monkeypatch):
    calls = []
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(lambda: calls.append(1) or 2))
    b = CupyBackend()
    assert b.is_available() == (True, "") and b.is_available() == (True, "")
    assert calls == [1]


def test_native_dtypes_have_no_bfloat16_and_are_numpy_dtypes():
    native = CupyBackend().native_dtypes()
    assert "bfloat16" not in native
    assert set(native) == {d.name for d in (ef.bool, ef.int8, ef.int16, ef.int32, ef.int64,
                                            ef.uint8, ef.uint16, ef.uint32, ef.uint64,
                                            ef.float16, ef.float32, ef.float64, ef.complex64,
                                            ef.complex128)}
    assert all(isinstance(v, np.dtype) and v.name == ("bool" if k == "bool" else k)
               for k, v in native.items())


def test_declared_attributes():
    b = CupyBackend()
    assert (b.name, b.device_type, b.priority) == ("cuda", "cuda", 10)
    assert (b.dlpack_device_type, b.checks_index_bounds) == (2, False)
    assert isinstance(eagerflow_cuda.eagerflow_backend(), CupyBackend)


# -- the sum kernel's routing, with NumPy standing in for CuPy --------------------------------

class _FakeFused:
    """Records which fused launcher ran; computes like the CUDA kernels (double accumulation)."""

    def __init__(self, ok=True):
        self.calls = []
        self.ok = ok

    def ready(self):
        return self.ok

    def sum_all(self, x):
        self.calls.append(("all", x.shape))
        return np.asarray(np.add.reduce(x.ravel(), dtype=np.float64), dtype=np.float32)

    def sum_rows(self, x):
        self.calls.append(("rows", x.shape))
        return np.add.reduce(x, axis=1, dtype=np.float64).astype(np.float32)


def _numpy_sum(x, axis=None, dtype=None, keepdims=False):
    return np.sum(x, axis=axis, dtype=dtype, keepdims=keepdims)


@pytest.mark.parametrize("shape, axis, keepdims, route", [
    ((5,), None, False, ("all", (5,))),
    ((2, 3, 4), None, True, ("all", (2, 3, 4))),
    ((2, 3, 4), (0, 1, 2), False, ("all", (2, 3, 4))),
    ((2, 3, 4), (2, -3, 1), False, ("all", (2, 3, 4))),
    ((), None, False, ("all", ())),
    ((7,), 0, True, ("all", (7,))),
    ((3, 5), -1, False, ("rows", (3, 5))),
    ((2, 3, 4), 2, True, ("rows", (6, 4))),
    ((2, 3, 4), (np.int64(-1),), False, ("rows", (6, 4))),
    ((4, 5), 0, False, None),           # not the last axis
    ((2, 3, 4), (1, 2), False, None),   # two of three axes
    ((2, 8192), 1, False, None),        # few long rows: cupy's block-per-row reduction
    ((300, 8192), 1, False, ("rows", (300, 8192))),
])
def test_sum_routes_float32_contiguous_sums_to_the_fused_kernels(shape, axis, keepdims, route):
    fused = _FakeFused()
    kernel = make_sum(_numpy_sum, fused)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    got = kernel(x, axis=axis, keepdims=keepdims)
    want = np.sum(x.astype(np.float64), axis=axis, keepdims=keepdims)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert fused.calls == ([route] if route else [])


@pytest.mark.parametrize("x, kwargs", [
    (np.ones((3, 4), np.float64), {}),                          # not float32
    (np.ones((3, 4), np.float32), {"dtype": np.dtype("f8")}),   # float64 accumulation asked
    (np.ones((4, 3), np.float32).T, {}),                        # not C-contiguous
    (np.ones((0, 3), np.float32), {}),                          # empty
    (np.ones((3, 4), np.float32), {"axis": 5}),                 # bad axis: the fallback raises
])
def test_sum_falls_back_outside_the_fused_kernels_reach(x, kwargs):
    fused = _FakeFused()
    kernel = make_sum(_numpy_sum, fused)
    try:
        got = kernel(x, **kwargs)
    except Exception as exc:  # the fallback's own error, which the core turns into AxisError
        assert kwargs.get("axis") == 5 and "axis" in str(exc)
    else:
        np.testing.assert_array_equal(got, np.sum(x, **kwargs))
    assert fused.calls == []


def test_sum_falls_back_when_the_fused_kernels_did_not_compile():
    fused = _FakeFused(ok=False)
    x = np.arange(6, dtype=np.float32)
    assert make_sum(_numpy_sum, fused)(x) == 15.0
    assert fused.calls == []


# -- binding kernels to a device -------------------------------------------------------------

class _FakeRuntime:
    def __init__(self, current):
        self.current = current
        self.sets = []

    def getDevice(self):
        return self.current

    def setDevice(self, index):
        self.sets.append(index)
        self.current = index


def test_bound_kernels_run_on_their_device_and_restore_the_current_one():
    rt = _FakeRuntime(current=0)
    seen = []
    table = bind({"add": lambda a, b: seen.append(rt.current) or a + b}, 1, rt)
    assert table["add"](2, 3) == 5
    assert seen == [1] and rt.current == 0 and rt.sets == [1, 0]
    assert table["add"].__wrapped__(1, 1) == 2


def test_bound_kernels_skip_the_switch_when_already_on_the_device_and_restore_on_error():
    rt = _FakeRuntime(current=1)
    table = bind({"ok": lambda: "done"}, 1, rt)
    assert table["ok"]() == "done" and rt.sets == []
    rt.current = 0

    def fails():
        raise ValueError("bad shapes")

    with pytest.raises(ValueError, match="bad shapes"):
        bind({"f": fails}, 1, rt)["f"]()
    assert rt.current == 0 and rt.sets == [1, 0]


def test_the_table_has_the_random_kernels_and_the_extras_win():
    draw = object()
    table = build_table(np, _FakeFused(), extras={"random.uniform": draw,
                                                  "random.normal": draw, "from_dlpack": draw})
    assert table["random.uniform"] is draw and table["random.normal"] is draw
    assert table["from_dlpack"] is draw and table["sum"].__name__ == "sum"
    assert table["add"] is np.add


def test_the_communicator_hook_offers_nccl_only_to_several_processes_where_it_works():
    # eagerflow_core.distributed asks the backend (the core imports no CuPy): one process
    # needs no communicator; without usable NCCL the hook declines and says why, which the
    # core's host-memory fallback message shows.
    from types import SimpleNamespace

    from eagerflow_cuda.nccl import nccl_available
    backend = eagerflow_cuda.CupyBackend()
    assert backend.communicator(SimpleNamespace(size=1)) is None
    ok, why = nccl_available()
    if not ok:
        assert backend.communicator(SimpleNamespace(size=2)) is None
        assert backend.communicator_unavailable() == f"NCCL cannot be used: {why}"
    else:
        assert backend.communicator_unavailable() == ""
