"""Fusion: groups of elementwise nodes that a backend compiles into one callable.

Before a graph is lowered, this pass finds maximal groups of elementwise nodes (ops of the
backend's ``fusion_ops``, values of its ``fusion_dtypes``, one device, one result shape) such
that no path leaves a group and comes back into it (the group can run as one step), describes
each group as a backend-neutral :class:`Group`, and asks the device's backend to compile it
(``Backend.compile_elementwise``). Each accepted group becomes one "fused" node; the nodes are
then put back in a valid order. The graph itself is not changed: fusion happens per lowering,
on the machine that runs the graph (``export.py`` saves the unfused graph).

Effects (Variable reads and writes, prints, control flow) keep their order: the pass threads
one token through them, so a group never needs a value that an effect after one of its own
members produces.
"""

from __future__ import annotations

from .._dtypes import promote_types, weak_promote
from .graph import Const, Graph, Node

MIN_GROUP = 1          # a lone op too: the backend declines what it cannot do better
_EFFECTS = ("read", "assign", "update", "print", "call")
_TOKEN = -1            # the pseudo-slot that orders effects


class Step:
    """One op of a group: ``op`` (registry name, or "astype" for a cast), ``args`` (refs:
    ``("input", i)``, ``("step", j)`` or ``("const", python value)``), ``dtype`` (the dtype
    its arguments have; a where's condition is bool) and ``result`` (its result's dtype)."""

    __slots__ = ("op", "args", "dtype", "result")

    def __init__(self, op, args, dtype, result):
        self.op, self.args, self.dtype, self.result = op, tuple(args), dtype, result

    def __repr__(self):
        args = ", ".join(f"{k[0][0]}{k[1]}" if k[0] != "const" else repr(k[1]) for k in self.args)
        return f"{self.result.name} {self.op}({args})"


class Group:
    """What a backend compiles: ``inputs`` ((shape, dtype) each, broadcasting to ``shape``),
    ``steps`` in order, ``outputs`` (step indices, in result order), ``shape``, ``device``."""

    def __init__(self, device, shape):
        self.device = device
        self.shape = tuple(shape)
        self.inputs: list[tuple] = []
        self.steps: list[Step] = []
        self.outputs: list[int] = []

    def describe(self) -> str:
        ins = ", ".join(f"i{k}: {dt.name}{list(s)}" for k, (s, dt) in enumerate(self.inputs))
        lines = [f"group({ins}) -> {list(self.shape)}:"]
        lines += [f"  s{j} = {step!r}" for j, step in enumerate(self.steps)]
        lines.append("  return " + ", ".join(f"s{j}" for j in self.outputs))
        return "\n".join(lines)

    __repr__ = describe

    def key(self) -> tuple:
        """Equal for groups that compute the same thing on the same kinds of inputs (a cache
        key for compiled code)."""
        return (self.shape, tuple((s, dt.name) for s, dt in self.inputs),
                tuple((st.op, st.args, st.dtype.name, st.result.name) for st in self.steps),
                tuple(self.outputs))


# -- finding groups -------------------------------------------------------------------------------

def _fusible(graph: Graph, node: Node):
    """The backend of a node the pass may put in a group, or None."""
    if node.kind != "op" or node.params or len(node.outs) != 1:
        return None
    op = node.op
    if op.kind not in ("unary", "binary") and op.name != "where":
        return None
    shape, dtype, dev = graph.avals[node.outs[0]]
    backend = dev.backend.backend
    if op.name not in backend.fusion_ops or any(d is None for d in shape):
        return None
    for s in node.ins:
        if isinstance(s, Const):
            if type(s.value) not in (bool, int, float):
                return None
            continue
        ishape, idt, idev = graph.avals[s]
        if idev is not dev or idt.name not in backend.fusion_dtypes or any(d is None for d in ishape):
            return None
    return backend if dtype.name in backend.fusion_dtypes else None


