"""ef.layers beyond the values: lazy building, training against inference (Dropout,
BatchNormalization), the call context, subclassing with Python control flow, weights and their
order, Sequential, checkpoints into unbuilt layers, and the errors that name the layer."""

from __future__ import annotations

import math

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core import layers


# -- building -------------------------------------------------------------------------------------

def test_layers_build_lazily_from_the_first_input():
    dense = layers.Dense(3)
    assert not dense.built and dense.weights == [] and dense.variables == []
    with pytest.raises(ef.InvalidArgumentError, match="count_params needs built layers"):
        dense.count_params()
    dense(ef.ones((2, 5)))
    assert dense.built and [w.shape for w in dense.weights] == [(5, 3), (3,)]
    assert dense.count_params() == 18
    kernel = dense.kernel
    dense(ef.zeros((7, 5)))  # a second call builds nothing new
    assert dense.kernel is kernel


def test_building_under_a_tape_records_nothing_and_the_weights_get_gradients():
    dense = layers.Dense(2, kernel_initializer="ones")
    x = ef.ones((1, 3))
    with ef.GradientTape() as tape:
        y = ef.sum(dense(x))
    assert tape.gradient(y, dense.kernel).numpy().tolist() == [[1.0, 1.0]] * 3


def test_a_layer_converts_arrays_and_casts_floating_inputs_to_its_dtype():
    out = layers.Dense(2)(np.ones((1, 3)))  # float64 NumPy in, float32 layer
    assert isinstance(out, ef.Tensor) and out.dtype == ef.float32
    assert layers.Dense(2, dtype="float64")(ef.ones((1, 3))).dtype == ef.float64
    assert layers.Embedding(4, 2)(np.array([1, 2])).shape == (2, 2)  # ints stay ints


def test_custom_layer_with_build_add_weight_and_control_flow():
    class Residual(layers.Layer):
        def __init__(self, depth, **kw):
            super().__init__(**kw)
            self.depth = depth
            self.blocks = [layers.Dense(4, activation="tanh") for _ in range(depth)]

        def build(self, input_shape):
            self.gate = self.add_weight("gate", (input_shape[-1],), "zeros")

        def call(self, x, training=None):
            for i, block in enumerate(self.blocks):  # Python loop and branches
                y = block(x)
                x = x + y if i % 2 == 0 else y
            if training:
                x = x * 2.0
            return x * ef.nn.sigmoid(self.gate)

    layer = Residual(3, name="res")
    x = ef.ones((2, 4))
    assert layer(x, training=True).shape == (2, 4)
    names = [w.name for w in layer.weights]
    assert names == ["gate"] + ["kernel", "bias"] * 3  # own first, then the sub-layers'
    with ef.GradientTape() as tape:
        loss = ef.sum(layer(x))
    grads = tape.gradient(loss, layer.trainable_weights)
    assert all(g is not None for g in grads)
    np.testing.assert_allclose(layer(x, training=True).numpy(), 2 * layer(x).numpy(), rtol=1e-6)


