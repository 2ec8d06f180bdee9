"""The loss classes (Keras' ``keras.losses.Loss`` family): a loss function plus a reduction.

``loss(y_true, y_pred, sample_weight=None)`` computes the per-example losses, weights them,
and reduces: ``"sum_over_batch_size"`` (the default, also ``"mean"``: the sum over the number
of per-example values), ``"sum"``, ``"mean_with_sample_weight"`` (the sum over the sum of the
weights), ``"none"`` / ``None`` (the per-example losses).
"""

from __future__ import annotations

import re

from .._dtypes import as_dtype
from ..ops.creation import astype
from . import _functions as F
from ._common import (as_tensor, check_reduction, float_pred, reduce_weighted,
                      squeeze_or_expand_to_same_rank)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Loss:
    """Base class: subclass it and write ``call(y_true, y_pred)`` returning one loss per
    example; ``__call__`` weights and reduces.

    ``dtype`` (default: ``y_pred``'s float dtype, float32 for 16-bit floats and integers)
    is the dtype of the inputs and of the result; 16-bit floats are computed in float32.

    >>> import eagerflow_core as ef
    >>> class Cube(ef.losses.Loss):
    ...     def call(self, y_true, y_pred):
    ...         return ef.mean((y_pred - y_true) ** 3, axis=-1)
    >>> Cube()(ef.zeros((2, 1)), ef.ones((2, 1)))
    ef.Tensor(1., shape=(), dtype=float32, device='cpu:0')
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.reduction = check_reduction(reduction, type(self).__name__)
        self.dtype = None if dtype is None else as_dtype(dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        who = self.name
        y_pred = float_pred(y_pred, who, self.dtype)
        y_true = as_tensor(y_true, who, "y_true", device=y_pred.device)
        losses, mask = self._losses_and_mask(y_true, y_pred)
        out = reduce_weighted(losses, sample_weight, self.reduction, who, mask=mask)
        return out if self.dtype is None or out.dtype is self.dtype else astype(out, self.dtype)

    def _losses_and_mask(self, y_true, y_pred):
        return self.call(y_true, y_pred), None

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__}: a Loss subclass writes call(y_true, "
                                  f"y_pred), returning one loss per example")

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self):
        return f"<ef.losses.{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class LossFunctionWrapper(Loss):
    """A Loss from a function ``fn(y_true, y_pred, **kwargs)`` (Keras' class of that name):
    ``(N,)`` and ``(N, 1)`` inputs pair up before ``fn`` runs."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}


class MeanSquaredError(LossFunctionWrapper):
    """Mean of ``square(y_true - y_pred)`` (Keras' ``MeanSquaredError``).

    >>> import eagerflow_core as ef
    >>> ef.losses.MeanSquaredError()(ef.constant([1.0, 0.0, 1.0]), ef.constant([0.9, 0.1, 0.8]))
    ef.Tensor(0.02, shape=(), dtype=float32, device='cpu:0')
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(F.mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of ``abs(y_true - y_pred)`` (Keras' ``MeanAbsoluteError``).

    >>> import eagerflow_core as ef
    >>> ef.losses.MeanAbsoluteError()(ef.constant([[1.0], [0.3]]), ef.constant([[1.9], [0.3]]))
    ef.Tensor(0.45, shape=(), dtype=float32, device='cpu:0')
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(F.mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class _SmoothedCrossentropy(LossFunctionWrapper):
    """The binary and categorical cross-entropies: ``from_logits``, ``label_smoothing``,
    ``axis``; the name defaults to the function's."""

    function = None  # the loss function, set by each subclass

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name=None, dtype=None):
        fn = type(self).function
        super().__init__(fn, reduction=reduction, name=name or fn.__name__, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class BinaryCrossentropy(_SmoothedCrossentropy):
    """Binary cross-entropy (Keras' ``BinaryCrossentropy``); see
    :func:`binary_crossentropy`.

    >>> import eagerflow_core as ef
    >>> bce = ef.losses.BinaryCrossentropy(from_logits=True)
    >>> y_true = ef.constant([[0.0, 1.0], [0.0, 0.0]])
    >>> y_pred = ef.constant([[-18.6, 0.51], [2.94, -12.8]])
    >>> round(float(bce(y_true, y_pred)), 4)
    0.8655
    >>> round(float(bce(y_true, y_pred, sample_weight=[0.8, 0.2])), 4)
    0.2436
    """

    function = staticmethod(F.binary_crossentropy)


class CategoricalCrossentropy(_SmoothedCrossentropy):
    """Categorical cross-entropy with one-hot labels (Keras' ``CategoricalCrossentropy``);
    see :func:`categorical_crossentropy`.

    >>> import eagerflow_core as ef
    >>> cce = ef.losses.CategoricalCrossentropy()
    >>> round(float(cce([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])), 4)
    1.1769
    """

    function = staticmethod(F.categorical_crossentropy)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy with integer labels (Keras' ``SparseCategoricalCrossentropy``);
    see :func:`sparse_categorical_crossentropy`. With ``ignore_class``, those labels count
    neither in the sum nor in the number of examples the mean divides by.

    >>> import eagerflow_core as ef
    >>> scce = ef.losses.SparseCategoricalCrossentropy(from_logits=True)
    >>> logits = ef.constant([[2.0, 0.0], [0.0, 2.0]])
    >>> scce(ef.constant([0, 1]), logits)
    ef.Tensor(0.12692805, shape=(), dtype=float32, device='cpu:0')
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(F.sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis

    def _losses_and_mask(self, y_true, y_pred):
        return F.sparse_crossentropy_and_mask(y_true, y_pred, **self._fn_kwargs)


__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "Loss", "LossFunctionWrapper",
           "MeanAbsoluteError", "MeanSquaredError", "SparseCategoricalCrossentropy"]
