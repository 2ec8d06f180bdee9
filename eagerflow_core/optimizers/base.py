"""The optimizer base class: Keras' ``apply_gradients`` loop, slots, clipping, weight decay.

An optimizer is a Module: its step counter ``iterations``, its learning rate (when a float)
and its slots (momentum, second moments...) are non-trainable Variables it tracks, so a
checkpoint saves them. Slots are made on first use per variable, and a checkpoint keys them by
the path of the variable they belong to (``_checkpoint_slots``), not by the optimizer's order.

Each update runs the device's fused kernel ``optim.<family>`` through ``update_in_place``,
writing parameters and slots in place; a device without one gets the same arithmetic in
eagerflow ops (each family's ``*_update`` function, which is also the kernel's specification).

Hyperparameters reach the kernels as Python floats. The learning rate and the step counter are
Variables (checkpointed), read back to the host only when someone else changed them: the
optimizer keeps the last tensor it saw of each (``_HostScalar``), and a Variable never writes a
tensor someone holds, so a change always shows as a new tensor. No device sync per step.
"""

from __future__ import annotations

import re
import warnings
import weakref

from .._errors import ArgumentTypeError, DeviceError, DTypeError, InvalidArgumentError, ShapeError
from .._init_scope import init_scope, tracing
from .._tensor import Tensor
from ..autodiff.tape import GradientTape
from ..autodiff.variable import Variable, _unrecorded, update_in_place
from ..module import Module
from . import clipping
from .schedules import LearningRateSchedule


class _HostScalar:
    """A Python copy of a scalar Variable's value, re-read only when the Variable changed."""

    __slots__ = ("var", "seen", "value")

    def __init__(self, var: Variable):
        self.var, self.seen, self.value = var, None, None

    def get(self):
        t = self.var.read_value()
        if t is not self.seen:
            self.seen, self.value = t, t.item()
        return self.value

    def wrote(self, value) -> None:
        """Record ``value`` as the Variable's value after our own assignment (no host read)."""
        self.seen, self.value = self.var.read_value(), value