def test_a_module_subclass_with_its_own_call_holds_lazy_layers():
    class Net(ef.Module):
        def __init__(self):
            super().__init__()
            self.encoder = layers.Dense(8, activation="relu")
            self.heads = {"a": layers.Dense(1), "b": layers.Dense(2)}

        def __call__(self, x, head="a"):
            h = self.encoder(x)
            while h.shape[-1] > 4:  # Python control flow on shapes
                h = h[:, : h.shape[-1] // 2]
            return self.heads[head](h)

    net = Net()
    assert net(ef.ones((3, 5))).shape == (3, 1)
    assert len(net.trainable_variables) == 4  # head "b" is not built yet
    assert net(ef.ones((3, 5)), head="b").shape == (3, 2)
    assert len(net.trainable_variables) == 6


def test_add_weight_tracks_weights_no_attribute_holds():
    class Loose(layers.Layer):
        def build(self, input_shape):
            self._hidden = [self.add_weight(shape=(2,), initializer="ones", name="w")]  # a list
            self.add_weight("held_nowhere", (3,), "zeros")

        def call(self, x):
            return x

    layer = Loose()
    layer(ef.ones((1, 2)))
    assert sorted(w.name for w in layer.weights) == ["held_nowhere", "w"]
    assert [w.shape for w in layer.weights] == [(2,), (3,)]


def test_initializers_are_the_keras_defaults_and_follow_set_seed():
    ef.random.set_seed(11)
    a = layers.Dense(50)
    a(ef.ones((1, 30)))
    ef.random.set_seed(11)
    b = layers.Dense(50)
    b(ef.ones((1, 30)))
    np.testing.assert_array_equal(a.kernel.numpy(), b.kernel.numpy())
    limit = math.sqrt(6 / (30 + 50))  # glorot_uniform
    k = a.kernel.numpy()
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.9 * limit
    assert not a.bias.numpy().any()


# -- training and inference ------------------------------------------------------------------------

def test_dropout_only_in_training_with_the_keep_scale_and_its_gradient():
    drop = layers.Dropout(0.25, seed=3)
    x = ef.ones((200, 100))
    assert drop(x) is x and drop(x, training=False) is x
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = drop(x, training=True)
        loss = ef.sum(y * 3.0)
    values = y.numpy()
    assert set(np.unique(values).tolist()) <= {0.0, float(np.float32(1 / 0.75))}
    kept = (values > 0).mean()
    sigma = math.sqrt(0.25 * 0.75 / values.size)
    assert abs(kept - 0.75) < 5 * sigma
    grad = tape.gradient(loss, x).numpy()
    np.testing.assert_allclose(grad, 3.0 * values, rtol=1e-6)  # g * mask / (1 - rate)


def test_dropout_masks_change_every_call_are_reproducible_and_uncorrelated():
    x = ef.ones((64, 256))
    a, b = layers.Dropout(0.5, seed=7), layers.Dropout(0.5, seed=7)
    masks_a = [a(x, training=True).numpy() > 0 for _ in range(4)]
    masks_b = [b(x, training=True).numpy() > 0 for _ in range(4)]
    for ma, mb in zip(masks_a, masks_b):
        np.testing.assert_array_equal(ma, mb)  # same seed, same sequence
    n = masks_a[0].size
    for i in range(3):  # consecutive masks: independent draws (correlation ~ N(0, 1/n))
        r = np.corrcoef(masks_a[i].ravel(), masks_a[i + 1].ravel())[0, 1]
        assert abs(r) < 5 / math.sqrt(n)
    rows = masks_a[0].astype(float)  # neighbours within one mask are independent too
    r = np.corrcoef(rows[:, :-1].ravel(), rows[:, 1:].ravel())[0, 1]
    assert abs(r) < 5 / math.sqrt(n)
    c = layers.Dropout(0.5, seed=8)
    assert (c(x, training=True).numpy() > 0).tolist() != masks_a[0].tolist()
    assert int(a.seed_generator.state.numpy()) == 4
    assert a.weights == [] and len(a.variables) == 1  # the counter is state, not a weight


def test_dropout_noise_shape_shares_decisions_and_rate_zero_is_identity():
    x = ef.ones((4, 50, 3))
    y = layers.Dropout(0.5, noise_shape=(None, 1, 3), seed=1)(x, training=True).numpy()
    assert (y == y[:, :1, :]).all()  # one decision per (example, channel)
    assert layers.Dropout(0.0)(x, training=True) is x
    with pytest.raises(ef.ShapeError, match="noise_shape"):
        layers.Dropout(0.5, noise_shape=(4, 2, 3))(x, training=True)
    with pytest.raises(ef.InvalidArgumentError, match=r"rate must be a float in \[0, 1\)"):
        layers.Dropout(1.0)


def test_batch_normalization_moves_its_statistics_only_in_training():
    bn = layers.BatchNormalization(momentum=0.9)
    x = ef.constant(np.random.default_rng(0).normal(3.0, 2.0, size=(64, 4)))
    bn(x)  # inference: moving statistics untouched, output uses them (mean 0, var 1)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), np.zeros(4))
    np.testing.assert_allclose(bn(x).numpy(), x.numpy() / math.sqrt(1 + 1e-3), rtol=1e-5)
    xs = x.numpy().astype(np.float32)
    mean, var = np.zeros(4), np.ones(4)
    for _ in range(3):
        y = bn(x, training=True).numpy()
        mean, var = 0.9 * mean + 0.1 * xs.mean(0), 0.9 * var + 0.1 * xs.var(0)
        np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)  # batch statistics
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), var, rtol=1e-5)
    # A frozen BatchNormalization runs in inference mode even with training=True (Keras).
    bn.trainable = False
    before = bn.moving_mean.numpy()
    frozen = bn(x, training=True).numpy()
    np.testing.assert_array_equal(bn.moving_mean.numpy(), before)
    np.testing.assert_allclose(frozen, bn(x).numpy())
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4