def find_groups(graph: Graph, nodes) -> list[list[int]]:
    """Indices into ``nodes`` of each group, members in program order.

    The pass keeps the graph with each group contracted to one vertex (what replay will run)
    and lets a node join a group only if that keeps it acyclic: a group ``g`` may take a node
    whose inputs come from vertices ``P`` unless ``g`` already reaches one of them (the node
    would then need ``g`` and ``g`` the node). Effects are chained, so they keep their order.
    A node tries its producers' groups first (vertical fusion), then the newest groups
    (siblings: one pass over shared inputs)."""
    vertex_of_slot: dict[int, int] = {}   # slot -> the vertex that makes it
    succ: list[set[int]] = []             # vertex -> vertices that use what it makes
    group_vertex: dict[int, int] = {}     # group id -> its vertex
    kind_of: list[tuple] = []             # group id -> (shape, device)
    members: list[list[int]] = []
    last_effect = None

    def reaches(start, targets) -> bool:
        seen, todo = {start}, [start]
        while todo:
            for w in succ[todo.pop()]:
                if w in targets:
                    return True
                if w not in seen:
                    seen.add(w)
                    todo.append(w)
        return False

    for i, node in enumerate(nodes):
        ins = [s for s in node.ins if not isinstance(s, Const)] + _param_slots(node)
        sources = {vertex_of_slot[s] for s in ins if s in vertex_of_slot}
        if node.kind in _EFFECTS and last_effect is not None:
            sources.add(last_effect)
        vertex = None
        if _fusible(graph, node) is not None:
            kind = (graph.avals[node.outs[0]][0], graph.avals[node.outs[0]][2])
            vertex_group = {v: g for g, v in group_vertex.items()}
            producers = [vertex_group[v] for v in sources if v in vertex_group]
            for g in producers + list(range(len(members) - 1, -1, -1)):
                v = group_vertex[g]
                if kind_of[g] == kind and not reaches(v, sources - {v}):
                    members[g].append(i)
                    vertex = v
                    break
            if vertex is None:
                vertex = len(succ)
                succ.append(set())
                group_vertex[len(members)] = vertex
                members.append([i])
                kind_of.append(kind)
        if vertex is None:
            vertex = len(succ)
            succ.append(set())
        for v in sources:
            if v != vertex:
                succ[v].add(vertex)
        for s in node.outs:
            vertex_of_slot[s] = vertex
        if node.kind in _EFFECTS:
            last_effect = vertex
    return [m for m in members if len(m) >= MIN_GROUP]


def _param_slots(node) -> list[int]:
    from .tracer import SlotRef
    out = []

    def walk(v):
        if isinstance(v, SlotRef):
            out.append(v.slot)
        elif isinstance(v, tuple):
            for x in v:
                walk(x)
    for v in node.params.values():
        walk(v)
    return out


# -- describing a group --------------------------------------------------------------------------

def describe(graph: Graph, nodes, members: list[int], live_after) -> tuple[Group, list, list]:
    """``(group, input slots, output slots)`` for the member nodes; ``live_after(slot)`` says
    whether something outside the group (or the graph's result) uses a slot."""
    first = graph.avals[nodes[members[0]].outs[0]]
    group = Group(first[2], first[0])
    ref: dict[int, tuple] = {}     # slot -> ("input", i) | ("step", j)
    types: dict[int, object] = {}  # slot -> dtype of that value inside the group
    in_slots, out_slots = [], []

    def arg(s, want):
        if isinstance(s, Const):
            return ("const", s.value)
        r = ref.get(s)
        if r is None:
            shape, dt, _ = graph.avals[s]
            r = ref[s] = ("input", len(group.inputs))
            types[s] = dt
            group.inputs.append((shape, dt))
            in_slots.append(s)
        have = types[s]
        if want is None or have is want:
            return r
        group.steps.append(Step("astype", [r], have, want))
        return ("step", len(group.steps) - 1)

    for i in members:
        node = nodes[i]
        op, out = node.op, node.outs[0]
        result = graph.avals[out][1]
        if op.name == "where":
            c, a, b = node.ins
            args = [arg(c, None), arg(a, result), arg(b, result)]
            compute = result
        else:
            compute = _compute_dtype(graph, node)
            args = [arg(s, compute) for s in node.ins]
        group.steps.append(Step(op.name, args, compute, result))
        ref[out] = ("step", len(group.steps) - 1)
        types[out] = result
        if live_after(out):
            group.outputs.append(len(group.steps) - 1)
            out_slots.append(out)
    return group, in_slots, out_slots


