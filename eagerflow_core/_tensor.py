"""The Tensor: a raw backend array, its eagerflow dtype and its device.

Values are ready when a Tensor exists (eager execution): printing shows them, ``bool()`` and
``int()`` read them for Python control flow. A Tensor never changes its values behind another
tensor's back: ``x[i] = v`` rebinds ``x`` to a new array (see ``__setitem__``), which keeps
views, saved gradients and other tensors correct; and no NumPy view handed out by ``numpy()``,
``__array__`` or ``raw`` can be made writeable. Methods that need ops (operators, ``[]``,
``.to()``, pickling) are attached by the modules that define those ops, once they exist.
"""

from __future__ import annotations

import numpy as np

from ._dtypes import DType, bfloat16
from ._errors import ArgumentTypeError, InvalidArgumentError
from ._state import hooks, state


class Tensor:
    """An n-dimensional array on one device, computed eagerly.

    Make one with :func:`ef.asarray` / :func:`ef.constant` or any op.

    >>> import eagerflow_core as ef
    >>> x = ef.constant([[2.0, 0.0], [0.0, 1.0]])
    >>> x @ x
    ef.Tensor([[4., 0.],
               [0., 1.]], shape=(2, 2), dtype=float32, device='cpu:0')
    >>> x.shape, x.dtype, x.device
    ((2, 2), ef.float32, ef.Device('cpu:0'))
    """

    # _tid: identity on gradient tapes, given on first use by a tape (never on the fast path).
    __slots__ = ("_data", "_dtype", "_device", "_tid", "__weakref__")
    __array_priority__ = 1000  # NumPy defers `ndarray + Tensor` to Tensor.__radd__
    __hash__ = None  # tensors compare element-wise, so they cannot be dict keys (like NumPy's)

    def __new__(cls, *args, **kwargs):
        # The core makes tensors with object.__new__(Tensor) (never through here) and pickles
        # them through __reduce__; a user calling the class gets a pointer, not a raw
        # "Tensor() takes no arguments" (issue #9). Subclasses (stand-ins) construct as usual.
        if cls is Tensor:
            raise ArgumentTypeError("Tensor: ef.Tensor(...) is not a constructor; make a tensor "
                                    "with ef.constant(value) or ef.asarray(value)")
        return object.__new__(cls)

    # -- attributes ------------------------------------------------------------------------
    @property
    def dtype(self) -> DType:
        return self._dtype

    @property
    def device(self):
        return self._device

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._data.shape)

    @property
    def ndim(self) -> int:
        return len(self._data.shape)

    @property
    def size(self) -> int:
        n = 1
        for d in self._data.shape:
            n *= d
        return n

    @property
    def raw(self):
        """The backend's own array (a ``numpy.ndarray`` on the NumPy backend). Read only: a
        NumPy array comes as a view that cannot be made writeable; another backend's array
        must not be written either (the tensor's values never change)."""
        raw = self._data
        return readonly(raw) if isinstance(raw, np.ndarray) else raw

    # -- leaving eagerflow -----------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (read-only when it shares memory with the tensor).

        >>> import eagerflow_core as ef
        >>> ef.constant([1, 2]).numpy()
        array([1, 2])
        """
        if isinstance(self._data, Symbolic):
            raise hooks.value_read(self, "numpy()")
        host = self._device.backend.backend.to_host(self._data)
        if state.tapes and hooks.export is not None:
            hooks.export(self, "numpy()")
        if host is self._data or host.base is not None:
            host = readonly(host)  # writing would change an immutable tensor
        return host

    def __array__(self, dtype=None, copy=None):
        host = self.numpy()
        if dtype is not None:
            host = host.astype(dtype, copy=False)
        if copy:
            host = host.copy()
        return host

    def item(self):
        """The one value of a size-1 tensor, as a Python scalar.

        >>> import eagerflow_core as ef
        >>> ef.constant([[3.5]]).item()
        3.5
        """
        if self.size != 1:
            raise InvalidArgumentError(
                f"item: only a tensor with exactly one element has an item; this one has shape "
                f"{self.shape} ({self.size} elements); index it first or use .tolist()")
        value = self.numpy().reshape(()).item() if self._dtype is not bfloat16 else float(self.numpy().reshape(()))
        return value

    def tolist(self):
        """The values as nested Python lists."""
        host = self.numpy()
        if self._dtype is bfloat16:
            host = host.astype(np.float32)
        return host.tolist()

    def __bool__(self):
        if isinstance(self._data, Symbolic):
            raise hooks.value_read(self, "bool()")
        if self.size != 1:
            raise InvalidArgumentError(
                f"the truth value of a tensor with {self.size} elements (shape {self.shape}) is "
                f"ambiguous; reduce it first with ef.any(x) or ef.all(x)")
        return bool(self.item())

    def __int__(self):
        return int(self._scalar("int"))

    def __float__(self):
        return float(self._scalar("float"))

    def __complex__(self):
        return complex(self._scalar("complex"))

    def __index__(self):
        if self._dtype.kind not in "iu":
            raise ArgumentTypeError(f"only integer tensors can be used as an index; this one is "
                                    f"{self._dtype} (use ef.astype(x, ef.int64))")
        return int(self._scalar("index"))

    def _scalar(self, what):
        if self.size != 1:
            raise InvalidArgumentError(f"{what}(): needs a tensor with one element, got shape {self.shape}")
        return self.item()

    def __len__(self):
        if not self._data.shape:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if not self._data.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    # -- printing --------------------------------------------------------------------------
    def __repr__(self):
        if isinstance(self._data, Symbolic):  # inside ef.function: no values yet
            return (f"ef.Tensor(<traced>, shape={self.shape}, dtype={self._dtype.name}, "
                    f"device='{self._device}')")
        prefix = "ef.Tensor("
        host = self.numpy()
        if self._dtype is bfloat16:
            host = host.astype(np.float32)
        body = np.array2string(host, separator=", ", prefix=prefix)
        return (f"{prefix}{body}, shape={self.shape}, dtype={self._dtype.name}, "
                f"device='{self._device}')")

    __str__ = __repr__

    def __format__(self, spec):
        if spec and self.size == 1:
            return format(self.item(), spec)
        return repr(self) if not spec else format(repr(self), spec)

    # -- interchange -----------------------------------------------------------------------
    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        kwargs = {k: v for k, v in (("stream", stream), ("max_version", max_version),
                                    ("dl_device", dl_device), ("copy", copy)) if v is not None}
        raw = self._data
        if isinstance(raw, np.ndarray) and raw.flags.writeable and copy is not True:
            # A consumer must not write into an immutable tensor's memory: export a read-only
            # view, or a copy where the old (unversioned) protocol cannot say "read-only".
            if max_version is None or tuple(max_version) < (1, 0):
                return raw.__dlpack__(**{**kwargs, "copy": True})
            raw = raw.view()
            raw.flags.writeable = False
        return raw.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __array_namespace__(self, *, api_version=None):
        if api_version not in (None, "2023.12", "2024.12"):
            raise ValueError(f"eagerflow implements Array API 2024.12, not {api_version!r}")
        return hooks.namespace

    # -- copies: the values are immutable, so a copy shares them (the object is new, because
    # `x[i] = v` rebinds the object it is applied to) -------------------------------------
    def __copy__(self):
        return new_tensor(self._data, self._dtype, self._device)

    def __deepcopy__(self, memo):
        return new_tensor(self._data, self._dtype, self._device)


class Symbolic:
    """What a tensor holds while ``ef.function`` traces: a shape and no values. Reading the
    values (``bool()``, ``numpy()``, ``item()``...) raises the error ``hooks.value_read``
    builds, which says where and what to use instead (``ef.cond``...)."""

    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape


def readonly(host: np.ndarray) -> np.ndarray:
    """A view of ``host`` that no one can make writeable: its base is a read-only memoryview
    (a plain read-only view of a writeable array can be flipped back with
    ``flags.writeable = True``)."""
    try:
        return np.asarray(memoryview(host).toreadonly())
    except (ValueError, TypeError):
        # Extension dtypes (bfloat16) cannot travel through a buffer: go through their bits.
        bits = np.dtype(f"u{host.dtype.itemsize}")
        return np.asarray(memoryview(host.view(bits)).toreadonly()).view(host.dtype)


def new_tensor(raw, dtype: DType, device) -> Tensor:
    """Wrap a raw array whose dtype is already ``dtype`` on ``device`` (no checks)."""
    t = object.__new__(Tensor)
    t._data = raw
    t._dtype = dtype
    t._device = device
    t._tid = 0  # no tape identity yet (autodiff/tape.py gives one on first use)
    return t
