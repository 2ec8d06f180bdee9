"""The CUDA C sources compile for sm_90 and sm_80 with nvcc (no register spills) and with NVRTC,
with the options the backend uses at run time; the check that says so fails when it should. No
GPU needed."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from eagerflow_cuda import _compile, _runtime, build

pytestmark = pytest.mark.cpu_only  # make gpu-check leaves it out
NVCC = build.find_nvcc()
HAVE_NVRTC, NVRTC_NOTE = build.nvrtc_status()
needs_nvcc = pytest.mark.skipif(NVCC is None, reason="nvcc not found")
needs_nvrtc = pytest.mark.skipif(not HAVE_NVRTC, reason=f"NVRTC not available: {NVRTC_NOTE}")

SOURCES = ["activations.cu", "adam.cu", "layer_norm.cu", "philox.cu", "reduce_sum.cu",
           "softmax.cu"]
BROKEN = 'extern "C" __global__ void ef_bad(float* x) { x[0] = undefined_name; }\n'

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
ptxas info    : Compiling entry function 'ef_c' for 'sm_90'
ptxas info    : Function properties for ef_c
    8 bytes stack frame, 0 bytes spill stores, 8 bytes spill loads
ptxas info    : Used 64 registers, used 0 barriers
"""


def test_every_source_is_packaged():
    assert [p.name for p in build.sources()] == SOURCES
    assert (_compile.csrc() / "ef_common.cuh").exists()
    for p in build.sources():
        assert "__global__" in p.read_text()


def test_ptxas_log_is_parsed_per_kernel():
    kernels, spills, registers = build.parse_ptxas(_LOG)
    assert kernels == ["ef_a", "ef_b", "ef_c"]
    assert spills == {"ef_a": 0, "ef_b": 80, "ef_c": 8}  # stores + loads
    assert registers == {"ef_a": 32, "ef_b": 255, "ef_c": 64}


def test_spill_stores_or_loads_fail_the_check():
    result = build.judge("x.cu", "sm_90", 0, _LOG)
    assert not result.ok
    assert build._why(result) == "register spills: ef_b (80 bytes spilled), ef_c (8 bytes spilled)"


def test_a_log_without_spill_lines_fails_the_check():
    log = "ptxas info    : Compiling entry function 'ef_a' for 'sm_90'\n"
    assert not build.judge("x.cu", "sm_90", 0, log).ok
    assert not build.judge("x.cu", "sm_90", 0, "").ok  # nothing compiled at all


# -- one option list for the runtime loader and both checks ----------------------------------

def test_options_name_the_arch_and_the_headers():
    opts = _compile.options("sm_80")
    assert opts == ["-std=c++17", "-arch=sm_80", f"-I{_compile.csrc()}"]
    assert not any("fast-math" in o or "fast_math" in o for o in opts)


@needs_nvcc
def test_nvcc_is_given_exactly_the_runtime_options(tmp_path):
    r = build.compile_nvcc(NVCC, _compile.csrc() / "reduce_sum.cu", "sm_90")
    cmd = r.log.splitlines()[0].split()[1:]  # after the "$ " prompt
    assert cmd[1:4] == ["--cubin", "-Xptxas", "-v"]
    assert cmd[4:4 + len(_compile.options("sm_90"))] == _compile.options("sm_90")


def _capture_nvrtc_options(monkeypatch):
    from cupy.cuda import nvrtc
    seen = []
    real = nvrtc.compileProgram

    def spy(prog, options):
        seen.append(list(options))
        return real(prog, options)

    monkeypatch.setattr(nvrtc, "compileProgram", spy)
    return seen


@needs_nvrtc
def test_the_runtime_loader_compiles_with_the_same_options(monkeypatch, tmp_path):
    monkeypatch.setenv("EAGERFLOW_CUDA_CACHE", str(tmp_path))
    seen = _capture_nvrtc_options(monkeypatch)
    loaded = []
    cp = types.SimpleNamespace(
        cuda=types.SimpleNamespace(
            runtime=types.SimpleNamespace(getDevice=lambda: 0),
            Device=lambda i: types.SimpleNamespace(compute_capability="90")),
        RawModule=lambda path: loaded.append(path) or types.SimpleNamespace(
            get_function=lambda name: f"kernel {name}"))
    rt = _runtime.CudaRuntime(cp)
    assert rt.function("reduce_sum.cu", "ef_sum_rows_f32") == "kernel ef_sum_rows_f32"
    assert seen == [_compile.options("sm_90")]
    assert len(loaded) == 1 and loaded[0].endswith(".cubin") and loaded[0].startswith(str(tmp_path))
    # cached: a second runtime (a new process) loads the same file without compiling
    rt2 = _runtime.CudaRuntime(cp)
    rt2.function("reduce_sum.cu", "ef_sum_f64_final")
    assert len(seen) == 1 and loaded[1] == loaded[0]


@needs_nvrtc
def test_the_nvrtc_check_compiles_with_the_same_options(monkeypatch):
    seen = _capture_nvrtc_options(monkeypatch)
    r = build.compile_nvrtc(_compile.csrc() / "reduce_sum.cu", "sm_80")
    assert r.ok and seen == [_compile.options("sm_80")]
    assert r.binary_bytes > 1000


