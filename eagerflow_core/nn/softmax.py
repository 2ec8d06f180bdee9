"""logsumexp, log_softmax and softmax: stable forms, one tape step each.

Each shifts its input by the max over the reduced axes before ``exp`` (so logits of 1000 give
finite results) and has a one-line gradient rule written in eagerflow ops.
"""

from __future__ import annotations

from .._tensor import Tensor
from ..autodiff.composite import composite
from ..autodiff.custom import stop_gradient
from ..ops.elementwise import exp, log
from ..ops.manipulation import reshape
from ..ops.statistical import sum as ef_sum
from . import _rules
from ._common import as_float, axes_of, axis_of, kept_shape, shift


# -- logsumexp ---------------------------------------------------------------------------------
def _logsumexp_vjp(g, ans, x, *, axis=None, keepdims=False):
    # The softmax of x over axes, from the shifted values x - max(x). Not exp(x - ans): ans
    # is rounded at the scale of x, so for x = [1e5, 1e5] in float32 x - ans is -0.6953
    # instead of -log(2) (a gradient of 0.4989 instead of 0.5), and at 1e30 it is 0 (issue #7).
    # The max is a constant to the tapes: softmax does not depend on the shift.
    axes = axes_of(axis, x, "logsumexp")
    if not keepdims:
        g = reshape(g, kept_shape(x.shape, axes))
    _, m = shift(stop_gradient(x), axes)
    e = exp(x - m)
    return g * (e / ef_sum(e, axis=axes, keepdims=True))


@composite(vjp=_logsumexp_vjp)
def logsumexp(x, /, *, axis=None, keepdims=False) -> Tensor:
    """``log(sum(exp(x), axis))`` without overflow (TensorFlow's ``reduce_logsumexp``).

    ``axis`` is None (all axes), an int or a tuple of ints. Rows of -inf give -inf, and an
    empty axis gives -inf (the log of an empty sum). Ints are lifted to float32.

    >>> import eagerflow_core as ef
    >>> ef.nn.logsumexp(ef.constant([[1000.0, 1000.0], [0.0, -ef.inf]]), axis=1)
    ef.Tensor([1000.6932,    0.    ], shape=(2,), dtype=float32, device='cpu:0')
    """
    x = as_float(x, "logsumexp")
    axes = axes_of(axis, x, "logsumexp")
    shifted, m = shift(x, axes)
    out = log(ef_sum(exp(shifted), axis=axes, keepdims=True)) + m
    return out if keepdims else reshape(out, tuple(d for i, d in enumerate(x.shape)
                                                   if i not in axes))


# -- log_softmax and softmax -------------------------------------------------------------------
# The public functions check their arguments, then call a composite with declared rules: a
# backend with a kernel of the composite's name ("softmax", "log_softmax": the CUDA backend's
# fused row kernels) runs it as ``kernel(x, axis=axis)`` instead of the body.

# Their gradients are composites too (a backend's fused backward kernel, "softmax_grad" /
# "log_softmax_grad" called as kernel(g, y, axis=axis), replaces the body), whose own rules keep
# higher-order gradients working.

def _log_softmax_grad_vjp(h, ans, g, y, *, axis):
    # out = g - exp(y) * sum(g): d/dg is h - sum(h * exp(y)), d/dy is -h * exp(y) * sum(g)
    p = exp(y)
    return (h - ef_sum(h * p, axis=axis, keepdims=True),
            -h * p * ef_sum(g, axis=axis, keepdims=True))


@composite(vjp=_log_softmax_grad_vjp, name="log_softmax_grad")
def _log_softmax_grad(g, y, *, axis):
    return g - exp(y) * ef_sum(g, axis=axis, keepdims=True)


_rules.declare(_log_softmax_grad, dtype_rule=_rules.float_result, shape_rule=_rules.same_shape)


def _log_softmax_vjp(g, ans, x, *, axis):
    return _log_softmax_grad(g, ans, axis=axis)


@composite(vjp=_log_softmax_vjp, name="log_softmax")
def _log_softmax(x, *, axis):
    shifted, _ = shift(x, (axis,))
    return shifted - log(ef_sum(exp(shifted), axis=axis, keepdims=True))


_rules.declare(_log_softmax, dtype_rule=_rules.float_result, shape_rule=_rules.same_shape)


def log_softmax(x, /, *, axis=-1) -> Tensor:
    """``x - logsumexp(x, axis, keepdims=True)``: log-probabilities from logits, stable for
    large logits (TensorFlow's ``tf.nn.log_softmax``).

    >>> import eagerflow_core as ef
    >>> ef.nn.log_softmax(ef.constant([1000.0, 1000.0, -ef.inf]))
    ef.Tensor([-0.6931472, -0.6931472,       -inf], shape=(3,), dtype=float32, device='cpu:0')
    """
    x = as_float(x, "log_softmax")
    return _log_softmax(x, axis=axis_of(axis, x, "log_softmax"))


def _softmax_grad_vjp(h, ans, g, y, *, axis):
    # out = y * (g - sum(g * y)): d/dg is y * (h - sum(h * y)),
    # d/dy is h * (g - sum(g * y)) - g * sum(h * y)
    hy = ef_sum(h * y, axis=axis, keepdims=True)
    return y * (h - hy), h * (g - ef_sum(g * y, axis=axis, keepdims=True)) - g * hy


@composite(vjp=_softmax_grad_vjp, name="softmax_grad")
def _softmax_grad(g, y, *, axis):
    return y * (g - ef_sum(g * y, axis=axis, keepdims=True))


_rules.declare(_softmax_grad, dtype_rule=_rules.float_result, shape_rule=_rules.same_shape)


def _softmax_vjp(g, ans, x, *, axis):
    return _softmax_grad(g, ans, axis=axis)


@composite(vjp=_softmax_vjp, name="softmax")
def _softmax(x, *, axis):
    e = exp(shift(x, (axis,))[0])
    return e / ef_sum(e, axis=axis, keepdims=True)


_rules.declare(_softmax, dtype_rule=_rules.float_result, shape_rule=_rules.same_shape)


def softmax(x, /, *, axis=-1) -> Tensor:
    """``exp(x) / sum(exp(x), axis)``: probabilities from logits, stable for large logits.

    >>> import eagerflow_core as ef
    >>> ef.nn.softmax(ef.constant([[1000.0, 1000.0], [0.0, ef.log(ef.constant(3.0)).item()]]))
    ef.Tensor([[0.5 , 0.5 ],
               [0.25, 0.75]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    x = as_float(x, "softmax")
    return _softmax(x, axis=axis_of(axis, x, "softmax"))


log_softmax.op = _log_softmax.op  # what tapes record for them (their rules, for interpreters)
softmax.op = _softmax.op


__all__ = ["log_softmax", "logsumexp", "softmax"]
