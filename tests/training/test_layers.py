"""ef.layers against torch.nn (PyTorch 2.13) for the same initial weights: forward values and
the gradients of a weighted sum of the outputs with respect to the input and every weight.

Layouts are converted as a port would: a torch Linear weight is the transpose of a Dense
kernel, a Conv2d weight is OIHW where Keras' kernel is HWIO, torch images are NCHW. Everything
runs in float64 (the layers' ``dtype=``), so values agree to 1e-10; one float32 case per layer
family checks the default dtype.
"""

from __future__ import annotations

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core import layers

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOL = dict(rtol=1e-9, atol=1e-10)
TOL32 = dict(rtol=2e-4, atol=2e-5)


def _grads(layer, x, probe, **call):
    """``(output, d/dx, {weight name: gradient})`` of ``sum(layer(x) * probe)``."""
    x = ef.constant(x)
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, **call)
        loss = ef.sum(y * ef.constant(probe, dtype=y.dtype))
    weights = layer.trainable_weights
    got = tape.gradient(loss, [x] + weights)
    return y.numpy(), got[0].numpy(), {w.name: g.numpy() for w, g in zip(weights, got[1:])}


def _torch_grads(module_fn, x, probe, params):
    """The same for torch: ``module_fn(x_torch)`` using the leaf tensors ``params``."""
    xt = torch.tensor(x, requires_grad=True)
    for p in params.values():
        p.grad = None
    y = module_fn(xt)
    (y * torch.tensor(probe)).sum().backward()
    return y.detach().numpy(), xt.grad.numpy(), {k: p.grad.numpy() for k, p in params.items()}


def _probe(shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape)


def _close(got, want, tol=TOL):
    y, dx, dw = got
    ty, tdx, tdw = want
    np.testing.assert_allclose(y, ty, **tol)
    np.testing.assert_allclose(dx, tdx, **tol)
    assert set(dw) == set(tdw)
    for k in dw:
        np.testing.assert_allclose(dw[k], tdw[k], **tol, err_msg=k)


def _leaf(a):
    return torch.tensor(np.ascontiguousarray(a), requires_grad=True)


# -- Dense ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("activation, torch_fn", [
    (None, lambda y: y), ("relu", F.relu), ("tanh", torch.tanh), ("sigmoid", torch.sigmoid),
    ("softmax", lambda y: F.softmax(y, dim=-1)), ("silu", F.silu), ("swish", F.silu),
    ("gelu", lambda y: F.gelu(y, approximate="tanh")), ("softplus", F.softplus),
    ("elu", F.elu), ("relu6", F.relu6), ("leaky_relu", lambda y: F.leaky_relu(y, 0.2)),
    ("log_softmax", lambda y: F.log_softmax(y, dim=-1)), ("linear", lambda y: y),
])
def test_dense_matches_linear(activation, torch_fn):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 7))
    layer = layers.Dense(4, activation=activation, dtype="float64")
    got = _grads(layer, x, _probe((5, 4)))
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    assert kernel.shape == (7, 4)  # Keras' (in, out)
    w, b = _leaf(kernel.T), _leaf(bias)  # torch Linear: (out, in)
    want = _torch_grads(lambda t: torch_fn(F.linear(t, w, b)), x, _probe((5, 4)),
                        {"kernel": w, "bias": b})
    want[2]["kernel"] = want[2]["kernel"].T
    _close(got, want)


def test_dense_on_a_3d_input_without_bias_in_float32():
    x = np.random.default_rng(0).normal(size=(2, 3, 6)).astype(np.float32)
    layer = layers.Dense(5, use_bias=False)
    got = _grads(layer, x, _probe((2, 3, 5)))
    assert layer.kernel.dtype == ef.float32 and [w.name for w in layer.weights] == ["kernel"]
    w = _leaf(layer.kernel.numpy().T)
    want = _torch_grads(lambda t: F.linear(t, w), x, _probe((2, 3, 5)).astype(np.float32),
                        {"kernel": w})
    want[2]["kernel"] = want[2]["kernel"].T
    _close(got, want, TOL32)


# -- convolutions -------------------------------------------------------------------------------

