"""ef.layers and ef.optimizers inside ef.function: a traced training step builds the layers on
its first trace, then gives the eager step's losses, weights, moving statistics and dropout
masks at every replay."""

from __future__ import annotations

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core import layers, losses, optimizers


def _model():
    return layers.Sequential([
        layers.Conv2D(4, 3, activation="relu"), layers.BatchNormalization(), layers.MaxPool2D(2),
        layers.Flatten(), layers.Dropout(0.3, seed=5), layers.Dense(16, activation="gelu"),
        layers.LayerNormalization(), layers.Dense(3)])


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return (ef.constant(rng.normal(size=(8, 8, 8, 1)).astype(np.float32)),
            ef.constant(rng.integers(0, 3, 8)))


def _step_fn(model, opt):
    def step(x, y):
        with ef.GradientTape() as tape:
            logits = model(x, training=True)
            loss = ef.mean(losses.sparse_categorical_crossentropy(y, logits, from_logits=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss
    return step


@pytest.mark.parametrize("make_opt", [
    lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    lambda: optimizers.Adam(0.01),
    lambda: optimizers.AdamW(0.01, weight_decay=0.1),
    lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    lambda: optimizers.Adagrad(0.1),
], ids=["sgd-nesterov", "adam", "adamw", "rmsprop", "adagrad"])
def test_a_traced_training_step_gives_the_eager_results(make_opt):
    eager_model, eager_opt = _model(), make_opt()
    traced_model, traced_opt = _model(), make_opt()
    eager = _step_fn(eager_model, eager_opt)
    traced = ef.function(_step_fn(traced_model, traced_opt))
    assert traced_model.variables == []  # built by the first trace, in init_scope
    for i in range(4):
        x, y = _data(i)
        ef.random.set_seed(0)  # the same initial weights (the first call builds)
        traced_loss = float(traced(x, y))
        ef.random.set_seed(0)
        np.testing.assert_allclose(traced_loss, float(eager(x, y)), rtol=2e-5)
    assert traced.trace_count == 1
    assert int(traced_opt.iterations) == int(eager_opt.iterations) == 4
    for a, b in zip(traced_model.variables, eager_model.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6, err_msg=a.name)
    for a, b in zip(traced_opt.variables, eager_opt.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6, err_msg=a.name)
    assert int(traced_model.layers[4].seed_generator.state.numpy()) == 4  # a mask per step


def test_traced_dropout_draws_a_new_mask_at_every_replay():
    drop = layers.Dropout(0.5, seed=1)
    f = ef.function(lambda x: drop(x, training=True))
    x = ef.ones((32, 32))
    masks = [f(x).numpy() > 0 for _ in range(3)]
    assert f.trace_count == 1
    assert not np.array_equal(masks[0], masks[1]) and not np.array_equal(masks[1], masks[2])
    eager = layers.Dropout(0.5, seed=1)
    for m in masks:  # the same sequence as eagerly
        np.testing.assert_array_equal(eager(x, training=True).numpy() > 0, m)


def test_a_traced_step_reads_the_learning_rate_at_every_call():
    dense = layers.Dense(1, kernel_initializer="ones")
    opt = optimizers.SGD(0.1)

    @ef.function
    def step(x):
        with ef.GradientTape() as tape:
            loss = ef.sum(dense(x))
        opt.apply_gradients(zip(tape.gradient(loss, dense.trainable_variables),
                                dense.trainable_variables))

    x = ef.ones((1, 2))
    step(x)
    np.testing.assert_allclose(dense.kernel.numpy(), [[0.9], [0.9]], rtol=1e-6)
    opt.learning_rate = 0.0
    step(x)
    np.testing.assert_allclose(dense.kernel.numpy(), [[0.9], [0.9]], rtol=1e-6)
    assert step.trace_count == 1 and int(opt.iterations) == 2


def test_a_schedule_inside_a_traced_step_is_a_clear_error():
    w = ef.Variable([1.0])
    opt = optimizers.SGD(optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))

    @ef.function
    def step():
        opt.apply_gradients([(ef.ones((1,)), w)])

    with pytest.raises(ef.InvalidArgumentError, match="schedules are computed on the host"):
        step()


def test_inference_in_a_traced_function_uses_the_moving_statistics():
    bn = layers.BatchNormalization()
    x = ef.constant(np.random.default_rng(0).normal(2.0, 1.0, (16, 3)).astype(np.float32))
    bn(x, training=True)
    f = ef.function(lambda x: bn(x))
    np.testing.assert_allclose(f(x).numpy(), bn(x).numpy(), rtol=1e-6)
    before = bn.moving_mean.numpy()
    f(x)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), before)
