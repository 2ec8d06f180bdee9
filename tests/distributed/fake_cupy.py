"""Stand-ins for the parts of CuPy and ``cupy.cuda.nccl`` that ``NcclCommunicator`` uses, on
host memory, so that its logic runs where no GPU is.

Arrays are NumPy arrays with CuPy's ``.data.ptr``. The fake NCCL calls read and write memory at
the pointers they are given, with the counts and datatypes they are given, and run the
collective over MPI between real processes (or as a world of one without MPI): a wrong
pointer offset, count or datatype in the communicator gives wrong values here too. Every call
is also recorded in ``calls`` for the unit tests.
"""

from __future__ import annotations

import ctypes
import types

import numpy as np

# NCCL's enums (nccl.h): ncclInt8 = 0 ... ncclFloat64 = 8; ncclSum = 0, ncclProd, ncclMax, ncclMin.
NCCL_TYPES = {0: np.int8, 1: np.uint8, 2: np.int32, 3: np.uint32, 4: np.int64, 5: np.uint64,
              6: np.float16, 7: np.float32, 8: np.float64}
NCCL_OPS = {0: "sum", 2: "max", 3: "min"}


class FakeArray(np.ndarray):
    """A NumPy array that answers ``.data.ptr`` like a CuPy array."""

    @property
    def data(self):
        return types.SimpleNamespace(ptr=self.ctypes.data)


def _fake(a) -> FakeArray:
    return np.asarray(a).view(FakeArray)


def memory(ptr: int, count: int, datatype: int) -> np.ndarray:
    """``count`` elements of NCCL ``datatype`` at address ``ptr``, as a writable array."""
    dtype = np.dtype(NCCL_TYPES[datatype])
    raw = (ctypes.c_char * (count * dtype.itemsize)).from_address(ptr)
    return np.frombuffer(raw, dtype=dtype)


class _Event:
    def __init__(self, pending):
        self._pending = pending

    def record(self, stream=None):
        self._snapshot = list(self._pending)

    @property
    def done(self):
        return all(r.Test() for r in self._snapshot)


def make(comm=None, *, uid_as_bytes=False, seed=0):
    """``(cupy, nccl)`` fake modules; collectives over the mpi4py ``comm`` (None: one rank)."""
    calls = []
    pending = []  # MPI requests of grouped or point-to-point calls

    cuda = types.SimpleNamespace(
        Device=lambda index=0: _NullContext(),
        get_current_stream=lambda: types.SimpleNamespace(ptr=1234),
        Event=lambda disable_timing=True: _Event(pending),
        runtime=types.SimpleNamespace(memcpyDeviceToDevice=3, memcpyAsync=_memcpy(calls)))
    cupy = types.SimpleNamespace(
        cuda=cuda, empty=lambda shape, dtype: np.empty(shape, dtype).view(FakeArray),
        ascontiguousarray=lambda x: _fake(np.ascontiguousarray(x)))

    def get_unique_id():
        ids = np.random.default_rng(seed).integers(-128, 128, 128)
        return bytes(int(i) & 0xFF for i in ids) if uid_as_bytes else tuple(int(i) for i in ids)

    class NcclCommunicator:
        def __init__(self, ndev, commId, rank):
            calls.append(("init", ndev, commId, rank))
            self.uid, self.ndev, self.rank_ = commId, ndev, rank

        def allReduce(self, send, recv, count, dtype, op, stream):
            calls.append(("allReduce", count, dtype, op, stream))
            out = memory(recv, count, dtype)
            _reduce(comm, memory(send, count, dtype), out, NCCL_OPS[op])

        def reduceScatter(self, send, recv, recvcount, dtype, op, stream):
            calls.append(("reduceScatter", recvcount, dtype, op, stream))
            full = memory(send, recvcount * self.ndev, dtype).copy()
            _reduce(comm, full.copy(), full, NCCL_OPS[op])
            memory(recv, recvcount, dtype)[:] = full[self.rank_ * recvcount:
                                                    (self.rank_ + 1) * recvcount]

        def broadcast(self, send, recv, count, dtype, root, stream):
            calls.append(("broadcast", count, dtype, root, stream))
            out = memory(recv, count, dtype)
            if self.rank_ == root:
                out[:] = memory(send, count, dtype)
            if comm is not None:
                comm.Bcast(out, root=root)

        def allGather(self, send, recv, count, dtype, stream):
            calls.append(("allGather", count, dtype, stream))
            mine = memory(send, count, dtype)
            out = memory(recv, count * self.ndev, dtype)
            if comm is None:
                out[:] = mine
            else:
                comm.Allgather(mine, out)

        def send(self, ptr, count, dtype, peer, stream):
            calls.append(("send", count, dtype, peer, stream))
            buf = memory(ptr, count, dtype)
            pending.append(comm.Isend(buf, dest=peer, tag=99))

        def recv(self, ptr, count, dtype, peer, stream):
            calls.append(("recv", count, dtype, peer, stream))
            pending.append(comm.Irecv(memory(ptr, count, dtype), source=peer, tag=99))

        def check_async_error(self):
            pass

        def abort(self):
            calls.append(("abort",))

        def destroy(self):
            calls.append(("destroy",))

    nccl = types.SimpleNamespace(
        available=True, get_unique_id=get_unique_id, NcclCommunicator=NcclCommunicator,
        groupStart=lambda: calls.append(("groupStart",)),
        groupEnd=lambda: calls.append(("groupEnd",)),
        NCCL_INT8=0, NCCL_UINT8=1, NCCL_INT32=2, NCCL_UINT32=3, NCCL_INT64=4, NCCL_UINT64=5,
        NCCL_FLOAT16=6, NCCL_FLOAT32=7, NCCL_FLOAT64=8, NCCL_SUM=0, NCCL_PROD=1, NCCL_MAX=2,
        NCCL_MIN=3, calls=calls)
    return cupy, nccl


class _NullContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _memcpy(calls):
    def memcpyAsync(dst, src, nbytes, kind, stream):
        calls.append(("memcpyAsync", nbytes, kind, stream))
        ctypes.memmove(dst, src, nbytes)
    return memcpyAsync


def _reduce(comm, send, out, op):
    if comm is None:
        out[:] = send
        return
    from mpi4py import MPI
    wide = send.astype(np.float32) if send.dtype == np.float16 else send.copy()  # MPI has no half
    result = np.empty_like(wide)
    comm.Allreduce(wide, result, op={"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op])
    out[:] = result