def _tf_same(n, k, s, d=1):
    """TensorFlow's SAME pads (before, after): the odd pixel at the end."""
    total = max(0, (-(-n // s) - 1) * s + (k - 1) * d + 1 - n)
    return total // 2, total - total // 2


CONV2D_CASES = [
    dict(filters=4, kernel_size=3),
    dict(filters=4, kernel_size=3, strides=2, padding="same"),
    dict(filters=6, kernel_size=(2, 3), dilation_rate=2, padding="same"),
    dict(filters=4, kernel_size=3, groups=2),
    dict(filters=3, kernel_size=(3, 2), strides=(2, 1), use_bias=False, activation="relu"),
    dict(filters=4, kernel_size=3, data_format="channels_first", padding="same", strides=2),
]


@pytest.mark.parametrize("kw", CONV2D_CASES, ids=lambda kw: ",".join(f"{k}={v}"
                                                                     for k, v in kw.items()))
def test_conv2d_matches_torch_conv2d(kw):
    channels_first = kw.get("data_format") == "channels_first"
    nhwc = np.random.default_rng(0).normal(size=(2, 9, 8, 4))
    x = nhwc.transpose(0, 3, 1, 2) if channels_first else nhwc
    layer = layers.Conv2D(dtype="float64", **kw)
    probe = _probe(layer(ef.constant(x)).shape)
    got = _grads(layer, x, probe)
    kh, kw_, cin, cout = layer.kernel.shape
    assert (kh, kw_) == layer.kernel_size and cin == 4 // layer.groups  # HWIO
    w = _leaf(layer.kernel.numpy().transpose(3, 2, 0, 1))  # -> OIHW
    params = {"kernel": w}
    b = None
    if layer.use_bias:
        b = params["bias"] = _leaf(layer.bias.numpy())
    s, d = layer.strides, layer.dilation_rate

    def run(t):
        t = t if channels_first else t.permute(0, 3, 1, 2)
        if layer.padding == "same":
            (ht, hb), (wl, wr) = (_tf_same(t.shape[2 + i], layer.kernel_size[i], s[i], d[i])
                                  for i in range(2))
            t = F.pad(t, (wl, wr, ht, hb))
        out = F.conv2d(t, w, b, stride=s, dilation=d, groups=layer.groups)
        if kw.get("activation") == "relu":
            out = F.relu(out)
        return out if channels_first else out.permute(0, 2, 3, 1)

    want = _torch_grads(run, x, probe, params)
    want[2]["kernel"] = want[2]["kernel"].transpose(2, 3, 1, 0)  # OIHW -> HWIO
    _close(got, want)


def test_conv2d_float32_default():
    x = np.random.default_rng(2).normal(size=(3, 6, 6, 2)).astype(np.float32)
    layer = layers.Conv2D(5, 3, padding="same")
    got = _grads(layer, x, _probe((3, 6, 6, 5)).astype(np.float32))
    w, b = _leaf(layer.kernel.numpy().transpose(3, 2, 0, 1)), _leaf(layer.bias.numpy())
    want = _torch_grads(lambda t: F.conv2d(t.permute(0, 3, 1, 2), w, b, padding="same")
                        .permute(0, 2, 3, 1), x, _probe((3, 6, 6, 5)).astype(np.float32),
                        {"kernel": w, "bias": b})
    want[2]["kernel"] = want[2]["kernel"].transpose(2, 3, 1, 0)
    _close(got, want, TOL32)


@pytest.mark.parametrize("kw", [
    dict(filters=4, kernel_size=3),
    dict(filters=4, kernel_size=3, strides=2, padding="same"),
    dict(filters=2, kernel_size=2, dilation_rate=3, padding="causal"),
    dict(filters=6, kernel_size=3, groups=3, data_format="channels_first"),
], ids=["valid", "same-stride2", "causal-dilated", "groups-channels-first"])
def test_conv1d_matches_torch_conv1d(kw):
    channels_first = kw.get("data_format") == "channels_first"
    cin = 6 if "groups" in kw else 3
    nwc = np.random.default_rng(0).normal(size=(2, 11, cin))
    x = nwc.transpose(0, 2, 1) if channels_first else nwc
    layer = layers.Conv1D(dtype="float64", **kw)
    probe = _probe(layer(ef.constant(x)).shape)
    got = _grads(layer, x, probe)
    w, b = _leaf(layer.kernel.numpy().transpose(2, 1, 0)), _leaf(layer.bias.numpy())  # WIO->OIW
    k, s, d = layer.kernel_size[0], layer.strides[0], layer.dilation_rate[0]

    def run(t):
        t = t if channels_first else t.permute(0, 2, 1)
        if layer.padding == "same":
            t = F.pad(t, _tf_same(t.shape[2], k, s, d))
        elif layer.padding == "causal":
            t = F.pad(t, ((k - 1) * d, 0))
        out = F.conv1d(t, w, b, stride=s, dilation=d, groups=layer.groups)
        return out if channels_first else out.permute(0, 2, 1)

    want = _torch_grads(run, x, probe, {"kernel": w, "bias": b})
    want[2]["kernel"] = want[2]["kernel"].transpose(2, 1, 0)
    _close(got, want)


def test_causal_conv1d_output_at_t_sees_only_inputs_up_to_t():
    layer = layers.Conv1D(1, 3, padding="causal", dilation_rate=2, dtype="float64")
    x = np.random.default_rng(0).normal(size=(1, 10, 1))
    base = layer(ef.constant(x)).numpy()
    x2 = x.copy()
    x2[0, 6, 0] += 1.0
    changed = np.nonzero(np.abs(layer(ef.constant(x2)).numpy() - base)[0, :, 0] > 0)[0]
    assert changed.tolist() == [6, 8]  # t = 6 and t = 6 + dilation: never earlier


# -- pooling -------------------------------------------------------------------------------------

def _pool_input(channels_first=False):
    x = np.random.default_rng(3).normal(size=(2, 7, 6, 3))
    return x.transpose(0, 3, 1, 2) if channels_first else x


@pytest.mark.parametrize("cls", [layers.MaxPool2D, layers.MaxPooling2D])
@pytest.mark.parametrize("kw", [dict(pool_size=2), dict(pool_size=3, strides=2),
                                dict(pool_size=(2, 3), strides=1, padding="same"),
                                dict(pool_size=2, data_format="channels_first")])
def test_max_pool_matches_torch(cls, kw):
    cf = kw.get("data_format") == "channels_first"
    x = _pool_input(cf)
    layer = cls(dtype="float64", **kw)
    probe = _probe(layer(ef.constant(x)).shape)
    got = _grads(layer, x, probe)

    def run(t):
        t = t if cf else t.permute(0, 3, 1, 2)
        if layer.padding == "same":
            (a, b), (c, d) = (_tf_same(t.shape[2 + i], layer.pool_size[i], layer.strides[i])
                              for i in range(2))
            t = F.pad(t, (c, d, a, b), value=-np.inf)
        out = F.max_pool2d(t, layer.pool_size, layer.strides)
        return out if cf else out.permute(0, 2, 3, 1)

    _close(got, _torch_grads(run, x, probe, {}))


@pytest.mark.parametrize("cls", [layers.AvgPool2D, layers.AveragePooling2D])
@pytest.mark.parametrize("kw", [dict(pool_size=2), dict(pool_size=3, strides=2),
                                dict(pool_size=3, strides=2, padding="same"),
                                dict(pool_size=2, data_format="channels_first")])
def test_avg_pool_matches_torch(cls, kw):
    cf = kw.get("data_format") == "channels_first"
    x = _pool_input(cf)
    layer = cls(dtype="float64", **kw)
    probe = _probe(layer(ef.constant(x)).shape)
    got = _grads(layer, x, probe)

    def run(t):
        t = t if cf else t.permute(0, 3, 1, 2)
        k, s = layer.pool_size, layer.strides
        if layer.padding == "same":  # TensorFlow counts only the real pixels of a window
            (a, b), (c, d) = (_tf_same(t.shape[2 + i], k[i], s[i]) for i in range(2))
            total = F.avg_pool2d(F.pad(t, (c, d, a, b)), k, s, divisor_override=1)
            count = F.avg_pool2d(F.pad(torch.ones_like(t), (c, d, a, b)), k, s,
                                 divisor_override=1)
            out = total / count
        else:
            out = F.avg_pool2d(t, k, s)
        return out if cf else out.permute(0, 2, 3, 1)

    _close(got, _torch_grads(run, x, probe, {}))


@pytest.mark.parametrize("cf", [False, True])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_average_pooling_matches_torch(cf, keepdims):
    x = _pool_input(cf)
    layer = layers.GlobalAveragePooling2D(data_format="channels_first" if cf else None,
                                          keepdims=keepdims, dtype="float64")
    probe = _probe(layer(ef.constant(x)).shape)
    axes = (2, 3) if cf else (1, 2)
    _close(_grads(layer, x, probe),
           _torch_grads(lambda t: t.mean(dim=axes, keepdim=keepdims), x, probe, {}))


def test_global_max_pooling_matches_torch():
    x = _pool_input()
    layer = layers.GlobalMaxPooling2D(dtype="float64")
    probe = _probe((2, 3))
    _close(_grads(layer, x, probe), _torch_grads(lambda t: t.amax(dim=(1, 2)), x, probe, {}))


# -- Flatten, Embedding ------------------------------------------------------------------------

def test_flatten_matches_torch_and_channels_first_gives_channels_last_order():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    probe = _probe((2, 60))
    _close(_grads(layers.Flatten(dtype="float64"), x, probe),
           _torch_grads(lambda t: torch.flatten(t, 1), x, probe, {}))
    cf = layers.Flatten(data_format="channels_first")(ef.constant(x.transpose(0, 3, 1, 2)))
    np.testing.assert_array_equal(cf.numpy(), x.reshape(2, -1).astype(np.float32))


def test_embedding_matches_torch_with_repeated_ids():
    ids = np.array([[1, 4, 1], [0, 4, 4]])
    layer = layers.Embedding(6, 3, dtype="float64")
    out = layer(ef.constant(ids))
    assert layer.embeddings.shape == (6, 3) and out.shape == (2, 3, 3)
    probe = _probe((2, 3, 3))
    with ef.GradientTape() as tape:
        loss = ef.sum(layer(ef.constant(ids)) * ef.constant(probe))
    (g,) = tape.gradient(loss, layer.trainable_weights)
    table = _leaf(layer.embeddings.numpy())
    y = F.embedding(torch.tensor(ids), table)
    (y * torch.tensor(probe)).sum().backward()
    np.testing.assert_allclose(out.numpy(), y.detach().numpy(), **TOL)
    np.testing.assert_allclose(g.numpy(), table.grad.numpy(), **TOL)
    emb = layers.Embedding(100, 8)(ef.constant([1])).numpy()  # Keras' uniform(-0.05, 0.05)
    assert np.abs(emb).max() <= 0.05


# -- normalisation -------------------------------------------------------------------------------

@pytest.mark.parametrize("cf", [False, True], ids=["channels_last", "channels_first"])
def test_batch_normalization_matches_torch_in_training_and_inference(cf):
    rng = np.random.default_rng(0)
    nhwc = rng.normal(loc=2.0, scale=3.0, size=(4, 5, 6, 3))
    x = nhwc.transpose(0, 3, 1, 2) if cf else nhwc
    layer = layers.BatchNormalization(axis=1 if cf else -1, dtype="float64")
    layer(ef.constant(x))  # build (inference: nothing moves)
    layer.gamma.assign(rng.normal(size=3))
    layer.beta.assign(rng.normal(size=3))
    bn = torch.nn.BatchNorm2d(3, eps=1e-3, momentum=0.01, dtype=torch.float64)  # Keras 0.99
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(layer.gamma.numpy()))
        bn.bias.copy_(torch.tensor(layer.beta.numpy()))
    probe = _probe(x.shape)
    to_torch = (lambda t: t) if cf else (lambda t: t.permute(0, 3, 1, 2))
    from_torch = (lambda t: t) if cf else (lambda t: t.permute(0, 2, 3, 1))
    got = _grads(layer, x, probe, training=True)
    want = _torch_grads(lambda t: from_torch(bn(to_torch(t))), x, probe,
                        {"gamma": bn.weight, "beta": bn.bias})
    _close(got, want)
    # The moving statistics: the same rule; torch keeps the unbiased batch variance, Keras the
    # biased one, so the expected variance is computed here from the batch.
    axes = (0, 2, 3) if cf else (0, 1, 2)
    np.testing.assert_allclose(layer.moving_mean.numpy(), bn.running_mean.numpy(), **TOL)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.99 + 0.01 * x.var(axis=axes),
                               **TOL)
    # Inference uses the moving statistics and changes nothing.
    with torch.no_grad():
        bn.running_var.copy_(torch.tensor(layer.moving_variance.numpy()))
    bn.eval()
    before = [w.numpy() for w in layer.non_trainable_weights]
    got = _grads(layer, x, probe, training=False)
    _close(got, _torch_grads(lambda t: from_torch(bn(to_torch(t))), x, probe,
                             {"gamma": bn.weight, "beta": bn.bias}))
    for w, b in zip(layer.non_trainable_weights, before):
        np.testing.assert_array_equal(w.numpy(), b)


def test_batch_normalization_on_dense_features_float32():
    x = np.random.default_rng(1).normal(size=(8, 5)).astype(np.float32)
    layer = layers.BatchNormalization()
    bn = torch.nn.BatchNorm1d(5, eps=1e-3, momentum=0.01)
    probe = _probe((8, 5)).astype(np.float32)
    _close(_grads(layer, x, probe, training=True),
           _torch_grads(bn, x, probe, {"gamma": bn.weight, "beta": bn.bias}), TOL32)


@pytest.mark.parametrize("axis, torch_shape", [(-1, (6,)), ((-2, -1), (4, 6))])
def test_layer_normalization_matches_torch(axis, torch_shape):
    rng = np.random.default_rng(0)
    x = rng.normal(loc=1.0, size=(3, 4, 6))
    layer = layers.LayerNormalization(axis=axis, dtype="float64")
    layer(ef.constant(x))
    layer.gamma.assign(rng.normal(size=torch_shape))
    layer.beta.assign(rng.normal(size=torch_shape))
    ln = torch.nn.LayerNorm(torch_shape, eps=1e-3, dtype=torch.float64)
    with torch.no_grad():
        ln.weight.copy_(torch.tensor(layer.gamma.numpy()))
        ln.bias.copy_(torch.tensor(layer.beta.numpy()))
    probe = _probe(x.shape)
    _close(_grads(layer, x, probe),
           _torch_grads(ln, x, probe, {"gamma": ln.weight, "beta": ln.bias}))


# -- a whole model -----------------------------------------------------------------------------

def test_a_sequential_convnet_trains_like_torch_for_the_same_initial_weights():
    """Forward, loss, gradients and three SGD steps of conv-pool-conv-pool-dense."""
    ef.random.set_seed(3)
    model = layers.Sequential([
        layers.Conv2D(4, 3, activation="relu"), layers.MaxPool2D(2),
        layers.Conv2D(6, 3, activation="relu", padding="same"), layers.AvgPool2D(2),
        layers.Flatten(), layers.Dense(5)])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 10, 10, 1)).astype(np.float32)
    labels = rng.integers(0, 5, 8)
    model(ef.constant(x))
    c1, b1, c2, b2, k, b = (v.numpy() for v in model.trainable_weights)
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                             torch.nn.Conv2d(4, 6, 3, padding="same"), torch.nn.ReLU(),
                             torch.nn.AvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(24, 5))
    with torch.no_grad():
        tm[0].weight.copy_(torch.tensor(c1.transpose(3, 2, 0, 1)))
        tm[0].bias.copy_(torch.tensor(b1))
        tm[3].weight.copy_(torch.tensor(c2.transpose(3, 2, 0, 1)))
        tm[3].bias.copy_(torch.tensor(b2))
        # Keras flattens (h, w, c), torch (c, h, w): reorder the Dense kernel's rows.
        tm[7].weight.copy_(torch.tensor(k.reshape(2, 2, 6, 5).transpose(2, 0, 1, 3)
                                        .reshape(24, 5).T))
        tm[7].bias.copy_(torch.tensor(b))
    opt = ef.optimizers.SGD(0.1)
    topt = torch.optim.SGD(tm.parameters(), lr=0.1)
    for _ in range(3):
        with ef.GradientTape() as tape:
            loss = ef.losses.sparse_categorical_crossentropy(
                ef.constant(labels), model(ef.constant(x)), from_logits=True)
            loss = ef.mean(loss)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        topt.zero_grad()
        tloss = F.cross_entropy(tm(torch.tensor(x).permute(0, 3, 1, 2)), torch.tensor(labels))
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(float(loss), tloss.item(), rtol=1e-5)
    np.testing.assert_allclose(model.layers[0].kernel.numpy(),
                               tm[0].weight.detach().numpy().transpose(2, 3, 1, 0), **TOL32)
    np.testing.assert_allclose(model.layers[-1].bias.numpy(), tm[7].bias.detach().numpy(),
                               **TOL32)
