"""Every elementwise op, on every dtype it accepts, on every device.

Each op's expectations are written out in ``SPECS`` (independently of the core's rules): the
dtype kinds it accepts, its result dtype, a NumPy reference computed in float64 / complex128
(exact Python ints for integer results) and the input domain. The property test draws shapes
(0-d, empty, broadcast) and values, runs the op on every accepted dtype and compares.
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core._registry import OPS
from eagerflow_core.testing import TOLERANCES, assert_close, reference
from eagerflow_core.testing import strategies as st_ef

ALL = st_ef.dtype_list("all")

# The standard's (2024.12) elementwise functions, as its specification lists them.
STANDARD = ["abs", "acos", "acosh", "add", "asin", "asinh", "atan", "atan2", "atanh",
            "bitwise_and", "bitwise_left_shift", "bitwise_invert", "bitwise_or",
            "bitwise_right_shift", "bitwise_xor", "ceil", "clip", "conj", "copysign", "cos",
            "cosh", "divide", "equal", "exp", "expm1", "floor", "floor_divide", "greater",
            "greater_equal", "hypot", "imag", "isfinite", "isinf", "isnan", "less", "less_equal",
            "log", "log1p", "log2", "log10", "logaddexp", "logical_and", "logical_not",
            "logical_or", "logical_xor", "maximum", "minimum", "multiply", "negative",
            "nextafter", "not_equal", "positive", "pow", "real", "reciprocal", "remainder",
            "round", "sign", "signbit", "sin", "sinh", "square", "sqrt", "subtract", "tan",
            "tanh", "trunc"]

# hypothesis runs many examples inside one use of the `device` fixture; that is intended
SETTINGS = settings(suppress_health_check=list(settings.default.suppress_health_check)
                    + [HealthCheck.function_scoped_fixture])


# -- what each op should do ----------------------------------------------------------------

def _sign(x):
    if x.dtype.kind != "c":
        return np.sign(x)
    mag = np.abs(x)
    return np.where(mag == 0, 0, x / np.where(mag == 0, 1, mag))  # the standard: x / |x|


def _log1p(x):
    if x.dtype.kind != "c":
        return np.log1p(x)
    re, im = x.real, x.imag  # log|1 + z| without cancellation for small z
    small = 0.5 * np.log1p(re * (2 + re) + im * im) + 1j * np.arctan2(im, 1 + re)
    return np.where(np.abs(x) < 0.5, small, np.log1p(x))


def _keep_integers(f):
    """Rounding functions: integers (exact Python ints here) are already integral."""
    return lambda x: x if x.dtype == object else f(x)


def _real(x):
    return x.real if x.dtype.kind == "c" else x


def _imag(x):
    return x.imag if x.dtype.kind == "c" else np.zeros_like(x)


class Spec(NamedTuple):
    accepts: str             # dtype kinds: b bool, i signed, u unsigned, f real float, c complex
    result: str              # same | float (bool/int lifted to float32) | real (complex -> real)
    #                          | bool
    ref: Callable
    lo: float | None = None  # input range of x1 (and x2) for real dtypes; None: the kit's
    hi: float | None = None
    lo2: float | None = None  # x2's range, if another
    hi2: float | None = None
    nonzero2: bool = False   # integer x2 != 0 (integer division by zero is unspecified)
    wrap: bool = False       # integer results wrap (bit operations); else signed overflow,
    #                          which the standard leaves unspecified, is not compared


NUMERIC, REAL, ANY, REAL_ANY = "iufc", "iuf", "biufc", "biuf"

SPECS = {
    "add": Spec(NUMERIC, "same", np.add),
    "subtract": Spec(NUMERIC, "same", np.subtract),
    "multiply": Spec(NUMERIC, "same", np.multiply),
    "divide": Spec(ANY, "float", np.divide, nonzero2=True),
    "floor_divide": Spec(REAL, "same", np.floor_divide, nonzero2=True),
    "remainder": Spec(REAL, "same", np.remainder, nonzero2=True),
    "pow": Spec(NUMERIC, "same", np.power, lo2=-4, hi2=4),
    "negative": Spec(NUMERIC, "same", np.negative),
    "positive": Spec(NUMERIC, "same", np.positive),
    "square": Spec(NUMERIC, "same", np.square),
    "reciprocal": Spec(ANY, "float", lambda x: 1 / x),
    "abs": Spec(NUMERIC, "real", np.abs),
    "sign": Spec(NUMERIC, "same", _sign),
    "maximum": Spec(REAL, "same", np.maximum),
    "minimum": Spec(REAL, "same", np.minimum),
    "exp": Spec(ANY, "float", np.exp),
    "expm1": Spec(ANY, "float", np.expm1),
    "log": Spec(ANY, "float", np.log, lo=0),
    "log1p": Spec(ANY, "float", _log1p, lo=-1),
    "log2": Spec(ANY, "float", np.log2, lo=0),
    "log10": Spec(ANY, "float", np.log10, lo=0),
    "logaddexp": Spec(REAL_ANY, "float", np.logaddexp),
    "sqrt": Spec(ANY, "float", np.sqrt, lo=0),
    "sin": Spec(ANY, "float", np.sin),
    "cos": Spec(ANY, "float", np.cos),
    "tan": Spec(ANY, "float", np.tan),
    "asin": Spec(ANY, "float", np.arcsin, lo=-1, hi=1),
    "acos": Spec(ANY, "float", np.arccos, lo=-1, hi=1),
    "atan": Spec(ANY, "float", np.arctan),
    "atan2": Spec(REAL_ANY, "float", np.arctan2),
    "sinh": Spec(ANY, "float", np.sinh),
    "cosh": Spec(ANY, "float", np.cosh),
    "tanh": Spec(ANY, "float", np.tanh),
    "asinh": Spec(ANY, "float", np.arcsinh),
    "acosh": Spec(ANY, "float", np.arccosh, lo=1),
    "atanh": Spec(ANY, "float", np.arctanh, lo=-1, hi=1),
    "hypot": Spec(REAL_ANY, "float", np.hypot),
    "floor": Spec(REAL, "same", _keep_integers(np.floor)),
    "ceil": Spec(REAL, "same", _keep_integers(np.ceil)),
    "trunc": Spec(REAL, "same", _keep_integers(np.trunc)),
    "round": Spec(NUMERIC, "same", _keep_integers(np.round)),
    "copysign": Spec(REAL_ANY, "float", np.copysign),
    "nextafter": Spec(REAL_ANY, "float", None),  # checked by test_nextafter_steps_one_ulp
    "signbit": Spec(REAL_ANY, "bool", np.signbit),
    "isnan": Spec(ANY, "bool", np.isnan),
    "isinf": Spec(ANY, "bool", np.isinf),
    "isfinite": Spec(ANY, "bool", np.isfinite),
    "real": Spec(NUMERIC, "real", _real),
    "imag": Spec(NUMERIC, "real", _imag),
    "conj": Spec(NUMERIC, "same", np.conj),
    "equal": Spec(ANY, "bool", np.equal),
    "not_equal": Spec(ANY, "bool", np.not_equal),
    "less": Spec(REAL_ANY, "bool", np.less),
    "less_equal": Spec(REAL_ANY, "bool", np.less_equal),
    "greater": Spec(REAL_ANY, "bool", np.greater),
    "greater_equal": Spec(REAL_ANY, "bool", np.greater_equal),
    "logical_and": Spec(ANY, "bool", np.logical_and),
    "logical_or": Spec(ANY, "bool", np.logical_or),
    "logical_xor": Spec(ANY, "bool", np.logical_xor),
    "logical_not": Spec(ANY, "bool", np.logical_not),
    "bitwise_and": Spec("biu", "same", np.bitwise_and, wrap=True),
    "bitwise_or": Spec("biu", "same", np.bitwise_or, wrap=True),
    "bitwise_xor": Spec("biu", "same", np.bitwise_xor, wrap=True),
    "bitwise_invert": Spec("biu", "same", np.invert, wrap=True),
    "bitwise_left_shift": Spec("iu", "same", np.left_shift, wrap=True),
    "bitwise_right_shift": Spec("iu", "same", np.right_shift, wrap=True),
}
# Hot-path ops stay plain NumPy ufuncs on the NumPy backend (a wrapper would cost a third of
# an eager call), so they may warn, as NumPy does, on overflow, x / 0, inf - inf, sqrt(-1) and
# (bfloat16) NaN comparisons. Every other op must not warn on any input.
MAY_WARN = {"add", "subtract", "multiply", "divide", "exp", "square", "sqrt", "tanh", "maximum",
            "minimum", "less", "less_equal", "greater", "greater_equal"}
ELEMENTWISE = sorted(SPECS)
BINARY = [n for n in ELEMENTWISE if OPS[n].nin == 2]
_REAL_OF = {ef.complex64: ef.float32, ef.complex128: ef.float64}


def accepted(name):
    return [d for d in ALL if d.kind in SPECS[name].accepts]


def refused(name):
    return [d for d in ALL if d.kind not in SPECS[name].accepts]


def result_dtype(name, dtype):
    rule = SPECS[name].result
    if rule == "bool":
        return ef.bool
    if rule == "float" and dtype.kind in "biu":
        return ef.float32
    if rule == "real":
        return _REAL_OF.get(dtype, dtype)
    return dtype


# -- the registry and the rules ----------------------------------------------------------------

def test_registry_holds_exactly_the_standard_elementwise_functions():
    # (the special functions, erf, lgamma..., are elementwise too, but not the standard's)
    ours = sorted(n for n, op in OPS.items()
                  if op.kind in ("unary", "binary") and op.family == "elementwise")
    assert len(STANDARD) == len(set(STANDARD)) == 67
    assert ours == sorted(set(STANDARD) - {"clip"})  # clip is a general op (three inputs)
    assert OPS["clip"].kind == "general" and OPS["clip"].family == "elementwise"
    assert ELEMENTWISE == ours
    for name in STANDARD:
        assert callable(getattr(ef, name)) and name in ef.__all__, name
        assert getattr(ef, name).op is OPS[name]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_rule_table_accepts_and_results(name):
    table = OPS[name].table
    assert sorted(table, key=ALL.index) == accepted(name)
    for d in accepted(name):
        assert table[d][1] is result_dtype(name, d), d


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_public_signature_is_positional_only(name):
    fn = getattr(ef, name)
    x = ef.ones((), dtype=accepted(name)[-1])
    with pytest.raises(TypeError):
        fn(x1=x, x2=x) if OPS[name].nin == 2 else fn(x=x)


# -- values on every accepted dtype ------------------------------------------------------------

def _draw_inputs(data, name, dtype, shapes):
    spec = SPECS[name]
    lo, hi = (None, None) if dtype.kind == "c" else (spec.lo, spec.hi)
    arrays = [data.draw(st_ef.arrays(dtype, shapes[0], low=lo, high=hi), label=f"x1 {dtype}")]
    if len(shapes) == 2:
        lo2 = spec.lo if spec.lo2 is None else spec.lo2
        hi2 = spec.hi if spec.hi2 is None else spec.hi2
        if dtype.kind in "iu" and name == "pow":
            lo2, hi2 = 0, 6  # integers to negative powers are an error
        elif dtype.kind in "iu" and "shift" in name:
            lo2, hi2 = 0, 8 * dtype.itemsize - 1  # shifts past the width are unspecified
        x2 = data.draw(st_ef.arrays(dtype, shapes[1], low=lo2, high=hi2), label=f"x2 {dtype}")
        if spec.nonzero2:
            x2 = np.where(x2 == 0, np.ones((), x2.dtype), x2)
        arrays.append(x2)
    return arrays


def _int_expected(exact, dtype, wrap):
    """Exact Python-int results as ``dtype``, with a mask of the elements to compare."""
    info = np.iinfo(dtype.numpy)
    if wrap or dtype.kind == "u":  # two's complement wrap-around
        span = 2 ** info.bits
        wrapped = np.asarray((exact - info.min) % span + info.min, dtype=object)
        return wrapped.astype(dtype.numpy), None
    fits = np.asarray((exact >= info.min) & (exact <= info.max), dtype=bool)
    return np.where(fits, exact, 0).astype(dtype.numpy), fits


def expected(name, dtype, arrays):
    """The reference result and, for integer and complex results, a mask of the elements to
    compare (None: all)."""
    spec, out = SPECS[name], result_dtype(name, dtype)
    if out.kind in "fc" or (out.kind == "b" and dtype.kind in "fc"):
        work = [reference(a).astype(np.complex128 if dtype.kind == "c" else np.float64)
                for a in arrays]
        with np.errstate(all="ignore"):
            want = np.asarray(spec.ref(*work))
            fits = None
            if out.kind == "c":  # a complex result too large for its dtype has no agreed
                #                  form (NumPy's 1 / 1e-45j is nan-infj): not compared
                fits = ~np.isfinite(want) | (np.abs(want) <= ef.finfo(out).max)
            # round (and overflow) the way a result of the output dtype does
            return want.astype(out.numpy), fits
    if out.kind == "b" or dtype.kind == "b":
        return np.asarray(spec.ref(*arrays)).astype(out.numpy), None
    exact = np.asarray(spec.ref(*[a.astype(object) for a in arrays]), dtype=object)
    return _int_expected(exact, out, spec.wrap)


def assert_complex_close(got, want, mask, msg):
    """Part by part, each within the dtype's tolerance of the finite magnitude |want|: NumPy's
    allclose compares complex numbers with an infinite part as inf - inf = NaN."""
    rtol, atol = TOLERANCES[got.dtype.name]
    assert got.shape == want.shape, msg
    g, w = reference(got)[mask], want.astype(np.complex128)[mask]
    mag = np.hypot(*(np.where(np.isfinite(p), p, 0) for p in (w.real, w.imag)))
    for part in (np.real, np.imag):
        gp, wp = part(g), part(w)
        with np.errstate(invalid="ignore"):  # inf - inf
            near = np.abs(gp - wp) <= atol + rtol * mag
        ok = (gp == wp) | (np.isnan(gp) & np.isnan(wp)) | near
        assert ok.all(), f"{msg}: {part.__name__} parts differ: {gp[~ok]} != {wp[~ok]}"


def check(name, dtype, arrays, got, msg=""):
    want, mask = expected(name, dtype, arrays)
    msg = f"{name}({', '.join(str(a.dtype) for a in arrays)}) {msg}"
    assert got.dtype is result_dtype(name, dtype), msg
    if got.dtype.kind == "c":
        assert_complex_close(got, want, mask, msg)
    elif mask is None:
        assert_close(got, want, msg=msg + ": ")
    else:
        assert got.shape == want.shape, msg
        np.testing.assert_array_equal(got.numpy()[mask], want[mask], err_msg=msg)


VALUE_CASES = [(n, d) for n in ELEMENTWISE if SPECS[n].ref is not None for d in accepted(n)]


@pytest.mark.parametrize("name, dtype", VALUE_CASES, ids=[f"{n}-{d}" for n, d in VALUE_CASES])
@settings(SETTINGS, max_examples=10)
@given(data=st.data())
def test_values(device, name, dtype, data):
    if OPS[name].nin == 1:
        shapes = [data.draw(st_ef.shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))]
    else:
        shapes = data.draw(st_ef.broadcastable_shapes(2, min_dims=0, max_dims=3, min_side=0))
    arrays = _draw_inputs(data, name, dtype, shapes)
    got = _run(getattr(ef, name), name, *[ef.asarray(a) for a in arrays])
    assert got.device == device
    check(name, dtype, arrays, got)


# -- the standard's special cases (exact values, signed zeros, no warnings) ------------------

INF, NAN = float("inf"), float("nan")
PI = np.pi
SPECIAL_UNARY = {
    "log": [(0.0, -INF), (-0.0, -INF), (-1.0, NAN), (1.0, 0.0), (INF, INF), (NAN, NAN)],
    "log1p": [(-1.0, -INF), (-2.0, NAN), (-0.0, -0.0), (0.0, 0.0), (INF, INF)],
    "log2": [(0.0, -INF), (-1.0, NAN), (1.0, 0.0), (8.0, 3.0)],
    "log10": [(0.0, -INF), (-1.0, NAN), (1.0, 0.0)],
    "sqrt": [(-1.0, NAN), (-0.0, -0.0), (INF, INF), (-INF, NAN), (4.0, 2.0)],
    "exp": [(-INF, 0.0), (INF, INF), (-0.0, 1.0), (NAN, NAN)],
    "expm1": [(-INF, -1.0), (-0.0, -0.0), (INF, INF)],
    "reciprocal": [(0.0, INF), (-0.0, -INF), (INF, 0.0), (-INF, -0.0)],
    "asin": [(2.0, NAN), (-0.0, -0.0), (1.0, PI / 2)],
    "acos": [(2.0, NAN), (1.0, 0.0), (-1.0, PI)],
    "atan": [(INF, PI / 2), (-INF, -PI / 2), (-0.0, -0.0)],
    "acosh": [(0.5, NAN), (1.0, 0.0), (INF, INF)],
    "atanh": [(1.0, INF), (-1.0, -INF), (2.0, NAN), (-0.0, -0.0)],
    "asinh": [(-INF, -INF), (-0.0, -0.0)],
    "sin": [(INF, NAN), (-0.0, -0.0)],
    "cos": [(INF, NAN), (-0.0, 1.0)],
    "tan": [(-INF, NAN), (-0.0, -0.0)],
    "sinh": [(-INF, -INF), (-0.0, -0.0)],
    "cosh": [(-INF, INF), (-0.0, 1.0)],
    "tanh": [(INF, 1.0), (-INF, -1.0), (-0.0, -0.0)],
    "sign": [(-INF, -1.0), (NAN, NAN), (-3.0, -1.0), (0.0, 0.0)],
    "abs": [(-0.0, 0.0), (-INF, INF), (NAN, NAN)],
    "negative": [(0.0, -0.0), (INF, -INF)],
    "floor": [(-0.5, -1.0), (-0.0, -0.0), (INF, INF)],
    "ceil": [(-0.5, -0.0), (0.5, 1.0), (-INF, -INF)],
    "trunc": [(-0.5, -0.0), (1.5, 1.0)],
    "round": [(0.5, 0.0), (1.5, 2.0), (2.5, 2.0), (-0.5, -0.0), (-2.5, -2.0), (NAN, NAN)],
    "signbit": [(-0.0, True), (0.0, False), (-INF, True), (INF, False)],
    "isnan": [(NAN, True), (INF, False)],
    "isinf": [(-INF, True), (NAN, False), (1.0, False)],
    "isfinite": [(INF, False), (NAN, False), (-0.0, True)],
}
SPECIAL_BINARY = {
    "divide": [(1.0, 0.0, INF), (-1.0, 0.0, -INF), (1.0, -0.0, -INF), (0.0, 0.0, NAN)],
    "floor_divide": [(1.0, 0.0, INF), (-1.0, 0.0, -INF), (0.0, 0.0, NAN), (7.5, -2.0, -4.0)],
    "remainder": [(1.0, 0.0, NAN), (-1.0, INF, INF), (1.0, INF, 1.0), (1.0, -INF, -INF),
                  (-1.0, -INF, -1.0), (7.5, -2.0, -0.5), (-7.5, 2.0, 0.5)],
    "pow": [(0.0, -1.0, INF), (-8.0, 1 / 3, NAN), (NAN, 0.0, 1.0), (1.0, NAN, 1.0),
            (-1.0, INF, 1.0), (0.0, 0.0, 1.0), (2.0, -INF, 0.0), (-0.0, -1.0, -INF)],
    "atan2": [(0.0, -0.0, PI), (-0.0, -0.0, -PI), (0.0, 0.0, 0.0), (-0.0, 0.0, -0.0),
              (1.0, 0.0, PI / 2), (INF, -INF, 3 * PI / 4)],
    "hypot": [(INF, NAN, INF), (NAN, -INF, INF), (3.0, 4.0, 5.0)],
    "logaddexp": [(INF, INF, INF), (-INF, -INF, -INF), (INF, -INF, INF), (NAN, 1.0, NAN)],
    "maximum": [(NAN, 1.0, NAN), (1.0, NAN, NAN), (-INF, 2.0, 2.0)],
    "minimum": [(NAN, 1.0, NAN), (1.0, NAN, NAN), (INF, 2.0, 2.0)],
    "copysign": [(1.0, -0.0, -1.0), (-1.0, 0.0, 1.0), (INF, -1.0, -INF), (0.0, -2.0, -0.0)],
    "equal": [(NAN, NAN, False), (0.0, -0.0, True)],
    "not_equal": [(NAN, NAN, True)],
    "less": [(NAN, 1.0, False), (-0.0, 0.0, False), (-INF, 1.0, True)],
    "greater_equal": [(NAN, NAN, False), (-0.0, 0.0, True)],
}
REAL_FLOATS = st_ef.dtype_list("real floating")


def _assert_same_values(got, want, msg):
    got = reference(got)
    np.testing.assert_array_equal(got, want.astype(got.dtype), err_msg=msg)  # NaN == NaN
    zero = want == 0
    assert (np.signbit(got[zero]) == np.signbit(want[zero])).all(), f"{msg}: signed zero"


def _run(fn, name, *args):
    """``fn(*args)``; only the NumPy backend's hot-path ops may warn (see MAY_WARN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if name in MAY_WARN else "error", RuntimeWarning)
        return fn(*args)


