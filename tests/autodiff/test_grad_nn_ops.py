"""Gradients of the NN ops of issue #7 (conv, pooling, normalisation, losses, activations):
first and second order against central differences (``check_grads``), the conv transpose
rules that make higher orders work, and the precision of ``logsumexp``'s gradient."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import eagerflow_core as ef
from eagerflow_core.testing import check_grads


# -- logsumexp: the gradient from the shifted values (issue #7, item 9) --------------------------

@pytest.mark.parametrize("big", [1e5, 1e30])
def test_logsumexp_gradient_keeps_its_precision_for_large_logits(big):
    x = ef.constant([big, big], dtype=ef.float32)
    g = ef.grad(lambda x: ef.nn.logsumexp(x))(x)
    assert g.dtype == ef.float32
    np.testing.assert_array_equal(g.numpy(), [0.5, 0.5])  # exp(x - ans) gave 0.4989 / 1.0
    x = ef.constant([[big, big - 1.0, -ef.inf]], dtype=ef.float32)
    g = ef.grad(lambda x: ef.sum(ef.nn.logsumexp(x, axis=1)))(x)
    shifted = np.array([0.0, (np.float32(big) - np.float32(1.0)) - np.float32(big), -np.inf])
    want = np.exp(shifted) / np.exp(shifted).sum()
    np.testing.assert_allclose(g.numpy()[0], want, rtol=1e-6)


def test_logsumexp_second_order_still_holds():
    x = ef.constant([[0.3, -1.2, 2.0], [1.0, 1.5, -0.5]], dtype=ef.float64)
    check_grads(lambda x: ef.nn.logsumexp(x, axis=1), (x,), order=2)
    check_grads(lambda x: ef.nn.logsumexp(x, axis=(0, 1), keepdims=True), (x,), order=2)


# -- second order (and third, for the closed conv set) against central differences ---------------

def f64(rng, *shape, low=-2.0, high=2.0):
    return ef.asarray(rng.uniform(low, high, size=shape))


def distinct(rng, *shape):
    """Values 0.25 apart in random order: no ties, no near-ties, for max pooling."""
    n = int(np.prod(shape))
    return ef.asarray((rng.permutation(n) - n / 2).reshape(shape) * 0.25)


CONV_GRAD_CASES = [  # (x shape, w shape, kwargs)
    ((2, 5, 4, 3), (3, 2, 3, 4), {"strides": 2, "padding": "SAME"}),
    ((1, 5, 5, 2), (2, 2, 2, 3), {"strides": 1, "padding": [(1, 0), (2, 1)], "dilations": 2}),
    ((2, 5, 4, 3), (3, 2, 1, 6), {"strides": (2, 1), "padding": "SAME", "groups": 3}),
    ((2, 4, 5, 4), (3, 3, 2, 4), {"strides": 2, "padding": "VALID", "data_format": "NCHW"}),
]


@pytest.mark.parametrize("xs, ws, kwargs", CONV_GRAD_CASES)
def test_conv2d_second_order(xs, ws, kwargs):
    rng = np.random.default_rng(0)
    check_grads(lambda x, w: ef.nn.conv2d(x, w, **kwargs), (f64(rng, *xs), f64(rng, *ws)),
                order=2)


def test_conv_transposes_are_closed_under_differentiation():
    # The gradient of a gradient of a conv is conv / backprop_input / backprop_filter again:
    # third order holds, and the ops a triple-backward records are only those three.
    rng = np.random.default_rng(1)
    x, w = f64(rng, 1, 4, 4, 2), f64(rng, 3, 3, 2, 2)
    check_grads(lambda x, w: ef.nn.conv2d(x, w, strides=2, padding="SAME"), (x, w), order=3)
    with ef.GradientTape(persistent=True) as outer:
        outer.watch([x, w])
        with ef.GradientTape() as inner:
            inner.watch([x, w])
            y = ef.sum(ef.nn.conv2d(x, w, padding="SAME") ** 2)
        gx, gw = inner.gradient(y, [x, w])
        z = ef.sum(gx * gx) + ef.sum(gw * gw)
    outer.gradient(z, [x, w])
    convs = {e[0].name for e in outer._entries if e[0].name.startswith("nn.")}
    assert convs == {"nn.conv2d", "nn.conv2d_backprop_input", "nn.conv2d_backprop_filter"}


def test_conv1d_and_depthwise_second_order():
    rng = np.random.default_rng(2)
    check_grads(lambda x, w: ef.nn.conv1d(x, w, stride=2, padding="SAME", dilations=1),
                (f64(rng, 2, 7, 3), f64(rng, 3, 3, 2)), order=2)
    check_grads(lambda x, w: ef.nn.conv1d(x, w, padding="VALID", data_format="NCW"),
                (f64(rng, 2, 3, 6), f64(rng, 2, 3, 2)), order=2)
    check_grads(lambda x, w: ef.nn.depthwise_conv2d(x, w, strides=1, padding="SAME"),
                (f64(rng, 1, 4, 4, 2), f64(rng, 3, 3, 2, 2)), order=2)


@pytest.mark.parametrize("k, s, padding, fmt", [(2, 2, "VALID", "NHWC"), (3, 2, "SAME", "NHWC"),
                                                (3, 1, [(1, 1), (0, 2)], "NCHW")])
def test_pooling_higher_order(k, s, padding, fmt):
    rng = np.random.default_rng(3)
    x = distinct(rng, 2, 5, 4, 3)
    check_grads(lambda x: ef.nn.max_pool2d(x, k, s, padding, fmt), (x,), order=2)
    check_grads(lambda x: ef.nn.avg_pool2d(x, k, s, padding, fmt), (x,), order=3)
    # the max-pool gradient ops' own rules: grad <-> grad_grad, linear in their cotangent
    dy = ef.nn.max_pool2d(x, k, s, padding, fmt)
    check_grads(lambda g: ef.grad(lambda x: ef.sum(ef.nn.max_pool2d(x, k, s, padding, fmt) * g))(x),
                (f64(rng, *dy.shape),), order=2)


def test_composites_second_order():
    rng = np.random.default_rng(4)
    check_grads(lambda x: ef.nn.silu(x), (f64(rng, 3, 4, low=-6, high=6),), order=2)
    check_grads(lambda x: ef.nn.silu(x, beta=1.7), (f64(rng, 3, 4),), order=2)
    check_grads(lambda z, x: ef.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
                (f64(rng, 3, 4, low=0, high=1), f64(rng, 3, 4, low=-5, high=5)), order=2)
    check_grads(lambda x: ef.nn.moments(x, axes=[0, 2]), (f64(rng, 3, 2, 4),), order=2)
    check_grads(lambda x: ef.nn.moments(x, axes=1, keepdims=True)[1], (f64(rng, 3, 4),), order=2)
    check_grads(lambda x, m, v, o, s: ef.nn.batch_norm(x, m, v, o, s, 1e-3),
                (f64(rng, 2, 3, 4), f64(rng, 4), f64(rng, 4, low=0.5, high=2), f64(rng, 4),
                 f64(rng, 4)), order=2)
    check_grads(lambda x, m, v: ef.nn.batch_norm(x, m, v, None, None, 0.1),
                (f64(rng, 2, 3, 4), f64(rng, 1, 3, 1), f64(rng, 1, 3, 1, low=0.5, high=2)),
                order=2)
    check_grads(lambda x: ef.nn.layer_norm(x, axis=(1, 2)), (f64(rng, 2, 3, 4),), order=2)
    check_grads(lambda x, s, o: ef.nn.layer_norm(x, scale=s, offset=o),
                (f64(rng, 2, 3, 4), f64(rng, 4), f64(rng, 4)), order=2)
    check_grads(lambda p: ef.nn.embedding_lookup(p, ef.constant([[0, 2], [2, 1]]), max_norm=1.0),
                (f64(rng, 3, 4),), order=2)
    check_grads(lambda on: ef.one_hot(ef.constant([1, 0, 5]), 3, on_value=on, off_value=0.5,
                                      dtype=ef.float64), (f64(rng),), order=2)


def test_batch_moments_then_batch_norm_second_order():
    # What BatchNormalization computes in training: the statistics depend on x too.
    rng = np.random.default_rng(5)

    def bn(x, s, o):
        m, v = ef.nn.moments(x, axes=[0, 1, 2])
        return ef.nn.batch_norm(x, m, v, o, s, 1e-3)
    check_grads(bn, (f64(rng, 3, 2, 2, 3), f64(rng, 3), f64(rng, 3)), order=2)


# -- against PyTorch's autograd (first and second order) -------------------------------------------

def _t(x):
    return torch.tensor(x.numpy(), requires_grad=True)


def test_conv_and_pool_gradients_match_torch():
    rng = np.random.default_rng(6)
    x, w = f64(rng, 2, 6, 5, 4), f64(rng, 3, 3, 2, 6)
    g = f64(rng, 2, 3, 3, 6)

    def ef_loss(x, w):
        return ef.sum(ef.nn.conv2d(x, w, strides=2, padding="SAME", groups=2) * g)
    xt, wt = _t(x), _t(w)
    # SAME for 6 (k 3, s 2): total 1, (0, 1); for 5: total 2, (1, 1)
    yt = F.conv2d(F.pad(xt.permute(0, 3, 1, 2), (1, 1, 0, 1)), wt.permute(3, 2, 0, 1), stride=2,
                  groups=2)
    lt = (yt * torch.tensor(g.numpy()).permute(0, 3, 1, 2)).sum()
    dxt, dwt = torch.autograd.grad(lt, (xt, wt), create_graph=True)
    dx, dw = ef.grad(ef_loss, argnums=(0, 1))(x, w)
    np.testing.assert_allclose(dx.numpy(), dxt.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw.numpy(), dwt.detach().numpy(), rtol=1e-10, atol=1e-10)
    # second order: d/dw of sum(dx^2), through the conv transposes on both sides
    (ddw_t,) = torch.autograd.grad((dxt ** 2).sum(), wt)
    ddw = ef.grad(lambda w: ef.sum(ef.grad(ef_loss)(x, w) ** 2))(w)
    np.testing.assert_allclose(ddw.numpy(), ddw_t.numpy(), rtol=1e-10, atol=1e-10)
    # pools: the max-pool gradient goes to the first maximum of each window, as in torch
    xm = ef.asarray(np.round(rng.uniform(-2, 2, size=(2, 5, 5, 3))))  # many ties
    gm = f64(rng, 2, 3, 3, 3)
    dxm = ef.grad(lambda x: ef.sum(ef.nn.max_pool2d(x, 3, 2, "SAME") * gm))(xm)
    xmt = _t(xm)
    ymt = F.max_pool2d(F.pad(xmt.permute(0, 3, 1, 2), (1, 1, 1, 1), value=-math.inf), 3, 2)
    (dxmt,) = torch.autograd.grad((ymt * torch.tensor(gm.numpy()).permute(0, 3, 1, 2)).sum(), xmt)
    np.testing.assert_array_equal(dxm.numpy(), dxmt.numpy())
    dxa = ef.grad(lambda x: ef.sum(ef.nn.avg_pool2d(x, 2, 2, "VALID") * gm[:, :2, :2]))(xm)
    yat = F.avg_pool2d(xmt.permute(0, 3, 1, 2), 2, 2)
    (dxat,) = torch.autograd.grad((yat * torch.tensor(gm[:, :2, :2].numpy()).permute(
        0, 3, 1, 2)).sum(), xmt)
    np.testing.assert_allclose(dxa.numpy(), dxat.numpy(), rtol=1e-12, atol=1e-12)


def test_normalisation_and_loss_gradients_match_torch():
    rng = np.random.default_rng(7)
    x, gamma, beta = f64(rng, 4, 3, 3, 5), f64(rng, 5), f64(rng, 5)
    g = f64(rng, 4, 3, 3, 5)

    def bn(x, gamma, beta):
        m, v = ef.nn.moments(x, axes=[0, 1, 2])
        return ef.sum(ef.nn.batch_norm(x, m, v, beta, gamma, 1e-3) * g)
    xt, gt_, bt = _t(x), _t(gamma), _t(beta)
    yt = F.batch_norm(xt.permute(0, 3, 1, 2), None, None, gt_, bt, training=True, eps=1e-3)
    want = torch.autograd.grad((yt * torch.tensor(g.numpy()).permute(0, 3, 1, 2)).sum(),
                               (xt, gt_, bt))
    got = ef.grad(bn, argnums=(0, 1, 2))(x, gamma, beta)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-10)

    def ln(x, gamma, beta):
        return ef.sum(ef.nn.layer_norm(x, scale=gamma, offset=beta, epsilon=1e-5) * g)
    xt, gt_, bt = _t(x), _t(gamma), _t(beta)
    lt = (F.layer_norm(xt, (5,), gt_, bt, eps=1e-5) * torch.tensor(g.numpy())).sum()
    want = torch.autograd.grad(lt, (xt, gt_, bt))
    got = ef.grad(ln, argnums=(0, 1, 2))(x, gamma, beta)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-10)

    z, logits = f64(rng, 3, 4, low=0, high=1), f64(rng, 3, 4, low=-8, high=8)
    zt, lt_ = _t(z), _t(logits)
    want = torch.autograd.grad(F.binary_cross_entropy_with_logits(lt_, zt, reduction="sum"),
                               (zt, lt_))
    got = ef.grad(lambda z, x: ef.sum(ef.nn.sigmoid_cross_entropy_with_logits(labels=z,
                                                                               logits=x)),
                  argnums=(0, 1))(z, logits)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)
    (want,) = torch.autograd.grad(F.silu(lt_).sum(), lt_)
    np.testing.assert_allclose(ef.grad(lambda x: ef.sum(ef.nn.silu(x)))(logits).numpy(),
                               want.numpy(), rtol=1e-12, atol=1e-12)


def test_embedding_gradient_accumulates_repeated_ids():
    table = ef.zeros((4, 2), dtype=ef.float64)
    ids = ef.constant([[1, 3], [1, 1]])
    g = ef.grad(lambda p: ef.sum(ef.nn.embedding_lookup(p, ids)))(table)
    np.testing.assert_array_equal(g.numpy(), [[0, 0], [3, 3], [0, 0], [1, 1]])


# -- one tape step, Variables ----------------------------------------------------------------------

def test_composites_are_one_tape_step_and_conv_is_one_op():
    x = ef.ones((2, 4, 4, 3))
    with ef.GradientTape() as tape:
        tape.watch(x)
        ef.nn.silu(x)
        ef.nn.sigmoid_cross_entropy_with_logits(labels=ef.zeros((2, 4, 4, 3)), logits=x)
        ef.nn.moments(x, axes=[0, 1, 2])
        ef.nn.batch_norm(x, ef.zeros(3), ef.ones(3), None, None, 1e-3)
        ef.nn.layer_norm(x)
        ef.nn.conv2d(x, ef.ones((3, 3, 3, 2)), padding="SAME")
        ef.nn.max_pool2d(x, 2)
        ef.nn.avg_pool2d(x, 2)
    assert [e[0].name for e in tape._entries] == [
        "nn.silu", "nn.sigmoid_cross_entropy_with_logits", "nn.moments", "nn.batch_norm",
        "nn.layer_norm", "nn.conv2d", "nn.max_pool2d", "nn.avg_pool2d"]


def test_variables_are_watched_through_the_nn_ops():
    w = ef.Variable(np.random.default_rng(8).standard_normal((3, 3, 1, 2)), dtype=ef.float32)
    gamma = ef.Variable(ef.ones(2))
    x = ef.reshape(ef.arange(16.0), (1, 4, 4, 1))
    with ef.GradientTape() as tape:
        y = ef.nn.layer_norm(ef.nn.conv2d(x, w, padding="SAME"), scale=gamma)
        loss = ef.sum(ef.nn.max_pool2d(y, 2) ** 2)
    gw, gg = tape.gradient(loss, [w, gamma])
    assert gw.shape == (3, 3, 1, 2) and gg.shape == (2,)
    assert float(ef.sum(ef.abs(gw))) > 0 and float(ef.sum(ef.abs(gg))) > 0


def test_shape_and_dtype_rules_need_no_kernel():
    # An interpreter (ef.function) asks an op for its result without running it.
    from eagerflow_core._registry import OPS
    conv = OPS["nn.conv2d"]
    params = {"strides": (2, 2), "padding": ((0, 1), (1, 1)), "dilations": (1, 1), "groups": 1,
              "data_format": "NHWC"}
    assert conv.shape_rule((8, 6, 5, 3), (3, 3, 3, 4), **params) == (8, 3, 3, 4)
    assert conv.dtype_rule(ef.float16, ef.float16, **params) is ef.float16
    pool = {"ksize": (2, 2), "strides": (2, 2), "padding": ((0, 0), (0, 0)), "data_format": "NCHW"}
    assert OPS["nn.max_pool2d"].shape_rule((2, 3, 8, 6), **pool) == (2, 3, 4, 3)
    from eagerflow_core.nn import logistic, normalization
    assert normalization._moments.op.shape_rule((4, 5, 3), axes=(0, 1), keepdims=False) == \
        ((3,), (3,))
    assert logistic._sigmoid_ce.op.dtype_rule(ef.float32, ef.float64) is ef.float64
    with pytest.raises(ef.ShapeError, match="labels of shape"):
        logistic._sigmoid_ce.op.shape_rule((2,), (3,))


# -- forward mode ------------------------------------------------------------------------------------

def test_forward_mode_jvp_rules_match_finite_differences():
    from eagerflow_core._registry import OPS
    assert all(OPS[n].jvp is not None for n in OPS if n.startswith("nn."))  # no transposed VJP
    rng = np.random.default_rng(9)
    x, w = distinct(rng, 2, 5, 4, 3), f64(rng, 3, 2, 3, 4)
    tx, tw = f64(rng, 2, 5, 4, 3), f64(rng, 3, 2, 3, 4)

    def f(x, w):
        y = ef.nn.conv2d(x, w, strides=(2, 1), padding="SAME")
        return ef.nn.avg_pool2d(ef.nn.max_pool2d(y, 2, 1, "SAME"), 2, 1, "VALID")
    eps = 1e-6
    _, jvp = ef.jvp(f, (x, w), (tx, tw))
    numeric = (f(x + eps * tx, w + eps * tw) - f(x - eps * tx, w - eps * tw)) / (2 * eps)
    np.testing.assert_allclose(jvp.numpy(), numeric.numpy(), rtol=1e-6, atol=1e-7)
    # forward over reverse: a Hessian-vector product through the conv transposes
    g = ef.grad(lambda w: ef.sum(ef.nn.conv2d(x, w, padding="SAME") ** 2))
    _, hv = ef.jvp(g, (w,), (tw,))
    hv_rev = ef.grad(lambda w: ef.sum(g(w) * tw))(w)
    np.testing.assert_allclose(hv.numpy(), hv_rev.numpy(), rtol=1e-9, atol=1e-9)
