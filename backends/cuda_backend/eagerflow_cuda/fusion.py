"""Fused elementwise groups for ``ef.function`` on the GPU: one generated CUDA C kernel per
group (``Backend.compile_elementwise``, issue #11).

A group (``eagerflow_core.function.fusion.Group``) becomes a ``.cu`` source with two kernels:

- ``<name>_c``: every input is C-contiguous and of the group's shape, so element ``k`` of each
  input, output and step is at offset ``k`` (no index arithmetic);
- ``<name>_s``: any input strided or broadcast: the thread's coordinates are computed once
  from ``k`` and the group's sizes, and each input reads at the dot product of those with its
  element strides (0 along a broadcast axis).

Both loop grid-stride (``_launch.BLOCK`` threads, at most ``_launch.WAVES`` blocks per SM),
load each input element once, evaluate the steps in registers in the dtypes the core decided
(the CUDA math functions CuPy's own ufuncs call, no fast-math), and store each output once:
a chain of elementwise ops costs one pass over memory instead of one per op. The sources
depend on the ops, dtypes and broadcasting pattern only (sizes and strides are arguments), are
compiled like ``csrc/*.cu`` (``_compile``: NVRTC, the backend's options, a cubin cached on disk
by content) and are unit-tested on the CPU emulator (``tests/test_cuda_fusion.py``).

>>> from types import SimpleNamespace as N
>>> import numpy as np
>>> f32 = N(name="float32", numpy=np.dtype("float32"))
>>> group = N(shape=(4,), inputs=[((4,), f32)], outputs=[1],
...           steps=[N(op="exp", args=[("input", 0)], dtype=f32, result=f32),
...                  N(op="add", args=[("step", 0), ("const", 1.0)], dtype=f32, result=f32)])
>>> print(generate(group)[0].split("{", 2)[2].split("}")[0].strip())
const long long k0 = k;
        const float x0 = i0[k0];
        const float s0 = (float)(expf(x0));
        const float s1 = (float)((s0 + ((float)1.0)));
        o0[k] = s1;
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from pathlib import Path

import numpy as np

from . import _compile
from ._launch import BLOCK, WAVES, cdiv

FUSION_DTYPES = frozenset({"float32", "float64", "bool"})
_C = {"float32": "float", "float64": "double", "bool": "bool"}

# op -> C expression over the arguments ({0}, {1}, {2}); {f} is the float-suffix of the step's
# dtype ("f" for float32, "" for float64): expf / exp, as CuPy's ufuncs call them.
_EXPR = {
    "add": "({0} + {1})", "subtract": "({0} - {1})", "multiply": "({0} * {1})",
    "divide": "({0} / {1})", "negative": "(-{0})", "square": "({0} * {0})",
    "reciprocal": "({one} / {0})", "abs": "fabs{f}({0})",
    "sign": "({0} != {0} ? {0} : ({T})(({0} > 0) - ({0} < 0)))",
    "maximum": "(({0} > {1} || {0} != {0}) ? {0} : {1})",
    "minimum": "(({0} < {1} || {0} != {0}) ? {0} : {1})",
    "floor": "floor{f}({0})", "ceil": "ceil{f}({0})", "trunc": "trunc{f}({0})",
    "copysign": "copysign{f}({0}, {1})",
    "exp": "exp{f}({0})", "expm1": "expm1{f}({0})", "log": "log{f}({0})",
    "log1p": "log1p{f}({0})", "log2": "log2{f}({0})", "log10": "log10{f}({0})",
    "sqrt": "sqrt{f}({0})", "tanh": "tanh{f}({0})", "sinh": "sinh{f}({0})",
    "cosh": "cosh{f}({0})", "sin": "sin{f}({0})", "cos": "cos{f}({0})", "tan": "tan{f}({0})",
    "pow": "pow{f}({0}, {1})", "hypot": "hypot{f}({0}, {1})", "atan2": "atan2{f}({0}, {1})",
    "greater": "({0} > {1})", "greater_equal": "({0} >= {1})", "less": "({0} < {1})",
    "less_equal": "({0} <= {1})", "equal": "({0} == {1})", "not_equal": "({0} != {1})",
    "logical_and": "({0} && {1})", "logical_or": "({0} || {1})", "logical_xor": "({0} != {1})",
    "logical_not": "(!{0})", "isnan": "({0} != {0})",
    "isinf": "({0} == ({T})EF_INF || {0} == -({T})EF_INF)",
    "isfinite": "({0} - {0} == 0)", "signbit": "(copysign{f}(({T})1, {0}) < 0)",
    "where": "({0} ? {1} : {2})",
}
FUSION_OPS = frozenset(_EXPR)
_FLOAT_ONLY = frozenset(op for op, e in _EXPR.items() if "{f}" in e or "{T}" in e or "{one}" in e)


def supported(group) -> bool:
    if not group.shape:
        return False
    if any(dt.name not in FUSION_DTYPES for _, dt in group.inputs):
        return False
    for step in group.steps:
        if step.op != "astype" and step.op not in _EXPR:
            return False
        if step.dtype.name not in FUSION_DTYPES or step.result.name not in FUSION_DTYPES:
            return False
        if step.op in _FLOAT_ONLY and step.dtype.name == "bool":
            return False
    return True


# -- the CUDA C source -----------------------------------------------------------------------------

def generate(group) -> tuple[str, str]:
    """``(source, name)``: the group's kernels ``<name>_c`` and ``<name>_s``."""
    nd = len(group.shape)
    params = [f"const {_C[dt.name]}* __restrict__ i{k}" for k, (_, dt) in enumerate(group.inputs)]
    params += [f"{_C[group.steps[j].result.name]}* __restrict__ o{m}"
               for m, j in enumerate(group.outputs)]
    body = _body(group)
    strided = [f"long long d{d}" for d in range(nd)] + [
        f"long long t{k}_{d}" for k in range(len(group.inputs)) for d in range(nd)]
    coords = [f"const long long c{d} = r % d{d}; r /= d{d};" for d in range(nd - 1, 0, -1)]
    coords.append("const long long c0 = r;")
    offsets = [f"const long long k{k} = " + " + ".join(f"c{d} * t{k}_{d}" for d in range(nd)) + ";"
               for k in range(len(group.inputs))]
    digest = hashlib.sha256("\n".join(params + body).encode()).hexdigest()[:16]
    name = f"ef_fused_{digest}"
    loop = ("for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n;\n"
            "         k += (long long)gridDim.x * blockDim.x)")
    contiguous = [f"const long long k{k} = k;" for k in range(len(group.inputs))]
    text = (
        f"// {name}: an elementwise group of ef.function, generated by eagerflow_cuda.fusion.\n"
        f"// The same steps twice: _c for contiguous inputs, _s for strided or broadcast ones.\n"
        "#define EF_INF __int_as_float(0x7f800000)\n"
        "#define EF_NAN __int_as_float(0x7fc00000)\n\n"
        f'extern "C" __global__ void {name}_c({", ".join(params + ["long long n"])}) {{\n'
        f"    {loop} {{\n"
        + "".join(f"        {line}\n" for line in contiguous + body) +
        "    }\n}\n\n"
        f'extern "C" __global__ void {name}_s({", ".join(params + ["long long n"] + strided)}) {{\n'
        f"    {loop} {{\n"
        "        long long r = k;\n"
        + "".join(f"        {line}\n" for line in coords + offsets + body) +
        "    }\n}\n")
    return text, name


