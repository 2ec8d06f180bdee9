"""An example eagerflow backend over PyTorch (CPU): device type ``"torchcpu"``.

It is the worked example of docs/guide/write-a-backend.md: the backend kit's
``kernels_from_namespace`` over ``array_api_compat.torch`` gives nearly every kernel, and
``kernels.py`` overrides the few where that namespace and eagerflow disagree. Nothing here
imports PyTorch until a ``torchcpu`` tensor is first made (``initialize``), so
``import eagerflow_core`` stays fast with this plugin installed.

It is an example, not a product: it passes eagerflow's conformance kit except for the failures
it declares, with their reasons, in ``known_failures.json`` (``eagerflow conformance --backend
torch`` shows them).
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

from eagerflow_core.plugins import ArrayAPIBackend, hookimpl

__version__ = "0.1.0"

# torch has uint16/uint32/uint64 tensors, but most CPU kernels refuse them (`"add_stub" not
# implemented for 'UInt16'`), so this backend does not declare them: eagerflow then says
# "backend 'torch' has no uint16" up front instead of failing inside a kernel.
_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "float16", "bfloat16",
           "float32", "float64", "complex64", "complex128")


def _version() -> str:
    try:
        return f"{__version__} (torch {metadata.version('torch')})"
    except metadata.PackageNotFoundError:
        return __version__


class TorchBackend(ArrayAPIBackend):
    name = "torch"
    device_type = "torchcpu"     # "cpu" belongs to the NumPy backend
    version = _version()
    priority = -10               # never the default device: users ask for it by name
    # torch does check index tensors, but its messages name the wrong axis once a key has been
    # rewritten (see kernels.py) and gathers raise RuntimeError: let the core check them.
    checks_index_bounds = False
    dlpack_device_type = 1       # CPU memory: DLPack works both ways with NumPy

    def is_available(self):
        # Cheap and import-free: look for the modules without importing them.
        for module, hint in (("torch", "pip install torch (the CPU wheel is enough)"),
                             ("array_api_compat", "pip install array-api-compat")):
            if importlib.util.find_spec(module) is None:
                return False, f"{module} is not installed; {hint}"
        return True, ""

    def initialize(self):
        import array_api_compat.torch as xp
        import torch

        self.torch = torch
        self.namespace = xp
        self.array_type = torch.Tensor  # read by the core once the backend is ready

    def native_dtypes(self):
        return {name: getattr(self.torch, name) for name in _DTYPES}

    def kernels(self):
        from .kernels import build_table
        return build_table(self.namespace)

    def from_host(self, array, index):
        t = self.torch
        if array.dtype.name == "bfloat16":  # ml_dtypes' bfloat16: torch cannot read it directly
            return self.from_host(array.view(np.int16), index).view(t.bfloat16)
        if any(s < 0 for s in array.strides):  # torch.from_numpy refuses them
            array = np.ascontiguousarray(array)  # a copy
        if array.flags.writeable:
            return t.from_numpy(array)  # shares memory, as the NumPy backend does
        with warnings.catch_warnings():
            # torch warns that it cannot protect a read-only array from writes; eagerflow never
            # writes into a raw array (tensors are immutable), so sharing it is safe.
            warnings.simplefilter("ignore", UserWarning)
            return t.from_numpy(array)

    def to_host(self, raw):
        # Lazy conjugate/negative views (torch.conj) must be materialised before .numpy().
        raw = raw.resolve_conj().resolve_neg()
        if raw.dtype == self.torch.bfloat16:
            import ml_dtypes
            host = raw.view(self.torch.int16).numpy().view(ml_dtypes.bfloat16)
        else:
            host = raw.numpy()
        # The host array shares the tensor's memory: hand it out read-only, since eagerflow
        # tensors are immutable values.
        host = host.view()
        host.flags.writeable = False
        return host

    def coerce(self, raw):
        # Some torch functions return Python scalars or NumPy values; the core holds tensors.
        return self.torch.as_tensor(np.asarray(raw) if isinstance(raw, np.generic) else raw)

    def known_failures(self):
        # A plain JSON list, so the same file also works as
        # `eagerflow conformance --known-failures known_failures.json`.
        return json.loads(Path(__file__).with_name("known_failures.json").read_text())


@hookimpl
def eagerflow_backend():
    return TorchBackend()
