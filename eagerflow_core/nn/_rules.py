"""Dtype and shape rules of the nn composites, attached to their OpDefs.

A composite records on tapes as one step, so its OpDef is what an interpreter sees (``ef.function``
asks an op's shape rule for the result's shape without running it): each composite declares the
same two rules as a kernel op. The public functions run the shape rule first, so a bad call
fails with the op's name and the shapes before any arithmetic.
"""

from __future__ import annotations

from .._dtypes import promote_types
from .._errors import DTypeError, EagerflowError
from ..ops import _rules as R


def declare(fn, *, dtype_rule, shape_rule):
    """Give the composite ``fn`` its dtype and shape rules; returns ``fn``."""
    fn.op.dtype_rule = dtype_rule
    fn.op.shape_rule = shape_rule
    return fn


def checked(name: str, rule, *args, **params):
    """``rule(*args, **params)``, an eagerflow error prefixed with ``name``."""
    try:
        return rule(*args, **params)
    except EagerflowError as exc:
        raise type(exc)(f"{name}: {exc}") from None


def float_result(*dtypes, **params):
    """Real floating inputs keep their (common) dtype; integers and bools are lifted to the
    default float; complex is refused."""
    present = [d for d in dtypes if d is not None]
    for d in present:
        if d.kind == "c":
            raise DTypeError(f"expects real floating-point inputs, not {d}")
    floats = [d for d in present if d.kind == "f"]
    if not floats:
        return R.F
    out = floats[0]
    for d in floats[1:]:
        out = promote_types(out, d)
    return out


def same_shape(shape, *rest, **params):
    return tuple(shape)


def broadcast(*shapes, **params):
    return R.broadcast_shapes(*[s for s in shapes if s is not None])
