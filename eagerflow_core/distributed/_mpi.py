"""The MPI communicator: collectives on host (NumPy) arrays through mpi4py.

Buffers go to MPI through the buffer protocol with an explicit MPI datatype (the uppercase
mpi4py methods): nothing is pickled, and a contiguous input is handed over as is, without a
copy. Every call is MPI-3 nonblocking (``Iallreduce``, ``Ibcast``...): the core polls
``Request.Test`` against its deadline, so a dead peer cannot hang a survivor forever.
Measured on Open MPI 4.1 (2 ranks, shared memory), the polled nonblocking calls run as fast
as the blocking ones from 1 MB up (``benchmarks/bench_distributed.py``).

Data movement (broadcast, gathers, scatter, send/recv) sends bytes, so every dtype moves,
bfloat16 included. Reductions need a real MPI datatype: float16 and bfloat16, which MPI lacks,
are reduced in float32 and rounded once at the end; bool reduces as uint8 (max = any,
min = all).
"""

from __future__ import annotations

import numpy as np

from ._buffers import BufferCache
from .protocol import BufferWork, Communicator, gathered_shape

# numpy dtype name -> name of the MPI datatype reductions use.
REDUCE_TYPES = {
    "int8": "INT8_T", "int16": "INT16_T", "int32": "INT32_T", "int64": "INT64_T",
    "uint8": "UINT8_T", "uint16": "UINT16_T", "uint32": "UINT32_T", "uint64": "UINT64_T",
    "float32": "FLOAT", "float64": "DOUBLE",
    "complex64": "C_FLOAT_COMPLEX", "complex128": "C_DOUBLE_COMPLEX",
    "bool": "UINT8_T",
}
#: Reduced in float32, rounded back once (MPI has no 16-bit float type).
WIDENED = ("float16", "bfloat16")
_INT_MAX = 2**31 - 1  # MPI-3 counts are C ints


def contiguous(x: np.ndarray) -> np.ndarray:
    """``x`` itself when C-contiguous (no copy), else a contiguous copy."""
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)


def as_bytes(x: np.ndarray) -> np.ndarray:
    """A flat uint8 view of a contiguous array (every dtype moves as bytes)."""
    return x.reshape(-1).view(np.uint8)


class MPIWork(BufferWork):
    """An mpi4py request and the buffers it reads and writes."""

    __slots__ = ("_req",)

    def __init__(self, req, out, keep=(), finish=None):
        super().__init__(out, keep, finish)
        self._req = req

    def test(self) -> bool:
        return self._req.Test()


class MPICommunicator(Communicator):
    """Collectives over an mpi4py communicator, on NumPy arrays."""

    name = "mpi"

    def __init__(self, comm, MPI, cache: BufferCache | None = None):
        self.comm = comm
        self.MPI = MPI
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self._cache = cache if cache is not None else BufferCache()
        self._ops = {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}

    # -- helpers -------------------------------------------------------------------------
    def _empty(self, shape, dtype) -> np.ndarray:
        return self._cache.take(shape, dtype)

    def _bytes_spec(self, x: np.ndarray):
        if x.nbytes > _INT_MAX:
            raise ValueError(f"{x.nbytes} bytes in one message: MPI-3 counts stop at 2**31-1; "
                             f"split the tensor")
        return [as_bytes(x), self.MPI.BYTE]

    def reduce_type(self, dtype: np.dtype):
        """The MPI datatype a reduction of ``dtype`` runs in, and the dtype to widen to."""
        name = dtype.name
        if name in WIDENED:
            return self.MPI.FLOAT, np.dtype(np.float32)
        if name not in REDUCE_TYPES:
            raise TypeError(f"MPI cannot reduce {name}")
        return getattr(self.MPI, REDUCE_TYPES[name]), None

    def _reduce_args(self, x: np.ndarray, op: str):
        """(send array, MPI datatype, MPI op, finish) for a reduction of ``x``."""
        mtype, wide = self.reduce_type(x.dtype)
        finish = None
        if wide is not None:
            dtype = x.dtype
            x = x.astype(wide, order="C")
            finish = lambda out: out.astype(dtype)  # noqa: E731  (rounded once)
        elif x.dtype == np.bool_:
            x = contiguous(x).view(np.uint8)
            finish = lambda out: out.view(np.bool_)  # noqa: E731
        else:
            x = contiguous(x)
        return x, mtype, self._ops[op], finish

    # -- collectives ---------------------------------------------------------------------
    def all_reduce(self, x, op):
        send, mtype, mop, finish = self._reduce_args(x, op)
        out = self._empty(send.shape, send.dtype)
        req = self.comm.Iallreduce([send, mtype], [out, mtype], mop)
        return MPIWork(req, out, (send,), finish)

    def reduce_scatter(self, x, op):
        send, mtype, mop, finish = self._reduce_args(x, op)
        out = self._empty((send.shape[0] // self.size,) + send.shape[1:], send.dtype)
        req = self.comm.Ireduce_scatter_block([send, mtype], [out, mtype], mop)
        return MPIWork(req, out, (send,), finish)

    def broadcast(self, x, root):
        x = contiguous(x)
        # The root's own buffer is only read (the root's result is its input: no copy).
        buf = x if self.rank == root else self._empty(x.shape, x.dtype)
        req = self.comm.Ibcast(self._bytes_spec(buf), root=root)
        return MPIWork(req, buf, (x,))

    def all_gather(self, x):
        x = contiguous(x)
        out = self._empty(gathered_shape(x.shape, self.size), x.dtype)
        req = self.comm.Iallgather(self._bytes_spec(x), self._bytes_spec(out))
        return MPIWork(req, out, (x,))

    def gather(self, x, root):
        x = contiguous(x)
        out = self._empty(gathered_shape(x.shape, self.size), x.dtype) if self.rank == root \
            else None
        recv = self._bytes_spec(out) if out is not None else None
        req = self.comm.Igather(self._bytes_spec(x), recv, root=root)
        return MPIWork(req, out, (x,))

    def scatter(self, x, root, shape, dtype):
        out = self._empty(shape, dtype.numpy)
        send = self._bytes_spec(contiguous(x)) if self.rank == root else None
        req = self.comm.Iscatter(send, self._bytes_spec(out), root=root)
        return MPIWork(req, out, (x,))

    def send(self, x, dest, tag):
        x = contiguous(x)
        req = self.comm.Isend(self._bytes_spec(x), dest=dest, tag=tag)
        return MPIWork(req, None, (x,))

    def recv(self, shape, dtype, source, tag):
        out = self._empty(shape, dtype.numpy)
        req = self.comm.Irecv(self._bytes_spec(out), source=source, tag=tag)
        return MPIWork(req, out)

    def barrier(self):
        return MPIWork(self.comm.Ibarrier(), None)
