"""ef.metrics (issue #7): Keras' documented values, accumulation across batches equal to one
pass over all the data, sample weights, reset, state in non-trainable Variables, nothing
recorded on tapes, and clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core import metrics


def value(m) -> float:
    return float(m.result())


# -- Keras' documented examples ------------------------------------------------------------------

def test_mean_and_sum():
    m = metrics.Mean()
    assert value(m) == 0.0                                 # nothing seen: 0, not NaN
    m.update_state([1, 3, 5, 7])
    assert value(m) == 4.0
    m.reset_state()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert value(m) == 2.0
    s = metrics.Sum()
    s.update_state([1, 3, 5, 7])
    assert value(s) == 16.0
    s.reset_state()
    s.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert value(s) == 4.0
    m.reset_state()
    m.update_state(5.0)                                    # a scalar counts once
    m.update_state(ef.asarray([[1.0, 2.0], [3.0, 4.0]]))   # rows are examples: their means
    assert math.isclose(value(m), (5.0 + 1.5 + 3.5) / 3, rel_tol=1e-6)


def test_accuracy_metrics():
    acc = metrics.Accuracy()
    acc.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    assert value(acc) == 0.75
    acc.reset_state()
    acc.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]], sample_weight=[1, 1, 0, 0])
    assert value(acc) == 0.5
    b = metrics.BinaryAccuracy()
    assert float(b([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])) == 0.75
    b.reset_state()
    weighted = b([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], sample_weight=[1, 0, 0, 1])
    assert float(weighted) == 0.5
    assert float(metrics.BinaryAccuracy(threshold=0.7)([[1], [0]], [[0.65], [0.65]])) == 0.5
    c = metrics.CategoricalAccuracy()
    assert float(c([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])) == 0.5
    c.reset_state()
    assert math.isclose(float(c([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
                                sample_weight=[0.7, 0.3])), 0.3, rel_tol=1e-6)
    s = metrics.SparseCategoricalAccuracy()
    assert float(s([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])) == 0.5
    s.reset_state()
    assert math.isclose(float(s([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]],
                                sample_weight=[0.7, 0.3])), 0.3, rel_tol=1e-6)
    k = metrics.SparseTopKCategoricalAccuracy(k=1)
    assert float(k([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])) == 0.5
    k.reset_state()
    assert math.isclose(float(k([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
                                sample_weight=[0.7, 0.3])), 0.3, rel_tol=1e-6)


def test_top_k_ties_and_non_finite_follow_tensorflow():
    # the label's score ties with the best one: in the top 1 (TensorFlow's in_top_k)
    assert float(metrics.sparse_top_k_categorical_accuracy([1], [[0.5, 0.5, 0.0]], k=1)[0]) == 1.0
    top_k = metrics.sparse_top_k_categorical_accuracy
    assert float(top_k([0], [[ef.nan, 0.5, 0.0]], k=3)[0]) == 0.0
    assert float(metrics.SparseTopKCategoricalAccuracy()([3], [[0.1, 0.2, 0.3, 0.0, 0.4, 0.5]])) \
        == 0.0


# -- against references on drawn data ---------------------------------------------------------

@given(n=st.integers(1, 20), c=st.integers(2, 6), k=st.integers(1, 4), seed=st.integers(0, 999))
def test_accuracies_against_numpy_and_torch(n, c, k, seed):
    rng = np.random.default_rng(seed)
    scores = rng.permuted(np.tile(np.arange(c, dtype=np.float64), (n, 1)), axis=1)  # no ties
    labels = rng.integers(0, c, size=n)
    weights = rng.uniform(0, 2, size=n)
    hit = scores.argmax(-1) == labels
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(labels, scores, sample_weight=weights)
    assert math.isclose(value(m), (hit * weights).sum() / weights.sum(), rel_tol=1e-5)
    topk = torch.topk(torch.from_numpy(scores), min(k, c), dim=-1).indices.numpy()
    in_top = (topk == labels[:, None]).any(-1)
    m = metrics.SparseTopKCategoricalAccuracy(k=k)
    m.update_state(labels, scores)
    assert math.isclose(value(m), in_top.mean(), rel_tol=1e-5)
    m = metrics.CategoricalAccuracy()
    m.update_state(np.eye(c)[labels], scores)
    assert math.isclose(value(m), hit.mean(), rel_tol=1e-5)


def test_accumulating_batches_equals_one_pass():
    rng = np.random.default_rng(3)
    y = (rng.random((100, 1)) < 0.5).astype(np.float32)
    p = rng.random((100, 1)).astype(np.float32)
    w = rng.uniform(0, 1, size=100).astype(np.float32)
    whole, parts = metrics.BinaryAccuracy(), metrics.BinaryAccuracy()
    whole.update_state(y, p, sample_weight=w)
    for i in range(0, 100, 7):
        parts.update_state(y[i:i + 7], p[i:i + 7], sample_weight=w[i:i + 7])
    assert math.isclose(value(whole), value(parts), rel_tol=1e-5)
    want = (((p > 0.5) == (y > 0.5))[:, 0] * w).sum() / w.sum()
    assert math.isclose(value(whole), want, rel_tol=1e-5)


def test_mean_metric_wrapper_with_a_loss():
    m = metrics.MeanMetricWrapper(ef.losses.mean_squared_error, name="mse")
    m.update_state([[0.0, 0.0]], [[1.0, 1.0]])
    m.update_state([[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [2.0, 2.0]])
    assert math.isclose(value(m), (1 + 0 + 4) / 3, rel_tol=1e-6)
    assert m.name == "mse"


# -- state --------------------------------------------------------------------------------------

def test_state_lives_in_non_trainable_variables():
    m = metrics.Mean(name="loss")
    assert [v.name for v in m.variables] == ["total", "count"]
    assert all(isinstance(v, ef.Variable) and not v.trainable for v in m.variables)
    assert m.trainable_variables == [] and m.non_trainable_variables == m.variables
    m.update_state([2.0, 4.0])
    assert [float(v.numpy()) for v in m.variables] == [6.0, 2.0]
    m.reset_state()
    assert [float(v.numpy()) for v in m.variables] == [0.0, 0.0]
    assert metrics.Sum(dtype="float64").result().dtype is ef.float64
    assert m.get_config() == {"name": "loss", "dtype": "float32"}


def test_updates_inside_a_tape_record_nothing():
    x = ef.asarray([0.2, 0.9])
    acc, mean = metrics.BinaryAccuracy(), metrics.Mean()
    with ef.GradientTape() as tape:
        tape.watch(x)
        loss = ef.sum(x * x)
        before = tape.held_bytes()
        acc.update_state([0.0, 1.0], x)
        mean.update_state(loss)
        assert tape.held_bytes() == before                 # the updates tracked nothing
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), [0.4, 1.8], rtol=1e-6)
    assert value(acc) == 1.0


def test_subclassing_metric():
    class Count(metrics.Metric):
        def __init__(self):
            super().__init__()
            self.n = self.add_variable((), dtype=ef.int64, name="n")

        def update_state(self, values):
            self.n.assign_add(ef.asarray(values).size)

        def result(self):
            return self.n.read_value()
    c = Count()
    assert c.name == "count"
    c.update_state([1, 2, 3])
    assert int(c([1])) == 4
    c.reset_state()
    assert int(c.result()) == 0 and c.variables[0].dtype is ef.int64


# -- errors -------------------------------------------------------------------------------------

def test_errors_name_the_shapes():
    with pytest.raises(ef.ShapeError,
                       match=r"y_true of shape \(2, 3\) and y_pred of shape \(2, 4\)"):
        metrics.CategoricalAccuracy().update_state(ef.zeros((2, 3)), ef.zeros((2, 4)))
    with pytest.raises(ef.ShapeError,
                       match=r"y_true of shape \(3,\) does not match y_pred of shape \(2, 4\)"):
        metrics.SparseCategoricalAccuracy().update_state([0, 1, 2], ef.zeros((2, 4)))
    with pytest.raises(ef.ShapeError, match=r"y_true of shape \(4,\) and y_pred of shape \(3,\)"):
        metrics.Accuracy().update_state([1, 2, 3, 4], [1, 2, 3])
    with pytest.raises(ef.ShapeError, match=r"sample_weight of shape \(3,\) does not fit"):
        metrics.Mean().update_state([1.0, 2.0], sample_weight=[1.0, 1.0, 1.0])
    with pytest.raises(NotImplementedError):
        metrics.Metric().update_state(1)


def test_metrics_are_modules_whose_state_checkpoints(tmp_path):
    """Metrics are ef.Modules: their state Variables are tracked and saved with the model
    that holds them, and layers leave them out of their weights."""
    acc, mean = ef.metrics.SparseCategoricalAccuracy(), ef.metrics.Mean(name="loss")
    assert isinstance(acc, ef.Module) and [v.name for v in mean.variables] == ["total", "count"]
    assert acc.trainable_variables == [] and len(acc.non_trainable_variables) == 2
    acc.update_state(ef.constant([0, 1, 1]), ef.constant([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]))
    mean.update_state([1.0, 5.0])

    class Model(ef.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = ef.layers.Dense(2)
            self.accuracy = acc

        def call(self, x):
            return self.dense(x)

    model = Model()
    model(ef.ones((1, 3)))
    assert len(model.weights) == 2 and len(model.variables) == 4
    path = ef.train.Checkpoint(metrics=[acc, mean]).save(str(tmp_path / "m"))
    fresh = [ef.metrics.SparseCategoricalAccuracy(), ef.metrics.Mean(name="loss")]
    ef.train.Checkpoint(metrics=fresh).restore(path).assert_consumed()
    assert float(fresh[0].result()) == pytest.approx(2 / 3) and float(fresh[1].result()) == 3.0
    fresh[0].reset_state()
    assert float(fresh[0].result()) == 0.0
