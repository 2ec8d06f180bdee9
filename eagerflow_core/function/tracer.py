"""The tracer: an interpreter on the seam that runs no kernel.

While ``ef.function`` traces, the tracer is the thread's interpreter (below any tape the traced
function opens): each op call becomes a node of the graph, its result a tensor whose data is a
``Sym`` (a slot, a shape, a dtype) computed by the op's rules (``_abstract.py``). Concrete
tensors the function uses (closures, constants it makes) are captured as constants; Variables
are captured by reference: reading one is a "read" node, assigning one an "assign" node, so a
replay reads and updates them. Composites (ops with a default implementation and no kernel
on the device) are traced through their bodies, so the graph holds kernel ops only.
"""

from __future__ import annotations

import sys
import traceback

from .._abstract import abstract_eval
from .._devices import default_device
from .._errors import EagerflowError
from .._state import hooks, state
from .._tensor import Tensor, new_tensor
from .graph import Const, Graph, Node, Sym


class TracingError(EagerflowError, RuntimeError):
    """A traced function did something only eager code can (read a tensor's values)."""


class Tracer:
    """Builds one Graph from the op calls of one run of a Python function."""

    traces = True

    def __init__(self, graph: Graph, outer: "Tracer | None" = None):
        self.parent = None
        self.graph = graph
        self.outer = outer            # the enclosing tracer (a branch of ef.cond...)
        self.captured: dict[int, int] = {}   # id(concrete raw array) -> constant slot
        self.keep: list = []          # the captured tensors (keeps their ids valid)
        self.outer_slots: dict = {}  # (outer graph, slot) -> this graph's input slot
        self.outer_tensors: list[Tensor] = []  # the captured outer tensors, in input order
        self.reads: dict[int, Tensor] = {}     # id(Variable) -> its value read (until assigned)

    # -- values ------------------------------------------------------------------------------
    def tensor(self, shape, dtype, device) -> Tensor:
        slot = self.graph.new_slot(shape, dtype, device)
        return new_tensor(Sym(slot, tuple(shape), dtype, self.graph), dtype, device)

    def input(self, like: Tensor, shape=None) -> Tensor:
        """A new graph input shaped like ``like`` (``shape`` may hold None dims)."""
        t = self.tensor(like.shape if shape is None else shape, like._dtype, like._device)
        self.graph.inputs.append(t._data.slot)
        return t

    def slot_of(self, x):
        """The slot (or Const) standing for an op input."""
        if isinstance(x, Tensor):
            d = x._data
            if isinstance(d, Sym):
                if self._owns(d):
                    return d.slot
                return self._from_outer(x)
            key = id(d)
            slot = self.captured.get(key)
            if slot is None:
                slot = self.captured[key] = self.graph.new_slot(x.shape, x._dtype, x._device)
                self.graph.constants[slot] = x
                self.keep.append(x)
            return slot
        if hasattr(x, "_ef_tensor_"):
            return self.slot_of(x._ef_tensor_())
        return Const(x)

    def _owns(self, d: Sym) -> bool:
        return d.owner is self.graph

    def _from_outer(self, x: Tensor) -> int:
        """A value of an enclosing graph used inside this one: an extra input of this graph
        (a branch of ef.cond reading a tensor computed before it)."""
        outer = (id(x._data.owner), x._data.slot)
        slot = self.outer_slots.get(outer)
        if slot is None:
            slot = self.graph.new_slot(x.shape, x._dtype, x._device)
            self.outer_slots[outer] = slot
            self.outer_tensors.append(x)
            self.graph.inputs.append(slot)
        return slot

    # -- the interpreter ---------------------------------------------------------------------
    def process(self, op, inputs, params, device):
        if op.trace is not None:  # control flow: a node with sub-graphs of its own
            return op.trace(self, inputs, params)
        if op.kind == "general" and (op.dtype_rule is None or
                                     (op.impl is not None and not self._has_kernel(op, inputs, device)
                                      and op.name != "to_device")):
            return self.inline(op.impl, inputs, params)
        shape, dtype = abstract_eval(op, inputs, params, device)
        dev = _device_of(inputs, device)
        ins = [self.slot_of(x) for x in inputs]
        several = type(dtype) is tuple
        shapes = shape if several else [shape]
        dtypes = dtype if several else (dtype,)
        outs = [self.tensor(s, d, _result_device(op, params, dev)) for s, d in zip(shapes, dtypes)]
        self.graph.nodes.append(Node("op", op, ins, _params(self, params),
                                     [o._data.slot for o in outs],
                                     extra="several" if several else None))
        return tuple(outs) if several else outs[0]

    def _has_kernel(self, op, inputs, device) -> bool:
        return op.name in _device_of(inputs, device).kernels

    def inline(self, fn, inputs, params):
        """Run a composite's body with this tracer on top: its ops become nodes here."""
        top = state.interp
        state.interp = self
        try:
            return fn(*inputs, **params)
        finally:
            state.interp = top

    # -- Variables -------------------------------------------------------------------------
    # Reads are recorded by the outermost tracer (a branch of ef.cond captures the value like
    # any tensor from outside), once per Variable until something assigns it: the same value
    # object each time, so that tapes and branches see one read.
    def read_variable(self, var) -> Tensor:
        if self.outer is not None:
            return self.outer.read_variable(var)
        t = self.reads.get(id(var))
        if t is None:
            v = var._value
            t = self.tensor(v.shape, v._dtype, v._device)
            self.graph.nodes.append(Node("read", None, (), {}, [t._data.slot], extra=var))
            self.reads[id(var)] = t
        return t

    def assign_variable(self, var, value: Tensor, how: str) -> None:
        self._top_level("assign a Variable")
        self.graph.nodes.append(Node("assign", None, [self.slot_of(value)], {"how": how}, (),
                                     extra=var))
        self.reads.pop(id(var), None)

    def update_variables(self, kernel: str, variables, operands, params) -> None:
        self._top_level("update a Variable")
        ins = [self.slot_of(x) for x in operands]
        self.graph.nodes.append(Node("update", kernel, ins, dict(params or {}), (),
                                     extra=list(variables)))
        for v in variables:
            self.reads.pop(id(v), None)

    def _top_level(self, what):
        if self.outer is not None:
            raise TracingError(f"ef.function: cannot {what} inside a branch or loop body of "
                               f"ef.cond / ef.while_loop / ef.switch_case while tracing (yet); "
                               f"compute the new value in the branch and assign it after")


