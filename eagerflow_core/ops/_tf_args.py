"""Argument helpers of TensorFlow's array ops (``tf_array.py``) and of their compositions
(``tf_compose.py``): TensorFlow takes lists and 1-D tensors where the standard takes tuples."""

from __future__ import annotations

import operator

from .. import _dispatch
from .._errors import ArgumentTypeError
from .._tensor import Tensor


class _Named:
    """What the conversion's error messages read of an op: its name (for compositions)."""

    def __init__(self, name):
        self.name = name


def as_tensor(op_name, x):
    """``x`` as something with ``.shape`` and ``.dtype``: tensors and Variables as they are
    (a tape keeps watching a Variable), lists, scalars and NumPy arrays converted."""
    if isinstance(x, Tensor) or hasattr(x, "_ef_tensor_"):
        return x
    return _dispatch.as_tensor_arg(_Named(op_name), x)


def ints(value, what: str) -> list[int]:
    """A sequence of ints (a list, a tuple, a 1-D integer tensor) as Python ints."""
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        value = [value]
    try:
        if any(isinstance(v, (bool, float)) for v in value):
            raise TypeError
        return [operator.index(v) for v in value]
    except TypeError:
        raise ArgumentTypeError(f"{what} must be a sequence of ints, got {value!r}") from None


def along(x, axis: int, start: int, stop: int):
    """``x[..., start:stop, ...]`` with the slice on ``axis``."""
    return x[(slice(None),) * axis + (slice(start, stop),)]


def axis_arg(axis):
    """TensorFlow takes a list (or a 1-D tensor) of axes where the standard takes a tuple."""
    if axis is None or isinstance(axis, int):
        return axis
    return tuple(ints(axis, "axis"))
