"""Saving a traced function, to be loaded back without its Python source by ``restore.py``
(``ef.saved_model.save`` / ``ef.saved_model.load``; the format is in
``docs/guide/function-export.md``).

A save writes a directory with two files: ``function.json``, the graph as data (ops by their
registry name, params as tagged JSON values, slots with shapes, dtypes and device names), and
``arrays.npz``, the captured constants and the Variables' values, written and read with
``allow_pickle=False``; the JSON holds the archive's SHA-256. Nothing in either file is ever
executed: ops are looked up in the op registry by name, every slot number is checked to be an
int in range before the lowering turns it into a name, and the generated replay is made by
``compile.py`` from the rebuilt graph on the loading machine's backends, exactly as for a
fresh trace. Control-flow nodes keep their sub-graphs (recursively) and are rebuilt by their
ops' own trace hooks, so a loaded loop runs the code a traced one runs.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import math
import os

import numpy as np

from .._devices import Device
from .._dtypes import DType
from .._errors import EagerflowError
from .._registry import OPS
from .._tensor import Tensor
from .graph import Const, Graph, Node
from .tracer import SlotRef

FORMAT = "eagerflow.function"
VERSION = 1
GRAPH_FILE = "function.json"
ARRAYS_FILE = "arrays.npz"
_HOW = ("assign", "add", "sub")


class ExportError(EagerflowError, ValueError):
    """A traced function that cannot be saved, or a saved one that cannot be loaded."""


# -- saving ------------------------------------------------------------------------------------

def save(function, path, *args, **kwargs) -> str:
    """Save a traced function to the directory ``path``; returns the path.

    ``function`` is an ``ef.function`` (then ``args``/``kwargs`` are example arguments that
    choose the signature, as for ``get_concrete_function``), one of its concrete functions
    (``f.get_concrete_function(x)``), or a function :func:`load` returned. The Variables the
    graph reads or writes are saved with their current values.

    >>> import tempfile, eagerflow_core as ef
    >>> @ef.function
    ... def f(x):
    ...     return ef.tanh(x) * 2.0
    >>> path = ef.saved_model.save(f, tempfile.mkdtemp() + "/f", ef.ones(3))
    >>> ef.saved_model.load(path)(ef.zeros(3))
    ef.Tensor([0., 0., 0.], shape=(3,), dtype=float32, device='cpu:0')
    """
    names = None
    if hasattr(function, "get_concrete_function"):
        names = _input_names(args, kwargs, function.python_function)
        function = function.get_concrete_function(*args, **kwargs)
    elif args or kwargs:
        raise ExportError("ef.saved_model.save: example arguments are for an ef.function; "
                          "a concrete function has its signature already")
    graph = getattr(function, "graph", None)
    if not isinstance(graph, Graph):
        raise ExportError(f"ef.saved_model.save: expected an ef.function or a concrete "
                          f"function, got {type(function).__name__}")
    writer = _Writer()
    if names is None or len(names) != len(graph.inputs):
        names = getattr(function, "input_names", None) or _positional_names(function, graph)
    doc = {
        "format": FORMAT, "version": VERSION,
        "name": graph.name,
        "inputs": [{"name": n, "slot": s} for n, s in zip(names, graph.inputs)],
        "graph": writer.graph(graph),
        "outputs": _structure(function.structure),
    }
    doc["variables"] = [writer.variable_entry(v) for v in writer.variables]
    doc["loop_stores"] = [{"enabled": bool(s.enabled)} for s in writer.stores]
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **writer.arrays)
    blob = buffer.getvalue()
    doc["arrays"] = {"file": ARRAYS_FILE, "sha256": hashlib.sha256(blob).hexdigest(),
                     "entries": writer.entries}
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, ARRAYS_FILE), "wb") as f:
        f.write(blob)
    with open(os.path.join(path, GRAPH_FILE), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, allow_nan=False)
    return str(path)


class _Writer:
    """Collects the arrays, Variables and loop stores a graph refers to while encoding it."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self.entries: dict[str, dict] = {}   # array key -> {"dtype", "shape"} as JSON
        self.variables: list = []   # in order of first use; nodes name them by index
        self.stores: list = []      # while_loop iteration stores, shared by loop and gradient
        self._index: dict[int, int] = {}

    def array(self, host: np.ndarray, dtype_name: str) -> str:
        key = f"a{len(self.arrays)}"
        host = np.asarray(host, order="C")  # (ascontiguousarray makes a 0-d array 1-d)
        if host.dtype.kind not in "biufc":  # bfloat16 (ml_dtypes): its bits, a plain dtype
            host = host.view(f"u{host.dtype.itemsize}")
        self.arrays[key] = host
        self.entries[key] = {"dtype": dtype_name, "shape": list(host.shape)}
        return key

    def tensor(self, t: Tensor) -> str:
        return self.array(t._device.backend.backend.to_host(t._data), t._dtype.name)

    def _number(self, obj, table: list) -> int:
        i = self._index.get(id(obj))
        if i is None:
            i = self._index[id(obj)] = len(table)
            table.append(obj)
        return i

    def variable(self, var) -> int:
        return self._number(var, self.variables)

    def variable_entry(self, var) -> dict:
        value = var.read_value()
        return {"name": var.name, "trainable": bool(var.trainable), "dtype": value._dtype.name,
                "shape": list(value.shape), "device": str(value._device),
                "array": self.tensor(value)}

    def store(self, saved) -> int:
        return self._number(saved, self.stores)

    # -- graphs --------------------------------------------------------------------------------
    def graph(self, g: Graph) -> dict:
        return {
            "name": g.name,
            "slots": [[list(shape), dtype.name, str(dev)] for shape, dtype, dev in g.avals],
            "inputs": list(g.inputs),
            "constants": [[s, self.tensor(t)] for s, t in g.constants.items()],
            "nodes": [self.node(n) for n in g.nodes],
            "outputs": list(g.output_slots),
        }

    def node(self, n: Node) -> dict:
        where = f"node {n.name()}"
        out = {"kind": n.kind, "ins": [self.input(s, where) for s in n.ins],
               "outs": list(n.outs)}
        if n.kind == "op":
            if OPS.get(n.op.name) is not n.op:
                raise ExportError(f"ef.saved_model.save: op {n.op.name!r} is not in the op "
                                  f"registry (a function-local op), so a loader could not "
                                  f"find it by name")
            out["op"] = n.op.name
            out["params"] = {k: self.value(v, f"{where} param {k!r}") for k, v in n.params.items()}
            if n.extra == "several":  # a kernel returning a sequence (of one result, maybe)
                out["several"] = True
        elif n.kind == "read":
            out["variable"] = self.variable(n.extra)
        elif n.kind == "assign":
            out["variable"] = self.variable(n.extra)
            out["how"] = n.params["how"]
        elif n.kind == "update":
            out["kernel"] = n.op
            out["variables"] = [self.variable(v) for v in n.extra]
            out["params"] = {k: self.value(v, f"{where} param {k!r}") for k, v in n.params.items()}
        elif n.kind == "print":
            parts = _call_parts(n)
            out.update(parts=parts["parts"], sep=parts["sep"], end=parts["end"])
        elif n.kind == "call":
            parts = _call_parts(n)
            out["kind"] = parts["kind"]
            out.update({k: v for k, v in parts.items() if k in ("where", "n", "k", "max")})
            for key in ("branches", "graphs"):
                if key in parts:
                    out[key] = [self.graph(sub) for sub in parts[key]]
            if "saved" in parts:
                out["saved"] = self.store(parts["saved"])
        else:
            raise ExportError(f"ef.saved_model.save: cannot save a node of kind {n.kind!r}")
        return out

    def input(self, s, where):
        return {"const": self.value(s.value, where)} if isinstance(s, Const) else s

    def value(self, v, where):
        """A Python value (a param, a constant operand) as tagged JSON."""
        if v is None or isinstance(v, (bool, str)):
            return v
        if type(v) is int:
            return v
        if type(v) is float:
            return v if math.isfinite(v) else {"float": repr(v)}
        if type(v) is complex:
            return {"complex": [self.value(v.real, where), self.value(v.imag, where)]}
        if isinstance(v, np.generic) and v.dtype.kind in "biufc":
            return {"numpy": [v.dtype.str, self.value(v.item(), where)]}
        if isinstance(v, tuple):
            return {"tuple": [self.value(x, where) for x in v]}
        if isinstance(v, list):
            return {"list": [self.value(x, where) for x in v]}
        if isinstance(v, slice):
            return {"slice": [self.value(x, where) for x in (v.start, v.stop, v.step)]}
        if v is Ellipsis:
            return {"ellipsis": None}
        if type(v) is DType:
            return {"dtype": v.name}
        if type(v) is Device:
            return {"device": str(v)}
        if isinstance(v, SlotRef):
            return {"slot": v.slot}
        if isinstance(v, Tensor):
            return {"tensor": self.tensor(v)}
        if isinstance(v, np.ndarray) and v.dtype.kind in "biufc":
            return {"array": self.array(v, v.dtype.name)}
        raise ExportError(f"ef.saved_model.save: {where} is a {type(v).__name__} ({v!r:.60}), "
                          f"which the format cannot hold (it holds Python scalars, strings, "
                          f"tuples, lists, slices, dtypes, devices and arrays)")


