"""From a graph to a replay: each node lowered to kernel calls on raw arrays, resolved once.

The lowering makes the same decisions the dispatcher makes at every eager call (compute
dtype, promotion casts, weak scalars, native ``dtype=`` params, positional params, the result
dtype), but once, at trace time; then the whole graph becomes one generated Python function
(torch.fx's habit) whose body is a straight line of kernel calls: no dtype rule, no dict
lookup, no Tensor object per intermediate on replay. ``source`` keeps the generated code.

A replay goes through tiers, each a generated function (a JIT's habit: pay for an
optimisation only where a graph runs often):

1. **checked** (the first call): every kernel result goes through ``_fix``, which makes it the
   backend's array of the dtype the core decided, and notes which results needed it;
2. **lean** (later calls): ``_fix`` only where the first call needed it (a kernel's result
   type depends on the dtypes and shapes, which a graph fixes); results written into the
   buffers of intermediates that die at that node (``out=``, NumPy ufuncs only); each value
   deleted after its last use (so a Variable's buffer read earlier can be updated in place);
3. **fused** (from call ``FUSE_AFTER + 1``, where the backend compiles groups of elementwise
   ops, ``fusion.py``): the same, with each accepted group one call; checked once, then lean.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from .. import _convert
from .. import _dispatch_errors as E
from .._dtypes import promote_types, weak_promote
from .._errors import DTypeError, KernelNotFoundError
from .._tensor import Tensor, new_tensor
from .graph import Const, Graph
from .tracer import SlotRef

_SCALARS = (bool, int, float, complex)

#: Replays of a graph before its elementwise groups are compiled (0: at once, when lowered;
#: None: never). ``EAGERFLOW_FUSE_AFTER`` sets it ("never" turns fusion off).
FUSE_AFTER = None if os.environ.get("EAGERFLOW_FUSE_AFTER") == "never" else \
    int(os.environ.get("EAGERFLOW_FUSE_AFTER", "2"))


class Lowering:
    """The generated source of one tier and the objects it refers to."""

    def __init__(self, graph: Graph, env: dict, check=None, fixes=None, reuse=None):
        self.graph = graph
        self.lines: list[str] = []
        self.env = env
        self.check = check      # the checked tier: _fixc notes which results needed _fix
        self.fixes = fixes      # the lean tiers: the slots whose results need _fix
        self.reuse = reuse or {}  # node -> the input slot whose buffer it may write into
        self._n = 0

    def bind(self, obj, prefix="k") -> str:
        self._n += 1
        name = f"{prefix}{self._n}"
        self.env[name] = obj
        return name

    def aval(self, slot):
        return self.graph.avals[slot]

    def emit(self, line: str):
        self.lines.append("    " + line)


def compile_graph(graph: Graph, passes=True):
    """``(replay, source, graph)``: ``replay(*raws) -> tuple of raw outputs`` for the graph's
    inputs' raw arrays, in order; ``replay.program`` is its :class:`Program`."""
    if passes:
        from .passes import optimize
        graph = optimize(graph)
    program = Program(graph)
    return program.replay, program.source, graph


