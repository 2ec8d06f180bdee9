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
import re
import threading
import warnings
from dataclasses import dataclass
from importlib import metadata

import numpy as np
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
    distribution: str | None = None  # "eagerflow-numpy 0.1.0": the package that provides it

    @property
    def available(self) -> bool:
        return self.status == "ok"


class BackendReport(list):
    """The list ``ef.backends()`` returns; prints as a table."""

    def __repr__(self):
        return format_report(self)


def format_report(rows) -> str:
    head = ("backend", "distribution", "device", "version", "api", "prio", "status", "kernels",
            "reason")
    table = [head] + [
        (r.name, r.distribution or "-", r.device_type or "-", r.version or "-",
         str(r.api_version or "-"), str(r.priority), r.status,
         "-" if r.num_kernels is None else str(r.num_kernels), r.reason or "")
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(head) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1]
        for row in table
    ).rstrip()


class LoadedBackend:
    """The core's record of one plugin: its Backend, its status, and (once used) its tables."""

    def __init__(self, name: str, source: str, distribution: str | None = None):
        self.name = name
        self.source = source
        self.distribution = distribution  # "name version" of the providing package
        self.declared_type = None  # the device type it asked for, if it lost it to another
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
            num_kernels=len(self.kernels) if self.ready else None, source=self.source,
            distribution=self.distribution)

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
            try:
                declared = dict(b.kernel_dtypes() or {})
            except Exception as exc:  # noqa: BLE001
                self.status, self.reason = "failed", f"kernel_dtypes() raised {type(exc).__name__}: {exc}"
                raise DeviceError(f"backend {self.name!r} failed to initialise: {self.reason}") from exc
            if declared:
                from .restrict import restrict
                kernels = restrict(kernels, declared, native, self.from_native, self.name)
            self.kernels = kernels
            _check_array_type(self.name, b)
            self.ready = True


def _check_array_type(name: str, b: Backend) -> None:
    """Warn once if ``array_type`` is a base class of the backend's arrays (``jax.Array``): the
    core's fast paths compare ``type(raw) is array_type``, so every op result would take the
    slow path (coerce; 8.4 -> 18.2 us per tiny op for a JAX backend, issue #9). The slow path
    accepts the subclass of an abstract base class as it is; the warning says how to get the
    fast path back."""
    want = b.array_type
    if want is object:
        return
    try:
        sample = b.from_host(np.zeros(1, np.float32), 0)
    except Exception:  # noqa: BLE001  (conversion failures are reported where they happen)
        return
    got = type(sample)
    if got is not want and isinstance(sample, want):
        warnings.warn(f"eagerflow: backend {name!r} declares array_type "
                      f"{want.__module__}.{want.__qualname__}, a base class of its arrays "
                      f"({got.__module__}.{got.__qualname__}): every op result takes the slow "
                      f"path; set array_type = {got.__qualname__} (type(xp.zeros(0))) for the "
                      f"fast one", PluginWarning, stacklevel=2)


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
_strict_failures: list[str] = []                    # why strict mode refuses to go on

# The project's own backends own these device types: another plugin takes one only by declaring
# a higher priority (a deliberate override), never because its name happens to sort first.
_RESERVED = {"cpu": "numpy", "cuda": "cuda"}
# ... and their plugin names resolve to their own distributions first: a package declaring the
# entry point `numpy = impostor:...` cannot take over `numpy` (issue #9).
_BUILTIN_DISTS = {"numpy": "eagerflow-numpy", "cuda": "eagerflow-cuda"}
# A plugin slower than this to import is warned about; one slower than the timeout is given up
# on (its import may go on in the background), so a hung import never blocks every thread.
_SLOW_S = 3.0
_TIMEOUT_S = 30.0