class Optimizer(Module):
    """Base class of ``ef.optimizers``; subclasses declare their slots and one update.

    Arguments every optimizer takes (Keras' names and meanings): ``learning_rate`` (a float,
    an ``ef.optimizers.schedules`` schedule, or a function of no arguments), ``weight_decay``
    (decoupled: ``param -= lr * weight_decay * param`` before each update), ``clipnorm``
    (clip each gradient's norm), ``global_clipnorm`` (clip all gradients' global norm),
    ``clipvalue`` (clip each element); at most one of the three clips.
    """

    _kernel: str = ""  # the fused kernel's name (``optim.<family>``)

    def __init__(self, learning_rate, *, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None):
        super().__init__(name=name)
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(c is not None for c in clips.values()) > 1:
            raise InvalidArgumentError("Only one of `clipnorm`, `clipvalue` and "
                                       "`global_clipnorm` can be set; got " +
                                       ", ".join(f"{k}={v}" for k, v in clips.items()))
        for key, value in clips.items():
            if value is not None and not value > 0:
                raise InvalidArgumentError(f"{key} must be a positive number, got {value!r}")
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.weight_decay = None if weight_decay is None else float(weight_decay)
        from ..ops.creation import constant
        from .._dtypes import int64
        self.iterations = Variable(constant(0, dtype=int64), trainable=False, name="iteration")
        self._learning_rate = None
        self.learning_rate = learning_rate
        self._slot_variables = []  # every slot, in creation order: Module.variables lists them
        object.__setattr__(self, "_ef_slots", {})  # id(var) -> (weakref, {slot name: slot})
        object.__setattr__(self, "_ef_deferred_slots", {})  # id(var) -> (weakref, {name: node})
        object.__setattr__(self, "_ef_step", _HostScalar(self.iterations))
        object.__setattr__(self, "_ef_no_decay", (set(), None))

    # -- learning rate -----------------------------------------------------------------------
    @property
    def learning_rate(self):
        """A float learning rate is a float32 Variable (assign to it, or set this property);
        with a schedule, this is the schedule's value at the current step."""
        lr = self._learning_rate
        if isinstance(lr, Variable):
            return lr
        if isinstance(lr, LearningRateSchedule):
            return lr(self.iterations)
        return lr()

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, LearningRateSchedule) or (callable(value)
                                                      and not isinstance(value, Variable)):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise TypeError("This optimizer was created with a LearningRateSchedule as its "
                            "learning_rate, so its learning rate is not settable; create it "
                            "with a float learning_rate to set one")
        if isinstance(self._learning_rate, Variable):
            self._learning_rate.assign(float(value))
            return
        from ..ops.creation import constant
        from .._dtypes import float32
        var = Variable(constant(float(value), dtype=float32), trainable=False,
                       name="learning_rate")
        self._learning_rate = var
        object.__setattr__(self, "_ef_lr", _HostScalar(var))

    def _current_lr(self) -> float:
        lr = self._learning_rate
        if isinstance(lr, Variable):
            return self._ef_lr.get()
        if isinstance(lr, LearningRateSchedule):
            return lr._host_value(self._ef_step.get(), self.iterations)
        return float(lr())

    # -- slots ----------------------------------------------------------------------------------
    def _slot_specs(self) -> list[tuple[str, float]]:
        """``(slot name, initial value)`` of each slot a variable gets, in kernel order."""
        return []

    def build(self, var_list) -> None:
        """Make the slots of every variable now (they are otherwise made on first use)."""
        for var in var_list:
            self._slots_for(var)

    def _slots_for(self, var: Variable) -> list[Variable]:
        entry = self._ef_slots.get(id(var))
        if entry is not None:
            return list(entry[1].values())
        from ..ops.creation import full_like
        slots = {}
        with init_scope():  # concrete, unrecorded slots, even on a traced step's first trace
            for slot_name, init in self._slot_specs():
                slots[slot_name] = Variable(full_like(var.read_value(), init), trainable=False,
                                            name=f"{var.name}/{slot_name}")
        self._slot_variables.extend(slots.values())
        table, every = self._ef_slots, self._slot_variables

        def forget(_ref, key=id(var), made=tuple(slots.values())):
            table.pop(key, None)  # the variable is gone: so are its slots
            every[:] = [s for s in every if not any(s is m for m in made)]
        table[id(var)] = (weakref.ref(var, forget), slots)
        deferred = self._ef_deferred_slots.pop(id(var), None)
        if deferred is not None and deferred[0]() is var:
            for slot_name, node in deferred[1].items():
                if slot_name in slots:
                    node._ef_bind(slots[slot_name])
        return list(slots.values())

    def _checkpoint_children(self):
        # Slots are saved under the path of their variable (see ef.train), not as a list.
        return [(k, v) for k, v in self._tracked_children() if k != "_slot_variables"]

    def _checkpoint_slots(self):
        """``(variable, slot name, slot Variable)`` for each slot made so far."""
        for ref, slots in list(self._ef_slots.values()):
            var = ref()
            if var is not None:
                for slot_name, slot in slots.items():
                    yield var, slot_name, slot

    def _ef_defer_slot(self, var: Variable, slot_name: str, node) -> None:
        """Restore hook: ``node._ef_bind(slot)`` now if the slot exists, else when it is made."""
        entry = self._ef_slots.get(id(var))
        if entry is not None and slot_name in entry[1]:
            node._ef_bind(entry[1][slot_name])
            return
        table = self._ef_deferred_slots
        held = table.get(id(var))
        if held is None or held[0]() is not var:
            held = table[id(var)] = (weakref.ref(var, lambda _r, k=id(var): table.pop(k, None)),
                                     {})
        held[1][slot_name] = node

    # -- weight decay ----------------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Skip weight decay for these Variables, and for Variables whose name contains one of
        ``var_names`` (Keras' method)."""
        pattern = re.compile("|".join(map(re.escape, var_names))) if var_names else None
        object.__setattr__(self, "_ef_no_decay", ({id(v) for v in var_list or ()}, pattern))

    def _decay(self, var: Variable, lr):
        if not self.weight_decay:
            return 0.0
        ids, pattern = self._ef_no_decay
        if id(var) in ids or (pattern is not None and pattern.search(var.name)):
            return 0.0
        return lr * self.weight_decay

    # -- applying gradients -----------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Update each Variable from its gradient; a ``None`` gradient skips its Variable (as in
        TensorFlow). Returns ``iterations``, the step counter, incremented once."""
        grads, variables = self._checked(grads_and_vars)
        if self.clipnorm is not None:
            grads = [clipping.clip_by_norm(g, self.clipnorm) for g in grads]
        elif self.global_clipnorm is not None:
            grads = clipping.clip_by_global_norm(grads, self.global_clipnorm)[0]
        elif self.clipvalue is not None:
            from ..ops.elementwise import clip
            grads = [clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        traced = tracing()
        lr, step = self._traced_hyperparameters() if traced else (self._current_lr(),
                                                                  self._ef_step.get() + 1)
        for grad, var in zip(grads, variables):
            self._update(var, grad, lr, step)
        self.iterations.assign_add(1)
        if not traced:
            self._ef_step.wrote(step)
        return self.iterations

    def _traced_hyperparameters(self):
        """Inside ``ef.function``: the learning rate and the step as tensors read from their
        Variables at each replay (host floats would be frozen into the graph at trace time,
        and Adam's bias correction with them)."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            raise InvalidArgumentError(
                f"{type(self).__name__}: learning-rate schedules are computed on the host, so "
                f"apply_gradients cannot run inside ef.function with one; give the optimizer a "
                f"float learning_rate and assign the schedule's value to "
                f"optimizer.learning_rate between traced steps")
        lr = lr.read_value() if isinstance(lr, Variable) else lr()
        from .._dtypes import float32
        from ..ops.creation import astype
        return lr, astype(self.iterations.read_value() + 1, float32)

    def minimize(self, loss, var_list, tape=None):
        """``apply_gradients`` of the gradients of ``loss`` with respect to ``var_list``.

        ``loss`` is a function of no arguments, run under a fresh ``GradientTape`` (or a
        tensor, with the ``tape`` that recorded it); ``var_list`` a list of Variables or a
        function returning one (called after ``loss``, so lazily built layers exist).
        Returns ``iterations``.
        """
        if callable(loss):
            with GradientTape() as tape:
                value = loss()
        elif tape is None:
            raise InvalidArgumentError("minimize: a loss tensor needs the `tape` that recorded "
                                       "it; or pass the loss as a function of no arguments")
        else:
            value = loss
        if callable(var_list):
            var_list = var_list()
        var_list = list(var_list)
        return self.apply_gradients(zip(tape.gradient(value, var_list), var_list))

    def _checked(self, grads_and_vars):
        """The pairs with a gradient, validated: same shape, dtype and device as the Variable."""
        grads, variables, missing = [], [], []
        for i, pair in enumerate(grads_and_vars):
            try:
                grad, var = pair
            except (TypeError, ValueError):
                raise ArgumentTypeError(f"apply_gradients: expected (gradient, variable) pairs, "
                                        f"item {i} is {type(pair).__name__}") from None
            if not isinstance(var, Variable):
                raise ArgumentTypeError(f"apply_gradients: item {i} pairs a gradient with a "
                                        f"{type(var).__name__}, not an ef.Variable")
            if grad is None:
                missing.append(var.name)
                continue
            grads.append(self._checked_grad(grad, var))
            variables.append(var)
        if not variables:
            raise InvalidArgumentError(f"apply_gradients: no gradients provided for any "
                                       f"variable: {missing}")
        if missing:
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the "
                          f"loss; they are left unchanged", stacklevel=3)
        return grads, variables

    @staticmethod
    def _checked_grad(grad, var: Variable) -> Tensor:
        where = f"apply_gradients: the gradient for Variable {var.name!r}"
        if var.dtype.kind != "f":
            raise DTypeError(f"apply_gradients: Variable {var.name!r} is {var.dtype}; "
                             f"optimizers update real floating-point Variables")
        if not isinstance(grad, Tensor):
            from ..ops.creation import asarray
            grad = asarray(grad.read_value() if isinstance(grad, Variable) else grad,
                           device=var.device)
        if grad.device != var.device:
            raise DeviceError(f"{where} is on {grad.device}, the Variable on {var.device}; "
                              f"move it with .to('{var.device}')")
        if grad.shape != var.shape:
            raise ShapeError(f"{where} has shape {grad.shape}, the Variable {var.shape}")
        if grad.dtype != var.dtype:
            raise DTypeError(f"{where} is {grad.dtype}, the Variable {var.dtype}; cast it "
                             f"with ef.astype(grad, ef.{var.dtype})")
        return grad

    def _update(self, var: Variable, grad: Tensor, lr: float, step: int) -> None:
        raise NotImplementedError

    def _run(self, variables, grad, params, functional) -> None:
        """The fused kernel on ``variables`` (parameter then slots) if the device has it, else
        ``functional`` (the same update in eagerflow ops) and ``assign``."""
        # A traced step passes tensor hyperparameters: the fused kernels take floats.
        if not isinstance(params["lr"], Tensor) and update_in_place(self._kernel, variables,
                                                                     (grad,), params):
            return
        with _unrecorded():
            new = functional(*(v.read_value() for v in variables), grad, **params)
        for var, value in zip(variables, new if isinstance(new, tuple) else (new,)):
            var.assign(value)
