"""Functions of the logistic sigmoid (TensorFlow's names): ``silu`` (``swish``) and
``sigmoid_cross_entropy_with_logits``; one tape step each, with a hand-written rule in
eagerflow ops (so they differentiate again)."""

from __future__ import annotations

import numbers

from .._errors import ArgumentTypeError, InvalidArgumentError, ShapeError
from .._tensor import Tensor
from ..autodiff.composite import composite
from ..ops.creation import astype
from ..ops.elementwise import abs as ef_abs
from ..ops.elementwise import exp, log1p, maximum
from . import _rules
from ._common import as_float
from .activations import sigmoid

_SILU = "nn.silu"
_SCE = "nn.sigmoid_cross_entropy_with_logits"


# -- silu --------------------------------------------------------------------------------------
def _silu_vjp(g, ans, features, *, beta=1.0):
    s = sigmoid(features if beta == 1.0 else beta * features)
    return g * (s * (1 + beta * features * (1 - s)))


@composite(vjp=_silu_vjp, name=_SILU)
def _silu(features, *, beta=1.0):
    return features * sigmoid(features if beta == 1.0 else beta * features)


_rules.declare(_silu, dtype_rule=_rules.float_result, shape_rule=_rules.same_shape)


def silu(features, beta=1.0) -> Tensor:
    """``features * sigmoid(beta * features)``, element-wise: the sigmoid linear unit, also
    called swish (TensorFlow's ``tf.nn.silu``). Stable for large ``|features|``; integers are
    lifted to float32. ``beta`` is a Python number.

    >>> import eagerflow_core as ef
    >>> ef.nn.silu(ef.constant([-1000.0, 0.0, 1.0]))
    ef.Tensor([-0.       ,  0.       ,  0.7310586], shape=(3,), dtype=float32, device='cpu:0')
    >>> ef.grad(lambda x: ef.sum(ef.nn.swish(x)))(ef.constant([0.0]))
    ef.Tensor([0.5], shape=(1,), dtype=float32, device='cpu:0')
    """
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
        raise ArgumentTypeError(f"{_SILU}: beta must be a Python number, got "
                                f"{type(beta).__name__}")
    return _silu(as_float(features, _SILU), beta=float(beta))


silu.op = _silu.op  # what tapes record for it (its rules, for interpreters)
swish = silu


# -- sigmoid cross-entropy ---------------------------------------------------------------------
def _sce_labels_vjp(g, ans, labels, logits):
    return -g * logits


def _sce_logits_vjp(g, ans, labels, logits):
    return g * (sigmoid(logits) - labels)


@composite(vjp=(_sce_labels_vjp, _sce_logits_vjp), name=_SCE)
def _sigmoid_ce(labels, logits):
    # z * -log(sigmoid(x)) + (1 - z) * -log(1 - sigmoid(x)), rewritten so that exp never
    # overflows and nothing is log(0): max(x, 0) - x z + log(1 + exp(-|x|)) (TensorFlow's form).
    return maximum(logits, 0) - logits * labels + log1p(exp(-ef_abs(logits)))


def _sce_shape(labels, logits):
    if tuple(labels) != tuple(logits):
        raise ShapeError(f"labels of shape {tuple(labels)} and logits of shape {tuple(logits)} "
                         f"must have the same shape (one probability per logit)")
    return tuple(logits)


_rules.declare(_sigmoid_ce, dtype_rule=_rules.float_result, shape_rule=_sce_shape)


def sigmoid_cross_entropy_with_logits(labels=None, logits=None) -> Tensor:
    """Element-wise binary cross-entropy between probabilities ``labels`` and unnormalised
    ``logits`` of the same shape, TensorFlow's ``tf.nn.sigmoid_cross_entropy_with_logits``:
    ``-labels * log(sigmoid(logits)) - (1 - labels) * log(1 - sigmoid(logits))``.

    Computed as ``max(x, 0) - x * z + log1p(exp(-|x|))``, stable for logits of any size.
    Gradients flow to ``logits`` (``sigmoid(logits) - labels``) and to ``labels``
    (``-logits``). Both are lifted to their common floating dtype.

    >>> import eagerflow_core as ef
    >>> logits = ef.constant([1000.0, -1000.0, 0.0])
    >>> labels = ef.constant([1.0, 1.0, 0.5])
    >>> ef.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits).tolist()
    [0.0, 1000.0, 0.6931471824645996]
    """
    if labels is None or logits is None:
        raise InvalidArgumentError(f"{_SCE}: both labels and logits are required")
    labels, logits = as_float(labels, _SCE), as_float(logits, _SCE)
    _rules.checked(_SCE, _sce_shape, labels.shape, logits.shape)
    dt = _rules.float_result(labels.dtype, logits.dtype)
    return _sigmoid_ce(astype(labels, dt, copy=False), astype(logits, dt, copy=False))


sigmoid_cross_entropy_with_logits.op = _sigmoid_ce.op


__all__ = ["sigmoid_cross_entropy_with_logits", "silu", "swish"]