def test_training_reaches_nested_layers_through_the_call_context():
    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.drop = layers.Dropout(0.5, seed=0)

        def call(self, x):  # takes no training argument and passes none
            return self.drop(x)

    model = layers.Sequential([Block()])
    x = ef.ones((10, 10))
    assert bool(ef.all(model(x) == x))
    assert not bool(ef.all(model(x, training=True) == x))
    block = Block()
    assert not bool(ef.all(block(x, training=True) == x))  # dropped even though `call` ignores it
    assert bool(ef.all(block(x) == x))  # and the context does not leak to later calls


# -- Sequential ------------------------------------------------------------------------------------

def test_sequential_add_pop_build_and_plain_callables():
    model = layers.Sequential(name="m")
    model.add(layers.Dense(4))
    model.add(ef.nn.relu)  # a plain function
    model.add(layers.Dense(2))
    assert len(model.layers) == 3 and not model.built
    model.build((None, 3))
    assert model.built and model.count_params() == 16 + 10
    assert model(ef.ones((5, 3))).shape == (5, 2)
    assert isinstance(model.pop(), layers.Dense) and model(ef.ones((5, 3))).shape == (5, 4)
    with pytest.raises(ef.ArgumentTypeError, match="add expects a layer or a callable"):
        model.add(3)


def test_sequential_summary_counts_trainable_and_non_trainable():
    model = layers.Sequential([layers.Conv2D(2, 3, name="c"), layers.BatchNormalization(name="bn"),
                               layers.Flatten(name="f"), layers.Dense(3, name="d")], name="s")
    lines = []
    model.summary(print_fn=lines.append)
    assert "0 (unbuilt)" in "\n".join(lines)
    model(ef.ones((1, 5, 5, 1)))
    lines.clear()
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "s"' in text and "(None, 3, 3, 2)" in text and "(None, 18)" in text
    assert "Total params: 85" in text  # 20 + 8 + 57
    assert "Trainable params: 81" in text and "Non-trainable params: 4" in text


def test_get_and_set_weights_check_count_and_shapes():
    model = layers.Sequential([layers.Dense(3, name="a"), layers.Dense(1, name="b")])
    model(ef.ones((2, 2)))
    values = [np.full(w.shape, i, np.float32) for i, w in enumerate(model.weights)]
    model.set_weights(values)
    for got, want in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ef.InvalidArgumentError, match=r"set_weights got 1 arrays for its 4 "
                                                      r"weights \['kernel' \(2, 3\)"):
        model.set_weights(values[:1])
    with pytest.raises(ef.ShapeError, match=r"weight 'kernel' has shape \(2, 3\), the array "
                                            r"given for it \(3, 2\)"):
        model.layers[0].set_weights([np.zeros((3, 2)), np.zeros(3)])


def test_frozen_layers_leave_trainable_weights_and_optimizers_alone():
    model = layers.Sequential([layers.Dense(3), layers.Dense(1)])
    model(ef.ones((2, 2)))
    model.layers[0].trainable = False
    assert [w.shape for w in model.trainable_weights] == [(3, 1), (1,)]
    assert [w.shape for w in model.non_trainable_weights] == [(2, 3), (3,)]


# -- checkpoints ---------------------------------------------------------------------------------

def _cnn():
    return layers.Sequential([layers.Conv2D(3, 3, activation="relu"), layers.BatchNormalization(),
                              layers.MaxPool2D(2), layers.Flatten(), layers.Dropout(0.5, seed=1),
                              layers.Dense(4)])


def test_checkpoint_restores_into_an_unbuilt_model_and_optimizer(tmp_path):
    ef.random.set_seed(0)
    model, opt = _cnn(), ef.optimizers.Adam(0.01)
    x = ef.random.normal((6, 8, 8, 1))
    for _ in range(2):
        with ef.GradientTape() as tape:
            loss = ef.sum(model(x, training=True) ** 2)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
    path = ef.train.Checkpoint(model=model, optimizer=opt).save(str(tmp_path / "ck"))
    fresh, fresh_opt = _cnn(), ef.optimizers.Adam(0.01)
    status = ef.train.Checkpoint(model=fresh, optimizer=fresh_opt).restore(path)
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())  # built, then restored
    for a, b in zip(fresh.variables, model.variables):  # moving statistics, dropout counter
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    fresh_opt.build(fresh.trainable_variables)
    status.assert_consumed()
    np.testing.assert_array_equal(fresh(x, training=True).numpy(),
                                  model(x, training=True).numpy())  # the same next mask