@pytest.mark.parametrize("name", sorted(SPECIAL_UNARY))
@pytest.mark.parametrize("dtype", REAL_FLOATS, ids=str)
def test_special_cases_unary(device, name, dtype):
    x, want = (np.array(c) for c in zip(*SPECIAL_UNARY[name]))
    host = x.astype(dtype.numpy)
    got = _run(getattr(ef, name), name, ef.asarray(host))
    assert got.dtype is result_dtype(name, dtype)
    if got.dtype.kind == "f":
        want = want.astype(dtype.numpy)  # pi/2 and friends rounded to the dtype
    _assert_same_values(got, reference(want) if want.dtype.kind == "f" else want,
                        f"{name} {dtype} on {x}")


@pytest.mark.parametrize("name", sorted(SPECIAL_BINARY))
@pytest.mark.parametrize("dtype", REAL_FLOATS, ids=str)
def test_special_cases_binary(device, name, dtype):
    x1, x2, want = (np.array(c) for c in zip(*SPECIAL_BINARY[name]))
    a, b = ef.asarray(x1.astype(dtype.numpy)), ef.asarray(x2.astype(dtype.numpy))
    got = _run(getattr(ef, name), name, a, b)
    assert got.dtype is result_dtype(name, dtype)
    if got.dtype.kind == "f":
        want = reference(want.astype(dtype.numpy))
    _assert_same_values(got, want, f"{name} {dtype} on {x1}, {x2}")


