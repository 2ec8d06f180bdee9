"""ef.function's fused groups on CUDA (eagerflow_cuda/fusion.py): the generated kernels run on
the CPU emulator (tests/cuda_emulator.py) against eager eagerflow on the CPU, for contiguous,
strided and broadcast inputs; they compile with NVRTC and nvcc (no spills) like csrc/*.cu; and
on a GPU, a fused chain runs near the copy bandwidth."""

from __future__ import annotations

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core.function import fusion as core_fusion
from eagerflow_cuda import _compile, build, fusion

import cuda_emulator  # tests/cuda_emulator.py

HAVE_CXX = cuda_emulator.find_cxx() is not None
HAVE_NVRTC, NVRTC_NOTE = build.nvrtc_status()
NVCC = build.find_nvcc()
RNG = np.random.default_rng(11)


@pytest.fixture
def cuda_ops(monkeypatch):
    """The CPU backend forms groups from the CUDA backend's op set (to get real Groups)."""
    backend = ef.device("cpu").backend.backend
    monkeypatch.setattr(backend, "fusion_ops", fusion.FUSION_OPS)
    monkeypatch.setattr(backend, "fusion_dtypes", fusion.FUSION_DTYPES)


def groups_of(fn, *args):
    graph = ef.function(fn).graph(*args).graph
    return graph, core_fusion.plan(graph)


def chain(x, y, b):
    """Forward and backward of a small network's elementwise part."""
    with ef.GradientTape() as tape:
        tape.watch(x)
        h = ef.maximum(x * y + b, 0.0)
        z = ef.where(h > 1.0, ef.tanh(h), ef.sqrt(h + 1e-3)) - ef.exp(-ef.abs(x))
        loss = ef.sum(z * z)
    return loss, tape.gradient(loss, x)


def ops_mix(x, m):
    return (ef.where(m, x, -x) / 3.0, ef.isfinite(x) & (x > 0.5), ef.minimum(x, 2.0) ** 2.0,
            ef.sign(x) * ef.floor(x * 4.0), ef.astype(m, ef.float64) + x)


CASES = {
    "chain f32": (chain, lambda: (RNG.standard_normal((6, 5)).astype(np.float32),
                                  RNG.standard_normal((6, 5)).astype(np.float32),
                                  RNG.standard_normal(5).astype(np.float32))),
    "mix f64": (ops_mix, lambda: (np.append(RNG.standard_normal(11) * 2, [np.nan, np.inf, -0.0,
                                                                            0.75]),
                                  RNG.standard_normal(15) > 0)),
}


def _tensors(host):
    return [ef.asarray(a) for a in host]


def test_generated_source_names_its_kernels_and_depends_on_pattern_not_sizes(cuda_ops):
    _, small = groups_of(chain, *_tensors(CASES["chain f32"][1]()))
    x = np.ones((40, 30), np.float32)
    _, big = groups_of(chain, *_tensors((x, x, x[0])))
    assert [fusion.generate(g)[1] for _, g, _, _ in small] == \
        [fusion.generate(g)[1] for _, g, _, _ in big]
    text, name = fusion.generate(small[0][1])
    assert f'void {name}_c(' in text and f'void {name}_s(' in text
    assert "expf(" in text and "exp(" not in text.replace("expf(", "")


def test_element_strides_of_views_and_broadcasts():
    a = np.zeros((4, 6), np.float32)
    assert fusion.element_strides(a, (4, 6)) == [6, 1]
    assert fusion.element_strides(a.T, (6, 4)) == [1, 6]
    assert fusion.element_strides(a[:, ::2], (4, 3)) == [6, 2]
    assert fusion.element_strides(np.zeros(6, np.float32), (4, 6)) == [0, 1]
    assert fusion.element_strides(np.zeros((4, 1)), (4, 6)) == [1, 0]


# -- on the CPU emulator ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fuser():
    if not HAVE_CXX:
        pytest.skip("no C++ compiler (g++ or clang++) to build the emulator")
    return fusion.Fuser(cuda_emulator.EmuRuntime(sm_count=2), cuda_emulator.EmuModule)


def _reference(graph, members, nodes, ins, outs, host_ins):
    """The group's outputs computed by the unfused nodes, eagerly on the CPU."""
    from eagerflow_core._dispatch import eager
    from eagerflow_core.function.graph import Const
    values = {s: ef.asarray(a) for s, a in zip(ins, host_ins)}
    for i in members:
        node = nodes[i]
        args = [s.value if isinstance(s, Const) else values[s] for s in node.ins]
        values[node.outs[0]] = eager(node.op, args, node.params, None)
    return [values[s].numpy() for s in outs]


