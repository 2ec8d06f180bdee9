"""Graph passes, each small and on its own: what replay does not need to run.

- ``dead_code``: nodes whose results nothing uses (and that change no Variable) go.
- ``common_subexpressions``: two nodes of the same op on the same inputs and params become one
  (reads of a Variable too, when nothing assigned it between them).
- ``fold_constants``: a node whose inputs are all constants runs once, at trace time; its
  result becomes a constant.
- ``simplify``: algebra the backward pass is full of: ``x * 1``, ``1 * x``, ``x + 0``,
  ``x - 0``, ``x / 1`` become ``x`` (when the dtype and shape do not change); sums and
  reshapes that change nothing go.

``optimize`` runs simplify, fold, simplify again (folding makes constants: the ones a
backward pass starts from), then CSE, then DCE.
"""

from __future__ import annotations

from .graph import Const, Graph, Node

_EFFECTS = ("assign", "update", "print", "call")


def optimize(graph: Graph) -> Graph:
    for pass_ in (simplify, fold_constants, simplify, common_subexpressions, dead_code):
        graph = pass_(graph)
    return graph


def _rename(graph: Graph, mapping: dict[int, int]) -> None:
    """Make every use of slot ``a`` read ``mapping[a]`` instead."""
    if not mapping:
        return

    def sub(s):
        while not isinstance(s, Const) and s in mapping:
            s = mapping[s]
        return s
    for node in graph.nodes:
        node.ins = tuple(sub(s) for s in node.ins)
        if node.params:
            node.params = {k: _sub_param(v, sub) for k, v in node.params.items()}
    graph.output_slots = [sub(s) for s in graph.output_slots]


def _sub_param(v, sub):
    from .tracer import SlotRef
    if isinstance(v, SlotRef):
        return SlotRef(sub(v.slot))
    if isinstance(v, tuple):
        return tuple(_sub_param(x, sub) for x in v)
    return v


# -- dead code ---------------------------------------------------------------------------------

def dead_code(graph: Graph) -> Graph:
    from .tracer import SlotRef
    live = set(graph.output_slots)
    keep = []
    for node in reversed(graph.nodes):
        if node.kind in _EFFECTS or any(s in live for s in node.outs):
            keep.append(node)
            live.update(s for s in node.ins if not isinstance(s, Const))
            for v in node.params.values():
                live.update(_refs(v, SlotRef))
    graph.nodes = keep[::-1]
    graph.constants = {s: t for s, t in graph.constants.items() if s in live}
    return graph


def _refs(v, slot_ref):
    if isinstance(v, slot_ref):
        return [v.slot]
    if isinstance(v, tuple):
        return [s for x in v for s in _refs(x, slot_ref)]
    return []


# -- common subexpressions ---------------------------------------------------------------------

def common_subexpressions(graph: Graph) -> Graph:
    seen: dict = {}
    mapping: dict[int, int] = {}
    keep = []
    epoch = 0  # bumped by every node that changes a Variable: reads after it are new values
    for node in graph.nodes:
        node.ins = tuple(mapping.get(s, s) if not isinstance(s, Const) else s for s in node.ins)
        if node.kind in _EFFECTS:
            epoch += 1
            keep.append(node)
            continue
        key = _key(node, epoch)
        if key is not None and key in seen:
            for a, b in zip(node.outs, seen[key].outs):
                mapping[a] = b
            continue
        if key is not None:
            seen[key] = node
        keep.append(node)
    graph.nodes = keep
    _rename(graph, mapping)
    return graph


def _key(node: Node, epoch: int):
    try:
        ins = tuple(("c", type(s.value), s.value) if isinstance(s, Const) else s
                    for s in node.ins)
        if node.kind == "read":
            return ("read", id(node.extra), epoch)
        params = tuple(sorted((k, _hashable(v)) for k, v in node.params.items()))
        key = (id(node.op), ins, params)
        hash(key)
        return key
    except TypeError:
        return None  # an unhashable param (an index array): never merged


def _hashable(v):
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, (int, float)):
        raise TypeError("arrays are not merged")
    return (type(v), v) if not isinstance(v, tuple) else tuple(_hashable(x) for x in v)


# -- constant folding ---------------------------------------------------------------------------

