"""Elementwise ops: one line per op (accepted kinds, reference, input domain), and clip.

Domains follow tests/backends/test_elementwise.py: values stay where the op is defined and
finite in every dtype it takes (so float16 does not overflow), and integer inputs stay where
the result fits int8 (signed overflow is unspecified by the standard). Gradient samples keep
away from kinks, poles and branch points.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st

import eagerflow_core as ef

from ..._dtypes import float64
from ..._registry import OPS
from .. import strategies as st_ef
from ._base import ErrorCase, OpInfo, Sample, arrays, away, kinds, lift, positive, spread
from ._special_cases import SPECIAL_CASES

NUMERIC, REAL, ANY, REAL_ANY = "iufc", "iuf", "biufc", "biuf"


def _f(fn):
    """A float-valued reference: integer and bool inputs are lifted to float64 first."""
    def ref(*a):
        return fn(*[lift(x) for x in a])
    ref.float_valued = True
    return ref


def _sign(x):
    if x.dtype.kind != "c":
        return np.sign(x)
    mag = np.abs(x)
    return np.where(mag == 0, 0, x / np.where(mag == 0, 1, mag))  # the standard: x / |x|


@_f
def _log1p(x):
    if x.dtype.kind != "c":
        return np.log1p(x)
    re, im = x.real, x.imag  # log|1 + z| without cancellation for small z
    small = 0.5 * np.log1p(re * (2 + re) + im * im) + 1j * np.arctan2(im, 1 + re)
    return np.where(np.abs(x) < 0.5, small, np.log1p(x))


def _real(x):
    return x.real if x.dtype.kind == "c" else x


def _imag(x):
    return x.imag if x.dtype.kind == "c" else np.zeros_like(x)


# -- input domains ---------------------------------------------------------------------------

class Domain(NamedTuple):
    lo: float | None = None      # real floating x1 (and x2) range; None: the kit's (-10, 10)
    hi: float | None = None
    lo2: float | None = None     # x2's range, if another
    hi2: float | None = None
    ilo: int = -100              # integer x1 (and x2) range
    ihi: int = 100
    ilo2: int | None = None
    ihi2: int | None = None
    nonzero2: bool = False       # x2 != 0 (division)
    away1: bool = False          # real floating x1 (x2 with away2) has |x| >= 0.25, so that
    away2: bool = False          # 1 / x and friends stay finite in float16
    cdom: tuple | None = None    # complex x1: (lo, hi, shift): parts with lo <= |p| <= hi,
    #                              plus shift (keeps poles such as log(0) away)
    grad: Callable | None = None  # grad(shapes) -> strategy of the float64 input arrays


SMALL_INT = {"ilo": -11, "ihi": 11}      # products fit int8
HALF_INT = {"ilo": -50, "ihi": 50}       # sums fit int8


def _g_any(*shapes, lo=-3.0, hi=3.0):
    return st.tuples(*[arrays(float64, s, low=lo, high=hi) for s in shapes])


def _g_away(*shapes, lo=0.25, hi=4.0):
    return st.tuples(*[away(float64, s, lo, hi) for s in shapes])


def _g_pos(*shapes, lo=0.25, hi=4.0):
    return st.tuples(*[positive(float64, s, lo, hi) for s in shapes])


def _g_untied(s1, s2):
    """x1 on a half-step grid, x2 on a whole-step grid: never equal, never within a step."""
    grid = st_ef.arrays(ef.int64, s2, low=-8, high=8).map(lambda a: np.asarray(a * 0.25))
    return st.tuples(spread(float64, s1), grid)


@st.composite
def _g_remainder(draw, s1, s2):
    """x1 / x2 keeps away from integers, where remainder jumps (both of the broadcast shape)."""
    shape = np.broadcast_shapes(s1, s2)
    x2 = draw(away(float64, shape, 0.5, 2.0))
    q = draw(st_ef.arrays(ef.int64, shape, low=-3, high=3))
    frac = draw(positive(float64, shape, 0.25, 0.75))
    return np.asarray((q + frac) * x2), x2


DOMAINS = {
    "add": Domain(**HALF_INT),
    "subtract": Domain(**HALF_INT),
    "multiply": Domain(**SMALL_INT),
    "divide": Domain(nonzero2=True, away2=True, grad=lambda a, b: st.tuples(
        arrays(float64, a, low=-3, high=3), away(float64, b))),
    "floor_divide": Domain(nonzero2=True, away2=True),
    "remainder": Domain(nonzero2=True, away2=True, grad=_g_remainder),
    "pow": Domain(hi=8, lo2=-4, hi2=4, ilo=-3, ihi=3, ilo2=0, ihi2=4, away1=True,
                  grad=lambda a, b: st.tuples(positive(float64, a, 0.5, 3.0),
                                              arrays(float64, b, low=-2, high=2))),
    "square": Domain(**SMALL_INT),
    "reciprocal": Domain(away1=True, grad=_g_away),
    "abs": Domain(grad=_g_away),
    "sign": Domain(grad=_g_away),
    "maximum": Domain(grad=_g_untied),
    "minimum": Domain(grad=_g_untied),
    "log": Domain(lo=0, cdom=(0.25, 10, 0), grad=_g_pos),
    "log1p": Domain(lo=-1, cdom=(0.25, 10, -1), grad=partial(_g_pos, lo=-0.5)),
    "log2": Domain(lo=0, cdom=(0.25, 10, 0), grad=_g_pos),
    "log10": Domain(lo=0, cdom=(0.25, 10, 0), grad=_g_pos),
    "sqrt": Domain(lo=0, grad=_g_pos),
    "tan": Domain(grad=partial(_g_any, lo=-1.25, hi=1.25)),
    "asin": Domain(lo=-1, hi=1, grad=partial(_g_any, lo=-0.75, hi=0.75)),
    "acos": Domain(lo=-1, hi=1, grad=partial(_g_any, lo=-0.75, hi=0.75)),
    "atan2": Domain(grad=_g_away),
    "acosh": Domain(lo=1, grad=partial(_g_pos, lo=1.25)),
    "atanh": Domain(lo=-1, hi=1, cdom=(0.25, 0.75, 0), grad=partial(_g_any, lo=-0.75, hi=0.75)),
    "hypot": Domain(grad=_g_away),
    "copysign": Domain(grad=_g_away),
}


class Spec(NamedTuple):
    accepts: str
    ref: Callable


SPECS = {
    "add": Spec(NUMERIC, np.add),
    "subtract": Spec(NUMERIC, np.subtract),
    "multiply": Spec(NUMERIC, np.multiply),
    "divide": Spec(ANY, _f(np.divide)),
    "floor_divide": Spec(REAL, np.floor_divide),
    "remainder": Spec(REAL, np.remainder),
    "pow": Spec(NUMERIC, np.power),
    "negative": Spec(NUMERIC, np.negative),
    "positive": Spec(NUMERIC, np.positive),
    "square": Spec(NUMERIC, np.square),
    "reciprocal": Spec(ANY, _f(lambda x: 1 / x)),
    "abs": Spec(NUMERIC, np.abs),
    "sign": Spec(NUMERIC, _sign),
    "maximum": Spec(REAL, np.maximum),
    "minimum": Spec(REAL, np.minimum),
    "exp": Spec(ANY, _f(np.exp)),
    "expm1": Spec(ANY, _f(np.expm1)),
    "log": Spec(ANY, _f(np.log)),
    "log1p": Spec(ANY, _log1p),
    "log2": Spec(ANY, _f(np.log2)),
    "log10": Spec(ANY, _f(np.log10)),
    "logaddexp": Spec(REAL_ANY, _f(np.logaddexp)),
    "sqrt": Spec(ANY, _f(np.sqrt)),
    "sin": Spec(ANY, _f(np.sin)),
    "cos": Spec(ANY, _f(np.cos)),
    "tan": Spec(ANY, _f(np.tan)),
    "asin": Spec(ANY, _f(np.arcsin)),
    "acos": Spec(ANY, _f(np.arccos)),
    "atan": Spec(ANY, _f(np.arctan)),
    "atan2": Spec(REAL_ANY, _f(np.arctan2)),
    "sinh": Spec(ANY, _f(np.sinh)),
    "cosh": Spec(ANY, _f(np.cosh)),
    "tanh": Spec(ANY, _f(np.tanh)),
    "asinh": Spec(ANY, _f(np.arcsinh)),
    "acosh": Spec(ANY, _f(np.arccosh)),
    "atanh": Spec(ANY, _f(np.arctanh)),
    "hypot": Spec(REAL_ANY, _f(np.hypot)),
    "floor": Spec(REAL, np.floor),
    "ceil": Spec(REAL, np.ceil),
    "trunc": Spec(REAL, np.trunc),
    "round": Spec(NUMERIC, np.round),
    "copysign": Spec(REAL_ANY, _f(np.copysign)),
    "nextafter": Spec(REAL_ANY, None),  # see _nextafter_ref
    "signbit": Spec(REAL_ANY, _f(np.signbit)),
    "isnan": Spec(ANY, np.isnan),
    "isinf": Spec(ANY, np.isinf),
    "isfinite": Spec(ANY, np.isfinite),
    "real": Spec(NUMERIC, _real),
    "imag": Spec(NUMERIC, _imag),
    "conj": Spec(NUMERIC, np.conj),
    "equal": Spec(ANY, np.equal),
    "not_equal": Spec(ANY, np.not_equal),
    "less": Spec(REAL_ANY, np.less),
    "less_equal": Spec(REAL_ANY, np.less_equal),
    "greater": Spec(REAL_ANY, np.greater),
    "greater_equal": Spec(REAL_ANY, np.greater_equal),
    "logical_and": Spec(ANY, lambda a, b: np.logical_and(a, b)),
    "logical_or": Spec(ANY, lambda a, b: np.logical_or(a, b)),
    "logical_xor": Spec(ANY, lambda a, b: np.logical_xor(a, b)),
    "logical_not": Spec(ANY, np.logical_not),
    "bitwise_and": Spec("biu", np.bitwise_and),
    "bitwise_or": Spec("biu", np.bitwise_or),
    "bitwise_xor": Spec("biu", np.bitwise_xor),
    "bitwise_invert": Spec("biu", np.invert),
    "bitwise_left_shift": Spec("iu", np.left_shift),
    "bitwise_right_shift": Spec("iu", np.right_shift),
}


# -- samples ---------------------------------------------------------------------------------

def _scalar(name, dtype, dom: Domain):
    """A Python scalar operand of the dtype's kind (weak: it takes the tensor's dtype)."""
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        if "shift" in name:
            return st.integers(0, 7)
        lo = max(dom.ilo if dom.ilo2 is None else dom.ilo2, 0 if dtype.kind == "u" else -100)
        hi = dom.ihi if dom.ihi2 is None else dom.ihi2
        return st.integers(max(lo, 1) if dom.nonzero2 else lo, hi)
    vals = [0.5, 2.0, -1.5, 3.0]
    if dom.lo is not None and dom.lo >= 0:
        vals = [0.5, 0.75] if dom.hi == 1 else [0.5, 2.0, 3.0]
    elif dom.hi == 1:
        vals = [0.5, -0.5]
    if dtype.kind == "c":
        return st.sampled_from([complex(v, -v / 2) for v in vals])
    return st.sampled_from(vals)


def _whole(bound, default):
    return default if bound is None else int(np.ceil(bound) if bound < 0 else np.floor(bound))


@st.composite
def _elementwise_samples(draw, name, dtype, grad=False):
    nin = OPS[name].nin
    dom = DOMAINS.get(name, Domain())
    lo_side = 1 if grad else 0
    if nin == 1:
        shapes = (draw(st_ef.shapes(0, 3, lo_side, 3 if grad else 4)),)
    else:
        shapes = draw(st_ef.broadcastable_shapes(2, min_dims=0, max_dims=3, min_side=lo_side,
                                                 max_side=3 if grad else 4))
    if grad:
        if dom.grad is not None:
            return Sample(tuple(draw(dom.grad(*shapes))))
        return Sample(tuple(draw(_g_any(*shapes))))
    if dtype.kind in "iu" and not getattr(SPECS[name].ref, "float_valued", False):
        lo, hi = dom.ilo, dom.ihi
        lo2 = lo if dom.ilo2 is None else dom.ilo2
        hi2 = hi if dom.ihi2 is None else dom.ihi2
        if "shift" in name:
            lo2, hi2 = 0, 8 * dtype.itemsize - 1  # shifts past the width are unspecified
    elif dtype.kind in "iu":  # lifted to float32: the float domain, in whole numbers
        lo, hi = _whole(dom.lo, -10), _whole(dom.hi, 10)
        lo2 = _whole(dom.lo if dom.lo2 is None else dom.lo2, lo)
        hi2 = _whole(dom.hi if dom.hi2 is None else dom.hi2, hi)
    else:
        lo, hi = dom.lo, dom.hi
        lo2 = lo if dom.lo2 is None else dom.lo2
        hi2 = hi if dom.hi2 is None else dom.hi2
    if dom.cdom and dtype.kind == "c":
        clo, chi, shift = dom.cdom
        x1 = draw(away(dtype, shapes[0], clo, chi), label="x1")
        x1 = np.asarray(x1 + shift, dtype.numpy)
    elif dom.away1 and dtype.kind in "fc":
        x1 = draw(away(dtype, shapes[0], 0.25, hi or 10.0), label="x1")
    else:
        x1 = draw(arrays(dtype, shapes[0], low=lo, high=hi), label="x1")
    if nin == 1:
        return Sample((x1,))
    if draw(st.integers(0, 4)) == 0:  # now and then a Python scalar on one side
        s = draw(_scalar(name, dtype, dom), label="scalar")
        if name == "pow" and dtype.kind in "iu" and draw(st.booleans()):
            return Sample((s if s >= 0 else -s, np.abs(x1).astype(x1.dtype)))
        return Sample((x1, s))
    if dom.away2 and dtype.kind in "fc":
        x2 = draw(away(dtype, shapes[1], 0.25, 10.0), label="x2")
    else:
        x2 = draw(arrays(dtype, shapes[1], low=lo2, high=hi2), label="x2")
    if dom.nonzero2:
        x2 = np.where(x2 == 0, np.ones((), x2.dtype), x2)
    return Sample((x1, x2))


def _nextafter_fn(x1, x2, *, in_dtype=None):
    return ef.nextafter(x1, x2)


def _nextafter_ref(x1, x2, *, in_dtype):
    """One step in the result's own dtype (``in_dtype`` names the dtype the sample was drawn
    in; bool and integers give float32), compared exactly: a float64 reference, or any
    tolerance, would hide a wrong step."""
    out = np.dtype(ef.float32.numpy if in_dtype in kinds("biu") else
                   getattr(ef, in_dtype).numpy)
    return np.nextafter(np.asarray(x1).astype(out), np.asarray(x2).astype(out))


# -- errors ----------------------------------------------------------------------------------

def _refused(accepts):
    """A dtype the op refuses, if any: (numpy dtype, its name)."""
    for kind, np_dtype in (("c", np.complex64), ("f", np.float32), ("b", np.bool_),
                           ("i", np.int32)):
        if kind not in accepts:
            return np_dtype
    return None


def _errors(name, accepts):
    nin = OPS[name].nin
    good = {"c": np.complex64, "f": np.float32, "i": np.int32, "u": np.uint8,
            "b": np.bool_}[accepts[-1] if accepts[-1] != "c" else "f"]
    out = []
    if nin == 2:
        out.append(ErrorCase((np.ones((2, 3), good), np.ones((4,), good)), {}, "ShapeError",
                             rf"^{name}: .*\(2, 3\).*\(4,\)"))
    bad = _refused(accepts)
    if bad is not None:
        out.append(ErrorCase((np.ones((2,), bad),) * nin, {}, "DTypeError",
                             rf"^{name}: expects .* input, not {np.dtype(bad).name}"))
    if len(out) < 2:
        out.append(ErrorCase(("1.0",) * nin, {}, "ArgumentTypeError", rf"^{name}: "))
    return tuple(out)


# -- the entries -----------------------------------------------------------------------------

def _info(name) -> OpInfo:
    spec = SPECS[name]
    op = OPS[name]
    fn = getattr(ef, name)
    ref = spec.ref
    samples = partial(_elementwise_samples, name)
    rtol = {}
    if name in ("tan", "pow", "sinh", "cosh", "exp", "expm1"):
        # float16/bfloat16 results of large magnitude: relative rounding of the input counts
        rtol = {"float16": (4e-3, 4e-3), "bfloat16": (3e-2, 3e-2)}
    if name == "nextafter":
        fn, ref = _nextafter_fn, _nextafter_ref
        samples = partial(_with_dtype, samples)
        rtol = {n: (0.0, 0.0) for n in kinds("f")}
    return OpInfo(
        name=name, fn=fn, ref=ref, dtypes=kinds(spec.accepts), samples=samples,
        differentiable=op.differentiable,
        grad_samples=partial(_elementwise_samples, name, grad=True) if op.differentiable
        else None,
        errors=_errors(name, spec.accepts), rtol=rtol, edge_cases=SPECIAL_CASES.get(name, ()))


def _with_dtype(samples, dtype):
    return samples(dtype).map(lambda s: Sample(s.args, {**s.kwargs, "in_dtype": dtype.name}))


# -- clip ------------------------------------------------------------------------------------

@st.composite
def _clip_samples(draw, dtype, grad=False):
    shapes = draw(st_ef.broadcastable_shapes(3, min_dims=0, max_dims=3, min_side=int(grad),
                                             max_side=3 if grad else 4))
    if grad:
        x = draw(spread(float64, shapes[0]))
        lo = np.asarray(draw(st_ef.arrays(ef.int64, shapes[1], low=-8, high=-1)) * 0.25)
        hi = np.asarray(draw(st_ef.arrays(ef.int64, shapes[2], low=1, high=8)) * 0.25)
        return Sample((x,), {"min": lo, "max": hi})
    x = draw(arrays(dtype, shapes[0]), label="x")
    kwargs = {}
    for which, shape in (("min", shapes[1]), ("max", shapes[2])):
        choice = draw(st.sampled_from(["none", "scalar", "tensor"]), label=f"{which} kind")
        if choice == "scalar":
            kwargs[which] = draw(st.integers(-50, 50) if dtype.kind in "iu" else
                                 st.sampled_from([-8.0, -0.5, 0.0, 1.5, 8.0]))
        elif choice == "tensor":
            kwargs[which] = draw(arrays(dtype, shape, low=-8, high=8), label=which)
    return Sample((x,), kwargs)


def _clip_ref(x, min=None, max=None):
    want = x.astype(np.float64)
    shape = np.broadcast_shapes(*[np.shape(b) for b in (x, min, max) if isinstance(b, np.ndarray)])
    if min is not None:
        want = np.maximum(want, min)
    if max is not None:
        want = np.minimum(want, max)  # where min > max, max wins
    want = np.broadcast_to(want, shape)
    if x.dtype.kind in "iu":
        info = np.iinfo(x.dtype)
        want = np.clip(want, info.min, info.max)  # an unreachable scalar bound saturates
    return want


CLIP = OpInfo(
    name="clip", fn=ef.clip, ref=_clip_ref, dtypes=kinds("iuf"),
    samples=_clip_samples, differentiable=True, grad_samples=partial(_clip_samples, grad=True),
    errors=(
        ErrorCase((np.ones(2, np.int32), np.ones(3, np.int32)), {}, "ShapeError",
                  r"^clip: .*\(2,\).*\(3,\)"),
        ErrorCase((np.ones(2, np.complex64), 0), {}, "DTypeError",
                  r"^clip: expects a real numeric .* not complex64"),
        ErrorCase((np.ones(2, np.int32), 1.5), {}, "DTypeError", r"^clip: min=1.5"),
    ))


INFOS = [_info(name) for name in SPECS] + [CLIP]
