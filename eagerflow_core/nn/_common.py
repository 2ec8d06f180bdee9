"""What the nn functions share: argument checks and the shift that keeps exp from overflowing."""

from __future__ import annotations

from .._dtypes import default_float
from .._errors import ArgumentTypeError, AxisError, DTypeError, ShapeError
from .._tensor import Tensor
from ..ops import _rules as R
from ..ops._nn_args import tensor
from ..ops.creation import astype
from ..ops.elementwise import isfinite
from ..ops.searching import where
from ..ops.statistical import max as ef_max


# ``as_tensor(x, who)``: x as a Tensor (a Variable gives its value); anything else is refused.
as_tensor = tensor


def as_float(x, who: str) -> Tensor:
    """``x`` as a real floating tensor: ints and bools are lifted to the default float (as
    ``ef.exp`` does), complex is refused."""
    x = as_tensor(x, who)
    kind = x._dtype.kind
    if kind == "f":
        return x
    if kind == "c":
        raise DTypeError(f"{who}: expects a real floating-point input, not {x._dtype}")
    return astype(x, default_float)


def axes_of(axis, x: Tensor, who: str) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple) as distinct non-negative axes of ``x``."""
    try:
        return R.normalize_axes(axis, x.ndim)
    except AxisError as exc:
        raise AxisError(f"{who}: {exc} (x has shape {x.shape})") from None


def axis_of(axis, x: Tensor, who: str) -> int:
    """One axis of ``x`` (which must have at least one dimension), made non-negative."""
    if x.ndim == 0:
        raise ShapeError(f"{who}: x must have at least 1 dimension, got a 0-d tensor; reshape "
                         f"it to (1,) or use ef.exp / ef.log directly")
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise ArgumentTypeError(f"{who}: axis must be an int, got {type(axis).__name__}")
    return axes_of(axis, x, who)[0]


def shift(x: Tensor, axes: tuple[int, ...]):
    """``(x - m, m)`` with ``m`` the max of ``x`` over ``axes`` (kept), so that ``exp`` of
    ``x - m`` is at most 1 and cannot overflow.

    A max that is not finite (a row of -inf, an inf, a NaN) shifts by 0 instead: the results
    are then the right infinities (or NaN) rather than ``inf - inf``. Over an empty axis there
    is no max, and nothing to shift."""
    if any(x.shape[a] == 0 for a in axes):
        return x, 0.0
    m = ef_max(x, axis=axes, keepdims=True)
    m = where(isfinite(m), m, 0.0)
    return x - m, m


def kept_shape(shape, axes) -> tuple[int, ...]:
    """``shape`` with each of ``axes`` reduced to 1 (a reduction's result with keepdims)."""
    return tuple(1 if i in axes else d for i, d in enumerate(shape))
