"""Compile-check the CUDA C sources of ``csrc/`` without a GPU: nvcc and NVRTC, sm_90 and sm_80.

    python -m eagerflow_cuda.build --check [--arch sm_90 --arch sm_80] [--nvcc PATH]
                                   [--require-nvrtc] [--require-nvcc] [--jobs N] [--no-cache]
                                   [--source FILE.cu ...]

Each ``csrc/*.cu`` is compiled for each architecture twice, both times with the option list the
backend uses at run time (``_compile.options``):

- by **NVRTC** at the low level (``cupy.cuda.nvrtc``: createProgram, compileProgram, getCUBIN),
  the very call the backend makes on a GPU (``_compile.nvrtc_compile``);
- by **nvcc** to a cubin with ``-Xptxas -v`` added, so that ptxas reports every kernel's
  registers and spill bytes: a kernel that spills (``bytes spill stores`` or ``loads`` not 0)
  fails, since a spill in a memory-bound kernel costs bandwidth.

A compile that fails prints the compiler's log. A compiler that is absent is reported and
skipped, unless ``--require-nvrtc`` / ``--require-nvcc`` make that a failure (``make
cuda-check`` requires NVRTC, which the Makefile installs). Passing results are cached by content
(source, headers, options, compiler version) under ``_compile.cache_dir()/check``, so an
unchanged tree checks in a second; ``--no-cache`` compiles everything again.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import _compile
from ._compile import ARCHS

_FUNCTION = re.compile(r"Compiling entry function '(\w+)'")
_SPILL = re.compile(r"(\d+) bytes spill stores, (\d+) bytes spill loads")
_REGISTERS = re.compile(r"Used (\d+) registers")


@dataclass
class Result:
    """The outcome of compiling one source for one architecture with one compiler."""

    source: str
    arch: str
    ok: bool
    log: str
    compiler: str = "nvcc"
    kernels: list[str] = field(default_factory=list)
    spills: dict[str, int] = field(default_factory=dict)  # kernel -> spill stores + loads (bytes)
    registers: dict[str, int] = field(default_factory=dict)
    binary_bytes: int = 0
    cached: bool = False

    def summary(self) -> str:
        head = f"{self.source} [{self.arch}] {self.compiler}"
        if not self.ok:
            return f"{head}: FAILED"
        cached = " (cached)" if self.cached else ""
        if self.compiler == "nvrtc":
            return f"{head}: ok, {self.binary_bytes // 1024} KiB cubin{cached}"
        worst = max(self.registers.values(), default=0)
        return (f"{head}: ok, {len(self.kernels)} kernels, at most {worst} registers, "
                f"0 bytes spilled{cached}")


def find_nvcc(explicit: str | None = None) -> str | None:
    """nvcc from ``explicit``, the PATH, ``$CUDA_HOME`` or ``/usr/local/cuda``; None if absent."""
    if explicit:
        return explicit if shutil.which(explicit) else None
    found = shutil.which("nvcc")
    if found:
        return found
    for root in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if root and os.access(os.path.join(root, "bin", "nvcc"), os.X_OK):
            return os.path.join(root, "bin", "nvcc")
    return None


def nvrtc_status() -> tuple[bool, str]:
    """Whether NVRTC can be loaded here, and its version or the reason it cannot."""
    try:
        major, minor = _compile.nvrtc_version()
    except Exception as exc:  # cupy missing, libnvrtc missing: the reason is the message
        return False, f"{type(exc).__name__}: {exc}"
    return True, f"NVRTC {major}.{minor}"


sources = _compile.sources


def parse_ptxas(log: str) -> tuple[list[str], dict[str, int], dict[str, int]]:
    """Kernel names, spilled bytes (stores + loads) and registers per kernel of a ptxas log."""
    kernels, spills, registers = [], {}, {}
    current = None
    for line in log.splitlines():
        m = _FUNCTION.search(line)
        if m:
            current = m.group(1)
            kernels.append(current)
            continue
        if current is None:
            continue
        m = _SPILL.search(line)
        if m:
            spills[current] = int(m.group(1)) + int(m.group(2))
        m = _REGISTERS.search(line)
        if m:
            registers[current] = int(m.group(1))
    return kernels, spills, registers


def judge(source: str, arch: str, returncode: int, log: str) -> Result:
    """Whether an nvcc compile passed: it succeeded, ptxas reported on every kernel, none spills."""
    kernels, spills, registers = parse_ptxas(log)
    ok = returncode == 0 and bool(kernels) and all(k in spills for k in kernels) \
        and not any(spills.values())
    return Result(source, arch, ok, log, "nvcc", kernels, spills, registers)


def _why(r: Result) -> str:
    spilling = {k: v for k, v in r.spills.items() if v}
    if spilling:
        return "register spills: " + ", ".join(f"{k} ({v} bytes spilled)"
                                               for k, v in spilling.items())
    if r.kernels and len(r.spills) < len(r.kernels):
        return "ptxas did not report spills for every kernel (is -Xptxas -v honoured?)"
    if r.compiler == "nvcc" and not r.kernels and "error" not in r.log.lower():
        return "no kernel was compiled (no __global__ function?)"
    return "compilation failed"


# -- the cache of passing results ---------------------------------------------------------------

def _cache_file(compiler_id: str, path: Path, arch: str, use_cache: bool) -> Path | None:
    if not use_cache:
        return None
    key = _compile.cache_key(path, arch, compiler_id)
    return _compile.cache_dir() / "check" / f"{path.stem}-{arch}-{key}.json"


def _cached(file: Path | None) -> Result | None:
    if file is None or not file.exists():
        return None
    try:
        r = Result(**json.loads(file.read_text()))
    except (ValueError, TypeError):
        return None
    r.cached = True
    return r


def _store(file: Path | None, r: Result) -> None:
    if file is None or not r.ok:
        return  # only passes are remembered: a failure is compiled (and reported) every time
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=file.parent, suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(r), f)
    os.replace(tmp, file)


# -- the two compilers --------------------------------------------------------------------------

def compile_nvcc(nvcc: str, path: Path, arch: str, use_cache: bool = False,
                 nvcc_id: str | None = None) -> Result:
    cache = _cache_file(nvcc_id, path, arch, use_cache) if nvcc_id else None
    hit = _cached(cache)
    if hit is not None:
        return hit
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [nvcc, "--cubin", "-Xptxas", "-v", *_compile.options(arch),
               "-o", os.path.join(tmp, path.stem + ".cubin"), str(path)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
    log = f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}"
    r = judge(path.name, arch, proc.returncode, log)
    _store(cache, r)
    return r


def compile_nvrtc(path: Path, arch: str, use_cache: bool = False) -> Result:
    cache = _cache_file(f"nvrtc {_compile.nvrtc_version()}", path, arch, use_cache)
    hit = _cached(cache)
    if hit is not None:
        return hit
    head = f"NVRTC {'.'.join(map(str, _compile.nvrtc_version()))}: {path.name} " \
           f"{' '.join(_compile.options(arch))}\n"
    try:
        binary = _compile.nvrtc_compile(path, arch)
    except _compile.CompileError as exc:
        return Result(path.name, arch, False, head + exc.log, "nvrtc")
    r = Result(path.name, arch, True, head, "nvrtc", binary_bytes=len(binary))
    _store(cache, r)
    return r


def _nvcc_id(nvcc: str) -> str:
    return subprocess.run([nvcc, "--version"], capture_output=True, text=True).stdout


def check(nvcc: str | None = None, archs=ARCHS, paths=None, *, nvrtc: bool = True,
          use_cache: bool = False, jobs: int | None = None) -> list[Result]:
    """Every (source, arch) compiled by nvcc (if ``nvcc`` is given) and NVRTC (if ``nvrtc``),
    in parallel; results in a fixed order (source, arch, nvcc before nvrtc)."""
    paths = sources() if paths is None else list(paths)
    nvcc_id = _nvcc_id(nvcc) if nvcc and use_cache else None
    tasks = []
    for p in paths:
        for a in archs:
            if nvcc:
                tasks.append((compile_nvcc, (nvcc, p, a, use_cache, nvcc_id)))
            if nvrtc:
                tasks.append((compile_nvrtc, (p, a, use_cache)))
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        return list(pool.map(lambda t: t[0](*t[1]), tasks))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eagerflow_cuda.build",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compile every csrc/*.cu with nvcc and NVRTC, check for spills")
    parser.add_argument("--arch", action="append",
                        help=f"target architecture, repeatable (default: {' '.join(ARCHS)})")
    parser.add_argument("--nvcc",
                        help="the nvcc to use (default: from PATH, CUDA_HOME, /usr/local/cuda)")
    parser.add_argument("--require-nvcc", action="store_true", help="fail if nvcc is absent")
    parser.add_argument("--require-nvrtc", action="store_true", help="fail if NVRTC is absent")
    parser.add_argument("--jobs", type=int, help="parallel compiles (default: CPU count)")
    parser.add_argument("--no-cache", action="store_true", help="compile even unchanged sources")
    parser.add_argument("--source", action="append", type=Path,
                        help="check this .cu file instead of every csrc/*.cu (repeatable)")
    args = parser.parse_args(argv)
    if not args.check:
        parser.print_help()
        return 2
    nvcc = find_nvcc(args.nvcc)
    have_nvrtc, nvrtc_note = nvrtc_status()
    missing = []
    if nvcc is None:
        print("nvcc not found; skipping the nvcc check")
        if args.require_nvcc:
            missing.append("nvcc not found (--require-nvcc)")
    if not have_nvrtc:
        print(f"NVRTC not available ({nvrtc_note}); skipping the NVRTC check")
        if args.require_nvrtc:
            missing.append(f"NVRTC not available: {nvrtc_note} (--require-nvrtc; "
                           f'pip install "cuda-toolkit[nvrtc]==13.0.*")')
    if nvcc is None and not have_nvrtc:
        for m in missing:
            print(m, file=sys.stderr)
        return 1 if missing else 0
    paths = args.source or sources()
    if not paths:
        print("no csrc/*.cu sources found in the installed package", file=sys.stderr)
        return 1
    results = check(nvcc, tuple(args.arch or ARCHS), paths, nvrtc=have_nvrtc,
                    use_cache=not args.no_cache, jobs=args.jobs)
    failed = [r for r in results if not r.ok]
    for r in results:
        print(r.summary())
    for r in failed:
        print(f"\n--- {r.source} [{r.arch}] {r.compiler}: {_why(r)}\n{r.log}", file=sys.stderr)
    for m in missing:
        print(m, file=sys.stderr)
    tools = ", ".join(t for t in (nvcc and f"nvcc {nvcc}", have_nvrtc and nvrtc_note) if t)
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed ({tools})")
    return 1 if failed or missing else 0


if __name__ == "__main__":
    sys.exit(main())