class Program:
    """One graph's replay and its tiers. ``replay`` calls the current tier through ``_run``
    in its namespace, which the tiers replace as they go."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.nodes = list(graph.nodes)
        self.needs: set = set()   # slots whose kernel result needed _fix (the checked tier)
        self.helpers = {"_fix": _fix, "_fixc": _checker(self.needs.add), "_read": _read,
                        "_assign": _assign, "_update": _update, "_move": _move, "_print": _print}
        self.ns: dict = {}        # the entry's namespace: _run is the current tier
        self.calls = 0
        self.fused = False
        self._lock = threading.Lock()
        names = ", ".join(f"s{s}" for s in graph.inputs)
        exec(f"def replay({names}):\n    return _run({names})\n", self.ns)  # noqa: S102
        self.replay = self.ns["replay"]
        self.replay.graph = graph  # what it runs, for export.py (control flow holds replays)
        self.replay.program = self
        if FUSE_AFTER == 0:
            self._fuse()
        else:
            self._install(checked=True)

    def _lower(self, nodes, checked: bool):
        env = dict(self.helpers)  # each tier its own names: a running tier never sees another's
        if checked:
            low = Lowering(self.graph, env, check=True)
        else:
            low = Lowering(self.graph, env, fixes=set(self.needs),
                           reuse=_reuse_plan(self.graph, nodes))
        names = ", ".join(f"s{s}" for s in self.graph.inputs)
        for slot, t in self.graph.constants.items():
            low.emit(f"s{slot} = {low.bind(t._data, 'c')}")
        dying = {} if checked else _last_uses(self.graph, nodes)
        for i, node in enumerate(nodes):
            _LOWER[node.kind](low, node)
            if dying.get(i):  # free what dies here: a Variable's buffer read earlier can
                # then be updated in place, and memory peaks lower
                low.emit("del " + ", ".join(f"s{s}" for s in dying[i]))
        outs = ", ".join(f"s{s}" for s in self.graph.output_slots)
        low.emit(f"return ({outs}{',' if len(self.graph.output_slots) == 1 else ''})")
        source = "\n".join([f"def replay({names}):"] + low.lines) + "\n"
        exec(compile(source, f"<ef.function {self.graph.name}>", "exec"), env)  # noqa: S102
        return env["replay"], source

    def _install(self, checked: bool):
        fn, self.source = self._lower(self.nodes, checked)
        if checked:
            def first(*raws):
                out = fn(*raws)  # only a complete run says which results needed _fix
                self.calls += 1
                with self._lock:
                    if self.ns["_run"] is first:
                        self._install(checked=False)
                return out
            self.ns["_run"] = first
        elif not self.fused and FUSE_AFTER is not None and _may_fuse(self.graph, self.nodes):
            def counting(*raws):
                self.calls += 1
                if self.calls > FUSE_AFTER:
                    with self._lock:
                        if self.ns["_run"] is counting:
                            self._fuse()
                return self.ns["_run"](*raws) if self.ns["_run"] is not counting else fn(*raws)
            self.ns["_run"] = counting
        else:
            self.ns["_run"] = fn

    def _fuse(self):
        from .fusion import fuse
        self.fused = True
        nodes = fuse(self.graph, self.nodes)
        changed = any(n.kind == "fused" for n in nodes)
        if changed:
            self.nodes = nodes
        self._install(checked=changed or self.calls == 0)


def _last_uses(graph: Graph, nodes) -> dict[int, list[int]]:
    """Node index -> the slots (not returned) that no later node reads."""
    last = {}
    for i, node in enumerate(nodes):
        for s in node.outs:
            last[s] = i
        for s in node.ins:
            if not isinstance(s, Const):
                last[s] = i
        for v in node.params.values() if node.params else ():
            for s in _slot_refs(v):
                last[s] = i
    keep = set(graph.output_slots)
    dying: dict[int, list[int]] = {}
    for s, i in last.items():
        if s not in keep:
            dying.setdefault(i, []).append(s)
    return {i: sorted(v) for i, v in dying.items()}


def _may_fuse(graph, nodes) -> bool:
    from .fusion import find_groups
    return bool(find_groups(graph, nodes))


def _reuse_plan(graph: Graph, nodes) -> dict:
    """Nodes that may write their result into an input's buffer: an elementwise NumPy ufunc
    node whose input of the result's shape and dtype was made fresh by a ufunc (or a fused
    group) in this graph, is used only by such nodes, and is not used after this one (nor
    returned). Such a buffer is an intermediate no one else can see."""
    fresh, uses, last = set(), {}, {}
    for i, node in enumerate(nodes):
        for s in node.ins:
            if not isinstance(s, Const):
                uses.setdefault(s, []).append(node)
                last[s] = i
        for v in node.params.values() if node.params else ():
            for s in _slot_refs(v):
                uses.setdefault(s, []).append(None)  # read inside a param: never reused
        if node.kind == "fused" or _is_ufunc_node(graph, node):
            fresh.update(node.outs)
    outputs = set(graph.output_slots)
    plan = {}
    for i, node in enumerate(nodes):
        if not _is_ufunc_node(graph, node, elementwise=True):
            continue
        out = graph.avals[node.outs[0]]
        if not out[0] or any(d is None for d in out[0]):
            continue
        for s in node.ins:
            if isinstance(s, Const) or s not in fresh or s in outputs or last[s] != i:
                continue
            if graph.avals[s][:2] != out[:2]:
                continue
            if all(u is not None and (u.kind == "fused" or _is_ufunc_node(graph, u))
                   for u in uses[s]):
                plan[id(node)] = s
                break
    return plan


def _is_ufunc_node(graph, node, elementwise=False) -> bool:
    if node.kind != "op" or node.params or len(node.outs) != 1:
        return False
    op = node.op
    if op.kind not in ("unary", "binary") and (elementwise or op.name != "matmul"):
        return False
    tensors = [s for s in node.ins if not isinstance(s, Const)]
    if not tensors:
        return False
    dev = graph.avals[tensors[0]][2]
    if not isinstance(dev.kernels.get(op.name), np.ufunc):
        return False
    if elementwise:  # out= is exact only when no input is cast and the result is the compute dtype
        dt = graph.avals[node.outs[0]][1]
        return all(graph.avals[s][1] is dt for s in tensors) and op.table.get(dt) == (dt, dt)
    return True


def _slot_refs(v):
    if isinstance(v, SlotRef):
        return [v.slot]
    if isinstance(v, tuple):
        return [s for x in v for s in _slot_refs(x)]
    return []


# -- the lowering of each node kind -------------------------------------------------------------

def _op(low: Lowering, node):
    op = node.op
    if op.name == "to_device":
        (x,) = node.ins
        src, dst = low.aval(x)[2], node.params["device"]
        low.emit(f"s{node.outs[0]} = _move(s{x}, {low.bind(src, 'd')}, {low.bind(dst, 'd')}, "
                 f"{low.bind(low.aval(x)[1], 't')})")
        return
    if op.kind == "unary":
        _unary(low, node)
    elif op.kind == "binary":
        _binary(low, node)
    else:
        _general(low, node)


def _kernel(low, op, dev):
    kern = dev.kernels.get(op.name)
    if kern is None:
        raise KernelNotFoundError(f"ef.function: backend {dev.backend.name!r} (device {dev}) has "
                                  f"no kernel for {op.name}; traced code runs kernels only (no "
                                  f"fallback); move the inputs to a device that has it")
    return low.bind(kern)


def _cast(low, expr, have, want, dev):
    if have is want:
        return expr
    return f"{low.bind(dev.kernels['astype'])}({expr}, {low.bind(dev.native[want], 'n')})"


def _result(low, node, dev, dtypes):
    """The dtype (and array type) the core decided, enforced on each output: checked on the
    first call (which notes the slots where it changed something), then only where needed."""
    for slot, dt in zip(node.outs, dtypes):
        if low.check:
            low.emit(f"s{slot} = _fixc(s{slot}, {low.bind(dev, 'd')}, {low.bind(dt, 't')}, "
                     f"{slot})")
        elif slot in low.fixes:
            low.emit(f"s{slot} = _fix(s{slot}, {low.bind(dev, 'd')}, {low.bind(dt, 't')})")


def _checker(note):
    def fixc(raw, dev, dt, slot):
        fixed = _fix(raw, dev, dt)
        if fixed is not raw:
            note(slot)
        return fixed
    return fixc


def _out(low, node) -> str:
    """``, out=sN`` where the node may write into a dying input's buffer (lean tiers)."""
    slot = low.reuse.get(id(node))
    return "" if slot is None else f", out=s{slot}"


