"""ef.losses (issue #7): Keras' values (the examples of its docs, hand-computed), PyTorch 2.13's
``torch.nn.functional`` on the same inputs, reductions and sample weights, gradients to second
order, stability for large logits, and clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core import losses
from eagerflow_core.testing import check_grads

RNG = np.random.default_rng(0)


def close(got, want, rtol=1e-5, atol=1e-6):
    want = want.detach().numpy() if isinstance(want, torch.Tensor) else np.asarray(want)
    np.testing.assert_allclose(np.asarray(got.numpy(), np.float64), want, rtol=rtol, atol=atol)


def t(a):
    return torch.from_numpy(np.asarray(a))


# -- hand-computed values (Keras' documented examples) ----------------------------------------

def test_keras_documented_values():
    assert math.isclose(float(losses.MeanSquaredError()([1.0, 0.0, 1.0], [0.9, 0.1, 0.8])), 0.02,
                        rel_tol=1e-5)
    assert math.isclose(float(losses.MeanAbsoluteError()([1.0, 0.3, 1.0], [1.9, 0.3, 1.8])),
                        0.5666667, rel_tol=1e-6)
    y_true, logits = [[0.0, 1.0], [0.0, 0.0]], [[-18.6, 0.51], [2.94, -12.8]]
    bce = losses.BinaryCrossentropy(from_logits=True)
    softplus = lambda x: math.log1p(math.exp(-abs(x))) + max(x, 0)
    rows = [(softplus(-18.6) + softplus(0.51) - 0.51) / 2, (softplus(2.94) + softplus(-12.8)) / 2]
    assert math.isclose(float(bce(y_true, logits)), sum(rows) / 2, rel_tol=1e-6)
    assert math.isclose(float(bce(y_true, logits, sample_weight=[0.8, 0.2])),
                        (0.8 * rows[0] + 0.2 * rows[1]) / 2, rel_tol=1e-6)
    assert math.isclose(float(losses.BinaryCrossentropy(from_logits=True, reduction="sum")(
        y_true, logits)), sum(rows), rel_tol=1e-6)
    close(losses.BinaryCrossentropy(from_logits=True, reduction=None)(y_true, logits), rows)
    y_true, y_pred = [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    want = [-math.log(0.95), -math.log(0.1)]
    close(losses.categorical_crossentropy(y_true, y_pred), want)
    close(losses.sparse_categorical_crossentropy([1, 2], y_pred), want)
    assert math.isclose(float(losses.CategoricalCrossentropy()(y_true, y_pred)), sum(want) / 2,
                        rel_tol=1e-6)
    assert math.isclose(float(losses.SparseCategoricalCrossentropy()([1, 2], y_pred)),
                        sum(want) / 2, rel_tol=1e-6)


def test_probabilities_are_clipped_like_keras():
    # p = 0 for the true class: Keras clips to 1e-7, so the loss is -log(1e-7), not inf
    close(losses.categorical_crossentropy([[1.0, 0.0]], [[0.0, 1.0]]), [-math.log(1e-7)], rtol=1e-4)
    close(losses.binary_crossentropy([[1.0]], [[0.0]]), [-math.log(1e-7)], rtol=1e-4)
    close(losses.sparse_categorical_crossentropy([0], [[0.0, 1.0]]),
          [-math.log(1e-7) + math.log(1 + 1e-7)], rtol=1e-4)
    # unnormalised probabilities are renormalised (categorical)
    close(losses.categorical_crossentropy([[1.0, 0.0]], [[2.0, 2.0]]), [math.log(2)])


def test_label_smoothing():
    y_true, logits = np.array([[0.0, 1.0, 0.0]]), np.array([[1.0, 2.0, -1.0]])
    got = losses.categorical_crossentropy(y_true, logits, from_logits=True, label_smoothing=0.3)
    close(got, F.cross_entropy(t(logits), t(y_true), label_smoothing=0.3, reduction="none"))
    got = losses.binary_crossentropy(y_true, logits, from_logits=True, label_smoothing=0.2)
    smoothed = y_true * 0.8 + 0.1
    close(got, F.binary_cross_entropy_with_logits(t(logits), t(smoothed),
                                                  reduction="none").mean(-1))
    with pytest.raises(ef.InvalidArgumentError, match="label_smoothing"):
        losses.binary_crossentropy(y_true, logits, label_smoothing=1.5)


# -- against PyTorch ----------------------------------------------------------------------------

@given(n=st.integers(1, 6), c=st.integers(1, 5), seed=st.integers(0, 2 ** 16))
def test_against_torch(n, c, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(n, c)), rng.normal(size=(n, c))
    close(losses.mse(a, b), F.mse_loss(t(b), t(a), reduction="none").mean(-1), rtol=1e-12)
    close(losses.mae(a, b), F.l1_loss(t(b), t(a), reduction="none").mean(-1), rtol=1e-12)
    z = (rng.random(size=(n, c)) < 0.5).astype(np.float64)
    logits = rng.normal(scale=4, size=(n, c))
    close(losses.binary_crossentropy(z, logits, from_logits=True),
          F.binary_cross_entropy_with_logits(t(logits), t(z), reduction="none").mean(-1),
          rtol=1e-12)
    p = rng.uniform(0.01, 0.99, size=(n, c))
    close(losses.binary_crossentropy(z, p),
          F.binary_cross_entropy(t(p), t(z), reduction="none").mean(-1), rtol=1e-12)
    labels = rng.integers(0, c, size=n)
    onehot = np.eye(c)[labels]
    close(losses.sparse_categorical_crossentropy(labels, logits, from_logits=True),
          F.cross_entropy(t(logits), t(labels), reduction="none"), rtol=1e-12)
    close(losses.categorical_crossentropy(onehot, logits, from_logits=True),
          F.cross_entropy(t(logits), t(onehot), reduction="none"), rtol=1e-12)
    probs = rng.dirichlet(np.ones(c), size=n)
    probs = np.clip(probs, 1e-3, None)
    # torch's cross_entropy of log(p) renormalises p, as Keras does
    close(losses.categorical_crossentropy(probs, probs * 3),
          F.cross_entropy(t(np.log(probs)), t(probs), reduction="none"), rtol=1e-9)
    close(losses.sparse_categorical_crossentropy(labels, probs),
          F.cross_entropy(t(np.log(probs)), t(labels), reduction="none"), rtol=1e-9)


def test_class_axis_and_per_position_losses_against_torch():
    logits = RNG.normal(size=(2, 4, 3))            # (batch, classes, positions)
    labels = RNG.integers(0, 4, size=(2, 3))
    want = F.cross_entropy(t(logits), t(labels), reduction="none")
    close(losses.sparse_categorical_crossentropy(labels, logits, from_logits=True, axis=1), want,
          rtol=1e-12)
    onehot = np.moveaxis(np.eye(4)[labels], -1, 1)
    close(losses.categorical_crossentropy(onehot, logits, from_logits=True, axis=1), want,
          rtol=1e-12)


def test_ignore_class_against_torch():
    logits = RNG.normal(size=(6, 4))
    labels = np.array([0, 3, -1, 2, -1, 1])
    scce = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    close(scce(labels, logits), F.cross_entropy(t(logits), t(labels), ignore_index=-1),
          rtol=1e-6)
    per = losses.sparse_categorical_crossentropy(labels, logits, from_logits=True, ignore_class=-1)
    assert per.numpy()[2] == 0 and per.numpy()[4] == 0
    grad = ef.grad(lambda z: scce(labels, z))(ef.asarray(logits))
    zt = t(logits).requires_grad_()
    F.cross_entropy(zt, t(labels), ignore_index=-1).backward()
    close(grad, zt.grad, rtol=1e-6)


def test_gradients_match_torch_autograd():
    logits = RNG.normal(size=(5, 4))
    labels = RNG.integers(0, 4, size=5)
    g = ef.grad(lambda z: losses.SparseCategoricalCrossentropy(from_logits=True)(labels, z))(
        ef.asarray(logits))
    zt = t(logits).requires_grad_()
    F.cross_entropy(zt, t(labels)).backward()
    close(g, zt.grad, rtol=1e-12)
    z = (RNG.random((5, 4)) < 0.5).astype(np.float64)
    g = ef.grad(lambda x: losses.BinaryCrossentropy(from_logits=True)(z, x))(ef.asarray(logits))
    zt = t(logits).requires_grad_()
    F.binary_cross_entropy_with_logits(zt, t(z)).backward()
    close(g, zt.grad, rtol=1e-12)


def test_large_logits_are_stable():
    big = ef.asarray([[1e4, -1e4], [-1e4, 1e4]])
    for fn in (lambda: losses.categorical_crossentropy([[1.0, 0.0], [1.0, 0.0]], big, True),
               lambda: losses.sparse_categorical_crossentropy([0, 0], big, True),
               lambda: losses.binary_crossentropy([[1.0, 0.0], [1.0, 0.0]], big, True)):
        v = fn().numpy()
        assert np.isfinite(v).all()
        np.testing.assert_allclose(v, [0.0, 2e4 if v[1] > 1e4 else 1e4], rtol=1e-6)
    g = ef.grad(lambda z: ef.sum(losses.binary_crossentropy([[1.0, 0.0]], z, True)))(
        ef.asarray([[1e4, -1e4]]))
    assert np.isfinite(g.numpy()).all()


# -- reductions and weights --------------------------------------------------------------------

def test_reductions_and_sample_weights():
    y_true = ef.asarray([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    y_pred = ef.asarray([[1.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    per = np.array([0.5, 0.5, 0.25])
    w = np.array([1.0, 2.0, 0.0])
    cases = {
        "sum_over_batch_size": (per.mean(), (per * w).sum() / 3),
        "mean": (per.mean(), (per * w).sum() / 3),
        "sum": (per.sum(), (per * w).sum()),
        "mean_with_sample_weight": (per.mean(), (per * w).sum() / w.sum()),
    }
    for reduction, (plain, weighted) in cases.items():
        loss = losses.MeanSquaredError(reduction=reduction)
        assert math.isclose(float(loss(y_true, y_pred)), plain, rel_tol=1e-6), reduction
        assert math.isclose(float(loss(y_true, y_pred, sample_weight=w)), weighted,
                            rel_tol=1e-6), reduction
        assert math.isclose(float(loss(y_true, y_pred, sample_weight=w[:, None])), weighted,
                            rel_tol=1e-6), reduction
    for none in ("none", None):
        close(losses.MeanSquaredError(reduction=none)(y_true, y_pred, sample_weight=w), per * w)
    # a scalar weight scales everything
    assert math.isclose(float(losses.MeanSquaredError()(y_true, y_pred, sample_weight=2.0)),
                        2 * per.mean(), rel_tol=1e-6)
    # per-position losses (batch, time) with one weight per example: the leading axes align
    seq = losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    logits, labels = RNG.normal(size=(2, 3, 4)), RNG.integers(0, 4, size=(2, 3))
    per_pos = losses.sparse_categorical_crossentropy(labels, logits, from_logits=True).numpy()
    assert math.isclose(float(seq(labels, logits, sample_weight=[1.0, 0.0])),
                        per_pos[0].sum(), rel_tol=1e-6)


def test_rank_fix_pairs_n_and_n_by_1():
    a, b = ef.asarray([1.0, 2.0, 3.0]), ef.asarray([[1.0], [2.0], [5.0]])
    close(losses.mean_squared_error(a, b), [0.0, 0.0, 4.0])
    assert math.isclose(float(losses.BinaryCrossentropy()(ef.asarray([1.0, 0.0]),
                                                          ef.asarray([[0.9], [0.1]]))),
                        -math.log(0.9), rel_tol=1e-6)
    close(losses.sparse_categorical_crossentropy(ef.asarray([[1], [0]]), ef.asarray(
        [[0.2, 0.8], [0.5, 0.5]])), [-math.log(0.8), math.log(2)])


def test_empty_batch():
    loss = losses.MeanSquaredError()
    out = loss(ef.zeros((0, 3)), ef.zeros((0, 3)))
    assert out.shape == (0,)   # Keras returns an empty per-example vector as it is
    assert float(losses.MeanSquaredError()(ef.zeros((0, 2, 3)), ef.zeros((0, 2, 3)))) == 0.0


# -- dtypes ------------------------------------------------------------------------------------

def test_dtypes():
    half = ef.asarray([[0.2, 0.8]], dtype=ef.float16)
    assert losses.categorical_crossentropy(half, half).dtype is ef.float32   # computed in float32
    assert losses.mse([[1, 2]], [[1, 3]]).dtype is ef.float32                 # ints: float32
    d = ef.asarray([[0.2, 0.8]], dtype=ef.float64)
    assert losses.binary_crossentropy(d, d).dtype is ef.float64
    assert losses.MeanSquaredError(dtype="float64")(half, half).dtype is ef.float64
    assert losses.MeanSquaredError(dtype="float16")(d, d).dtype is ef.float16
    assert losses.sparse_categorical_crossentropy(ef.asarray([1.0]), d).dtype is ef.float64


# -- gradients ---------------------------------------------------------------------------------

def test_second_order_gradients_of_every_loss():
    rng = np.random.default_rng(1)
    y = ef.asarray(rng.uniform(0.1, 0.9, size=(3, 4)))
    p = ef.asarray(rng.uniform(0.2, 0.8, size=(3, 4)))
    a = ef.asarray(rng.normal(size=(3, 4)))
    labels = ef.asarray(rng.integers(0, 4, size=3))
    for f, args in [
        (lambda y, x: losses.mean_squared_error(y, x), [y, a]),
        (lambda y, x: losses.mean_absolute_error(y, x), [y, y + 0.5]),
        (lambda y, x: losses.binary_crossentropy(y, x), [y, p]),
        (lambda y, x: losses.binary_crossentropy(y, x, from_logits=True, label_smoothing=0.1),
         [y, a]),
        (lambda y, x: losses.categorical_crossentropy(y, x), [y, p]),
        (lambda y, x: losses.categorical_crossentropy(y, x, from_logits=True), [y, a]),
        (lambda x: losses.sparse_categorical_crossentropy(labels, x), [p]),
        (lambda x: losses.sparse_categorical_crossentropy(labels, x, from_logits=True), [a]),
        (lambda y, x: losses.CategoricalCrossentropy(from_logits=True)(y, x,
                                                                       sample_weight=[1., 2., 0.5]),
         [y, a]),
    ]:
        check_grads(f, args, order=2)


# -- errors --------------------------------------------------------------------------------------

def test_shape_mismatches_name_both_shapes():
    with pytest.raises(ef.ShapeError,
                       match=r"y_true of shape \(2, 3\) and y_pred of shape \(2, 4\)"):
        losses.binary_crossentropy(ef.zeros((2, 3)), ef.zeros((2, 4)))
    with pytest.raises(ef.ShapeError, match=r"y_true of shape \(4,\) and y_pred of shape \(4, 3\)"):
        losses.mean_squared_error(ef.zeros(4), ef.zeros((4, 3)))
    with pytest.raises(ef.ShapeError, match=r"y_true of shape \(3,\) does not match y_pred of "
                                            r"shape \(2, 5\)"):
        losses.sparse_categorical_crossentropy(ef.asarray([0, 1, 2]), ef.zeros((2, 5)))
    with pytest.raises(ef.ShapeError,
                       match=r"y_true of shape \(2, 3\) and y_pred of shape \(2, 2\)"):
        losses.CategoricalCrossentropy()(ef.zeros((2, 3)), ef.zeros((2, 2)))
    with pytest.raises(ef.ShapeError, match=r"sample_weight of shape \(3,\)"):
        losses.MeanSquaredError()(ef.zeros((2, 3)), ef.zeros((2, 3)), sample_weight=[1.0, 2.0, 3.0])


def test_other_errors():
    with pytest.raises(ef.InvalidArgumentError, match=r"reduction='avg' is not one of "
                                                      r"'sum_over_batch_size', 'sum'"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ef.DTypeError, match="integer class indices"):
        losses.sparse_categorical_crossentropy(ef.asarray([True]), ef.zeros((1, 2)))
    with pytest.raises(ef.OutOfRangeError, match="out of range"):
        losses.sparse_categorical_crossentropy(ef.asarray([5]), ef.zeros((1, 2)), from_logits=True)
    with pytest.raises(ef.AxisError, match="axis 3"):
        losses.categorical_crossentropy(ef.zeros((2, 2)), ef.zeros((2, 2)), axis=3)
    with pytest.raises(ef.ShapeError, match="scalar"):
        losses.mean_squared_error(ef.asarray(1.0), ef.asarray(2.0))
    with pytest.raises(ef.ArgumentTypeError, match="y_pred must be a tensor"):
        losses.mse([1.0], None)
    with pytest.raises(NotImplementedError, match="call"):
        losses.Loss()([1.0], [1.0])
    with pytest.raises(ef.InvalidArgumentError, match="unknown loss"):
        losses.get("nope")


def test_get_and_config():
    assert losses.get("mae") is losses.mean_absolute_error
    assert isinstance(losses.get("SparseCategoricalCrossentropy"),
                      losses.SparseCategoricalCrossentropy)
    fn = lambda y, p: p
    assert losses.get(fn) is fn
    cfg = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1).get_config()
    assert cfg["from_logits"] is True and cfg["reduction"] == "sum_over_batch_size"
    again = losses.BinaryCrossentropy.from_config({k: v for k, v in cfg.items()})
    assert again.label_smoothing == 0.1 and again.name == "binary_crossentropy"


def test_subclassing_loss():
    class Huberish(losses.Loss):
        def call(self, y_true, y_pred):
            return ef.mean(ef.abs(y_pred - y_true), axis=-1) * 2
    loss = Huberish(reduction="sum")
    assert loss.name == "huberish"
    assert float(loss([[0.0, 0.0]], [[1.0, 3.0]])) == 4.0
