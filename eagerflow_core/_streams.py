"""Synchronisation, memory statistics, streams and events, on any device.

Each is a thin layer over the backend's execution contract (``plugins/backend.py``): on the
CPU work runs when it is called, so synchronising is free and streams are trivial; on a GPU
backend they are the device's own (CuPy's streams and events on ``cuda``).

>>> import eagerflow_core as ef
>>> s = ef.Stream("cpu")
>>> with s:
...     y = ef.ones(3) * 2
>>> s.synchronize(); ef.synchronize("cpu")
>>> start, end = ef.Event("cpu"), ef.Event("cpu")
>>> start.record(); end.record(); start.elapsed_time(end) >= 0
True
"""

from __future__ import annotations

import threading

from ._devices import Device
from ._devices import device as get_device


def _dev(device) -> Device:
    dev = get_device(device)
    dev.backend.ensure_ready()
    return dev


def _backend(dev: Device):
    return dev.backend.backend


def synchronize(device=None) -> None:
    """Wait until all work queued on ``device`` (the default device) has finished."""
    dev = _dev(device)
    _backend(dev).synchronize(dev.index)


def memory_stats(device=None) -> dict:
    """Memory use of ``device`` in bytes (``bytes_in_use``, ``peak_bytes_in_use``,
    ``bytes_reserved``), as far as its backend knows; ``{}`` on the CPU."""
    dev = _dev(device)
    return dict(_backend(dev).memory_stats(dev.index))


def empty_cache(device=None) -> None:
    """Release the memory ``device``'s backend keeps cached but unused."""
    dev = _dev(device)
    _backend(dev).empty_cache(dev.index)


_tls = threading.local()


class Stream:
    """A queue of work on one device. ``with stream:`` sends the ops run inside to it.

    ``non_blocking`` and ``priority`` are passed to the backend (CUDA: a non-blocking stream
    does not wait for the legacy default stream; lower priority numbers run first).
    """

    def __init__(self, device=None, *, non_blocking: bool = False, priority: int = 0,
                 _handle=None):
        self.device = _dev(device)
        self._backend = _backend(self.device)
        self.handle = _handle if _handle is not None else self._backend.create_stream(
            self.device.index, non_blocking=non_blocking, priority=priority)

    def __enter__(self):
        idx = self.device.index
        stack = _stack()
        stack.append((self, self._backend.current_stream(idx)))
        self._backend.set_current_stream(idx, self.handle)
        return self

    def __exit__(self, *exc):
        _, previous = _stack().pop()
        self._backend.set_current_stream(self.device.index, previous)
        return False

    def synchronize(self) -> None:
        """Wait until the work queued on this stream has finished."""
        self._backend.stream_synchronize(self.handle)

    def query(self) -> bool:
        """True if this stream's work has finished."""
        return bool(self._backend.stream_query(self.handle))

    def record_event(self, event: "Event | None" = None) -> "Event":
        """Record ``event`` (a new one if None) at the current end of this stream's work."""
        event = event if event is not None else Event(self.device)
        event.record(self)
        return event

    def wait_event(self, event: "Event") -> None:
        """Make this stream's later work wait for ``event``, without blocking the host."""
        self._backend.stream_wait_event(self.handle, event.handle)

    def wait_stream(self, other: "Stream") -> None:
        """Make this stream's later work wait for the work queued on ``other`` so far."""
        self.wait_event(other.record_event())

    def __repr__(self):
        return f"ef.Stream(device='{self.device}')"


def current_stream(device=None) -> Stream:
    """The stream ops on ``device`` go to now."""
    dev = _dev(device)
    return Stream(dev, _handle=_backend(dev).current_stream(dev.index))


def _stack() -> list:
    s = getattr(_tls, "streams", None)
    if s is None:
        s = _tls.streams = []
    return s


class Event:
    """A marker in a stream's work: wait for it, ask whether it has passed, or time the work
    between two events."""

    def __init__(self, device=None, *, timing: bool = True):
        self.device = _dev(device)
        self._backend = _backend(self.device)
        self.handle = self._backend.create_event(self.device.index, timing=timing)

    def record(self, stream: Stream | None = None) -> None:
        """Mark the current end of ``stream``'s work (the current stream by default)."""
        handle = (stream.handle if stream is not None
                  else self._backend.current_stream(self.device.index))
        self._backend.record_event(self.handle, handle)

    def synchronize(self) -> None:
        """Wait until the work before this event has finished."""
        self._backend.event_synchronize(self.handle)

    def query(self) -> bool:
        """True if the work before this event has finished."""
        return bool(self._backend.event_query(self.handle))

    def elapsed_time(self, end: "Event") -> float:
        """Milliseconds from this event to ``end`` (both recorded)."""
        return float(self._backend.event_elapsed_ms(self.handle, end.handle))

    def __repr__(self):
        return f"ef.Event(device='{self.device}')"
