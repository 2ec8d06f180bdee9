"""The elementwise ops: what the op database does not say, on every device.

The values of every op on every dtype it takes are checked from the op database
(``eagerflow_core/testing/opdb/_elementwise.py``: accepted dtypes, NumPy reference, input
domains) by tests/backends/test_ops.py, and the standard's special cases
(``opdb/_special_cases.py``) by the conformance kit's ``special`` check, run here on every
device. This file holds the independent facts: each op's result dtype, written out compactly,
the positional-only signatures, the warning policy (``MAY_WARN``), nextafter's ulp steps, the
complex and integer corner cases, errors, weak Python scalars, the Tensor operators and clip.
"""

from __future__ import annotations

import operator
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core._dtypes import as_dtype
from eagerflow_core._registry import OPS
from eagerflow_core.testing import assert_close, reference
from eagerflow_core.testing import strategies as st_ef
from eagerflow_core.testing._edge_cases import cases_for, edge_case_failures
from eagerflow_core.testing.opdb import OPDB

ALL = st_ef.dtype_list("all")
INF, NAN = float("inf"), float("nan")

# hypothesis runs many examples inside one use of the `device` fixture; that is intended
SETTINGS = settings(suppress_health_check=list(settings.default.suppress_health_check)
                    + [HealthCheck.function_scoped_fixture])

# The one- and two-input elementwise ops (clip, with three, is a general op).
ELEMENTWISE = sorted(n for n, op in OPS.items()
                     if op.kind in ("unary", "binary") and op.family == "elementwise")
BINARY = [n for n in ELEMENTWISE if OPS[n].nin == 2]

# -- the result dtype of each op, written out independently of the core's rules ---------------
# "same" (the input's dtype) unless listed. float: bool and integer inputs give float32;
# divide follows TensorFlow: 32- and 64-bit integers give float64, which holds their quotients;
# real: complex inputs give the real dtype of their precision; bool: always bool.
RESULT = {
    "float": ["divide", "reciprocal", "exp", "expm1", "log", "log1p", "log2", "log10",
              "logaddexp", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh",
              "cosh", "tanh", "asinh", "acosh", "atanh", "hypot", "copysign", "nextafter"],
    "real": ["abs", "real", "imag"],
    "bool": ["signbit", "isnan", "isinf", "isfinite", "equal", "not_equal", "less",
             "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
             "logical_xor", "logical_not"],
}
RULE = {name: rule for rule, names in RESULT.items() for name in names}
_REAL_OF = {ef.complex64: ef.float32, ef.complex128: ef.float64}

# Hot-path ops stay plain NumPy ufuncs on the NumPy backend (a wrapper would cost a third of
# an eager call), so they may warn, as NumPy does, on overflow, x / 0, inf - inf, sqrt(-1) and
# (bfloat16) NaN comparisons. Every other op must not warn on any input.
MAY_WARN = {"add", "subtract", "multiply", "divide", "exp", "square", "sqrt", "tanh", "maximum",
            "minimum", "less", "less_equal", "greater", "greater_equal"}


def accepted(name):
    return [as_dtype(d) for d in OPDB[name].dtypes]


def refused(name):
    return [d for d in ALL if d.name not in OPDB[name].dtypes]


def result_dtype(name, dtype):
    rule = RULE.get(name, "same")
    if rule == "bool":
        return ef.bool
    if name == "divide" and dtype.kind in "iu" and dtype.itemsize >= 4:
        return ef.float64
    if rule == "float" and dtype.kind in "biu":
        return ef.float32
    if rule == "real":
        return _REAL_OF.get(dtype, dtype)
    return dtype


