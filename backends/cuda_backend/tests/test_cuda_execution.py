"""The execution contract (streams, events, memory statistics, DLPack streams) wired to CuPy, the
EAGERFLOW_REQUIRE_GPU pytest plugin, and the gpu-check driver; on any machine, with a fake CuPy
recording what the backend asks of it. test_cuda_gpu.py runs the same contract on a real GPU."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types

import pytest

from eagerflow_cuda import CupyBackend, gpu_check
from eagerflow_cuda._execution import PeakTracker


pytestmark = pytest.mark.cpu_only  # make gpu-check leaves it out


class FakeMemory:
    def __init__(self, device_id):
        self.device_id = device_id


class FakePool:
    """CuPy's pool on one device: malloc adds bytes, free() gives them back."""

    def __init__(self, cuda):
        self.cuda, self.used, self.total, self.freed = cuda, 0, 0, 0

    def malloc(self, size):
        self.used += size
        self.total = max(self.total, self.used)
        return FakeMemory(self.cuda.current)

    def free(self, size):
        self.used -= size

    def used_bytes(self):
        return self.used

    def total_bytes(self):
        return self.total

    def free_all_blocks(self):
        self.freed += 1
        self.total = self.used


class FakeCuda(types.SimpleNamespace):
    def __init__(self):
        super().__init__()
        self.current = 0
        self.log = []
        fake = self

        class Device:
            def __init__(self, index):
                self.index = index

            def __enter__(self):
                self.prev, fake.current = fake.current, self.index
                return self

            def __exit__(self, *exc):
                fake.current = self.prev

            def synchronize(self):
                fake.log.append(("synchronize", self.index))

        class Stream:
            def __init__(self, non_blocking=False, priority=None):
                self.device, self.non_blocking, self.priority = fake.current, non_blocking, priority
                self.ptr, self.done, self.waited = 1000 + len(fake.log), True, []
                fake.log.append(("stream", self.device, non_blocking, priority))

            def use(self):
                fake.log.append(("use", self.device, fake.current))

            def synchronize(self):
                fake.log.append(("stream_sync", self.ptr))

            def wait_event(self, event):
                self.waited.append(event)

        class Event:
            def __init__(self, disable_timing=False):
                self.device, self.disable_timing = fake.current, disable_timing
                self.done, self.on = False, None

            def record(self, stream=None):
                self.on = stream

            def synchronize(self):
                self.done = True

        self.Device, self.Stream, self.Event = Device, Stream, Event
        self.null_stream = types.SimpleNamespace(ptr=0)
        self.allocator = None

    def get_current_stream(self, index):
        self.log.append(("current", index))
        return self.null_stream

    def get_elapsed_time(self, start, end):
        return 2.5

    def get_allocator(self):
        return self.allocator

    def set_allocator(self, fn):
        self.allocator = fn


@pytest.fixture
def backend():
    cuda = FakeCuda()
    pools = {}

    def pool():
        return pools.setdefault("default", FakePool(cuda))

    cp = types.SimpleNamespace(cuda=cuda, get_default_memory_pool=pool)
    cuda.allocator = pool().malloc
    b = CupyBackend()
    b.namespace = cp
    b._peaks = PeakTracker(cp)
    assert b._peaks.install()
    return b


def test_streams_are_made_and_made_current_on_their_device(backend):
    cuda = backend.namespace.cuda
    s = backend.create_stream(1, non_blocking=True, priority=-1)
    assert (s.device, s.non_blocking, s.priority) == (1, True, -1)
    assert backend.create_stream(0).priority is None  # 0: CuPy's default priority
    backend.set_current_stream(1, s)
    assert cuda.log[-1] == ("use", 1, 1)  # made current while device 1 was current
    assert cuda.current == 0  # and the caller's device is back
    assert backend.current_stream(1) is cuda.null_stream and cuda.log[-1] == ("current", 1)
    backend.stream_synchronize(s)
    assert cuda.log[-1] == ("stream_sync", s.ptr)
    assert backend.stream_query(s) is True


