"""Manipulation ops: reshaping, joining, splitting, reordering axes."""

from __future__ import annotations

from .._dispatch import call
from .._errors import ShapeError
from .._registry import defop
from .._tensor import Tensor
from . import _rules as R
from ._define import public
from .creation import _shape


def _reshape_shape(shape, *, shape_=None, copy=None, **params):
    return shape


def _reshape_rule(x, *, shape, copy=None):
    size = 1
    for d in x:
        size *= d
    unknown = [i for i, d in enumerate(shape) if d == -1]
    if len(unknown) > 1 or any(d < -1 for d in shape):
        raise ShapeError(f"shape {tuple(shape)} may hold at most one -1 and no other negative size")
    known = 1
    for d in shape:
        if d != -1:
            known *= d
    if (unknown and (known == 0 or size % known)) or (not unknown and known != size):
        raise ShapeError(f"cannot reshape a tensor of shape {tuple(x)} ({size} elements) "
                         f"into shape {tuple(shape)}")
    return tuple(size // known if d == -1 else d for d in shape)


reshape_op = defop("reshape", family="manipulation", dtype_rule=R.same_dtype,
                   shape_rule=_reshape_rule)


@public(reshape_op)
def reshape(x, /, shape, *, copy=None) -> Tensor:
    """``x`` with a new shape holding the same elements (one size may be -1).

    >>> import eagerflow_core as ef
    >>> ef.reshape(ef.arange(6), (2, -1))
    ef.Tensor([[0, 1, 2],
               [3, 4, 5]], shape=(2, 3), dtype=int64, device='cpu:0')
    """
    shape = tuple(int(d) for d in ((shape,) if isinstance(shape, int) else shape))
    params = {"shape": shape} if copy is None else {"shape": shape, "copy": copy}
    return call(reshape_op, (x,), params)


def _broadcast_to_rule(x, *, shape):
    if len(shape) < len(x):
        raise ShapeError(f"cannot broadcast shape {tuple(x)} to {tuple(shape)}: the target has "
                         f"fewer dimensions")
    out = R.broadcast_shapes(x, shape)
    if out != tuple(shape):
        raise ShapeError(f"cannot broadcast shape {tuple(x)} to {tuple(shape)}")
    return out


broadcast_to_op = defop("broadcast_to", family="manipulation", dtype_rule=R.same_dtype,
                        shape_rule=_broadcast_to_rule)


@public(broadcast_to_op)
def broadcast_to(x, /, shape) -> Tensor:
    """``x`` broadcast to ``shape`` (sizes of 1 stretch; new axes are added in front).

    >>> import eagerflow_core as ef
    >>> ef.broadcast_to(ef.constant([1, 2]), (2, 2))
    ef.Tensor([[1, 2],
               [1, 2]], shape=(2, 2), dtype=int64, device='cpu:0')
    """
    return call(broadcast_to_op, (x,), {"shape": _shape(shape, "broadcast_to")})


__all__ = ["reshape", "broadcast_to"]
