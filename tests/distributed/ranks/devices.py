"""Communicators per device (mpirun -n 2): a backend plugin's own communicator; a device
without one goes through host memory as a counted fallback (refused by default); and NCCL's
communicator, run on stand-in CuPy/NCCL modules whose collectives go over MPI between these
processes, gives NumPy's answers with the pointers, counts and datatypes it computes.
"""

from __future__ import annotations

import warnings

import numpy as np
from _common import check_equal, data, expect_error, gathered_ref, reduce_ref
from mpi4py import MPI

import fake_cupy  # noqa: I001  (found through _common's sys.path entry)

import eagerflow_core as ef
from eagerflow_core import distributed as dist
from eagerflow_core.distributed import _select, _world
from eagerflow_core.distributed._mpi import MPICommunicator
from eagerflow_cuda.nccl import NcclCommunicator
from eagerflow_core.plugins import ArrayAPIBackend, hookimpl, register_plugin

dist.init(check=True)
r, n = dist.rank(), dist.size()


class HostToy(ArrayAPIBackend):
    """NumPy arrays on a device type of its own, with no communicator."""

    name = device_type = "hosttoy"
    namespace, array_type, priority = np, np.ndarray, -10

    def from_host(self, array, index):
        return np.array(array, copy=True)


class CountingComm(MPICommunicator):
    """A plugin's communicator: MPI on its own duplicate of the world, counting its calls."""

    name = "counting"

    def __init__(self, info):
        super().__init__(info.mpi_comm.Dup(), MPI)
        self.calls = 0
        self.token = info.broadcast_bytes(b"from-rank-0" if info.rank == 0 else None, 0)

    def all_reduce(self, x, op):
        self.calls += 1
        return super().all_reduce(x, op)


class CommToy(HostToy):
    name = device_type = "commtoy"

    def communicator(self, info):
        assert (info.rank, info.size, str(info.device)) == (r, n, "commtoy:0"), info
        return CountingComm(info)


class Plugin:
    def __init__(self, cls):
        self.cls = cls

    @hookimpl
    def eagerflow_backend(self):
        return self.cls()


register_plugin(Plugin(HostToy), "hosttoy")
register_plugin(Plugin(CommToy), "commtoy")
arrs = [data(k, (3, 4), "float32") for k in range(n)]

# -- a plugin's communicator is used as is, and is no fallback ------------------------------
ef.reset_fallback_stats()
x = ef.asarray(arrs[r], device="commtoy")
got = dist.all_reduce(x)
assert str(got.device) == "commtoy:0", got.device
check_equal(r, "plugin all_reduce", got.numpy(), sum(arrs), "float32")
comm = dist.communicator("commtoy")
assert comm.name == "counting" and comm.calls == 1 and comm.token == b"from-rank-0", comm
check_equal(r, "plugin all_gather (its MPICommunicator's)", dist.all_gather(x).numpy(),
            np.concatenate(arrs), "float32")
assert ef.fallback_stats() == {}, ef.fallback_stats()

# -- no communicator: refused under EAGERFLOW_FALLBACK=error, staged and counted otherwise --
x = ef.asarray(arrs[r], device="hosttoy")
expect_error(r, "staging refused", dist.DistributedError, "EAGERFLOW_FALLBACK=error",
             lambda: dist.all_reduce(x))
ef.set_fallback_policy("warn")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    got = dist.all_reduce(x, "max")
    assert str(got.device) == "hosttoy:0" and type(got.raw) is np.ndarray, got.device
    check_equal(r, "staged all_reduce", got.numpy(), np.max(arrs, axis=0), "float32")
    check_equal(r, "staged all_reduce again", dist.all_reduce(x).numpy(), sum(arrs), "float32")
    check_equal(r, "staged broadcast", dist.broadcast(x, root=n - 1).numpy(), arrs[n - 1],
                "float32")
    scattered = dist.scatter(ef.asarray(np.arange(2.0 * n), device="hosttoy") if r == 0
                             else None, root=0, device="hosttoy")
    assert str(scattered.device) == "hosttoy:0"
    check_equal(r, "staged scatter", scattered.numpy(), [2.0 * r, 2.0 * r + 1], "float64")
