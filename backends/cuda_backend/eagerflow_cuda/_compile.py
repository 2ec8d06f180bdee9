"""Compiling ``csrc/*.cu``: one option list for NVRTC at run time and for the build checks.

At run time each source is compiled by NVRTC, at the low level (``cupy.cuda.nvrtc``), to a cubin
for the device's own architecture, cached on disk by content, and loaded with
``cupy.RawModule(path=...)``. ``python -m eagerflow_cuda.build --check`` compiles the same text
with the same :func:`options` through NVRTC and through nvcc (which adds only ``--cubin -Xptxas
-v -o FILE``), so what CI proves is what the GPU runs.

>>> from eagerflow_cuda import _compile
>>> _compile.options("sm_90")[:2]
['-std=c++17', '-arch=sm_90']
>>> _compile.choose_arch(90, (75, 80, 86, 89, 90, 100, 120))
'sm_90'
>>> _compile.choose_arch(87, (75, 80, 86, 89, 90))  # an sm_86 cubin runs on sm_87
'sm_86'
>>> _compile.choose_arch(130, (75, 80, 90, 120))    # newer than NVRTC: PTX, JIT by the driver
'compute_120'
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

#: The architectures CI compiles for: H100/H200 and A100, the GPUs this backend is tested on.
ARCHS = ("sm_90", "sm_80")
#: The oldest compute capability the kernels are written for (warp shuffles with masks, and
#: NVRTC 13 starts at sm_75).
MIN_CC = 75


class CompileError(RuntimeError):
    """A ``csrc`` source did not compile; the message carries the compiler's log."""

    def __init__(self, source: str, arch: str, log: str):
        self.source, self.arch, self.log = source, arch, log
        super().__init__(f"{source} did not compile for {arch}:\n{log.strip()}")


def csrc() -> Path:
    """The folder of the CUDA C sources, in the installed package."""
    return Path(str(resources.files(__package__).joinpath("csrc")))


def sources() -> list[Path]:
    """Every ``csrc/*.cu`` (the ``.cuh`` headers are included by them)."""
    return sorted(csrc().glob("*.cu"))


def options(arch: str) -> list[str]:
    """The compiler options of every compile of ``csrc``, for NVRTC and nvcc alike.

    ``arch`` is ``sm_XY`` (a cubin for that GPU) or ``compute_XY`` (PTX). No fast-math: the
    kernels keep IEEE division and square roots, as the NumPy references do.
    """
    return ["-std=c++17", f"-arch={arch}", f"-I{csrc()}"]


def choose_arch(cc: int, supported) -> str:
    """The ``-arch`` for a device of compute capability ``cc`` (90 for sm_90) given NVRTC's
    ``supported`` architectures: the device's own if NVRTC has it; else the newest one of the same
    major version below it (a cubin runs on later minor versions of its major); else, for a GPU
    of a major version newer than NVRTC knows, PTX of the newest architecture below it, which
    the driver compiles when the module is loaded."""
    supported = sorted(int(a) for a in supported)
    if cc < MIN_CC or not supported or cc < supported[0]:
        raise CompileError("csrc", f"sm_{cc}", f"a GPU of compute capability {cc // 10}.{cc % 10} "
                           f"is older than these kernels support ({MIN_CC // 10}.{MIN_CC % 10}+) "
                           f"or this NVRTC compiles for ({supported[:1]})")
    if cc in supported:
        return f"sm_{cc}"
    same_major = [a for a in supported if a // 10 == cc // 10 and a < cc]
    if same_major:
        return f"sm_{same_major[-1]}"
    return f"compute_{max(a for a in supported if a < cc)}"


def nvrtc_compile(path: Path, arch: str) -> bytes:
    """``path`` compiled by NVRTC with :func:`options`: a cubin (``sm_XY``) or PTX (``compute_XY``).

    Needs no GPU. Raises :class:`CompileError` with NVRTC's log when the source is wrong, and
    ``RuntimeError`` (from CuPy) when NVRTC itself cannot be loaded.
    """
    from cupy.cuda import nvrtc

    prog = nvrtc.createProgram(path.read_text(), path.name, [], [])
    try:
        try:
            nvrtc.compileProgram(prog, options(arch))
        except nvrtc.NVRTCError as exc:
            raise CompileError(path.name, arch, nvrtc.getProgramLog(prog) or str(exc)) from None
        return nvrtc.getCUBIN(prog) if arch.startswith("sm_") else nvrtc.getPTX(prog).encode()
    finally:
        nvrtc.destroyProgram(prog)


@lru_cache(maxsize=1)
def nvrtc_version() -> tuple[int, int]:
    from cupy.cuda import nvrtc
    return tuple(nvrtc.getVersion())


def supported_archs() -> tuple[int, ...]:
    from cupy.cuda import nvrtc
    return tuple(nvrtc.getSupportedArchs())


def cache_dir() -> Path:
    """Where compiled kernels are kept: ``$EAGERFLOW_CUDA_CACHE``, else
    ``$XDG_CACHE_HOME/eagerflow/cuda``, else ``~/.cache/eagerflow/cuda``."""
    root = os.environ.get("EAGERFLOW_CUDA_CACHE")
    if root:
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "eagerflow" / "cuda"


def cache_key(path: Path, arch: str, version) -> str:
    """A digest of everything the binary depends on: the source, every header of ``csrc``, the
    options and the compiler's version."""
    h = hashlib.sha256()
    headers = (p.read_text() for p in sorted(csrc().glob("*.cuh")))
    for part in (path.name, path.read_text(), *headers,
                 " ".join(options(arch)), repr(tuple(version))):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def compiled(path: Path, arch: str) -> Path:
    """The binary of ``path`` for ``arch`` in the cache, compiled first if it is not there."""
    suffix = ".cubin" if arch.startswith("sm_") else ".ptx"
    out = cache_dir() / f"{path.stem}-{arch}-{cache_key(path, arch, nvrtc_version())}{suffix}"
    if not out.exists():
        binary = nvrtc_compile(path, arch)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=suffix)
        with os.fdopen(fd, "wb") as f:
            f.write(binary)
        os.replace(tmp, out)  # atomic: another process never loads half a file
    return out
