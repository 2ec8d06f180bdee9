"""Every collective, on every rank, against a NumPy reference (mpirun -n 2 and -n 3).

Each rank's input is ``data(rank, ...)``, which every rank can recompute, so each rank checks
its own result against NumPy applied to all the ranks' inputs. Check mode is on: the
mismatch section makes ranks disagree on purpose and expects the error on every rank.
"""

from __future__ import annotations

import numpy as np
from _common import check_equal, data, expect_error, gathered_ref, reduce_ref

import eagerflow_core as ef
from eagerflow_core import distributed as dist

dist.init(check=True)
r, n = dist.rank(), dist.size()

DTYPES = ["float32", "float64", "float16", "bfloat16", "int8", "int32", "int64", "uint8",
          "uint16", "bool", "complex64"]
SHAPES = [(), (0,), (5,), (3, 4)]


def everyone(shape, dtype, seed=0):
    return [data(k, shape, dtype, seed) for k in range(n)]


def ops_for(dtype):
    if dtype == "bool":
        return ["max", "min"]
    if dtype.startswith("complex"):
        return ["sum", "mean"]
    if dtype.startswith(("int", "uint")):
        return ["sum", "max", "min"]
    return ["sum", "mean", "max", "min"]


# -- every collective x dtype x shape --------------------------------------------------------

for dtype in DTYPES:
    for shape in SHAPES:
        arrs = everyone(shape, dtype)
        x = ef.asarray(arrs[r])
        tag = f"{dtype}{list(shape)}"
        for op in ops_for(dtype):
            got = dist.all_reduce(x, op)
            assert got.dtype == x.dtype and got.device == x.device, (got.dtype, x.dtype)
            check_equal(r, f"all_reduce {op} {tag}", got.numpy(), reduce_ref(arrs, op, dtype),
                        dtype)
        for root in sorted({0, n - 1}):
            got = dist.broadcast(x, root=root)
            check_equal(r, f"broadcast root={root} {tag}", got.numpy(), arrs[root], dtype)
        check_equal(r, f"all_gather {tag}", dist.all_gather(x).numpy(), gathered_ref(arrs),
                    dtype)
        got = dist.gather(x, root=n - 1)
        if r == n - 1:
            check_equal(r, f"gather {tag}", got.numpy(), gathered_ref(arrs), dtype)
        else:
            assert got is None, f"rank {r}: gather off the root returned {got!r}"

    # Axis 0 split into one block per rank.
    shape = (2 * n, 3)
    arrs = everyone(shape, dtype, seed=1)
    x = ef.asarray(arrs[r])
    for op in ops_for(dtype):
        got = dist.reduce_scatter(x, op)
        want = reduce_ref(arrs, op, dtype)[2 * r:2 * r + 2]
        check_equal(r, f"reduce_scatter {op} {dtype}", got.numpy(), want, dtype)
    root = n - 1
    got = dist.scatter(x if r == root else None, root=root)
    assert got.dtype == x.dtype, (got.dtype, x.dtype)
    check_equal(r, f"scatter {dtype}", got.numpy(), arrs[root][2 * r:2 * r + 2], dtype)

# -- inputs that are not contiguous, Variables, large messages --------------------------------

arrs = everyone((6, 8), "float32", seed=2)
view = ef.permute_dims(ef.asarray(arrs[r]), (1, 0))[::2]  # a strided view: copied for MPI
assert not view.raw.flags.c_contiguous
check_equal(r, "all_reduce of a view", dist.all_reduce(view).numpy(),
            sum(a.T[::2] for a in arrs), "float32")
check_equal(r, "all_gather of a view", dist.all_gather(view).numpy(),
            np.concatenate([a.T[::2] for a in arrs]), "float32")
v = ef.Variable(arrs[r])
check_equal(r, "all_reduce of a Variable", dist.all_reduce(v, "max").numpy(),
            np.max(arrs, axis=0), "float32")
x_before = arrs[r].copy()
dist.all_reduce(ef.asarray(arrs[r]))
assert np.array_equal(arrs[r], x_before), "an input was written to"

big = everyone((1 << 18,), "float32", seed=3)  # 1 MiB: MPI's rendezvous protocol
for _ in range(3):  # the output buffers are recycled between calls: results stay right
    out = dist.all_reduce(ef.asarray(big[r]), "mean")
    check_equal(r, "all_reduce 1 MiB", out.numpy(), sum(big) / n, "float32")
kept = dist.all_reduce(ef.asarray(big[r]))       # held while the next call runs
again = dist.all_reduce(ef.asarray(big[(r + 1) % n]))
check_equal(r, "a held result is not recycled", kept.numpy(), sum(big), "float32")
check_equal(r, "the next result", again.numpy(), sum(big), "float32")

# -- send / recv around a ring: even ranks send first (a blocking ring would deadlock) -------

for size in (7, 1 << 17):
    nxt, prv = (r + 1) % n, (r - 1) % n
    mine = data(r, (size,), "float64", seed=4)
    if r % 2 == 0:
        dist.send(ef.asarray(mine), dest=nxt, tag=3)
        got = dist.recv(source=prv, tag=3)
    else:
        got = dist.recv(source=prv, tag=3)
        dist.send(ef.asarray(mine), dest=nxt, tag=3)
    check_equal(r, f"recv {size} from {prv}", got.numpy(), data(prv, (size,), "float64", 4),
                "float64")
if r == 0:
    dist.send(ef.asarray(np.arange(6, dtype=np.int16).reshape(2, 3)), dest=n - 1, tag=7)
if r == n - 1:
    got = dist.recv(source=0, tag=7)
    assert got.dtype == ef.int16 and got.shape == (2, 3), (got.dtype, got.shape)
dist.barrier()

