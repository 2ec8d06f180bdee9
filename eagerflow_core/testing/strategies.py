"""Hypothesis strategies for eagerflow tests and for the conformance kit.

>>> from eagerflow_core.testing import strategies as st_ef
>>> st_ef.dtypes("real floating").example() in st_ef.dtype_list("real floating")
True
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .._dtypes import ALL_DTYPES, DType, isdtype

ALL = ALL_DTYPES


def dtype_list(kind="numeric", exclude=()) -> list[DType]:
    """The dtypes of an Array API kind (``"real floating"``, ``"integral"``, ``"numeric"``,
    ``"bool"``...; a tuple of kinds; or ``"all"``), in a fixed order."""
    out = [d for d in ALL if kind == "all" or isdtype(d, kind)]
    return [d for d in out if d.name not in exclude and d not in exclude]


def dtypes(kind="numeric", exclude=()) -> st.SearchStrategy[DType]:
    return st.sampled_from(dtype_list(kind, exclude))


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=5) -> st.SearchStrategy[tuple]:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num=2, min_dims=0, max_dims=3, min_side=1, max_side=4):
    """``num`` shapes that broadcast together (with some size-1 and missing axes)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num, min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side).map(
        lambda r: r.input_shapes)


def _elements(dtype: DType, low=None, high=None, allow_nan=False, allow_inf=False):
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        info = np.iinfo(dtype.numpy)
        lo = max(info.min, -100 if low is None else low)
        hi = min(info.max, 100 if high is None else high)
        return st.integers(lo, hi)
    lo = -10.0 if low is None else low
    hi = 10.0 if high is None else high
    real = st.floats(lo, hi, allow_nan=allow_nan, allow_infinity=allow_inf, width=32)
    if dtype.kind == "c":
        return st.builds(complex, real, real)
    return real


def arrays(dtype: DType, shape, *, low=None, high=None, allow_nan=False, allow_inf=False,
           unique=False) -> st.SearchStrategy[np.ndarray]:
    """Host NumPy arrays of ``dtype`` (values small by default, so ops stay finite)."""
    return hnp.arrays(dtype.numpy, shape, elements=_elements(dtype, low, high, allow_nan, allow_inf),
                      unique=unique)
