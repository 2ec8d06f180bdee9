"""NumPy overrides for reductions (the kit's table covers the rest)."""

from __future__ import annotations

import numpy as np


def _sum(x, /, *, axis=None, dtype=None, keepdims=False):
    # np.add.reduce skips np.sum's Python wrapper: about 1 µs less per call on small arrays.
    return np.add.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims)


KERNELS: dict = {"sum": _sum}
