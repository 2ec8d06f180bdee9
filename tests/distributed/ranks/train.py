"""Data-parallel training of a small MLP: after N steps every rank holds bit-identical
parameters, equal (to float tolerance) to one process training on the concatenated batch.

Each rank starts from different random values (its own seed); ``broadcast_variables`` makes
rank 0's the start everywhere. Every rank also trains the single-process reference itself (on
the whole batch, with the same optimizer), so each rank checks its own replica. The optimizer
is ``ef.optimizers.SGD``: the wrapper must drive a real one (its fused in-place updates, its
step counter, its None-gradient rule).
"""

from __future__ import annotations

import warnings

import numpy as np

import eagerflow_core as ef
from eagerflow_core import distributed as dist

dist.init()
r, n = dist.rank(), dist.size()
BATCH, D, H, C, STEPS, LR = 6, 10, 16, 4, 5, 0.5

rng = np.random.default_rng(7)
X = rng.normal(size=(n * BATCH, D)).astype(np.float32)
Y = rng.integers(0, C, n * BATCH)


# "unused" has no gradient: the optimizer skips it and says so once per step (Keras' warning).
warnings.filterwarnings("ignore", message="Gradients do not exist for variables")


def make_params(seed):
    g = np.random.default_rng(seed)
    return [ef.Variable(g.normal(size=(D, H)).astype(np.float32) * 0.3, name="w1"),
            ef.Variable(np.zeros(H, np.float32), name="b1"),
            ef.Variable(g.normal(size=(H, C)).astype(np.float32) * 0.3, name="w2"),
            ef.Variable(np.zeros(C, np.float32), name="b2"),
            ef.Variable(g.normal(size=(3,)), name="z64"),      # a float64 bucket of its own
            ef.Variable(np.ones(2, np.float32), name="unused")]  # no gradient: skipped


def loss_fn(params, x, y):
    w1, b1, w2, b2, z, _ = params
    h = ef.nn.relu(ef.matmul(ef.asarray(x), w1) + b1)
    logits = ef.matmul(h, w2) + b2
    ce = ef.mean(ef.nn.sparse_softmax_cross_entropy_with_logits(labels=ef.asarray(y),
                                                                 logits=logits))
    return ce + 0.1 * ef.sum((z - 1.0) ** 2)


def train(bucket_bytes, use_minimize):
    params = make_params(seed=100 + r)                 # a different start on every rank
    dist.broadcast_variables(params, root=0)
    start = make_params(seed=100)                      # rank 0's
    for p, q in zip(params, start):
        assert np.array_equal(p.numpy(), q.numpy()), f"rank {r}: {p.name} not broadcast"
    ref = make_params(seed=100)
    inner, ref_opt = ef.optimizers.SGD(LR), ef.optimizers.SGD(LR)
    opt = dist.DistributedOptimizer(inner, bucket_bytes=bucket_bytes)
    assert float(opt.learning_rate) == LR              # attributes are the wrapped optimizer's
    shard = slice(r * BATCH, (r + 1) * BATCH)
    for _ in range(STEPS):
        if use_minimize:
            opt.minimize(lambda: loss_fn(params, X[shard], Y[shard]), params)
        else:
            with ef.GradientTape() as tape:
                loss = loss_fn(params, X[shard], Y[shard])
            opt.apply_gradients(zip(tape.gradient(loss, params), params))
        with ef.GradientTape() as tape:
            loss = loss_fn(ref, X, Y)
        ref_opt.apply_gradients(zip(tape.gradient(loss, ref), ref))
    assert int(opt.iterations) == STEPS
    for p, q, p0 in zip(params, ref, start):
        got, want = p.numpy(), q.numpy()
        tol = 1e-12 if got.dtype == np.float64 else 2e-6
        assert np.allclose(got, want, rtol=tol, atol=tol), \
            f"rank {r}: {p.name} differs from single-process training by " \
            f"{np.max(np.abs(got - want))}"
        trained = not np.array_equal(got, p0.numpy())
        assert trained == (p.name != "unused"), f"rank {r}: {p.name} trained: {trained}"
    # Bit-identical replicas: gather every rank's bytes and compare them with rank 0's.
    for p in params:
        raw = ef.asarray(np.frombuffer(p.numpy().tobytes(), np.uint8))
        rows = dist.all_gather(raw).numpy().reshape(n, -1)
        assert (rows == rows[0]).all(), f"rank {r}: {p.name} differs between ranks"
    return opt


# One bucket per dtype; tiny buckets (every tensor alone); buckets mixing a few tensors.
for bucket_bytes, use_minimize in ((1 << 20, False), (64, False), (700, True)):
    train(bucket_bytes, use_minimize)
print(f"rank {r} of {n}: training OK", flush=True)
