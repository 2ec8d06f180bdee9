"""Data-parallel training of a small MLP with ``eagerflow_core.distributed``.

    python examples/distributed/train_mlp.py                  # one process (no MPI needed)
    mpirun -n 4 python examples/distributed/train_mlp.py      # four ranks on this machine
    mpirun -n 8 --hostfile hosts python examples/distributed/train_mlp.py   # across hosts
    srun -n 8 python examples/distributed/train_mlp.py        # under SLURM

Every rank makes the same synthetic data set (a fixed random "teacher" network labels random
inputs) and reads its own shard of it (``Dataset.shard(size, rank)``) in batches of
``--batch / size``; the DistributedOptimizer averages the gradients, so each step is a step on
a global batch of ``--batch`` examples.
"""

from __future__ import annotations

import argparse

import numpy as np

import eagerflow_core as ef
from eagerflow_core import distributed as dist

D, H, C = 20, 64, 5  # inputs, hidden units, classes


class SGD:
    """Plain SGD with Keras' ``apply_gradients``; ``ef.optimizers.SGD`` does the same."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    def apply_gradients(self, grads_and_vars):
        for g, v in grads_and_vars:
            if g is not None:
                v.assign_sub(self.learning_rate * g)


def make_data(n=4096):
    rng = np.random.default_rng(0)  # the same on every rank
    x = rng.normal(size=(n, D)).astype(np.float32)
    teacher = rng.normal(size=(D, C)).astype(np.float32)
    return x, np.argmax(x @ teacher, axis=1)


def make_model(seed):
    rng = np.random.default_rng(seed)
    return [ef.Variable(rng.normal(size=(D, H)).astype(np.float32) / np.sqrt(D), name="w1"),
            ef.Variable(np.zeros(H, np.float32), name="b1"),
            ef.Variable(rng.normal(size=(H, C)).astype(np.float32) / np.sqrt(H), name="w2"),
            ef.Variable(np.zeros(C, np.float32), name="b2")]


def logits_of(params, x):
    w1, b1, w2, b2 = params
    return ef.matmul(ef.nn.relu(ef.matmul(x, w1) + b1), w2) + b2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=256, help="global batch (all ranks)")
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--bucket-bytes", type=int, default=dist.DEFAULT_BUCKET_BYTES)
    parser.add_argument("--save", help="write the trained weights here (.npz), from rank 0")
    args = parser.parse_args()

    dist.init()  # reads the mpirun / srun environment; a world of one without it
    rank, size = dist.rank(), dist.size()
    if args.batch % size:
        parser.error(f"--batch {args.batch} must be a multiple of the {size} ranks")
    x_all, y_all = make_data()
    ds = (ef.data.Dataset.from_tensor_slices((x_all, y_all))
          .shard(size, rank)                   # this rank's examples: every size-th one
          .shuffle(len(x_all) // size, seed=rank)
          .batch(args.batch // size, drop_remainder=True)
          .repeat())
    params = make_model(seed=rank)  # different on every rank on purpose...
    dist.broadcast_variables(params, root=0)  # ...until rank 0's values are everyone's
    opt = dist.DistributedOptimizer(SGD(args.lr), bucket_bytes=args.bucket_bytes)
    dist.print0(f"training a {D}-{H}-{C} MLP on {size} rank{'s' if size > 1 else ''}, "
                f"global batch {args.batch}")

    for step, (x, y) in zip(range(1, args.steps + 1), ds):
        with ef.GradientTape() as tape:
            loss = ef.mean(ef.nn.sparse_softmax_cross_entropy_with_logits(
                labels=y, logits=logits_of(params, x)))
        opt.apply_gradients(zip(tape.gradient(loss, params), params))
        if step % 50 == 0 or step == args.steps:
            mean_loss = dist.all_reduce(loss, "mean")  # every rank calls it; rank 0 prints
            dist.print0(f"step {step} loss {float(mean_loss):.4f}")

    predictions = np.argmax(logits_of(params, ef.asarray(x_all)).numpy(), axis=1)
    dist.print0(f"accuracy {np.mean(predictions == y_all):.3f}")
    # The replicas are identical: every rank's checksum of its weights is the same.
    checksum = ef.asarray([float(np.sum(p.numpy(), dtype=np.float64)) for p in params])
    sums = dist.all_gather(checksum[None]).numpy()
    dist.print0(f"replicas identical: {bool((sums == sums[0]).all())}")
    if args.save:
        dist.save_on_rank0(np.savez, args.save, **{p.name: p.numpy() for p in params})
        dist.print0(f"saved {args.save}")


if __name__ == "__main__":
    main()
