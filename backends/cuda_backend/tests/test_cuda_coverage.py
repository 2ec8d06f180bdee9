"""The CUDA backend's kernel table against the core, on a machine without a GPU.

1. Coverage: the table ``CupyBackend`` builds over the real ``cupy`` namespace (CuPy imports
   without a GPU; only calling its functions needs one) has a kernel for every op the core
   registers that needs one - computed from ``OPS`` at test time, so an op added to the core
   later shows up here as a gap unless CuPy's namespace or ``_generic.py`` covers it - and for
   every kernel name the core calls outside ``OPS`` that the NumPy backend provides
   (``optim.*``, ``inplace_*``...). The same holds with NumPy standing in for CuPy.
2. Wiring: the core runs a workload on the CPU (convolutions, pooling and their first and
   second-order gradients, the linalg extras, special functions, every optimizer) while each
   call of a kernel this backend supplies itself is recorded with its exact arguments; the CUDA
   table's kernel for the same name (built over NumPy, the fused Adam on the CPU emulator of
   ``csrc/adam.cu``) is then called with those arguments and must give the NumPy backend's
   result. A kernel wired under the wrong name, or taking its arguments in another order,
   fails here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special

import eagerflow_core as ef
from eagerflow_core._registry import OPS
from eagerflow_core.plugins import kernels_from_namespace

import eagerflow_cuda
from eagerflow_cuda import _random, conv, fused, kernels
from eagerflow_cuda._generic import HALF_LIFTED, compat_kernels, generic_kernels, tf_kernels

import cuda_emulator  # tests/cuda_emulator.py

pytestmark = pytest.mark.cpu_only


class _NoSums:
    def ready(self):
        return False


class _Runtime:
    """Enough of a runtime to build the table (nothing is launched)."""

    def __init__(self, xp):
        self.xp = xp


def _needed() -> list[str]:
    # What ``eagerflow info`` counts: ops the core runs itself (needs_kernel False) are no
    # backend's business.
    return sorted(name for name, op in OPS.items() if op.needs_kernel)


def _numpy_table() -> dict:
    return ef.device("cpu").kernels


def _extra_names() -> list[str]:
    """Kernels the core calls by name that are no op of ``OPS`` (optimizer updates, in-place
    adds...): whatever the NumPy backend provides beyond the ops."""
    return sorted(set(_numpy_table()) - set(OPS))


def _cuda_table_over(xp) -> dict:
    b = eagerflow_cuda.CupyBackend()
    b.namespace, b.sums = xp, _NoSums()
    b.fused, b.random = fused.Fused(_Runtime(xp)), _random.Random(_Runtime(xp))
    return b._table()


# -- 1. coverage ------------------------------------------------------------------------------

def test_every_core_op_has_a_cuda_kernel_over_the_real_cupy_namespace():
    cupy = pytest.importorskip("cupy")  # a declared dependency: installed wherever this runs
    table = _cuda_table_over(cupy)
    missing = [name for name in _needed() if name not in table]
    assert not missing, f"core ops without a CUDA kernel: {missing}"
    missing = [name for name in _extra_names() if name not in table]
    assert not missing, f"kernels the core calls that the CUDA table lacks: {missing}"
    assert all(callable(table[name]) for name in _needed())


def test_coverage_is_the_same_with_numpy_standing_in_for_cupy():
    table = _cuda_table_over(np)
    assert [n for n in _needed() + _extra_names() if n not in table] == []


def test_coverage_matches_how_eagerflow_info_counts():
    # ``eagerflow info`` counts the ops with needs_kernel; the CUDA table, built over cupy,
    # would report 100% by that count.
    cupy = pytest.importorskip("cupy")
    from eagerflow_core.cli import coverage

    class Rec:
        kernels = _cuda_table_over(cupy)

        def ensure_ready(self):
            pass

    got = coverage(Rec(), OPS)
    assert got["missing"] == [] and got["kernels"] == got["ops"] == len(_needed())


def test_cupys_own_namespace_leaves_exactly_the_gaps_the_backend_fills():
    # What the kit takes from cupy by name, and what the backend adds: if CuPy gains one of
    # these functions, the kit's version is used (the generic kernels only fill gaps).
    cupy = pytest.importorskip("cupy")
    kit = kernels_from_namespace(cupy)
    gaps = {n for n in _needed() if n not in kit}
    filled = set(generic_kernels(cupy, scipy.special)) | set(conv.KERNELS) | \
        set(tf_kernels(cupy)) | {"random.uniform", "random.normal", "random.permutation"}
    assert gaps <= filled, sorted(gaps - filled)


# -- 2. wiring: the core's own calls, replayed on the CUDA table ---------------------------------

# Names of the NumPy backend's table whose CUDA kernel is this backend's own code (not a
# namespace function): each must be exercised by the workload below. (The fused kernels of the
# nn composites have no NumPy counterpart: test_cuda_core_fused.py runs them through the core.)
WIRED = sorted({*conv.KERNELS, *generic_kernels(np, scipy.special), *compat_kernels(np),
                *tf_kernels(np),
                "optim.adam", "random.permutation", *(f"linalg.{n}" for n in HALF_LIFTED)})


class _Recorder(dict):
    """The CPU device's kernel table, recording (name, args, kwargs, result) of WIRED calls
    with copies of the arrays as they were before the call (the optimizer kernels write in
    place)."""

    def __init__(self, table):
        super().__init__(table)
        self.calls = []
        for name in WIRED:
            if name in table:
                self[name] = self._wrap(name, table[name])

    def _wrap(self, name, fn):
        def kernel(*args, **kwargs):
            before = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
            out = fn(*args, **kwargs)
            copied = tuple(np.array(o, copy=True) for o in out) if isinstance(out, tuple) \
                else np.array(out, copy=True)
            self.calls.append((name, before, dict(kwargs), copied))
            return out
        return kernel


def _forget_plans():
    for op in OPS.values():
        if op.plans is not None:
            op.plans.clear()


def _workload():
    rng = np.random.default_rng(5)
    c = lambda *s: ef.constant(rng.standard_normal(s).astype(np.float32))  # noqa: E731

    # convolution, both gradients, and second order (conv2d of h, both backprops again)
    for fmt, xs in (("NHWC", (2, 7, 6, 4)), ("NCHW", (2, 4, 7, 6))):
        x, w = c(*xs), c(3, 3, 2, 6)
        for kw in ({"strides": 2, "padding": "SAME"},
                   {"strides": 1, "padding": [[1, 0], [0, 2]], "dilations": 2}):
            f = lambda x, w: ef.sum(ef.nn.conv2d(x, w, data_format=fmt, **kw) ** 2)  # noqa: E731, B023
            gx, gw = ef.grad(f, argnums=(0, 1))(x, w)
            ef.grad(lambda x, w: ef.sum(ef.grad(f, argnums=0)(x, w) ** 2), argnums=(0, 1))(x, w)
    # pooling, gradients, max pooling's second order
    for fmt, xs in (("NHWC", (2, 7, 6, 3)), ("NCHW", (2, 3, 7, 6))):
        x = c(*xs)
        for pool in (ef.nn.max_pool2d, ef.nn.avg_pool2d):
            for kw in ({"ksize": 2}, {"ksize": 3, "strides": 2, "padding": "SAME"}):
                f = lambda x: ef.sum(pool(x, data_format=fmt, **kw) ** 2)  # noqa: E731, B023
                ef.grad(f)(x)
                ef.grad(lambda x: ef.sum(ef.grad(f)(x) ** 2))(x)  # noqa: B023
    # the linalg extras, unstack, vecdot
    m, v = c(3, 4, 5), c(3, 5)
    for ord in (2, 1, 0, math.inf, -math.inf, 3.0, 0.5):
        ef.linalg.vector_norm(m, ord=ord)
        ef.linalg.vector_norm(m, axis=(0, 2), keepdims=True, ord=ord)
    for ord in ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf):
        ef.linalg.matrix_norm(m, ord=ord)
        ef.linalg.matrix_norm(m, ord=ord, keepdims=True)
    ef.linalg.diagonal(m, offset=1), ef.linalg.trace(m, offset=-1)
    ef.linalg.trace(ef.constant(rng.integers(-9, 9, (4, 4)).astype(np.int8)))
    ef.linalg.outer(v[0], m[0, 0]), ef.linalg.svdvals(m)
    ef.unstack(m, axis=1), ef.vecdot(m, v[:, None, :])
    ef.vecdot(ef.constant([1 + 2j, 3 - 1j]), ef.constant([2 - 1j, 1j]))
    # the decompositions on float16 (computed in float32: cuSOLVER has no float16) and float32
    a = rng.standard_normal((3, 4, 4))
    spd = a @ np.swapaxes(a, -1, -2) + 4 * np.eye(4)
    for dt in (np.float16, np.float32):
        s, b = ef.constant(spd.astype(dt)), ef.constant(rng.standard_normal((3, 4, 2)).astype(dt))
        ef.linalg.inv(s), ef.linalg.det(s), ef.linalg.slogdet(s), ef.linalg.solve(s, b)
        ef.linalg.cholesky(s), ef.linalg.eigh(s), ef.linalg.eigvalsh(s), ef.linalg.qr(b)
        ef.linalg.svd(b), ef.linalg.svdvals(b), ef.linalg.pinv(b), ef.linalg.matrix_rank(b)
        ef.linalg.matrix_power(s, 3), ef.linalg.matrix_norm(b, ord="nuc")
    # the standard's signatures over CuPy's NumPy-1 ones
    t = ef.constant(rng.integers(0, 4, (3, 6)).astype(np.float32))
    for desc in (False, True):
        ef.sort(t, axis=1, descending=desc), ef.argsort(t, axis=0, descending=desc)
    ef.sort(ef.constant(2.0)), ef.argsort(ef.constant(2.0))
    ef.count_nonzero(t, axis=1, keepdims=True), ef.count_nonzero(t)
    ef.var(m, axis=(0, 2), correction=1, keepdims=True), ef.std(m, correction=0.5)
    ef.reshape(m, (12, 5)), ef.reshape(m, (-1,), copy=True)
    ef.fft.fftfreq(7, d=0.5), ef.fft.rfftfreq(8, dtype=ef.float64)
    ef.linalg.cholesky(ef.constant(spd.astype(np.float32)), upper=True)
    ef.linalg.matrix_rank(b, rtol=0.3), ef.linalg.pinv(b, rtol=0.2)
    ef.linalg.matrix_rank(ef.zeros((2, 3))), ef.linalg.pinv(ef.zeros((2, 3, 0)))
    # TensorFlow's pad, einsum and top_k (ties: the lower index first)
    for mode in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        ef.pad(m, [[1, 0], [0, 2], [1, 1]], mode=mode)
    ef.pad(t, [[0, 1], [2, 0]], constant_values=-1.0)
    ef.einsum("bij,bjk->bik", m, ef.reshape(m, (3, 5, 4))), ef.einsum("bii->bi", ef.ones((2, 3, 3)))
    ef.math.top_k(t, k=3), ef.math.top_k(m, k=1), ef.math.top_k(t, k=0)
    # special functions (the core computes float16 in float32)
    p = ef.constant(rng.uniform(0.1, 4.0, 6).astype(np.float32))
    for fn in (ef.erf, ef.erfc, ef.lgamma, ef.digamma):
        fn(p)
    ef.erfinv(p / 5.0), ef.igamma(p, p[::-1]), ef.igammac(p, p[::-1])
    ef.polygamma(ef.constant([0.0, 1.0, 2.0, 1.5, -1.0, 3.0]), p)
    # every optimizer, with its options
    for opt in (ef.optimizers.Adam(0.01), ef.optimizers.Adam(0.01, amsgrad=True),
                ef.optimizers.AdamW(0.01, weight_decay=0.1), ef.optimizers.SGD(0.1),
                ef.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
                ef.optimizers.SGD(0.1, momentum=0.9), ef.optimizers.RMSprop(0.01),
                ef.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
                ef.optimizers.Adagrad(0.1)):
        w = ef.Variable(rng.standard_normal((4, 3)).astype(np.float32))
        for _ in range(2):
            opt.apply_gradients([(c(4, 3), w)])
    ef.random.shuffle(ef.arange(10))


@pytest.fixture(scope="module")
def recorded():
    dev = ef.device("cpu")
    original = dev.kernels
    dev.kernels = rec = _Recorder(original)
    _forget_plans()
    try:
        _workload()
    finally:
        dev.kernels = original
        _forget_plans()
    return rec.calls


@pytest.fixture(scope="module")
def emu():
    if cuda_emulator.find_cxx() is None:
        pytest.skip("no C++ compiler (g++ or clang++) to build the emulator")
    return cuda_emulator.EmuRuntime(sm_count=2)


@pytest.fixture(scope="module")
def cuda_table(emu):
    """The CUDA table with NumPy standing in for CuPy and the CPU emulator running the CUDA C
    kernels (the fused Adam, the Philox draws)."""
    return kernels.build_table(np, _NoSums(), special=scipy.special,
                               training=fused.Fused(emu),
                               extras=_random.Random(emu).table())


def test_the_workload_reaches_every_wired_kernel(recorded):
    assert sorted({name for name, *_ in recorded}) == WIRED


def _close(got, want, name):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want), name
    for g, w in zip(got, want):
        g = np.asarray(g)
        assert g.shape == w.shape, (name, g.shape, w.shape)
        tol = 1e-6 if w.dtype == np.float64 else 2e-5
        np.testing.assert_allclose(g.astype(w.dtype), w, rtol=tol, atol=tol, err_msg=name)


def test_each_wired_kernel_gives_the_numpy_backends_result_for_the_cores_call(recorded,
                                                                           cuda_table):
    for name, args, kwargs, want in recorded:
        if name == "random.permutation":
            continue  # another generator: checked below
        args = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
        _close(cuda_table[name](*args, **kwargs), want, f"{name}{kwargs}")


def test_the_fused_adam_runs_for_float32_parameters(recorded, cuda_table, emu):
    before = _launches(emu)
    name, args, kwargs, want = next(c for c in recorded
                                    if c[0] == "optim.adam" and not c[2]["amsgrad"])
    assert args[0].dtype == np.float32
    _close(cuda_table[name](*[a.copy() for a in args], **kwargs), want, name)
    after = _launches(emu)
    assert [k for k in after if after[k] > before.get(k, 0)] == ["ef_adam_f32_f32"]


def _launches(rt) -> dict[str, int]:
    return {name: len(fn.calls) for mod in rt.modules.values()
            for name, fn in mod._functions.items()}


def test_the_permutation_kernel_takes_the_cores_arguments(recorded, cuda_table):
    calls = [c for c in recorded if c[0] == "random.permutation"]
    assert calls
    for _, args, kwargs, want in calls:
        got = cuda_table["random.permutation"](*args, **kwargs)
        assert got.dtype == np.int64 and sorted(got.tolist()) == sorted(want.tolist())
        np.testing.assert_array_equal(got, cuda_table["random.permutation"](*args, **kwargs))


def test_the_cores_calls_bind_to_the_kernels_over_the_real_cupy_namespace():
    # The conformance kit's calls of every op on the CPU (one sample each), recorded with their
    # exact arguments, must bind to the signature of the CUDA kernel of the same name over the
    # real cupy namespace (functions are inspected, nothing runs on a GPU): a CuPy function that
    # keeps NumPy 1's signature (cupy.sort without descending, cupy.var with ddof) fails here.
    import collections
    import inspect

    cupy = pytest.importorskip("cupy")
    from eagerflow_core.testing import conformance

    table = _cuda_table_over(cupy)
    calls = collections.defaultdict(list)

    def record(name, fn):
        def kernel(*args, **kwargs):
            if len(calls[name]) < 20:
                calls[name].append((args, kwargs))
            return fn(*args, **kwargs)
        return kernel

    dev = ef.device("cpu")
    original = dev.kernels
    dev.kernels = {n: record(n, f) for n, f in original.items()}
    _forget_plans()
    try:
        conformance.run("numpy", max_examples=1, checks=("values",))
    finally:
        dev.kernels = original
        _forget_plans()
    assert len(set(calls) & set(_needed())) >= 0.9 * len(_needed())
    unbound = []
    for name, seen in calls.items():
        fn = table.get(name)
        if fn is None:
            continue
        fn = getattr(fn, "__wrapped__", fn)
        if isinstance(fn, cupy.ufunc):
            unbound += [(name, len(a), sorted(kw)) for a, kw in seen
                        if len(a) != fn.nin or set(kw) - {"dtype", "out", "casting"}]
            continue
        sig = inspect.signature(fn)
        for args, kwargs in seen:
            try:
                sig.bind(*args, **kwargs)
            except TypeError as exc:
                unbound.append((name, str(sig), str(exc)))
    assert not unbound, unbound
