"""The plugin surface: everything a backend package imports from eagerflow.

>>> from eagerflow_core.plugins import Backend, hookimpl, PLUGIN_API_VERSION
>>> PLUGIN_API_VERSION
1
"""

from .backend import PLUGIN_API_VERSION, Backend
from .hookspecs import hookimpl
from .kit import ArrayAPIBackend, kernels_from_namespace
from .loader import BackendInfo, register_plugin, reload_plugins, unregister_plugin

__all__ = [
    "PLUGIN_API_VERSION", "Backend", "ArrayAPIBackend", "kernels_from_namespace", "hookimpl",
    "BackendInfo", "register_plugin", "unregister_plugin", "reload_plugins",
]
