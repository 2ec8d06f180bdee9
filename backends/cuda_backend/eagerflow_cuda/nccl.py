"""The NCCL communicator: GPU-to-GPU collectives on CuPy arrays through ``cupy.cuda.nccl``.

One communicator per process and GPU (``ncclCommInitRank``), bootstrapped over MPI: rank 0
asks NCCL for a unique id and broadcasts its 128 bytes to the others. Every call is enqueued on
CuPy's current stream, after the kernels that computed its input; a CUDA event recorded
behind it tells the core's poll loop when it is done, and NCCL's asynchronous error is checked
on each poll. When the deadline passes the core calls :meth:`abort` (``ncclCommAbort``), which
makes the GPU kernels of a collective whose peer died return: PyTorch's NCCL watchdog does
the same.

NCCL reduces int8/uint8, int32/uint32, int64/uint64 and float16/32/64 natively; int16 and
uint16 are reduced in 32 bits (the result, cast back, is the same modular sum); bool as uint8;
complex numbers as pairs of reals (sum only). Data movement sends bytes (``ncclUint8``), so
every dtype moves; NCCL has no gather or scatter, so they are grouped sends and receives.

It lives in the CUDA backend, not the core: the backend offers it through the communicator
hook (``CupyBackend.communicator``), the plugin surface of ``eagerflow_core.distributed``
(``distributed/protocol.py``), as any backend offers its own engine.
"""

from __future__ import annotations

import warnings

from eagerflow_core.distributed.protocol import BufferWork, Communicator, gathered_shape

UID_BYTES = 128  # NCCL_UNIQUE_ID_BYTES
# dtype name -> (NCCL datatype, dtype the array is cast to first or None, NCCL numbers per element)
REDUCE_TYPES = {
    "int8": ("NCCL_INT8", None, 1), "uint8": ("NCCL_UINT8", None, 1),
    "int32": ("NCCL_INT32", None, 1), "uint32": ("NCCL_UINT32", None, 1),
    "int64": ("NCCL_INT64", None, 1), "uint64": ("NCCL_UINT64", None, 1),
    "float16": ("NCCL_FLOAT16", None, 1), "float32": ("NCCL_FLOAT32", None, 1),
    "float64": ("NCCL_FLOAT64", None, 1),
    "int16": ("NCCL_INT32", "int32", 1), "uint16": ("NCCL_UINT32", "uint32", 1),
    "bool": ("NCCL_UINT8", "uint8", 1),
    "complex64": ("NCCL_FLOAT32", None, 2), "complex128": ("NCCL_FLOAT64", None, 2),
}
REDUCE_OPS = {"sum": "NCCL_SUM", "max": "NCCL_MAX", "min": "NCCL_MIN"}


# -- the unique id: CuPy returns 128 signed chars as a tuple (older CuPy) or bytes (newer) ------

def pack_unique_id(uid) -> bytes:
    """``uid`` as 129 bytes: a format flag (0 tuple, 1 bytes), then the 128 id bytes."""
    if isinstance(uid, (bytes, bytearray)):
        flag, raw = 1, bytes(uid)
    else:
        flag, raw = 0, bytes(b & 0xFF for b in uid)
    if len(raw) != UID_BYTES:
        raise ValueError(f"an NCCL unique id has {UID_BYTES} bytes, got {len(raw)}")
    return bytes([flag]) + raw


def unpack_unique_id(data: bytes):
    """The id in the form this CuPy's ``NcclCommunicator`` takes (see :func:`pack_unique_id`)."""
    flag, raw = data[0], data[1:]
    if flag == 1:
        return bytes(raw)
    return tuple(b - 256 if b > 127 else b for b in raw)


def exchange_unique_id(info, nccl):
    """Rank 0's new NCCL unique id, on every rank (broadcast over the world's MPI)."""
    data = pack_unique_id(nccl.get_unique_id()) if info.rank == 0 else None
    return unpack_unique_id(info.broadcast_bytes(data, 0))


def nccl_available() -> tuple[bool, str]:
    """Whether CuPy's NCCL bindings can be used here, and if not, why."""
    try:
        with warnings.catch_warnings():  # CuPy warns that libnccl is missing: we say it below
            warnings.simplefilter("ignore")
            from cupy.cuda import nccl
    except Exception as exc:  # no CuPy, or a CuPy built without NCCL
        return False, f"cupy.cuda.nccl cannot be imported ({type(exc).__name__}: {exc})"
    if not getattr(nccl, "available", False):
        return False, ("CuPy cannot load the NCCL library (cupy.cuda.nccl.available is False; "
                       "pip install nvidia-nccl-cu12 or -cu13, matching CuPy)")
    return True, ""


class NcclWork(BufferWork):
    """A CUDA event recorded behind an NCCL call; NCCL's asynchronous error is checked on
    each poll."""

    __slots__ = ("_event", "_comm")

    def __init__(self, event, comm, out, keep, finish=None):
        super().__init__(out, keep, finish)
        self._event = event
        self._comm = comm

    def test(self) -> bool:
        self._comm.check_async_error()  # raises NcclError if a peer failed
        return self._event.done