@pytest.mark.parametrize("dtype", REAL_FLOATS, ids=str)
def test_nextafter_steps_one_ulp(device, dtype):
    info = ef.finfo(dtype)
    x1 = ef.asarray(np.array([1.0, 1.0, 0.0, 0.0, -0.0, 2.0, NAN]).astype(dtype.numpy))
    x2 = ef.asarray(np.array([2.0, 1.0, 1.0, -1.0, 0.0, 0.0, 1.0]).astype(dtype.numpy))
    got = reference(_run(ef.nextafter, "nextafter", x1, x2))
    assert got[0] == 1.0 + info.eps
    assert got[1] == 1.0
    assert got[2] > 0 and got[2] < info.smallest_normal and got[3] == -got[2]
    assert got[4] == 0.0 and not np.signbit(got[4])
    assert got[5] == 2.0 - info.eps  # below 2 the spacing is eps
    assert np.isnan(got[6])


def test_complex_special_cases(device):
    z = ef.asarray(np.array([0j, 3 + 4j, complex(NAN, 1), complex(1, INF), complex(INF, 0)],
                            np.complex64))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sign = ef.sign(z).numpy()
        np.testing.assert_allclose(sign[:2], [0, 0.6 + 0.8j], rtol=1e-6)
        tiny = ef.asarray(np.array([1e-45 + 1e-45j, -3e-45j], np.complex64))  # subnormal parts
        np.testing.assert_allclose(ef.sign(tiny).numpy(), [(1 + 1j) / np.sqrt(2), -1j], rtol=1e-6)
        assert np.isnan(sign[2].real)
        assert ef.isnan(z).tolist() == [False, False, True, False, False]
        assert ef.isinf(z).tolist() == [False, False, False, True, True]
        assert ef.isfinite(z).tolist() == [True, True, False, False, False]
        mod = ef.abs(z).numpy()
        assert mod.dtype == np.float32 and np.isnan(mod[2])
        assert mod[[0, 1, 3, 4]].tolist() == [0.0, 5.0, INF, INF]
        assert ef.reciprocal(z).numpy()[0].real == INF  # 1 / 0j is an infinity, as 1 / x
        log0 = ef.log(ef.asarray(np.array([0j], np.complex128))).numpy()[0]
        assert log0.real == -INF and log0.imag == 0
    roots = ef.sqrt(ef.asarray(np.array([complex(-4, 0.0), complex(-4, -0.0)]))).numpy()
    np.testing.assert_array_equal(roots, [2j, -2j])  # the branch cut follows the zero's sign


