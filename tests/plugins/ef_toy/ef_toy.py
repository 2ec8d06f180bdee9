"""A working toy backend: NumPy arrays on device type ``"toy"``, through the backend kit.

It counts how often eagerflow calls into it (``CALLS``), so that tests can check that heavy
initialisation is lazy and that no hook runs per op. ``make_plugin`` builds more toy plugins
with other device types and priorities, for in-process tests that need two backends.
"""

from __future__ import annotations

import collections

import numpy as np

from eagerflow_core.plugins import ArrayAPIBackend, hookimpl

#: "hook", "initialize", "kernels", "is_available" -> number of calls, per device type.
CALLS: collections.Counter = collections.Counter()


class ToyBackend(ArrayAPIBackend):
    name = "toy"
    device_type = "toy"
    version = "0.1.0"
    namespace = np
    array_type = np.ndarray

    def __init__(self, device_type="toy", priority=0, available=True, reason=""):
        self.device_type = device_type
        self.priority = priority
        self._available = (available, reason)

    def is_available(self):
        CALLS["is_available", self.device_type] += 1
        return self._available

    def initialize(self):
        CALLS["initialize", self.device_type] += 1

    def kernels(self):
        CALLS["kernels", self.device_type] += 1
        return super().kernels()

    def from_host(self, array, index):
        return np.array(array, copy=True)  # a real copy: this "device" owns its memory


class ToyPlugin:
    """A plugin object (what an entry point names), for ``register_plugin``."""

    def __init__(self, **backend_args):
        self.backend_args = backend_args

    @hookimpl
    def eagerflow_backend(self):
        backend = ToyBackend(**self.backend_args)
        CALLS["hook", backend.device_type] += 1
        return backend


def make_plugin(device_type="toy", priority=0, available=True, reason="") -> ToyPlugin:
    return ToyPlugin(device_type=device_type, priority=priority, available=available,
                     reason=reason)


@hookimpl
def eagerflow_backend():
    CALLS["hook", "toy"] += 1
    return ToyBackend()
