"""``ef.function``: the same Python code, traced once per input signature into a graph, then
replayed (TensorFlow's ``tf.function``, JAX's ``jit``).

A call computes the signature of its arguments (each tensor's shape, dtype and device; every
other argument's value, which is part of the cache key as in TensorFlow); the first call with
a signature traces the function (``tracer.py``) and compiles the graph (``compile.py``); later
calls replay it. Eager stays the default: a graph is an optimisation the user opts into.
"""

from __future__ import annotations

import functools
import warnings

from .._errors import ArgumentTypeError, InvalidArgumentError
from .._state import state
from .._tensor import Tensor
from .compile import compile_graph, wrap_outputs
from .graph import Graph
from .tracer import Tracer

RETRACE_WARNING_AFTER = 5


class RetracingWarning(UserWarning):
    """An ef.function traced again and again (a changing shape or Python argument)."""


class TensorSpec:
    """What an argument of ``input_signature`` may be: a shape (None for any size), a dtype.

    >>> import eagerflow_core as ef
    >>> ef.TensorSpec((None, 3), ef.float32)
    ef.TensorSpec(shape=(None, 3), dtype=float32)
    """

    def __init__(self, shape, dtype=None, name=None):
        self.shape = None if shape is None else tuple(shape)
        self.dtype = dtype
        self.name = name

    def __repr__(self):
        return f"ef.TensorSpec(shape={self.shape}, dtype={getattr(self.dtype, 'name', self.dtype)})"


class ConcreteFunction:
    """One traced signature: the graph, its replay and how to rebuild the result."""

    def __init__(self, graph: Graph, structure, arg_names):
        self.raw_graph = graph
        self.replay, self.source, self.graph = compile_graph(graph)
        self.structure = structure  # the result, tensors replaced by their output index
        self.arg_names = arg_names

    def __call__(self, tensors):
        raws = self.replay(*[t._data for t in tensors])
        return _rebuild(self.structure, wrap_outputs(self.graph, raws))

    def __str__(self):
        return str(self.graph)

    __repr__ = __str__


class Function:
    """A Python function traced into graphs (see :func:`function`)."""

    def __init__(self, fn, input_signature=None, reduce_retracing=False, name=None):
        self.python_function = fn
        self.input_signature = None if input_signature is None else list(input_signature)
        self.reduce_retracing = reduce_retracing
        self.name = name or getattr(fn, "__name__", "function")
        self._cache: dict = {}
        self._last_key = None
        self._general: dict = {}  # argument position -> generalised shape (reduce_retracing)
        self.trace_count = 0
        functools.update_wrapper(self, fn)

    def __get__(self, obj, objtype=None):  # methods of Modules
        if obj is None:
            return self
        bound = self.__dict__.setdefault("_bound", {})
        key = id(obj)
        if key not in bound:
            bound[key] = Function(functools.partial(self.python_function, obj),
                                  self.input_signature, self.reduce_retracing, self.name)
        return bound[key]

    # -- calling --------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if _tracing():  # inside another traced function: its tracer sees these ops directly
            return self.python_function(*args, **kwargs)
        concrete, tensors = self._concrete(args, kwargs)
        return concrete(tensors)

    def graph(self, *args, **kwargs) -> ConcreteFunction:
        """The traced graph for these arguments (tracing it if needed); ``print`` shows it."""
        return self._concrete(args, kwargs)[0]

    get_concrete_function = graph

    def _concrete(self, args, kwargs):
        flat, key, specs = _signature(args, kwargs, self.input_signature)
        concrete = self._cache.get(key)
        if concrete is None and self.reduce_retracing and self._cache:
            specs, key = self._generalise(specs, key)
            concrete = self._cache.get(key)
        if concrete is None:
            self._note_retrace(key)
            concrete = self._cache[key] = self._trace(args, kwargs, flat, specs)
        self._last_key = key
        return concrete, [t for t, _ in flat]

    def _generalise(self, specs, key):
        """reduce_retracing: a dimension that changed between calls becomes unknown (None)."""
        last = self._last_key
        if last is None or len(last[0]) != len(specs):
            return specs, key
        new = []
        for (old_shape, *_), spec in zip(last[0], specs):
            shape, dtype, dev = spec
            if len(old_shape) == len(shape):
                shape = tuple(a if a == b else None for a, b in zip(old_shape, shape))
            new.append((shape, dtype, dev))
        return new, (tuple(new),) + key[1:]

    def _note_retrace(self, key):
        if self.trace_count >= RETRACE_WARNING_AFTER and self._last_key is not None:
            why = _difference(self._last_key, key, self.python_function)
            warnings.warn(f"ef.function {self.name!r} has traced {self.trace_count + 1} times; "
                          f"this time because {why}. Each trace costs a Python run of the "
                          f"function: pass input_signature=... or reduce_retracing=True for "
                          f"changing shapes, and tensors rather than Python numbers for "
                          f"changing values", RetracingWarning, stacklevel=4)

    def _trace(self, args, kwargs, flat, specs) -> ConcreteFunction:
        self.trace_count += 1
        graph = Graph(self.name)
        tracer = Tracer(graph)
        tracer.parent = state.interp
        state.interp = tracer
        try:
            symbolic = iter([tracer.input(t, shape) for (t, _), (shape, _, _) in zip(flat, specs)])
            s_args, s_kwargs = _replace_tensors((args, kwargs), symbolic)
            out = self.python_function(*s_args, **s_kwargs)
        finally:
            state.interp = tracer.parent
            tracer.parent = None
        structure = _outputs(graph, tracer, out)
        return ConcreteFunction(graph, structure, _arg_names(self.python_function))