def _call_parts(node: Node) -> dict:
    """What a control-flow or print node runs, as data: its kind, sub-graphs and settings.

    The node's runner may describe itself (an ``ef_export`` dict on it, with these keys);
    otherwise the settings are read from the runner's closure, which ``control_flow.py``
    builds, and each sub-graph from its compiled replay (``compile_graph`` marks it)."""
    run = node.extra
    described = getattr(run, "ef_export", None)
    if described is not None:
        return described
    try:
        free = inspect.getclosurevars(run).nonlocals
    except TypeError:
        free = {}
    name = node.op if isinstance(node.op, str) else ""
    try:
        if node.kind == "print":
            if free.get("file") is not None:
                raise ExportError("ef.saved_model.save: ef.print(..., file=...) writes to a "
                                  "Python object, which cannot be saved; print to stdout")
            return {"parts": [None if is_tensor else str(a) for is_tensor, a in free["kinds"]],
                    "sep": str(free["sep"]), "end": str(free["end"])}
        if name.startswith("switch["):
            return {"kind": "switch", "branches": [r.graph for r in free["replays"]],
                    "where": [list(w) for w in free["where"]]}
        if name.startswith("while_loop["):
            return {"kind": "while_loop", "graphs": [free["cond_replay"].graph,
                                                     free["body_replay"].graph],
                    "where": [list(free["wc"]), list(free["wb"])], "n": free["n"],
                    "max": free["limit"], "saved": free["saved"]}
        if name == "while_loop_grad":
            p = free["params"]
            return {"kind": "while_loop_grad", "graphs": [p["vjp"].graph], "n": p["n"],
                    "k": p["k"], "saved": free["saved"]}
    except (KeyError, AttributeError):
        pass
    raise ExportError(f"ef.saved_model.save: the node {node.name()} runs a Python callback "
                      f"({getattr(run, '__qualname__', type(run).__name__)}), which cannot be "
                      f"saved; only ops, Variables, ef.cond / ef.switch_case / ef.while_loop "
                      f"and ef.print can")


