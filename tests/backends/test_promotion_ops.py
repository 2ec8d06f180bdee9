"""Binary ops on tensors of two dtypes compute in the promoted dtype, on every device.

The promotion table itself is checked against the standard's tables in
tests/core/test_promotion.py; each op's dtype rule in tests/backends/test_elementwise.py.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core._registry import OPS
from eagerflow_core.testing import reference
from eagerflow_core.testing import strategies as st_ef

ALL = st_ef.dtype_list("all")
PAIRS = list(itertools.product(ALL, repeat=2))
BINARY = sorted(n for n, op in OPS.items() if op.kind == "binary")


def _promoted(a, b):
    try:
        return ef.promote_types(a, b)
    except ef.DTypeError:
        return None


def _tensors(a, b):
    # values every dtype holds; no zero divisors, small shifts and exponents
    return (ef.asarray(np.array([1, 2, 3]).astype(a.numpy)),
            ef.asarray(np.array([[3], [1]]).astype(b.numpy)))


@pytest.mark.parametrize("name", BINARY)
def test_mixed_dtypes_compute_in_the_promoted_dtype(device, name):
    fn = getattr(ef, name)
    table = OPS[name].table
    for a, b in PAIRS:
        x, y = _tensors(a, b)
        p = _promoted(a, b)
        if p is None:
            with pytest.raises(ef.DTypeError, match=rf"^{name}: no common dtype for {a} and {b}"):
                fn(x, y)
            continue
        if p not in table:
            with pytest.raises(ef.DTypeError, match=rf"^{name}: expects .* input, not {p}\b"):
                fn(x, y)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # e.g. bool 1 - 1 = 0 then 1 / 0
            got = fn(x, y)
            want = fn(ef.astype(x, p), ef.astype(y, p))
        msg = f"{name}({a}, {b}) via {p}"
        assert got.dtype is table[p][1], msg
        assert got.shape == (2, 3), msg
        np.testing.assert_array_equal(reference(got), reference(want), err_msg=msg)


@pytest.mark.parametrize("a, b, want", [
    (ef.int8, ef.uint8, ef.int16), (ef.uint8, ef.int16, ef.int16), (ef.uint32, ef.int32, ef.int64),
    (ef.int32, ef.float16, ef.float16), (ef.float16, ef.bfloat16, ef.float32),
    (ef.float32, ef.complex64, ef.complex64), (ef.float64, ef.complex64, ef.complex128),
    (ef.bool, ef.uint16, ef.uint16), (ef.uint64, ef.float32, ef.float32),
])
def test_add_spot_checks(device, a, b, want):
    x, y = _tensors(a, b)
    assert (x + y).dtype is want and (y + x).dtype is want
    x_host = [True, True, True] if a is ef.bool else [1, 2, 3]
    y_host = [[True], [True]] if b is ef.bool else [[3], [1]]
    assert (x + y).tolist() == (np.array(x_host, int) + np.array(y_host, int)).tolist()


def test_mixed_kind_values_are_exact(device):
    # int8 -> int16 keeps values an int8 sum would wrap
    x = ef.asarray(np.array([100, -100], np.int8))
    y = ef.asarray(np.array([100, 200], np.uint8))
    assert (x + y).tolist() == [200, 100] and (x + y).dtype is ef.int16
    # uint32 and int32 meet in int64
    u = ef.asarray(np.array([2 ** 32 - 1], np.uint32))
    i = ef.asarray(np.array([-1], np.int32))
    assert (u + i).tolist() == [2 ** 32 - 2]
    # float16 with bfloat16: float32 holds both exactly
    h = ef.asarray(np.array([1 + 2 ** -10], np.float16))
    bf = ef.asarray(np.array([1 + 2 ** -7], ef.bfloat16.numpy))
    assert (h + bf).item() == 2 + 2 ** -10 + 2 ** -7


def test_zero_dim_tensors_are_not_weak(device):
    x = ef.asarray(np.array([1, 2], np.int8))
    big = ef.asarray(np.int64(1000))
    assert (x + big).dtype is ef.int64 and (x + big).tolist() == [1001, 1002]
    assert (x + ef.asarray(np.float64(0.5))).dtype is ef.float64
    assert (x + 1000.5).dtype is ef.float32  # a Python scalar is weak: default float


def test_result_type_and_can_cast_take_tensors(device):
    x = ef.ones((2,), dtype=ef.int8)
    y = ef.ones((2,), dtype=ef.uint8)
    assert ef.result_type(x, y) is ef.int16
    assert ef.result_type(x, 1.0) is ef.float32
    assert ef.result_type(x, y, ef.float16) is ef.float16
    assert ef.can_cast(x, ef.int16) and not ef.can_cast(x, ef.uint8)
    assert ef.finfo(ef.ones((1,), dtype=ef.complex64)).dtype is ef.float32
    assert ef.iinfo(y).max == 255
    with pytest.raises(ef.DTypeError, match="no common dtype for uint64 and int8"):
        ef.result_type(ef.ones((1,), dtype=ef.uint64), x)


def test_promotion_of_python_scalars_in_ops_matches_result_type(device):
    for d in ALL:
        x = ef.ones((2,), dtype=d)
        for s in (True, 2, 2.5, 1 + 1j):
            want = ef.result_type(d, s)
            assert ef.equal(x, s).dtype is ef.bool
            assert ef.not_equal(s, x).dtype is ef.bool
            if want.kind != "b":
                assert ef.multiply(x, s).dtype is want, (d, s)
                assert ef.multiply(s, x).dtype is want, (d, s)