def _unary(low, node):
    (x,) = node.ins
    _, dt, dev = low.aval(x)
    compute, result = node.op.table[dt]
    k = _kernel(low, node.op, dev)
    low.emit(f"s{node.outs[0]} = {k}({_cast(low, f's{x}', dt, compute, dev)}{_out(low, node)})")
    _result(low, node, dev, (result,))


def _binary(low, node):
    a, b = node.ins
    tensors = [s for s in (a, b) if not isinstance(s, Const)]
    dev = low.aval(tensors[0])[2]
    dts = [low.aval(s)[1] for s in tensors]
    dt = dts[0] if len(dts) == 1 else (dts[0] if dts[0] is dts[1] else promote_types(*dts))
    scalar = next((s.value for s in (a, b) if isinstance(s, Const)), None)
    if scalar is not None and len(dts) == 1:
        dt = weak_promote(dt, scalar)
    compute, result = node.op.table[dt]

    def arg(s):
        if isinstance(s, Const):
            return low.bind(s.value, "v")
        return _cast(low, f"s{s}", low.aval(s)[1], compute, dev)
    low.emit(f"s{node.outs[0]} = {_kernel(low, node.op, dev)}({arg(a)}, {arg(b)}"
             f"{_out(low, node)})")
    _result(low, node, dev, (result,))


