"""ef.function (issue #11): tracing, caching, Variables, tapes inside and outside, control
flow, passes, errors. Every traced result is compared with the same code run eagerly."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core.testing import assert_close


def _same(a, b):
    if isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
        return
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_allclose(a.numpy().astype(np.float64), b.numpy().astype(np.float64),
                               rtol=1e-6, atol=1e-7)


def both(fn, *args, **kwargs):
    """``fn`` eagerly and through ef.function: the same results."""
    traced = ef.function(fn)
    got = traced(*args, **kwargs)
    _same(got, fn(*args, **kwargs))
    return traced, got


# -- tracing and caching ------------------------------------------------------------------------

def test_pure_functions_give_the_eager_results_and_trace_once_per_signature():
    def f(x, y, scale=2.0):
        return {"z": ef.tanh(x @ y) * scale, "parts": [ef.sum(x), ef.max(y, axis=0)]}
    x, y = ef.constant(np.random.default_rng(0).standard_normal((3, 4))), ef.ones((4, 2))
    traced, _ = both(f, x, y)
    traced(x * 2.0, y)
    assert traced.trace_count == 1
    traced(ef.ones((5, 4)), y)          # a new shape: a new trace
    traced(x, y, scale=3.0)             # a new Python value: a new trace
    assert traced.trace_count == 3
    traced(x.astype(ef.float64), y.astype(ef.float64))
    assert traced.trace_count == 4


def test_python_print_runs_at_trace_time_and_ef_print_at_every_call(capsys):
    @ef.function
    def f(x):
        print("tracing", x.shape)
        ef.print("value", x)
        return x + 1.0
    f(ef.constant([1.0]))
    f(ef.constant([2.0]))
    out = capsys.readouterr().out.splitlines()
    assert out == ["tracing (1,)", "value [1.]", "value [2.]"]


def test_retracing_is_warned_about_naming_the_argument():
    @ef.function
    def f(x, n):
        return x * n
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(7):
            f(ef.ones(2), n)
    messages = [str(w.message) for w in caught if issubclass(w.category, ef.RetracingWarning)]
    assert len(messages) == 2 and "argument 'n' changed (5 -> 6)" in messages[-1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = ef.function(lambda x: x * 2.0)
        for k in range(1, 8):
            g(ef.ones(k))
    assert any("tensor argument 'x' changed (shape (6,) -> (7,))" in str(w.message)
               for w in caught)


def test_reduce_retracing_and_input_signature_generalise_shapes():
    f = ef.function(lambda x: ef.sum(x * 2.0, axis=1), reduce_retracing=True)
    for n in (2, 3, 4, 5):
        assert f(ef.ones((n, 3))).tolist() == [6.0] * n
    assert f.trace_count == 2
    assert "float32[?, 3]" in str(f.graph(ef.ones((9, 3))))
    g = ef.function(lambda x: x @ ef.ones((3, 2)),
                    input_signature=[ef.TensorSpec((None, 3), ef.float32)])
    assert g(ef.ones((4, 3))).shape == (4, 2) and g(ef.ones((1, 3))).shape == (1, 2)
    assert g.trace_count == 1
    with pytest.raises(ef.InvalidArgumentError, match=r"shape \(2, 2\), the input_signature"):
        g(ef.ones((2, 2)))


def test_graph_listing_and_generated_replay():
    f = ef.function(lambda x: ef.exp(x) * 2.0 + 1.0)
    concrete = f.graph(ef.ones(3))
    text = str(concrete)
    assert text.splitlines()[0] == "graph <lambda>(%0: float32[3]):"
    assert "exp(%0)" in text and "return" in text
    assert "def replay(s0):" in concrete.source


# -- Variables, tapes, training steps ------------------------------------------------------------

def _mlp():
    rng = np.random.default_rng(1)
    w1 = ef.Variable(rng.standard_normal((4, 8)) * 0.5, dtype=ef.float32)
    w2 = ef.Variable(rng.standard_normal((8, 3)) * 0.5, dtype=ef.float32)
    return w1, w2


def test_a_training_step_updates_variables_like_eager():
    x = ef.constant(np.random.default_rng(2).standard_normal((5, 4)), dtype=ef.float32)
    y = ef.constant([0, 1, 2, 1, 0])

    def make_step(w1, w2):
        def step(x, y):
            with ef.GradientTape() as tape:
                logits = ef.nn.relu(x @ w1) @ w2
                loss = ef.mean(ef.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
            g1, g2 = tape.gradient(loss, [w1, w2])
            w1.assign_sub(0.1 * g1)
            w2.assign_sub(0.1 * g2)
            return loss
        return step
    eager_vars, traced_vars = _mlp(), _mlp()
    eager, traced = make_step(*eager_vars), ef.function(make_step(*traced_vars))
    for _ in range(5):
        _same(traced(x, y), eager(x, y))
    for a, b in zip(traced_vars, eager_vars):
        _same(a.read_value(), b.read_value())
    assert traced.trace_count == 1
    assert "assign_variable" in str(traced.graph(x, y))


def test_gradients_through_a_traced_function_called_under_a_tape():
    w = ef.Variable([[1.0], [-2.0]])
    f = ef.function(lambda x: ef.sum(ef.tanh(x @ w) ** 2))
    x = ef.constant([[0.3, -0.2]])
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    gx, gw = tape.gradient(y, [x, w])
    with ef.GradientTape() as tape:
        tape.watch(x)
        y2 = ef.sum(ef.tanh(x @ w) ** 2)
    ex, ew = tape.gradient(y2, [x, w])
    _same(gx, ex)
    _same(gw, ew)
    flat = lambda v: f(ef.reshape(v, (1, 2)))  # noqa: E731
    _same(ef.hessian(flat)(ef.constant([0.3, -0.2])),
          ef.hessian(lambda v: ef.sum(ef.tanh(ef.reshape(v, (1, 2)) @ w) ** 2))(
              ef.constant([0.3, -0.2])))


def test_a_traced_function_of_gradients_and_forward_mode():
    f = ef.function(lambda x: ef.grad(lambda v: ef.sum(ef.sin(v) * v))(x))
    both(lambda x: ef.grad(lambda v: ef.sum(ef.sin(v) * v))(x), ef.constant([0.5, 1.5]))
    w = ef.constant(np.random.default_rng(3).standard_normal((4, 4)))
    hvp = ef.function(lambda x, v: ef.jvp(ef.grad(lambda u: ef.sum(ef.tanh(w @ u))), (x,), (v,))[1])
    x, v = ef.ones(4, dtype=ef.float64), ef.constant([1.0, 0.0, 0.0, 0.0], dtype=ef.float64)
    _same(hvp(x, v), ef.jvp(ef.grad(lambda u: ef.sum(ef.tanh(w @ u))), (x,), (v,))[1])
    assert f(ef.constant([0.5])).shape == (1,)


# -- control flow ----------------------------------------------------------------------------------

def test_python_control_flow_on_a_traced_tensor_names_the_line_and_the_fix():
    @ef.function
    def bad(x):
        if ef.sum(x) > 0:
            return x
        return -x
    with pytest.raises(ef.TracingError) as info:
        bad(ef.ones(2))
    msg = str(info.value)
    assert "bool() of a traced tensor at" in msg and "test_function.py" in msg and "(in bad)" in msg
    assert "ef.cond" in msg and "ef.while_loop" in msg
    for read in (lambda x: float(x), lambda x: x.numpy(), lambda x: int(ef.sum(x))):
        with pytest.raises(ef.TracingError):
            ef.function(lambda x, r=read: r(x))(ef.ones(()))


def test_cond_and_switch_case_eager_traced_and_differentiated():
    w = ef.Variable([1.0, -2.0])

    def f(x):
        with ef.GradientTape() as tape:
            y = ef.cond(ef.sum(x) > 0, lambda: ef.sum(w * x * 3.0), lambda: ef.sum(w * w * x))
        return y, tape.gradient(y, w)
    for x in (ef.constant([1.0, 2.0]), ef.constant([-1.0, -2.0])):
        both(f, x)

    def g(i, x):
        return ef.switch_case(i, [lambda: x * 2.0, lambda: x - 1.0, lambda: ef.exp(x)])
    for i in (0, 1, 2, 7):
        both(g, ef.constant(i), ef.constant([0.5, 1.0]))


def test_branches_must_agree():
    f = ef.function(lambda x: ef.cond(x[0] > 0, lambda: x, lambda: ef.astype(x, ef.int32)))
    with pytest.raises(ef.InvalidArgumentError, match="branches must agree on dtypes"):
        f(ef.ones(2))


def test_while_loop_eager_traced_and_differentiated():
    def steps(n):
        def body(n, k):
            return ef.where(n % 2 == 0, n // 2, 3 * n + 1), k + 1
        return ef.while_loop(lambda n, k: n != 1, body, (n, ef.constant(0)))[1]
    for n in (1, 27, 2 ** 25 + 1):
        both(steps, ef.constant(n))
    w = ef.Variable(0.5, dtype=ef.float64)

    def f(x):
        with ef.GradientTape() as tape:
            tape.watch(x)
            y, _ = ef.while_loop(lambda y, i: i < 4, lambda y, i: (ef.sin(y) * w + x, i + 1),
                                 (x, ef.constant(0)))
        return y, tape.gradient(y, [x, w])
    both(f, ef.constant(2.0, dtype=ef.float64))
    both(lambda x: ef.while_loop(lambda y: ef.sum(y) < 100.0, lambda y: y * 2.0, [x],
                                 maximum_iterations=3), ef.ones(2))


def test_a_loop_variable_must_keep_its_shape():
    f = ef.function(lambda x: ef.while_loop(lambda y: ef.sum(y) < 9.0,
                                            lambda y: ef.concat([y, y]), [x]))
    with pytest.raises(ef.ShapeError, match=r"loop variable 0 enters as float32\[2\] and the "
                                            r"body returns float32\[4\]"):
        f(ef.ones(2))


# -- passes ------------------------------------------------------------------------------------

def test_passes_leave_what_replay_needs():
    def f(x):
        unused = ef.exp(x) * 100.0             # dead code
        a, b = ef.sin(x) * 2.0, ef.sin(x) * 2.0  # one common subexpression
        c = ef.ones(3) * 2.0 + 1.0             # constant folding
        return (a + b) * 1.0 + c * x - 0.0     # algebra
    traced, _ = both(f, ef.constant([0.1, 0.2, 0.3]))
    g = traced.graph(ef.constant([0.1, 0.2, 0.3])).graph
    assert g.count("exp") == 0 and g.count("sin") == 1 and g.count("ones") == 0
    assert g.count("subtract") == 0
    assert sum(1 for n in g.nodes if n.kind == "op" and n.op.name == "multiply") == 2


def test_backward_of_a_traced_step_has_no_multiplications_by_one():
    w = ef.Variable([[1.0], [2.0], [3.0]])

    @ef.function
    def step(x):
        with ef.GradientTape() as tape:
            loss = ef.sum((x @ w) ** 2)
        w.assign_sub(0.01 * tape.gradient(loss, w))
        return loss
    graph = step.graph(ef.ones((2, 3))).graph
    assert graph.count("pow") == 1  # the forward's; the backward's x ** 1 is gone
    ones = [n for n in graph.nodes if n.kind == "op" and n.op.name == "multiply"
            and any(graph.constants.get(s) is not None for s in n.ins if isinstance(s, int))]
    assert not ones
