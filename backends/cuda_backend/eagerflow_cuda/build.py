"""Compile-check the CUDA C sources of ``csrc/`` with the machine's nvcc; no GPU needed.

    python -m eagerflow_cuda.build --check [--arch sm_90 --arch sm_80] [--nvcc PATH]

Each ``csrc/*.cu`` is compiled to a cubin for each architecture with ``-Xptxas -v``, which makes
ptxas report every kernel's registers, shared memory and spill bytes. The check fails (exit 1,
printing the compiler log) when a file does not compile or a kernel spills registers to local
memory (a non-zero ``bytes spill stores``): a spill in a memory-bound kernel costs bandwidth.
Without nvcc it says so and exits 0; at run time CuPy compiles the same sources with NVRTC.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

ARCHS = ("sm_90", "sm_80")  # H100/H200 and A100: the GPUs this backend is tested on
#: The options CuPy's NVRTC compile gets from ``_fused.py``, so that both compilers see one dialect.
OPTIONS = ("-std=c++17",)

_FUNCTION = re.compile(r"Compiling entry function '(\w+)'")
_SPILL = re.compile(r"(\d+) bytes spill stores")
_REGISTERS = re.compile(r"Used (\d+) registers")


@dataclass
class Result:
    """The outcome of compiling one source for one architecture."""

    source: str
    arch: str
    ok: bool
    log: str
    kernels: list[str] = field(default_factory=list)
    spills: dict[str, int] = field(default_factory=dict)  # kernel -> bytes spill stores
    registers: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        if not self.ok:
            return f"{self.source} [{self.arch}]: FAILED"
        worst = max(self.registers.values(), default=0)
        return (f"{self.source} [{self.arch}]: ok, {len(self.kernels)} kernels, at most "
                f"{worst} registers, 0 bytes spill stores")


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


def sources() -> list[Path]:
    """Every ``csrc/*.cu`` of the installed package."""
    folder = resources.files(__package__).joinpath("csrc")
    return sorted(Path(str(folder)).glob("*.cu"))


def parse_ptxas(log: str) -> tuple[list[str], dict[str, int], dict[str, int]]:
    """Kernel names, spill-store bytes and registers per kernel from a ``-Xptxas -v`` log."""
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
            spills[current] = int(m.group(1))
        m = _REGISTERS.search(line)
        if m:
            registers[current] = int(m.group(1))
    return kernels, spills, registers


def judge(source: str, arch: str, returncode: int, log: str) -> Result:
    """Whether a compile passed: it succeeded, ptxas reported on every kernel, and none spills."""
    kernels, spills, registers = parse_ptxas(log)
    ok = returncode == 0 and bool(kernels) and all(k in spills for k in kernels) \
        and not any(spills.values())
    return Result(source, arch, ok, log, kernels, spills, registers)


def compile_one(nvcc: str, path: Path, arch: str) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [nvcc, "--cubin", f"-arch={arch}", "-Xptxas", "-v", *OPTIONS,
               "-o", os.path.join(tmp, path.stem + ".cubin"), str(path)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
    log = f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}"
    return judge(path.name, arch, proc.returncode, log)


def check(nvcc: str, archs=ARCHS, paths=None) -> list[Result]:
    return [compile_one(nvcc, p, a) for p in (sources() if paths is None else paths) for a in archs]


def _why(r: Result) -> str:
    spilling = {k: v for k, v in r.spills.items() if v}
    if spilling:
        return "register spills: " + ", ".join(f"{k} ({v} bytes spill stores)"
                                               for k, v in spilling.items())
    if r.kernels and len(r.spills) < len(r.kernels):
        return "ptxas did not report spills for every kernel (is -Xptxas -v honoured?)"
    if not r.kernels and "error" not in r.log.lower():
        return "no kernel was compiled (no __global__ function?)"
    return "compilation failed"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eagerflow_cuda.build",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compile every csrc/*.cu and check for spills")
    parser.add_argument("--arch", action="append",
                        help=f"target architecture, repeatable (default: {' '.join(ARCHS)})")
    parser.add_argument("--nvcc",
                        help="the nvcc to use (default: from PATH, CUDA_HOME, /usr/local/cuda)")
    args = parser.parse_args(argv)
    if not args.check:
        parser.print_help()
        return 2
    nvcc = find_nvcc(args.nvcc)
    if nvcc is None:
        print("nvcc not found; skipping CUDA compile check")
        return 0
    paths = sources()
    if not paths:
        print("no csrc/*.cu sources found in the installed package", file=sys.stderr)
        return 1
    results = check(nvcc, tuple(args.arch or ARCHS), paths)
    failed = [r for r in results if not r.ok]
    for r in results:
        print(r.summary())
    for r in failed:
        print(f"\n--- {r.source} [{r.arch}]: {_why(r)}\n{r.log}", file=sys.stderr)
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed ({nvcc})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