def _device_of(inputs, device):
    for x in inputs:
        if isinstance(x, Tensor):
            return x._device
    return device if device is not None else default_device()


def _result_device(op, params, dev):
    return params["device"] if op.name == "to_device" else dev


def _params(tracer, params):
    """Params as the node keeps them: a tensor inside a key (x[idx]) becomes its slot."""
    if not any(_has_sym(v) for v in params.values()):
        return params
    return {k: _slotted(tracer, v) for k, v in params.items()}


def _has_sym(v) -> bool:
    if isinstance(v, Sym):
        return True
    return isinstance(v, tuple) and any(_has_sym(x) for x in v)


def _slotted(tracer, v):
    if isinstance(v, Sym):
        return SlotRef(v.slot)
    if isinstance(v, tuple):
        return tuple(_slotted(tracer, x) for x in v)
    return v


class SlotRef:
    """A slot read inside an op's params (the index tensor of ``x[idx]``)."""

    __slots__ = ("slot",)

    def __init__(self, slot):
        self.slot = slot

    def __repr__(self):
        return f"%{self.slot}"


# -- reading a traced tensor's values is an error that says where and what to do ---------------

_OWN_FILES = ("eagerflow_core",)


def value_read_error(tensor: Tensor, how: str) -> TracingError:
    frame = _user_frame()
    where = f" at {frame.filename}:{frame.lineno} (in {frame.name})" if frame else ""
    return TracingError(
        f"ef.function: {how} of a traced tensor{where}: while ef.function traces, tensors "
        f"have shapes and dtypes but no values, so Python control flow on a tensor (if, while, "
        f"bool(), int(), .item(), .numpy()) cannot run. Use ef.cond(pred, true_fn, false_fn), "
        f"ef.while_loop(cond, body, loop_vars) or ef.switch_case(index, branch_fns), which "
        f"work both eagerly and in graphs; or use ef.print(x) to print values at every call")


def _user_frame():
    for frame in reversed(traceback.extract_stack()[:-2]):
        if not any(f"{os_sep}{name}{os_sep}" in frame.filename for name in _OWN_FILES):
            return frame
    return None


os_sep = "/" if sys.platform != "win32" else "\\"
hooks.value_read = value_read_error
