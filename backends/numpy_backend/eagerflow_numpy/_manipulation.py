"""NumPy overrides for the manipulation ops (the kit's table covers the rest).

None are needed: NumPy 2's concat, stack, unstack, expand_dims (tuple axes too), squeeze,
permute_dims, moveaxis, flip, roll, repeat, tile, broadcast_arrays, meshgrid, tril and triu
take the standard's arguments as the dispatcher passes them. The joining ops get their inputs
already promoted to one dtype, and the ops the standard spells with ``*arrays``
(broadcast_arrays, meshgrid) are not variadic, so their kernels get the arrays unpacked.
"""

from __future__ import annotations

KERNELS: dict = {}
