"""``ef.Variable``: mutable state (a layer's weights) that behaves as a tensor in ops.

The rules that keep tensors immutable while a Variable changes (issue #9):

- A Variable owns its buffer: the initial value and every ``assign`` are copied, so no user
  array or tensor ever aliases it.
- A value once read never changes: an update writes into the buffer in place only when no one
  else can observe it (no tensor read earlier, no view, no tape record, no NumPy export holds
  it: CPython's reference counts tell, as NumPy's own temporary elision does); otherwise the
  update makes a new buffer.
- Updates are atomic: each Variable has a lock, held by reads and by every update, so eight
  threads doing ``assign_add`` lose nothing (TensorFlow serialises them the same way).
"""

from __future__ import annotations

import itertools
import sys
import threading
import weakref
from contextlib import contextmanager

from .._dispatch import state
from .._errors import DeviceError, DTypeError, EagerflowError, InvalidArgumentError, ShapeError
from .._tensor import Tensor, new_tensor

_refcount = getattr(sys, "getrefcount", None)  # CPython: in-place updates need it
_names = itertools.count(1)
_KIND_RANK = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}


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
    __array_priority__ = 1001

    def __init__(self, initial_value, trainable: bool = True, name: str | None = None,
                 dtype=None, device=None):
        from ..ops.creation import constant
        source = _plain(initial_value)
        try:
            value = constant(source, dtype=dtype, device=device)  # copies host data
        except EagerflowError as exc:
            raise _renamed(exc, "Variable") from None
        self._value = _own_copy(value) if value is source else value
        self._lock = threading.Lock()
        self.trainable = bool(trainable)
        self.name = name if name is not None else f"Variable:{next(_names)}"
        Variable._registry[id(self)] = self

    @classmethod
    def _all_live(cls):
        return list(cls._registry.values())

    # -- reading -----------------------------------------------------------------------------
    def _ef_tensor_(self) -> Tensor:
        tracer = _tracer() if state.interp is not None else None
        if tracer is not None:  # inside ef.function: a read node (captured by reference)
            value = tracer.read_variable(self)
        else:
            with self._lock:  # an in-place update never runs between this read and its use
                value = self._value
        if state.tapes and self.trainable:
            for tape in state.tapes:
                if tape._recording and tape._watch_vars:
                    tape._watch_variable(self, value)
            for reads in getattr(state, "var_reads", ()):  # custom_gradient bodies running
                reads.setdefault(id(self), (self, value))
        return value

    def read_value(self) -> Tensor:
        """The current value, as a Tensor (recorded as a read by active tapes). It never
        changes afterwards, whatever is assigned to the Variable."""
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
        return self.read_value().numpy()

    def __array__(self, dtype=None, copy=None):
        return self.read_value().__array__(dtype, copy)

    def __repr__(self):
        values = repr(self._value).split("(", 1)[1].rsplit(", shape=", 1)[0]
        return (f"<ef.Variable {self.name!r} shape={self.shape} dtype={self.dtype.name} "
                f"device='{self.device}' value={values}>")

    # -- writing -----------------------------------------------------------------------------
    def assign(self, value) -> "Variable":
        """Replace the value with a copy of ``value`` (same shape, on the Variable's device).
        A value of the Variable's kind or a lower one is cast to its dtype (an int into a
        float Variable); a higher kind (a float into an int Variable) raises, as TensorFlow
        does. Returns self."""
        tracer = _tracer() if state.interp is not None else None
        if tracer is not None:
            tracer.assign_variable(self, self._converted(value, "assign", copy=False), "assign")
            return self
        new = self._converted(value, "assign")
        with self._lock:
            self._value = new
        return self

    def assign_add(self, delta) -> "Variable":
        """``self.assign(self + delta)``, atomically."""
        return self._update("add", delta, "assign_add")

    def assign_sub(self, delta) -> "Variable":
        """``self.assign(self - delta)``, atomically."""
        return self._update("subtract", delta, "assign_sub")

    def _update(self, how: str, delta, what: str) -> "Variable":
        d = self._operand(delta, what)
        tracer = _tracer() if state.interp is not None else None
        if tracer is not None:
            tracer.assign_variable(self, d, "add" if how == "add" else "sub")
            return self
        with self._lock:
            t = self._value
            kern = t._device.kernels.get("inplace_" + how)
            if kern is not None and d._dtype is t._dtype and _sole_owner(self, held=1):
                _adopt(self, kern(t._data, d._data))
                return self
            from ..ops import elementwise
            with _unrecorded():
                new = getattr(elementwise, how)(t, d)
            self._value = new
        return self

    def _operand(self, delta, what: str) -> Tensor:
        """``delta`` as a tensor of the Variable's dtype that broadcasts to its shape."""
        d = self._converted(delta, what, copy=False, exact_shape=False)
        if d.shape != self.shape:
            from ..ops._rules import broadcast_shapes
            try:
                ok = broadcast_shapes(d.shape, self.shape) == self.shape
            except ShapeError:
                ok = False
            if not ok:
                raise ShapeError(f"{what}: Variable {self.name!r} has shape {self.shape}; a "
                                 f"delta of shape {d.shape} does not broadcast to it")
        return d

    def _converted(self, value, what: str, copy=True, exact_shape=True) -> Tensor:
        """``value`` as a tensor of this Variable's dtype on its device (a private copy when
        ``copy``), refusing a lossy kind change and a silent device move."""
        from ..ops.creation import asarray, astype
        value = _plain(value)
        dt, dev = self._value._dtype, self._value._device
        if isinstance(value, Tensor):
            if value._device is not dev:
                raise DeviceError(f"{what}: Variable {self.name!r} is on {dev}, the value on "
                                  f"{value._device}; eagerflow never moves data silently: "
                                  f"move it with .to('{dev}') first")
            t = value
        else:
            try:
                t = asarray(value, device=dev, copy=True if copy else None)
            except EagerflowError as exc:
                raise _renamed(exc, what) from None
            if t._dtype.kind in "iu" and dt.kind in "iu" and t._dtype is not dt:
                _check_fits(t, dt, what, self.name)  # host data: a cheap check, no wrap-around
        if _KIND_RANK[t._dtype.kind] > _KIND_RANK[dt.kind]:
            raise DTypeError(f"{what}: cannot write a {t._dtype} value into Variable "
                             f"{self.name!r} of dtype {dt} without losing information; cast "
                             f"it explicitly first (ef.astype(value, ef.{dt}))")
        if exact_shape and t.shape != self._value.shape:
            raise ShapeError(f"{what}: Variable {self.name!r} has shape {self._value.shape}, "
                             f"the new value has shape {t.shape}")
        if t._dtype is not dt:
            with _unrecorded():
                return astype(t, dt)  # a new buffer
        if copy and t is value:
            return _own_copy(t)
        return t

    def __setitem__(self, key, value):
        # An assignment (TensorFlow's semantics): no op on any tape, like assign(); and a value
        # read earlier keeps its values (the write goes to a new tensor).
        with self._lock:
            t = new_tensor(self._value._data, self._value._dtype, self._value._device)
            with _unrecorded():
                t[key] = value
            self._value = t

    # -- copying and pickling (by value; never a function or a class from elsewhere) --------
    def __reduce__(self):
        return (_rebuild_variable, (self.read_value(), self.trainable, self.name))

    def __deepcopy__(self, memo):
        new = Variable(self.read_value(), trainable=self.trainable, name=self.name)
        memo[id(self)] = new
        return new

    def __copy__(self):
        return self.__deepcopy__({})