def test_events_record_wait_and_time(backend):
    s = backend.create_stream(0)
    start, end = backend.create_event(0), backend.create_event(0, timing=False)
    assert (start.disable_timing, end.disable_timing) == (False, True)
    backend.record_event(start, s)
    assert start.on is s
    backend.stream_wait_event(s, start)
    assert s.waited == [start]
    assert backend.event_query(end) is False
    backend.event_synchronize(end)
    assert backend.event_query(end) is True
    assert backend.event_elapsed_ms(start, end) == 2.5


def test_synchronize_and_empty_cache_name_the_device(backend):
    backend.synchronize(1)
    assert backend.namespace.cuda.log[-1] == ("synchronize", 1)
    backend.empty_cache(0)
    assert backend.namespace.get_default_memory_pool().freed == 1


def test_memory_stats_track_the_peak_between_calls(backend):
    pool = backend.namespace.get_default_memory_pool()
    alloc = backend.namespace.cuda.allocator  # the tracker's malloc, installed over the pool's
    assert alloc != pool.malloc
    assert backend.memory_stats(0) == {"bytes_in_use": 0, "peak_bytes_in_use": 0,
                                       "bytes_reserved": 0}
    alloc(1000)
    alloc(500)
    pool.free(1200)  # freed: the peak stays
    assert backend.memory_stats(0) == {"bytes_in_use": 300, "peak_bytes_in_use": 1500,
                                       "bytes_reserved": 1500}
    backend.reset_peak_memory_stats(0)
    assert backend.memory_stats(0)["peak_bytes_in_use"] == 300
    alloc(100)
    assert backend.memory_stats(0)["peak_bytes_in_use"] == 400


def test_peak_tracker_leaves_a_users_allocator_alone(monkeypatch):
    cuda = FakeCuda()
    pool = FakePool(cuda)
    mine = lambda size: None  # noqa: E731  (say, RMM's allocator)
    cuda.allocator = mine
    tracker = PeakTracker(types.SimpleNamespace(cuda=cuda, get_default_memory_pool=lambda: pool))
    assert tracker.install() is False and cuda.allocator is mine
    monkeypatch.setenv("EAGERFLOW_CUDA_PEAK_STATS", "0")
    cuda.allocator = pool.malloc
    assert tracker.install() is False and cuda.allocator == pool.malloc


def test_dlpack_stream_is_never_zero(backend):
    assert backend.dlpack_stream(0) == 1  # CuPy's null stream (handle 0) is DLPack's 1
    backend.namespace.cuda.null_stream = types.SimpleNamespace(ptr=0x7F00)
    assert backend.dlpack_stream(0) == 0x7F00


def test_from_dlpack_imports_on_the_producers_device(backend):
    seen = []
    backend.namespace.from_dlpack = lambda obj, **kw: seen.append(
        (backend.namespace.cuda.current, kw)) or "array"
    producer = types.SimpleNamespace(__dlpack_device__=lambda: (2, 1))
    assert backend.from_dlpack_on_device(producer) == "array"
    assert backend.from_dlpack_on_device(producer, copy=False) == "array"
    assert seen == [(1, {}), (1, {"copy": False})]
    assert backend.namespace.cuda.current == 0


# -- EAGERFLOW_REQUIRE_GPU --------------------------------------------------------------------

def _pytest(tmp_path, gpu_ok, env_value="1"):
    (tmp_path / "conftest.py").write_text(textwrap.dedent(f"""
        import eagerflow_cuda.pytest_require_gpu as plugin
        plugin.gpu_status = lambda: ({gpu_ok}, "cudaErrorNoDevice: no CUDA-capable device")
    """))
    (tmp_path / "test_it.py").write_text(textwrap.dedent(TESTS))
    (tmp_path / "test_skipped_module.py").write_text(textwrap.dedent("""
        import pytest
        pytest.skip("no CUDA device here", allow_module_level=True)
    """))
    env = {k: v for k, v in os.environ.items() if k != "EAGERFLOW_REQUIRE_GPU"}
    env["COLUMNS"] = "400"  # the short summary quotes the whole reason
    if env_value is not None:
        env["EAGERFLOW_REQUIRE_GPU"] = env_value
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--continue-on-collection-errors", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=tmp_path)


