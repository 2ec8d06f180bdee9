"""The backend kit: a complete kernel table from any Python Array API namespace.

The core's ops follow the standard's names and signatures, so a backend over an Array API
library (NumPy 2, CuPy, ``array_api_compat.torch``, JAX...) starts with
``kernels_from_namespace(xp)`` at near-full coverage, then overrides what it does better.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._dtypes import ALL_DTYPES
from .backend import Backend


# Ops whose kernels have eagerflow's own signature, not the namespace function of the same name:
# numpy.random.uniform(low, high, size) is no "random.uniform"(key, counter, shape, dtype)
# kernel, and taking it would draw silently wrong values (eagerflow_core/random).
_NOT_FROM_NAMESPACE = ("random.",)


def _resolve(xp, dotted: str):
    obj = xp
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj if callable(obj) else None


def _generic_kernels(xp) -> dict[str, Callable]:
    """Kernels for the core's own ops that are not functions of the standard's namespace."""

    def getitem(x, key):
        return x[key]

    def setitem(x, value, key):
        # Tensor inputs come first, then the key (the dispatcher's calling convention).
        out = xp.asarray(x, copy=True)  # functional: the input array is never written
        out[key] = value
        return out

    def inplace_add(x, y):
        x += y  # the standard's in-place operators; used only on buffers nothing else can see
        return x

    def inplace_subtract(x, y):
        x -= y
        return x

    table = {"getitem": getitem, "setitem": setitem, "from_dlpack": getattr(xp, "from_dlpack", None),
             "inplace_add": inplace_add, "inplace_subtract": inplace_subtract}
    add_at = getattr(getattr(xp, "add", None), "at", None)
    if add_at is not None:  # NumPy-like ufuncs: scatter-add for the gradient of gathers
        def index_add(x, values, key):
            out = xp.asarray(x, copy=True)
            add_at(out, key, xp.broadcast_to(values, out[key].shape))  # NumPy 2.4 miscounts otherwise
            return out
        table["index_add"] = index_add
    return table


def kernels_from_namespace(xp: Any, ops=None) -> dict[str, Callable]:
    """A kernel table taking every op the namespace ``xp`` has, by the standard's names.

    >>> import numpy as np
    >>> from eagerflow_core.plugins import kernels_from_namespace
    >>> table = kernels_from_namespace(np)
    >>> table["add"] is np.add, "linalg.inv" in table
    (True, True)
    """
    from .._registry import OPS  # complete: importing eagerflow_core registered every op
    table = {}
    for name in (OPS if ops is None else ops):
        if name.startswith(_NOT_FROM_NAMESPACE):
            continue
        op = OPS.get(name)
        if op is not None and not op.needs_kernel:
            continue  # the core computes it; a same-named function (np.identity) is another thing
        fn = _resolve(xp, name)
        if fn is not None:
            table[name] = fn
    for name, fn in _generic_kernels(xp).items():
        if fn is not None:
            table.setdefault(name, fn)
    return table


def normalize_dtype(xp, native):
    """The dtype object an array of ``native`` dtype reports (``xp.empty(0, dtype).dtype``)."""
    try:
        return xp.empty((0,), dtype=native).dtype
    except Exception:  # noqa: BLE001  (a namespace without empty: keep what it gave)
        return native


class ArrayAPIBackend(Backend):
    """A Backend over an Array API namespace: set ``namespace`` (or pass it) and go.

    >>> import numpy as np
    >>> from eagerflow_core.plugins import ArrayAPIBackend
    >>> class Mine(ArrayAPIBackend):
    ...     name, device_type, namespace = "mine", "mine", np
    >>> len(Mine().kernels()) > 100
    True
    """

    namespace: Any = None

    def __init__(self, namespace=None):
        if namespace is not None:
            self.namespace = namespace

    def native_dtypes(self) -> dict[str, Any]:
        """Each dtype as the namespace's arrays report it (``x.dtype``). Many namespaces
        spell dtypes as scalar types (``numpy.float32``, ``jax.numpy.float32``) that compare
        equal to, but do not hash like, the dtype objects arrays carry: the core looks native
        dtypes up in dicts, so they are normalised here (issue #9)."""
        xp = self.namespace
        out = {}
        for d in ALL_DTYPES:
            native = getattr(xp, d.name, None)
            if native is not None:
                out[d.name] = normalize_dtype(xp, native)
        return out

    def kernels(self) -> dict[str, Callable]:
        return kernels_from_namespace(self.namespace)

    def from_host(self, array: np.ndarray, index: int):
        return self.namespace.asarray(array)

    def to_host(self, raw) -> np.ndarray:
        try:
            return np.from_dlpack(raw)
        except (TypeError, BufferError, RuntimeError, AttributeError):
            return np.asarray(raw)

    def coerce(self, raw):
        # Reductions of many libraries return scalars; the core holds arrays only.
        return self.namespace.asarray(raw)
