"""The fused training kernels as the core calls them: the nn composites with declared rules
(softmax, log_softmax, the sparse cross-entropy, layer norm, GELU, SiLU) and ``optim.adam``.

The CPU device's kernel table gets the CUDA backend's ``Fused.core_table()``, its launchers on
the CPU emulator of ``csrc/*.cu`` with NumPy standing in for CuPy; then the public ``ef.nn``
functions and ``ef.optimizers.Adam`` run through the core (with a gradient tape and without)
and must launch the fused kernels and give what the NumPy backend's composite path gives.
A kernel wired under another name than the composite's, or one taking the core's arguments in
another order, fails here.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core._registry import OPS

from eagerflow_cuda import fused

import cuda_emulator  # tests/cuda_emulator.py

pytestmark = [pytest.mark.cpu_only,
              pytest.mark.skipif(cuda_emulator.find_cxx() is None,
                                 reason="no C++ compiler (g++ or clang++) to build the emulator")]

RNG = np.random.default_rng(11)


@pytest.fixture(scope="module")
def emu():
    return cuda_emulator.EmuRuntime(sm_count=2)


def _nn_modules():
    # The modules, not the functions of the same names that ef.nn re-exports.
    return (importlib.import_module("eagerflow_core.nn.softmax"),
            importlib.import_module("eagerflow_core.nn.losses"))


def _forget_plans():
    # Kernel plans are kept per (device, dtype, params), the composites' too (which are not in
    # OPS): a swapped table must not find the other table's kernels there.
    softmax, losses = _nn_modules()
    composites = [f.op for f in (ef.nn.softmax, ef.nn.log_softmax, ef.nn.layer_norm, ef.nn.gelu,
                                 ef.nn.silu, ef.nn.sparse_softmax_cross_entropy_with_logits,
                                 softmax._softmax_grad, softmax._log_softmax_grad,
                                 losses._sparse_grad)]
    for op in [*OPS.values(), *composites]:
        if op.plans is not None:
            op.plans.clear()


class _Fused:
    """Swaps the CPU device's kernel table for one with the fused kernels, inside ``with``."""

    def __init__(self, emu):
        self.table = fused.Fused(emu).core_table()

    def __enter__(self):
        self.dev = ef.device("cpu")
        self.original = self.dev.kernels
        self.dev.kernels = {**self.original, **self.table}
        _forget_plans()

    def __exit__(self, *exc):
        self.dev.kernels = self.original
        _forget_plans()


def _launches(rt) -> dict[str, int]:
    return {name: len(fn.calls) for mod in rt.modules.values()
            for name, fn in mod._functions.items()}


def _ran(rt, before):
    return sorted(n for n, c in _launches(rt).items() if c > before.get(n, 0))


def _x(*shape, dtype=np.float32, scale=2.0):
    return ef.constant((RNG.standard_normal(shape) * scale).astype(dtype))


LABELS = ef.constant(np.array([[0, 4, 2], [1, 3, 4]], np.int32))

# (name, function of x, the forward kernel it must launch and the backward one under a tape,
# prefixes of their names; None: the rule is eagerflow ops)
CASES = [
    ("softmax", lambda x: ef.nn.softmax(x), "ef_softmax_fwd", "ef_softmax_bwd"),
    ("softmax_axis0", lambda x: ef.nn.softmax(x, axis=0), "ef_softmax_fwd", "ef_softmax_bwd"),
    ("log_softmax", lambda x: ef.nn.log_softmax(x, axis=-1), "ef_softmax_fwd",
     "ef_softmax_bwd"),
    ("sparse_xent", lambda x: ef.nn.sparse_softmax_cross_entropy_with_logits(LABELS, x),
     "ef_sparse_ce_fwd", "ef_sparse_ce_bwd"),
    ("layer_norm", lambda x: ef.nn.layer_norm(x, epsilon=1e-3), "ef_ln_fwd", None),
    ("layer_norm_2axes", lambda x: ef.nn.layer_norm(x, axis=(1, 2), epsilon=1e-5), "ef_ln_fwd",
     None),
    ("gelu", lambda x: ef.nn.gelu(x), "ef_bias_act_fwd", None),
    ("silu", lambda x: ef.nn.silu(x), "ef_bias_act_fwd", None),
]


