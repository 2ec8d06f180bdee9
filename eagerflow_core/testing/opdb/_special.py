"""Special functions: erf, erfc, erfinv, lgamma, digamma, polygamma, igamma, igammac.

The float64 references are ``scipy.special``'s (imported when a reference is first computed:
the reference backend, NumPy, needs scipy anyway). Domains keep every result finite and away
from poles in float16 (lgamma and digamma on [0.25, 8], erfinv inside (-1, 1), polygamma's
order 0..3); integer inputs (lifted to float32) are small and keep off the poles at 0 and the
negative integers. Gradients are checked in x: polygamma's order and igamma's ``a`` are Python
numbers in the gradient samples (the order has no gradient; d/da of igamma is not
implemented, see ops/special.py).
"""

from __future__ import annotations

from functools import partial

import numpy as np
from hypothesis import strategies as st

import eagerflow_core as ef

from ..._dtypes import float64
from .. import strategies as st_ef
from ._base import ErrorCase, OpInfo, Sample, arrays, kinds, lift, scaled

DTYPES = kinds("biuf")  # the core's rule: integers and bool lifted, complex refused
# torch.special computes float32 in float32 (scipy evaluates in double and rounds once):
# a few roundings more, and relative error grows near erfinv's poles and lgamma's zeros.
TOL = {**scaled(8, ("float32", "float64")), "float16": (4e-3, 4e-3),
       "bfloat16": (3e-2, 3e-2)}


def _scipy(name):
    def ref(*args):
        from scipy import special
        return getattr(special, name)(*[lift(a) for a in args])
    ref.__name__ = name
    return ref


def _polygamma_ref(a, x):
    from scipy import special
    a, x = lift(np.asarray(a)), lift(x)
    return special.polygamma(a, x)


# (float low, float high, integer low, integer high) of each input, and the gradient's x range
_DOMAINS = {
    "erf": ((-3, 3, -3, 3), (-2, 2)),
    "erfc": ((-3, 3, -3, 3), (-2, 2)),
    "erfinv": ((-0.9375, 0.9375, -1, 1), (-0.875, 0.875)),
    "lgamma": ((0.25, 8, 1, 8), (0.5, 5)),
    "digamma": ((0.25, 8, 1, 8), (0.5, 5)),
}


@st.composite
def _unary_samples(draw, dtype, grad=False, name="erf"):
    (lo, hi, ilo, ihi), (glo, ghi) = _DOMAINS[name]
    shape = draw(st_ef.shapes(0, 3, int(grad), 3 if grad else 4), label="shape")
    if grad:
        return Sample((draw(arrays(float64, shape, low=glo, high=ghi), label="x"),))
    if dtype.kind in "iu":
        lo, hi = ilo, ihi
    if dtype.kind == "b" and ilo > 0:  # lgamma(0), digamma(0) are poles: True only
        return Sample((np.ones(shape, np.bool_),))
    return Sample((draw(arrays(dtype, shape, low=lo, high=hi), label="x"),))


@st.composite
def _pair_samples(draw, dtype, grad=False, name="igamma"):
    """(a, x): polygamma's order a in 0..3 with x in [0.25, 6]; igamma's a in [0.25, 6] (whole
    numbers 1..6 for integer dtypes) with x in [0, 8]."""
    shapes = draw(st_ef.broadcastable_shapes(2, 0, 3, int(grad), 3), label="shapes")
    order = name == "polygamma"
    if grad:
        a = draw(st.integers(0, 2) if order else st.sampled_from([0.5, 1.0, 1.5, 3.0]),
                 label="a")
        x = draw(arrays(float64, shapes[1], low=0.5 if order else 0.25, high=4), label="x")
        return Sample((a, x))
    if dtype.kind == "b":
        a = np.ones(shapes[0], np.bool_) if not order else draw(arrays(dtype, shapes[0]))
        return Sample((a, np.ones(shapes[1], np.bool_)))
    whole = dtype.kind in "iu"
    if order:
        a = draw(arrays(dtype, shapes[0], low=0, high=3).map(np.floor), label="a")
        x = draw(arrays(dtype, shapes[1], low=1 if whole else 0.25, high=6), label="x")
    else:
        a = draw(arrays(dtype, shapes[0], low=1 if whole else 0.25, high=6), label="a")
        x = draw(arrays(dtype, shapes[1], low=0, high=8), label="x")
    if draw(st.integers(0, 4)) == 0:  # a Python number for a: weak, it takes x's dtype
        a = draw(st.sampled_from([1, 2]) if order else st.sampled_from([1.0, 2.5]), label="a")
    return Sample((np.asarray(a, dtype.numpy) if isinstance(a, np.ndarray) else a, x))


def _errors(name, nin):
    good, bad = np.ones((2, 3), np.float32), np.ones((2, 3), np.complex64)
    if nin == 1:
        return (ErrorCase((bad,), {}, "DTypeError", rf"^{name}: .*complex64"),)
    return (ErrorCase((good, np.ones((4,), np.float32)), {}, "ShapeError",
                      rf"^{name}: .*\(2, 3\).*\(4,\)"),
            ErrorCase((bad, good), {}, "DTypeError", rf"^{name}: .*complex64"))


def _info(name, ref, nin=1):
    samples = partial(_unary_samples if nin == 1 else _pair_samples, name=name)
    return OpInfo(name=name, fn=getattr(ef, name), ref=ref, dtypes=DTYPES, samples=samples,
                  differentiable=True, grad_samples=partial(samples, grad=True),
                  errors=_errors(name, nin), rtol=TOL)


INFOS = [
    _info("erf", _scipy("erf")),
    _info("erfc", _scipy("erfc")),
    _info("erfinv", _scipy("erfinv")),
    _info("lgamma", _scipy("gammaln")),
    _info("digamma", _scipy("psi")),
    _info("polygamma", _polygamma_ref, nin=2),
    _info("igamma", _scipy("gammainc"), nin=2),
    _info("igammac", _scipy("gammaincc"), nin=2),
]