def _run(fn, name, *args):
    """``fn(*args)``; only the NumPy backend's hot-path ops may warn (see MAY_WARN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if name in MAY_WARN else "error", RuntimeWarning)
        return fn(*args)


# -- the registry, the rules and the signatures --------------------------------------------

def test_every_elementwise_op_is_described():
    assert set(ELEMENTWISE) <= set(OPDB), "elementwise ops without an OpInfo"
    assert set(RULE) <= set(ELEMENTWISE), f"RESULT names other ops: {set(RULE) - set(ELEMENTWISE)}"
    assert OPS["clip"].kind == "general" and OPS["clip"].family == "elementwise"


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_rule_table_accepts_and_results(name):
    table = OPS[name].table
    assert sorted(table, key=ALL.index) == accepted(name)
    for d in accepted(name):
        assert table[d][1] is result_dtype(name, d), d


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_result_dtypes_on_the_device(device, name):
    fn = getattr(ef, name)
    for d in accepted(name):
        x = ef.ones((2,), dtype=d)
        got = _run(fn, name, *[x] * OPS[name].nin)
        assert got.dtype is result_dtype(name, d) and got.device == device, f"{name}({d})"


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_public_signature_is_positional_only(name):
    fn = getattr(ef, name)
    x = ef.ones((), dtype=accepted(name)[-1])
    with pytest.raises(TypeError):
        fn(x1=x, x2=x) if OPS[name].nin == 2 else fn(x=x)


# -- the standard's special cases (exact values, signed zeros, no warnings) ------------------

SPECIAL = [(n, d) for n in sorted(OPDB) for d in OPDB[n].dtypes if cases_for(OPDB[n], d)]


@pytest.mark.parametrize("name, dtype", SPECIAL, ids=[f"{n}-{d}" for n, d in SPECIAL])
def test_special_cases(device, name, dtype):
    """The conformance kit's ``special`` check on this device, with the warning policy:
    special values are where NumPy warns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if name in MAY_WARN else "error", RuntimeWarning)
        failures = edge_case_failures(OPDB[name], dtype, device)
    assert not failures, "\n".join(failures)


def test_every_op_with_a_table_is_checked():
    # the standard's special-case sections of the elementwise functions (none for the bitwise
    # and logical ops, conj, real, imag, positive): every other op has cases here
    without = sorted(n for n in ELEMENTWISE if not OPDB[n].edge_cases)
    assert without == ["bitwise_and", "bitwise_invert", "bitwise_left_shift", "bitwise_or",
                       "bitwise_right_shift", "bitwise_xor", "conj", "imag", "logical_and",
                       "logical_not", "logical_or", "logical_xor", "positive", "real"]


# -- what the tables do not hold -------------------------------------------------------------

REAL_FLOATS = st_ef.dtype_list("real floating")


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
                    if wd.name not in OPDB[name].dtypes:
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


def _operands(data, name, dtype):
    """x1 and x2 of op ``name`` drawn by its OpInfo, as tensors (a Python scalar, which the
    samples draw now and then, stays one)."""
    sample = data.draw(OPDB[name].samples(dtype), label="sample")
    return [ef.asarray(a) if isinstance(a, np.ndarray) else a for a in sample.args]


@pytest.mark.parametrize("op", list(BINARY_OPERATORS), ids=lambda f: f.__name__)
@SETTINGS
@given(data=st.data())
def test_binary_operators(device, op, data):
    fn = BINARY_OPERATORS[op]
    name = fn.op.name
    dtype = data.draw(st.sampled_from([d for d in accepted(name) if d.kind != "c"]))
    x, y = _operands(data, name, dtype)
    _same(_run(op, name, x, y), _run(fn, name, x, y), f"{name}({x!r}, {y!r})")
    t = x if isinstance(x, ef.Tensor) else y
    s = data.draw(st.sampled_from([2, 3]) if dtype.kind in "iu" else
                  st.sampled_from([True, False]) if dtype.kind == "b" else
                  st.sampled_from([0.5, 2.0, 3]))
    _same(_run(op, name, t, s), _run(fn, name, t, s), f"{name}({dtype}, {s!r})")
    if name == "pow" and dtype.kind in "iu":
        t = ef.clip(t, 0, 6)  # t becomes the exponent
    # reflected: __radd__...; for comparisons Python swaps them (2 < x is x.__gt__(2))
    _same(_run(op, name, s, t), _run(fn, name, s, t), f"{name}({s!r}, {dtype})")


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
    assert (x / 2).dtype is ef.float64 and (1 / x).tolist()[1] == 0.5  # TF: int32 / -> float64
    assert (ef.asarray([1, 2], dtype=ef.int16) / 2).dtype is ef.float32
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
