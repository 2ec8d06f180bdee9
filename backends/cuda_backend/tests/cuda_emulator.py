"""The CUDA C kernels of ``eagerflow_cuda/csrc`` run on the CPU, behind CuPy's launch interface.

Each ``.cu`` file is compiled by the host C++ compiler against ``cuda_emu/ef_emu.h`` (blocks run
one after another, each block's threads as OS threads with real barriers and warp shuffles) into
a shared library. ``EmuModule.get_function(name)`` returns a callable with the signature of a
``cupy.RawKernel`` (``fn(grid, block, args, shared_mem=0)``) that packs ``args`` as CuPy does -
an array becomes its data pointer, ``None`` a null pointer, a NumPy scalar its bytes - and checks
them against the kernel's real parameter list first: a Python ``int`` or ``float``, an ``int32``
where the kernel reads ``long long``, a missing argument, each raises ``TypeError`` instead of
reading garbage. ``EmuRuntime`` stands in for ``eagerflow_cuda._runtime.CudaRuntime``, with NumPy
as the array namespace, so the backend's launchers run unchanged.

Libraries are cached by content (the header, every csrc file, the compiler and its flags) in
``$EAGERFLOW_EMU_CACHE`` or ``~/.cache/eagerflow/cuda-emu``.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from eagerflow_cuda import _compile

HEADER = Path(__file__).resolve().parent / "cuda_emu" / "ef_emu.h"
FLAGS = ("-std=c++17", "-O0", "-fPIC", "-shared", "-pthread", "-w")
_KERNEL = re.compile(r"EF_EMU_KERNEL\s+void\s+(\w+)\s*\(")
_KINDS = {1: "pointer", 2: "floating-point", 3: "signed integer", 4: "unsigned integer"}


def find_cxx() -> str | None:
    for name in (os.environ.get("CXX"), "g++", "clang++", "c++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def kernel_names(cxx: str, source: Path) -> list[str]:
    """The ``extern "C" __global__`` functions of ``source``, after macro expansion."""
    out = subprocess.run([cxx, "-std=c++17", "-E", "-P", "-DEF_EMU_SCAN", "-include", str(HEADER),
                          f"-I{_compile.csrc()}", "-x", "c++", str(source)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"preprocessing {source.name} failed:\n{out.stderr}")
    return _KERNEL.findall(out.stdout)


def _stubs(names: list[str]) -> str:
    lines = []
    for n in names:
        lines.append(f'extern "C" int ef_emu_launch__{n}(unsigned gx, unsigned gy, unsigned gz, '
                     f'unsigned bx, unsigned by, unsigned bz, void** p) {{ return ef_emu_launch('
                     f'{n}, gx, gy, gz, bx, by, bz, p); }}')
        lines.append(f'extern "C" int ef_emu_sig__{n}(long long* out, int cap) {{ return '
                     f'ef_emu_signature({n}, out, cap); }}')
    return "\n".join(lines) + "\n"


def _cache_dir() -> Path:
    root = os.environ.get("EAGERFLOW_EMU_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "eagerflow" / "cuda-emu"


_BUILD_LOCK = threading.Lock()


def build(source: Path, cxx: str | None = None) -> tuple[Path, list[str]]:
    """The shared library of ``source`` (compiled on first use) and its kernel names."""
    cxx = cxx or find_cxx()
    if cxx is None:
        raise RuntimeError("no C++ compiler (g++ or clang++) on the PATH")
    names = kernel_names(cxx, source)
    stubs = _stubs(names)
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    h = hashlib.sha256()
    for part in (HEADER.read_text(), stubs, version, " ".join(FLAGS), source.read_text(),
                 *(p.read_text() for p in sorted(_compile.csrc().glob("*.cuh")))):
        h.update(part.encode())
    lib = _cache_dir() / f"{source.stem}-{h.hexdigest()[:20]}.so"
    with _BUILD_LOCK:
        if not lib.exists():
            lib.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory() as tmp:
                unit = Path(tmp) / f"{source.stem}_emu.cpp"
                unit.write_text(f'#include "{source}"\n{stubs}')
                out = Path(tmp) / lib.name
                proc = subprocess.run([cxx, *FLAGS, "-include", str(HEADER),
                                       f"-I{_compile.csrc()}", "-o", str(out), str(unit)],
                                      capture_output=True, text=True)
                if proc.returncode != 0:
                    raise RuntimeError(f"compiling {source.name} for the emulator failed:\n"
                                       f"{proc.stderr}")
                os.replace(out, lib)  # atomic: a concurrent run never loads half a file
    return lib, names


class EmuFunction:
    """One kernel, called like a ``cupy.RawKernel``; ``calls`` records each launch shape."""

    def __init__(self, lib, name: str):
        self.name = name
        self._launch = getattr(lib, f"ef_emu_launch__{name}")
        self._launch.restype = ctypes.c_int
        sig = getattr(lib, f"ef_emu_sig__{name}")
        sig.restype = ctypes.c_int
        buf = (ctypes.c_longlong * 64)()
        n = sig(buf, 64)
        self.signature = [(buf[2 * i], buf[2 * i + 1]) for i in range(n)]
        self.calls: list[tuple[tuple, tuple, int]] = []

    def _pack(self, i: int, arg, kind: int, size: int):
        where = f"argument {i} of {self.name}"
        if kind == 1:
            if arg is None:
                return ctypes.c_uint64(0)
            if isinstance(arg, np.ndarray):
                return ctypes.c_uint64(arg.ctypes.data)
            raise TypeError(f"{where}: the kernel reads a pointer, got {type(arg).__name__} "
                            f"(pass an array, or None for a null pointer)")
        if not isinstance(arg, np.generic):
            raise TypeError(f"{where}: the kernel reads a {size}-byte {_KINDS[kind]}, got a Python "
                            f"{type(arg).__name__}; pass a NumPy scalar of the kernel's exact "
                            f"type (CuPy packs a Python int as int64 and a float as float64)")
        ok = {2: np.floating, 3: np.signedinteger, 4: (np.unsignedinteger, np.bool_)}[kind]
        if not isinstance(arg, ok) or arg.itemsize != size:
            raise TypeError(f"{where}: the kernel reads a {size}-byte {_KINDS[kind]}, got "
                            f"numpy.{type(arg).__name__} ({arg.itemsize} bytes)")
        return ctypes.create_string_buffer(arg.tobytes(), size)

    def __call__(self, grid, block, args, shared_mem=0, stream=None):
        grid, block = tuple(grid) + (1,) * (3 - len(grid)), tuple(block) + (1,) * (3 - len(block))
        if any(not isinstance(v, (int, np.integer)) or v < 1 for v in grid + block):
            raise ValueError(f"{self.name}: bad launch shape grid={grid} block={block}")
        if shared_mem:
            raise ValueError(f"{self.name}: the emulator has no dynamic shared memory")
        if len(args) != len(self.signature):
            raise TypeError(f"{self.name} takes {len(self.signature)} arguments, got {len(args)}")
        bufs = [self._pack(i, a, k, s) for i, (a, (k, s)) in enumerate(zip(args, self.signature))]
        params = (ctypes.c_void_p * max(1, len(bufs)))(*[ctypes.addressof(b) for b in bufs])
        self.calls.append((grid, block, shared_mem))
        rc = self._launch(*(ctypes.c_uint(int(v)) for v in grid + block), params)
        if rc != 0:
            raise ValueError(f"{self.name}: the emulator refused grid={grid} block={block}")


class EmuModule:
    """A compiled ``.cu`` file: ``get_function`` as ``cupy.RawModule``'s."""

    def __init__(self, source: Path):
        lib_path, self.names = build(source)
        self._lib = ctypes.CDLL(str(lib_path))
        self._functions: dict[str, EmuFunction] = {}

    def get_function(self, name: str) -> EmuFunction:
        if name not in self._functions:
            if name not in self.names:
                raise AttributeError(f"no kernel {name!r} in this module")
            self._functions[name] = EmuFunction(self._lib, name)
        return self._functions[name]


class EmuRuntime:
    """What the launchers ask of ``CudaRuntime``, on the emulator with NumPy arrays."""

    def __init__(self, sm_count: int = 4):
        self.xp = np
        self.sm_count_value = sm_count
        self.modules: dict[str, EmuModule] = {}

    def function(self, source: str, name: str) -> EmuFunction:
        if source not in self.modules:
            self.modules[source] = EmuModule(_compile.csrc() / source)
        return self.modules[source].get_function(name)

    def sm_count(self) -> int:
        return self.sm_count_value

    @staticmethod
    def data_ptr(a) -> int:
        return a.ctypes.data

    def launched(self) -> list[str]:
        """Names of the kernels launched so far, in no particular order."""
        return [n for m in self.modules.values() for n, f in m._functions.items() if f.calls]
