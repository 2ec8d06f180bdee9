"""On a GPU: the core reaches the CUDA backend's own kernels - the fused nn composites and the
fused Adam by their core names, conv/pooling, the generic kernels of ops CuPy lacks - and they
give the CPU's results. Skipped, with the reason, where no GPU is usable (and then a failure
under EAGERFLOW_REQUIRE_GPU=1, as in make gpu-check)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core._registry import OPS
from eagerflow_cuda import CupyBackend, fused

AVAILABLE, REASON = CupyBackend().is_available()
pytestmark = pytest.mark.skipif(not AVAILABLE, reason=f"no CUDA device: {REASON}")

RNG = np.random.default_rng(21)


def both(*shape, dtype=np.float32, scale=2.0):
    a = (RNG.standard_normal(shape) * scale).astype(dtype)
    return ef.asarray(a, device="cpu"), ef.asarray(a, device="cuda")


def close(got, want, tol=2e-5):
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=tol, atol=tol)


def test_every_core_op_has_a_kernel_on_the_device():
    kernels = ef.device("cuda").kernels
    assert [n for n, op in OPS.items() if op.needs_kernel and n not in kernels] == []
    for name, method in fused.CORE_NAMES.items():
        assert getattr(kernels[name], "__name__", "") == method, name


NN = [
    ("softmax", lambda x: ef.nn.softmax(x)),
    ("log_softmax", lambda x: ef.nn.log_softmax(x, axis=0)),
    ("sparse_xent", lambda x: ef.nn.sparse_softmax_cross_entropy_with_logits(
        ef.asarray(np.arange(x.shape[0]) % x.shape[-1], device=x.device), x)),
    ("layer_norm", lambda x: ef.nn.layer_norm(x)),
    ("gelu", lambda x: ef.nn.gelu(x)),
    ("silu", lambda x: ef.nn.silu(x)),
]


@pytest.mark.parametrize("name, fn", NN, ids=[n for n, _ in NN])
def test_nn_functions_on_cuda_match_the_cpu_eagerly_and_under_a_tape(name, fn):
    xc, xg = both(64, 300)

    def run(x):
        with ef.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
            loss = ef.sum(y * ef.cos(y))
        return fn(x), y, tape.gradient(loss, x)

    for got, want in zip(run(xg), run(xc)):
        close(got, want, 1e-4)


def test_conv_pool_and_generic_kernels_on_cuda_match_the_cpu():
    xc, xg = both(2, 9, 8, 3)
    wc, wg = both(3, 3, 3, 4)

    def f(x, w):
        y = ef.nn.conv2d(x, w, strides=2, padding="SAME")
        return ef.sum(ef.nn.max_pool2d(y, 2) ** 2) + ef.sum(ef.nn.avg_pool2d(y, 2, padding="SAME"))

    for got, want in zip(ef.grad(f, argnums=(0, 1))(xg, wg), ef.grad(f, argnums=(0, 1))(xc, wc)):
        close(got, want, 1e-4)
    mc, mg = both(3, 4, 5)
    for ord in (2, 1, math.inf, 0.5):
        close(ef.linalg.vector_norm(mg, axis=(0, 2), ord=ord),
              ef.linalg.vector_norm(mc, axis=(0, 2), ord=ord), 1e-5)
    for ord in ("fro", "nuc", 2, -1, math.inf):
        close(ef.linalg.matrix_norm(mg, ord=ord), ef.linalg.matrix_norm(mc, ord=ord), 1e-4)
    close(ef.linalg.trace(mg, offset=1), ef.linalg.trace(mc, offset=1))
    close(ef.vecdot(mg, mg), ef.vecdot(mc, mc), 1e-5)
    pc, pg = ef.abs(mc) + 0.1, ef.abs(mg) + 0.1
    for fn in (ef.erf, ef.lgamma, ef.digamma):
        close(fn(pg), fn(pc), 1e-5)


@pytest.mark.parametrize("make", [lambda: ef.optimizers.Adam(0.01),
                                  lambda: ef.optimizers.AdamW(0.01, weight_decay=0.1),
                                  lambda: ef.optimizers.Adam(0.01, amsgrad=True),
                                  lambda: ef.optimizers.RMSprop(0.01, centered=True)])
def test_optimizers_on_cuda_follow_the_cpu(make):
    start = RNG.standard_normal((32, 16)).astype(np.float32)
    grads = [RNG.standard_normal((32, 16)).astype(np.float32) for _ in range(3)]

    def train(device):
        w = ef.Variable(ef.asarray(start, device=device))
        opt = make()
        for g in grads:
            opt.apply_gradients([(ef.asarray(g, device=device), w)])
        return w

    close(train("cuda"), train("cpu"), 1e-5)
