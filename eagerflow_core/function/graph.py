"""The traced program: values in numbered slots, nodes in the order they ran.

A graph is what tracing a Python function leaves: each op call the tracer saw is a node that
reads input slots and writes output slots; the function's tensor arguments, the concrete
tensors it captured (constants) and the Variables it read or wrote are slots or nodes too.
``str(graph)`` is the readable listing ``ef.function``'s ``graph(...)`` prints.
"""

from __future__ import annotations

from .._tensor import Symbolic


class Sym(Symbolic):
    """The data of a traced tensor: its slot, shape (None where unknown) and dtype."""

    __slots__ = ("slot", "dtype", "owner")

    def __init__(self, slot: int, shape, dtype, owner):
        super().__init__(shape)
        self.slot = slot
        self.dtype = dtype  # an eagerflow DType (the rules read .kind)
        self.owner = owner  # the Graph the slot belongs to


class Const:
    """A Python value given to an op in a tensor's place (a weak scalar, None)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return repr(self.value)


class Node:
    """One step of the program.

    ``kind``: "op" (an op call), "read" (a Variable's value now), "assign" (a Variable's new
    value: params ``how`` = assign / add / sub), "update" (an in-place update kernel over
    Variables), "print" (``ef.print``), "call" (a sub-graph: cond, while_loop, switch_case).
    ``ins`` are slots (ints) or Consts; ``outs`` slots.
    """

    __slots__ = ("kind", "op", "ins", "params", "outs", "extra")

    def __init__(self, kind, op, ins, params, outs, extra=None):
        self.kind = kind
        self.op = op
        self.ins = tuple(ins)
        self.params = params
        self.outs = tuple(outs)
        self.extra = extra

    def name(self) -> str:
        if self.kind == "op":
            return self.op.name
        if self.kind in ("read", "assign"):
            v = self.extra
            return f"{self.kind}_variable[{v.name}]" + (
                f"({self.params['how']})" if self.kind == "assign" else "")
        if self.kind == "update":
            return f"update[{self.op}]"
        return self.op if isinstance(self.op, str) else getattr(self.op, "name", self.kind)


class Graph:
    """Slots and nodes of one traced function (one input signature)."""

    def __init__(self, name: str):
        self.name = name
        self.avals: list[tuple] = []        # slot -> (shape, dtype, device)
        self.nodes: list[Node] = []
        self.inputs: list[int] = []         # slots of the tensor arguments, in order
        self.constants: dict[int, object] = {}  # slot -> concrete Tensor captured
        self.outputs = None                 # the result's structure, slots for tensors
        self.output_slots: list[int] = []

    def new_slot(self, shape, dtype, device) -> int:
        self.avals.append((tuple(shape), dtype, device))
        return len(self.avals) - 1

    # -- the listing ------------------------------------------------------------------------
    def _slot(self, s) -> str:
        if isinstance(s, Const):
            return repr(s.value)
        shape, dtype, _ = self.avals[s]
        return f"%{s}"

    def _type(self, s) -> str:
        shape, dtype, device = self.avals[s]
        dims = ", ".join("?" if d is None else str(d) for d in shape)
        return f"{dtype.name}[{dims}]"

    def __str__(self):
        lines = [f"graph {self.name}(" + ", ".join(f"%{s}: {self._type(s)}" for s in self.inputs)
                 + "):"]
        for s, t in self.constants.items():
            lines.append(f"  %{s} = constant {self._type(s)}")
        for node in self.nodes:
            outs = ", ".join(f"%{s}: {self._type(s)}" for s in node.outs)
            ins = ", ".join(self._slot(s) for s in node.ins)
            params = _params(node.params) if node.kind == "op" else ""
            lhs = f"{outs} = " if outs else ""
            lines.append(f"  {lhs}{node.name()}({ins}{', ' if ins and params else ''}{params})")
        lines.append("  return " + ", ".join(f"%{s}" for s in self.output_slots))
        return "\n".join(lines)

    __repr__ = __str__

    def count(self, name: str) -> int:
        """How many nodes call the op ``name`` (for tests of the passes)."""
        return sum(1 for n in self.nodes if n.kind == "op" and n.op.name == name)


def _params(params: dict) -> str:
    return ", ".join(f"{k}={_short(v)}" for k, v in params.items())


def _short(v) -> str:
    if isinstance(v, Sym):
        return f"%{v.slot}"
    if isinstance(v, tuple):
        return "(" + ", ".join(_short(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, slice):
        return ":".join("" if x is None else _short(x) for x in (v.start, v.stop, v.step)).rstrip(":") or ":"
    text = getattr(v, "name", None) if not isinstance(v, (int, float, str)) else None
    return str(text) if text is not None else repr(v)