TESTS = """
    import pytest
    def test_runs():  # a passing test, so the summary shows that passes stay passes
        assert sorted([2, 1]) == [1, 2]
    @pytest.mark.skip(reason="needs 2 CUDA devices")
    def test_skipped():
        pass
    @pytest.mark.xfail(reason="declared")
    def test_xfail():
        assert False
"""


def test_require_gpu_turns_skipped_tests_and_modules_into_failures(tmp_path):
    out = _pytest(tmp_path, gpu_ok=True)
    assert out.returncode == 1, out.stdout
    # a skip at set-up is reported as an error, a skipped module as a failed collection
    assert "1 passed, 1 xfailed, 2 errors" in out.stdout
    assert "EAGERFLOW_REQUIRE_GPU=1 turns this skip into a failure: needs 2 CUDA devices" \
        in out.stdout
    assert "EAGERFLOW_REQUIRE_GPU=1 turns this skip into a failure: no CUDA device here" \
        in out.stdout


def test_require_gpu_stops_a_run_without_a_gpu(tmp_path):
    out = _pytest(tmp_path, gpu_ok=False)
    assert out.returncode == 3
    assert "EAGERFLOW_REQUIRE_GPU=1, but the cuda backend is unavailable: cudaErrorNoDevice" \
        in out.stdout + out.stderr


def test_without_the_variable_the_plugin_is_inert(tmp_path):
    out = _pytest(tmp_path, gpu_ok=False, env_value=None)
    assert out.returncode == 0 and "1 passed, 2 skipped, 1 xfailed" in out.stdout


@pytest.mark.parametrize("value, on", [("1", True), ("yes", True), ("0", False), ("", False),
                                       (" ", False)])
def test_which_values_require_a_gpu(monkeypatch, value, on):
    from eagerflow_cuda import pytest_require_gpu
    monkeypatch.setenv("EAGERFLOW_REQUIRE_GPU", value)
    assert pytest_require_gpu.required() is on


# -- make gpu-check's driver --------------------------------------------------------------------

def test_gpu_check_steps_fit_in_eight_minutes_and_cover_the_issue():
    steps = gpu_check.steps("python3")
    assert [s.name for s in steps] == ["build", "info", "tests", "conformance", "doctests", "bench"]
    assert sum(s.limit_s for s in steps) <= 8 * 60
    by = {s.name: s for s in steps}
    assert by["tests"].env == {"EAGERFLOW_REQUIRE_GPU": "1"}
    assert {"tests/backends", "backends/cuda_backend/tests"} <= set(by["tests"].argv)
    assert by["conformance"].argv[-5:-1] == ["--backend", "cuda", "--strict", "--max-examples"]
    assert by["doctests"].env == {"EAGERFLOW_DEVICE": "cpu"}
    assert by["bench"].argv[-1] == "benchmarks/bench_cuda.py"
    assert all(s.argv[0] == "python3" for s in steps)


def test_gpu_check_reads_eagerflow_info():
    ok = "cuda     cuda    0.1.0 (cupy 14.2.0, CUDA runtime 13.0)  1    10    ok   150"
    bad = "cuda     cuda    0.1.0  1    10    unavailable  -   cudaErrorInsufficientDriver: ..."
    assert gpu_check.cuda_listed_ok(f"Backends:\n{ok}\nnumpy    cpu ...")
    assert not gpu_check.cuda_listed_ok(f"Backends:\n{bad}\n")
    assert not gpu_check.cuda_listed_ok("Backends:\nnumpy    cpu    0.1.0  1  0  ok  148\n")


def test_gpu_check_runs_every_step_and_reports_each(monkeypatch, capsys):
    steps = [gpu_check.Step("one", [sys.executable, "-c", "print('fine')"], 30),
             gpu_check.Step("two", [sys.executable, "-c", "import sys; sys.exit(4)"], 30),
             gpu_check.Step("three", [sys.executable, "-c", "import time; time.sleep(5)"], 1)]
    monkeypatch.setattr(gpu_check, "steps", lambda python, quick=False: steps)
    assert gpu_check.main([]) == 1
    out = capsys.readouterr().out
    summary = out[out.index("== gpu-check summary"):]
    assert "one          ok" in summary
    assert "two          FAILED (exit 4)" in summary
    assert "three        TIMED OUT after 1 s" in summary
