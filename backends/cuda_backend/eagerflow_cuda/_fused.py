"""The fused CUDA C kernels of ``csrc/``, compiled by CuPy (NVRTC) on first use.

``csrc/reduce_sum.cu`` holds float32 sums that accumulate in double (its header says why);
``FusedSums`` launches them. The source compiles once per process (CuPy also keeps the binary
in its on-disk cache) and CuPy loads each kernel once per device. If it does not compile (no
NVRTC on the machine, say), the sums warn once and the kernel table falls back to ``cupy.sum``:
``FusedSums.reason`` says why, and the GPU tests assert that the fused path is the one used.
"""

from __future__ import annotations

import threading
import warnings
from importlib import resources

import numpy as np

#: Threads per block: ``EF_BLOCK`` in ``csrc/reduce_sum.cu``.
BLOCK = 256
WARPS = BLOCK // 32
#: Pass 1 never launches more blocks than this (pass 2 is one block over the partial sums).
MAX_PARTIALS = 1024
#: Pass 1 gives each thread at least this many elements before adding blocks.
PER_THREAD = 16

SOURCES = ("reduce_sum.cu",)


def source(name: str) -> str:
    """The text of ``csrc/<name>``, from the installed package."""
    return resources.files(__package__).joinpath("csrc").joinpath(name).read_text()


class FusedSums:
    """Launchers for ``csrc/reduce_sum.cu`` on the current CUDA device (``cp`` is cupy)."""

    def __init__(self, cp):
        self._cp = cp
        self._lock = threading.Lock()
        self._fns = None
        self._max_blocks: dict[int, int] = {}  # device id -> pass-1 block limit
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
            mod = self._cp.RawModule(code=source("reduce_sum.cu"), options=("-std=c++17",))
            self._fns = (mod.get_function("ef_sum_f32_partial"),
                         mod.get_function("ef_sum_f64_final"),
                         mod.get_function("ef_sum_rows_f32"))
            self.ok = True
        except Exception as exc:  # a missing NVRTC must cost speed, not correctness
            self.ok = False
            self.reason = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"eagerflow_cuda: the fused CUDA sums of csrc/reduce_sum.cu did not "
                          f"compile ({self.reason}); sums use cupy.sum instead", RuntimeWarning,
                          stacklevel=4)

    def _blocks_for(self, n: int) -> int:
        dev = self._cp.cuda.runtime.getDevice()
        limit = self._max_blocks.get(dev)
        if limit is None:
            rt = self._cp.cuda.runtime
            sms = rt.deviceGetAttribute(rt.cudaDevAttrMultiProcessorCount, dev)
            # 8 blocks of 256 threads fill an SM (2048 threads): enough loads in flight for
            # full memory bandwidth.
            limit = self._max_blocks[dev] = max(1, min(MAX_PARTIALS, 8 * sms))
        return max(1, min(limit, -(-n // (BLOCK * PER_THREAD))))

    def sum_all(self, x):
        """The sum of a non-empty C-contiguous float32 array, as a 0-d float32 array."""
        cp = self._cp
        partial_fn, final_fn, _ = self._fns
        n = x.size
        blocks = self._blocks_for(n)
        partial = cp.empty(blocks, dtype=np.float64)
        out = cp.empty((), dtype=np.float32)
        # NumPy scalars fix the C types of the arguments (a Python int's is not guaranteed).
        partial_fn((blocks,), (BLOCK,), (x, np.int64(n), partial))
        final_fn((1,), (BLOCK,), (partial, np.int32(blocks), out))
        return out

    def sum_rows(self, x):
        """Row sums of a non-empty C-contiguous float32 (rows, cols) array: shape (rows,)."""
        rows, cols = x.shape
        out = self._cp.empty(rows, dtype=np.float32)
        blocks = -(-rows // WARPS)
        self._fns[2]((blocks,), (BLOCK,), (x, np.int64(rows), np.int64(cols), out))
        return out