def _compute_dtype(graph, node):
    """The dtype the kernel computes in: the lowering's rule (compile.py's _unary/_binary)."""
    tensors = [graph.avals[s][1] for s in node.ins if not isinstance(s, Const)]
    dt = tensors[0]
    for other in tensors[1:]:
        dt = dt if other is dt else promote_types(dt, other)
    if len(tensors) < len(node.ins) and len(tensors) == 1:
        scalar = next(s.value for s in node.ins if isinstance(s, Const))
        dt = weak_promote(dt, scalar)
    return node.op.table[dt][0]


# -- substituting ----------------------------------------------------------------------------------

def plan(graph: Graph, nodes=None) -> list[tuple[list[int], Group, list[int], list[int]]]:
    """Each group of ``nodes`` (default: the graph's) as ``(member indices, Group, input
    slots, output slots)``; groups whose values nothing outside uses are left out."""
    nodes = list(graph.nodes if nodes is None else nodes)
    uses: dict[int, set[int]] = {}
    for i, node in enumerate(nodes):
        for s in [s for s in node.ins if not isinstance(s, Const)] + _param_slots(node):
            uses.setdefault(s, set()).add(i)
    outputs = set(graph.output_slots)
    out = []
    for members in find_groups(graph, nodes):
        inside = set(members)

        def live_after(s, inside=inside):
            return s in outputs or any(u not in inside for u in uses.get(s, ()))
        group, ins, outs = describe(graph, nodes, members, live_after)
        if outs:
            out.append((members, group, ins, outs))
    return out


def fuse(graph: Graph, nodes=None) -> list[Node]:
    """The graph's nodes with each group a backend accepts replaced by one "fused" node
    (``op``: the Group, ``extra``: the compiled callable), in a valid order."""
    nodes = list(graph.nodes if nodes is None else nodes)
    replaced: dict[int, Node] = {}   # first member index -> fused node
    gone: set[int] = set()
    for members, group, ins, outs in plan(graph, nodes):
        backend = group.device.backend.backend
        try:
            fn = backend.compile_elementwise(group)
        except Exception:  # noqa: BLE001  (a backend's compiler failing must not break replay)
            fn = None
        if fn is None:
            continue
        replaced[members[0]] = Node("fused", group, ins, {}, outs, extra=fn)
        gone.update(members)
    if not replaced:
        return nodes
    merged = []
    for i, node in enumerate(nodes):
        if i in replaced:
            merged.append(replaced[i])
        elif i not in gone:
            merged.append(node)
    return _schedule(merged)


def _schedule(nodes: list[Node]) -> list[Node]:
    """A topological order close to the given one (a fused node stands where its first
    member stood, but may need values made after it); effects keep their order."""
    producer: dict[int, int] = {}
    for i, n in enumerate(nodes):
        for s in n.outs:
            producer[s] = i
    deps = []
    last_effect = None
    for i, n in enumerate(nodes):
        d = {producer[s] for s in [s for s in n.ins if not isinstance(s, Const)] + _param_slots(n)
             if s in producer}
        if n.kind in _EFFECTS:
            if last_effect is not None:
                d.add(last_effect)
            last_effect = i
        deps.append(d)
    order, placed = [], set()

    def place(i, stack=()):
        if i in placed:
            return
        if i in stack:
            raise AssertionError("fusion made a cycle")  # find_groups prevents this
        for j in sorted(deps[i]):
            place(j, stack + (i,))
        placed.add(i)
        order.append(nodes[i])
    for i in range(len(nodes)):
        place(i)
    return order
