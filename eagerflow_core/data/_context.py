"""What a pipeline's own threads inherit from the thread that iterates it.

The default device is per thread (``with ef.device(...)``), so a prefetch thread or a map
worker would otherwise make its tensors on the global default device rather than where the
user's loop runs. ``Inherited`` captures it when an iteration starts and enters it in the
worker. It carries the peek flag too: ``element_spec`` may run a pipeline for one element, and
that look must not count as an epoch of the shuffles below it (their orders stay the same
whether or not a spec was asked for).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from .._devices import default_device

_tls = threading.local()


def peeking() -> bool:
    """Whether this thread is running a pipeline only to look at its first element."""
    return getattr(_tls, "peeking", False)


@contextmanager
def peek():
    old = peeking()
    _tls.peeking = True
    try:
        yield
    finally:
        _tls.peeking = old


class Inherited:
    """The iterating thread's default device and peek flag, to enter in a worker thread."""

    __slots__ = ("device", "peeking")

    def __init__(self):
        self.device = default_device()
        self.peeking = peeking()

    @contextmanager
    def entered(self):
        old = peeking()
        _tls.peeking = self.peeking
        try:
            with self.device:
                yield
        finally:
            _tls.peeking = old
