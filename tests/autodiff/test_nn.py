"""ef.nn (issue #3): values against NumPy float64, second-order gradient checks in float64,
stability for large logits, errors; and the ``composite`` decorator the functions are built on
(one tape step, recording paused in the body and restored, second order through the rule)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core import nn
from eagerflow_core._dispatch import state
from eagerflow_core.autodiff.composite import composite
from eagerflow_core.testing import assert_close, check_grads, reference
from eagerflow_core.testing import strategies as efst

FLOATS = [ef.float32, ef.float64]


# -- NumPy float64 references ---------------------------------------------------------------

def np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis if axis is not None else None)


def np_log_softmax(x, axis=-1):
    return x - np_logsumexp(x, axis=axis, keepdims=True)


def np_gelu(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


ELEMENTWISE = {
    "relu": (nn.relu, lambda x: np.maximum(x, 0)),
    "sigmoid": (nn.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "softplus": (nn.softplus, lambda x: np.logaddexp(0, x)),
    "gelu": (nn.gelu, np_gelu),
}


@st.composite
def float_inputs(draw, min_dims=0, low=-10.0, high=10.0):
    dtype = draw(st.sampled_from(FLOATS))
    shape = draw(efst.shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4))
    host = draw(efst.arrays(dtype, shape, low=low, high=high))
    return ef.asarray(host, dtype=dtype), dtype


def _axis_for(draw, ndim):
    return draw(st.integers(-ndim, ndim - 1))


# -- values ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@given(data=float_inputs())
def test_elementwise_values_match_numpy(device, name, data):
    x, dtype = data
    fn, ref = ELEMENTWISE[name]
    assert_close(fn(x), ref(reference(x)), dtype=dtype, scale=4)


@given(data=float_inputs(min_dims=1), pick=st.data(), keepdims=st.booleans())
def test_logsumexp_matches_numpy_over_any_axes(device, data, pick, keepdims):
    x, dtype = data
    axes = pick.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1),
                               st.sets(st.integers(0, x.ndim - 1), min_size=1).map(tuple)))
    got = nn.logsumexp(x, axis=axes, keepdims=keepdims)
    assert_close(got, np_logsumexp(reference(x), axis=axes, keepdims=keepdims), dtype=dtype,
                 scale=4)


@given(data=float_inputs(min_dims=1), pick=st.data())
def test_softmax_and_log_softmax_match_numpy(device, data, pick):
    x, dtype = data
    axis = _axis_for(pick.draw, x.ndim)
    want = np_log_softmax(reference(x), axis=axis)
    assert_close(nn.log_softmax(x, axis=axis), want, dtype=dtype, scale=4)
    assert_close(nn.softmax(x, axis=axis), np.exp(want), dtype=dtype, scale=4)


@given(data=float_inputs(min_dims=1), pick=st.data())
def test_softmax_cross_entropy_matches_numpy(device, data, pick):
    logits, dtype = data
    axis = _axis_for(pick.draw, logits.ndim)
    raw = pick.draw(efst.arrays(dtype, logits.shape, low=0.0, high=1.0))
    labels = ef.asarray(raw, dtype=dtype)
    want = -np.sum(reference(labels) * np_log_softmax(reference(logits), axis=axis), axis=axis)
    got = nn.softmax_cross_entropy_with_logits(labels, logits, axis=axis)
    assert_close(got, want, dtype=dtype, scale=8)


@given(data=float_inputs(min_dims=1), pick=st.data())
def test_sparse_softmax_cross_entropy_matches_numpy(device, data, pick):
    logits, dtype = data
    n = logits.shape[-1]
    idx = pick.draw(efst.arrays(ef.int64, logits.shape[:-1], low=0, high=n - 1))
    labels = ef.asarray(idx, dtype=ef.int64)
    lsm = np_log_softmax(reference(logits), axis=-1)
    want = -np.take_along_axis(lsm, idx[..., None], axis=-1)[..., 0]
    got = nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    assert_close(got, want, dtype=dtype, scale=4)


def test_integer_inputs_are_lifted_to_float32_and_relu_keeps_ints(device):
    assert nn.relu(ef.constant([-2, 3])).dtype is ef.int64
    for fn in (nn.sigmoid, nn.softplus, nn.gelu, nn.softmax, nn.log_softmax, nn.logsumexp):
        assert fn(ef.constant([1, 2])).dtype is ef.float32, fn.__name__


def test_empty_inputs(device):
    assert_close(nn.logsumexp(ef.zeros((2, 0)), axis=1), np.full(2, -np.inf), dtype=ef.float32)
    assert nn.softmax(ef.zeros((0, 3))).shape == (0, 3)
    loss = nn.sparse_softmax_cross_entropy_with_logits(ef.zeros((0,), dtype=ef.int64),
                                                        ef.zeros((0, 3)))
    assert loss.shape == (0,)


def test_relu_gradient_is_zero_at_zero_and_one_above(device):
    x = ef.constant([-1.0, 0.0, 0.5])
    assert ef.grad(lambda x: ef.sum(nn.relu(x)))(x).tolist() == [0.0, 0.0, 1.0]


# -- stability -------------------------------------------------------------------------------

BIG = [[1000.0, -1000.0, 0.0], [1000.0, 1000.0, 999.0]]


@pytest.mark.parametrize("dtype", FLOATS)
def test_large_logits_give_finite_values_and_gradients(device, dtype):
    logits = ef.constant(BIG, dtype=dtype)
    labels = ef.constant([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]], dtype=dtype)
    cls = ef.constant([1, 2])
    cases = {
        "softmax": lambda z: nn.softmax(z) * ef.constant([1.0, 2.0, 3.0], dtype=dtype),
        "log_softmax": nn.log_softmax,
        "logsumexp": lambda z: nn.logsumexp(z, axis=1),
        "ce": lambda z: nn.softmax_cross_entropy_with_logits(labels, z),
        "sparse_ce": lambda z: nn.sparse_softmax_cross_entropy_with_logits(cls, z),
        "sigmoid": nn.sigmoid,
        "softplus": nn.softplus,
        "gelu": nn.gelu,
    }
    for name, f in cases.items():
        y = f(logits)
        g = ef.grad(lambda z, f=f: ef.sum(f(z)))(logits)
        for t, what in ((y, "value"), (g, "gradient")):
            assert bool(ef.all(ef.isfinite(t))), f"{name}: {what} not finite: {t}"
    # Exact values where float64 can tell: log_softmax of the big row, cross-entropies.
    want = np_log_softmax(np.array(BIG), axis=-1)
    assert_close(nn.log_softmax(logits), want, dtype=dtype, scale=4)
    assert_close(nn.sparse_softmax_cross_entropy_with_logits(cls, logits),
                 -want[[0, 1], [1, 2]], dtype=dtype, scale=4)
    assert_close(nn.sigmoid(ef.constant([-1000.0, 1000.0], dtype=dtype)), [0.0, 1.0], dtype=dtype)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # softmax of a row of -inf
def test_infinite_logits(device):
    x = ef.constant([[0.0, -ef.inf], [-ef.inf, -ef.inf]])
    assert_close(nn.logsumexp(x, axis=1), np.array([0.0, -np.inf]), dtype=ef.float32)
    assert nn.softmax(x)[0].tolist() == [1.0, 0.0]
    assert nn.log_softmax(x)[0].tolist() == [0.0, -math.inf]
    assert nn.logsumexp(ef.constant([1.0, ef.inf])).item() == math.inf


# -- gradients: second order, float64 -------------------------------------------------------

def _away_from_zero(x):
    return ef.where(ef.abs(x) < 0.1, x + 0.5, x)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@settings(max_examples=10)
@given(data=float_inputs(low=-4.0, high=4.0))
def test_elementwise_grads_second_order(device, name, data):
    x, _ = data
    fn = ELEMENTWISE[name][0]
    check_grads(fn, (_away_from_zero(x) if name == "relu" else x,), order=2)


@settings(max_examples=10)
@given(data=float_inputs(min_dims=1, low=-4.0, high=4.0), pick=st.data(), keepdims=st.booleans())
def test_softmax_family_grads_second_order(device, data, pick, keepdims):
    x, _ = data
    axis = _axis_for(pick.draw, x.ndim)
    check_grads(lambda x: nn.softmax(x, axis=axis), (x,), order=2)
    check_grads(lambda x: nn.log_softmax(x, axis=axis), (x,), order=2)
    axes = pick.draw(st.one_of(st.none(), st.just(axis)))
    check_grads(lambda x: nn.logsumexp(x, axis=axes, keepdims=keepdims), (x,), order=2)


@settings(max_examples=10)
@given(data=float_inputs(min_dims=1, low=-4.0, high=4.0), pick=st.data())
def test_cross_entropy_grads_second_order_in_labels_and_logits(device, data, pick):
    logits, dtype = data
    axis = _axis_for(pick.draw, logits.ndim)
    labels = ef.asarray(pick.draw(efst.arrays(dtype, logits.shape, low=0.0, high=1.0)),
                        dtype=dtype)
    check_grads(lambda a, b: nn.softmax_cross_entropy_with_logits(a, b, axis=axis),
                (labels, logits), order=2)
    n = logits.shape[-1]
    cls = ef.asarray(pick.draw(efst.arrays(ef.int64, logits.shape[:-1], low=0, high=n - 1)))
    check_grads(lambda z: nn.sparse_softmax_cross_entropy_with_logits(cls, z), (logits,),
                order=2)


def test_third_order_through_nested_rules(device):
    # softplus' rule calls sigmoid, whose rule uses its output: three tapes deep.
    x = ef.constant([0.3, -1.2], dtype=ef.float64)
    check_grads(nn.softplus, (x,), order=3)


def test_cross_entropy_gradient_is_softmax_minus_labels(device):
    logits = ef.constant([[2.0, 1.0, 0.1], [0.0, 0.0, 5.0]])
    labels = ef.constant([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])
    g = ef.grad(lambda z: ef.sum(nn.softmax_cross_entropy_with_logits(labels, z)))(logits)
    assert_close(g, np.exp(np_log_softmax(reference(logits))) - reference(labels),
                 dtype=ef.float32)
    gs = ef.grad(lambda z: ef.sum(nn.sparse_softmax_cross_entropy_with_logits(
        ef.constant([1, 2]), z)))(logits)
    assert_close(gs, np.exp(np_log_softmax(reference(logits))) - np.eye(3)[[1, 2]],
                 dtype=ef.float32)


@pytest.mark.parametrize("fn", [nn.relu, nn.sigmoid, nn.softplus, nn.gelu, nn.softmax,
                                nn.log_softmax, nn.logsumexp],
                         ids=lambda f: f.__name__)
def test_float32_gradient_has_input_dtype_and_shape(device, fn):
    x = ef.constant([[0.5, -1.0, 2.0], [1.0, 0.3, -0.2]])
    g = ef.grad(lambda x: ef.sum(fn(x) * ef.constant([1.0, 2.0, 3.0])))(x)
    assert g.dtype is ef.float32 and g.shape == x.shape


def test_variables_passed_in_get_gradients(device):
    w = ef.Variable([[1.0, 2.0, 3.0]])
    with ef.GradientTape() as tape:
        loss = ef.sum(nn.sparse_softmax_cross_entropy_with_logits(ef.constant([0]), w))
    g = tape.gradient(loss, w)
    p = np.exp(np_log_softmax(np.array([[1.0, 2.0, 3.0]])))
    assert_close(g, p - np.eye(3)[[0]], dtype=ef.float32)


# -- one tape step -------------------------------------------------------------------------

def test_each_nn_function_is_one_tape_entry(device):
    logits = ef.constant([[1.0, 2.0], [0.5, 0.0]])
    with ef.GradientTape() as tape:
        tape.watch(logits)
        nn.softmax_cross_entropy_with_logits(ef.constant([[1.0, 0.0], [0.0, 1.0]]), logits)
        nn.sparse_softmax_cross_entropy_with_logits(ef.constant([0, 1]), logits)
        for fn in (nn.relu, nn.sigmoid, nn.softplus, nn.gelu, nn.softmax, nn.log_softmax,
                   nn.logsumexp):
            fn(logits)
    assert [e[0].name for e in tape._entries] == [
        "softmax_cross_entropy_with_logits", "sparse_softmax_cross_entropy_with_logits",
        "relu", "sigmoid", "softplus", "gelu", "softmax", "log_softmax", "logsumexp"]


# -- errors ----------------------------------------------------------------------------------

def test_errors_name_the_function_and_shapes(device):
    z = ef.zeros((2, 3))
    with pytest.raises(ef.ShapeError, match=r"softmax_cross_entropy_with_logits: labels of "
                                            r"shape \(2, 2\) and logits of shape \(2, 3\)"):
        nn.softmax_cross_entropy_with_logits(ef.zeros((2, 2)), z)
    with pytest.raises(ef.ShapeError, match=r"labels of shape \(3,\) do not match logits of "
                                            r"shape \(2, 3\).*\(2,\)"):
        nn.sparse_softmax_cross_entropy_with_logits(ef.constant([0, 1, 2]), z)
    with pytest.raises(ef.DTypeError, match="labels must be integer class indices, not float32"):
        nn.sparse_softmax_cross_entropy_with_logits(ef.constant([0.0, 1.0]), z)
    with pytest.raises(ef.OutOfRangeError, match=r"label 3 is out of range.*\[0, 3\)"):
        nn.sparse_softmax_cross_entropy_with_logits(ef.constant([0, 3]), z)
    with pytest.raises(ef.OutOfRangeError, match="label -1 is out of range"):
        nn.sparse_softmax_cross_entropy_with_logits(ef.constant([-1, 0]), z)
    with pytest.raises(ef.AxisError, match=r"softmax: axis 2 is out of range.*\(2, 3\)"):
        nn.softmax(z, axis=2)
    with pytest.raises(ef.AxisError, match="logsumexp: axis"):
        nn.logsumexp(z, axis=(0, 5))
    with pytest.raises(ef.ShapeError, match="log_softmax: x must have at least 1 dimension"):
        nn.log_softmax(ef.constant(1.0))
    with pytest.raises(ef.DTypeError, match="sigmoid: expects a real floating-point input, "
                                            "not complex64"):
        nn.sigmoid(ef.constant([1 + 2j]))
    with pytest.raises(ef.ArgumentTypeError, match="relu: expected a Tensor, got"):
        nn.relu([1.0, -1.0])
    with pytest.raises(ef.InvalidArgumentError, match="gelu: only approximate=True"):
        nn.gelu(z, approximate=False)


# -- the composite decorator ------------------------------------------------------------------

calls = []


def _cube_vjp(g, ans, x, *, scale=1.0):
    calls.append("rule")
    return g * 3 * scale * x * x


@composite(vjp=_cube_vjp)
def cube(x, /, *, scale=1.0):
    calls.append([t._recording for t in state.tapes])
    return x * x * x * scale


def test_composite_pauses_recording_in_the_body_and_records_one_entry(device):
    calls.clear()
    x = ef.constant([1.0, 2.0])
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = cube(x, scale=2.0)
        assert tape._recording
    assert calls == [[]]  # the body runs below every interpreter: no tape sees it
    assert [(e[0].name, e[2]) for e in tape._entries] == [("cube", {"scale": 2.0})]
    assert tape.gradient(y, x).tolist() == [6.0, 24.0]
    assert calls[-1] == "rule"


def test_composite_restores_recording_when_the_body_raises(device):
    @composite(vjp=lambda g, ans, x: g)
    def broken(x):
        raise ValueError("boom")

    x = ef.constant([1.0])
    with ef.GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(ValueError, match="boom"):
            broken(x)
        assert tape._recording
        y = x * 2.0
    assert tape.gradient(y, x).tolist() == [2.0]


def test_composite_without_a_tape_just_calls_the_body(device):
    calls.clear()
    assert cube(ef.constant([2.0])).tolist() == [8.0]
    assert calls == [[]]


def test_tape_that_does_not_track_the_arguments_records_the_body_op_by_op(device):
    x, c = ef.constant([2.0]), ef.constant([3.0])

    @composite(vjp=lambda g, ans, x: g * 0.0)  # a wrong rule, to tell which path ran
    def times_c(x):
        return x * c

    with ef.GradientTape() as outer:
        outer.watch(c)
        with ef.GradientTape() as inner:
            inner.watch(x)
            y = times_c(x)
    assert [e[0].name for e in inner._entries] == ["times_c"]
    assert [e[0].name for e in outer._entries] == ["multiply"]
    assert outer.gradient(y, c).tolist() == [2.0]
    assert inner.gradient(y, x).tolist() == [0.0]


def test_composite_rule_is_recorded_by_the_outer_tape(device):
    x = ef.constant(1.5)
    d2 = ef.grad(ef.grad(lambda x: cube(x)))(x)
    assert d2.item() == pytest.approx(9.0)  # d2/dx2 x**3 = 6x


def test_composite_each_rules_and_non_tensor_inputs(device):
    @composite(vjp=(lambda g, ans, a, b, k: g * b * k, None))
    def scaled(a, b, k=2.0):
        return a * b * k

    a, b = ef.constant([1.0, 2.0]), ef.constant([3.0, 4.0])
    with ef.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        y = scaled(a, b, 3.0)
    ga, gb = tape.gradient(y, [a, b])
    assert ga.tolist() == [9.0, 12.0] and gb is None
    assert tape._entries[0][1][2] == 3.0  # the Python value is an input, not a tensor


def test_composite_identity_output_gets_its_own_tape_identity(device):
    @composite(vjp=lambda g, ans, x: g * 5.0)
    def same(x):
        return x

    x = ef.constant([1.0])
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = same(x)
    assert y is not x
    assert tape.gradient(y, x).tolist() == [5.0]


def test_composite_integer_output_is_blocked_with_a_reason(device):
    @composite(vjp=lambda g, ans, x: g)
    def count(x):
        return ef.astype(x > 0, ef.int64)

    x = ef.constant([1.0, -1.0])
    with ef.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = count(x)
    assert tape.gradient(y, x) is None
    assert "composite 'count' gave a int64 result" in tape.explain(y, x)


def test_composite_refuses_star_args():
    with pytest.raises(TypeError, match="named parameters only"):
        composite(vjp=lambda g, ans: None)(lambda *xs: xs[0])
