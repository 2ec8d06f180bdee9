"""The CUDA C sources compile with nvcc for sm_90 and sm_80 without register spills (no GPU
needed), and the check that says so fails when it should."""

from __future__ import annotations

import subprocess
import sys

import pytest

from eagerflow_cuda import _fused, build

NVCC = build.find_nvcc()
needs_nvcc = pytest.mark.skipif(NVCC is None, reason="nvcc not found")

_LOG = """\
ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'ef_a' for 'sm_90'
ptxas info    : Function properties for ef_a
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 32 registers, used 1 barriers, 64 bytes smem
ptxas info    : Compiling entry function 'ef_b' for 'sm_90'
ptxas info    : Function properties for ef_b
    48 bytes stack frame, 40 bytes spill stores, 40 bytes spill loads
ptxas info    : Used 255 registers, used 0 barriers
"""


def test_every_source_is_packaged_and_readable():
    names = sorted(p.name for p in build.sources())
    assert names == sorted(_fused.SOURCES)
    for name in names:
        text = _fused.source(name)
        assert "__global__" in text and "__shfl_down_sync" in text


def test_ptxas_log_is_parsed_per_kernel():
    kernels, spills, registers = build.parse_ptxas(_LOG)
    assert kernels == ["ef_a", "ef_b"]
    assert spills == {"ef_a": 0, "ef_b": 40}
    assert registers == {"ef_a": 32, "ef_b": 255}


def test_a_spilling_kernel_fails_the_check():
    result = build.judge("x.cu", "sm_90", 0, _LOG)
    assert not result.ok
    assert "ef_b (40 bytes spill stores)" in build._why(result)


def test_a_log_without_spill_lines_fails_the_check():
    log = "ptxas info    : Compiling entry function 'ef_a' for 'sm_90'\n"
    assert not build.judge("x.cu", "sm_90", 0, log).ok
    assert not build.judge("x.cu", "sm_90", 0, "").ok  # nothing compiled at all


@needs_nvcc
def test_sources_compile_without_spills():
    results = build.check(NVCC)
    assert [(r.source, r.arch) for r in results] == [
        (name, arch) for name in sorted(_fused.SOURCES) for arch in build.ARCHS]
    for r in results:
        assert r.ok, f"{r.source} [{r.arch}]: {build._why(r)}\n{r.log}"
        assert set(r.kernels) == {"ef_sum_f32_partial", "ef_sum_f64_final", "ef_sum_rows_f32"}
        assert all(v == 0 for v in r.spills.values())


@needs_nvcc
def test_a_broken_source_fails_with_the_compiler_log(tmp_path):
    bad = tmp_path / "bad.cu"
    bad.write_text('extern "C" __global__ void ef_bad(float* x) { x[0] = undefined_name; }\n')
    (result,) = build.check(NVCC, archs=("sm_90",), paths=[bad])
    assert not result.ok
    assert "undefined_name" in result.log and build._why(result) == "compilation failed"


@needs_nvcc
def test_check_command_exits_zero_and_reports_each_compile():
    out = subprocess.run([sys.executable, "-m", "eagerflow_cuda.build", "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "reduce_sum.cu [sm_90]: ok" in out.stdout and "reduce_sum.cu [sm_80]: ok" in out.stdout
    assert "2 passed, 0 failed" in out.stdout


def test_check_command_without_nvcc_says_so_and_exits_zero(tmp_path):
    out = subprocess.run([sys.executable, "-m", "eagerflow_cuda.build", "--check",
                          "--nvcc", str(tmp_path / "no-nvcc-here")], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.strip() == "nvcc not found; skipping CUDA compile check"


@needs_nvcc
def test_check_command_fails_on_a_bad_architecture():
    out = subprocess.run([sys.executable, "-m", "eagerflow_cuda.build", "--check",
                          "--arch", "sm_1"], capture_output=True, text=True)
    assert out.returncode == 1
    assert "FAILED" in out.stdout and "nvcc" in out.stderr
