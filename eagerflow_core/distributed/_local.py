"""Communicators that need no engine: a world of one process, and MPI through host memory for
devices that have no communicator of their own."""

from __future__ import annotations

from collections import defaultdict, deque

from .protocol import CompletedWork, Communicator, Work


def _as_gathered(x):
    return x.reshape((1,)) if x.ndim == 0 else x


class SelfCommunicator(Communicator):
    """The world of a single process (``dist.init()`` without mpi4py, or ``size() == 1``):
    every collective is the identity, with no copy (tensors are immutable)."""

    name = "self"
    rank, size = 0, 1

    def __init__(self):
        self._mailbox = defaultdict(deque)  # tag -> arrays sent to itself

    def all_reduce(self, x, op):
        return CompletedWork(x)

    def broadcast(self, x, root):
        return CompletedWork(x)

    def reduce_scatter(self, x, op):
        return CompletedWork(x)

    def all_gather(self, x):
        return CompletedWork(_as_gathered(x))

    def gather(self, x, root):
        return CompletedWork(_as_gathered(x))

    def scatter(self, x, root, shape, dtype):
        return CompletedWork(x)

    def send(self, x, dest, tag):
        self._mailbox[tag].append(x)
        return CompletedWork(None)

    def recv(self, shape, dtype, source, tag):
        return _SelfRecv(self._mailbox[tag])

    def barrier(self):
        return CompletedWork(None)


class _SelfRecv(Work):
    def __init__(self, box):
        self._box = box
        self._value = None

    def test(self):
        if self._value is None and self._box:
            self._value = self._box.popleft()
        return self._value is not None

    def result(self):
        return self._value


class StagedWork(Work):
    """An operation on host copies; its result goes back to the device when read."""

    __slots__ = ("_inner", "_back")

    def __init__(self, inner: Work, back):
        self._inner = inner
        self._back = back

    def test(self):
        return self._inner.test()

    def result(self):
        out = self._inner.result()
        return None if out is None else self._back(out)


class HostStagedCommunicator(Communicator):
    """Collectives for a device without a communicator: its arrays are copied to host memory,
    reduced or moved there by ``host`` (the MPI communicator), and copied back. Each call is
    a fallback, reported through ``note(collective)`` (counted in ``ef.fallback_stats()``)."""

    def __init__(self, host: Communicator, device, note):
        self.host = host
        self.device = device
        self.name = f"{host.name} through host memory"
        self.rank, self.size = host.rank, host.size
        self._backend = device.backend.backend
        self._note = note

    def _down(self, x):
        return self._backend.to_host(x)

    def _up(self, host_array):
        return self._backend.from_host(host_array, self.device.index)

    def _staged(self, collective, work):
        self._note(collective)
        return StagedWork(work, self._up)

    def all_reduce(self, x, op):
        return self._staged("all_reduce", self.host.all_reduce(self._down(x), op))

    def broadcast(self, x, root):
        return self._staged("broadcast", self.host.broadcast(self._down(x), root))

    def reduce_scatter(self, x, op):
        return self._staged("reduce_scatter", self.host.reduce_scatter(self._down(x), op))

    def all_gather(self, x):
        return self._staged("all_gather", self.host.all_gather(self._down(x)))

    def gather(self, x, root):
        return self._staged("gather", self.host.gather(self._down(x), root))

    def scatter(self, x, root, shape, dtype):
        host_x = self._down(x) if x is not None else None
        return self._staged("scatter", self.host.scatter(host_x, root, shape, dtype))

    def send(self, x, dest, tag):
        return self._staged("send", self.host.send(self._down(x), dest, tag))

    def recv(self, shape, dtype, source, tag):
        return self._staged("recv", self.host.recv(shape, dtype, source, tag))
