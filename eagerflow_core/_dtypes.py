"""Dtypes, the promotion table, and the dtype helpers of the Array API standard.

Promotion is data: ``_PROMOTION`` below is the whole table, read as a matrix. The core decides
every result dtype; backends only map these dtypes to their native ones.
"""

from __future__ import annotations

import builtins
from typing import NamedTuple

import ml_dtypes
import numpy as np

from ._errors import DTypeError, InvalidArgumentError


class DType:
    """An eagerflow dtype: one object per dtype, compared by identity.

    >>> import eagerflow_core as ef
    >>> ef.float32, ef.float32.itemsize, ef.float32.kind
    (ef.float32, 4, 'f')
    """

    __slots__ = ("name", "kind", "itemsize", "numpy", "inexact")

    def __init__(self, name: str, kind: str, itemsize: int, numpy_dtype):
        self.name = name
        self.kind = kind  # 'b' bool, 'i' signed, 'u' unsigned, 'f' real floating, 'c' complex
        self.inexact = kind in "fc"  # floating or complex: what gradients flow through
        self.itemsize = itemsize
        self.numpy = np.dtype(numpy_dtype)  # the host (NumPy) dtype used for printing and interop

    def __repr__(self):
        return f"ef.{self.name}"

    __str__ = lambda self: self.name  # noqa: E731

    def __reduce__(self):  # pickling / copying keeps the singleton
        return (_by_name, (self.name,))

    @property
    def is_floating(self) -> bool:
        return self.kind == "f"

    @property
    def is_complex(self) -> bool:
        return self.kind == "c"

    @property
    def is_integer(self) -> bool:
        return self.kind in "iu"


bool_ = DType("bool", "b", 1, np.bool_)
int8 = DType("int8", "i", 1, np.int8)
int16 = DType("int16", "i", 2, np.int16)
int32 = DType("int32", "i", 4, np.int32)
int64 = DType("int64", "i", 8, np.int64)
uint8 = DType("uint8", "u", 1, np.uint8)
uint16 = DType("uint16", "u", 2, np.uint16)
uint32 = DType("uint32", "u", 4, np.uint32)
uint64 = DType("uint64", "u", 8, np.uint64)
float16 = DType("float16", "f", 2, np.float16)
bfloat16 = DType("bfloat16", "f", 2, ml_dtypes.bfloat16)
float32 = DType("float32", "f", 4, np.float32)
float64 = DType("float64", "f", 8, np.float64)
complex64 = DType("complex64", "c", 8, np.complex64)
complex128 = DType("complex128", "c", 16, np.complex128)

ALL_DTYPES = (bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
              float16, bfloat16, float32, float64, complex64, complex128)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NUMPY = {d.numpy: d for d in ALL_DTYPES}

default_float = float32   # like PyTorch, JAX and TensorFlow
default_int = int64       # like PyTorch and NumPy (TensorFlow uses int32)
default_complex = complex64
default_index = int64     # argmax, argsort, nonzero, unique indices

# Codes used in the table below.
_CODE = {"b": bool_, "i1": int8, "i2": int16, "i4": int32, "i8": int64,
         "u1": uint8, "u2": uint16, "u4": uint32, "u8": uint64,
         "f2": float16, "bf": bfloat16, "f4": float32, "f8": float64, "c8": complex64, "c16": complex128}

# The promotion table: result dtype of a binary op on two tensors. The standard's own pairs
# (within a kind, signed with unsigned, real float with complex) are as the Array API 2024.12
# table; the rest follows PyTorch and JAX, which users expect: bool promotes to anything, an
# integer with a float takes the float, bfloat16 with float16 gives float32. "-" means no
# common dtype: uint64 with a signed integer has none that holds both, and we will not guess
# float64 the way NumPy does.
_PROMOTION_TEXT = """
      b    i1   i2   i4   i8   u1   u2   u4   u8   f2   bf   f4   f8   c8   c16
b     b    i1   i2   i4   i8   u1   u2   u4   u8   f2   bf   f4   f8   c8   c16
i1    i1   i1   i2   i4   i8   i2   i4   i8   -    f2   bf   f4   f8   c8   c16
i2    i2   i2   i2   i4   i8   i2   i4   i8   -    f2   bf   f4   f8   c8   c16
i4    i4   i4   i4   i4   i8   i4   i4   i8   -    f2   bf   f4   f8   c8   c16
i8    i8   i8   i8   i8   i8   i8   i8   i8   -    f2   bf   f4   f8   c8   c16
u1    u1   i2   i2   i4   i8   u1   u2   u4   u8   f2   bf   f4   f8   c8   c16
u2    u2   i4   i4   i4   i8   u2   u2   u4   u8   f2   bf   f4   f8   c8   c16
u4    u4   i8   i8   i8   i8   u4   u4   u4   u8   f2   bf   f4   f8   c8   c16
u8    u8   -    -    -    -    u8   u8   u8   u8   f2   bf   f4   f8   c8   c16
f2    f2   f2   f2   f2   f2   f2   f2   f2   f2   f2   f4   f4   f8   c8   c16
bf    bf   bf   bf   bf   bf   bf   bf   bf   bf   f4   bf   f4   f8   c8   c16
f4    f4   f4   f4   f4   f4   f4   f4   f4   f4   f4   f4   f4   f8   c8   c16
f8    f8   f8   f8   f8   f8   f8   f8   f8   f8   f8   f8   f8   f8   c16  c16
c8    c8   c8   c8   c8   c8   c8   c8   c8   c8   c8   c8   c8   c16  c8   c16
c16   c16  c16  c16  c16  c16  c16  c16  c16  c16  c16  c16  c16  c16  c16  c16
"""


