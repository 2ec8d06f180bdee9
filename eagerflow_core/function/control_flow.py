"""``ef.cond``, ``ef.switch_case``, ``ef.while_loop`` and ``ef.print``: control flow and
printing that work the same eagerly and inside ``ef.function``.

Eagerly they are Python: the predicate has a value, the chosen branch runs, a loop loops,
and gradient tapes record the ops that ran (so they differentiate like any Python code).
While tracing, the predicate has no value: each branch (or the loop's condition and body) is
traced into a graph of its own, and one node chooses at replay. Tensors a branch uses from
outside are captured as inputs of that node, so gradients reach them: the node is an op whose
gradient rule is the same construct over the branches' gradients (``ef.cond`` of the two
VJPs), traced in its turn.
"""

from __future__ import annotations

from .._dispatch import call
from .._errors import InvalidArgumentError, ShapeError
from .._registry import OpDef, defvjp
from .._state import state
from .._tensor import Tensor
from .compile import compile_graph
from .graph import Graph, Node, Sym
from .tracer import Tracer


def _symbolic(x) -> bool:
    return isinstance(x, Tensor) and isinstance(x._data, Sym)


def _current_tracer():
    interp = state.interp
    while interp is not None:
        if getattr(interp, "traces", False):
            return interp
        interp = interp.parent
    return None


# -- tracing a branch ------------------------------------------------------------------------

class _Branch:
    """One traced branch: its graph (inputs = captured outer tensors), its compiled replay,
    and its output structure."""

    def __init__(self, fn, outer: Tracer, name, args=()):
        self.graph = Graph(name)
        tracer = Tracer(self.graph, outer=outer)
        self.inputs = [tracer.input(a) for a in args]  # explicit inputs first (loop vars)
        tracer.parent = state.interp
        state.interp = tracer
        try:
            out = fn(*self.inputs)
        finally:
            state.interp = tracer.parent
        self.flat, self.treedef = _flatten(out)
        for i, o in enumerate(self.flat):
            if not isinstance(o, Tensor):
                raise InvalidArgumentError(f"{name}: a branch must return tensors (or nested "
                                           f"lists/tuples/dicts of them); output {i} is a "
                                           f"{type(o).__name__}")
            self.graph.output_slots.append(tracer.slot_of(o))
        self.captured = tracer.outer_tensors   # in the order of the graph's extra inputs
        self.replay, self.source, _ = compile_graph(self.graph)

    def avals(self):
        return [self.graph.avals[s] for s in self.graph.output_slots]


def _flatten(tree):
    if isinstance(tree, (list, tuple)):
        parts = [_flatten(x) for x in tree]
        return [v for p in parts for v in p[0]], (type(tree), [p[1] for p in parts])
    if isinstance(tree, dict):
        keys = list(tree)
        parts = [_flatten(tree[k]) for k in keys]
        return [v for p in parts for v in p[0]], (dict, keys, [p[1] for p in parts])
    return [tree], None


def _unflatten(treedef, leaves):
    it = iter(leaves)

    def build(td):
        if td is None:
            return next(it)
        if td[0] is dict:
            return {k: build(sub) for k, sub in zip(td[1], td[2])}
        items = [build(sub) for sub in td[1]]
        return td[0](*items) if hasattr(td[0], "_fields") else td[0](items)
    return build(treedef)


def _merged_avals(name, branches):
    """The outputs every branch must agree on: structure, dtype, device; a size on which
    they differ is unknown (None) after the node."""
    first = branches[0]
    for b in branches[1:]:
        if b.treedef != first.treedef or len(b.flat) != len(first.flat):
            raise InvalidArgumentError(f"{name}: the branches return different structures; "
                                       f"they must return the same nesting of tensors")
    avals = []
    for i, parts in enumerate(zip(*[b.avals() for b in branches])):
        shapes, dtypes, devs = zip(*parts)
        if len(set(dtypes)) > 1 or len(set(map(str, devs))) > 1:
            raise InvalidArgumentError(f"{name}: output {i} is {dtypes[0]} on {devs[0]} in one "
                                       f"branch and {dtypes[1]} on {devs[1]} in another; "
                                       f"branches must agree on dtypes and devices")
        if len({len(s) for s in shapes}) > 1:
            raise ShapeError(f"{name}: output {i} has shapes {list(shapes)} in the branches; "
                             f"they must have the same number of dimensions")
        shape = tuple(d if all(s[j] == d for s in shapes) else None
                      for j, d in enumerate(shapes[0]))
        avals.append((shape, dtypes[0], devs[0]))
    return avals


def _union(branches):
    """The captured outer tensors of all branches, once each, and each branch's positions."""
    captured, index = [], {}
    for b in branches:
        for t in b.captured:
            key = (id(t._data.owner), t._data.slot)
            if key not in index:
                index[key] = len(captured)
                captured.append(t)
    where = [[index[(id(t._data.owner), t._data.slot)] for t in b.captured] for b in branches]
    return captured, where


# -- the branch-choosing op (seen by interpreters while tracing) ------------------------------------

def _choose_dtype(index, *captured, **params):
    return tuple(a[1] for a in params["avals"]) if len(params["avals"]) != 1 else \
        params["avals"][0][1]


def _choose_shape(index, *captured, **params):
    shapes = [a[0] for a in params["avals"]]
    return shapes if len(shapes) != 1 else shapes[0]


