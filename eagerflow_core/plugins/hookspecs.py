"""Hook specifications of eagerflow backend plugins: the whole contract, one hook.

A plugin package names a module (or object) in the ``eagerflow.backends`` entry-point group;
that module implements the hook below with ``@eagerflow_core.plugins.hookimpl``. pluggy finds
and validates it; the core calls it once per plugin, at discovery, and never per op: what the
backend returns is compiled into plain dicts (see ``loader.py``).
"""

from __future__ import annotations

import pluggy

PROJECT = "eagerflow"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def eagerflow_backend():
    """Return this plugin's :class:`~eagerflow_core.plugins.Backend` instance.

    Keep it light: it runs when eagerflow first looks for backends. Import heavy libraries in
    ``Backend.initialize`` instead, which runs on first use of the backend's devices.
    """