# -- the real sources -------------------------------------------------------------------------

@needs_nvcc
def test_sources_compile_with_nvcc_without_spills():
    results = build.check(NVCC, nvrtc=False, use_cache=True)
    assert [(r.source, r.arch) for r in results] == [(s, a) for s in SOURCES for a in build.ARCHS]
    for r in results:
        assert r.ok, f"{r.source} [{r.arch}]: {build._why(r)}\n{r.log}"
        assert r.kernels and all(v == 0 for v in r.spills.values())


@needs_nvrtc
def test_sources_compile_with_nvrtc():
    results = build.check(None, nvrtc=True, use_cache=True)
    assert [(r.source, r.arch, r.compiler) for r in results] == [
        (s, a, "nvrtc") for s in SOURCES for a in build.ARCHS]
    assert all(r.ok for r in results), "\n".join(r.log for r in results if not r.ok)


# -- a broken kernel fails with the compiler's message ---------------------------------------------

@needs_nvcc
def test_a_broken_source_fails_nvcc_with_its_log(tmp_path):
    bad = tmp_path / "bad.cu"
    bad.write_text(BROKEN)
    (result,) = build.check(NVCC, archs=("sm_90",), paths=[bad], nvrtc=False)
    assert not result.ok
    assert "undefined_name" in result.log and build._why(result) == "compilation failed"


@needs_nvrtc
def test_a_broken_source_fails_nvrtc_with_its_log(tmp_path):
    bad = tmp_path / "bad.cu"
    bad.write_text(BROKEN)
    (result,) = build.check(None, archs=("sm_80",), paths=[bad], nvrtc=True, use_cache=True)
    assert not result.ok and result.compiler == "nvrtc"
    assert 'identifier "undefined_name" is undefined' in result.log
    with pytest.raises(_compile.CompileError, match="undefined_name"):
        _compile.nvrtc_compile(bad, "sm_80")


def _run_check(*args, env_extra=None):
    import os
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "eagerflow_cuda.build", "--check", *args],
                          capture_output=True, text=True, env=env)


@needs_nvrtc
def test_check_command_reports_each_compile_and_exits_zero():
    out = _run_check("--require-nvrtc")
    assert out.returncode == 0, out.stdout + out.stderr
    for name in SOURCES:
        for arch in build.ARCHS:
            assert f"{name} [{arch}] nvrtc: ok" in out.stdout
            if NVCC:
                assert f"{name} [{arch}] nvcc: ok" in out.stdout
    n = len(SOURCES) * len(build.ARCHS) * (2 if NVCC else 1)
    assert f"{n} passed, 0 failed" in out.stdout


@needs_nvrtc
def test_check_command_fails_on_a_broken_source_with_the_compiler_message(tmp_path):
    bad = tmp_path / "zz_broken.cu"
    bad.write_text(BROKEN)
    out = _run_check("--source", str(bad), *(("--nvcc", NVCC) if NVCC else ()))
    assert out.returncode == 1
    assert "zz_broken.cu [sm_90] nvrtc: FAILED" in out.stdout
    assert 'identifier "undefined_name" is undefined' in out.stderr
    if NVCC:
        assert "zz_broken.cu [sm_80] nvcc: FAILED" in out.stdout


def test_check_without_compilers_says_so_and_fails_only_when_one_is_required(monkeypatch,
                                                                               capsys):
    monkeypatch.setattr(build, "find_nvcc", lambda explicit=None: None)
    monkeypatch.setattr(build, "nvrtc_status",
                        lambda: (False, "OSError: libnvrtc.so.13: not found"))
    assert build.main(["--check"]) == 0
    out = capsys.readouterr().out
    assert "nvcc not found; skipping the nvcc check" in out
    assert "NVRTC not available (OSError: libnvrtc.so.13: not found)" in out
    assert build.main(["--check", "--require-nvrtc"]) == 1
    err = capsys.readouterr().err
    assert "NVRTC not available: OSError: libnvrtc.so.13: not found (--require-nvrtc" in err
    assert build.main(["--check", "--require-nvcc"]) == 1
    assert "nvcc not found (--require-nvcc)" in capsys.readouterr().err


@needs_nvcc
def test_check_command_fails_on_a_bad_architecture():
    out = _run_check("--arch", "sm_1")
    assert out.returncode == 1
    assert "FAILED" in out.stdout and "nvcc" in out.stderr


def test_choose_arch():
    supported = (75, 80, 86, 87, 89, 90, 100, 120)
    assert _compile.choose_arch(80, supported) == "sm_80"
    assert _compile.choose_arch(90, supported) == "sm_90"
    assert _compile.choose_arch(88, (75, 80, 86, 87, 89, 90)) == "sm_87"
    assert _compile.choose_arch(121, supported) == "sm_120"  # a cubin runs on later minors
    assert _compile.choose_arch(130, supported) == "compute_120"  # a newer major: PTX, JIT
    assert _compile.choose_arch(103, (75, 80, 90, 100, 120)) == "sm_100"
    with pytest.raises(_compile.CompileError, match="older"):
        _compile.choose_arch(70, supported)
