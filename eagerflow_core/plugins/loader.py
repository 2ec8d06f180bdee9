"""Finding and loading backend plugins.

pluggy finds the plugins and validates their hook implementations; everything else is ours,
because pluggy's own entry-point loader stops at the first plugin that raises (a stale plugin
would break ``import eagerflow_core`` for everyone, JAX's pain). So each entry point is loaded,
registered and called inside its own try/except; a failure is recorded with its reason, shown
by ``ef.backends()``, warned about once, and the other plugins keep working. What a plugin
returns is compiled into plain dicts here; no hook is ever called on the op path.

Discovery is lazy: it runs the first time eagerflow needs a device, not at import. A backend's
own heavy initialisation waits longer still, until one of its devices is first used.
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass
from importlib import metadata

import pluggy

from .._errors import DeviceError, PluginError
from . import hookspecs
from .backend import PLUGIN_API_VERSION, Backend

ENTRY_POINT_GROUP = "eagerflow.backends"


class PluginWarning(UserWarning):
    """A backend plugin could not be loaded; the others keep working."""


@dataclass(frozen=True)
class BackendInfo:
    """One row of ``ef.backends()``: what eagerflow knows about one installed plugin."""

    name: str
    device_type: str | None
    version: str | None
    api_version: int | None
    priority: int
    status: str  # "ok", "unavailable", "failed" or "disabled"
    reason: str
    num_kernels: int | None  # None until the backend is first used (or if it cannot load)
    source: str

    @property
    def available(self) -> bool:
        return self.status == "ok"


class BackendReport(list):
    """The list ``ef.backends()`` returns; prints as a table."""

    def __repr__(self):
        return format_report(self)


def format_report(rows) -> str:
    head = ("backend", "device", "version", "api", "prio", "status", "kernels", "reason")
    table = [head] + [
        (r.name, r.device_type or "-", r.version or "-", str(r.api_version or "-"), str(r.priority),
         r.status, "-" if r.num_kernels is None else str(r.num_kernels), r.reason or "")
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(head) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1]
        for row in table
    ).rstrip()


class LoadedBackend:
    """The core's record of one plugin: its Backend, its status, and (once used) its tables."""

    def __init__(self, name: str, source: str):
        self.name = name
        self.source = source
        self.backend: Backend | None = None
        self.status = "failed"
        self.reason = ""
        self.ready = False
        self.kernels: dict = {}
        self.native: dict = {}       # DType -> native dtype
        self.from_native: dict = {}  # native dtype -> DType
        self.devices: dict = {}      # index -> Device
        self.plugin: object = None   # what the entry point loaded (to recognise it on reload)
        self._lock = threading.Lock()

    @property
    def device_type(self):
        return self.backend.device_type if self.backend is not None else None

    def info(self) -> BackendInfo:
        b = self.backend
        if b is not None and self.status == "ok":
            ok, why = _safe_available(b)
            if not ok:
                self.status, self.reason = "unavailable", why
        return BackendInfo(
            name=self.name, device_type=b.device_type if b else None,
            version=str(b.version) if b else None, api_version=b.api_version if b else None,
            priority=b.priority if b else 0, status=self.status, reason=self.reason,
            num_kernels=len(self.kernels) if self.ready else None, source=self.source)

    def ensure_ready(self) -> None:
        """Run the backend's heavy initialisation once, then compile its tables."""
        if self.ready:
            return
        with self._lock:
            if self.ready:
                return
            b = self.backend
            if self.status != "ok" or b is None:
                raise DeviceError(f"backend {self.name!r} cannot be used: {self.status}: {self.reason}")
            ok, why = _safe_available(b)
            if not ok:
                self.status, self.reason = "unavailable", why
                raise DeviceError(f"backend {self.name!r} (device type {b.device_type!r}) is not "
                                  f"available: {why}")
            from .._dtypes import as_dtype
            try:
                b.initialize()
                native = {as_dtype(k): v for k, v in b.native_dtypes().items()}
                kernels = dict(b.kernels())
            except Exception as exc:  # a plugin's failure must not take the process down
                self.status, self.reason = "failed", f"initialize failed: {type(exc).__name__}: {exc}"
                raise DeviceError(f"backend {self.name!r} failed to initialise: {self.reason}") from exc
            self.native = native
            self.from_native = {}
            for dt, nat in native.items():
                self.from_native.setdefault(nat, dt)
            self.kernels = kernels
            self.ready = True


def _safe_available(b: Backend) -> tuple[bool, str]:
    try:
        ok, why = b.is_available()
        return bool(ok), str(why or "")
    except Exception as exc:
        return False, f"is_available() raised {type(exc).__name__}: {exc}"


# -- discovery ---------------------------------------------------------------------------------

_lock = threading.RLock()
_loaded: dict[str, LoadedBackend] | None = None     # plugin name -> record (every plugin seen)
_by_type: dict[str, LoadedBackend] = {}             # device type -> record (loaded ones only)
_in_process: dict[str, object] = {}                 # plugins registered with register_plugin()
_previous: dict[str, LoadedBackend] = {}            # records before reload_plugins(), to reuse

# The project's own backends own these device types: another plugin takes one only by declaring
# a higher priority (a deliberate override), never because its name happens to sort first.
_RESERVED = {"cpu": "numpy", "cuda": "cuda"}


def _allow_list() -> set[str] | None:
    raw = os.environ.get("EAGERFLOW_BACKENDS", "").strip()
    return {n.strip() for n in raw.split(",") if n.strip()} if raw else None


def _strict() -> bool:
    return os.environ.get("EAGERFLOW_STRICT_PLUGINS", "").strip().lower() in ("1", "true", "yes", "on")