def test_complex_log1p_is_accurate_for_small_inputs(device):
    # inputs exact in complex64; log1p values from mpmath at 40 digits. NumPy's own complex
    # log1p computes log(hypot(1 + re, im)) and loses the real part of small inputs.
    z = np.array([2 ** -23 + 2 ** -25 * 1j, 2 ** -17 - 2 ** -17 * 1j, -2 ** -12 + 2 ** -10 * 1j,
                  0.25 + 0.5j])
    exact = np.array([1.19209282889443565e-07 + 2.98023188349820473e-08j,
                      7.62939453095394420e-06 - 7.62933632388514572e-06j,
                      -2.43693362327370485e-04 + 9.76800666132811779e-04j,
                      2.97353553873346388e-01 + 3.80506377112364902e-01j])
    for dtype in (ef.complex64, ef.complex128):
        got = reference(_run(ef.log1p, "log1p", ef.asarray(z.astype(dtype.numpy))))
        eps = ef.finfo(dtype).eps
        np.testing.assert_allclose(got.real, exact.real, rtol=4 * eps, err_msg=str(dtype))
        np.testing.assert_allclose(got.imag, exact.imag, rtol=4 * eps, err_msg=str(dtype))


def test_large_integers_round_exactly(device):
    big = ef.asarray(np.array([2 ** 62 + 1, -(2 ** 62) - 1], np.int64))
    for fn in (ef.floor, ef.ceil, ef.trunc, ef.round):
        got = fn(big)
        assert got.dtype is ef.int64
        assert got.numpy().tolist() == [2 ** 62 + 1, -(2 ** 62) - 1], fn.__name__
    top = ef.asarray(np.array([2 ** 64 - 1], np.uint64))
    assert ef.floor(top).numpy().tolist() == [2 ** 64 - 1]