def _structure(s):
    from .api import _Out
    if isinstance(s, _Out):
        return {"out": s.index}
    if isinstance(s, tuple):  # a namedtuple comes back as a plain tuple
        return {"tuple": [_structure(x) for x in s]}
    if isinstance(s, list):
        return {"list": [_structure(x) for x in s]}
    if isinstance(s, dict):
        if not all(isinstance(k, (str, int)) and not isinstance(k, bool) for k in s):
            raise ExportError("ef.saved_model.save: the result is a dict whose keys are not "
                              "all strings or ints")
        return {"dict": [[k, _structure(v)] for k, v in s.items()]}
    if s is None or isinstance(s, (bool, int, str)) or (type(s) is float and math.isfinite(s)):
        return s
    raise ExportError(f"ef.saved_model.save: the function returns a {type(s).__name__}, which "
                      f"the format cannot hold; return tensors (in tuples, lists, dicts)")


def _input_names(args, kwargs, fn) -> list[str]:
    from .api import _arg_names, _signature
    flat, _, _ = _signature(args, kwargs, None)
    names = _arg_names(fn)
    out = []
    for _, path in flat:
        where = path[1:]
        if path[0] == "args" and where and isinstance(where[0], int) and where[0] < len(names):
            head, rest = names[where[0]], where[1:]
        else:
            head, rest = str(where[0]) if where else "input", where[1:]
        out.append(head + "".join(f"[{p!r}]" for p in rest))
    return out


def _positional_names(function, graph) -> list[str]:
    names = list(getattr(function, "arg_names", None) or [])
    if len(names) == len(graph.inputs):
        return names
    return [f"input_{i}" for i in range(len(graph.inputs))]


__all__ = ["save", "ExportError", "FORMAT", "VERSION"]
