"""Softmax cross-entropy losses (TensorFlow's names): one tape step each, whose rule is
``softmax - labels`` instead of the rules of every op of the forward pass."""

from __future__ import annotations

from .._errors import DTypeError, OutOfRangeError, ShapeError
from .._tensor import Symbolic, Tensor
from ..autodiff.composite import composite
from ..ops.creation import arange, astype
from ..ops.elementwise import exp, log
from ..ops.indexing import take_along_axis
from ..ops.manipulation import expand_dims, reshape
from ..ops.statistical import max as ef_max
from ..ops.statistical import min as ef_min
from ..ops.statistical import sum as ef_sum
from . import _rules
from ._common import as_float, as_tensor, axis_of, shift
from .softmax import log_softmax, softmax

_CE = "softmax_cross_entropy_with_logits"
_SPARSE = "sparse_softmax_cross_entropy_with_logits"


# -- labels as probabilities -------------------------------------------------------------------
def _ce_labels_vjp(g, ans, labels, logits, axis=-1):
    ax = axis % logits.ndim
    return -expand_dims(g, axis=ax) * log_softmax(logits, axis=ax)


def _ce_logits_vjp(g, ans, labels, logits, axis=-1):
    # sum(labels) is 1 for a distribution; keeping it makes the rule exact for any labels.
    ax = axis % logits.ndim
    p = softmax(logits, axis=ax)
    return expand_dims(g, axis=ax) * (p * ef_sum(labels, axis=ax, keepdims=True) - labels)


@composite(vjp=(_ce_labels_vjp, _ce_logits_vjp))
def softmax_cross_entropy_with_logits(labels, logits, axis=-1) -> Tensor:
    """Per-example cross-entropy ``-sum(labels * log_softmax(logits), axis)`` between
    ``labels`` (one probability per class) and unnormalised ``logits`` of the same shape.

    Stable for large logits. The result has the shape of ``logits`` without ``axis``; average
    it for a batch loss. Gradients flow to both ``logits`` (``softmax - labels``) and
    ``labels`` (``-log_softmax(logits)``).

    >>> import eagerflow_core as ef
    >>> logits = ef.constant([[1000.0, 0.0], [0.0, 0.0]])
    >>> labels = ef.constant([[1.0, 0.0], [0.5, 0.5]])
    >>> ef.nn.softmax_cross_entropy_with_logits(labels, logits)
    ef.Tensor([0.       , 0.6931472], shape=(2,), dtype=float32, device='cpu:0')
    >>> ef.grad(lambda z: ef.sum(ef.nn.softmax_cross_entropy_with_logits(labels, z)))(logits)
    ef.Tensor([[0., 0.],
               [0., 0.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    labels, logits = as_float(labels, _CE), as_float(logits, _CE)
    if labels.shape != logits.shape:
        raise ShapeError(f"{_CE}: labels of shape {labels.shape} and logits of shape "
                         f"{logits.shape} must have the same shape (one probability per class "
                         f"for each logit); for class indices use {_SPARSE}")
    ax = axis_of(axis, logits, _CE)
    shifted, _ = shift(logits, (ax,))
    lse = log(ef_sum(exp(shifted), axis=ax, keepdims=True))
    return ef_sum(labels * (lse - shifted), axis=ax)


# -- labels as class indices -------------------------------------------------------------------
def _sparse_grad_vjp(h, ans, g, labels, logits):
    # out = g[..., None] * (softmax(logits) - onehot): d/dg sums h * (softmax - onehot) over
    # the classes; d/dlogits is g[..., None] * softmax's gradient applied to h.
    p = softmax(logits)
    dg = ef_sum(h * (p - _onehot(labels, logits)), axis=-1)
    return dg, None, expand_dims(g, axis=-1) * (p * (h - ef_sum(h * p, axis=-1, keepdims=True)))


def _onehot(labels, logits):
    n = logits.shape[-1]
    return astype(expand_dims(labels, axis=-1) == arange(n, device=logits.device), logits.dtype)


@composite(vjp=_sparse_grad_vjp, name="sparse_softmax_cross_entropy_grad")
def _sparse_grad(g, labels, logits):
    return expand_dims(g, axis=-1) * (softmax(logits) - _onehot(labels, logits))


# A backend's fused backward kernel of this name runs as kernel(g, labels, logits).
_rules.declare(_sparse_grad, dtype_rule=_rules.float_result,
               shape_rule=lambda g, labels, logits: tuple(logits))


def _sparse_logits_vjp(g, ans, labels, logits):
    return _sparse_grad(g, labels, logits)


@composite(vjp=(None, _sparse_logits_vjp), name=_SPARSE)
def _sparse_xent(labels, logits):
    shifted, _ = shift(logits, (logits.ndim - 1,))
    lse = log(ef_sum(exp(shifted), axis=-1))
    picked = take_along_axis(shifted, expand_dims(labels, axis=-1), axis=-1)
    return lse - reshape(picked, labels.shape)


# A backend with a kernel of this name (the CUDA backend's fused one) runs it as
# kernel(labels, logits), once the labels were checked.
_rules.declare(_sparse_xent, dtype_rule=_rules.float_result,
               shape_rule=lambda labels, logits: tuple(labels))


def sparse_softmax_cross_entropy_with_logits(labels, logits) -> Tensor:
    """Per-example cross-entropy between integer class ``labels`` (shape ``logits.shape[:-1]``,
    values in ``[0, logits.shape[-1])``) and unnormalised ``logits`` over the last axis:
    ``logsumexp(logits) - logits[label]``.

    Stable for large logits; a label out of range raises OutOfRangeError (TensorFlow raises
    on CPU too). The gradient w.r.t. ``logits`` is ``softmax(logits) - one_hot(labels)``.

    >>> import eagerflow_core as ef
    >>> logits = ef.constant([[1000.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> ef.nn.sparse_softmax_cross_entropy_with_logits(ef.constant([0, 2]), logits)
    ef.Tensor([0.       , 1.0986123], shape=(2,), dtype=float32, device='cpu:0')
    """
    labels = as_tensor(labels, _SPARSE)
    if labels._dtype.kind not in "iu":
        raise DTypeError(f"{_SPARSE}: labels must be integer class indices, not {labels._dtype}; "
                         f"for one probability per class use {_CE}")
    logits = as_float(logits, _SPARSE)
    if logits.ndim == 0 or labels.shape != logits.shape[:-1]:
        raise ShapeError(f"{_SPARSE}: labels of shape {labels.shape} do not match logits of "
                         f"shape {logits.shape}: labels must have the shape of logits without "
                         f"its last (class) axis, {logits.shape[:-1]}")
    n = logits.shape[-1]
    if labels.size and not isinstance(labels._data, Symbolic):  # (traced: no values to check)
        lo, hi = int(ef_min(labels).item()), int(ef_max(labels).item())
        if lo < 0 or hi >= n:
            raise OutOfRangeError(f"{_SPARSE}: label {lo if lo < 0 else hi} is out of range: "
                                  f"labels are class indices in [0, {n}) (logits.shape[-1] is "
                                  f"{n})")
    return _sparse_xent(labels, logits)


sparse_softmax_cross_entropy_with_logits.op = _sparse_xent.op


__all__ = ["softmax_cross_entropy_with_logits", "sparse_softmax_cross_entropy_with_logits"]
