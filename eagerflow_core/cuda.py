"""``ef.cuda``: the GPU-facing names PyTorch users reach for, on the ``cuda`` device type.

Everything here is the device-generic API (``ef.Stream``, ``ef.Event``, ``ef.synchronize``...)
with ``device`` defaulting to ``"cuda"``; the numerics come from whichever plugin owns the
``cuda`` device type (``eagerflow-cuda``). Without one, ``is_available()`` is False and says
nothing else; the rest raises a DeviceError naming what is missing.

>>> import eagerflow_core as ef
>>> isinstance(ef.cuda.is_available(), bool)
True
"""

from __future__ import annotations

from . import _streams
from ._devices import device as _device
from ._errors import DeviceError
from .plugins import loader as _loader

DEVICE_TYPE = "cuda"


def _name(device) -> str:
    if device is None:
        return DEVICE_TYPE
    if isinstance(device, int):
        return f"{DEVICE_TYPE}:{device}"
    return device


def is_available() -> bool:
    """True if a backend owns the ``cuda`` device type and reports itself available."""
    rec = _loader.by_device_type().get(DEVICE_TYPE)
    if rec is None or rec.backend is None:
        return False
    try:
        ok, _ = rec.backend.is_available()
    except Exception:  # noqa: BLE001  (a plugin's failure means "not available")
        return False
    return bool(ok)


def device_count() -> int:
    """How many CUDA devices there are (0 without an available backend)."""
    if not is_available():
        return 0
    return int(_loader.by_device_type()[DEVICE_TYPE].backend.device_count())


def why_unavailable() -> str:
    """The reason ``is_available()`` is False ("" when it is True)."""
    rec = _loader.by_device_type().get(DEVICE_TYPE)
    if rec is None:
        return "no installed backend plugin provides the 'cuda' device type (pip install eagerflow-cuda)"
    if rec.backend is None:
        return rec.reason
    ok, why = rec.backend.is_available()
    return "" if ok else str(why)


def _check(device):
    if not is_available():
        raise DeviceError(f"ef.cuda: {why_unavailable()}")
    return _device(_name(device))


def synchronize(device=None) -> None:
    """Wait for all work on a CUDA device."""
    _streams.synchronize(_check(device))


def memory_stats(device=None) -> dict:
    """Memory statistics of a CUDA device (from its backend's memory pool)."""
    return _streams.memory_stats(_check(device))


def empty_cache(device=None) -> None:
    """Release cached, unused device memory."""
    _streams.empty_cache(_check(device))


def current_stream(device=None) -> _streams.Stream:
    return _streams.current_stream(_check(device))


def Stream(device=None, **options) -> _streams.Stream:  # noqa: N802  (a class to the user)
    """A new CUDA stream; ``with stream:`` sends the ops inside to it."""
    return _streams.Stream(_check(device), **options)


def Event(device=None, **options) -> _streams.Event:  # noqa: N802
    """A new CUDA event (``record``, ``synchronize``, ``query``, ``elapsed_time``)."""
    return _streams.Event(_check(device), **options)
