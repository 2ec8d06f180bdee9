"""Helpers that the gradient rules of several op families share.

Rules are written in eagerflow ops, so that every backend gets them and they differentiate
again. These helpers reach the ops through ``F`` (the registry's view of the public
functions), so a family file that uses them still imports no other family.

Conventions the families follow:

- Reverse mode (``defvjp``): for complex inputs a rule multiplies by the *conjugate* of the
  local derivative (PyTorch's and TensorFlow's convention); ``cj`` is free for real tensors.
- Forward mode (``defjvp``): a rule is the linear map ``t -> J t`` itself, so holomorphic
  functions take no conjugate; only non-holomorphic ones (``conj``, ``real``, ``imag``,
  ``abs`` and ``sign`` of complex numbers, ``vecdot``'s first input) show one. A rule's
  tangent need only broadcast to the output's shape (``add``'s is the input's tangent) and
  may be of another floating dtype: the forward engine broadcasts and casts it, as the
  reverse engine sums and casts a cotangent. None means no tangent (the output does not move
  with that input); a multi-output op's rule returns a tuple, None for an output that does
  not move.
"""

from __future__ import annotations

from .. import _dispatch
from .._registry import F
from .._tensor import Tensor
from . import _rules as R


def cj(t):
    """The complex conjugate of a tensor or Python scalar; real ones pass unchanged (free)."""
    if isinstance(t, Tensor):
        return F.conj(t) if t._dtype.kind == "c" else t
    return t.conjugate() if isinstance(t, complex) else t


def mH(t):
    """The conjugate transpose of a stack of matrices. For real tensors it is a transposed
    view that matmul reads as is (BLAS transposes), with no copy."""
    return cj(F.matrix_transpose(t))


def identity(t, ans, *inputs, **params):
    """The rule of an input that passes to the output unchanged (``add``, ``positive``...)."""
    return t


def select(cond, t):
    """``t`` where ``cond`` holds, zero elsewhere: how an op that picks each element from
    one of its inputs (maximum, clip) routes a gradient or a tangent."""
    return F.where(cond, t, 0)


def with_kept_dims(t, shape, axis):
    """``t``, a reduction over ``axis`` of a tensor of ``shape`` without ``keepdims``,
    reshaped as ``keepdims=True`` would give it, so that it broadcasts against the input."""
    return F.reshape(t, R.reduce_shape(shape, axis, True))


def outputs(g, ans):
    """A multi-output op's (co)tangents and outputs as tuples (the engines hand a single
    output's over bare)."""
    return (g, ans) if type(ans) is tuple else ((g,), (ans,))


# -- forward rules of linear ops --------------------------------------------------------------
# A linear op's tangent is the op applied to the tangent with the same parameters; a bilinear
# op's is the op with one input replaced by its tangent. The op is called through the
# dispatcher, so a rule is recorded (and differentiated) like any other op call.

def linear(op):
    """The JVP rule of an op linear in its first input (other inputs: indices, counts)."""
    def rule(t, ans, x, *rest, **params):
        return _dispatch.call(op, (t,) + rest, params)
    rule.__name__ = f"_{op.name.rpartition('.')[2]}_jvp"
    return rule


def bilinear(op):
    """The two JVP rules of an op linear in each of its two inputs."""
    def first(t, ans, x1, x2, **params):
        return _dispatch.call(op, (t, x2), params)

    def second(t, ans, x1, x2, **params):
        return _dispatch.call(op, (x1, t), params)
    return first, second