def test_checkpoint_mismatch_names_the_weight(tmp_path):
    small = layers.Sequential([layers.Dense(2)])
    small(ef.ones((1, 3)))
    path = ef.train.Checkpoint(model=small).save(str(tmp_path / "ck"))
    other = layers.Sequential([layers.Dense(2)])
    ef.train.Checkpoint(model=other).restore(path)
    with pytest.raises(ef.ShapeError, match=r"model/layers/0/kernel.*\(3, 2\).*\(4, 2\)"):
        other(ef.ones((1, 4)))


# -- errors -----------------------------------------------------------------------------------------

def test_dense_given_a_changed_last_dimension_names_the_layer_and_shapes():
    dense = layers.Dense(3, name="proj")
    dense(ef.ones((2, 784)))
    with pytest.raises(ef.ShapeError, match=r"Dense 'proj': expected axis -1 of the input to "
                                            r"have size 784 \(it was built for input shape "
                                            r"\(2, 784\)\), got an input of shape \(2, 100\)"):
        dense(ef.ones((2, 100)))
    with pytest.raises(ef.ShapeError, match=r"Dense 'proj': expected an input with ndim>=2"):
        layers.Dense(3, name="proj")(ef.ones((5,)))


def test_conv2d_given_a_3d_input_names_the_layer_and_layout():
    with pytest.raises(ef.ShapeError, match=r"Conv2D 'c': expected an input with ndim=4 "
                                            r"\(batch, height, width, channels\), got ndim=3: "
                                            r"shape \(28, 28, 1\)"):
        layers.Conv2D(4, 3, name="c")(ef.ones((28, 28, 1)))
    conv = layers.Conv2D(4, 3, name="c", data_format="channels_first")
    with pytest.raises(ef.ShapeError, match=r"\(batch, channels, height, width\)"):
        conv(ef.ones((1, 28, 28)))
    conv(ef.ones((1, 2, 8, 8)))
    with pytest.raises(ef.ShapeError, match=r"expected axis 1 of the input to have size 2"):
        conv(ef.ones((1, 3, 8, 8)))


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ef.InvalidArgumentError) as err:
        layers.Dense(3, activation="rleu", name="d")
    message = str(err.value)
    assert "Dense 'd': unknown activation 'rleu'; valid names:" in message
    for name in ("relu", "sigmoid", "tanh", "softmax", "gelu", "silu", "swish", "linear"):
        assert name in message
    with pytest.raises(ef.ArgumentTypeError, match="activation must be a name or a callable"):
        layers.Conv2D(2, 3, activation=3)


@pytest.mark.parametrize("make, match", [
    (lambda: layers.Dense(0), "units must be a positive int"),
    (lambda: layers.Conv2D(4, (3, 3, 3)), "kernel_size must be a positive int or a tuple of 2"),
    (lambda: layers.Conv2D(4, 3, padding="full"), "padding must be one of"),
    (lambda: layers.Conv2D(4, 3, strides=2, dilation_rate=2), "cannot be combined"),
    (lambda: layers.Conv2D(5, 3, groups=2), r"filters \(5\) must be a multiple of groups"),
    (lambda: layers.MaxPool2D(data_format="NHWC"), "data_format must be 'channels_last'"),
    (lambda: layers.BatchNormalization(momentum=1.5), r"momentum must be in \[0, 1\]"),
    (lambda: layers.Dense(2, kernel_initializer="glorot"), "unknown initializer 'glorot'"),
    (lambda: layers.Dense(2, bogus=1), r"unexpected keyword arguments \['bogus'\]"),
])
def test_bad_arguments_are_clear_errors(make, match):
    with pytest.raises((ef.InvalidArgumentError, ef.ArgumentTypeError), match=match):
        make()


def test_conv_groups_must_divide_the_input_channels():
    with pytest.raises(ef.ShapeError, match=r"input's 3 channels .* not a multiple of groups=2"):
        layers.Conv2D(4, 3, groups=2)(ef.ones((1, 5, 5, 3)))


def test_batch_norm_axis_out_of_range_names_the_shape():
    with pytest.raises(ef.AxisError, match=r"axis 3 is out of range for an input of shape "
                                           r"\(2, 4\)"):
        layers.BatchNormalization(axis=3)(ef.ones((2, 4)))
