"""eagerflow's CUDA backend, on CuPy (cuBLAS matmul, fused CUDA C kernels from ``csrc/``).

Registered through the ``eagerflow.backends`` entry point as plugin ``"cuda"``; it uses only the
plugin surface ``eagerflow_core.plugins``. Importing this package is light and never fails on a
machine without a GPU: CuPy is imported by ``is_available()`` (to learn the reason a GPU cannot
be used) and by ``initialize()``, which runs on first use of a ``"cuda"`` device.

Besides the kernel table, a backend holds: ``fused`` (the fused kernels of ``fused.py``, also
``eagerflow_cuda.fused.FUSED``), the execution contract (``synchronize``, ``memory_stats``,
streams and events: ``_execution.py``), and the counter-based ``random.uniform`` /
``random.normal`` kernels in its table.

>>> import eagerflow_cuda
>>> b = eagerflow_cuda.CupyBackend()
>>> b.name, b.device_type, b.priority, b.dlpack_device_type
('cuda', 'cuda', 10, 2)
>>> "bfloat16" in b.native_dtypes()  # CuPy has no bfloat16 dtype
False
"""

from __future__ import annotations

import numpy as np

from eagerflow_core.plugins import ArrayAPIBackend, hookimpl

from ._execution import CudaExecution, PeakTracker
from .fusion import FUSION_DTYPES, FUSION_OPS

__version__ = "0.1.0"
__all__ = ["CupyBackend", "eagerflow_backend", "__version__"]

# Every eagerflow dtype CuPy has; bfloat16 is missing from CuPy, so eagerflow reports a clear
# DTypeError for bfloat16 on "cuda" devices.
_NATIVE = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64", "complex64", "complex128")


def _probe() -> tuple[bool, str]:
    """Whether CuPy can use a GPU here, and if not, the real reason. Never raises."""
    try:
        import cupy
        version = cupy.__version__
    except ImportError as exc:
        return False, f"cupy is not installed ({exc}); pip install cupy-cuda13x"
    except Exception as exc:  # a broken CuPy install must not break eagerflow
        return False, f"import cupy failed: {type(exc).__name__}: {exc}"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError: no driver, too old a driver, no device
        return False, f"{exc} (cupy {version} found no usable CUDA device)"
    if count < 1:
        return False, f"cupy {version} found no usable CUDA device (the CUDA runtime counts 0)"
    return True, ""


def _special():
    """``cupyx.scipy.special`` (CuPy's special functions), or None if this CuPy lacks it."""
    try:
        from cupyx.scipy import special
    except ImportError:
        return None
    return special


class CupyBackend(CudaExecution, ArrayAPIBackend):
    """The ``"cuda"`` devices, one per GPU that CuPy sees."""

    name = "cuda"
    device_type = "cuda"
    version = __version__
    priority = 10  # beats the CPU when a GPU is there
    checks_index_bounds = False  # a GPU gather does not raise on out-of-range indices
    dlpack_device_type = 2  # kDLCUDA
    namespace = None  # cupy, once initialize() ran
    # ef.function's fusion (issue #11): a group of elementwise ops becomes one generated CUDA C
    # kernel (fusion.py), compiled by NVRTC like csrc/*.cu.
    fusion_ops = FUSION_OPS
    fusion_dtypes = FUSION_DTYPES

    def __init__(self):
        super().__init__()
        self._availability: tuple[bool, str] | None = None
        self.runtime = None  # _runtime.CudaRuntime: the compiled csrc modules per device
        self.sums = None     # _fused.FusedSums: the float32 sums of the kernel table
        self.fused = None    # fused.Fused: the fused training kernels
        self.random = None   # _random.Random: the counter-based draws
        self.fuser = None    # fusion.Fuser: ef.function's elementwise groups

    def is_available(self) -> tuple[bool, str]:
        # Cached: the core asks on every ef.backends() and device lookup, and the answer (the
        # driver and the GPUs a process sees) does not change while the process runs.
        if self._availability is None:
            self._availability = _probe()
        return self._availability

    def initialize(self) -> None:
        import cupy

        from . import fused
        from ._fused import FusedSums
        from .fusion import Fuser, gpu_loader
        from ._random import Random
        from ._runtime import CudaRuntime
        self.namespace = cupy
        self.array_type = cupy.ndarray  # read by the core on every op result: a plain attribute
        runtime = cupy.cuda.runtime.runtimeGetVersion()
        self.version = (f"{__version__} (cupy {cupy.__version__}, CUDA runtime "
                        f"{runtime // 1000}.{runtime % 1000 // 10})")
        self.runtime = CudaRuntime(cupy)
        self.sums = FusedSums(self.runtime)
        self.fused = fused.Fused(self.runtime)
        self.random = Random(self.runtime)
        self.fuser = Fuser(self.runtime, gpu_loader(self.runtime))
        self._peaks = PeakTracker(cupy)
        self._peaks.install()

    def device_count(self) -> int:
        return self.namespace.cuda.runtime.getDeviceCount()

    # -- eagerflow_core.distributed's communicator hook: NCCL among the ranks' GPUs ---------
    def communicator(self, info):
        if info.size == 1:  # one process: the core's identity communicator
            return None
        from .nccl import NcclCommunicator, nccl_available
        if not nccl_available()[0]:
            return None  # MPI through host memory, a counted fallback (communicator_unavailable)
        return NcclCommunicator(info)

    def communicator_unavailable(self) -> str:
        from .nccl import nccl_available
        ok, why = nccl_available()
        return "" if ok else f"NCCL cannot be used: {why}"

    def compile_elementwise(self, group):
        """One generated CUDA C kernel for an ef.function group (``fusion.py``), built and
        launched with the group's device current."""
        index = group.device.index
        if index == 0 and self.device_count() == 1:
            return self.fuser.compile(group)
        rt = self.namespace.cuda.runtime
        with self.namespace.cuda.Device(index):
            launch = self.fuser.compile(group)
        from .kernels import bind
        return None if launch is None else bind({"fused": launch}, index, rt)["fused"]

    def native_dtypes(self) -> dict:
        return {name: np.dtype(name) for name in _NATIVE}

    def _table(self) -> dict:
        from .kernels import build_table
        return build_table(self.namespace, self.sums, special=_special(), training=self.fused,
                           extras={**self.random.table(),
                                   "from_dlpack": self.from_dlpack_on_device})

    def kernels(self) -> dict:
        """The table of device 0 (the core binds other devices through ``kernels_for``)."""
        from .kernels import bind
        table = self._table()
        if self.device_count() > 1:  # another device may be CuPy's current one
            table = bind(table, 0, self.namespace.cuda.runtime)
        return table

    def kernels_for(self, index: int) -> dict:
        from .kernels import bind
        if index == 0:
            return self.kernels()
        return bind(self._table(), index, self.namespace.cuda.runtime)

    def from_host(self, array: np.ndarray, index: int):
        cp = self.namespace
        with cp.cuda.Device(index):  # a new Device object per call: its context stack is not shared
            return cp.asarray(array)

    def to_host(self, raw) -> np.ndarray:
        return raw.get()  # copies on the array's own device, then synchronises

    def coerce(self, raw):
        return self.namespace.asarray(raw)

    def device_index(self, raw) -> int:
        return raw.device.id


@hookimpl
def eagerflow_backend():
    return CupyBackend()