def _general(low, node):
    op, graph = node.op, low.graph
    tensors = [s for s in node.ins if not isinstance(s, Const)]
    if not node.outs and not tensors:
        return  # nothing in, nothing out (meshgrid())
    dev = low.aval(tensors[0])[2] if tensors else graph.avals[node.outs[0]][2]
    args = []
    if op.promote and tensors:
        dt = low.aval(tensors[0])[1]
        for s in tensors[1:]:
            dt = promote_types(dt, low.aval(s)[1])
        for s in node.ins:
            if isinstance(s, Const) and type(s.value) in _SCALARS:
                dt = weak_promote(dt, s.value)
        for s in node.ins:
            if isinstance(s, Const):
                if type(s.value) in _SCALARS:
                    host = np.asarray(s.value, dtype=dt.numpy)
                    args.append(low.bind(dev.backend.backend.from_host(host, dev.index), "c"))
                else:
                    args.append(low.bind(s.value, "v"))
            else:
                args.append(_cast(low, f"s{s}", low.aval(s)[1], dt, dev))
    else:
        args = [low.bind(s.value, "v") if isinstance(s, Const) else f"s{s}" for s in node.ins]
    params = dict(node.params)
    if params.get("dtype") is not None:
        native = dev.native.get(params["dtype"])
        if native is None:
            raise DTypeError(f"{op.name}: backend {dev.backend.name!r} has no {params['dtype']}")
        params["dtype"] = native
    pos = [params.pop(name) for name in op.posparams]
    call_args = ([f"[{', '.join(args)}]"] if op.variadic else args) + [_value(low, v) for v in pos]
    call_args += [f"{k}={_value(low, v)}" for k, v in params.items()]
    outs = ", ".join(f"s{s}" for s in node.outs)
    kern = _kernel(low, op, dev)
    if len(node.outs) > 1 or node.extra == "several":  # the kernel returns a sequence
        low.emit(f"{outs}, = {kern}({', '.join(call_args)})")
    else:
        low.emit(f"{outs} = {kern}({', '.join(call_args)})")
    _result(low, node, dev, [graph.avals[s][1] for s in node.outs])


def _value(low, v) -> str:
    """A param as source: slots read at replay (index tensors in a key), else a bound object."""
    if isinstance(v, SlotRef):
        return f"s{v.slot}"
    if isinstance(v, tuple) and any(isinstance(x, (SlotRef, tuple)) for x in v):
        parts = [_value(low, x) for x in v]
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    return low.bind(v, "v")


def _read(low, node):
    low.emit(f"s{node.outs[0]} = _read({low.bind(node.extra, 'var')})")