def _parse_promotion(text: str) -> dict[tuple[DType, DType], DType]:
    header, *rows = [line.split() for line in text.strip().splitlines()]
    table = {}
    for row in rows:
        a = _CODE[row[0]]
        for code, cell in zip(header, row[1:]):
            if cell != "-":
                table[a, _CODE[code]] = _CODE[cell]
    return table


_PROMOTION = _parse_promotion(_PROMOTION_TEXT)


def promote_types(a: DType, b: DType) -> DType:
    """The dtype two tensors of dtypes ``a`` and ``b`` promote to.

    >>> import eagerflow_core as ef
    >>> ef.promote_types(ef.int8, ef.uint8)
    ef.int16
    """
    try:
        return _PROMOTION[a, b]
    except KeyError:
        raise DTypeError(
            f"no common dtype for {a} and {b}: no type holds both; cast one with ef.astype first"
        ) from None


def _by_name(name: str) -> DType:
    return _BY_NAME[name]


def as_dtype(obj, op: str | None = None) -> DType:
    """Turn a dtype-like (``ef.float32``, ``"float32"``, a NumPy dtype, ``float``) into a DType.

    ``op`` names the op whose argument it is, in the message for anything else. ``None`` is
    refused: NumPy reads it as float64, a guess that hides a forgotten argument (issue #9).
    """
    if type(obj) is DType:
        return obj
    if isinstance(obj, str):
        name = "bool" if obj in ("bool", "bool_") else obj
        if name in _BY_NAME:
            return _BY_NAME[name]
    elif obj is builtins.bool:
        return bool_
    elif obj is builtins.int:
        return default_int
    elif obj is builtins.float:
        return default_float
    elif obj is builtins.complex:
        return default_complex
    elif obj is not None:
        try:
            found = _BY_NUMPY.get(np.dtype(obj))
        except TypeError:
            found = None
        if found is not None:
            return found
    what = "a dtype is required, not None" if obj is None else \
        f"{obj!r} is not a dtype eagerflow knows"
    raise DTypeError(
        f"{op or 'dtype'}: {what}; use one of: "
        + ", ".join(d.name for d in ALL_DTYPES)
    )


def from_numpy_dtype(dt) -> DType:
    """The DType of a NumPy dtype (raises DTypeError for object, string, datetime...)."""
    found = _BY_NUMPY.get(dt)
    if found is None:
        raise DTypeError(f"NumPy dtype {dt} has no eagerflow equivalent; supported: "
                         + ", ".join(d.name for d in ALL_DTYPES))
    return found


def result_type(*arrays_and_dtypes) -> DType:
    """Array API ``result_type``: promote tensors, dtypes and (weak) Python scalars.

    >>> import eagerflow_core as ef
    >>> ef.result_type(ef.float16, ef.float32, 1)
    ef.float32
    """
    dtypes, scalars = [], []
    for x in arrays_and_dtypes:
        if isinstance(x, (builtins.bool, builtins.int, builtins.float, builtins.complex)):
            scalars.append(x)
        elif hasattr(x, "dtype") and type(getattr(x, "dtype")) is DType:
            dtypes.append(x.dtype)
        else:
            dtypes.append(as_dtype(x, "result_type"))
    if not dtypes:
        if not scalars:
            raise DTypeError("result_type: needs at least one tensor, dtype or scalar")
        dtypes.append(scalar_dtype(scalars.pop(0)))
    out = dtypes[0]
    for d in dtypes[1:]:
        out = promote_types(out, d)
    for s in scalars:
        out = weak_promote(out, s)
    return out


