"""Gradients of the NN ops of issue #7 (conv, pooling, normalisation, losses, activations):
first and second order against central differences (``check_grads``), the conv transpose
rules that make higher orders work, and the precision of ``logsumexp``'s gradient."""

from __future__ import annotations

import numpy as np
import pytest

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
