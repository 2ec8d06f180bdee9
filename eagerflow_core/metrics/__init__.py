"""``ef.metrics``: Keras' stateful metrics. State lives in non-trainable ``ef.Variable``\\ s
(``metric.variables``); ``update_state`` accumulates, ``result`` reports, ``reset_state``
starts over, and calling a metric updates it and returns the result.

>>> import eagerflow_core as ef
>>> acc = ef.metrics.SparseCategoricalAccuracy()
>>> acc.update_state(ef.constant([0, 1]), ef.constant([[0.9, 0.1], [0.8, 0.2]]))
>>> acc.update_state(ef.constant([1]), ef.constant([[0.3, 0.7]]))
>>> acc.result()
ef.Tensor(0.6666667, shape=(), dtype=float32, device='cpu:0')
>>> [v.name for v in acc.variables]
['total', 'count']
"""

from ._accuracy import (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                        SparseTopKCategoricalAccuracy, accuracy, binary_accuracy,
                        categorical_accuracy, sparse_categorical_accuracy,
                        sparse_top_k_categorical_accuracy)
from ._base import Mean, MeanMetricWrapper, Metric, Sum

__all__ = ["Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "Mean", "MeanMetricWrapper",
           "Metric", "SparseCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "Sum",
           "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
           "sparse_top_k_categorical_accuracy"]
