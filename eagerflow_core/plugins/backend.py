"""The one class a backend plugin subclasses.

A backend is a small object plus a kernel table (tinygrad's ``ops_null.py`` habit): the core asks
it a few questions (available? how many devices? which native dtypes?), moves data to and from
the host through it, and then only ever calls the plain functions of its kernel table.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

#: The plugin API this core speaks. A plugin declares the version it was built for in
#: ``Backend.api_version``; a different major version is refused at load, with the reason.
PLUGIN_API_VERSION = 1


class Backend:
    """Base class of every backend. Subclass it, set the class attributes, fill the methods.

    Kernels follow the Array API standard's signatures, on the backend's own arrays and native
    dtypes: the kernel for ``"sum"`` is called as ``kernel(x, axis=..., dtype=..., keepdims=...)``.
    Linear-algebra extension ops are keyed ``"linalg.<name>"``. The core has already checked
    devices and dtypes and chosen the result dtype before a kernel runs.

    >>> from eagerflow_core.plugins import Backend
    >>> class Null(Backend):
    ...     name, device_type = "null", "null"
    ...     def is_available(self):
    ...         return False, "the null device computes nothing"
    >>> Null().is_available()
    (False, 'the null device computes nothing')
    """

    #: Plugin name, unique among installed plugins (``EAGERFLOW_BACKENDS`` lists these).
    name: str = ""
    #: Device type, unique: tensors live on ``"<device_type>:<index>"``.
    device_type: str = ""
    #: The plugin's own version, shown by ``ef.backends()`` and ``eagerflow info``.
    version: str = "0"
    #: The plugin API version this backend was written against.
    api_version: int = PLUGIN_API_VERSION
    #: The available backend with the highest priority gives the default device.
    priority: int = 0
    #: The class of the raw arrays the kernels return; other results go through ``coerce``.
    array_type: type = object
    #: True if this backend's indexing kernels raise IndexError on out-of-range integer array
    #: indices. If False the core checks them first (a GPU gather would otherwise wrap or clip).
    checks_index_bounds: bool = False
    #: DLPack device type of this backend's arrays (1 = CPU, 2 = CUDA), for ``ef.from_dlpack``.
    dlpack_device_type: int | None = None
    #: The most dimensions one of its arrays may have (None: no fixed limit), reported by
    #: ``ef.__array_namespace_info__().capabilities()``. NumPy's and CuPy's limit is 64.
    max_dimensions: int | None = 64

    def is_available(self) -> tuple[bool, str]:
        """``(True, "")``, or ``(False, reason)``. Must be cheap and must not raise."""
        return True, ""

    def device_count(self) -> int:
        """How many devices of ``device_type`` exist."""
        return 1

    def initialize(self) -> None:
        """Heavy set-up (import big libraries, create contexts). Runs once, on first use."""

    def native_dtypes(self) -> dict[str, Any]:
        """Map of eagerflow dtype names (``"float32"``) to this backend's dtype objects."""
        raise NotImplementedError

    def kernels(self) -> dict[str, Callable]:
        """The kernel table: op name -> function. Called once, after ``initialize``."""
        raise NotImplementedError

    def kernels_for(self, index: int) -> dict[str, Callable]:
        """The kernel table for device ``index`` (multi-device backends may bind the device)."""
        return self.kernels()

    def from_host(self, array: np.ndarray, index: int):
        """A raw array on device ``index`` holding a copy (or a view) of a host NumPy array."""
        raise NotImplementedError

    def to_host(self, raw) -> np.ndarray:
        """A host NumPy array with the values of ``raw``."""
        raise NotImplementedError

    def coerce(self, raw):
        """Turn what a kernel returned (a scalar, say) into an ``array_type``."""
        return raw

    def device_index(self, raw) -> int:
        """The device index a raw array lives on (single-device backends: 0)."""
        return 0

    def kernel_dtypes(self) -> dict[str, Any]:
        """Ops whose kernel takes fewer dtypes than the backend has: ``{op name: dtype names}``
        (JAX's linalg has no float16). The core then computes such an op in the nearest wider
        dtype of the same kind that the kernel takes and casts the result back; with none, the
        call raises KernelNotFoundError naming the dtypes the kernel takes. Ops not listed take
        every dtype of ``native_dtypes()``."""
        return {}

    # -- graph compilation (issue #11): ef.function's fusion pass -------------------------
    #: Elementwise ops (registry names) that ``compile_elementwise`` can take, and the dtypes
    #: (names) their values may have. ``ef.function``'s fusion pass forms groups from these
    #: only, so an op or dtype a backend cannot fuse never spoils a whole group. Empty: no
    #: fusion (the default).
    fusion_ops: frozenset = frozenset()
    fusion_dtypes: frozenset = frozenset()

    def compile_elementwise(self, group) -> Callable | None:
        """Compile a group of elementwise ops into one callable, or return None to decline.

        ``ef.function``'s fusion pass calls this once per group when it lowers a traced graph
        (never per op call). ``group`` (``eagerflow_core.function.fusion.Group``) is a maximal
        set of ops of ``fusion_ops`` on one device, all of one result shape, whose
        intermediates nothing outside the group uses: its ``inputs`` (shape, dtype), its
        ``steps`` in order (op name, arguments, the dtype they have, the result dtype; casts
        are explicit ``astype`` steps, Python scalars are values of the step's dtype) and its
        ``outputs`` (the steps whose values leave it). The callable takes the inputs' raw
        arrays (which broadcast to ``group.shape``) and returns a tuple of new raw arrays, one
        per output, of the outputs' dtypes. It must not write into its inputs. ``describe()``
        gives the group as text.
        """
        return None

    def communicator(self, info):
        """A communicator for collectives on device ``info.device``
        (``eagerflow_core.distributed.protocol.Communicator``; ``info`` is a ``CommInfo``), or
        None (the default): then ``eagerflow_core.distributed`` uses MPI for ``cpu`` and MPI
        through host memory (a counted fallback) for other devices. The CUDA backend returns
        its NCCL communicator here."""
        return None

    def communicator_unavailable(self) -> str:
        """Why :meth:`communicator` gave None in a world of several processes ("" for no
        particular reason): the fallback's message shows it."""
        return ""

    def known_failures(self) -> list[dict]:
        """Conformance checks this backend knows it fails: dicts with ``op``, ``dtype``,
        ``check`` (``"*"`` matches any) and ``reason``. Declared, never a blanket skip."""
        return []

    # -- the execution contract (issue #10): synchronisation, memory, streams and events ----
    # Everything here has a default that is right for a synchronous host-memory backend (the
    # CPU), so a backend overrides only what its device really has. Benchmarks, distributed
    # code and ``ef.Stream``/``ef.Event`` call these; nothing calls them per op.

    def synchronize(self, index: int) -> None:
        """Wait until every operation queued on device ``index`` has finished."""

    def memory_stats(self, index: int) -> dict[str, int]:
        """Memory of device ``index`` in bytes: ``bytes_in_use``, ``peak_bytes_in_use`` and
        ``bytes_reserved`` (held by the backend's pool). A backend without a pool of its own
        returns what it knows ({} on the CPU: the process's memory is the OS's business)."""
        return {}

    def empty_cache(self, index: int) -> None:
        """Give memory the backend's pool holds but does not use back to the device."""

    def create_stream(self, index: int, *, non_blocking: bool = False, priority: int = 0):
        """A new stream (an ordered queue of work) on device ``index``: a backend object the
        core only hands back to the methods below."""
        return _HostStream(index)

    def current_stream(self, index: int):
        """The stream new work on device ``index`` goes to."""
        return _HOST_STREAMS.setdefault(index, _HostStream(index))

    def set_current_stream(self, index: int, stream) -> None:
        """Make ``stream`` the current stream of device ``index`` (``with ef.Stream(...)``)."""

    def stream_synchronize(self, stream) -> None:
        """Wait until the work queued on ``stream`` has finished."""

    def stream_query(self, stream) -> bool:
        """True if the work queued on ``stream`` has finished."""
        return True

    def create_event(self, index: int, *, timing: bool = True):
        """A new event (a marker in a stream's work) on device ``index``."""
        return _HostEvent()

    def record_event(self, event, stream) -> None:
        """Mark ``event`` at the current end of ``stream``'s work."""
        event.time = time.perf_counter()

    def event_synchronize(self, event) -> None:
        """Wait until the work before ``event`` has finished."""

    def event_query(self, event) -> bool:
        """True if the work before ``event`` has finished."""
        return True

    def stream_wait_event(self, stream, event) -> None:
        """Make ``stream``'s later work wait for ``event`` (no host wait)."""

    def event_elapsed_ms(self, start, end) -> float:
        """Milliseconds between two recorded events."""
        if start.time is None or end.time is None:
            raise ValueError("both events must be recorded before measuring the time between them")
        return (end.time - start.time) * 1e3


class _HostStream:
    """The CPU's streams: work runs when it is called, so there is nothing to queue."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


class _HostEvent:
    __slots__ = ("time",)

    def __init__(self):
        self.time = None


_HOST_STREAMS: dict = {}