def _rebuild_variable(value, trainable, name):
    return Variable(value, trainable=trainable, name=name)


def update_in_place(kernel: str, variables, operands=(), params=None) -> bool:
    """Run the device kernel ``kernel`` to update several Variables at once, atomically.

    The kernel is called as ``kernel(*buffers, *operands, **params)`` with the Variables' raw
    buffers first and returns the updated arrays, one per Variable (or one array for one
    Variable). A backend that can write writes into the buffers and returns them; a backend
    whose arrays are immutable returns new arrays; either way the Variables take what comes
    back. A buffer that someone else can observe (a value read earlier, a view, a tape record)
    is copied first, so a value once read never changes. This is how optimizers update
    parameters and their slots without allocating per step (see ``ef.optimizers``).

    Returns False, changing nothing, when the device has no such kernel: the caller then
    computes the new values with eagerflow ops and ``assign``s them.

    >>> import eagerflow_core as ef
    >>> from eagerflow_core.autodiff.variable import update_in_place
    >>> v = ef.Variable([1.0, 2.0])
    >>> update_in_place("inplace_add", [v], [ef.constant([10.0, 10.0])])
    True
    >>> v.numpy()
    array([11., 12.], dtype=float32)
    """
    variables = list(variables)
    if not variables:
        return True
    dev = variables[0]._value._device
    kern = dev.kernels.get(kernel)
    if kern is None:
        return False
    tracer = _tracer() if state.interp is not None else None
    if tracer is not None:  # inside ef.function: an update node, run at every replay
        tracer.update_variables(kernel, variables, [_plain(x) for x in operands], params)
        return True
    raws = []
    for x in operands:
        x = _plain(x)
        if isinstance(x, Tensor):
            if x._device is not dev:
                raise DeviceError(f"{kernel}: an operand is on {x._device}, the Variables on "
                                  f"{dev}; move it with .to('{dev}') first")
            x = x._data
        raws.append(x)
    ordered = sorted(set(variables), key=id)  # one lock order: no deadlock between updates
    for v in ordered:
        if v._value._device is not dev:
            raise DeviceError(f"{kernel}: Variables on several devices ({dev}, "
                              f"{v._value._device}); update each device's Variables apart")
        v._lock.acquire()
    try:
        buffers = []
        for v in variables:
            if not _sole_owner(v):
                v._value = _own_copy(v._value)
            buffers.append(v._value._data)
        out = kern(*buffers, *raws, **(params or {}))
        outs = out if isinstance(out, (tuple, list)) else (out,)
        if len(outs) != len(variables):
            from .._errors import KernelError
            raise KernelError(f"{kernel}: the {dev.backend.name!r} kernel returned {len(outs)} "
                              f"arrays for {len(variables)} Variables")
        for v, raw in zip(variables, outs):
            _adopt(v, raw)
    finally:
        for v in ordered:
            v._lock.release()
    return True


