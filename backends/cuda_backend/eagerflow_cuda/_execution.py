"""The backend execution contract on CuPy: synchronisation, memory statistics, streams, events,
DLPack stream hand-over.

``CudaExecution`` is mixed into ``CupyBackend``; its methods take a device index and CuPy's own
stream and event objects (``cupy.cuda.Stream`` / ``cupy.cuda.Event``), which the core wraps.
CuPy keeps one current stream per host thread and device: kernels, copies and allocations of
that thread go to it, so ``set_current_stream`` is what ``with stream:`` builds on.

Memory statistics read CuPy's default memory pool. The pool counts the bytes in use and held,
not their peak: ``PeakTracker`` wraps the pool's ``malloc`` (``cupy.cuda.set_allocator``) and
records the bytes in use after each allocation, the only moments the peak can grow. It installs
itself only over CuPy's default allocator (not over one a user chose, RMM's say) and can be
turned off with ``EAGERFLOW_CUDA_PEAK_STATS=0``; without it ``peak_bytes_in_use`` is the
highest value seen by ``memory_stats`` calls, a lower bound.
"""

from __future__ import annotations

import os
import threading


class PeakTracker:
    """Peak bytes in use of CuPy's default pool, per device, since the last reset."""

    def __init__(self, cp):
        self.cp = cp
        self.pool = cp.get_default_memory_pool()
        self.peaks: dict[int, int] = {}
        self.active = False
        self._lock = threading.Lock()

    def install(self) -> bool:
        """Route allocations through ``malloc`` if CuPy's default allocator is in place."""
        if os.environ.get("EAGERFLOW_CUDA_PEAK_STATS", "1") == "0":
            return False
        if self.cp.cuda.get_allocator() != self.pool.malloc:
            return False  # someone chose another allocator: leave it alone
        self.cp.cuda.set_allocator(self.malloc)
        self.active = True
        return True

    def malloc(self, size: int):
        mem = self.pool.malloc(size)
        used = self.pool.used_bytes()  # of the current device, where mem was just allocated
        dev = mem.device_id
        if used > self.peaks.get(dev, 0):
            self.peaks[dev] = used
        return mem

    def note(self, dev: int, used: int) -> int:
        with self._lock:
            peak = max(self.peaks.get(dev, 0), used)
            self.peaks[dev] = peak
            return peak

    def reset(self, dev: int, used: int) -> None:
        with self._lock:
            self.peaks[dev] = used


class CudaExecution:
    """Synchronisation, memory, streams and events of ``"cuda:<index>"`` devices."""

    namespace = None  # cupy, set by initialize()
    _peaks: PeakTracker | None = None

    def _dev(self, index: int):
        return self.namespace.cuda.Device(index)  # a new object: its context stack is ours

    # -- synchronisation and memory ---------------------------------------------------------
    def synchronize(self, index: int = 0) -> None:
        """Wait until every stream of device ``index`` has finished its queued work."""
        self._dev(index).synchronize()

    def memory_stats(self, index: int = 0) -> dict[str, int]:
        """``bytes_in_use`` (arrays alive), ``peak_bytes_in_use`` (since start or the last
        ``reset_peak_memory_stats``) and ``bytes_reserved`` (held by CuPy's pool, in use or
        cached for reuse) on device ``index``."""
        cp = self.namespace
        with self._dev(index):
            pool = cp.get_default_memory_pool()
            used, reserved = int(pool.used_bytes()), int(pool.total_bytes())
        peak = self._peaks.note(index, used) if self._peaks is not None else used
        return {"bytes_in_use": used, "peak_bytes_in_use": peak, "bytes_reserved": reserved}

    def reset_peak_memory_stats(self, index: int = 0) -> None:
        """Start counting ``peak_bytes_in_use`` afresh from the bytes in use now."""
        with self._dev(index):
            used = int(self.namespace.get_default_memory_pool().used_bytes())
        if self._peaks is not None:
            self._peaks.reset(index, used)

    def empty_cache(self, index: int = 0) -> None:
        """Return the pool's cached, unused blocks of device ``index`` to the driver."""
        with self._dev(index):
            self.namespace.get_default_memory_pool().free_all_blocks()

    # -- streams ------------------------------------------------------------------------------
    def create_stream(self, index: int = 0, *, non_blocking: bool = False, priority: int = 0):
        """A new stream on device ``index``. ``non_blocking`` streams do not wait for the legacy
        default stream; a lower ``priority`` number runs first (CUDA's convention, 0 = normal)."""
        with self._dev(index):
            return self.namespace.cuda.Stream(non_blocking=non_blocking,
                                              priority=priority or None)

    def current_stream(self, index: int = 0):
        """This thread's current stream on device ``index`` (CuPy's null stream by default)."""
        return self.namespace.cuda.get_current_stream(index)

    def set_current_stream(self, index: int, stream) -> None:
        """Make ``stream`` this thread's current stream on device ``index``: every kernel and
        copy of the thread on that device goes to it from now on."""
        with self._dev(index):
            stream.use()

    def stream_synchronize(self, stream) -> None:
        stream.synchronize()

    def stream_query(self, stream) -> bool:
        """True if all work queued on ``stream`` has finished."""
        return bool(stream.done)

    def stream_wait_event(self, stream, event) -> None:
        """Work queued on ``stream`` from now on waits for ``event`` (no host wait)."""
        stream.wait_event(event)

    # -- events -------------------------------------------------------------------------------
    def create_event(self, index: int = 0, *, timing: bool = True):
        with self._dev(index):
            return self.namespace.cuda.Event(disable_timing=not timing)

    def record_event(self, event, stream=None) -> None:
        """Record ``event`` on ``stream`` (the current stream when None)."""
        event.record(stream)

    def event_synchronize(self, event) -> None:
        event.synchronize()

    def event_query(self, event) -> bool:
        return bool(event.done)

    def event_elapsed_ms(self, start, end) -> float:
        """Milliseconds between two recorded timing events (``end`` must have completed)."""
        return float(self.namespace.cuda.get_elapsed_time(start, end))

    # -- DLPack -------------------------------------------------------------------------------
    def dlpack_stream(self, index: int = 0) -> int:
        """The ``stream`` value a DLPack consumer on device ``index`` passes to a producer's
        ``__dlpack__``: its current stream's handle, or 1 for CUDA's legacy default stream
        (the DLPack standard reserves 0)."""
        ptr = self.current_stream(index).ptr
        return ptr if ptr else 1

    def from_dlpack_on_device(self, obj, copy=None):
        """A CuPy array sharing ``obj``'s memory (no copy), with the device of ``obj`` current,
        so that CuPy hands the producer that device's current stream to order the exchange."""
        cp = self.namespace
        _, dev = obj.__dlpack_device__()
        with cp.cuda.Device(int(dev)):
            return cp.from_dlpack(obj) if copy is None else cp.from_dlpack(obj, copy=copy)
