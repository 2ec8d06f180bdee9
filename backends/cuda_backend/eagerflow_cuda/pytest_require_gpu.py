"""pytest plugin: with ``EAGERFLOW_REQUIRE_GPU=1`` a test run must really run on a GPU.

Registered through the ``pytest11`` entry point of eagerflow-cuda, so every pytest run of a
checkout with the backend installed loads it; it does nothing unless the variable is set (and
then imports no CuPy before the run starts). With it set:

- the run stops before collecting if the ``cuda`` backend is unavailable, with the reason
  (``cudaErrorInsufficientDriver...``), instead of passing on the CPU alone;
- every skipped test, and every skipped module, becomes a failure that quotes the skip's reason:
  on the GPU machine a skip means a check that did not happen. Expected failures (``xfail``)
  stay what they are: they are declared, not skipped.

``make gpu-check`` sets the variable for the backend's tests and the cross-backend suite, and
leaves out the tests marked ``cpu_only`` (compile checks, the CPU emulator of the kernels, fakes
of CuPy): they need no GPU, ran in ``make test``, and may need tools (nvcc, a C++ compiler) that
a GPU machine lacks.
"""

from __future__ import annotations

import os

import pytest

VARIABLE = "EAGERFLOW_REQUIRE_GPU"


def required() -> bool:
    return os.environ.get(VARIABLE, "").strip() not in ("", "0")


def gpu_status() -> tuple[bool, str]:
    """Whether the ``cuda`` backend can run here, and if not, why."""
    from eagerflow_cuda import CupyBackend
    return CupyBackend().is_available()


def pytest_configure(config):
    config.addinivalue_line("markers", "cpu_only: a test of the CUDA backend that needs no GPU "
                            "(make gpu-check leaves it out: make test ran it)")


def pytest_sessionstart(session):
    if not required():
        return
    ok, why = gpu_status()
    if not ok:
        pytest.exit(f"{VARIABLE}=1, but the cuda backend is unavailable: {why}", returncode=3)


def _reason(report) -> str:
    longrepr = report.longrepr
    text = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return text.removeprefix("Skipped: ")


def _fail(report) -> None:
    report.longrepr = f"{VARIABLE}=1 turns this skip into a failure: {_reason(report)}"
    report.outcome = "failed"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if required() and report.skipped and not hasattr(report, "wasxfail"):
        _fail(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if required() and report.skipped:
        _fail(report)
