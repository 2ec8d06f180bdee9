"""From a graph to a replay: each node lowered to kernel calls on raw arrays, resolved once.

The lowering makes the same decisions the dispatcher makes at every eager call (compute
dtype, promotion casts, weak scalars, native ``dtype=`` params, positional params, the result
dtype), but once, at trace time; then the whole graph becomes one generated Python function
(torch.fx's habit) whose body is a straight line of kernel calls: no dtype rule, no dict
lookup, no Tensor object per intermediate on replay. ``source`` keeps the generated code.
"""

from __future__ import annotations

import numpy as np

from .. import _convert
from .. import _dispatch_errors as E
from .._dtypes import promote_types, weak_promote
from .._errors import DTypeError, KernelNotFoundError
from .._tensor import Tensor, new_tensor
from .graph import Const, Graph
from .tracer import SlotRef

_SCALARS = (bool, int, float, complex)


class Lowering:
    """The generated source and the objects it refers to."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.lines: list[str] = []
        self.env: dict = {"_fix": _fix, "_read": _read, "_assign": _assign,
                          "_update": _update, "_move": _move, "_print": _print}
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
    """``(replay, source)``: ``replay(raws) -> tuple of raw outputs`` for the graph's inputs'
    raw arrays, in order."""
    if passes:
        from .passes import optimize
        graph = optimize(graph)
    low = Lowering(graph)
    names = ", ".join(f"s{s}" for s in graph.inputs)
    header = [f"def replay({names}):"]
    for slot, t in graph.constants.items():
        low.emit(f"s{slot} = {low.bind(t._data, 'c')}")
    for node in graph.nodes:
        _LOWER[node.kind](low, node)
    outs = ", ".join(f"s{s}" for s in graph.output_slots)
    low.emit(f"return ({outs}{',' if len(graph.output_slots) == 1 else ''})")
    source = "\n".join(header + low.lines) + "\n"
    namespace = dict(low.env)
    exec(compile(source, f"<ef.function {graph.name}>", "exec"), namespace)  # noqa: S102
    replay = namespace["replay"]
    replay.graph = graph  # what it runs, for export.py (a control-flow node holds replays)
    return replay, source, graph


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
    """The dtype (and array type) the core decided, enforced on each output."""
    for slot, dt in zip(node.outs, dtypes):
        low.emit(f"s{slot} = _fix(s{slot}, {low.bind(dev, 'd')}, {low.bind(dt, 't')})")


def _unary(low, node):
    (x,) = node.ins
    _, dt, dev = low.aval(x)
    compute, result = node.op.table[dt]
    k = _kernel(low, node.op, dev)
    low.emit(f"s{node.outs[0]} = {k}({_cast(low, f's{x}', dt, compute, dev)})")
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
    low.emit(f"s{node.outs[0]} = {_kernel(low, node.op, dev)}({arg(a)}, {arg(b)})")
    _result(low, node, dev, (result,))


def _general(low, node):
    op, graph = node.op, low.graph
    tensors = [s for s in node.ins if not isinstance(s, Const)]
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
    if len(node.outs) > 1:
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


_LOWER = {"op": _op, "read": _read, "assign": _assign, "update": _update, "print": _print,
          "call": _call}


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
    t = var._value
    value = new_tensor(raw, t._dtype, t._device)
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
    out = []
    for slot, raw in zip(graph.output_slots, raws):
        _, dtype, dev = graph.avals[slot]
        out.append(new_tensor(raw, dtype, dev))
    return out


__all__ = ["compile_graph", "wrap_outputs", "E"]
