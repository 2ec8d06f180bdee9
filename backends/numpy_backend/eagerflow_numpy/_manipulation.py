"""NumPy overrides for the manipulation ops (the kit's table covers the rest).

NumPy 2's concat, stack, unstack, expand_dims (tuple axes too), squeeze, permute_dims,
moveaxis, flip, roll, repeat, tile, broadcast_arrays, meshgrid, tril and triu take the
standard's arguments as the dispatcher passes them. The joining ops get their inputs already
promoted to one dtype, and the ops the standard spells with ``*arrays`` (broadcast_arrays,
meshgrid) are not variadic, so their kernels get the arrays unpacked.

``broadcast_to`` is the one override: every reduction's gradient calls it, mostly on small
tensors, and ``np.broadcast_to`` spends ~2 µs in Python building a strided view. A small
result is cheaper as a filled copy (the values are the same; eagerflow's tensors are never
written, so a view buys nothing but memory); a large one stays a view.
"""

from __future__ import annotations

import numpy as np

_COPY_BELOW = 1 << 14  # elements: below this a filled copy is cheaper than building a view


def _broadcast_to(x, /, shape):
    n = 1
    for d in shape:
        n *= d
    if n >= _COPY_BELOW:
        return np.broadcast_to(x, shape)
    if x.ndim > len(shape):
        return np.broadcast_to(x, shape)  # let NumPy say what is wrong
    out = np.empty(shape, x.dtype)
    out[...] = x
    return out


KERNELS: dict = {"broadcast_to": _broadcast_to}