def _body(group) -> list[str]:
    lines = [f"const {_C[dt.name]} x{k} = i{k}[k{k}];" for k, (_, dt) in enumerate(group.inputs)]
    for j, step in enumerate(group.steps):
        T = _C[step.result.name]
        args = [_arg(ref, step, i) for i, ref in enumerate(step.args)]
        if step.op == "astype":
            expr = f"({args[0]} != 0)" if step.result.name == "bool" else args[0]
        else:
            ct = _C[step.dtype.name]
            expr = _EXPR[step.op].format(*args, f="f" if ct == "float" else "", T=ct,
                                         one=f"(({ct})1)")
        lines.append(f"const {T} s{j} = ({T})({expr});")
    lines += [f"o{m}[k] = s{j};" for m, j in enumerate(group.outputs)]
    return lines


def _arg(ref, step, position) -> str:
    kind, value = ref
    if kind == "input":
        return f"x{value}"
    if kind == "step":
        return f"s{value}"
    ct = "bool" if step.op == "where" and position == 0 else _C[step.dtype.name]
    return f"(({ct}){_literal(value)})"


def _literal(v) -> str:
    """A Python scalar as C: digits, '.', 'e', signs, or EF_INF / EF_NAN (defined by the
    source from bit patterns: NVRTC has no <math.h> macros)."""
    if type(v) is bool:
        return "true" if v else "false"
    if type(v) is int:
        return f"{v}LL" if abs(v) >= 2 ** 31 else str(v)
    if type(v) is float:
        if math.isnan(v):
            return "EF_NAN"
        if math.isinf(v):
            return "EF_INF" if v > 0 else "(-EF_INF)"
        return repr(v)
    raise TypeError(f"not a scalar: {v!r}")


