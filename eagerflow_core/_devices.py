"""Devices: names like ``"cpu"`` or ``"cuda:1"``, the default device and its context manager."""

from __future__ import annotations

import os
import threading

from ._errors import DeviceError
from .plugins import loader

_ALIASES = {"gpu": "cuda"}  # TensorFlow users write "/GPU:0"


class Device:
    """One device of one backend. Get one with :func:`device`; use it as a context manager.

    >>> import eagerflow_core as ef
    >>> with ef.device("cpu"):
    ...     ef.zeros(2).device
    ef.Device('cpu:0')
    """

    __slots__ = ("type", "index", "backend", "kernels", "native", "array_type", "coerce", "_name",
                 "__weakref__")

    def __init__(self, rec: loader.LoadedBackend, index: int):
        self.type = rec.device_type
        self.index = index
        self.backend = rec           # the loader's record: Backend object, status, tables
        self.kernels = rec.backend.kernels_for(index) if index else rec.kernels
        self.native = rec.native     # DType -> native dtype
        # Read on every op result; kept here so the hot path does one attribute lookup.
        self.array_type = rec.backend.array_type
        self.coerce = rec.backend.coerce
        self._name = f"{self.type}:{index}"

    def __repr__(self):
        return f"ef.Device({self._name!r})"

    def __str__(self):
        return self._name

    def __eq__(self, other):
        if other is self:
            return True
        if isinstance(other, str):
            try:
                return _parse(other) == (self.type, self.index)
            except DeviceError:
                return False
        return NotImplemented

    def __hash__(self):
        return hash(self._name)

    def __enter__(self):
        _stack().append(self)
        return self

    def __exit__(self, *exc):
        _stack().pop()
        return False


_tls = threading.local()
_default: Device | None = None


def _stack() -> list:
    s = getattr(_tls, "stack", None)
    if s is None:
        s = _tls.stack = []
    return s


def _parse(spec: str) -> tuple[str, int]:
    text = spec.strip().lstrip("/").lower()
    kind, _, idx = text.partition(":")
    kind = _ALIASES.get(kind, kind)
    if not kind.isidentifier() or (idx and not idx.isdigit()):
        raise DeviceError(f"{spec!r} is not a device name; write '<type>' or '<type>:<index>', "
                          f"e.g. 'cpu' or 'cuda:0'")
    return kind, int(idx) if idx else 0


def device(spec=None) -> Device:
    """The Device named by ``spec`` (``"cpu"``, ``"cuda:1"``, a Device), or the default one.

    Raises DeviceError naming the known device types when ``spec`` names none of them.
    """
    if spec is None:
        return default_device()
    if type(spec) is Device:
        return spec
    if not isinstance(spec, str):
        raise DeviceError(f"device: expected a device name like 'cpu' or a Device, got {type(spec).__name__}")
    kind, index = _parse(spec)
    rec = loader.by_device_type().get(kind)
    if rec is None:
        raise DeviceError(_unknown(spec, kind))
    dev = rec.devices.get(index)
    if dev is None:
        rec.ensure_ready()
        count = rec.backend.device_count()
        if not 0 <= index < count:
            raise DeviceError(f"device {spec!r} does not exist: backend {rec.name!r} has {count} "
                              f"{kind} device(s), indices 0..{count - 1}")
        dev = rec.devices[index] = Device(rec, index)
    return dev


def _unknown(spec, kind) -> str:
    """Why no backend serves device type ``kind``: a plugin of that name (or one that
    declared it) failed or is disabled, or none is installed."""
    for rec in loader.ensure_loaded().values():
        if rec.status != "ok" and (rec.name == kind or rec.declared_type == kind):
            return (f"device {spec!r}: backend plugin {rec.name!r} would provide it, but it is "
                    f"{rec.status}: {rec.reason}")
    known = sorted(loader.by_device_type()) or ["(none: no backend plugin is installed)"]
    return (f"unknown device {spec!r}: known device types are {', '.join(known)}; see "
            f"ef.backends() for plugins that failed to load")


def default_device() -> Device:
    """The innermost ``with ef.device(...)`` device, else ``EAGERFLOW_DEVICE``, else the
    available backend with the highest priority."""
    s = getattr(_tls, "stack", None)
    if s:
        return s[-1]
    global _default
    if _default is None:
        _default = _choose_default()
    return _default


def _choose_default() -> Device:
    env = os.environ.get("EAGERFLOW_DEVICE", "").strip()
    if env:
        return device(env)
    recs = sorted(loader.by_device_type().values(), key=lambda r: (-r.backend.priority, r.name))
    reasons = []
    for rec in recs:
        try:
            return device(rec.device_type)
        except DeviceError as exc:
            reasons.append(str(exc))
    detail = "; ".join(reasons) or "no backend plugin is installed (pip install eagerflow-numpy)"
    raise DeviceError(f"no usable device: {detail}")


def devices() -> list[Device]:
    """Every device of every available backend.

    >>> import eagerflow_core as ef
    >>> ef.device("cpu") in ef.devices()
    True
    """
    out = []
    for rec in sorted(loader.by_device_type().values(), key=lambda r: (-r.backend.priority, r.name)):
        try:
            first = device(rec.device_type)
        except DeviceError:
            continue
        out.append(first)
        out.extend(device(f"{rec.device_type}:{i}") for i in range(1, rec.backend.device_count()))
    return out


def reset() -> None:
    """Forget the default device (the plugins were reloaded).

    ``with ef.device(...)`` blocks stay in effect: their devices keep working, and each block
    pops its own device when it ends.
    """
    global _default
    _default = None


loader.on_reload.append(reset)