def fold_constants(graph: Graph) -> Graph:
    """Nodes whose inputs are all constants (or none: ef.ones(3)) run now, once."""
    from .._dispatch import eager
    from .._tensor import Tensor, new_tensor
    const: dict[int, Tensor] = dict(graph.constants)
    keep = []
    for node in graph.nodes:
        if node.kind == "op" and node.op.name != "to_device" and not node.params.get("key") \
                and all(isinstance(s, Const) or s in const for s in node.ins) \
                and not _big(graph, node):
            inputs = [s.value if isinstance(s, Const) else const[s] for s in node.ins]
            dev = graph.avals[node.outs[0]][2]
            try:
                out = eager(node.op, inputs, node.params, None if inputs else dev)
            except Exception:  # noqa: BLE001  (leave it to replay, where it raises in context)
                keep.append(node)
                continue
            outs = out if isinstance(out, tuple) else (out,)
            for slot, t in zip(node.outs, outs):
                const[slot] = t if isinstance(t, Tensor) else new_tensor(t, *graph.avals[slot][1:])
            continue
        keep.append(node)
    graph.nodes = keep
    graph.constants = const
    return graph


def _big(graph: Graph, node: Node) -> bool:
    """Folding would keep a large array alive in the graph (a zeros(1e8) stays a node)."""
    if not node.outs:
        return True  # nothing to fold into
    size = 1
    for d in graph.avals[node.outs[0]][0]:
        size *= d if d is not None else 1 << 30
    return size > 1 << 16


# -- algebraic simplification --------------------------------------------------------------------

def simplify(graph: Graph) -> Graph:
    """Identities of the backward pass: multiplying by one, adding zero, summing over nothing,
    reshaping to the same shape. A node goes only if its result has its input's dtype and
    shape (so nothing else changes)."""
    consts = graph.constants
    mapping: dict[int, int] = {}
    keep = []
    for node in graph.nodes:
        node.ins = tuple(mapping.get(s, s) if not isinstance(s, Const) else s for s in node.ins)
        same = _identity_input(graph, node, consts)
        if same is not None:
            mapping[node.outs[0]] = same
            continue
        keep.append(node)
    graph.nodes = keep
    _rename(graph, mapping)
    return graph


def _is(graph, s, value, consts) -> bool:
    if isinstance(s, Const):
        return type(s.value) in (int, float) and s.value == value and not isinstance(s.value, bool)
    t = consts.get(s)
    if t is None or t.size > 1 << 12:
        return False
    try:
        host = t.numpy()
    except Exception:  # noqa: BLE001
        return False
    return bool((host == value).all())


def _identity_input(graph: Graph, node: Node, consts):
    if node.kind != "op" or len(node.outs) != 1:
        return None
    name, ins = node.op.name, node.ins
    out = graph.avals[node.outs[0]]

    def keeps(s):
        return not isinstance(s, Const) and graph.avals[s][:2] == out[:2]
    if name == "multiply" and len(ins) == 2:
        a, b = ins
        if _is(graph, b, 1, consts) and keeps(a):
            return a
        if _is(graph, a, 1, consts) and keeps(b):
            return b
    if name == "add" and len(ins) == 2:
        a, b = ins
        if _is(graph, b, 0, consts) and keeps(a):
            return a
        if _is(graph, a, 0, consts) and keeps(b):
            return b
    if name == "pow" and len(ins) == 2 and _is(graph, ins[1], 1, consts) and keeps(ins[0]):
        return ins[0]
    if name in ("subtract", "divide") and len(ins) == 2:
        a, b = ins
        if _is(graph, b, 0 if name == "subtract" else 1, consts) and keeps(a):
            return a
    if name in ("reshape", "broadcast_to", "astype", "positive", "sum") and ins and keeps(ins[0]):
        if name == "sum":
            # a sum over axes of size 1 that keeps them changes nothing
            return ins[0] if node.params.get("keepdims") and _only_size1(graph, ins[0], node) else None
        if name == "astype" and node.params.get("copy", True) is False:
            return ins[0]
        if name != "astype":
            return ins[0]
    return None


def _only_size1(graph, s, node) -> bool:
    shape = graph.avals[s][0]
    axis = node.params.get("axis")
    axes = range(len(shape)) if axis is None else ((axis,) if isinstance(axis, int) else axis)
    return all(shape[a] == 1 for a in axes)