fallback_warnings = [w for w in caught if issubclass(w.category, ef.FallbackWarning)]
assert len(fallback_warnings) == 1, [str(w.message) for w in caught]
assert "staged through host memory" in str(fallback_warnings[0].message)
stats = ef.fallback_stats()
assert stats[("distributed.all_reduce", "hosttoy", "numpy")] == 2, stats
assert stats[("distributed.scatter", "hosttoy", "numpy")] == 1, stats
ef.set_fallback_policy("error")  # the communicator exists now; each call asks again
expect_error(r, "staging refused later", dist.DistributedError, "refuses the host-memory",
             lambda: dist.all_reduce(x))
ef.set_fallback_policy(None)

# -- NCCL's communicator on stand-in modules, collectives over MPI --------------------------
fake_device = type("FakeCuda", (), {"index": 0, "__str__": lambda self: "cuda:0"})()
for uid_as_bytes in (False, True):
    cupy, nccl = fake_cupy.make(MPI.COMM_WORLD.Dup(), uid_as_bytes=uid_as_bytes, seed=r)
    comm = NcclCommunicator(_select.comm_info(fake_device), cupy=cupy, nccl=nccl)
    init = next(c for c in nccl.calls if c[0] == "init")
    uid = init[2]
    assert isinstance(uid, bytes if uid_as_bytes else tuple), type(uid)
    assert init[1] == n and init[3] == r, init
    ids = dist.all_gather(ef.asarray(np.frombuffer(bytes(b & 0xFF for b in uid), np.uint8)))
    rows = ids.numpy().reshape(n, -1)
    assert (rows == rows[0]).all(), f"rank {r}: the ranks got different NCCL unique ids"


def run(work):
    return _world.wait(work, "fake nccl", "nccl")


def fake(a):
    return cupy.ascontiguousarray(a)


for dtype in ("float32", "float16", "float64", "int16", "uint8", "int64", "bool", "complex64"):
    ops = ["max", "min"] if dtype == "bool" else ["sum"] if dtype == "complex64" else \
        ["sum", "max", "min"]
    ins = [data(k, (2 * n, 3), dtype, seed=9) for k in range(n)]
    mine = fake(ins[r])
    for op in ops:
        got = run(comm.all_reduce(mine, op))
        assert got.dtype == ins[r].dtype, (dtype, got.dtype)
        check_equal(r, f"nccl all_reduce {op}", got, reduce_ref(ins, op, dtype), dtype)
        got = run(comm.reduce_scatter(mine, op))
        check_equal(r, f"nccl reduce_scatter {op}", got,
                    reduce_ref(ins, op, dtype)[2 * r:2 * r + 2], dtype)
    check_equal(r, "nccl broadcast", run(comm.broadcast(mine, n - 1)), ins[n - 1], dtype)
    check_equal(r, "nccl all_gather", run(comm.all_gather(mine)), gathered_ref(ins), dtype)
    got = run(comm.gather(mine, n - 1))
    if r == n - 1:
        check_equal(r, "nccl gather", got, gathered_ref(ins), dtype)
    else:
        assert got is None
    got = run(comm.scatter(mine if r == 0 else None, 0, (2, 3), getattr(ef, dtype)))
    check_equal(r, "nccl scatter", got, ins[0][2 * r:2 * r + 2], dtype)
    if r == 0:
        run(comm.send(mine, 1, 0))
    elif r == 1:
        check_equal(r, "nccl recv", run(comm.recv((2 * n, 3), getattr(ef, dtype), 0, 0)),
                    ins[0], dtype)
    assert np.array_equal(mine, ins[r]), "an input was written to"
comm.close()
assert nccl.calls[-1] == ("destroy",)
dist.barrier()
print(f"rank {r} of {n}: devices OK", flush=True)