def _tracer():
    """The ef.function tracer below the thread's top interpreter, if one is tracing."""
    interp = state.interp
    while interp is not None:
        if getattr(interp, "traces", False):
            return interp
        interp = interp.parent
    return None


def _sole_owner(var: Variable, held: int = 0) -> bool:
    """True when no one but ``var`` can see its buffer (call with ``var._lock`` held;
    ``held``: references to the value tensor the caller holds in locals)."""
    if _refcount is None:
        return False
    t = var._value
    # var._value, the local `t`, getrefcount's argument, the caller's; t._data and the argument.
    return _refcount(t) == 3 + held and _refcount(t._data) == 2


def _adopt(var: Variable, raw) -> None:
    """Make ``raw`` (what an update kernel returned) the Variable's buffer."""
    t = var._value
    if raw is None or raw is t._data:
        return
    dev = t._device
    if type(raw) is not dev.array_type:
        raw = dev.coerce(raw)
    var._value = new_tensor(raw, t._dtype, dev)


def _own_copy(t: Tensor) -> Tensor:
    """A tensor with a private copy of ``t``'s values."""
    raw = t._device.kernels["astype"](t._data, t._device.native[t._dtype], copy=True)
    return new_tensor(raw, t._dtype, t._device)


@contextmanager
def _unrecorded():
    """Ops run here are not recorded by any tape: assignments are not differentiable."""
    paused = [t for t in state.tapes if t._recording]
    for t in paused:
        t._recording = False
    try:
        yield
    finally:
        for t in paused:
            t._recording = True


def _plain(x):
    return x.read_value() if isinstance(x, Variable) else x


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
Variable.__hash__ = object.__hash__  # Variables are objects with identity (optimizer slots are keyed by Variables)
Variable.T = property(lambda self: self._ef_tensor_().T)
Variable.mT = property(lambda self: self._ef_tensor_().mT)


def _renamed(exc: EagerflowError, what: str) -> EagerflowError:
    """``exc`` with the name of the op the user called (``assign_add``), not the conversion's
    (``asarray``) (issue #9)."""
    return type(exc)(f"{what}: {str(exc).split(': ', 1)[-1]}")


def _check_fits(t: Tensor, dt, what: str, name: str) -> None:
    """Integers from host data must fit the Variable's integer dtype: NumPy's cast wraps
    around (``2**40`` into int32 is 0), a silent wrong value."""
    import numpy as np
    host, info = t.numpy(), np.iinfo(dt.numpy)
    if host.size and (host.min() < info.min or host.max() > info.max):
        bad = host.min() if host.min() < info.min else host.max()
        raise InvalidArgumentError(f"{what}: the value {bad} does not fit Variable {name!r} of "
                                   f"dtype {dt} (range {info.min}..{info.max})")
