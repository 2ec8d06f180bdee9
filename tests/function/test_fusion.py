"""ef.function's fusion pass and replay tiers (issue #11, items 4 and 5): groups are valid
(runnable as one step, effects in order), a group's description computes what the unfused
nodes compute, the NumPy backend's numba groups give NumPy's bits, and the lean tiers drop
only what the first call showed unneeded and reuse only buffers nobody else can see."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core.function import compile as fcompile
from eagerflow_core.function.fusion import find_groups, fuse


def _graph(fn, *args):
    return ef.function(fn).graph(*args).graph


def _names(graph, members):
    return [graph.nodes[i].op.name for i in members]


@pytest.fixture
def fuse_at_once(monkeypatch):
    """Fusion when a graph is lowered (not after a few calls)."""
    monkeypatch.setattr(fcompile, "FUSE_AFTER", 0)


# -- a reference backend: the group's description interpreted with NumPy ---------------------------

_NP = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
       "negative": np.negative, "abs": np.abs, "sqrt": np.sqrt, "maximum": np.maximum,
       "minimum": np.minimum, "greater": np.greater, "less": np.less, "equal": np.equal,
       "sign": np.sign, "square": np.square, "exp": np.exp, "tanh": np.tanh,
       "where": np.where, "isfinite": np.isfinite, "greater_equal": np.greater_equal}


def interpret(group):
    """A callable that runs ``group`` step by step with NumPy: what a backend must compute."""
    def run(*inputs):
        values = []
        for step in group.steps:
            args = []
            for kind, v in step.args:
                if kind == "input":
                    args.append(inputs[v])
                elif kind == "step":
                    args.append(values[v])
                else:
                    args.append(np.asarray(v, dtype=step.dtype.numpy))
            if step.op == "astype":
                out = args[0].astype(step.result.numpy)
            else:
                out = np.asarray(_NP[step.op](*args)).astype(step.result.numpy, copy=False)
            values.append(np.broadcast_to(out, group.shape) if out.shape != group.shape
                          else out)
        return tuple(np.array(values[j]) for j in group.outputs)
    return run


@pytest.fixture
def reference_backend(monkeypatch, fuse_at_once):
    """The CPU backend fusing through ``interpret`` (every op above): tests the core pass
    without numba. Records the groups it was given."""
    backend = ef.device("cpu").backend.backend
    seen = []

    def compile_elementwise(group):
        seen.append(group)
        return interpret(group)
    monkeypatch.setattr(backend, "fusion_ops", frozenset(_NP) - {"where"} | {"where"})
    monkeypatch.setattr(backend, "fusion_dtypes", frozenset({"float32", "float64", "bool"}))
    monkeypatch.setattr(backend, "compile_elementwise", compile_elementwise)
    return seen


# -- finding groups ----------------------------------------------------------------------------------

def test_a_chain_forward_and_backward_is_one_group(reference_backend):
    def f(x, y):
        with ef.GradientTape() as tape:
            tape.watch(x)
            loss = ef.sum(ef.maximum(ef.sqrt(ef.abs((x + y) * y - x)), x))
        return loss, tape.gradient(loss, x)
    x, y = ef.constant([0.5, -1.0, 2.0]), ef.constant([1.0, 2.0, -3.0])
    graph = _graph(f, x, y)
    groups = find_groups(graph, graph.nodes)
    assert len(groups) == 1
    assert {"add", "multiply", "subtract", "abs", "sqrt", "maximum", "sign", "divide"} <= \
        set(_names(graph, groups[0]))


def test_a_group_never_needs_its_own_result_through_another_node(reference_backend):
    def f(x):
        y = x * 2.0
        s = ef.sum(y, axis=0, keepdims=True)  # not fusible, and it needs y
        return y + s                           # so this add cannot be in y's group
    graph = _graph(f, ef.ones((3, 2)))
    for members in find_groups(graph, graph.nodes):
        names = _names(graph, members)
        assert not ({"multiply", "add"} <= set(names)), names
    traced = ef.function(f)
    x = ef.constant(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(traced(x).numpy(), f(x).numpy())


def test_effects_keep_their_order_around_groups(reference_backend):
    v = ef.Variable([1.0, 2.0])

    def f(x):
        a = v * 2.0 + x          # a read of v, then a group
        v.assign(a)
        b = v * 3.0 + x          # a read after the assign: must not join a's group
        return a, b
    x = ef.constant([1.0, 1.0])
    traced = ef.function(f)
    a, b = traced(x)
    np.testing.assert_array_equal(a.numpy(), [3.0, 5.0])
    np.testing.assert_array_equal(b.numpy(), [10.0, 16.0])
    a, b = traced(x)
    np.testing.assert_array_equal(b.numpy(), [22.0, 34.0])


def test_groups_describe_casts_scalars_and_outputs(reference_backend):
    def f(x, m, z):
        y = ef.where(m, x * 2, -1.0)           # a Python int and float: weak scalars
        return y + z, ef.abs(y)                # float32 + float64: a cast in the group
    x, m = ef.constant([1.0, -2.0, 3.0]), ef.constant([True, False, True])
    z = ef.constant([0.5, 0.25, 0.125], ef.float64)
    traced = ef.function(f)
    got = traced(x, m, z)
    want = f(x, m, z)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    group = reference_backend[-1]
    ops = [s.op for s in group.steps]
    assert ops.count("where") == 1 and "astype" in ops
    assert [s.result.name for s in group.steps if s.op == "astype"] == ["float64"]
    assert len(group.outputs) == 2 and "group(" in group.describe()


def test_broadcasting_inputs_in_a_group(reference_backend):
    def f(h, b):
        z = h + b
        return ef.maximum(z, 0.0), z > 0
    h = ef.constant(np.random.default_rng(0).standard_normal((4, 3)), ef.float32)
    b = ef.constant([0.5, -0.5, 0.0])
    got = ef.function(f)(h, b)
    for a, w in zip(got, f(h, b)):
        np.testing.assert_array_equal(a.numpy(), w.numpy())
    group = reference_backend[-1]
    assert group.shape == (4, 3) and [s for s, _ in group.inputs] == [(4, 3), (3,)]


def test_a_backend_that_declines_changes_nothing(monkeypatch, fuse_at_once):
    backend = ef.device("cpu").backend.backend
    monkeypatch.setattr(backend, "fusion_ops", frozenset({"add", "multiply"}))
    monkeypatch.setattr(backend, "fusion_dtypes", frozenset({"float32"}))
    monkeypatch.setattr(backend, "compile_elementwise", lambda group: None)
    traced = ef.function(lambda x: x * 2.0 + 1.0)
    np.testing.assert_array_equal(traced(ef.ones(3)).numpy(), 3.0)
    assert all(n.kind != "fused" for n in traced.graph(ef.ones(3)).replay.program.nodes)


def test_fusion_happens_after_a_few_calls_and_export_saves_the_unfused_graph(
        reference_backend, monkeypatch, tmp_path):
    monkeypatch.setattr(fcompile, "FUSE_AFTER", 2)
    traced = ef.function(lambda x: ef.abs(x * 2.0 - 1.0))
    x = ef.constant([0.0, 1.0])
    program = traced.graph(x).replay.program
    for calls in range(1, 5):
        np.testing.assert_array_equal(traced(x).numpy(), [1.0, 1.0])
        fused = any(n.kind == "fused" for n in program.nodes)
        assert fused == (calls > 2), calls
    assert "fused" in program.source
    path = ef.saved_model.save(traced, tmp_path / "f", x)
    assert '"fused"' not in open(f"{path}/function.json").read()
    np.testing.assert_array_equal(ef.saved_model.load(path)(x).numpy(), [1.0, 1.0])


@st.composite
def mixed_programs(draw):
    """Elementwise ops mixed with ops that cannot fuse, over several values: the shapes of
    graph where contracting groups could make a cycle (a group feeding an outside node that
    feeds a sibling of another group...)."""
    n = draw(st.integers(4, 14))
    return [(draw(st.sampled_from(["add", "multiply", "maximum", "abs", "flip", "colsum",
                                   "matmul"])),
             draw(st.integers(0, 50)), draw(st.integers(0, 50))) for _ in range(n)]


@settings(max_examples=40, deadline=None)
@given(mixed_programs())
@example([("add", 0, 0), ("matmul", 0, 14), ("add", 0, 1)] + [("add", 0, 0)] * 5
         + [("matmul", 0, 14)])  # two groups, each feeding the other through a matmul
def test_fusing_any_mix_of_ops_keeps_a_valid_order_and_the_values(prog):
    def run(x, y):
        values = [x, y]
        for op, i, j in prog:
            a, b = values[i % len(values)], values[j % len(values)]
            if op == "flip":
                out = a[::-1]
            elif op == "colsum":
                out = ef.sum(a, axis=0, keepdims=True) + b
            elif op == "matmul":
                out = ef.matmul(a, b) * 0.1
            elif op == "abs":
                out = ef.abs(a)
            else:
                out = getattr(ef, op)(a, b)
            values.append(out)
        return values[2:]
    x = ef.constant(np.linspace(-1, 1, 9).reshape(3, 3))
    y = ef.constant(np.linspace(2, -2, 9).reshape(3, 3))
    backend = ef.device("cpu").backend.backend
    saved = (backend.fusion_ops, backend.fusion_dtypes, fcompile.FUSE_AFTER)
    backend.fusion_ops = frozenset({"add", "multiply", "maximum", "abs"})
    backend.fusion_dtypes = frozenset({"float64"})
    backend.compile_elementwise = interpret
    fcompile.FUSE_AFTER = 0
    try:
        got = ef.function(run)(x, y)
    finally:
        backend.fusion_ops, backend.fusion_dtypes, fcompile.FUSE_AFTER = saved
        del backend.compile_elementwise
    for a, b in zip(got, run(x, y)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# -- the lean tiers -------------------------------------------------------------------------------

def test_the_lean_tier_keeps_fix_only_where_the_first_call_needed_it():
    traced = ef.function(lambda x: (ef.prod(x * 2.0), x + 1.0))  # prod gives a NumPy scalar
    x = ef.ones(3)
    traced(x)
    traced(x)
    source = traced.graph(x).replay.program.source
    assert source.count("_fix(") == 1 and "_fixc" not in source
    total, plus = traced(x)
    assert type(total._data) is np.ndarray and total.shape == () and total.numpy() == 8.0


@pytest.mark.parametrize("fuse_after", [None, 0], ids=["unfused", "fused"])
def test_buffer_reuse_never_touches_inputs_constants_or_returned_arrays(fuse_after, monkeypatch):
    monkeypatch.setattr(fcompile, "FUSE_AFTER", fuse_after)
    c = ef.constant([1.0, 2.0, 3.0])

    def f(x):
        a = ef.exp(x)          # fresh
        b = ef.negative(a)     # may write into a (dead after)
        return b * 2.0 + c, x * 3.0
    traced = ef.function(f)
    x = ef.constant([0.0, 1.0, 2.0])
    keep_x, keep_c = x.numpy().copy(), c.numpy().copy()
    first = [t.numpy().copy() for t in traced(x)]
    outs = [traced(x) for _ in range(4)]
    source = traced.graph(x).replay.program.source
    assert "out=" in source or fuse_after == 0
    for got in outs:
        for a, b in zip(got, first):
            np.testing.assert_array_equal(a.numpy(), b)
    np.testing.assert_array_equal(x.numpy(), keep_x)
    np.testing.assert_array_equal(c.numpy(), keep_c)
    assert not np.shares_memory(outs[0][0].numpy(), outs[1][0].numpy())


# -- the NumPy backend's numba groups -------------------------------------------------------------

_EXACT_UNARY = ["negative", "abs", "sqrt", "square", "sign", "floor", "ceil", "trunc"]
_EXACT_BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum"]


@st.composite
def programs(draw):
    """A random elementwise program over two inputs (one broadcasting) and a scalar."""
    steps = draw(st.lists(st.tuples(st.sampled_from(_EXACT_UNARY + _EXACT_BINARY + ["where"]),
                                    st.integers(0, 100), st.integers(0, 100)),
                          min_size=2, max_size=8))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    return steps, dtype


def _run_program(steps, x, y):
    values = [x, y]
    for op, i, j in steps:
        a, b = values[-1 - i % 2], values[j % len(values)]  # a chain, with branches
        if op == "where":
            out = ef.where(a > b, a, 0.5)
        elif op in _EXACT_UNARY:
            out = getattr(ef, op)(a)
        else:
            out = getattr(ef, op)(a, b)
        values.append(out)
    return values[2:]


@settings(max_examples=15, deadline=None)
@given(programs())
def test_numba_groups_give_numpys_bits(prog):
    pytest.importorskip("numba")
    steps, dtype = prog
    rng = np.random.default_rng(len(steps))
    x = ef.asarray(rng.uniform(-3, 3, (3, 5)).astype(dtype))
    y = ef.asarray(rng.uniform(-3, 3, 5).astype(dtype))
    old = fcompile.FUSE_AFTER
    fcompile.FUSE_AFTER = 0
    with np.errstate(all="ignore"):  # sqrt of a negative: NaN, as NumPy gives
        try:
            traced = ef.function(lambda x, y: _run_program(steps, x, y))
            got = traced(x, y)
            assert any(n.kind == "fused" for n in traced.graph(x, y).replay.program.nodes)
        finally:
            fcompile.FUSE_AFTER = old
        want = _run_program(steps, x, y)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_numba_fuses_relu_backward_and_declines_what_numpy_does_as_well(fuse_at_once):
    pytest.importorskip("numba")
    from eagerflow_numpy import _fusion

    def f(h, g):
        return ef.where(h > 0, g, 0.0), ef.exp(h) + 1.0
    h = ef.constant(np.random.default_rng(1).standard_normal((64, 32)), ef.float32)
    g = ef.ones((64, 32))
    traced = ef.function(f)
    got = traced(h, g)
    for a, b in zip(got, f(h, g)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    nodes = traced.graph(h, g).replay.program.nodes
    fused = [n.op for n in nodes if n.kind == "fused"]
    assert len(fused) == 1 and {"greater", "where"} <= {s.op for s in fused[0].steps}
    assert "exp" not in _fusion.FUSION_OPS or _fusion.MODE == "all"
    assert any(n.kind == "op" and n.op.name == "exp" for n in nodes)


def test_numba_source_is_shape_generic_and_cached(tmp_path, monkeypatch, fuse_at_once):
    pytest.importorskip("numba")
    from eagerflow_numpy import _fusion
    monkeypatch.setenv("EAGERFLOW_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_fusion, "_compiled", {})

    def f(x, b):
        return ef.maximum(x + b, 0.0)
    for shape in [(2, 3), (5, 7)]:
        x = ef.ones(shape)
        b = ef.constant(np.linspace(-2, 2, shape[1]), ef.float32)
        np.testing.assert_array_equal(ef.function(f)(x, b).numpy(), f(x, b).numpy())
    files = list((tmp_path / "numpy-fusion").glob("fused_*.py"))
    assert len(files) == 1 and len(_fusion._compiled) == 1  # one source for both shapes
    files[0].write_text(files[0].read_text() + "\nraise SystemExit('tampered')\n")
    monkeypatch.setattr(_fusion, "_compiled", {})
    x, b = ef.ones((3, 3)), ef.constant([1.0, -1.0, 0.0])
    np.testing.assert_array_equal(ef.function(f)(x, b).numpy(), f(x, b).numpy())
    assert "tampered" not in files[0].read_text()  # a changed file is rewritten, never run