def _choose_eager(index, *captured, fns, avals, branches, where):
    i = int(index)
    i = min(max(i, 0), len(fns) - 1)  # switch_case: out of range runs the last (TF's default)
    return _flat_tuple(fns[i]())


choose_op = OpDef("switch", family="control_flow", nin=1, dtype_rule=_choose_dtype,
                  shape_rule=_choose_shape, impl=_choose_eager,
                  doc="Run one of several branches, chosen by an index tensor.")
choose_op.needs_kernel = False


def _flat_tuple(out):
    flat, _ = _flatten(out)
    return tuple(flat) if len(flat) != 1 else flat[0]


def _choose_vjp(g, ans, index, *captured, fns, avals, branches, where):
    """The gradient of a branch choice: the same choice over the branches' VJPs."""
    from ..autodiff.tape import GradientTape
    gs = g if isinstance(g, tuple) else (g,)
    sources = [c for c in captured if c._dtype.inexact]

    def grad_of(fn):
        def run():
            with GradientTape() as tape:
                tape.watch(sources)
                outs, _ = _flatten(fn())
            seeds = [gi if gi is not None else _zeros(o) for gi, o in zip(gs, outs)]
            got = tape.gradient(outs, sources, output_gradients=seeds,
                                unconnected_gradients="zero")
            return tuple(got)
        return run
    grads = iter(switch_case(index, [grad_of(fn) for fn in fns]) if sources else ())
    out = [None]
    for c in captured:
        out.append(next(grads) if c._dtype.inexact else None)
    return tuple(out)


def _zeros(t):
    from .._registry import F
    return F.zeros_like(t)


defvjp(choose_op, all_inputs=_choose_vjp)


def _trace_hook(tracer, inputs, params):
    """How the tracer records a branch choice: one "call" node running the chosen branch's
    compiled replay on its captured inputs."""
    branches, where = params["branches"], params["where"]
    replays = [b.replay for b in branches]

    def run(index, *captured):
        i = int(index)
        i = min(max(i, 0), len(replays) - 1)
        return replays[i](*[captured[j] for j in where[i]])
    ins = [tracer.slot_of(x) for x in inputs]
    outs = [tracer.tensor(*a) for a in params["avals"]]
    tracer.graph.nodes.append(Node("call", f"switch[{len(branches)}]", ins, {},
                                   [o._data.slot for o in outs], extra=run))
    return tuple(outs) if len(outs) != 1 else outs[0]


choose_op.trace = _trace_hook


def switch_case(branch_index, branch_fns, default=None, name="switch_case"):
    """Run ``branch_fns[branch_index]()`` (TensorFlow's ``tf.switch_case``); an index out of
    range runs ``default`` (the last branch if None). Works eagerly and inside ef.function,
    where every branch is traced and the choice happens at each call; gradients flow to the
    tensors the branches use.

    >>> import eagerflow_core as ef
    >>> x = ef.constant(3.0)
    >>> ef.switch_case(ef.constant(1), [lambda: x * 2.0, lambda: x * 10.0])
    ef.Tensor(30., shape=(), dtype=float32, device='cpu:0')
    """
    fns = list(branch_fns.values() if isinstance(branch_fns, dict) else branch_fns)
    if default is not None:
        fns.append(default)
    if not fns:
        raise InvalidArgumentError(f"{name}: needs at least one branch")
    if not _symbolic(branch_index) and not _symbolic_inside(branch_index):
        i = int(branch_index)
        return fns[i]() if 0 <= i < len(fns) else fns[-1]()
    tracer = _current_tracer()
    branches = [_Branch(fn, tracer, f"{name}_branch{i}") for i, fn in enumerate(fns)]
    avals = _merged_avals(name, branches)
    captured, where = _union(branches)
    out = call(choose_op, (branch_index, *captured),
               {"fns": tuple(fns), "avals": tuple(avals), "branches": tuple(branches),
                "where": tuple(map(tuple, where))})
    flat = list(out) if isinstance(out, tuple) else [out]
    return _unflatten(branches[0].treedef, flat)


def _symbolic_inside(x) -> bool:
    return hasattr(x, "_ef_variable_") and _current_tracer() is not None


def cond(pred, true_fn, false_fn, name="cond"):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (TensorFlow's ``tf.cond``). Eagerly it
    is an ``if``; inside ef.function both branches are traced and ``pred`` chooses at each
    call. Both must return the same structure of tensors with the same dtypes; gradients flow
    to the tensors the branches use.

    >>> import eagerflow_core as ef
    >>> @ef.function
    ... def relu_or_square(x):
    ...     return ef.cond(ef.sum(x) > 0, lambda: ef.maximum(x, 0.0), lambda: x * x)
    >>> relu_or_square(ef.constant([-1.0, 2.0])), relu_or_square(ef.constant([-3.0, 1.0]))
    (ef.Tensor([0., 2.], shape=(2,), dtype=float32, device='cpu:0'), ef.Tensor([9., 1.], shape=(2,), dtype=float32, device='cpu:0'))
    """
    if not _symbolic(pred):
        return true_fn() if bool(pred) else false_fn()
    from .._dtypes import int64
    from .._registry import F
    index = F.astype(F.logical_not(pred), int64)  # 0 runs true_fn
    return switch_case(index, [true_fn, false_fn], name=name)
