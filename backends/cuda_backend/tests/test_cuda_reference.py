"""The NumPy references of the fused kernels (eagerflow_cuda/reference.py, _philox.py) against
independent implementations: PyTorch 2.13 (values and autograd gradients, float64), eagerflow's
own composites on the CPU, Keras' Adam written out by hand, and Random123's known answers for
Philox. test_cuda_kernels.py then ties every kernel to these references."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import eagerflow_core as ef
from eagerflow_cuda import _launch, _philox, reference as R

pytestmark = pytest.mark.cpu_only  # make gpu-check leaves it out

RNG = np.random.default_rng(11)


def _t(a, grad=True):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _vjp(out, inputs, g):
    return torch.autograd.grad(out, inputs, torch.tensor(g, dtype=torch.float64))


@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 7), (4, 1)])
def test_softmax_family_matches_pytorch(shape):
    x = RNG.standard_normal(shape) * 5
    g = RNG.standard_normal(shape)
    for name, fn in (("softmax", torch.softmax), ("log_softmax", torch.log_softmax)):
        xt = _t(x)
        yt = fn(xt, dim=-1)
        y = getattr(R, name)(x)
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-13, atol=1e-14)
        (dx,) = _vjp(yt, xt, g)
        np.testing.assert_allclose(getattr(R, f"{name}_grad")(g, y), dx.numpy(), rtol=1e-12,
                                   atol=1e-13)


def test_softmax_edge_rows_match_eagerflows_composites():
    x = np.array([[1000.0, 1000.0, -np.inf], [-np.inf] * 3, [np.inf, 0.0, 1.0], [0.0, 1e-30, 2.0],
                  [-1000.0, -1001.0, -1002.0]], np.float32)
    with ef.device("cpu"), np.errstate(invalid="ignore"):  # NaN rows on purpose
        for name in ("softmax", "log_softmax"):
            want = getattr(ef.nn, name)(ef.asarray(x)).numpy()
            np.testing.assert_allclose(getattr(R, name)(x), want, rtol=1e-6, atol=1e-6,
                                       equal_nan=True)


def test_sparse_cross_entropy_matches_pytorch_and_the_composite():
    logits = RNG.standard_normal((6, 9)) * 4
    logits[0, 0] = 1e4
    labels = RNG.integers(0, 9, 6)
    xt = _t(logits)
    lt = F.cross_entropy(xt, torch.tensor(labels), reduction="none")
    loss, lse = R.sparse_softmax_cross_entropy(labels, logits)
    np.testing.assert_allclose(loss, lt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lse, torch.logsumexp(xt, -1).detach().numpy(), rtol=1e-14)
    g = RNG.standard_normal(6)
    (dx,) = _vjp(lt, xt, g)
    np.testing.assert_allclose(R.sparse_softmax_cross_entropy_grad(g, labels, logits, lse),
                               dx.numpy(), rtol=1e-12, atol=1e-13)
    with ef.device("cpu"):
        want = ef.nn.sparse_softmax_cross_entropy_with_logits(
            ef.asarray(labels), ef.asarray(logits.astype(np.float32))).numpy()
    np.testing.assert_allclose(R.sparse_softmax_cross_entropy(labels, logits.astype(np.float32))[0],
                               want, rtol=1e-5)
    bad = R.sparse_softmax_cross_entropy(np.array([9, -1, 2]), logits[:3])[0]
    assert np.isnan(bad[:2]).all() and np.isfinite(bad[2])


@pytest.mark.parametrize("with_params", [True, False])
def test_layer_norm_matches_pytorch(with_params):
    x = RNG.standard_normal((5, 3, 16)) * 2 + 3
    gamma = RNG.standard_normal(16) if with_params else None
    beta = RNG.standard_normal(16) if with_params else None
    xt = _t(x)
    gt, bt = (_t(gamma), _t(beta)) if with_params else (None, None)
    yt = F.layer_norm(xt, (16,), gt, bt, eps=1e-5)
    y, mean, rstd = R.layer_norm(x, gamma, beta, 1e-5)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mean, x.mean(-1))
    np.testing.assert_allclose(rstd, 1 / np.sqrt(x.var(-1) + 1e-5))
    g = RNG.standard_normal(x.shape)
    grads = _vjp(yt, [xt, gt, bt] if with_params else [xt], g)
    dx, dgamma, dbeta = R.layer_norm_grad(g, x, mean, rstd, gamma)
    np.testing.assert_allclose(dx, grads[0].numpy(), rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(dbeta, g.sum(axis=(0, 1)), rtol=1e-12)
    if with_params:
        np.testing.assert_allclose(dgamma, grads[1].numpy(), rtol=1e-10, atol=1e-11)
        np.testing.assert_allclose(dbeta, grads[2].numpy(), rtol=1e-12)


TORCH_ACTS = {"relu": F.relu, "gelu_tanh": lambda z: F.gelu(z, approximate="tanh"),
              "gelu_erf": F.gelu, "silu": F.silu, "none": lambda z: z}


@pytest.mark.parametrize("act", list(TORCH_ACTS))
def test_activations_and_the_bias_epilogue_match_pytorch(act):
    x = RNG.standard_normal((7, 6)) * 3
    x[0, 0] = 0.0  # relu's derivative at 0 is 0
    b = RNG.standard_normal(6)
    xt, btt = _t(x), _t(b)
    yt = TORCH_ACTS[act](xt + btt)
    np.testing.assert_allclose(R.bias_act(x, b, act), yt.detach().numpy(), rtol=1e-12,
                               atol=1e-14)
    g = RNG.standard_normal(x.shape)
    dx, db = _vjp(yt, [xt, btt], g)
    got_dx, got_db = R.bias_act_grad(g, x, b, act)
    np.testing.assert_allclose(got_dx, dx.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got_db, db.numpy(), rtol=1e-12, atol=1e-13)
    assert R.bias_act_grad(g, x, None, act)[1] is None


def test_relu_passes_nan_and_gelu_matches_eagerflows_composite():
    z = np.array([np.nan, -1.0, 2.0])
    assert np.isnan(R.act(z, "relu")[0])
    x = np.linspace(-6, 6, 41).astype(np.float32)
    with ef.device("cpu"):
        want = ef.nn.gelu(ef.asarray(x)).numpy()
    np.testing.assert_allclose(R.bias_act(x, None, "gelu_tanh"), want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_adam_is_pytorchs_adam_and_adamw_when_epsilon_vanishes(weight_decay):
    p0 = RNG.standard_normal(10)
    grads = [RNG.standard_normal(10) for _ in range(4)]
    pt = torch.tensor(p0, requires_grad=True)
    cls = torch.optim.AdamW if weight_decay else torch.optim.Adam
    opt = cls([pt], lr=0.01, betas=(0.9, 0.99), eps=1e-300, weight_decay=weight_decay)
    p, m, v = p0.copy(), np.zeros(10), np.zeros(10)
    for step, g in enumerate(grads, start=1):
        pt.grad = torch.tensor(g)
        opt.step()
        p, m, v = R.adam(p, g, m, v, *R.adam_hyper(0.01, 0.9, 0.99, 1e-300, step, weight_decay))
    np.testing.assert_allclose(p, pt.detach().numpy(), rtol=1e-12)


def test_adam_folds_the_bias_correction_into_the_step_as_keras_does():
    # Keras 3 Adam, written out: alpha = lr * sqrt(1 - b2^t) / (1 - b1^t);
    # m += (g - m) * (1 - b1); v += (g^2 - v) * (1 - b2); p -= m * alpha / (sqrt(v) + eps)
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-7
    p, m, v = np.array([0.5, -2.0]), np.array([0.1, 0.0]), np.array([0.01, 0.0])
    g = np.array([0.3, 1e-9])
    t = 7
    alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    m_want = m + (g - m) * (1 - b1)
    v_want = v + (g * g - v) * (1 - b2)
    p_want = p - m_want * alpha / (np.sqrt(v_want) + eps)
    got = R.adam(p, g, m, v, *R.adam_hyper(lr, b1, b2, eps, t))
    for a, b in zip(got, (p_want, m_want, v_want)):
        np.testing.assert_allclose(a, b, rtol=1e-15)


# -- Philox ------------------------------------------------------------------------------------

KAT = [((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
       ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
       ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1))]


@pytest.mark.parametrize("ctr, key, want", KAT)
def test_philox_known_answers(ctr, key, want):
    # Random123's kat_vectors (Salmon et al.), the tests TensorFlow's Philox also passes
    assert _philox.philox4x32_10(ctr, key) == want
    counter = ctr[0] | ctr[1] << 32 | ctr[2] << 64 | ctr[3] << 96
    assert tuple(int(w) for w in _philox.words(key[0] | key[1] << 32, counter, 1)[0]) == want


def test_philox_counter_carries_into_the_high_words():
    w = _philox.words(5, 2**64 - 1, 2)
    assert tuple(w[1]) == _philox.philox4x32_10((0, 0, 1, 0), (5, 0))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64"])
def test_consecutive_draws_continue_one_stream(dtype):
    per = _launch.philox_per_group(dtype)
    a = _philox.uniform(3, 10, (4 * per,), dtype)
    b = _philox.uniform(3, 10 + _launch.counters_used(a.size, dtype), (6,), dtype)
    np.testing.assert_array_equal(np.concatenate([a, b]), _philox.uniform(3, 10, (4 * per + 6,),
                                                                          dtype))
    assert not np.array_equal(_philox.uniform(4, 10, (8,), dtype), _philox.uniform(3, 10, (8,),
                                                                                  dtype))


def test_uniforms_stay_below_one_at_the_largest_word():
    top = np.array([0xFFFFFFFF], np.uint32)
    assert (top >> 8).astype(np.float32) * np.float32(2**-24) < 1
    assert np.float16((top >> 21).astype(np.float32)[0] * 2**-11) < 1
    assert float(_philox._u53(top, top)[0]) * 2**-53 < 1


def test_normals_have_the_right_moments():
    for dtype in ("float32", "float64"):
        z = _philox.normal(1, 0, (200_000,), dtype).astype(np.float64)
        assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
        assert abs(np.mean(z ** 3)) < 0.03 and abs(np.mean(z ** 4) - 3) < 0.06
    u = _philox.uniform(1, 0, (200_000,), "float32").astype(np.float64)
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