def test_integer_to_negative_power_is_a_clear_error(device):
    x = ef.asarray(np.array([2, 3], np.int32))
    with pytest.raises(ef.InvalidArgumentError, match=r"^pow: .*negative.*float"):
        ef.pow(x, -1)
    with pytest.raises(ef.InvalidArgumentError, match=r"^pow: .*int32\[2\]"):
        x ** ef.asarray(np.array([1, -2], np.int32))


# -- refused dtypes, bad shapes, bad arguments -------------------------------------------------

@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if refused(n)])
def test_refused_dtypes_raise_dtype_error(device, name):
    fn = getattr(ef, name)
    for dtype in refused(name):
        x = ef.ones((2,), dtype=dtype)
        with pytest.raises(ef.DTypeError, match=rf"^{name}: expects .* input, not {dtype}\b"):
            fn(*[x] * OPS[name].nin)


@pytest.mark.parametrize("name", BINARY)
def test_shape_mismatch_names_op_and_shapes(device, name):
    dtype = accepted(name)[-1] if name != "pow" else ef.float32
    a, b = ef.ones((2, 3), dtype=dtype), ef.ones((4,), dtype=dtype)
    with pytest.raises(ef.ShapeError, match=rf"^{name}: .*\(2, 3\).*\(4,\)"):
        getattr(ef, name)(a, b)


