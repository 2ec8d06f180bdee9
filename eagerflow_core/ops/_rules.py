"""Dtype and shape rules shared by many ops.

Elementwise rules map one input dtype (after promotion) to ``(compute_dtype, result_dtype)``,
or to None when the op refuses that dtype. Integers and bools given to a floating function
(``exp``, ``sin``) are lifted to the default float first, as PyTorch and JAX do; true division
follows TensorFlow instead (see ``true_divide``).
"""

from __future__ import annotations

import numpy as np

from .._dtypes import (DType, bool_, complex64, complex128, default_float, default_index,
                       default_int, float32, float64, uint64)
from .._errors import ArgumentTypeError, AxisError, DTypeError, ShapeError
from .._tensor import Tensor

F = default_float
_REAL_OF = {complex64: float32, complex128: float64}


# -- elementwise dtype rules -------------------------------------------------------------------

def numeric(d):
    return (d, d) if d.kind != "b" else None


def any_dtype(d):
    return (d, d)


def real_numeric(d):
    return (d, d) if d.kind in "iuf" else None


def floating(d):
    """Floating or complex result; bool and integers are lifted to the default float."""
    return (d, d) if d.kind in "fc" else (F, F)


def real_floating(d):
    """Real floating result; complex refused; bool and integers lifted."""
    if d.kind == "c":
        return None
    return (d, d) if d.kind == "f" else (F, F)


def real_floating_wide(d):
    """As ``real_floating``, but float16 and bfloat16 are computed in float32 and rounded back
    (special functions: their libraries have no 16-bit kernels, and 16-bit series lose it all)."""
    if d.kind == "c":
        return None
    if d.kind != "f":
        return (F, F)
    return (float32, d) if d.itemsize == 2 else (d, d)


def integer(d):
    return (d, d) if d.kind in "iu" else None


def integer_or_bool(d):
    return (d, d) if d.kind in "biu" else None


def compare(d):
    return (d, bool_)


def compare_real(d):
    return (d, bool_) if d.kind != "c" else None


def logical(d):
    return (bool_, bool_)


def predicate(d):
    return (d, bool_)


def predicate_real(d):
    return (d, bool_) if d.kind != "c" else None


def to_real(d):
    """abs, real, imag: complex gives its real dtype; real numbers keep theirs."""
    if d.kind == "b":
        return None
    return (d, _REAL_OF.get(d, d))


def true_divide(d):
    """Floating and complex dtypes keep theirs. Integers (and bool) follow TensorFlow's rule,
    which keeps integer quotients exact: 8- and 16-bit integers give float32, 32- and 64-bit
    ones float64 (float32's 24-bit significand would round 2**25 + 1). PyTorch and JAX give the
    default float (float32) for every integer dtype (issue #8 item 5)."""
    if d.kind in "fc":
        return (d, d)
    return (float64, float64) if d.kind in "iu" and d.itemsize >= 4 else (F, F)


# -- words for error messages, next to the rules they describe ---------------------------------
ACCEPTS = {
    numeric: "a numeric (not bool)",
    any_dtype: "any",
    real_numeric: "a real numeric (integer or real floating)",
    floating: "a numeric",
    real_floating: "a real (not complex)",
    real_floating_wide: "a real (not complex)",
    integer: "an integer",
    integer_or_bool: "an integer or bool",
    compare: "any",
    compare_real: "a real (not complex)",
    logical: "any",
    predicate: "any",
    predicate_real: "a real (not complex)",
    to_real: "a numeric (not bool)",
    true_divide: "a numeric",
}


# -- general dtype rule helpers ----------------------------------------------------------------

def require(dtype: DType, kinds: str, what: str) -> DType:
    """Raise DTypeError unless ``dtype.kind`` is one of ``kinds``."""
    if dtype.kind not in kinds:
        raise DTypeError(f"expects {what} input, not {dtype}")
    return dtype


def same_dtype(d, *rest, **params):
    return d


def index_dtype(*dtypes, **params):
    return default_index


def bool_dtype(*dtypes, **params):
    return bool_


def accumulation_dtype(d: DType) -> DType:
    """The standard's accumulation dtype (sum, prod, trace...): integers smaller than the
    default integer accumulate in it (unsigned ones in uint64), bool counts as an integer;
    floating and complex dtypes stay."""
    if d.kind == "b" or (d.kind == "i" and d.itemsize < default_int.itemsize):
        return default_int
    if d.kind == "u" and d.itemsize < uint64.itemsize:
        return uint64
    return d


def real_dtype(d: DType) -> DType:
    return _REAL_OF.get(d, d)


# -- shape helpers -----------------------------------------------------------------------------

def broadcast_shapes(*shapes) -> tuple[int, ...]:
    """The Array API broadcast of several shapes, or ShapeError saying which sizes clash.

    >>> broadcast_shapes((2, 1), (3,))
    (2, 3)
    """
    shapes = [s for s in shapes if s is not None]  # an absent optional input (clip's bounds)
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(-ndim, 0):
        size = 1
        for s in shapes:
            if len(s) >= -i:
                d = s[i]
                if d != 1:
                    if size not in (1, d):
                        raise ShapeError(
                            f"shapes {' and '.join(str(tuple(s)) for s in shapes)} cannot be "
                            f"broadcast: sizes {size} and {d} clash at axis {i}; each axis must "
                            f"match or be 1")
                    size = d
        out.append(size)
    return tuple(out)


def as_shape(shape, op) -> tuple[int, ...]:
    """A shape argument (an int, a 0-d tensor or a sequence of ints) as a tuple of ints, or
    ArgumentTypeError / ShapeError naming ``op``.

    >>> as_shape(3, "zeros")
    (3,)
    """
    if isinstance(shape, (int, np.integer)) or (isinstance(shape, Tensor) and shape.ndim == 0):
        shape = (shape,)
    try:
        out = tuple(int(d.__index__()) for d in shape)
    except (TypeError, AttributeError):
        raise ArgumentTypeError(f"{op}: shape must be an int or a sequence of ints, got "
                                f"{shape!r}") from None
    if any(d < 0 for d in out):
        raise ShapeError(f"{op}: shape {out} has a negative size")
    return out


def same_shape(shape, **params):
    return tuple(shape)


def broadcast_rule(*shapes, **params):
    return broadcast_shapes(*shapes)


def normalize_axis(axis: int, ndim: int) -> int:
    """``axis`` in ``[0, ndim)``, or AxisError naming the valid range."""
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise AxisError(f"axis must be an int, got {type(axis).__name__}")
    if not -ndim <= axis < max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
        lo, hi = -max(ndim, 1), max(ndim, 1) - 1
        raise AxisError(f"axis {axis} is out of range for a tensor of {ndim} dimension(s); "
                        f"valid axes are {lo}..{hi}")
    return axis % ndim if ndim else 0


def normalize_axes(axis, ndim: int) -> tuple[int, ...]:
    """A tuple of distinct axes in ``[0, ndim)`` (None means all)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = tuple(normalize_axis(a, ndim) for a in axes)
    if len(set(out)) != len(out):
        raise AxisError(f"axis {axis} repeats an axis")
    return out


def reduce_shape(shape, axis=None, keepdims=False, **params):
    axes = normalize_axes(axis, len(shape))
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)
