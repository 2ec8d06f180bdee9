"""Gradient rules of the special functions: first and second order against central
differences, against PyTorch's autograd on the same inputs, the closed forms (erf' =
2/sqrt(pi) exp(-x^2), lgamma' = digamma, ...), and the inputs without a gradient:
polygamma's order (None, as in TensorFlow) and igamma's ``a`` (a clear error).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core.testing import assert_close, check_grads

torch = pytest.importorskip("torch")

UNARY = {"erf": (-2.0, 2.0), "erfc": (-2.0, 2.0), "erfinv": (-0.9, 0.9), "lgamma": (0.3, 5.0),
         "digamma": (0.3, 5.0)}
TORCH = {"erf": torch.special.erf, "erfc": torch.special.erfc, "erfinv": torch.special.erfinv,
         "lgamma": torch.lgamma, "digamma": torch.special.digamma}


def _x(lo, hi, shape=(2, 3), seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_second_order(device, name):
    check_grads(getattr(ef, name), (ef.asarray(_x(*UNARY[name])),), order=2)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients_match_torch(device, name):
    x = _x(*UNARY[name])
    tx = torch.tensor(x, requires_grad=True)
    (first,) = torch.autograd.grad(TORCH[name](tx).sum(), tx, create_graph=True)
    second = torch.autograd.grad(first.sum(), tx)[0].numpy()
    f = getattr(ef, name)
    # torch's digamma' is its trigamma, good to ~5e-10 (ours: scipy's, to rounding)
    assert_close(ef.grad(lambda t: ef.sum(f(t)))(ef.asarray(x)), first.detach().numpy(),
                 rtol=1e-8, atol=1e-10)
    g2 = ef.grad(lambda t: ef.sum(ef.grad(lambda u: ef.sum(f(u)))(t)))(ef.asarray(x))
    assert_close(g2, second, rtol=1e-8, atol=1e-10)


def test_closed_form_derivatives(device):
    x = ef.asarray([0.5, 1.0, 2.0], dtype=ef.float64)
    assert_close(ef.grad(lambda t: ef.sum(ef.erf(t)))(x),
                 2 / math.sqrt(math.pi) * np.exp(-x.numpy() ** 2))
    assert_close(ef.grad(lambda t: ef.sum(ef.lgamma(t)))(x), ef.digamma(x).numpy())
    assert_close(ef.grad(lambda t: ef.sum(ef.digamma(t)))(x), ef.polygamma(1, x).numpy())
    assert_close(ef.grad(lambda t: ef.sum(ef.polygamma(2, t)))(x), ef.polygamma(3, x).numpy())
    # d/dx P(a, x) is the gamma density x^(a-1) e^-x / Gamma(a); at x = 0 with a = 1 it is 1
    xs = ef.asarray([0.0, 0.5, 3.0], dtype=ef.float64)
    assert_close(ef.grad(lambda t: ef.sum(ef.igamma(1.0, t)))(xs), np.exp(-xs.numpy()))
    assert_close(ef.grad(lambda t: ef.sum(ef.igammac(2.5, t)))(xs),
                 -xs.numpy() ** 1.5 * np.exp(-xs.numpy()) / math.gamma(2.5))


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_igamma_in_x_to_second_order_and_against_torch(device, name):
    a, x = _x(0.5, 3.0, (3,), seed=1), _x(0.25, 4.0, (2, 3), seed=2)
    check_grads(lambda t: getattr(ef, name)(ef.asarray(a), t), (ef.asarray(x),), order=2)
    fn = {"igamma": torch.special.gammainc, "igammac": torch.special.gammaincc}[name]
    tx = torch.tensor(x, requires_grad=True)
    (want,) = torch.autograd.grad(fn(torch.tensor(a), tx).sum(), tx)
    got = ef.grad(lambda t: ef.sum(getattr(ef, name)(ef.asarray(a), t)))(ef.asarray(x))
    assert_close(got, want.numpy())


def test_polygamma_second_order_in_x(device):
    x = ef.asarray(_x(0.5, 4.0))
    for order in (0, 1, 2):
        check_grads(lambda t, n=order: ef.polygamma(n, t), (x,), order=2)


def test_inputs_without_a_gradient(device):
    a, x = ef.asarray([1.0, 2.0]), ef.asarray([0.5, 1.5])
    with ef.GradientTape() as tape:
        tape.watch([a, x])
        y = ef.sum(ef.polygamma(a, x))
    ga, gx = tape.gradient(y, [a, x])
    assert ga is None and gx is not None  # the order is discrete (TensorFlow: None too)
    for name in ("igamma", "igammac"):
        fn = getattr(ef, name)
        with pytest.raises(ef.InvalidArgumentError,
                           match=rf"^{name}: no gradient with respect to a"):
            ef.grad(lambda t, fn=fn: ef.sum(fn(t, x)))(a)
        # stopping a's gradient leaves x's
        g = ef.grad(lambda t, fn=fn: ef.sum(fn(ef.stop_gradient(a), t)))(x)
        assert g.shape == x.shape