def test_non_tensor_arguments_are_refused(device):
    # Lists and NumPy arrays are converted where a tensor is expected (issue #8); other
    # objects are refused, naming the op.
    assert ef.add(ef.ones(2), [1, 2]).tolist() == [2.0, 3.0]
    with pytest.raises(ef.ArgumentTypeError, match=r"^sin: .*builtins.str"):
        ef.sin("1.0")


def test_python_scalars_alone_are_promoted_to_tensors(device):
    assert ef.add(2, 3).dtype is ef.int64 and ef.add(2, 3).item() == 5
    assert ef.exp(0.0).dtype is ef.float32 and ef.exp(0.0).item() == 1.0
    assert ef.multiply(2, 1.5).dtype is ef.float32


# -- Python scalars are weak -------------------------------------------------------------------

_KIND_RANK = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}
_SCALAR_RANK = {bool: 0, int: 1, float: 2, complex: 3}


def weak_dtype(dtype, scalar_type):
    """The standard's rule for a tensor and a Python scalar, with eagerflow's extension for a
    scalar of a higher kind: the default dtype of that kind (complex128 next to float64)."""
    rank = _SCALAR_RANK[scalar_type]
    if rank <= _KIND_RANK[dtype.kind]:
        return dtype
    return {1: ef.int64, 2: ef.float32,
            3: ef.complex128 if dtype is ef.float64 else ef.complex64}[rank]


SCALARS = {bool: [True, False], int: [1, 3], float: [0.5, -2.25], complex: [1 - 2j]}


@pytest.mark.parametrize("name", BINARY)
def test_python_scalar_operands_are_weak(device, name):
    fn = getattr(ef, name)
    for dtype in ALL:
        host = np.array([1, 2, 3]).astype(dtype.numpy)
        x = ef.asarray(host)
        for kind, values in SCALARS.items():
            wd = weak_dtype(dtype, kind)
            assert ef.result_type(dtype, values[0]) is wd  # the same rule
            for s in values:
                for args, as_tensor in (((x, s), (x, ef.asarray(s, dtype=wd))),
                                        ((s, x), (ef.asarray(s, dtype=wd), x))):
                    if wd.kind not in SPECS[name].accepts:
                        with pytest.raises(ef.DTypeError, match=rf"^{name}: .*not {wd}"):
                            fn(*args)
                        continue
                    got = _run(fn, name, *args)
                    want = _run(fn, name, *[ef.astype(a, wd) for a in as_tensor])
                    msg = f"{name}({', '.join(str(getattr(a, 'dtype', repr(a))) for a in args)})"
                    assert got.dtype is result_dtype(name, wd), msg
                    assert_close(got, reference(want), msg=msg + ": ")