# -- argument errors: raised on every rank before any message moves -------------------------

x = ef.ones((2, 3))
expect_error(r, "bad op", ef.InvalidArgumentError, "op='prod'", lambda: dist.all_reduce(x, "prod"))
expect_error(r, "bool sum", ef.DTypeError, "bool", lambda: dist.all_reduce(ef.ones(2, dtype=ef.bool)))
expect_error(r, "complex max", ef.DTypeError, "complex numbers have no order",
             lambda: dist.all_reduce(ef.ones(2, dtype=ef.complex64), "max"))
expect_error(r, "int mean", ef.DTypeError, "op='mean' needs a floating-point",
             lambda: dist.all_reduce(ef.ones(2, dtype=ef.int32), "mean"))
expect_error(r, "bad root", ef.InvalidArgumentError, f"root={n} is not a rank",
             lambda: dist.broadcast(x, root=n))
expect_error(r, "indivisible", ef.ShapeError, f"into {n} equal blocks",
             lambda: dist.reduce_scatter(ef.ones((2 * n + 1, 2))))
expect_error(r, "bad tag", ef.InvalidArgumentError, "tag=-1", lambda: dist.send(x, 0, tag=-1))

# -- check mode: ranks that disagree all raise, naming each rank's call ---------------------

last = n - 1
msg = expect_error(r, "shape mismatch", dist.CollectiveMismatchError, "disagree on the shape",
                   lambda: dist.all_reduce(ef.ones((4, 3 if r != last else 2))))
assert "float32[4, 3]" in msg and "float32[4, 2]" in msg and f"rank {last}:" in msg, msg
msg = expect_error(r, "dtype mismatch", dist.CollectiveMismatchError, "the dtype",
                   lambda: dist.all_gather(ef.ones(3, dtype=ef.float64 if r == 0 else ef.float32)))
assert "rank 0: all_gather() float64[3]" in msg, msg
msg = expect_error(r, "collective mismatch", dist.CollectiveMismatchError, "the collective",
                   lambda: dist.broadcast(x) if r == 0 else dist.all_reduce(x))
assert "broadcast(root=0) float32[2, 3]" in msg and "all_reduce(op=sum) float32[2, 3]" in msg
expect_error(r, "root mismatch", dist.CollectiveMismatchError, "the root",
             lambda: dist.broadcast(x, root=r % 2))
# The world still works: nothing was sent while the headers disagreed.
check_equal(r, "after the mismatches", dist.all_reduce(ef.ones(2)).numpy(), np.full(2, n),
            "float32")

# -- gradients: rank r's loss is sum(c_r * collective(x_r)); the tape of each rank gets the
# derivative of the sum of all ranks' losses with respect to its own input -----------------

shape = (2 * n, 2)
xs = everyone(shape, "float64", seed=5)
cs = everyone(shape, "float64", seed=6)
x = ef.asarray(xs[r])


def grad_of(fn, c):
    with ef.GradientTape() as tape:
        tape.watch(x)
        loss = ef.sum(ef.asarray(c) * fn(x))
    return tape.gradient(loss, x).numpy()


check_equal(r, "d all_reduce sum", grad_of(lambda t: dist.all_reduce(t), cs[r]), sum(cs),
            "float64")
check_equal(r, "d all_reduce mean", grad_of(lambda t: dist.all_reduce(t, "mean"), cs[r]),
            sum(cs) / n, "float64")
ties = [np.where(np.arange(2 * n * 2).reshape(shape) % 3 == 0, 1.0, a) for a in xs]  # equal maxima
x = ef.asarray(ties[r])
hit = [a == np.max(ties, axis=0) for a in ties]
check_equal(r, "d all_reduce max (ties share)", grad_of(lambda t: dist.all_reduce(t, "max"), cs[r]),
            sum(cs) * hit[r] / np.sum(hit, axis=0), "float64")
x = ef.asarray(xs[r])
gathered_cs = everyone((n * 2 * n, 2), "float64", seed=7)
check_equal(r, "d all_gather", grad_of(dist.all_gather, gathered_cs[r]),
            sum(c[r * 2 * n:(r + 1) * 2 * n] for c in gathered_cs), "float64")
block_cs = everyone((2, 2), "float64", seed=8)
check_equal(r, "d reduce_scatter", grad_of(dist.reduce_scatter, block_cs[r]),
            np.concatenate(block_cs), "float64")
lo = [a == np.min(xs, axis=0) for a in xs]
want = np.concatenate(block_cs) * lo[r] / np.sum(lo, axis=0)
check_equal(r, "d reduce_scatter min", grad_of(lambda t: dist.reduce_scatter(t, "min"),
                                               block_cs[r]), want, "float64")
for root in sorted({0, n - 1}):
    want = sum(cs) if r == root else np.zeros(shape)
    check_equal(r, f"d broadcast root={root}", grad_of(lambda t: dist.broadcast(t, root), cs[r]),
                want, "float64")

# Second order through nested tapes: y = all_reduce(x); L_r = sum(c_r * y * y);
# dL/dx_r = 2 y C (C = sum of c); the sum of that over ranks, differentiated again: 2 C n.
with ef.GradientTape() as outer:
    outer.watch(x)
    with ef.GradientTape() as inner:
        inner.watch(x)
        y = dist.all_reduce(x)
        loss = ef.sum(ef.asarray(cs[r]) * y * y)
    g = inner.gradient(loss, x)
    check_equal(r, "first order", g.numpy(), 2 * sum(xs) * sum(cs), "float64")
    total = ef.sum(g)
check_equal(r, "second order", outer.gradient(total, x).numpy(), 2 * sum(cs) * n, "float64")

dist.barrier()
print(f"rank {r} of {n}: collectives OK", flush=True)