class NcclCommunicator(Communicator):
    """Collectives among the ranks' GPUs; ``cupy`` and ``nccl`` modules may be given (tests)."""

    name = "nccl"

    def __init__(self, info, cupy=None, nccl=None):
        if cupy is None:
            import cupy
        if nccl is None:
            from cupy.cuda import nccl
        self._cp = cupy
        self._nccl = nccl
        self.rank, self.size = info.rank, info.size
        self._index = info.device.index
        with cupy.cuda.Device(self._index):
            uid = exchange_unique_id(info, nccl)
            self._comm = nccl.NcclCommunicator(info.size, uid, info.rank)
        self._uint8 = nccl.NCCL_UINT8

    # -- helpers -------------------------------------------------------------------------
    def _start(self):
        """(device context, stream) for one call: allocations go to this GPU."""
        return self._cp.cuda.Device(self._index), self._cp.cuda.get_current_stream()

    def _done(self, stream, out, keep=(), finish=None) -> NcclWork:
        event = self._cp.cuda.Event(disable_timing=True)
        event.record(stream)
        return NcclWork(event, self._comm, out, keep, finish)

    def _reduce_args(self, x, op):
        """(send array, count, NCCL datatype, NCCL op, finish) for a reduction of ``x``."""
        name = x.dtype.name
        if name not in REDUCE_TYPES:
            raise TypeError(f"NCCL cannot reduce {name}")
        ntype, wire, per = REDUCE_TYPES[name]
        finish = None
        if wire is not None:
            dtype = x.dtype
            x = x.astype(wire, order="C")
            finish = lambda out: out.astype(dtype)  # noqa: E731
        else:
            x = self._cp.ascontiguousarray(x)
        return (x, x.size * per, getattr(self._nccl, ntype),
                getattr(self._nccl, REDUCE_OPS[op]), finish)

    def _memcpy(self, dst: int, src: int, nbytes: int, stream) -> None:
        rt = self._cp.cuda.runtime
        rt.memcpyAsync(dst, src, nbytes, rt.memcpyDeviceToDevice, stream.ptr)

    def _each_block(self, call, base: int, nbytes: int, root: int, stream) -> None:
        """``call`` (send or recv) between the root and every other rank, on that rank's
        block of ``nbytes`` at ``base``; grouped, so that NCCL runs them together."""
        self._nccl.groupStart()
        try:
            for r in range(self.size):
                if r != root:
                    call(base + r * nbytes, nbytes, self._uint8, r, stream.ptr)
        finally:
            self._nccl.groupEnd()

    # -- collectives ---------------------------------------------------------------------
    def all_reduce(self, x, op):
        dev, stream = self._start()
        with dev:
            send, count, ntype, nop, finish = self._reduce_args(x, op)
            out = self._cp.empty(send.shape, send.dtype)
            self._comm.allReduce(send.data.ptr, out.data.ptr, count, ntype, nop, stream.ptr)
            return self._done(stream, out, (send,), finish)

    def reduce_scatter(self, x, op):
        dev, stream = self._start()
        with dev:
            send, count, ntype, nop, finish = self._reduce_args(x, op)
            out = self._cp.empty((send.shape[0] // self.size,) + send.shape[1:], send.dtype)
            self._comm.reduceScatter(send.data.ptr, out.data.ptr, count // self.size, ntype,
                                     nop, stream.ptr)
            return self._done(stream, out, (send,), finish)

    def broadcast(self, x, root):
        dev, stream = self._start()
        with dev:
            x = self._cp.ascontiguousarray(x)
            out = self._cp.empty(x.shape, x.dtype)  # the root's input is never written
            self._comm.broadcast(x.data.ptr, out.data.ptr, x.nbytes, self._uint8, root,
                                 stream.ptr)
            return self._done(stream, out, (x,))

    def all_gather(self, x):
        dev, stream = self._start()
        with dev:
            x = self._cp.ascontiguousarray(x)
            out = self._cp.empty(gathered_shape(x.shape, self.size), x.dtype)
            self._comm.allGather(x.data.ptr, out.data.ptr, x.nbytes, self._uint8, stream.ptr)
            return self._done(stream, out, (x,))

    def gather(self, x, root):
        dev, stream = self._start()
        with dev:
            x = self._cp.ascontiguousarray(x)
            nbytes = x.nbytes
            if self.rank != root:
                self._comm.send(x.data.ptr, nbytes, self._uint8, root, stream.ptr)
                return self._done(stream, None, (x,))
            out = self._cp.empty(gathered_shape(x.shape, self.size), x.dtype)
            base = out.data.ptr
            self._memcpy(base + root * nbytes, x.data.ptr, nbytes, stream)
            self._each_block(self._comm.recv, base, nbytes, root, stream)
            return self._done(stream, out, (x,))

    def scatter(self, x, root, shape, dtype):
        dev, stream = self._start()
        with dev:
            out = self._cp.empty(shape, dtype.numpy)
            nbytes = out.nbytes
            if self.rank != root:
                self._comm.recv(out.data.ptr, nbytes, self._uint8, root, stream.ptr)
                return self._done(stream, out)
            x = self._cp.ascontiguousarray(x)
            base = x.data.ptr
            self._memcpy(out.data.ptr, base + root * nbytes, nbytes, stream)
            self._each_block(self._comm.send, base, nbytes, root, stream)
            return self._done(stream, out, (x,))

    def send(self, x, dest, tag):
        # NCCL has no tags: sends between two ranks arrive in the order they were made.
        dev, stream = self._start()
        with dev:
            x = self._cp.ascontiguousarray(x)
            self._comm.send(x.data.ptr, x.nbytes, self._uint8, dest, stream.ptr)
            return self._done(stream, None, (x,))

    def recv(self, shape, dtype, source, tag):
        dev, stream = self._start()
        with dev:
            out = self._cp.empty(shape, dtype.numpy)
            self._comm.recv(out.data.ptr, out.nbytes, self._uint8, source, stream.ptr)
            return self._done(stream, out)

    def abort(self) -> None:
        self._comm.abort()

    def close(self) -> None:
        self._comm.destroy()