@pytest.mark.parametrize("dtype", [ef.int8, ef.uint8, ef.int16, ef.uint32], ids=str)
def test_python_int_out_of_range_is_an_error(device, dtype):
    x = ef.ones((2,), dtype=dtype)
    too_big = int(ef.iinfo(dtype).max) + 1
    with pytest.raises(ef.InvalidArgumentError, match=rf"^add: .*{too_big} does not fit {dtype}"):
        ef.add(x, too_big)
    with pytest.raises(ef.InvalidArgumentError, match=rf"does not fit {dtype}"):
        ef.iinfo(dtype).min - 1 - x


# -- Tensor operators ------------------------------------------------------------------------------

BINARY_OPERATORS = {
    operator.add: ef.add, operator.sub: ef.subtract, operator.mul: ef.multiply,
    operator.truediv: ef.divide, operator.floordiv: ef.floor_divide, operator.mod: ef.remainder,
    operator.pow: ef.pow, operator.and_: ef.bitwise_and, operator.or_: ef.bitwise_or,
    operator.xor: ef.bitwise_xor, operator.lshift: ef.bitwise_left_shift,
    operator.rshift: ef.bitwise_right_shift,
    operator.eq: ef.equal, operator.ne: ef.not_equal, operator.lt: ef.less,
    operator.le: ef.less_equal, operator.gt: ef.greater, operator.ge: ef.greater_equal,
}
UNARY_OPERATORS = {operator.neg: ef.negative, operator.pos: ef.positive, operator.abs: ef.abs,
                   operator.invert: ef.bitwise_invert}


def _same(got, want, msg):
    assert got.dtype is want.dtype, msg
    np.testing.assert_array_equal(reference(got), reference(want), err_msg=msg)


@pytest.mark.parametrize("op", list(BINARY_OPERATORS), ids=lambda f: f.__name__)
@SETTINGS
@given(data=st.data())
def test_binary_operators(device, op, data):
    fn = BINARY_OPERATORS[op]
    name = fn.op.name
    dtype = data.draw(st.sampled_from([d for d in accepted(name) if d.kind != "c"]))
    shapes = data.draw(st_ef.broadcastable_shapes(2, min_dims=0, max_dims=2, min_side=0))
    a, b = _draw_inputs(data, name, dtype, shapes)
    x, y = ef.asarray(a), ef.asarray(b)
    _same(_run(op, name, x, y), _run(fn, name, x, y), f"{name}({dtype}, {dtype})")
    s = data.draw(st.sampled_from([2, 3]) if dtype.kind in "iu" else
                  st.sampled_from([True, False]) if dtype.kind == "b" else
                  st.sampled_from([0.5, 2.0, 3]))
    _same(_run(op, name, x, s), _run(fn, name, x, s), f"{name}({dtype}, {s!r})")
    if name == "pow" and dtype.kind in "iu":
        x = ef.asarray(np.clip(a, 0, 6).astype(a.dtype))  # x becomes the exponent
    # reflected: __radd__...; for comparisons Python swaps them (2 < x is x.__gt__(2))
    _same(_run(op, name, s, x), _run(fn, name, s, x), f"{name}({s!r}, {dtype})")


@pytest.mark.parametrize("op", list(UNARY_OPERATORS), ids=lambda f: f.__name__)
def test_unary_operators(device, op):
    fn = UNARY_OPERATORS[op]
    for dtype in accepted(fn.op.name):
        x = ef.asarray(np.array([0, 1, 5]).astype(dtype.numpy))
        _same(op(x), fn(x), f"{op.__name__} {dtype}")


