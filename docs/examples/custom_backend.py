"""A backend plugin in a few lines: a second "device" on NumPy that has only some kernels.

A real plugin is a package with an entry point in the ``eagerflow.backends`` group (see
backends/numpy_backend/pyproject.toml); ``register_plugin`` does the same for a script or a
test, through the same checks. Run: `.venv/bin/python docs/examples/custom_backend.py`.
"""

import numpy as np

import eagerflow_core as ef
from eagerflow_core.plugins import ArrayAPIBackend, hookimpl, register_plugin


class Abacus(ArrayAPIBackend):
    """Device type "abacus": NumPy arrays, but only a handful of kernels."""

    name, device_type, version, namespace = "abacus", "abacus", "0.1", np
    priority = -1  # lower than the NumPy backend's: "cpu" stays the default device
    array_type = np.ndarray

    def coerce(self, raw):
        return np.asarray(raw)  # NumPy reductions return scalars: make them 0-d arrays

    def kernels(self):
        table = super().kernels()  # the backend kit: every op NumPy's namespace has
        keep = ("add", "multiply", "astype", "sum")
        return {name: table[name] for name in keep}


class AbacusPlugin:
    @hookimpl
    def eagerflow_backend(self):
        return Abacus()


register_plugin(AbacusPlugin(), "abacus")

x = ef.asarray([1.0, 2.0, 3.0]).to("abacus")       # moving between devices is always explicit
print(x * 2 + 1)
print(ef.sum(x))
try:
    ef.exp(x)                                       # no kernel: a clear error, no silent fallback
except ef.KernelNotFoundError as err:
    print(f"{type(err).__name__}: {err}")
print(ef.exp(x.to("cpu")))
try:
    x + ef.ones(3)                                  # tensors on two devices never mix silently
except ef.DeviceError as err:
    print(f"{type(err).__name__}: {err}")
print(ef.backends())                                # "kernels" counts once a backend was used
