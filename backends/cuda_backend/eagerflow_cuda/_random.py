"""Counter-based random draws on the GPU: the ``random.uniform``, ``random.normal`` and
``random.permutation`` kernels.

``uniform(key, counter, shape, dtype)`` and ``normal(key, counter, shape, dtype)`` return a new
CuPy array drawn by ``csrc/philox.cu`` (Philox4x32-10) on the current stream: no host round trip,
no state. The same (key, counter, shape, dtype) gives the same values on every run and every GPU.
A draw of n values uses ``counters_used(n, dtype)`` counters (``ceil(n / 4)``, float64
``ceil(n / 2)``): a generator that advances its counter by that much never reuses a value.
``_philox.py`` computes the same stream with NumPy.
"""

from __future__ import annotations

import numpy as np

from . import _launch as L

_TAGS = {"float32": "f32", "float16": "f16", "bfloat16": "bf16", "float64": "f64"}


class Random:
    """The two draws on one runtime (``_runtime.CudaRuntime`` on a GPU)."""

    def __init__(self, rt):
        self.rt = rt

    def _draw(self, kind: str, key: int, counter: int, shape, dtype):
        dtype = np.dtype(dtype)
        t = _TAGS.get(dtype.name)
        if t is None:
            raise TypeError(f"random.{kind}: dtype {dtype} is not one of float16, bfloat16, "
                            f"float32, float64")
        key, counter = int(key), int(counter)
        if not 0 <= key < 1 << 64:
            raise ValueError(f"random.{kind}: the key is a 64-bit unsigned int, got {key}")
        lo, hi = L.split_counter(counter)
        shape = tuple(int(d) for d in (shape if isinstance(shape, (tuple, list)) else (shape,)))
        out = self.rt.xp.empty(shape, dtype=dtype)
        n = out.size
        if n:
            groups = L.counters_used(n, dtype)
            blocks = L.grid_stride_blocks(groups, self.rt.sm_count())
            self.rt.function("philox.cu", f"ef_{kind}_{t}")(
                (blocks,), (L.BLOCK,), (out, np.int64(n), np.uint64(key), lo, hi))
        return out

    def uniform(self, key, counter, shape, dtype=np.float32):
        """Values in [0, 1)."""
        return self._draw("uniform", key, counter, shape, dtype)

    def normal(self, key, counter, shape, dtype=np.float32):
        """Standard normal values (Box-Muller)."""
        return self._draw("normal", key, counter, shape, dtype)

    def permutation(self, key, counter, n, /):
        """A uniformly random permutation of ``range(n)`` (int64): the order that sorts ``n``
        float64 uniform draws (53 random bits each; a tie, about n**2 / 2**54 likely, keeps the
        earlier index first, so the result is still a permutation)."""
        n = int(n)
        if n < 0:
            raise ValueError(f"random.permutation: n must be non-negative, got {n}")
        keys = self._draw("uniform", key, counter, (n,), np.float64)
        return self.rt.xp.argsort(keys).astype(np.int64, copy=False)

    def table(self) -> dict:
        """The core's ``random.*`` kernels (signatures of ``eagerflow_numpy/_random.py``)."""
        return {"random.uniform": self.uniform, "random.normal": self.normal,
                "random.permutation": self.permutation}


counters_used = L.counters_used
