"""Dtype promotion and the standard's dtype helpers: promote_types, result_type, can_cast,
isdtype, finfo, iinfo. No backend needed: these are decided by the core alone.

The expected tables are written out here as data, from the Array API standard 2024.12's type
promotion page, plus eagerflow's documented extensions (bool, mixed kinds, float16, bfloat16).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import eagerflow_core as ef

ALL = [ef.bool, ef.int8, ef.int16, ef.int32, ef.int64, ef.uint8, ef.uint16, ef.uint32, ef.uint64,
       ef.float16, ef.bfloat16, ef.float32, ef.float64, ef.complex64, ef.complex128]
CODE = {"b": ef.bool, "i1": ef.int8, "i2": ef.int16, "i4": ef.int32, "i8": ef.int64,
        "u1": ef.uint8, "u2": ef.uint16, "u4": ef.uint32, "u8": ef.uint64, "f2": ef.float16,
        "bf": ef.bfloat16, "f4": ef.float32, "f8": ef.float64, "c8": ef.complex64,
        "c16": ef.complex128}


def _table(text):
    header, *rows = [line.split() for line in text.strip().splitlines()]
    return {(CODE[row[0]], CODE[col]): (None if cell == "-" else CODE[cell])
            for row in rows for col, cell in zip(header, row[1:])}


# The standard's integer table ("-": no promotion; uint64 with a signed integer).
STANDARD_INTEGERS = _table("""
      u1   u2   u4   u8   i1   i2   i4   i8
u1    u1   u2   u4   u8   i2   i2   i4   i8
u2    u2   u2   u4   u8   i4   i4   i4   i8
u4    u4   u4   u4   u8   i8   i8   i8   i8
u8    u8   u8   u8   u8   -    -    -    -
i1    i2   i4   i8   -    i1   i2   i4   i8
i2    i2   i4   i8   -    i2   i2   i4   i8
i4    i4   i4   i8   -    i4   i4   i4   i8
i8    i8   i8   i8   -    i8   i8   i8   i8
""")

# The standard's floating-point table (real and complex).
STANDARD_FLOATS = _table("""
      f4   f8   c8   c16
f4    f4   f8   c8   c16
f8    f8   f8   c16  c16
c8    c8   c16  c8   c16
c16   c16  c16  c16  c16
""")

# eagerflow's extension: 16-bit floats (float16 with bfloat16 has no exact common type
# narrower than float32) and their complex counterparts.
HALF_FLOATS = _table("""
      f2   bf   f4   f8   c8   c16