@pytest.mark.parametrize("name, fn, kernel, backward", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("taped", [False, True], ids=["eager", "taped"])
def test_the_core_runs_the_fused_kernel_and_matches_the_composite(emu, name, fn, kernel,
                                                                  backward, taped):
    x = _x(2, 3, 5)

    def run():
        if not taped:
            return fn(x).numpy(), None
        with ef.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
            loss = ef.sum(y * ef.cos(y))
        return y.numpy(), tape.gradient(loss, x).numpy()

    want, want_g = run()
    before = _launches(emu)
    with _Fused(emu):
        got, got_g = run()
    launched = _ran(emu, before)
    assert any(k.startswith(kernel) for k in launched), (name, launched)
    if taped and backward:
        assert any(k.startswith(backward) for k in launched), (name, launched)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)
    if taped:  # the gradient rule (eagerflow ops) reads the fused forward's result
        np.testing.assert_allclose(got_g, want_g, rtol=2e-4, atol=2e-5)


def test_silu_with_another_beta_and_float16_inputs(emu):
    x = _x(4, 6)
    want = ef.nn.silu(x, beta=0.5).numpy()
    h = _x(3, 8, dtype=np.float16)
    want_h = ef.nn.softmax(h).numpy()
    with _Fused(emu):
        got = ef.nn.silu(x, beta=0.5).numpy()
        got_h = ef.nn.softmax(h)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert got_h.dtype == ef.float16
    np.testing.assert_allclose(got_h.numpy().astype(np.float32), want_h.astype(np.float32),
                               rtol=2e-3, atol=1e-3)


def test_argument_errors_are_raised_before_any_kernel(emu):
    before = _launches(emu)
    with _Fused(emu):
        with pytest.raises(ef.OutOfRangeError, match="label 5 is out of range"):
            ef.nn.sparse_softmax_cross_entropy_with_logits(ef.constant([0, 5]), _x(2, 5))
        with pytest.raises(ef.AxisError):
            ef.nn.softmax(_x(2, 3), axis=2)
    assert _ran(emu, before) == []


def test_adam_through_the_optimizer_uses_the_fused_update(emu):
    def train(opt):
        w = ef.Variable(np.linspace(-1, 1, 24, dtype=np.float32).reshape(4, 6))
        rng = np.random.default_rng(3)
        for _ in range(3):
            opt.apply_gradients([(ef.constant(rng.standard_normal((4, 6)).astype(np.float32)),
                                  w)])
        return w.numpy()

    for make in (lambda: ef.optimizers.Adam(0.01), lambda: ef.optimizers.AdamW(0.01, 0.05)):
        want = train(make())
        before = _launches(emu)
        with _Fused(emu):
            got = train(make())
        assert _ran(emu, before) == ["ef_adam_f32_f32"]
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_a_traced_function_runs_the_fused_kernel_as_a_node(emu):
    x = _x(3, 7)
    want = ef.nn.softmax(x).numpy()
    with _Fused(emu):
        f = ef.function(lambda x: ef.nn.softmax(x) * 2.0)
        before = _launches(emu)
        got = f(x).numpy()
        assert any(k.startswith("ef_softmax_fwd") for k in _ran(emu, before))
    np.testing.assert_allclose(got, 2.0 * want, rtol=2e-5, atol=2e-6)


def test_every_fused_name_is_one_the_core_dispatches():
    # A composite is dispatched to a kernel only if it declares a dtype rule; optim.* names are
    # looked up by ef.optimizers (the NumPy backend has the same ones).
    modules = [vars(ef.nn), *(vars(m) for m in _nn_modules())]
    composites = {f.op.name: f.op for m in modules for f in m.values()
                  if callable(f) and getattr(f, "op", None) is not None}
    for name in fused.CORE_NAMES:
        if name.startswith("optim."):
            assert name in ef.device("cpu").kernels, name
        else:
            assert name in composites and composites[name].dtype_rule is not None, name
