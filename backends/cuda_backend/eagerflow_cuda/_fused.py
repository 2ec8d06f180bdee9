"""The float32 sums of ``csrc/reduce_sum.cu``: launchers for the kernel table's ``sum``.

The kernels accumulate in double (the source's header says why). They compile on first use
through the runtime (``_runtime.CudaRuntime``: NVRTC to a cubin for the device, cached on disk);
if that fails (no NVRTC on the machine, say), the sums warn once and the kernel table falls back
to ``cupy.sum``: ``FusedSums.reason`` says why, and the GPU tests assert that the fused path is
the one used.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np

from . import _launch

#: Threads per block: ``EF_BLOCK`` in ``csrc/reduce_sum.cu``.
BLOCK = 256
WARPS = BLOCK // 32
#: Pass 1 never launches more blocks than this (pass 2 is one block over the partial sums).
MAX_PARTIALS = 1024
#: Pass 1 gives each thread at least this many elements before adding blocks.
PER_THREAD = 16

KERNELS = ("ef_sum_f32_partial", "ef_sum_f64_final", "ef_sum_rows_f32")


def partial_blocks(n: int, sm_count: int) -> int:
    """Blocks of pass 1 for ``n`` elements: at least PER_THREAD elements per thread, at most
    8 blocks per SM (2048 threads fill an SM: enough loads in flight for full bandwidth) and
    MAX_PARTIALS."""
    return max(1, min(MAX_PARTIALS, _launch.WAVES * sm_count, -(-n // (BLOCK * PER_THREAD))))


class FusedSums:
    """Launchers for ``csrc/reduce_sum.cu`` on a runtime ``rt`` (``_runtime.CudaRuntime``)."""

    def __init__(self, rt):
        self.rt = rt
        self._cp = rt.xp
        self._lock = threading.Lock()
        self.ok: bool | None = None  # None until the first compile attempt
        self.reason = ""

    def ready(self) -> bool:
        """True once the kernels compiled; compiles them on the first call."""
        if self.ok is None:
            with self._lock:
                if self.ok is None:
                    self._compile()
        return self.ok

    def _compile(self) -> None:
        try:
            for name in KERNELS:
                self.rt.function("reduce_sum.cu", name)
            self.ok = True
        except Exception as exc:  # a missing NVRTC must cost speed, not correctness
            self.ok = False
            self.reason = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"eagerflow_cuda: the fused CUDA sums of csrc/reduce_sum.cu did not "
                          f"compile ({self.reason}); sums use cupy.sum instead", RuntimeWarning,
                          stacklevel=4)

    def sum_all(self, x):
        """The sum of a non-empty C-contiguous float32 array, as a 0-d float32 array."""
        cp = self._cp
        n = x.size
        blocks = partial_blocks(n, self.rt.sm_count())
        partial = cp.empty(blocks, dtype=np.float64)
        out = cp.empty((), dtype=np.float32)
        # NumPy scalars fix the C types of the arguments (a Python int's is not guaranteed).
        self.rt.function("reduce_sum.cu", KERNELS[0])((blocks,), (BLOCK,),
                                                      (x, np.int64(n), partial))
        self.rt.function("reduce_sum.cu", KERNELS[1])((1,), (BLOCK,),
                                                      (partial, np.int32(blocks), out))
        return out

    def sum_rows(self, x):
        """Row sums of a non-empty C-contiguous float32 (rows, cols) array: shape (rows,)."""
        rows, cols = x.shape
        out = self._cp.empty(rows, dtype=np.float32)
        blocks = -(-rows // WARPS)
        self.rt.function("reduce_sum.cu", KERNELS[2])((blocks,), (BLOCK,),
                                                      (x, np.int64(rows), np.int64(cols), out))
        return out
