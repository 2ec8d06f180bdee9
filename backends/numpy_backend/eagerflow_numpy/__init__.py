"""eagerflow's CPU backend, on NumPy (bfloat16 through ml_dtypes).

Registered through the ``eagerflow.backends`` entry point; it uses only the plugin surface
``eagerflow_core.plugins``. The kernel table starts from the backend kit (NumPy 2 is an Array API
namespace) and overrides what NumPy does faster or differently (``kernels.py``).
"""

from __future__ import annotations

import numpy as np

from eagerflow_core.plugins import ArrayAPIBackend, hookimpl

from . import _fusion

__version__ = "0.1.0"


class NumpyBackend(ArrayAPIBackend):
    name = "numpy"
    device_type = "cpu"
    version = f"{__version__} (numpy {np.__version__})"
    priority = 0
    array_type = np.ndarray
    checks_index_bounds = True  # NumPy raises IndexError on out-of-range integer indices
    dlpack_device_type = 1
    namespace = np
    # ef.function's fusion (issue #11): groups of elementwise ops become one numba loop when
    # the [jit] extra (numba) is installed; see _fusion.py for when that pays.
    fusion_ops = _fusion.FUSION_OPS if _fusion.available() else frozenset()
    fusion_dtypes = _fusion.FUSION_DTYPES

    def native_dtypes(self):
        import ml_dtypes
        table = super().native_dtypes()
        table["bool"] = np.dtype(np.bool_)
        table = {k: np.dtype(v) for k, v in table.items()}
        table["bfloat16"] = np.dtype(ml_dtypes.bfloat16)
        return table

    def kernels(self):
        from .kernels import build_table
        return build_table()

    def compile_elementwise(self, group):
        return _fusion.compile_group(group)

    def from_host(self, array, index):
        return array  # host memory is this device's memory

    def to_host(self, raw):
        return raw

    def coerce(self, raw):
        return np.asarray(raw)  # NumPy scalars from reductions and 0-d ufuncs -> 0-d arrays


@hookimpl
def eagerflow_backend():
    return NumpyBackend()
