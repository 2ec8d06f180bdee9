"""The compiled ``csrc`` modules on the GPU, per device, for the launchers of ``fused.py``.

A launcher asks its runtime for a kernel by source file and name; the runtime compiles the
source for the current device's architecture on first use (``_compile.compiled``: NVRTC to a
cubin, cached on disk) and loads it with ``cupy.RawModule``. The tests give the launchers
another runtime with the same four members (``tests/cuda_emulator.py``: the kernels on CPU
threads, NumPy arrays), so the launch code they check is the code that runs here.
"""

from __future__ import annotations

import threading

from . import _compile


class CudaRuntime:
    """``xp`` (cupy), ``function(source, name)``, ``sm_count()``, ``data_ptr(array)``."""

    def __init__(self, cp):
        self.xp = cp
        self._lock = threading.Lock()
        self._modules: dict[tuple[int, str], object] = {}
        self._functions: dict[tuple[int, str, str], object] = {}
        self._sms: dict[int, int] = {}

    def _device(self) -> int:
        return self.xp.cuda.runtime.getDevice()

    def function(self, source: str, name: str):
        """The kernel ``name`` of ``csrc/<source>`` on the current device (a ``RawKernel``)."""
        dev = self._device()
        fn = self._functions.get((dev, source, name))
        if fn is None:
            fn = self._functions[dev, source, name] = self._module(dev, source).get_function(name)
        return fn

    def _module(self, dev: int, source: str):
        mod = self._modules.get((dev, source))
        if mod is None:
            with self._lock:
                mod = self._modules.get((dev, source))
                if mod is None:
                    cc = int(self.xp.cuda.Device(dev).compute_capability)
                    arch = _compile.choose_arch(cc, _compile.supported_archs())
                    path = _compile.compiled(_compile.csrc() / source, arch)
                    mod = self._modules[dev, source] = self.xp.RawModule(path=str(path))
        return mod

    def sm_count(self) -> int:
        dev = self._device()
        n = self._sms.get(dev)
        if n is None:
            rt = self.xp.cuda.runtime
            n = self._sms[dev] = rt.deviceGetAttribute(rt.cudaDevAttrMultiProcessorCount, dev)
        return n

    @staticmethod
    def data_ptr(a) -> int:
        return a.data.ptr
