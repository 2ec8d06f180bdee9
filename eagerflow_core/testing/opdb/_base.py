"""The database's record types and the small helpers every family module uses (the
conventions they follow are in the package docstring)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..._dtypes import ALL_DTYPES, DType
from .. import strategies as st_ef
from .._compare import TOLERANCES


@dataclass(frozen=True)
class Sample:
    """One call of an op: ``fn(*args, **kwargs)`` (NumPy arrays stand for tensors)."""

    args: tuple
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorCase:
    """A bad call that must raise the eagerflow error ``exc_type_name`` (on every backend as on
    the reference one), with a message matching ``match`` when it is given."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    exc_type_name: str = "ShapeError"
    match: str | None = None


@dataclass(frozen=True)
class OpInfo:
    """How to call, check and break one op (the package docstring has the conventions)."""

    name: str                    # registry name: "add", "linalg.inv", "getitem"...
    fn: Callable                 # fn(*args, **kwargs) with tensors for the sample's arrays
    ref: Callable                # NumPy reference on float64/complex128/int/bool arrays
    dtypes: tuple                # dtype names the op is checked on (the ones it accepts)
    samples: Callable            # samples(dtype: DType) -> SearchStrategy[Sample]
    differentiable: bool = False  # check first- and second-order gradients (float64)
    grad_samples: Callable | None = None  # samples(float64) for the gradient checks
    errors: tuple = ()           # ErrorCase(...): bad inputs that must raise
    edge_cases: tuple = ()       # EdgeCase(...): the standard's special cases (_special_cases)
    rtol: dict = field(default_factory=dict)  # dtype name -> (rtol, atol), over TOLERANCES
    check_values: bool = True    # False: only dtype and shape are compared (ef.empty)
    note: str = ""               # what the comparison does not cover, and why
    # Random ops: their values match no NumPy reference bit for bit. ``check(sample, out)``
    # asserts properties of the result instead (range, structure, reproducibility), with
    # ``ref`` giving only the shape (``check_values=False``); it raises AssertionError.
    check: Callable | None = None
    # An entry for a composite that has no kernel of its own (``nn.dropout``): the kernel ops
    # it is built on. A backend is checked on it when it has all of them.
    kernels: tuple = ()


# -- dtypes ----------------------------------------------------------------------------------

ALL = tuple(d.name for d in ALL_DTYPES)


def kinds(accepts: str) -> tuple[str, ...]:
    """The dtype names of the kinds in ``accepts`` (b bool, i signed, u unsigned, f real
    floating, c complex), in the standard order."""
    return tuple(d.name for d in ALL_DTYPES if d.kind in accepts)


def scaled(factor: float, names=None) -> dict:
    """Tolerances ``factor`` times the defaults, for ops that round more than once."""
    names = TOLERANCES if names is None else names
    return {n: (TOLERANCES[n][0] * factor, TOLERANCES[n][1] * factor) for n in names}


# -- values ----------------------------------------------------------------------------------

def shapes(min_dims=0, max_dims=3, min_side=0, max_side=4):
    return st_ef.shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                        max_side=max_side)


def grad_shapes(min_dims=0, max_dims=3):
    return st_ef.shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=3)


def arrays(dtype: DType, shape, *, low=None, high=None, unique=False):
    """Host arrays of ``dtype``; ``low``/``high`` bound real values (unsigned ones start at 0)."""
    if dtype.kind == "u" and low is not None:
        low = max(low, 0)
    if dtype.kind == "c":  # bounds are for real values; complex parts keep the kit's range
        low = high = None
    return st_ef.arrays(dtype, shape, low=low, high=high, unique=unique)


def _floats(lo, hi):
    """Floats in [lo, hi], the bounds moved inwards to float32 values (hypothesis's rule)."""
    f_lo, f_hi = np.float32(lo), np.float32(hi)
    if f_lo < lo:
        f_lo = np.nextafter(f_lo, np.float32(np.inf))
    if f_hi > hi:
        f_hi = np.nextafter(f_hi, np.float32(-np.inf))
    return st.floats(float(f_lo), float(f_hi), width=32)


def away(dtype: DType, shape, lo=0.25, hi=4.0):
    """Real arrays with ``lo <= |x| <= hi`` (away from a kink or a pole at 0)."""
    mag = _floats(lo, hi)
    elem = st.one_of(mag, mag.map(lambda v: -v))
    if dtype.kind == "c":
        elem = st.builds(complex, elem, elem)
    return hnp.arrays(dtype.numpy, shape, elements=elem)


def positive(dtype: DType, shape, lo=0.25, hi=4.0):
    return hnp.arrays(dtype.numpy, shape, elements=_floats(lo, hi))


def spread(dtype: DType, shape, step=0.25):
    """Distinct values on a grid of ``step`` (no ties, and no two values within a gradient
    check's step of each other): for max, sort and friends."""
    n = int(np.prod(shape)) if shape else 1
    return st.permutations(range(-n, n)).map(
        lambda p: np.asarray(np.asarray(p[:n], np.float64).reshape(shape) * step + step / 2,
                             dtype.numpy))


def lift(x):
    """Integer and bool arrays as float64 (for references of float-valued functions)."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "biu":
        return x.astype(np.float64)
    return x