def test_operators_spot_values(device):
    x = ef.asarray(np.array([1, 2, 3], np.int32))
    assert (10 - x).tolist() == [9, 8, 7]
    assert (2 ** x).tolist() == [2, 4, 8] and (2 ** x).dtype is ef.int32
    assert (x / 2).dtype is ef.float32 and (1 / x).tolist()[1] == 0.5
    assert (7 // x).tolist() == [7, 3, 2] and (7 % x).tolist() == [0, 1, 1]
    assert (1 << x).tolist() == [2, 4, 8] and (64 >> x).tolist() == [32, 16, 8]
    assert (2 < x).tolist() == [False, False, True] and (2 >= x).tolist() == [True, True, False]
    assert (2 == x).tolist() == [False, True, False] and (x != 2).tolist() == [True, False, True]
    assert (6 & x).tolist() == [0, 2, 2] and (x | 4).tolist() == [5, 6, 7]
    assert (~x).tolist() == [-2, -3, -4] and (-x).tolist() == [-1, -2, -3]
    assert (x * 0.5).dtype is ef.float32 and (x + 1j).dtype is ef.complex64


def test_augmented_assignment_rebinds(device):
    x = ef.asarray(np.array([1.0, 2.0], np.float32))
    y = x
    x += 1
    assert x.tolist() == [2.0, 3.0] and y.tolist() == [1.0, 2.0]  # tensors are values


# -- clip ------------------------------------------------------------------------------------------

def _bound(data, dtype, shape, which):
    """A bound: None, a Python scalar of x's kind, or a tensor of x's dtype."""
    choice = data.draw(st.sampled_from(["none", "scalar", "tensor"]), label=f"{which} kind")
    if choice == "none":
        return None, None
    if choice == "scalar":
        value = data.draw(st.integers(-50, 50) if dtype.kind in "iu" else
                          st.floats(-8, 8, width=16), label=which)
        return value, np.asarray(value, np.float64)
    arr = data.draw(st_ef.arrays(dtype, shape, low=-8, high=8), label=which)
    return ef.asarray(arr), reference(arr).astype(np.float64)


@SETTINGS
@given(data=st.data())
def test_clip_values(device, data):
    shapes = data.draw(st_ef.broadcastable_shapes(3, min_dims=0, max_dims=3, min_side=0))
    for dtype in st_ef.dtype_list(("integral", "real floating")):
        x = data.draw(st_ef.arrays(dtype, shapes[0]), label=f"x {dtype}")
        lo, lo_ref = _bound(data, dtype, shapes[1], "min")
        hi, hi_ref = _bound(data, dtype, shapes[2], "max")
        got = ef.clip(ef.asarray(x), lo, hi)
        want = reference(x).astype(np.float64)
        shape = np.broadcast_shapes(*[s for s, b in zip(shapes, (x, lo, hi))
                                      if isinstance(b, (np.ndarray, ef.Tensor))])
        if lo is not None:
            want = np.maximum(want, lo_ref)
        if hi is not None:
            want = np.minimum(want, hi_ref)  # where min > max, max wins
        want = np.broadcast_to(want, shape)
        if dtype.kind in "iu":
            info = np.iinfo(dtype.numpy)
            want = np.clip(want, info.min, info.max)  # an unreachable scalar bound saturates
        assert_close(got, want.astype(dtype.numpy), dtype=dtype, msg=f"clip {dtype}: ")


def test_clip_edges(device):
    x = ef.asarray(np.array([-3.0, 0.5, NAN, 7.0], np.float32))
    assert ef.clip(x).dtype is ef.float32
    np.testing.assert_array_equal(ef.clip(x).numpy(), x.numpy())
    np.testing.assert_array_equal(ef.clip(x, -1, 1).numpy(), [-1, 0.5, NAN, 1])
    assert np.isnan(ef.clip(x, NAN).numpy()).all()  # a NaN bound gives NaN
    assert ef.clip(x, max=ef.asarray(np.float64(0.0))).dtype is ef.float32  # x's dtype
    u8 = ef.asarray(np.array([0, 7, 255], np.uint8))
    assert ef.clip(u8, -5, 1000).tolist() == [0, 7, 255]  # unreachable bounds saturate
    assert ef.clip(u8, 10, 3).tolist() == [3, 3, 3]  # min > max: max
    assert ef.clip(u8, np.int64(5)).tolist() == [5, 7, 255]
    i8 = ef.asarray(np.array([-100, 0, 100], np.int8))
    assert ef.clip(i8, min=-200, max=50).tolist() == [-100, 0, 50]
    assert ef.clip(ef.asarray(np.array([1.5], np.float16)), 2).dtype is ef.float16
    bf = ef.asarray(np.array([1.0, 5.0], ef.bfloat16.numpy))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ef.clip(bf, 2, ef.asarray(np.array([NAN, 4.0], ef.bfloat16.numpy))).dtype \
            is ef.bfloat16
    assert ef.clip(ef.asarray(np.zeros((0, 2), np.float32)), 0, 1).shape == (0, 2)
    assert ef.clip(ef.asarray(np.float32(3.0)), max=1).shape == ()


def test_clip_errors(device):
    x = ef.asarray(np.array([1, 2], np.int32))
    with pytest.raises(ef.DTypeError, match=r"^clip: min=1.5 is a Python float, but x is int32"):
        ef.clip(x, 1.5)
    with pytest.raises(ef.DTypeError, match=r"^clip: max=1j is a Python complex"):
        ef.clip(ef.asarray(np.array([1.0])), max=1j)
    for bad in (ef.bool, ef.complex64):
        with pytest.raises(ef.DTypeError, match=rf"^clip: expects a real numeric .* not {bad}"):
            ef.clip(ef.ones((2,), dtype=bad), 0)
    with pytest.raises(ef.DTypeError, match=r"^clip: expects bounds of x's kind, not float32"):
        ef.clip(x, ef.ones((2,), dtype=ef.float32))
    with pytest.raises(ef.DTypeError, match=r"^clip: no common dtype for uint64 and int64"):
        ef.clip(ef.ones((2,), dtype=ef.uint64), ef.ones((2,), dtype=ef.int64))
    with pytest.raises(ef.ShapeError, match=r"^clip: .*\(2,\).*\(3,\)"):
        ef.clip(x, ef.ones((3,), dtype=ef.int32))
    assert ef.clip(x, [0, 1]).dtype == x.dtype  # a list bound converts, weak to x's dtype
    with pytest.raises(TypeError):
        ef.clip(x=x)  # x is positional-only, as the standard spells it
