"""The loss functions (Keras' names and semantics): one loss per example, no batch reduction.

Regression losses average over the last axis; cross-entropies reduce over the class axis.
From logits they use the stable fused forms (``ef.nn.softmax_cross_entropy_with_logits``,
``ef.nn.sigmoid_cross_entropy_with_logits``); from probabilities they clip to
``[1e-7, 1 - 1e-7]`` first, as Keras does. 16-bit and integer predictions are computed in
float32.
"""

from __future__ import annotations

from .._errors import AxisError, DTypeError, InvalidArgumentError, ShapeError
from .._tensor import Tensor
from ..nn import (sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits,
                  sparse_softmax_cross_entropy_with_logits)
from ..ops._rules import normalize_axes
from ..ops.creation import astype
from ..ops.elementwise import abs as ef_abs
from ..ops.elementwise import clip, log, square
from ..ops.manipulation import moveaxis, squeeze
from ..ops.searching import where
from ..ops.statistical import mean
from ..ops.statistical import sum as ef_sum
from ._common import (EPSILON, as_tensor, float_pred, same_shape,
                      squeeze_or_expand_to_same_rank)


def _pair(who, y_true, y_pred, dtype=None) -> tuple[Tensor, Tensor]:
    y_pred = float_pred(y_pred, who, dtype)
    y_true = as_tensor(y_true, who, "y_true", dtype=y_pred.dtype, device=y_pred.device)
    return y_true, y_pred


def _axis(axis, ndim: int, who: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise InvalidArgumentError(f"{who}: axis must be an int, got {axis!r}")
    if ndim == 0:
        raise ShapeError(f"{who}: y_pred is a scalar; it needs at least one axis (the last one "
                         f"is reduced)")
    try:
        return normalize_axes(axis, ndim)[0]
    except AxisError:
        raise AxisError(f"{who}: axis {axis} is out of range for y_pred with {ndim} "
                        f"dimensions") from None


def _smoothed(who, y_true, y_pred, axis, label_smoothing, classes=None):
    """``(y_true, y_pred, axis)`` for a cross-entropy: same shapes, the class axis, and the
    labels mixed with the uniform distribution over ``classes`` (default: the class axis's
    size; binary labels move towards 0.5) by ``label_smoothing``."""
    y_true, y_pred = _pair(who, y_true, y_pred)
    same_shape(who, y_true, y_pred)
    ax = _axis(axis, y_pred.ndim, who)
    ls = float(label_smoothing)
    if not 0.0 <= ls <= 1.0:
        raise InvalidArgumentError(f"{who}: label_smoothing must be in [0, 1], got {ls}")
    if ls:
        y_true = y_true * (1.0 - ls) + ls / (classes or y_pred.shape[ax])
    return y_true, y_pred, ax


def _regression(who, y_true, y_pred, elementwise) -> Tensor:
    y_true, y_pred = _pair(who, y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    same_shape(who, y_true, y_pred)
    _axis(-1, y_pred.ndim, who)
    return mean(elementwise(y_true - y_pred), axis=-1)


def mean_squared_error(y_true, y_pred) -> Tensor:
    """``mean(square(y_true - y_pred), axis=-1)``: one loss per example (Keras'
    ``mean_squared_error``). ``(N,)`` and ``(N, 1)`` inputs pair up (Keras' rank fix);
    other shape mismatches raise ShapeError.

    >>> import eagerflow_core as ef
    >>> ef.losses.mean_squared_error([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]])
    ef.Tensor([0.5, 0.5], shape=(2,), dtype=float32, device='cpu:0')
    """
    return _regression("mean_squared_error", y_true, y_pred, square)


def mean_absolute_error(y_true, y_pred) -> Tensor:
    """``mean(abs(y_true - y_pred), axis=-1)``: one loss per example (Keras'
    ``mean_absolute_error``).

    >>> import eagerflow_core as ef
    >>> ef.losses.mean_absolute_error([[0.0, 1.0]], [[1.0, -1.0]])
    ef.Tensor([1.5], shape=(1,), dtype=float32, device='cpu:0')
    """
    return _regression("mean_absolute_error", y_true, y_pred, ef_abs)


mse = mean_squared_error
mae = mean_absolute_error


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1) -> Tensor:
    """Binary cross-entropy averaged over ``axis`` (Keras' ``binary_crossentropy``): one loss
    per example. ``y_pred`` holds probabilities, or logits with ``from_logits=True`` (the
    stable form); ``label_smoothing`` moves the labels towards 0.5. Shapes must match.

    >>> import eagerflow_core as ef
    >>> y_true = ef.constant([[0.0, 1.0], [0.0, 0.0]])
    >>> ef.losses.binary_crossentropy(y_true, ef.constant([[0.6, 0.4], [0.4, 0.6]]))
    ef.Tensor([0.91629076, 0.7135582 ], shape=(2,), dtype=float32, device='cpu:0')
    >>> ef.losses.binary_crossentropy(y_true, ef.constant([[-1.0, 1.0], [0.0, 0.0]]),
    ...                               from_logits=True)
    ef.Tensor([0.31326163, 0.6931472 ], shape=(2,), dtype=float32, device='cpu:0')
    """
    y_true, y_pred, ax = _smoothed("binary_crossentropy", y_true, y_pred, axis, label_smoothing,
                                   classes=2)
    if from_logits:
        ce = sigmoid_cross_entropy_with_logits(labels=y_true, logits=y_pred)
    else:
        p = clip(y_pred, EPSILON, 1.0 - EPSILON)
        ce = -(y_true * log(p) + (1.0 - y_true) * log(1.0 - p))
    return mean(ce, axis=ax)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0,
                             axis=-1) -> Tensor:
    """Cross-entropy between one-hot (or probability) labels and predictions over the class
    ``axis`` (Keras' ``categorical_crossentropy``): one loss per example. From probabilities,
    ``y_pred`` is renormalised over ``axis`` and clipped; from logits it is the fused, stable
    ``ef.nn.softmax_cross_entropy_with_logits``. ``label_smoothing`` mixes the labels with
    the uniform distribution.

    >>> import eagerflow_core as ef
    >>> y_true = ef.constant([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> y_pred = ef.constant([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    >>> ef.losses.categorical_crossentropy(y_true, y_pred)
    ef.Tensor([0.05129331, 2.3025851 ], shape=(2,), dtype=float32, device='cpu:0')
    """
    y_true, y_pred, ax = _smoothed("categorical_crossentropy", y_true, y_pred, axis,
                                   label_smoothing)
    if from_logits:
        return softmax_cross_entropy_with_logits(y_true, y_pred, axis=ax)
    p = clip(y_pred / ef_sum(y_pred, axis=ax, keepdims=True), EPSILON, 1.0 - EPSILON)
    return -ef_sum(y_true * log(p), axis=ax)


