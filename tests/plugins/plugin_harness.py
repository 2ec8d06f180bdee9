"""Helpers for tests that load backend plugins, in-process or through real entry points.

The directories next to this file are throwaway plugin distributions, one each: a
``pyproject.toml`` declaring an ``eagerflow.backends`` entry point and a one-module package.
Installing them for real (a venv, pip) would take seconds per case; instead
:func:`run_with_plugins` writes each one's ``<name>.dist-info`` (``METADATA`` and
``entry_points.txt``, read from its pyproject) into a temporary directory and puts it on
``sys.path`` of a fresh interpreter, where ``importlib.metadata`` finds it like an installed
distribution. The parent test process never sees these plugins.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

PLUGINS_DIR = Path(__file__).resolve().parent


def write_dist_info(site: Path, dist: str, plugin_name: str | None = None) -> None:
    """Make the plugin distribution ``dist`` (a directory here) look installed in ``site``.

    ``plugin_name`` renames its entry point (the plugin name eagerflow sees).
    """
    project = tomllib.loads((PLUGINS_DIR / dist / "pyproject.toml").read_text())["project"]
    info = site / f"{project['name']}-{project['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    lines = []
    for group, points in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{plugin_name or name} = {target}" for name, target in points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


def run_with_plugins(tmp_path: Path, dists, code: str, env: dict | None = None) -> dict:
    """Run ``code`` in a fresh project interpreter that has the plugin ``dists`` installed.

    Each of ``dists`` is a directory name here, or ``"dir:plugin_name"`` to rename its entry point.

    ``code`` must print one JSON object as its last line; that object is returned. A non-zero
    exit fails with the child's output. ``EAGERFLOW_*`` variables of the parent are dropped;
    ``env`` sets the child's own.
    """
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    dirs = []
    for spec in dists:
        dist, _, plugin_name = spec.partition(":")
        write_dist_info(site, dist, plugin_name or None)
        dirs.append(str(PLUGINS_DIR / dist))
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("EAGERFLOW_")}
    paths = [str(site)] + dirs
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    child_env["PYTHONPATH"] = os.pathsep.join(paths)
    child_env.update(env or {})
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=child_env,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"child process failed ({proc.returncode}):\n{proc.stdout}\n"
                             f"{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def import_toy():
    """The ``ef_toy`` plugin module, importable in this process for in-process tests."""
    path = str(PLUGINS_DIR / "ef_toy")
    if path not in sys.path:
        sys.path.insert(0, path)
    import ef_toy
    return ef_toy


def import_plugin_module(dist: str):
    """One of the plugin modules here (``"ef_hook_raises"``...), imported in this process."""
    path = str(PLUGINS_DIR / dist)
    if path not in sys.path:
        sys.path.insert(0, path)
    import importlib
    return importlib.import_module(dist)


@contextlib.contextmanager
def registered(**plugins):
    """Register plugin objects in-process (``name=plugin``) for the duration of a block.

    On exit the plugins are unregistered and plugins reloaded, then the loader's and the
    default device's previous state is put back: ``reload_plugins()`` makes new Device objects,
    and tensors that other tests made before would otherwise no longer combine with new ones.
    """
    from eagerflow_core import _devices
    from eagerflow_core.plugins import loader, register_plugin, unregister_plugin

    saved = (loader._loaded, loader._by_type, _devices._default, _devices._stack())
    try:
        for name, plugin in plugins.items():
            register_plugin(plugin, name)
        yield
    finally:
        for name in plugins:
            unregister_plugin(name)
        loader._loaded, loader._by_type, _devices._default, _devices._tls.stack = saved


def plugin_of(backend_cls):
    """An in-process plugin object whose hook gives a new ``backend_cls()``."""
    from eagerflow_core.plugins import hookimpl

    class Plugin:
        @hookimpl
        def eagerflow_backend(self):
            return backend_cls()
    return Plugin()