@pytest.mark.parametrize("layout", ["contiguous", "strided"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_fused_kernels_compute_what_the_ops_compute(case, layout, cuda_ops, fuser):
    fn, make = CASES[case]
    host = make()
    graph, planned = groups_of(fn, *_tensors(host))
    assert planned
    for members, group, ins, outs in planned:
        launch = fuser.compile(group)
        assert launch is not None, group.describe()
        host_ins = []
        for shape, dt in group.inputs:
            a = RNG.standard_normal(shape) * 2
            a = a > 0 if dt.name == "bool" else a.astype(dt.numpy)
            if dt.name == "float64":  # IEEE specials, where exact ops must match bit for bit
                a.flat[:4] = [np.nan, np.inf, -np.inf, -0.0]
            if layout == "strided" and a.ndim == 2:  # a transposed copy's transpose: a view
                a = np.ascontiguousarray(a.T).T
            elif layout == "strided" and a.ndim == 1:
                a = np.repeat(a, 2)[::2]
            host_ins.append(a)
        got = launch(*host_ins)
        plain = all(a.flags.c_contiguous and a.shape == group.shape for a in host_ins)
        kernel = launch.kc if plain else launch.ks
        assert kernel.calls, f"{kernel.name} did not run"
        assert layout == "contiguous" or not plain
        want = _reference(graph, members, graph.nodes, ins, outs, host_ins)
        exact = not any(s.op in ("exp", "tanh", "pow") for s in group.steps)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape
            if exact:
                np.testing.assert_array_equal(g, w)
            else:  # glibc's expf/tanhf in the emulator against NumPy's SIMD ones differ by an
                # ulp or so, which 1 - tanh(h)**2 near 1 amplifies (relative, not absolute)
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=4e-6)  # inputs ~ 2


def test_broadcast_inputs_read_one_element_per_broadcast_axis(cuda_ops, fuser):
    def f(h, b, c):
        return ef.maximum(h + b, c)
    h = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    b = np.array([0.5, -20.0, 1.0, 2.0], np.float32)
    c = np.array([[3.0], [0.0], [100.0]], np.float32)
    _, [(members, group, ins, outs)] = groups_of(f, *_tensors((h, b, c)))
    (got,) = fuser.compile(group)(h, b, c)
    np.testing.assert_array_equal(got, np.maximum(h + b, c))


# -- compiled like csrc/*.cu -----------------------------------------------------------------------

def _sources(cuda_ops_fixture=None):
    out = []
    for fn, make in CASES.values():
        graph, planned = groups_of(fn, *_tensors(make()))
        out += [fusion.write_source(*fusion.generate(g)) for _, g, _, _ in planned]
    return out


@pytest.mark.skipif(not HAVE_NVRTC, reason=f"NVRTC not available: {NVRTC_NOTE}")
@pytest.mark.parametrize("arch", _compile.ARCHS)
def test_generated_kernels_compile_with_nvrtc(arch, cuda_ops, tmp_path, monkeypatch):
    monkeypatch.setenv("EAGERFLOW_CUDA_CACHE", str(tmp_path))
    for path in _sources():
        binary = _compile.nvrtc_compile(path, arch)
        assert len(binary) > 1000


@pytest.mark.skipif(NVCC is None, reason="nvcc not found")
def test_generated_kernels_compile_with_nvcc_without_spills(cuda_ops, tmp_path, monkeypatch):
    monkeypatch.setenv("EAGERFLOW_CUDA_CACHE", str(tmp_path))
    for path in _sources():
        result = build.compile_nvcc(NVCC, path, "sm_90")
        assert result.ok, result.log
        assert len(result.kernels) == 2 and not any(result.spills.values())


# -- on a GPU ---------------------------------------------------------------------------------------

def _gpu():
    from eagerflow_cuda import CupyBackend
    return CupyBackend().is_available()


@pytest.mark.skipif(not _gpu()[0], reason=f"no CUDA device: {_gpu()[1]}")
def test_on_a_gpu_a_fused_chain_runs_near_copy_bandwidth():
    import time

    import cupy as cp
    from eagerflow_core.function import compile as fcompile

    def chain5(x):
        return ef.maximum(ef.abs(x * 2.0 + 1.0) - 0.5, 0.0)
    n = 1 << 24
    x = ef.asarray(np.linspace(-2, 2, n, dtype=np.float32), device="cuda")
    old, fcompile.FUSE_AFTER = fcompile.FUSE_AFTER, 0
    try:
        fused = ef.function(chain5)
        got = fused(x)
    finally:
        fcompile.FUSE_AFTER = old
    np.testing.assert_array_equal(got.numpy(), chain5(x).numpy())
    assert any(nd.kind == "fused" for nd in fused.graph(x).replay.program.nodes)

    def timed(fn, reps=20):
        fn()
        cp.cuda.runtime.deviceSynchronize()
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        cp.cuda.runtime.deviceSynchronize()
        return (time.perf_counter() - start) / reps
    raw = x._data
    copy = timed(lambda: raw.copy())
    chain = timed(lambda: fused(x))
    print(f"copy {copy * 1e6:.0f} us, fused chain of 5 {chain * 1e6:.0f} us "
          f"({copy / chain:.0%} of copy bandwidth); unfused "
          f"{timed(lambda: chain5(x)) * 1e6:.0f} us")
    assert copy / chain >= 0.8  # both read n floats and write n floats