def _assign(low, node):
    (x,) = node.ins
    value = low.bind(node.extra, "var")
    expr = low.bind(x.value, "v") if isinstance(x, Const) else f"s{x}"
    low.emit(f"_assign({value}, {expr}, {node.params['how']!r})")


def _update(low, node):
    variables = low.bind(node.extra, "vars")
    operands = ", ".join(low.bind(s.value, "v") if isinstance(s, Const) else f"s{s}"
                         for s in node.ins)
    low.emit(f"_update({node.op!r}, {variables}, [{operands}], {low.bind(node.params, 'p')})")


def _print(low, node):
    args = ", ".join(f"s{s}" if not isinstance(s, Const) else low.bind(s.value, "v")
                     for s in node.ins)
    low.emit(f"_print({low.bind(node.extra, 'fmt')}, [{args}])")


def _call(low, node):
    """A sub-graph node (cond, while_loop, switch_case): its own runner, bound."""
    ins = ", ".join(f"s{s}" if not isinstance(s, Const) else low.bind(s.value, "v")
                    for s in node.ins)
    outs = ", ".join(f"s{s}" for s in node.outs)
    lhs = f"{outs}, = " if node.outs else ""
    low.emit(f"{lhs}{low.bind(node.extra, 'sub')}({ins})")


def _fused(low, node):
    """A group of elementwise ops a backend compiled into one callable (fusion.py)."""
    outs = ", ".join(f"s{s}" for s in node.outs)
    ins = ", ".join(f"s{s}" for s in node.ins)
    low.emit(f"{outs}, = {low.bind(node.extra, 'fused')}({ins})")
    group = node.op
    _result(low, node, group.device, [group.steps[j].result for j in group.outputs])


_LOWER = {"op": _op, "read": _read, "assign": _assign, "update": _update, "print": _print,
          "call": _call, "fused": _fused}


# -- what the generated code calls ----------------------------------------------------------------

def _fix(raw, dev, dt):
    """A kernel result as the backend's array of the decided dtype (a NumPy scalar from a
    reduction becomes a 0-d array; a wider dtype is cast back)."""
    if type(raw) is not dev.array_type:
        raw = dev.coerce(raw)
    native = dev.native[dt]
    if raw.dtype is not native and raw.dtype != native:
        raw = dev.kernels["astype"](raw, native)
    return raw


def _read(var):
    with var._lock:
        return var._value._data


def _assign(var, raw, how):
    # No local reference to the old value: assign_add/sub update in place only when nothing
    # but the Variable holds it (Variable._update's reference counts).
    value = new_tensor(raw, var._value._dtype, var._value._device)
    if how == "assign":
        var.assign(value)
    elif how == "add":
        var.assign_add(value)
    else:
        var.assign_sub(value)


def _update(kernel, variables, operands, params):
    from ..autodiff.variable import update_in_place
    dev = variables[0]._value._device
    tensors = [new_tensor(r, dev.backend.from_native[r.dtype], dev)
               if isinstance(r, dev.array_type) else r for r in operands]
    if not update_in_place(kernel, variables, tensors, params):
        raise KernelNotFoundError(f"ef.function: the update kernel {kernel!r} is gone from {dev}")


def _move(raw, src, dst, dtype):
    return _convert.move(new_tensor(raw, dtype, src), dst)._data


def _print(fmt, raws):
    fmt(raws)


def wrap_outputs(graph: Graph, raws) -> list[Tensor]:
    """The replay's raw results as tensors (of the dtypes and devices the graph decided)."""
    types = graph.__dict__.get("_output_types")
    if types is None or len(types) != len(graph.output_slots):
        types = graph._output_types = [graph.avals[s][1:] for s in graph.output_slots]
    return [new_tensor(raw, dtype, dev) for raw, (dtype, dev) in zip(raws, types)]


__all__ = ["compile_graph", "wrap_outputs", "Program", "FUSE_AFTER", "E"]
