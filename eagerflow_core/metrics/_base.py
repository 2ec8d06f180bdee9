"""Stateful metrics (Keras' ``keras.metrics.Metric``): state in non-trainable Variables.

A metric accumulates with ``update_state(...)``, reports with ``result()`` and starts over with
``reset_state()``; calling it does the first two. Its inputs are constants to gradient tapes
(a metric is measured, not trained), so updating one inside a tape records nothing.

A metric is an ``ef.Module``: its state Variables are tracked (``variables``), so a checkpoint
saves them with the model that holds the metric; layers leave them out of their ``weights``
(Keras' rule).
"""

from __future__ import annotations

import re

from .._dtypes import as_dtype, float32
from .._tensor import Tensor
from ..autodiff import Variable, stop_gradient
from ..module import Module
from ..losses._common import (as_tensor, check_weights_fit, divide_no_nan,
                              squeeze_or_expand_to_same_rank)
from ..ops.creation import astype, zeros
from ..ops.manipulation import broadcast_to
from ..ops.statistical import mean
from ..ops.statistical import sum as ef_sum


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def constant(x, who: str, what: str, dtype=None, device=None) -> Tensor:
    """``x`` as a tensor that no tape tracks (cast to ``dtype`` if given)."""
    t = stop_gradient(as_tensor(x, who, what, device=device))
    return t if dtype is None or t.dtype is dtype else astype(t, dtype)


class Metric(Module):
    """Base class: subclass it, make state with :meth:`add_variable` in ``__init__``, and
    write ``update_state`` and ``result``.

    >>> import eagerflow_core as ef
    >>> class Maximum(ef.metrics.Metric):
    ...     def __init__(self):
    ...         super().__init__(name="maximum")
    ...         self.best = self.add_variable((), name="best")
    ...     def update_state(self, values):
    ...         self.best.assign(ef.maximum(self.best, ef.max(ef.asarray(values))))
    ...     def result(self):
    ...         return self.best.read_value()
    >>> m = Maximum(); m.update_state([1.0, 3.0]); m.update_state([2.0]); float(m.result())
    3.0
    >>> [v.name for v in m.variables], isinstance(m, ef.Module)
    (['best'], True)
    """

    _ef_not_weights = True  # state, not weights: layers that hold a metric leave it out

    def __init__(self, name=None, dtype=None):
        super().__init__(name=name or _snake(type(self).__name__))
        self.dtype = float32 if dtype is None else as_dtype(dtype)
        # Variables made by add_variable, also those no attribute holds; the attributes that
        # do hold them give the checkpoint paths (``total``, ``count``: the shortest path).
        self._variables: list[Variable] = []

    def add_variable(self, shape=(), dtype=None, name=None) -> Variable:
        """A non-trainable Variable of zeros, part of this metric's state."""
        var = Variable(zeros(shape, dtype=dtype or self.dtype), trainable=False, name=name)
        self._variables.append(var)
        return var

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must write update_state")

    def result(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must write result")

    def reset_state(self) -> None:
        """Zero every state Variable."""
        for var in self.variables:
            var.assign(zeros(var.shape, dtype=var.dtype, device=var.device))

    def __call__(self, *args, **kwargs) -> Tensor:
        """``update_state(*args, **kwargs)``, then ``result()`` (Keras' metric call)."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype.name}

    def __repr__(self):
        return f"<ef.metrics.{type(self).__name__} name={self.name!r}>"


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype, who):
    """Keras' rule: one value per example (axis 0), weighted. Weights broadcast over the
    values; axes the weights lack are reduced out of the values first."""
    values = constant(values, who, "values", dtype)
    if sample_weight is not None:
        sw = constant(sample_weight, who, "sample_weight", dtype, values.device)
        values, sw = squeeze_or_expand_to_same_rank(values, sw)
        w_nd, v_nd = sw.ndim, values.ndim
        if v_nd > w_nd:
            values = reduce_fn(values, axis=tuple(range(w_nd, v_nd)))
        check_weights_fit(sw.shape, values.shape, who)
        sw = broadcast_to(sw, values.shape)
        values = values * sw
        if w_nd > 1:
            sw = reduce_fn(sw, axis=tuple(range(1, w_nd)))
        sample_weight = sw
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values seen (Keras' ``Sum``).

    >>> import eagerflow_core as ef
    >>> m = ef.metrics.Sum()
    >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> m.result()
    ef.Tensor(4., shape=(), dtype=float32, device='cpu:0')
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")

    def update_state(self, values, sample_weight=None) -> None:
        values, _ = reduce_to_samplewise_values(values, sample_weight, ef_sum, self.dtype,
                                                self.name)
        self.total.assign_add(ef_sum(values))

    def result(self) -> Tensor:
        return self.total.read_value()


class Mean(Metric):
    """The (weighted) mean of the values seen: ``total / count`` (Keras' ``Mean``); 0 before
    any value.

    >>> import eagerflow_core as ef
    >>> m = ef.metrics.Mean()
    >>> m.update_state([1, 3, 5, 7]); float(m.result())
    4.0
    >>> m.reset_state(); m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> float(m.result())
    2.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")
        self.count = self.add_variable((), name="count")

    def update_state(self, values, sample_weight=None) -> None:
        values, sw = reduce_to_samplewise_values(values, sample_weight, mean, self.dtype,
                                                 self.name)
        self.total.assign_add(ef_sum(values))
        if sw is not None:
            self.count.assign_add(ef_sum(sw))
        else:
            self.count.assign_add(values.shape[0] if values.ndim else 1)

    def result(self) -> Tensor:
        return divide_no_nan(self.total.read_value(), self.count.read_value())


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over the examples seen (Keras' class of
    that name): ``update_state(y_true, y_pred, sample_weight=None)``.

    >>> import eagerflow_core as ef
    >>> m = ef.metrics.MeanMetricWrapper(ef.losses.mean_squared_error, name="mse")
    >>> float(m([[0.0], [1.0]], [[1.0], [1.0]]))
    0.5
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"),
                         dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = constant(y_pred, self.name, "y_pred")
        y_true = constant(y_true, self.name, "y_true", device=y_pred.device)
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}


__all__ = ["Mean", "MeanMetricWrapper", "Metric", "Sum"]