f2    f2   f4   f4   f8   c8   c16
bf    f4   bf   f4   f8   c8   c16
""")

INTEGERS = [ef.int8, ef.int16, ef.int32, ef.int64, ef.uint8, ef.uint16, ef.uint32, ef.uint64]
FLOATS = [ef.float16, ef.bfloat16, ef.float32, ef.float64, ef.complex64, ef.complex128]
SIGNED = [ef.int8, ef.int16, ef.int32, ef.int64]


def _promote_or_none(a, b):
    try:
        return ef.promote_types(a, b)
    except ef.DTypeError:
        return None


@pytest.mark.parametrize("pair", sorted(STANDARD_INTEGERS.items(), key=str), ids=str)
def test_standard_integer_pairs(pair):
    (a, b), want = pair
    assert _promote_or_none(a, b) is want


@pytest.mark.parametrize("pair", sorted(STANDARD_FLOATS.items(), key=str), ids=str)
def test_standard_float_pairs(pair):
    (a, b), want = pair
    assert ef.promote_types(a, b) is want


@pytest.mark.parametrize("pair", sorted(HALF_FLOATS.items(), key=str), ids=str)
def test_half_float_pairs(pair):
    (a, b), want = pair
    assert ef.promote_types(a, b) is want
    assert ef.promote_types(b, a) is want


def test_bool_with_bool_and_bool_promotes_to_anything():
    assert ef.promote_types(ef.bool, ef.bool) is ef.bool
    for d in ALL:
        assert ef.promote_types(ef.bool, d) is d
        assert ef.promote_types(d, ef.bool) is d


@pytest.mark.parametrize("integer", INTEGERS, ids=str)
def test_integer_with_floating_takes_the_floating_dtype(integer):
    for f in FLOATS:
        assert ef.promote_types(integer, f) is f
        assert ef.promote_types(f, integer) is f


@pytest.mark.parametrize("signed", SIGNED, ids=str)
def test_uint64_with_signed_has_no_common_dtype(signed):
    for a, b in ((ef.uint64, signed), (signed, ef.uint64)):
        with pytest.raises(ef.DTypeError, match=rf"no common dtype for {a} and {b}"):
            ef.promote_types(a, b)
        with pytest.raises(ef.DTypeError, match="no common dtype"):
            ef.result_type(a, b)


def test_promotion_is_symmetric_and_idempotent():
    for a, b in itertools.product(ALL, repeat=2):
        assert _promote_or_none(a, b) is _promote_or_none(b, a), (a, b)
    for a in ALL:
        assert ef.promote_types(a, a) is a


def test_promotion_never_loses_kind_and_is_an_upper_bound():
    rank = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}
    for a, b in itertools.product(ALL, repeat=2):
        c = _promote_or_none(a, b)
        if c is None:
            continue
        assert rank[c.kind] == max(rank[a.kind], rank[b.kind]), (a, b, c)
        # the result is where both can go: promoting it again with either changes nothing
        assert ef.promote_types(c, a) is c and ef.promote_types(c, b) is c, (a, b, c)


def test_promotion_is_associative_where_defined():
    # so result_type(a, b, c) does not depend on the order of its arguments
    for a, b, c in itertools.product(ALL, repeat=3):
        ab, bc = _promote_or_none(a, b), _promote_or_none(b, c)
        if ab is None or bc is None:
            continue
        assert _promote_or_none(ab, c) is _promote_or_none(a, bc), (a, b, c)


def test_same_kind_promotion_is_the_smallest_dtype_holding_both():
    for a, b in itertools.product(INTEGERS, repeat=2):
        c = _promote_or_none(a, b)
        if c is None:
            continue
        for d in (a, b):
            lo, hi = ef.iinfo(d).min, ef.iinfo(d).max
            assert ef.iinfo(c).min <= lo and hi <= ef.iinfo(c).max, (a, b, c)


# -- result_type: dtypes, tensors-like objects and weak Python scalars -------------------------

@pytest.mark.parametrize("args, want", [
    ((ef.int8,), ef.int8),
    ((ef.int8, ef.uint8), ef.int16),
    ((ef.int8, ef.uint8, ef.float16), ef.float16),
    ((ef.float16, ef.float32, 1), ef.float32),
    (("float32", "complex64"), ef.complex64),
    ((ef.int8, 1), ef.int8),              # a Python int is weak: it takes the tensor's dtype
    ((ef.uint8, True), ef.uint8),
    ((ef.int8, 1.0), ef.float32),         # a higher kind lifts to that kind's default
    ((ef.float16, 1.0), ef.float16),
    ((ef.bfloat16, 2.5), ef.bfloat16),
    ((ef.float64, 1.0), ef.float64),
    ((ef.float16, 1j), ef.complex64),
    ((ef.float64, 1j), ef.complex128),
    ((ef.complex64, 1.0), ef.complex64),
    ((ef.bool, True), ef.bool),
    ((ef.bool, 1), ef.int64),
    ((ef.bool, 1.0), ef.float32),
    ((ef.int32, 1, 2.0), ef.float32),
    ((1.0, ef.int8), ef.float32),         # scalars are weak wherever they stand
    ((2, 3), ef.int64),                   # scalars alone: the first takes its default dtype
    ((2, 3.0), ef.float32),
    ((True,), ef.bool),
    ((1j,), ef.complex64),
])
def test_result_type(args, want):
    assert ef.result_type(*args) is want


def test_result_type_matches_promote_types_for_every_pair():
    for a, b in itertools.product(ALL, repeat=2):
        want = _promote_or_none(a, b)
        if want is None:
            with pytest.raises(ef.DTypeError):
                ef.result_type(a, b)
        else:
            assert ef.result_type(a, b) is want


def test_result_type_does_not_depend_on_argument_order():
    for args in itertools.permutations([ef.int8, ef.uint16, 1, 2.0]):
        assert ef.result_type(*args) is ef.float32
    for args in itertools.permutations([ef.int8, ef.uint8, ef.int32]):
        assert ef.result_type(*args) is ef.int32


def test_result_type_errors():
    with pytest.raises(ef.DTypeError, match="at least one"):
        ef.result_type()
    with pytest.raises(ef.DTypeError, match="not a dtype"):
        ef.result_type("float33")


# -- can_cast ----------------------------------------------------------------------------------

@pytest.mark.parametrize("src, dst, want", [
    (ef.int8, ef.int16, True), (ef.int16, ef.int8, False), (ef.uint8, ef.int16, True),
    (ef.int8, ef.uint8, False), (ef.uint64, ef.int64, False), (ef.int64, ef.uint64, False),
    (ef.float32, ef.float64, True), (ef.float64, ef.float32, False),
    (ef.float16, ef.bfloat16, False), (ef.bfloat16, ef.float16, False),
    (ef.bfloat16, ef.float32, True), (ef.float32, ef.complex64, True),
    (ef.float64, ef.complex64, False), (ef.complex64, ef.float64, False),
    (ef.complex128, ef.complex64, False), (ef.bool, ef.int8, True), (ef.int8, ef.bool, False),
    (ef.int64, ef.float32, True),  # eagerflow promotes integers into any float
    (ef.float16, ef.int64, False),
])
def test_can_cast(src, dst, want):
    assert ef.can_cast(src, dst) is want


def test_can_cast_is_promotion_to_the_target():
    for a, b in itertools.product(ALL, repeat=2):
        assert ef.can_cast(a, b) is (_promote_or_none(a, b) is b), (a, b)
        assert ef.can_cast(a.name, b.name) is ef.can_cast(a, b)


# -- isdtype -----------------------------------------------------------------------------------

KINDS = {
    "bool": [ef.bool],
    "signed integer": SIGNED,
    "unsigned integer": [ef.uint8, ef.uint16, ef.uint32, ef.uint64],
    "integral": INTEGERS,
    "real floating": [ef.float16, ef.bfloat16, ef.float32, ef.float64],
    "complex floating": [ef.complex64, ef.complex128],
    "numeric": INTEGERS + FLOATS,
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_isdtype_kinds(kind):
    for d in ALL:
        assert ef.isdtype(d, kind) is (d in KINDS[kind]), (d, kind)


def test_isdtype_dtypes_and_tuples():
    assert ef.isdtype(ef.float32, ef.float32)
    assert not ef.isdtype(ef.float32, ef.float64)
    assert ef.isdtype(ef.int8, ("bool", "integral"))
    assert ef.isdtype(ef.complex64, (ef.float32, "complex floating"))
    assert not ef.isdtype(ef.float16, ("bool", "integral", ef.bfloat16))


def test_isdtype_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind 'floating'"):
        ef.isdtype(ef.float32, "floating")


# -- finfo and iinfo ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype, bits, eps, smallest_normal, real", [
    (ef.float16, 16, 2.0 ** -10, 2.0 ** -14, ef.float16),
    (ef.bfloat16, 16, 2.0 ** -7, 2.0 ** -126, ef.bfloat16),
    (ef.float32, 32, 2.0 ** -23, 2.0 ** -126, ef.float32),
    (ef.float64, 64, 2.0 ** -52, 2.0 ** -1022, ef.float64),
    (ef.complex64, 32, 2.0 ** -23, 2.0 ** -126, ef.float32),
    (ef.complex128, 64, 2.0 ** -52, 2.0 ** -1022, ef.float64),
])
def test_finfo(dtype, bits, eps, smallest_normal, real):
    info = ef.finfo(dtype)
    assert info.bits == bits
    assert info.eps == eps
    assert info.smallest_normal == smallest_normal
    assert info.min == -info.max
    assert info.max == float(np.finfo(np.float32).max if real is ef.float32 else
                             np.finfo(np.float64).max if real is ef.float64 else
                             65504.0 if real is ef.float16 else 3.3895313892515355e38)
    assert info.dtype is real
    assert all(type(v) is float for v in (info.eps, info.max, info.min, info.smallest_normal))
    assert ef.finfo(dtype.name) == info


@pytest.mark.parametrize("dtype, bits, lo, hi", [
    (ef.int8, 8, -128, 127), (ef.int16, 16, -2 ** 15, 2 ** 15 - 1),
    (ef.int32, 32, -2 ** 31, 2 ** 31 - 1), (ef.int64, 64, -2 ** 63, 2 ** 63 - 1),
    (ef.uint8, 8, 0, 255), (ef.uint16, 16, 0, 2 ** 16 - 1), (ef.uint32, 32, 0, 2 ** 32 - 1),
    (ef.uint64, 64, 0, 2 ** 64 - 1),
])
def test_iinfo(dtype, bits, lo, hi):
    info = ef.iinfo(dtype)
    assert (info.bits, info.min, info.max, info.dtype) == (bits, lo, hi, dtype)
    assert type(info.min) is int and type(info.max) is int


def test_finfo_iinfo_refuse_the_other_kind():
    for d in [ef.bool] + INTEGERS:
        with pytest.raises(ef.DTypeError, match=rf"finfo: {d} is not a floating dtype"):
            ef.finfo(d)
    for d in [ef.bool] + FLOATS:
        with pytest.raises(ef.DTypeError, match=rf"iinfo: {d} is not an integer dtype"):
            ef.iinfo(d)