def scalar_dtype(value) -> DType:
    """The dtype a lone Python scalar gets (the defaults)."""
    if isinstance(value, builtins.bool):
        return bool_
    if isinstance(value, builtins.int):
        return default_int
    if isinstance(value, builtins.float):
        return default_float
    if isinstance(value, builtins.complex):
        return default_complex
    raise DTypeError(f"{type(value).__name__} is not a Python scalar")


# Python scalars are weak: they take the tensor's dtype when their kind fits it. A scalar of a
# higher kind lifts the tensor to that kind's default (PyTorch's rule): int tensor + 2.5 -> float32.
_KIND_RANK = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}
_COMPLEX_OF = {float16: complex64, bfloat16: complex64, float32: complex64, float64: complex128}


def weak_promote(dtype: DType, value) -> DType:
    """Result dtype of a tensor of ``dtype`` combined with the Python scalar ``value``."""
    if isinstance(value, builtins.bool):
        kind = 0
    elif isinstance(value, builtins.int):
        kind = 1
    elif isinstance(value, builtins.float):
        kind = 2
    elif isinstance(value, builtins.complex):
        kind = 3
    else:
        raise DTypeError(f"{type(value).__name__} is not a Python scalar")
    have = _KIND_RANK[dtype.kind]
    if kind <= have:
        return dtype
    if kind == 1:
        return default_int
    if kind == 2:
        return default_float
    return _COMPLEX_OF.get(dtype, default_complex)


# -- dtype inspection functions of the standard ------------------------------------------------

_KIND_GROUPS = {
    "bool": "b", "signed integer": "i", "unsigned integer": "u", "integral": "iu",
    "real floating": "f", "complex floating": "c", "numeric": "iufc",
}


def isdtype(dtype, kind) -> builtins.bool:
    """Array API ``isdtype``: is ``dtype`` of ``kind`` (a dtype, a kind name, or a tuple of them)?

    >>> import eagerflow_core as ef
    >>> ef.isdtype(ef.int8, "integral"), ef.isdtype(ef.float32, ("bool", "complex floating"))
    (True, False)
    """
    dtype = as_dtype(dtype, "isdtype")
    if isinstance(kind, tuple):
        return any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, str):
        if kind not in _KIND_GROUPS:
            raise InvalidArgumentError(f"isdtype: unknown kind {kind!r}; use one of {sorted(_KIND_GROUPS)}")
        return dtype.kind in _KIND_GROUPS[kind]
    return dtype is as_dtype(kind, "isdtype")


def can_cast(from_, to) -> builtins.bool:
    """Array API ``can_cast``: can ``from_`` be cast to ``to`` by the promotion rules alone?"""
    src = from_.dtype if hasattr(from_, "dtype") and type(from_.dtype) is DType else \
        as_dtype(from_, "can_cast")
    dst = as_dtype(to, "can_cast")
    return _PROMOTION.get((src, dst)) is dst


class finfo_object(NamedTuple):
    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: DType


class iinfo_object(NamedTuple):
    bits: int
    max: int
    min: int
    dtype: DType


def finfo(type_) -> finfo_object:
    """Machine limits of a floating dtype (complex gives those of its real part).

    >>> import eagerflow_core as ef
    >>> ef.finfo(ef.bfloat16).bits
    16
    """
    dtype = type_.dtype if hasattr(type_, "dtype") and type(type_.dtype) is DType else \
        as_dtype(type_, "finfo")
    if dtype.kind not in "fc":
        raise DTypeError(f"finfo: {dtype} is not a floating dtype; use ef.iinfo for integers")
    real = {complex64: float32, complex128: float64}.get(dtype, dtype)
    info = ml_dtypes.finfo(real.numpy) if real is bfloat16 else np.finfo(real.numpy)
    return finfo_object(int(info.bits), float(info.eps), float(info.max), float(info.min),
                        float(info.smallest_normal), real)


def iinfo(type_) -> iinfo_object:
    """Machine limits of an integer dtype.

    >>> import eagerflow_core as ef
    >>> ef.iinfo(ef.uint8).max
    255
    """
    dtype = type_.dtype if hasattr(type_, "dtype") and type(type_.dtype) is DType else \
        as_dtype(type_, "iinfo")
    if dtype.kind not in "iu":
        raise DTypeError(f"iinfo: {dtype} is not an integer dtype; use ef.finfo for floats")
    info = np.iinfo(dtype.numpy)
    return iinfo_object(int(info.bits), int(info.max), int(info.min), dtype)