def function(fn=None, *, input_signature=None, reduce_retracing=False, name=None):
    """Trace ``fn`` into a graph once per input signature and replay it on later calls.

    Tensor arguments are traced by shape, dtype and device; any other argument's value is part
    of the signature (a new value traces again). ``input_signature`` (a list of
    :class:`TensorSpec`) fixes the signature, with None for sizes that may change;
    ``reduce_retracing=True`` makes a size that changed between calls unknown instead of
    tracing for each size. Inside, tensors have shapes but no values: Python ``print`` runs
    once, at trace time (``ef.print`` runs at every call), and ``if``/``while`` on a tensor
    raise an error pointing at ``ef.cond``/``ef.while_loop``.

    >>> import eagerflow_core as ef
    >>> @ef.function
    ... def f(x, y):
    ...     return ef.tanh(x @ y) * 2.0
    >>> f(ef.ones((2, 3)), ef.ones((3, 1)))
    ef.Tensor([[1.990109],
               [1.990109]], shape=(2, 1), dtype=float32, device='cpu:0')
    >>> f.trace_count
    1
    >>> print(f.graph(ef.ones((2, 3)), ef.ones((3, 1))))
    graph f(%0: float32[2, 3], %1: float32[3, 1]):
      %2: float32[2, 1] = matmul(%0, %1)
      %3: float32[2, 1] = tanh(%2)
      %4: float32[2, 1] = multiply(%3, 2.0)
      return %4
    """
    if fn is None:
        return lambda f: Function(f, input_signature, reduce_retracing, name)
    return Function(fn, input_signature, reduce_retracing, name)


def _tracing() -> bool:
    interp = state.interp
    while interp is not None:
        if getattr(interp, "traces", False):
            return True
        interp = interp.parent
    return False


# -- signatures -----------------------------------------------------------------------------------

def _signature(args, kwargs, input_signature):
    """``(flat tensors with their paths, cache key, specs)``."""
    flat = []
    shape_key = []
    py_key = []

    def walk(x, path):
        if isinstance(x, Tensor) or hasattr(x, "_ef_variable_"):
            t = x if isinstance(x, Tensor) else x.read_value()
            flat.append((t, path))
            shape_key.append((tuple(t.shape), t._dtype, t._device))
            py_key.append(("T", path))
        elif isinstance(x, (list, tuple)):
            py_key.append((type(x).__name__, len(x), path))
            for i, v in enumerate(x):
                walk(v, path + (i,))
        elif isinstance(x, dict):
            py_key.append(("dict", tuple(sorted(map(str, x))), path))
            for k in sorted(x, key=str):
                walk(x[k], path + (k,))
        else:
            try:
                hash(x)
                py_key.append(("py", type(x).__name__, x, path))
            except TypeError:
                py_key.append(("id", id(x), path))
    walk(args, ("args",))
    walk(kwargs, ("kwargs",))
    specs = list(shape_key)
    if input_signature is not None:
        if len(input_signature) != len(flat):
            raise InvalidArgumentError(f"ef.function: input_signature has {len(input_signature)} "
                                       f"specs for {len(flat)} tensor arguments")
        specs = []
        for spec, (t, path) in zip(input_signature, flat):
            specs.append(_check_spec(spec, t, path))
    return flat, (tuple(specs), tuple(py_key)), specs


