"""What a communicator is: the contract between eagerflow's collectives and an engine (MPI,
NCCL, or a backend plugin's own).

A communicator moves the *raw arrays* of one device (NumPy arrays for ``cpu``, CuPy arrays for
``cuda``); the tensor-level collectives in :mod:`eagerflow_core.distributed` check arguments,
exchange the check-mode header, wait against the deadline and wrap results. Every method
*starts* an operation and returns a :class:`Work` at once, so that several can be in flight
(gradient buckets) and so that the core, not the engine, decides how long to wait: a peer that
died makes the survivors fail within the timeout instead of hanging in a blocking call.

A backend plugin offers its own communicator by overriding ``Backend.communicator(info)``
(:class:`CommInfo` below) to return a :class:`Communicator`; the default ``None`` lets eagerflow
choose (MPI for ``cpu``, NCCL for ``cuda``, else MPI through host memory as a counted fallback).

>>> from eagerflow_core.distributed.protocol import Communicator, CompletedWork
>>> class Solo(Communicator):            # a world of one: every collective is the identity
...     name, rank, size = "solo", 0, 1
...     def all_reduce(self, x, op):
...         return CompletedWork(x)
>>> Solo().all_reduce([1.0, 2.0], "sum").result()
[1.0, 2.0]
"""

from __future__ import annotations

#: The reductions every communicator implements (``mean`` is ``sum`` then a division).
REDUCE_OPS = ("sum", "max", "min")


class Work:
    """One operation in flight. The core polls :meth:`test` until it returns True or the
    deadline passes, then reads :meth:`result` once."""

    def test(self) -> bool:
        """Make progress; True once the operation is complete. Must not block. An engine
        error (a peer's connection closed, an NCCL async error) is raised from here."""
        raise NotImplementedError

    def result(self):
        """The raw result array (``None`` for ``send``, and for ``gather`` off the root).
        Called once, after :meth:`test` returned True."""
        raise NotImplementedError


class CompletedWork(Work):
    """A Work that is already done (engines whose calls complete synchronously)."""

    __slots__ = ("_value",)

    def __init__(self, value=None):
        self._value = value

    def test(self) -> bool:
        return True

    def result(self):
        return self._value


class BufferWork(Work):
    """A Work whose engine writes into ``out``: the input buffers ``keep`` stay alive until it
    is done (a temporary copy must outlive the request), and ``finish`` (a cast back, say) is
    applied to the result once. Subclasses implement :meth:`test`."""

    __slots__ = ("_out", "_keep", "_finish")

    def __init__(self, out, keep=(), finish=None):
        self._out = out
        self._keep = keep
        self._finish = finish

    def result(self):
        self._keep = ()
        out = self._out
        return self._finish(out) if self._finish is not None else out


def gathered_shape(shape: tuple, size: int) -> tuple:
    """The shape of ``all_gather``'s result: the ranks' arrays stacked along the first axis
    (a 0-d array gives one element per rank)."""
    return (size * shape[0],) + tuple(shape[1:]) if shape else (size,)


class Communicator:
    """Collectives over all ranks of the world, on the raw arrays of one device.

    Input arrays are never written to (eagerflow tensors are immutable) and may be
    non-contiguous; results are new arrays on the same device. ``op`` is one of
    :data:`REDUCE_OPS`; the core has already refused dtypes the op cannot reduce (complex
    max/min, bool sum). Arrays of every rank have the same shape and dtype unless a method
    says otherwise (the core's check mode verifies it when asked).
    """

    #: Shown in error messages and ``dist.communicator_name()``: "mpi", "nccl", ...
    name: str = "?"
    rank: int = 0
    size: int = 1

    def all_reduce(self, x, op: str) -> Work:
        """Element-wise reduction of ``x`` over the ranks; every rank gets the result."""
        raise NotImplementedError

    def broadcast(self, x, root: int) -> Work:
        """Rank ``root``'s ``x`` on every rank."""
        raise NotImplementedError

    def all_gather(self, x) -> Work:
        """The ranks' ``x`` concatenated along axis 0 in rank order (a 0-d ``x`` counts as
        shape ``(1,)``): shape ``(size * n, ...)`` on every rank."""
        raise NotImplementedError

    def reduce_scatter(self, x, op: str) -> Work:
        """``x`` (axis 0 divisible by ``size``) reduced over the ranks; rank ``r`` gets block
        ``r`` of ``size`` equal blocks along axis 0."""
        raise NotImplementedError

    def gather(self, x, root: int) -> Work:
        """Like ``all_gather``, but only ``root`` gets the result (``None`` elsewhere)."""
        raise NotImplementedError

    def scatter(self, x, root: int, shape: tuple, dtype) -> Work:
        """Rank ``root``'s ``x`` split into ``size`` equal blocks along axis 0; rank ``r`` gets
        block ``r``, of ``shape`` and eagerflow ``dtype`` (an ``ef.DType``: ``dtype.numpy`` is
        its NumPy dtype). ``x`` is ``None`` off the root."""
        raise NotImplementedError

    def send(self, x, dest: int, tag: int) -> Work:
        """Send ``x`` to rank ``dest`` (the core has sent its shape and dtype before)."""
        raise NotImplementedError

    def recv(self, shape: tuple, dtype, source: int, tag: int) -> Work:
        """Receive an array of ``shape`` and eagerflow ``dtype`` from rank ``source``."""
        raise NotImplementedError

    def abort(self) -> None:
        """A deadline passed or an operation failed: stop what is in flight if the engine
        can (NCCL's ``ncclCommAbort``). The communicator is not used again."""

    def close(self) -> None:
        """Release the engine's resources (``dist.shutdown()``)."""


class CommInfo:
    """What ``Backend.communicator(info)`` is told about the world it joins.

    ``rank``, ``size``, ``local_rank`` (the rank among the processes of this host) and
    ``local_size``; ``device``, the eagerflow Device the communicator serves; ``mpi_comm``, the
    world's mpi4py communicator (a duplicate of ``COMM_WORLD``), for bootstrapping; and
    :meth:`broadcast_bytes`, to share a unique id (NCCL's, say) without touching MPI.
    """

    def __init__(self, *, rank, size, local_rank, local_size, device, mpi_comm,
                 broadcast_bytes):
        self.rank = rank
        self.size = size
        self.local_rank = local_rank
        self.local_size = local_size
        self.device = device
        self.mpi_comm = mpi_comm
        self._broadcast_bytes = broadcast_bytes

    def broadcast_bytes(self, data: bytes | None, root: int = 0) -> bytes:
        """Rank ``root``'s ``data`` on every rank (other ranks pass None)."""
        return self._broadcast_bytes(data, root)

    def __repr__(self):
        return (f"CommInfo(rank={self.rank}, size={self.size}, local_rank={self.local_rank}, "
                f"device={self.device})")
