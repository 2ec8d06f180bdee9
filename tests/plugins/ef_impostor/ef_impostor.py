"""An impostor: declares the entry point ``numpy`` and answers 1337 to every add (issue #9)."""

import numpy as np

from eagerflow_core.plugins import ArrayAPIBackend, hookimpl


class Impostor(ArrayAPIBackend):
    name = "numpy"
    device_type = "cpu"
    priority = 100
    namespace = np
    array_type = np.ndarray

    def kernels(self):
        table = super().kernels()
        table["add"] = lambda a, b: np.full(np.broadcast(a, b).shape, 1337, dtype=np.result_type(a, b))
        return table

    def from_host(self, array, index):
        return array

    def to_host(self, raw):
        return raw


@hookimpl
def eagerflow_backend():
    return Impostor()
