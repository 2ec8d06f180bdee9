"""Special functions (erf, erfc, erfinv, lgamma, digamma, polygamma, igamma, igammac) on every
backend: values against Python's ``math`` module and closed forms (independent of the scipy
the NumPy backend computes with), against ``torch.special`` on the same inputs, their
identities, dtypes (16-bit floats computed in float32, integers lifted) and errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import eagerflow_core as ef
from eagerflow_core.testing import assert_close
from eagerflow_core.testing import strategies as st_ef

prop = settings(suppress_health_check=[*settings().suppress_health_check,
                                       HealthCheck.function_scoped_fixture])
EULER = 0.5772156649015329
UNARY = ["erf", "erfc", "erfinv", "lgamma", "digamma"]
BINARY = ["polygamma", "igamma", "igammac"]


def values(lo, hi, max_side=5):
    """float64 arrays with values in [lo, hi] (every float64, not only float32 ones)."""
    return st_ef.shapes(0, 2, 0, max_side).flatmap(
        lambda s: hnp.arrays(np.float64, s, elements=st.floats(lo, hi)))


def vectorized(fn, x):
    return np.vectorize(fn, otypes=[np.float64])(x)


@pytest.mark.parametrize("name, fn, lo, hi", [
    ("erf", math.erf, -6.0, 6.0), ("erfc", math.erfc, -6.0, 26.0),
    ("lgamma", math.lgamma, 0.0625, 40.0)])
@prop
@given(data=st.data())
def test_against_python_math(device, name, fn, lo, hi, data):
    x = data.draw(values(lo, hi), label="x")
    assert_close(getattr(ef, name)(ef.asarray(x)), vectorized(fn, x))


@prop
@given(x=values(-0.999, 0.999))
def test_erfinv_inverts_erf(device, x):
    assert_close(ef.erf(ef.erfinv(ef.asarray(x))), x, rtol=1e-12, atol=1e-14)


def test_closed_forms(device):
    x = ef.asarray([1.0, 2.0, 0.5, 3.0], dtype=ef.float64)
    assert_close(ef.digamma(x), [-EULER, 1 - EULER, -EULER - 2 * math.log(2), 1.5 - EULER])
    assert_close(ef.polygamma(1, x), [math.pi ** 2 / 6, math.pi ** 2 / 6 - 1,
                                      math.pi ** 2 / 2, math.pi ** 2 / 6 - 1.25])
    assert_close(ef.polygamma(0, x), ef.digamma(x).numpy())
    assert_close(ef.polygamma(2, ef.asarray([1.0], dtype=ef.float64)), [-2 * 1.2020569031595942])
    # P(1, x) = 1 - e^-x; P(n, x) = 1 - e^-x sum_{k<n} x^k / k!; Q = 1 - P
    xs = np.array([0.0, 0.5, 2.0, 7.5])
    t = ef.asarray(xs)
    assert_close(ef.igamma(1.0, t), 1 - np.exp(-xs))
    tail = np.exp(-xs) * (1 + xs + xs ** 2 / 2)
    assert_close(ef.igamma(3.0, t), 1 - tail)
    assert_close(ef.igammac(3.0, t), tail)
    assert_close(ef.igamma(0.5, t), vectorized(math.erf, np.sqrt(xs)))  # P(1/2, x) = erf(sqrt x)
    assert_close(ef.erfinv(ef.asarray([-1.0, 0.0, 1.0])), [-np.inf, 0.0, np.inf])
    assert_close(ef.lgamma(ef.asarray([-0.5])), [math.lgamma(-0.5)])  # log|Gamma|


@prop
@given(shapes=st_ef.broadcastable_shapes(2, 0, 2, 1, 4), data=st.data())
def test_igamma_and_igammac_add_to_one(device, shapes, data):
    a = data.draw(hnp.arrays(np.float64, shapes[0], elements=st.floats(0.25, 20.0)), label="a")
    x = data.draw(hnp.arrays(np.float64, shapes[1], elements=st.floats(0.0, 30.0)), label="x")
    ta, tx = ef.asarray(a), ef.asarray(x)
    total = ef.igamma(ta, tx) + ef.igammac(ta, tx)
    assert_close(total, np.ones(np.broadcast_shapes(a.shape, x.shape)), rtol=1e-12, atol=1e-12)


def test_polygamma_order_must_be_a_whole_number(device):
    out = ef.polygamma(ef.asarray([0.5, -1.0, 1.0]), ef.asarray([2.0, 2.0, 2.0]))
    assert np.isnan(out.numpy()[:2]).all() and out.numpy()[2] == pytest.approx(math.pi ** 2 / 6 - 1)


@pytest.mark.parametrize("name", UNARY + BINARY)
def test_single_precision_matches_torch_special(device, name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.uniform(0.1, 0.9 if name == "erfinv" else 6.0, (4, 5)).astype(np.float32)
    if name in UNARY:
        got = getattr(ef, name)(ef.asarray(x))
        fn = torch.lgamma if name == "lgamma" else getattr(torch.special, name)
        want = fn(torch.from_numpy(x))
    else:
        a = np.floor(x[0]) if name == "polygamma" else x[0]
        got = getattr(ef, name)(ef.asarray(a), ef.asarray(x))
        if name == "polygamma":
            want = torch.stack([torch.special.polygamma(int(o), torch.from_numpy(x[:, i]))
                                for i, o in enumerate(a)], dim=1)
        else:
            fn = {"igamma": torch.special.gammainc, "igammac": torch.special.gammaincc}[name]
            want = fn(torch.from_numpy(a), torch.from_numpy(x))
    assert got.dtype is ef.float32
    assert_close(got, want.numpy().astype(np.float64), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", UNARY + BINARY)
@pytest.mark.parametrize("dtype, result", [
    (ef.float16, ef.float16), (ef.bfloat16, ef.bfloat16), (ef.float32, ef.float32),
    (ef.float64, ef.float64), (ef.int32, ef.float32), (ef.bool, ef.float32)])
def test_dtypes(device, name, dtype, result):
    x = ef.asarray([[1.0, 0.5]]) if dtype.kind == "f" else ef.asarray([[1, 1]])
    x = ef.astype(x, dtype)
    out = getattr(ef, name)(x) if name in UNARY else getattr(ef, name)(x, x)
    assert out.dtype is result and out.shape == (1, 2)


def test_half_precision_is_computed_in_float32(device):
    # lgamma(20) = 39.34: float16 cannot hold the intermediate series, float32 can; the
    # result is the float32 value rounded once.
    x = ef.asarray([20.0, 3.5], dtype=ef.float16)
    want = np.float16(vectorized(math.lgamma, np.array([20.0, 3.5])))
    assert np.array_equal(ef.lgamma(x).numpy(), want)


@pytest.mark.parametrize("call, cls, match", [
    (lambda: ef.erf(ef.ones(2, dtype=ef.complex64)), ef.DTypeError, r"^erf: .*complex64"),
    (lambda: ef.igamma(ef.ones((2, 3)), ef.ones(4)), ef.ShapeError,
     r"^igamma: .*\(2, 3\).*\(4,\)"),
    (lambda: ef.polygamma(1, ef.ones(2, dtype=ef.complex128)), ef.DTypeError, r"^polygamma: "),
])
def test_bad_calls_raise_clear_errors(device, call, cls, match):
    with pytest.raises(cls, match=match):
        call()