def sparse_crossentropy_and_mask(y_true, y_pred, from_logits=False, ignore_class=None,
                                 axis=-1, dtype=None):
    """``(losses, valid)``: the sparse cross-entropy, and where ``y_true`` is not
    ``ignore_class`` (``None`` without one), for the Loss class's masked mean."""
    who = "sparse_categorical_crossentropy"
    y_pred = float_pred(y_pred, who, dtype)
    y_true = as_tensor(y_true, who, "y_true", device=y_pred.device)
    shapes = (y_true.shape, y_pred.shape)
    ax = _axis(axis, y_pred.ndim, who)
    if y_true.dtype.kind == "f":
        y_true = astype(y_true, "int64")  # Keras casts float labels to int64
    elif y_true.dtype.kind not in "iu":
        raise DTypeError(f"{who}: y_true must hold integer class indices, not {y_true.dtype}")
    if y_true.ndim == y_pred.ndim and y_true.shape[ax] == 1:
        y_true = squeeze(y_true, axis=ax)
    if ax != y_pred.ndim - 1:
        y_pred = moveaxis(y_pred, ax, -1)
    if y_true.shape != y_pred.shape[:-1]:
        raise ShapeError(f"{who}: y_true of shape {shapes[0]} does not match y_pred of shape "
                         f"{shapes[1]}: y_true holds one class index per example, so its shape "
                         f"is y_pred's without the class axis ({y_pred.shape[:-1]})")
    valid = None
    if ignore_class is not None:
        valid = y_true != ignore_class
        y_true = where(valid, y_true, 0)
    logits = y_pred if from_logits else log(clip(y_pred, EPSILON, 1.0 - EPSILON))
    losses = sparse_softmax_cross_entropy_with_logits(y_true, logits)
    if valid is not None:
        losses = where(valid, losses, 0.0)
    return losses, valid


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1) -> Tensor:
    """Cross-entropy between integer class labels and predictions over the class ``axis``
    (Keras' ``sparse_categorical_crossentropy``): one loss per example. ``y_true`` has
    ``y_pred``'s shape without the class axis (a trailing axis of 1 is dropped); from logits
    it is the fused ``ef.nn.sparse_softmax_cross_entropy_with_logits``; from probabilities
    ``log(clip(y_pred))`` goes through the same op, as in Keras. Losses at labels equal to
    ``ignore_class`` are 0.

    >>> import eagerflow_core as ef
    >>> y_pred = ef.constant([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    >>> ef.losses.sparse_categorical_crossentropy(ef.constant([1, 2]), y_pred)
    ef.Tensor([0.05129344, 2.3025851 ], shape=(2,), dtype=float32, device='cpu:0')
    """
    return sparse_crossentropy_and_mask(y_true, y_pred, from_logits, ignore_class, axis)[0]


__all__ = ["binary_crossentropy", "categorical_crossentropy", "mae", "mean_absolute_error",
           "mean_squared_error", "mse", "sparse_categorical_crossentropy"]
