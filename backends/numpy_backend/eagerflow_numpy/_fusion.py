"""Fused elementwise groups for ``ef.function`` on the CPU, through numba (the optional
``eagerflow-numpy[jit]`` extra; without numba the backend declines every group).

A group (``Backend.compile_elementwise``) becomes one generated loop nest over its result
shape: each input element is loaded once, the steps are scalar expressions (in the dtypes the
core decided: float32 stays float32), and each output is stored once. What this buys on the
CPU (benchmarks/bench_function.py, issue #11):

- tiny arrays: one call instead of one NumPy call (and one result array) per op;
- selects: ``where(x > 0, g, 0)`` (ReLU's backward) is a branch-free vector select here,
  where ``np.where`` branches per element on a random mask;
- memory-bound chains: one pass over memory instead of one per op.

By default only ops that IEEE 754 rounds exactly are fused (arithmetic, sqrt, comparisons,
selects, abs, min/max): a fused group then gives the same bits as NumPy, op by op. The
transcendental functions (exp, tanh, log...) differ from NumPy's SIMD versions by an ulp or
so, which an ill-conditioned gradient (1 - tanh(x)**2 near 1) can amplify to 1e-4; they stay
NumPy calls unless ``EAGERFLOW_NUMPY_FUSION=all``. Even then, large groups with them stay
NumPy calls (``LARGE``): NumPy's SIMD ``exp``/``tanh`` beat numba's scalar libm calls. The
generated
source depends only on the ops, dtypes and broadcasting pattern (sizes are read from the
inputs), so one compiled loop serves every graph with that pattern; compiled code is cached
on disk (``EAGERFLOW_CACHE_DIR``, else ``~/.cache/eagerflow``) by the source's hash.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import sys
import threading

import numpy as np

#: EAGERFLOW_NUMPY_FUSION: "exact" (the default: ops NumPy and numba round alike), "all"
#: (transcendental functions too, within an ulp or so of NumPy's) or "0" (off).
MODE = os.environ.get("EAGERFLOW_NUMPY_FUSION", "exact")
ENABLED = MODE != "0"
#: Elements above which a group with a transcendental function is left to NumPy.
LARGE = 1 << 14

# op -> expression over the arguments' names ({0}, {1}, {2}); {one} is 1 in the step's dtype
_EXPR = {
    "add": "{0} + {1}", "subtract": "{0} - {1}", "multiply": "{0} * {1}",
    "divide": "{0} / {1}", "negative": "-{0}", "square": "{0} * {0}",
    "reciprocal": "{one} / {0}", "abs": "np.abs({0})", "sign": "np.sign({0})",
    "maximum": "np.maximum({0}, {1})", "minimum": "np.minimum({0}, {1})",
    "floor": "np.floor({0})", "ceil": "np.ceil({0})", "trunc": "np.trunc({0})",
    "copysign": "np.copysign({0}, {1})",
    "exp": "np.exp({0})", "expm1": "np.expm1({0})", "log": "np.log({0})",
    "log1p": "np.log1p({0})", "log2": "np.log2({0})", "log10": "np.log10({0})",
    "sqrt": "np.sqrt({0})", "tanh": "np.tanh({0})", "sinh": "np.sinh({0})",
    "cosh": "np.cosh({0})", "sin": "np.sin({0})", "cos": "np.cos({0})", "tan": "np.tan({0})",
    "pow": "{0} ** {1}", "logaddexp": "np.logaddexp({0}, {1})", "hypot": "np.hypot({0}, {1})",
    "atan2": "np.arctan2({0}, {1})",
    "greater": "{0} > {1}", "greater_equal": "{0} >= {1}", "less": "{0} < {1}",
    "less_equal": "{0} <= {1}", "equal": "{0} == {1}", "not_equal": "{0} != {1}",
    "logical_and": "{0} and {1}", "logical_or": "{0} or {1}", "logical_xor": "{0} != {1}",
    "logical_not": "not {0}", "isnan": "np.isnan({0})", "isinf": "np.isinf({0})",
    "isfinite": "np.isfinite({0})", "signbit": "np.signbit({0})",
    "where": "{1} if {0} else {2}",
}
_TRANSCENDENTAL = frozenset({"exp", "expm1", "log", "log1p", "log2", "log10", "tanh", "sinh",
                             "cosh", "sin", "cos", "tan", "pow", "logaddexp", "hypot", "atan2"})
FUSION_OPS = frozenset(_EXPR) - (_TRANSCENDENTAL if MODE != "all" else frozenset())
FUSION_DTYPES = frozenset({"float32", "float64", "bool"})
_CTOR = {"float32": "np.float32", "float64": "np.float64", "bool": "np.bool_"}

_compiled: dict[str, object] = {}   # source -> numba dispatcher (this process)
_lock = threading.Lock()


def available() -> bool:
    """numba is installed (found without importing it: importing costs ~0.5 s)."""
    return ENABLED and importlib.util.find_spec("numba") is not None


def compile_group(group):
    """A callable computing ``group`` (``eagerflow_core.function.fusion.Group``), or None."""
    if not ENABLED or not group.shape or not _supported(group):
        return None
    if len(group.steps) == 1 and group.steps[0].op != "where":
        return None  # one NumPy ufunc is one pass already; np.where branches per element
    size = math.prod(group.shape)
    if size > LARGE and any(s.op in _TRANSCENDENTAL for s in group.steps):
        return None
    source = generate(group)
    outs = [(group.shape, group.steps[j].result.numpy) for j in group.outputs]
    probe = [np.zeros(shape, dt.numpy) for shape, dt in group.inputs]
    for load in (_load, _in_memory):  # a broken disk cache entry: compile afresh
        try:
            kernel = load(source)
            run = _runner(kernel, len(group.inputs), outs)
            run(*probe)  # compile now, not in the middle of a replay
            return run
        except Exception:  # noqa: BLE001  (numba could not do it: NumPy calls instead)
            _compiled.pop(source, None)
    return None


def _runner(kernel, n_inputs, outs):
    """The group's callable: new output arrays (allocated here: an array numba returns costs
    a dtype unpickling per call), then the kernel fills them."""
    ins = ", ".join(f"i{k}" for k in range(n_inputs))
    env = {"kernel": kernel, "empty": np.empty}
    lines = [f"def run({ins}):"]
    for m, (shape, dtype) in enumerate(outs):
        env[f"d{m}"] = np.dtype(dtype)
        lines.append(f"    o{m} = empty({tuple(shape)!r}, d{m})")
    names = ", ".join(f"o{m}" for m in range(len(outs)))
    lines += [f"    kernel({ins}, {names})", f"    return ({names},)"]
    exec("\n".join(lines), env)  # noqa: S102  (sizes are ints, names ours)
    return env["run"]


def _supported(group) -> bool:
    for step in group.steps:
        if step.op != "astype" and step.op not in FUSION_OPS:
            return False
        if step.dtype.name not in FUSION_DTYPES or step.result.name not in FUSION_DTYPES:
            return False
    return all(dt.name in FUSION_DTYPES for _, dt in group.inputs)


def generate(group) -> str:
    """The numba source of a group: one loop nest over the result shape."""
    nd = len(group.shape)
    names = [f"i{k}" for k in range(len(group.inputs))] + [f"o{m}" for m in
                                                            range(len(group.outputs))]
    lines = [f"def fused({', '.join(names)}):"]
    dims = []
    for d in range(nd):  # each loop's size, from an input with that axis in full
        size = "1"
        for k, (shape, _) in enumerate(group.inputs):
            a = d - (nd - len(shape))
            if a >= 0 and shape[a] == group.shape[d] and group.shape[d] != 1:
                size = f"i{k}.shape[{a}]"
                break
        lines.append(f"    n{d} = {size}")
        dims.append(f"n{d}")
    consts: dict = {}
    body = []
    for k, (shape, _) in enumerate(group.inputs):  # broadcast axes (size 1) read index 0
        index = [f"a{nd - len(shape) + a}" if n == group.shape[nd - len(shape) + a] else "0"
                 for a, n in enumerate(shape)]
        body.append(f"x{k} = i{k}[{', '.join(index) if index else '()'}]")
    for j, step in enumerate(group.steps):
        args = [_arg(ref, step, i, consts) for i, ref in enumerate(step.args)]
        ctor = _CTOR[step.result.name]
        if step.op == "astype":
            expr = args[0]
        else:
            expr = _EXPR[step.op].format(*args, one=f"{_CTOR[step.dtype.name]}(1)")
        body.append(f"s{j} = {ctor}({expr})")
    for m, j in enumerate(group.outputs):
        body.append(f"o{m}[{', '.join(f'a{d}' for d in range(nd))}] = s{j}")
    lines += [f"    {name} = {value}" for name, value in consts.items()]
    indent = "    "
    for d in range(nd):
        lines.append(f"{indent}for a{d} in range(n{d}):")
        indent += "    "
    lines += [indent + line for line in body]
    return "\n".join(lines) + "\n"


def _arg(ref, step, position, consts) -> str:
    kind, value = ref
    if kind == "input":
        return f"x{value}"
    if kind == "step":
        return f"s{value}"
    dtype = "bool" if step.op == "where" and position == 0 else step.dtype.name
    name = f"c{len(consts)}"
    consts[name] = f"{_CTOR[dtype]}({_literal(value)})"
    return name


def _literal(v) -> str:
    """A Python scalar as source text: only digits, signs, '.', 'e' or the words below."""
    if type(v) is bool:
        return "True" if v else "False"
    if type(v) is int:
        return str(v)
    if type(v) is float:
        return repr(v) if math.isfinite(v) else ("np.nan" if v != v else
                                                 ("np.inf" if v > 0 else "-np.inf"))
    raise TypeError(f"not a scalar: {v!r}")


# -- compiled code, cached in this process and on disk ---------------------------------------------

_HEADER = ("import numpy as np\nfrom numba import njit\n\n"
           "@njit(cache=True, error_model='numpy', nogil=True)\n")


def _load(source: str):
    with _lock:
        fn = _compiled.get(source)
        if fn is None:
            fn = _compiled[source] = _from_file(source) or _in_memory(source)
        return fn


def _cache_dir() -> str:
    root = os.environ.get("EAGERFLOW_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "eagerflow")
    return os.path.join(root, "numpy-fusion")


def _from_file(source: str):
    """The group as a module file numba can cache next to (numba caches only functions that
    live in files); None where the cache directory is not writable."""
    text = _HEADER + source
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    folder = _cache_dir()
    path = os.path.join(folder, f"fused_{digest}.py")
    try:
        if not os.path.exists(path) or _read(path) != text:  # written by us, or rewritten
            os.makedirs(folder, exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, path)  # atomic: another process sees all of it or nothing
        name = f"eagerflow_fused_{digest}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # numba's cache finds the file through the module
        spec.loader.exec_module(module)
        return module.fused
    except OSError:
        return None


def _read(path) -> str:
    with open(path) as f:
        return f.read()


def _in_memory(source: str):
    from numba import njit
    namespace = {"np": np}
    exec(compile(source, "<eagerflow fused group>", "exec"), namespace)  # noqa: S102
    return njit(error_model="numpy", nogil=True)(namespace["fused"])
