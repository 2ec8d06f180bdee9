"""The NumPy kernel table: the backend kit's table from ``numpy``, then NumPy's overrides.

Each family's overrides live in their own module (``_<family>.py``) as a ``KERNELS`` dict.
"""

from __future__ import annotations

import numpy as np

from eagerflow_core.plugins import kernels_from_namespace

from . import (_elementwise, _fft, _indexing, _linalg, _manipulation, _nn, _optim, _random,
               _reductions, _special, _tf_array, _tf_indexing)

_FAMILIES = (_elementwise, _reductions, _linalg, _manipulation, _indexing, _random, _fft,
             _special, _nn, _optim, _tf_array, _tf_indexing)


def _astype(x, dtype, /, *, copy=True, device=None):
    # NaN, inf and out-of-range floats cast to an integer give an unspecified value, silently,
    # as in PyTorch and TensorFlow (docs/errors.md); NumPy's RuntimeWarning would reach the
    # user from the core's dispatch with no op name (issue #9).
    kind = dtype.kind if type(dtype) is not type else np.dtype(dtype).kind  # a scalar type
    if kind in "iu" and x.dtype.kind in "fc":
        with np.errstate(all="ignore"):  # all=: a third of the cost of naming kinds
            return x.astype(dtype, copy=copy)
    return x.astype(dtype, copy=copy)  # the method is faster than np.astype's checks


def build_table() -> dict:
    table = kernels_from_namespace(np)
    table["astype"] = _astype
    for family in _FAMILIES:
        table.update(family.KERNELS)
    return table