def _dist_key(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _allow_list() -> set[str] | None:
    """``EAGERFLOW_BACKENDS``: plugin names or distribution names (``eagerflow-numpy``)."""
    raw = os.environ.get("EAGERFLOW_BACKENDS", "").strip()
    return {_dist_key(n.strip()) for n in raw.split(",") if n.strip()} if raw else None


def _allowed(allow, name: str, dist: str | None) -> bool:
    return allow is None or _dist_key(name) in allow or (dist is not None and _dist_key(dist) in allow)


def _strict() -> bool:
    return os.environ.get("EAGERFLOW_STRICT_PLUGINS", "").strip().lower() in ("1", "true", "yes", "on")


def _seconds(var: str, default: float) -> float:
    try:
        return float(os.environ.get(var, "") or default)
    except ValueError:
        return default


def _entry_points():
    """Every entry point of the group, once each, the rightful owner of a built-in name first."""
    eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
    seen = {}
    for ep in eps:
        dist = getattr(ep, "dist", None)
        # The same distribution seen twice on sys.path counts once; two distributions that
        # claim one plugin name are both kept, so that the second is reported, not dropped.
        seen.setdefault((ep.name, ep.value, dist.name if dist else None), ep)

    def order(ep):
        dist = getattr(ep, "dist", None)
        dname = _dist_key(dist.name) if dist is not None else ""
        owner = _BUILTIN_DISTS.get(ep.name)
        return (ep.name, owner is not None and dname != owner, dname, ep.value)
    return sorted(seen.values(), key=order)


def _dist_label(ep) -> str | None:
    dist = getattr(ep, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else None


def _discover() -> None:
    global _loaded, _by_type
    records: dict[str, LoadedBackend] = {}
    by_type: dict[str, LoadedBackend] = {}
    allow = _allow_list()
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    failures = []

    candidates = [(ep.name, f"entry point {ep.value}", ep.load, _dist_label(ep))
                  for ep in _entry_points()]
    candidates += [(name, "registered in-process", (lambda o=obj: o), None)
                   for name, obj in _in_process.items()]
    for name, source, load, dist in candidates:
        rec = LoadedBackend(name, source, dist)
        if name in records:
            taken = records[name]
            rec.reason = (f"plugin name {name!r} is already taken by {taken.source}"
                          + (f" of {taken.distribution}" if taken.distribution else ""))
            failures.append(rec)
            records[f"{name} ({dist or source})"] = rec
            continue
        records[name] = rec
        if not _allowed(allow, name, dist.rsplit(" ", 1)[0] if dist else None):
            rec.status, rec.reason = "disabled", f"not in EAGERFLOW_BACKENDS={os.environ['EAGERFLOW_BACKENDS']}"
            continue
        rec = records[name] = _load_one(pm, rec, _timed(load, name, dist), _previous.get(name))

    # Device types are handed out in one deterministic order once every plugin is loaded.
    claimants = sorted((r for r in records.values() if r.status == "ok"), key=_claim_order)
    for rec in claimants:
        owner = by_type.get(rec.device_type)
        if owner is None:
            by_type[rec.device_type] = rec
        else:
            rec.declared_type = rec.device_type  # for the messages of ef.device(...)
            rec.status, rec.backend = "failed", None
            rec.reason = (f"device type {owner.device_type!r} is already taken by plugin "
                          f"{owner.name!r} (priority {owner.backend.priority})")
    failures += [r for r in records.values() if r.status == "failed" and r not in failures]

    _loaded, _by_type = records, by_type
    _strict_failures[:] = []
    for rec in failures:
        msg = (f"eagerflow: backend plugin {rec.name!r}"
               + (f" ({rec.distribution})" if rec.distribution else "")
               + f" was not loaded: {rec.reason}")
        if _strict():
            _strict_failures.append(msg)
        else:
            warnings.warn(msg, PluginWarning, stacklevel=3)
    _raise_if_strict()


def _raise_if_strict() -> None:
    """Strict mode refuses every use while a plugin has failed, not only the first."""
    if _strict_failures and _strict():
        raise PluginError("; ".join(_strict_failures) + " (EAGERFLOW_STRICT_PLUGINS is set; "
                          "fix or uninstall the plugin, or unset it, and restart)")


def _timed(load, name: str, dist: str | None):
    """``load`` run in a helper thread: warned about when slow, given up on after the timeout
    (``EAGERFLOW_PLUGIN_TIMEOUT``, seconds), so a hung import blocks no one for ever."""
    def run():
        box: dict = {}

        def target():
            try:
                box["value"] = load()
            except BaseException as exc:  # noqa: BLE001  (reported as the plugin's failure)
                box["error"] = exc
        worker = threading.Thread(target=target, name=f"eagerflow-load-{name}", daemon=True)
        worker.start()
        slow, timeout = _seconds("EAGERFLOW_PLUGIN_SLOW", _SLOW_S), _seconds("EAGERFLOW_PLUGIN_TIMEOUT", _TIMEOUT_S)
        worker.join(min(slow, timeout))
        if worker.is_alive():
            warnings.warn(f"eagerflow: backend plugin {name!r}" + (f" ({dist})" if dist else "")
                          + f" is taking more than {slow:g} s to import; eagerflow gives up on "
                          f"it after {timeout:g} s (EAGERFLOW_PLUGIN_TIMEOUT)", PluginWarning,
                          stacklevel=5)
            worker.join(max(0.0, timeout - slow))
        if worker.is_alive():
            raise TimeoutError(f"the import did not finish within {timeout:g} s "
                               f"(EAGERFLOW_PLUGIN_TIMEOUT); it may be waiting on a lock or a "
                               f"network")
        if "error" in box:
            raise box["error"]
        return box["value"]
    return run


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
        where = getattr(obj, "__file__", None) or repr(obj)
        rec.reason = (f"the plugin implements no eagerflow_backend hook (the entry point loaded "
                      f"{getattr(obj, '__name__', type(obj).__name__)} from {where}; decorate a "
                      f"function with eagerflow_core.plugins.hookimpl)")
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
    if _strict_failures:
        _raise_if_strict()
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
        # Every plugin that ever loaded keeps its record, also across a reload that disabled
        # it (EAGERFLOW_BACKENDS): enabled again, it comes back with the same devices, so
        # tensors made before still combine with new ones.
        _previous = {**_previous, **{n: r for n, r in (_loaded or {}).items()
                                     if r.backend is not None}}
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
