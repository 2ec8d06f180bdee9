"""benchmarks/bench_cuda.py without a GPU: it says so and exits 0; and each fused-kernel case
compares the same work on both sides (the kernels on the CPU emulator, PyTorch's kernels on the
CPU), so that on a GPU its ratios compare like with like."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from eagerflow_cuda import CupyBackend, fused

import cuda_emulator  # tests/cuda_emulator.py

pytestmark = pytest.mark.cpu_only  # make gpu-check leaves it out

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_cuda.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_cuda", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_cuda"] = module  # its dataclass looks its module up while it is built
    spec.loader.exec_module(module)
    yield module
    del sys.modules["bench_cuda"]


def test_without_a_gpu_it_says_so_and_exits_zero():
    if CupyBackend().is_available()[0]:
        pytest.skip("a GPU is here: the benchmark measures instead")
    out = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.startswith("bench_cuda: no usable CUDA device here (")
    assert "nothing measured" in out.stdout


@pytest.mark.skipif(cuda_emulator.find_cxx() is None, reason="no C++ compiler for the emulator")
def test_every_fused_case_does_the_same_work_as_pytorch(bench):
    F = fused.Fused(cuda_emulator.EmuRuntime(sm_count=2))
    cases = bench.fused_cases(np, F, torch, "cpu", scale=0.002)
    names = [c.name for c in cases]
    for want in ("softmax fwd", "softmax bwd", "log_softmax fwd", "log_softmax bwd",
                 "layer_norm fwd", "layer_norm bwd", "gelu(tanh) fwd", "gelu(tanh) bwd",
                 "silu fwd", "silu bwd", "bias+relu fwd", "bias+relu bwd", "sparse CE fwd+bwd",
                 "Adam 1 x", "Adam 100 x"):
        assert any(n.startswith(want) for n in names), want
    for case in cases:
        assert bench.agree(case) is None, f"{case.name}: {bench.agree(case)}"


def test_agree_notices_a_difference(bench):
    same = bench.Case("same", lambda: np.ones(3), lambda: torch.ones(3))
    off = bench.Case("off", lambda: np.ones(3), lambda: torch.ones(3) * 1.1)
    assert bench.agree(same) is None
    assert bench.agree(off).startswith("output 0: max difference")


@pytest.mark.parametrize("name", ["MLP", "CNN"])
def test_the_training_steps_run_the_same_model_on_both_sides(bench, name):
    # The steps of the benchmark (ef.layers + ef.optimizers.Adam, PyTorch eager), run on the
    # CPU: they train, and the two models have the same parameter count.
    import eagerflow_core as ef

    key = next(k for k in bench.TRAINING if k.startswith(name))
    shape, build, build_torch = bench.TRAINING[key]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8,) + shape[1:]).astype(np.float32)
    y = rng.integers(0, 10, 8)
    model, tmodel = build(ef.layers), build_torch(torch.nn)
    ours = bench.ef_step(ef, model, x, y, device="cpu")
    theirs = bench.torch_step(torch, tmodel, x, y, device="cpu")
    losses = [float(ours()) for _ in range(6)]
    tlosses = [float(theirs().detach()) for _ in range(6)]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert tlosses[-1] < tlosses[0]
    assert losses[0] == pytest.approx(np.log(10), rel=0.5)  # both start near chance
    assert tlosses[0] == pytest.approx(np.log(10), rel=0.5)
    assert sum(int(np.prod(v.shape)) for v in model.trainable_variables) == \
        sum(p.numel() for p in tmodel.parameters())