def _check_spec(spec, t, path):
    dtype = spec.dtype
    if dtype is not None and dtype is not t._dtype:
        raise ArgumentTypeError(f"ef.function: argument {_path(path)} has dtype {t._dtype}, the "
                                f"input_signature says {dtype}")
    shape = spec.shape if spec.shape is not None else (None,) * t.ndim
    if len(shape) != t.ndim or any(s is not None and s != d for s, d in zip(shape, t.shape)):
        raise InvalidArgumentError(f"ef.function: argument {_path(path)} has shape {t.shape}, "
                                   f"the input_signature says {shape}")
    return (tuple(shape), t._dtype, t._device)


def _path(path) -> str:
    where = path[1:]
    return "[" + "][".join(map(repr, where)) + "]" if where else "?"


def _difference(old, new, fn) -> str:
    names = _arg_names(fn)
    if old[1] != new[1]:
        for a, b in zip(old[1], new[1]):
            if a != b:
                return f"the Python argument {_named(a[-1], names)} changed ({a[2]!r} -> " \
                       f"{b[2]!r})" if a[0] == b[0] == "py" else \
                       f"the structure of argument {_named(b[-1], names)} changed"
        return "the arguments' structure changed"
    for (sa, da, va), (sb, db, vb), path in zip(old[0], new[0], [p for p in new[1] if p[0] == "T"]):
        if (sa, da, va) != (sb, db, vb):
            what = f"shape {sa} -> {sb}" if sa != sb else f"dtype {da} -> {db}" if da is not db \
                else f"device {va} -> {vb}"
            return f"tensor argument {_named(path[1], names)} changed ({what})"
    return "the signature changed"


def _named(path, names) -> str:
    if len(path) >= 2 and path[0] == "args" and isinstance(path[1], int) and path[1] < len(names):
        rest = "".join(f"[{p!r}]" for p in path[2:])
        return repr(names[path[1]] + rest)
    if len(path) >= 2 and path[0] == "kwargs":
        return repr(str(path[1]))
    return repr(path)


def _arg_names(fn):
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    return list(code.co_varnames[:code.co_argcount])


def _replace_tensors(tree, symbolic):
    if isinstance(tree, Tensor) or hasattr(tree, "_ef_variable_"):
        if hasattr(tree, "_ef_variable_"):
            next(symbolic)  # a Variable argument stays itself: captured by reference
            return tree
        return next(symbolic)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*[_replace_tensors(x, symbolic) for x in tree])
    if isinstance(tree, (list, tuple)):
        return type(tree)(_replace_tensors(x, symbolic) for x in tree)
    if isinstance(tree, dict):  # visited in the signature's (sorted) order, rebuilt in the user's
        done = {k: _replace_tensors(tree[k], symbolic) for k in sorted(tree, key=str)}
        return {k: done[k] for k in tree}
    return tree


# -- results ----------------------------------------------------------------------------------

class _Out:
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _outputs(graph: Graph, tracer: Tracer, out):
    def walk(x):
        if isinstance(x, Tensor):
            graph.output_slots.append(tracer.slot_of(x))
            return _Out(len(graph.output_slots) - 1)
        if hasattr(x, "_ef_variable_"):
            return walk(x.read_value())
        if isinstance(x, tuple) and hasattr(x, "_fields"):
            return type(x)(*[walk(v) for v in x])
        if isinstance(x, (list, tuple)):
            return type(x)(walk(v) for v in x)
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items()}
        return x
    return walk(out)


def _rebuild(structure, tensors):
    if isinstance(structure, _Out):
        return tensors[structure.index]
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*[_rebuild(x, tensors) for x in structure])
    if isinstance(structure, (list, tuple)):
        return type(structure)(_rebuild(x, tensors) for x in structure)
    if isinstance(structure, dict):
        return {k: _rebuild(v, tensors) for k, v in structure.items()}
    return structure