def _entry_points():
    eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
    seen = {}
    for ep in sorted(eps, key=lambda e: (e.name, e.value)):
        # The same distribution seen twice on sys.path counts once; two distributions that
        # claim one plugin name are both kept, so that the second is reported, not dropped.
        seen.setdefault((ep.name, ep.value), ep)
    return list(seen.values())


def _discover() -> None:
    global _loaded, _by_type
    records: dict[str, LoadedBackend] = {}
    by_type: dict[str, LoadedBackend] = {}
    allow = _allow_list()
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    failures = []

    candidates = [(ep.name, f"entry point {ep.value}", ep.load) for ep in _entry_points()]
    candidates += [(name, "registered in-process", (lambda o=obj: o)) for name, obj in _in_process.items()]
    for name, source, load in candidates:
        rec = LoadedBackend(name, source)
        if name in records:
            rec.reason = f"plugin name {name!r} is already taken by {records[name].source}"
            failures.append(rec)
            records[f"{name} ({source})"] = rec
            continue
        records[name] = rec
        if allow is not None and name not in allow:
            rec.status, rec.reason = "disabled", f"not in EAGERFLOW_BACKENDS={os.environ['EAGERFLOW_BACKENDS']}"
            continue
        rec = records[name] = _load_one(pm, rec, load, _previous.get(name))

    # Device types are handed out in one deterministic order once every plugin is loaded.
    claimants = sorted((r for r in records.values() if r.status == "ok"), key=_claim_order)
    for rec in claimants:
        owner = by_type.get(rec.device_type)
        if owner is None:
            by_type[rec.device_type] = rec
        else:
            rec.status, rec.backend = "failed", None
            rec.reason = (f"device type {owner.device_type!r} is already taken by plugin "
                          f"{owner.name!r} (priority {owner.backend.priority})")
    failures += [r for r in records.values() if r.status == "failed" and r not in failures]

    _loaded, _by_type = records, by_type
    for rec in failures:
        msg = f"eagerflow: backend plugin {rec.name!r} was not loaded: {rec.reason}"
        if _strict():
            raise PluginError(msg + " (EAGERFLOW_STRICT_PLUGINS is set)")
        warnings.warn(msg, PluginWarning, stacklevel=3)


def _claim_order(rec: LoadedBackend):
    b = rec.backend
    return (-b.priority, _RESERVED.get(b.device_type, rec.name) != rec.name, rec.name)


def _load_one(pm, rec: LoadedBackend, load, previous) -> LoadedBackend:
    """Load, validate and call one plugin; every failure lands in ``rec.reason``.

    The same plugin object seen again after ``reload_plugins()`` keeps its record, so its
    devices keep their identity and tensors made before combine with new ones.
    """
    try:
        obj = load()
    except Exception as exc:
        rec.reason = f"import failed: {type(exc).__name__}: {exc}"
        return rec
    if (previous is not None and previous.plugin is obj and previous.source == rec.source
            and previous.backend is not None):
        previous.status, previous.reason = "ok", ""
        return previous
    rec.plugin = obj
    try:
        pm.register(obj, name=rec.name)
        impls = [i for i in pm.hook.eagerflow_backend.get_hookimpls() if i.plugin_name == rec.name]
    except Exception as exc:
        rec.reason = f"invalid plugin: {type(exc).__name__}: {exc}"
        return rec
    if not impls:
        rec.reason = "the plugin implements no eagerflow_backend hook"
        return rec
    try:
        backend = impls[0].function()
    except Exception as exc:
        rec.reason = f"eagerflow_backend() raised {type(exc).__name__}: {exc}"
        return rec
    if not isinstance(backend, Backend):
        rec.reason = f"eagerflow_backend() returned {type(backend).__name__}, not an eagerflow Backend"
        return rec
    if backend.api_version != PLUGIN_API_VERSION:
        rec.reason = (f"built for plugin API version {backend.api_version}; this eagerflow-core "
                      f"speaks version {PLUGIN_API_VERSION}")
        return rec
    if not str(backend.device_type or "").isidentifier():
        rec.reason = f"device_type {backend.device_type!r} is not a plain name like 'cpu' or 'cuda'"
        return rec
    rec.backend, rec.status = backend, "ok"
    return rec


def ensure_loaded() -> dict[str, LoadedBackend]:
    if _loaded is None:
        with _lock:
            if _loaded is None:
                _discover()
    return _loaded


def by_device_type() -> dict[str, LoadedBackend]:
    ensure_loaded()
    return _by_type


def report() -> BackendReport:
    """Every installed plugin, loaded or not, sorted by priority then name."""
    rows = [rec.info() for rec in ensure_loaded().values()]
    rows.sort(key=lambda r: (-r.priority, r.name))
    return BackendReport(rows)


def reload_plugins() -> None:
    """Forget every loaded plugin and discover them again (after changing EAGERFLOW_* variables).

    Tensors made before keep working, on their old backend objects.
    """
    global _loaded, _by_type, _previous
    with _lock:
        _previous = _loaded or _previous
        _loaded, _by_type = None, {}
        for forget in on_reload:
            forget()


#: Called after ``reload_plugins`` (the devices module forgets its default device here).
on_reload: list = []


def register_plugin(plugin: object, name: str) -> None:
    """Register a plugin object (a module or any object with the hook) without an entry point.

    Meant for tests and notebooks; the plugin goes through the same checks as an installed one.
    """
    _in_process[name] = plugin
    reload_plugins()


def unregister_plugin(name: str) -> None:
    """Remove a plugin registered with :func:`register_plugin`."""
    _in_process.pop(name, None)
    reload_plugins()
