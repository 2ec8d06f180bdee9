"""``ef.Variable``: mutable state (a layer's weights) that behaves as a tensor in ops."""

from __future__ import annotations

import sys
import weakref

from .._dispatch import state
from .._errors import ShapeError
from .._tensor import Tensor


_refcount = getattr(sys, "getrefcount", None)  # CPython: in-place updates need it


class Variable:
    """A named, assignable tensor; trainable ones are watched by tapes when read.

    >>> import eagerflow_core as ef
    >>> w = ef.Variable(ef.ones((2,)), name="w")
    >>> with ef.GradientTape() as tape:
    ...     loss = ef.sum(w * w)
    >>> tape.gradient(loss, w)
    ef.Tensor([2., 2.], shape=(2,), dtype=float32, device='cpu:0')
    >>> w.assign_sub([0.5, 0.5]).numpy()
    array([0.5, 0.5], dtype=float32)
    """

    _ef_variable_ = True
    _registry: "weakref.WeakValueDictionary[int, Variable]" = weakref.WeakValueDictionary()
    _count = 0
    __array_priority__ = 1001

    def __init__(self, initial_value, trainable: bool = True, name: str | None = None,
                 dtype=None, device=None):
        from ..ops.creation import constant
        self._value = constant(initial_value, dtype=dtype, device=device)
        self.trainable = bool(trainable)
        Variable._count += 1
        self.name = name if name is not None else f"Variable:{Variable._count}"
        Variable._registry[id(self)] = self

    @classmethod
    def _all_live(cls):
        return list(cls._registry.values())

    # -- reading -----------------------------------------------------------------------------
    def _ef_tensor_(self) -> Tensor:
        value = self._value
        if state.tapes and self.trainable:
            for tape in state.tapes:
                if tape._recording and tape._watch_vars:
                    tape._watch_variable(self, value)
            for reads in getattr(state, "var_reads", ()):  # custom_gradient bodies running
                reads.setdefault(id(self), (self, value))
        return value

    def read_value(self) -> Tensor:
        """The current value, as a Tensor (recorded as a read by active tapes)."""
        return self._ef_tensor_()

    value = read_value

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def shape(self):
        return self._value.shape

    @property
    def device(self):
        return self._value.device

    @property
    def ndim(self):
        return self._value.ndim

    @property
    def size(self):
        return self._value.size

    def numpy(self):
        return self._value.numpy()

    def __array__(self, dtype=None, copy=None):
        return self._value.__array__(dtype, copy)

    def __repr__(self):
        values = repr(self._value).split("(", 1)[1].rsplit(", shape=", 1)[0]
        return (f"<ef.Variable {self.name!r} shape={self.shape} dtype={self.dtype.name} "
                f"device='{self.device}' value={values}>")

    # -- writing -----------------------------------------------------------------------------
    def assign(self, value) -> "Variable":
        """Replace the value (same shape; cast to the Variable's dtype). Returns self."""
        from ..ops.creation import asarray
        new = asarray(value, dtype=self.dtype, device=self.device)
        if new.shape != self.shape:
            raise ShapeError(f"assign: Variable {self.name!r} has shape {self.shape}, the new "
                             f"value has shape {new.shape}")
        if new is value:  # never alias a tensor the caller still holds a name for
            from .._tensor import new_tensor
            new = new_tensor(new._data, new._dtype, new._device)
        self._value = new
        return self

    def assign_add(self, delta) -> "Variable":
        """``self.assign(self + delta)``."""
        d = self._delta(delta)
        if self._update_in_place("inplace_add", d):
            return self
        return self.assign(self._value + d)

    def assign_sub(self, delta) -> "Variable":
        """``self.assign(self - delta)``."""
        d = self._delta(delta)
        if self._update_in_place("inplace_subtract", d):
            return self
        return self.assign(self._value - d)

    def _update_in_place(self, kernel: str, d) -> bool:
        """Update the value's buffer in place when nothing else can see it (PyTorch's ``sub_``
        without its aliasing hazards): no tensor read earlier, no view, no tape record, no
        NumPy array from ``.numpy()`` holds it, so no one can observe the write. The check is
        CPython's reference count, as NumPy's own temporary elision does."""
        t = self._value
        if _refcount is None or _refcount(t) != 3 or _refcount(t._data) != 2:
            return False
        kern = t._device.kernels.get(kernel)
        if kern is None or d._device is not t._device or d._dtype is not t._dtype:
            return False
        if d.shape != t.shape:
            from ..ops._rules import broadcast_shapes
            try:
                if broadcast_shapes(d.shape, t.shape) != t.shape:
                    return False
            except ShapeError:
                return False
        kern(t._data, d._data)
        return True

    def _delta(self, delta):
        from ..ops.creation import asarray
        return asarray(_plain(delta), dtype=self.dtype, device=self.device)

    def __setitem__(self, key, value):
        # An assignment (TensorFlow's semantics): no op on any tape, like assign(); and a value
        # read earlier keeps its values (the write goes to a new tensor).
        from .._tensor import new_tensor
        t = new_tensor(self._value._data, self._value._dtype, self._value._device)
        tapes, state.tapes = state.tapes, ()
        try:
            t[key] = value
        finally:
            state.tapes = tapes
        self._value = t


def _plain(x):
    return x._value if isinstance(x, Variable) else x


def _forward(name):
    def method(self, *args):
        return getattr(self._ef_tensor_(), name)(*args)
    method.__name__ = name
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__",
              "__rpow__", "__matmul__", "__rmatmul__", "__neg__", "__pos__", "__abs__",
              "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__and__", "__or__",
              "__xor__", "__invert__", "__getitem__", "__bool__", "__float__", "__int__",
              "__index__", "__len__", "__iter__", "__format__", "item", "tolist", "astype", "to"):
    setattr(Variable, _name, _forward(_name))
Variable.__hash__ = object.__hash__  # Variables are objects with identity (optimizer state keys)
Variable.T = property(lambda self: self._ef_tensor_().T)
Variable.mT = property(lambda self: self._ef_tensor_().mT)
