"""A plugin that claims the device type ``"cpu"``, which the NumPy backend owns."""

import numpy as np

from eagerflow_core.plugins import ArrayAPIBackend, hookimpl


class ClashBackend(ArrayAPIBackend):
    name = "cpu_clash"
    device_type = "cpu"
    namespace = np

    def kernels(self):
        raise AssertionError("the clashing backend must never be used")


@hookimpl
def eagerflow_backend():
    return ClashBackend()
