"""NumPy overrides for the indexing ops (the kit's table covers the rest)."""

from __future__ import annotations

import numpy as np


def _setitem(x, value, key):
    # The dispatcher passes tensor inputs first, then the key: setitem(x, value, key).
    # Functional: the input array may be shared by other tensors, so write into a copy.
    out = np.array(x, copy=True)
    out[key] = value
    return out


def _index_add(x, values, key):
    # Unbuffered: a repeated index receives every value meant for it (x[[0, 0]]'s gradient).
    out = np.array(x, copy=True)
    # NumPy 2.4's add.at miscounts when it broadcasts the values itself: broadcast first.
    np.add.at(out, key, np.broadcast_to(values, out[key].shape))
    return out


KERNELS: dict = {"setitem": _setitem, "index_add": _index_add}