# -- compiling and launching ------------------------------------------------------------------------

def source_dir() -> Path:
    """Where generated sources are written (beside the cubins ``_compile`` caches)."""
    return _compile.cache_dir() / "fused-src"


def write_source(text: str, name: str) -> Path:
    path = source_dir() / f"{name}.cu"
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return path


class Fuser:
    """Compiles groups on a runtime (``_runtime.CudaRuntime``; in tests the CPU emulator's):
    ``load_module(path)`` gives an object with ``get_function(name)``."""

    def __init__(self, runtime, load_module):
        self.runtime = runtime
        self.load_module = load_module
        self._modules: dict[str, object] = {}
        self._lock = threading.Lock()

    def compile(self, group):
        """The group's callable (raw arrays in, a tuple of new raw arrays out), or None."""
        if not supported(group):
            return None
        text, name = generate(group)
        with self._lock:
            module = self._modules.get(name)
            if module is None:
                module = self._modules[name] = self.load_module(write_source(text, name))
        return _Launch(self.runtime, group, module.get_function(f"{name}_c"),
                       module.get_function(f"{name}_s"))


class _Launch:
    """One group's kernels and the arithmetic of a launch."""

    def __init__(self, runtime, group, contiguous, strided):
        self.rt = runtime
        self.shape = tuple(group.shape)
        self.n = math.prod(self.shape)
        self.outs = [np.dtype(group.steps[j].result.numpy) for j in group.outputs]
        self.kc, self.ks = contiguous, strided
        self.n64 = np.int64(self.n)
        self.grid = (max(1, min(cdiv(self.n, BLOCK), runtime.sm_count() * WAVES)),)

    def __call__(self, *ins):
        xp = self.rt.xp
        outs = tuple(xp.empty(self.shape, dt) for dt in self.outs)
        if self.n == 0:
            return outs
        if all(a.shape == self.shape and a.flags.c_contiguous for a in ins):
            self.kc(self.grid, (BLOCK,), (*ins, *outs, self.n64))
        else:
            dims = [np.int64(d) for d in self.shape]
            strides = [np.int64(t) for a in ins for t in element_strides(a, self.shape)]
            self.ks(self.grid, (BLOCK,), (*ins, *outs, self.n64, *dims, *strides))
        return outs


def element_strides(a, shape) -> list[int]:
    """``a``'s strides in elements along each axis of ``shape`` (right-aligned, as in
    broadcasting): 0 along an axis ``a`` lacks or has size 1 where ``shape`` does not."""
    nd = len(shape)
    out = [0] * nd
    lead = nd - a.ndim
    for axis, (size, stride) in enumerate(zip(a.shape, a.strides)):
        d = lead + axis
        out[d] = 0 if size == 1 and shape[d] != 1 else stride // a.itemsize
    return out


def gpu_loader(runtime):
    """``load_module`` for a GPU: the generated source compiled by NVRTC for the current
    device's architecture (``_compile.compiled``, cached by content) and loaded with
    ``cupy.RawModule``."""
    def load(path: Path):
        xp = runtime.xp
        cc = int(xp.cuda.Device(xp.cuda.runtime.getDevice()).compute_capability)
        arch = _compile.choose_arch(cc, _compile.supported_archs())
        return xp.RawModule(path=str(_compile.compiled(path, arch)))
    return load
