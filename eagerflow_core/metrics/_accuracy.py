"""Accuracy metrics (Keras' names): per-example match functions and their running means."""

from __future__ import annotations

from .._dtypes import float32, int64
from .._errors import ShapeError
from .._tensor import Tensor
from ..losses._common import float_pred, same_shape, squeeze_or_expand_to_same_rank
from ..ops.creation import astype
from ..ops.elementwise import isfinite
from ..ops.indexing import take_along_axis
from ..ops.manipulation import expand_dims, reshape, squeeze
from ..ops.searching import argmax
from ..ops.statistical import mean
from ..ops.statistical import sum as ef_sum
from ._base import MeanMetricWrapper, constant


def _pair(who, y_true, y_pred):
    y_pred = constant(y_pred, who, "y_pred")
    y_true = constant(y_true, who, "y_true", device=y_pred.device)
    return y_true, y_pred


def accuracy(y_true, y_pred) -> Tensor:
    """How often ``y_pred`` equals ``y_true``, averaged over the last axis (Keras').

    >>> import eagerflow_core as ef
    >>> ef.metrics.accuracy(ef.constant([[1], [2], [3], [4]]), ef.constant([[0], [2], [3], [4]]))
    ef.Tensor([0., 1., 1., 1.], shape=(4,), dtype=float32, device='cpu:0')
    """
    y_true, y_pred = _pair("accuracy", y_true, y_pred)
    y_true = astype(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    same_shape("accuracy", y_true, y_pred)
    return mean(astype(y_true == y_pred, float32), axis=-1)


def binary_accuracy(y_true, y_pred, threshold=0.5) -> Tensor:
    """How often ``y_pred > threshold`` matches the 0/1 ``y_true``, averaged over the last
    axis (Keras').

    >>> import eagerflow_core as ef
    >>> ef.metrics.binary_accuracy(ef.constant([[1.0], [0.0]]), ef.constant([[0.7], [0.6]]))
    ef.Tensor([1., 0.], shape=(2,), dtype=float32, device='cpu:0')
    """
    y_true, y_pred = _pair("binary_accuracy", y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    same_shape("binary_accuracy", y_true, y_pred)
    predicted = astype(y_pred > threshold, y_true.dtype)
    return mean(astype(y_true == predicted, float32), axis=-1)


def categorical_accuracy(y_true, y_pred) -> Tensor:
    """Whether the most likely class of ``y_pred`` is the one-hot ``y_true``'s class, per
    example (Keras').

    >>> import eagerflow_core as ef
    >>> ef.metrics.categorical_accuracy([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    ef.Tensor([0., 1.], shape=(2,), dtype=float32, device='cpu:0')
    """
    y_true, y_pred = _pair("categorical_accuracy", y_true, y_pred)
    same_shape("categorical_accuracy", y_true, y_pred)
    return astype(argmax(y_true, axis=-1) == argmax(y_pred, axis=-1), float32)


def _labels(who, y_true, y_pred):
    """Integer labels of y_pred's shape without its last axis (a trailing 1 is dropped)."""
    shape = y_true.shape
    if y_true.ndim == y_pred.ndim and y_true.ndim and y_true.shape[-1] == 1:
        y_true = squeeze(y_true, axis=-1)
    if y_pred.ndim == 0 or y_true.shape != y_pred.shape[:-1]:
        raise ShapeError(f"{who}: y_true of shape {shape} does not match y_pred of shape "
                         f"{y_pred.shape}: it holds one class index per example, shape "
                         f"{y_pred.shape[:-1]}")
    return y_true, shape


def sparse_categorical_accuracy(y_true, y_pred) -> Tensor:
    """Whether the most likely class of ``y_pred`` is the integer label ``y_true``, per
    example (Keras').

    >>> import eagerflow_core as ef
    >>> ef.metrics.sparse_categorical_accuracy([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    ef.Tensor([0., 1.], shape=(2,), dtype=float32, device='cpu:0')
    """
    who = "sparse_categorical_accuracy"
    y_true, y_pred = _pair(who, y_true, y_pred)
    labels, shape = _labels(who, y_true, y_pred)
    predicted = astype(argmax(y_pred, axis=-1), labels.dtype)
    matches = astype(labels == predicted, float32)
    if len(shape) > 1 and shape[-1] == 1 and matches.ndim == len(shape) - 1:
        return matches  # Keras reshapes to y_true's shape, then drops the trailing 1 again
    return reshape(matches, shape)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5) -> Tensor:
    """Whether the integer label is among the ``k`` most likely classes of ``y_pred``, per
    example (Keras'; TensorFlow's ``in_top_k``: classes tied with the label's score count as
    in, a non-finite score as out).

    >>> import eagerflow_core as ef
    >>> scores = [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]
    >>> ef.metrics.sparse_top_k_categorical_accuracy([2, 1], scores, k=1)
    ef.Tensor([0., 1.], shape=(2,), dtype=float32, device='cpu:0')
    """
    who = "sparse_top_k_categorical_accuracy"
    y_true, y_pred = _pair(who, y_true, y_pred)
    labels, shape = _labels(who, y_true, y_pred)
    y_pred = float_pred(y_pred, who)
    score = take_along_axis(y_pred, expand_dims(astype(labels, int64), axis=-1), axis=-1)
    above = ef_sum(astype(y_pred > score, int64), axis=-1)
    hit = (above < k) & isfinite(reshape(score, labels.shape))
    matches = astype(hit, float32)
    if len(shape) > 1 and shape[-1] == 1 and matches.ndim == len(shape) - 1:
        return matches
    return reshape(matches, shape)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels (Keras' ``Accuracy``).

    >>> import eagerflow_core as ef
    >>> m = ef.metrics.Accuracy()
    >>> m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]]); float(m.result())
    0.75
    >>> m.reset_state()
    >>> m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]], sample_weight=[1, 1, 0, 0])
    >>> float(m.result())
    0.5
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches binary labels (Keras' ``BinaryAccuracy``).

    >>> import eagerflow_core as ef
    >>> m = ef.metrics.BinaryAccuracy()
    >>> float(m([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]))
    0.75
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of predictions matches one-hot labels (Keras'
    ``CategoricalAccuracy``).

    >>> import eagerflow_core as ef
    >>> m = ef.metrics.CategoricalAccuracy()
    >>> m([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], sample_weight=[0.7, 0.3])
    ef.Tensor(0.3, shape=(), dtype=float32, device='cpu:0')
    """

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of predictions matches integer labels (Keras'
    ``SparseCategoricalAccuracy``).

    >>> import eagerflow_core as ef
    >>> m = ef.metrics.SparseCategoricalAccuracy()
    >>> float(m([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]))
    0.5
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often integer labels are among the top ``k`` predictions (Keras'
    ``SparseTopKCategoricalAccuracy``).

    >>> import eagerflow_core as ef
    >>> m = ef.metrics.SparseTopKCategoricalAccuracy(k=1)
    >>> float(m([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))
    0.5
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


__all__ = ["Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "accuracy", "binary_accuracy",
           "categorical_accuracy", "sparse_categorical_accuracy",
           "sparse_top_k_categorical_accuracy"]
