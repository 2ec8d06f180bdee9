"""GradientTape semantics (issue #3): what is watched and recorded, persistence and freeing,
gradients over nested structures, output_gradients, unconnected gradients, Jacobians, nesting,
thread-locality, and "no gradient" kept apart from "zero gradient"."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core import _dispatch
from eagerflow_core._errors import InvalidArgumentError
from eagerflow_core._registry import OpDef, defvjp
from eagerflow_core.testing import assert_close
from eagerflow_core.testing import strategies as efst


def _value(t):
    return np.asarray(t.numpy(), dtype=np.float64)


# -- watching --------------------------------------------------------------------------------

def test_watched_tensor_gets_its_gradient_and_unwatched_one_gets_none(device):
    x, c = ef.constant([1.0, 2.0]), ef.constant([3.0, 4.0])
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.sum(x * c)
    gx, gc = tape.gradient(y, [x, c])
    assert_close(gx, np.array([3.0, 4.0]), dtype=ef.float32)
    assert gc is None


def test_watch_takes_nested_lists_and_dicts(device):
    a, b, c = ef.constant(1.0), ef.constant(2.0), ef.constant(3.0)
    with ef.GradientTape() as tape:
        tape.watch({"a": a, "rest": [b, (c,)]})
        y = a * b * c
    g = tape.gradient(y, [a, b, c])
    assert [float(t) for t in g] == [6.0, 3.0, 2.0]


def test_watch_refuses_what_is_not_a_tensor(device):
    tape = ef.GradientTape()
    with pytest.raises(InvalidArgumentError, match="watch: expected tensors or Variables, got float"):
        tape.watch([ef.constant(1.0), 2.0])


def test_source_watched_after_the_target_was_computed_gets_none(device):
    x = ef.constant(2.0)
    with ef.GradientTape() as tape:
        y = x * x
        tape.watch(x)
    assert tape.gradient(y, x) is None


# -- persistence and freeing -----------------------------------------------------------------

def test_persistent_tape_answers_several_gradient_calls(device):
    x = ef.constant([1.0, 2.0])
    with ef.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert_close(tape.gradient(y, x), np.array([2.0, 4.0]), dtype=ef.float32)
    assert_close(tape.gradient(z, x), np.array([4.0, 32.0]), dtype=ef.float32)
    assert_close(tape.gradient(z, y), np.array([2.0, 8.0]), dtype=ef.float32)
    assert_close(tape.gradient(y, x), np.array([2.0, 4.0]), dtype=ef.float32)


def test_second_gradient_call_on_a_non_persistent_tape_raises(device):
    x = ef.constant(2.0)
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(ef.GradientTapeError, match=r"persistent=True"):
        tape.gradient(y, x)
    assert issubclass(ef.GradientTapeError, RuntimeError)


def test_held_bytes_grows_with_recorded_work(device):
    x = ef.ones((100,), dtype=ef.float32)
    with ef.GradientTape(persistent=True) as tape:
        assert tape.held_bytes() == 0
        tape.watch(x)
        assert tape.held_bytes() == 400
        y = x * 2.0
        assert tape.held_bytes() == 800
        z = ef.sin(y) * y
        assert tape.held_bytes() == 1600  # sin(y) and z
        ef.constant([1.0, 2.0]) * 3.0  # not computed from a watched tensor: not recorded
        assert tape.held_bytes() == 1600
    tape.gradient(z, x)
    assert tape.held_bytes() == 1600  # persistent: kept for the next call
    tape.reset()
    assert tape.held_bytes() == 0


def test_non_persistent_tape_frees_what_it_saved_after_gradient(device):
    x = ef.ones((64,), dtype=ef.float64)
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.sum(ef.exp(x) * x)
    assert tape.held_bytes() > 0
    tape.gradient(y, x)
    assert tape.held_bytes() == 0


@pytest.mark.parametrize("method", ["jacobian", "batch_jacobian"])
def test_non_persistent_tape_frees_after_a_jacobian_and_allows_only_one(device, method):
    x = ef.ones((2, 3), dtype=ef.float32)
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.sin(x) * x
    getattr(tape, method)(y, x)
    assert tape.held_bytes() == 0
    with pytest.raises(ef.GradientTapeError, match="persistent=True"):
        getattr(tape, method)(y, x)


# -- what is recorded --------------------------------------------------------------------------

def test_stop_recording_hides_ops_from_the_tape(device):
    x = ef.constant(3.0)
    with ef.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        with tape.stop_recording():
            hidden = x * 10.0
            before = tape.held_bytes()
        assert tape.held_bytes() == before
        z = x * 2.0  # recording again after the block
        mixed = y + hidden
    assert tape.gradient(hidden, x) is None
    assert float(tape.gradient(y, x)) == 6.0
    assert float(tape.gradient(z, x)) == 2.0
    assert float(tape.gradient(mixed, x)) == 6.0  # nothing flows through the hidden part


def test_stop_recording_restores_on_error(device):
    x = ef.constant(3.0)
    with ef.GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(ValueError), tape.stop_recording():
            raise ValueError("boom")
        y = x * x
    assert float(tape.gradient(y, x)) == 6.0


def test_reset_forgets_everything_recorded_so_far(device):
    x = ef.constant(3.0)
    with ef.GradientTape() as tape:
        tape.watch(x)
        y_old = x * x
        tape.reset()
        assert tape.held_bytes() == 0
        z = x * 5.0  # x is no longer watched
        tape.watch(x)
        y = x * x * x
    g = tape.gradient([y, y_old, z], x)
    assert float(g) == 27.0  # only y, recorded after the reset, contributes


def test_reset_lets_a_non_persistent_tape_be_used_again(device):
    x = ef.constant(2.0)
    tape = ef.GradientTape()
    with tape:
        tape.watch(x)
        y = x * x
    assert float(tape.gradient(y, x)) == 4.0
    tape.reset()
    with tape:
        tape.watch(x)
        y = x * x * x
    assert float(tape.gradient(y, x)) == 12.0


def test_entering_a_tape_twice_raises(device):
    tape = ef.GradientTape()
    with tape, pytest.raises(ef.GradientTapeError, match="already recording"):
        tape.__enter__()


# -- gradient(): structures, targets, seeds ------------------------------------------------

def test_gradient_keeps_the_structure_of_sources(device):
    a, b, c = ef.constant(1.0), ef.constant([2.0, 3.0]), ef.constant(4.0)
    with ef.GradientTape(persistent=True) as tape:
        tape.watch([a, b, c])
        y = a * ef.sum(b) * c
    g = tape.gradient(y, {"a": a, "inner": {"b": b}, "pair": (a, [c])})
    assert set(g) == {"a", "inner", "pair"}
    assert float(g["a"]) == 20.0
    assert_close(g["inner"]["b"], np.array([4.0, 4.0]), dtype=ef.float32)
    assert isinstance(g["pair"], tuple) and isinstance(g["pair"][1], list)
    assert float(g["pair"][0]) == 20.0 and float(g["pair"][1][0]) == 5.0
    single = tape.gradient(y, b)
    assert isinstance(single, ef.Tensor) and single.shape == (2,)


def test_list_targets_are_summed(device):
    x = ef.constant([1.0, 2.0])
    with ef.GradientTape() as tape:
        tape.watch(x)
        y1 = x * x
        y2 = ef.sum(x * 3.0)
    assert_close(tape.gradient([y1, {"k": y2}], x), np.array([5.0, 7.0]), dtype=ef.float32)


def test_target_that_is_the_source_gives_ones(device):
    x = ef.constant([[1.0, 2.0]])
    with ef.GradientTape() as tape:
        tape.watch(x)
    assert_close(tape.gradient(x, x), np.ones((1, 2)), dtype=ef.float32)


def test_gradient_with_respect_to_an_intermediate(device):
    x = ef.constant(2.0)
    with ef.GradientTape() as tape:
        tape.watch(x)
        h = x * x
        y = h * h * h
    assert float(tape.gradient(y, h)) == 3 * 4.0 ** 2


def test_output_gradients_weight_each_target(device):
    x = ef.constant([1.0, 2.0, 3.0])
    with ef.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = ef.sum(x) * 1.0
    v = ef.constant([1.0, 0.0, -2.0])
    assert_close(tape.gradient(y, x, output_gradients=v), np.array([2.0, 0.0, -12.0]),
                 dtype=ef.float32)
    got = tape.gradient([y, z], x, output_gradients=[v, ef.constant(10.0)])
    assert_close(got, np.array([12.0, 10.0, -2.0]), dtype=ef.float32)
    with pytest.raises(InvalidArgumentError, match="2 targets but 1 output_gradients"):
        tape.gradient([y, z], x, output_gradients=[v])


def test_gradient_is_summed_over_broadcast_axes_and_cast_to_the_source(device):
    a = ef.constant([[1.0], [2.0], [3.0]], dtype=ef.float32)   # (3, 1)
    b = ef.constant([1.0, 10.0, 100.0, 1000.0], dtype=ef.float64)   # (4,)
    with ef.GradientTape() as tape:
        tape.watch([a, b])
        y = ef.sum(a * b)  # float64, shape (3, 4) before the sum
    ga, gb = tape.gradient(y, [a, b])
    assert_close(ga, np.full((3, 1), 1111.0), dtype=ef.float32)
    assert_close(gb, np.full((4,), 6.0), dtype=ef.float64)


def test_unconnected_gradients_none_or_zero(device):
    x, w = ef.constant([1.0, 2.0]), ef.constant([[5.0]], dtype=ef.float64)
    with ef.GradientTape(persistent=True) as tape:
        tape.watch([x, w])
        y = ef.sum(x * x)
    assert tape.gradient(y, w) is None
    assert tape.gradient(y, w, unconnected_gradients="none") is None
    z = tape.gradient(y, [x, w], unconnected_gradients="zero")
    assert_close(z[0], np.array([2.0, 4.0]), dtype=ef.float32)
    assert_close(z[1], np.zeros((1, 1)), dtype=ef.float64)
    with pytest.raises(InvalidArgumentError, match="unconnected_gradients must be 'none' or 'zero'"):
        tape.gradient(y, w, unconnected_gradients="zeros")


def test_zero_gradient_is_not_no_gradient(device):
    x = ef.constant([1.0, 2.0])
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.sum(x * 0.0)
    g = tape.gradient(y, x)
    assert g is not None
    assert_close(g, np.zeros(2), dtype=ef.float32)


# -- "no gradient" runs no rule ---------------------------------------------------------------

def _counting_sin():
    """A throwaway op on the backend's sin kernel whose gradient rule counts its calls."""
    probe = OpDef("sin", family="test", kind="unary", nin=1, table=ef.sin.op.table)
    calls = []

    def rule(g, ans, x):
        calls.append(x.shape)
        return g * ef.cos(x)
    defvjp(probe, rule)
    return (lambda x: _dispatch.call_unary(probe, x)), calls


def test_a_branch_that_does_not_reach_the_target_runs_no_rule(device):
    probe, calls = _counting_sin()
    x = ef.constant([0.5, 1.0])
    with ef.GradientTape(persistent=True) as tape:
        tape.watch(x)
        dead = probe(x) * 3.0  # a branch the target never uses
        y = ef.sum(x * 2.0)
        used = ef.sum(probe(x))
    assert_close(tape.gradient(y, x), np.array([2.0, 2.0]), dtype=ef.float32)
    assert calls == []
    assert tape.gradient(y, dead, unconnected_gradients="zero") is not None
    assert calls == []
    assert_close(tape.gradient(used, x), np.cos([0.5, 1.0]), dtype=ef.float32)
    assert len(calls) == 1


def test_an_input_that_leads_to_no_source_runs_no_rule(device):
    probe, calls = _counting_sin()
    x, w = ef.constant(0.5), ef.constant(0.25)
    with ef.GradientTape(persistent=True) as tape:
        tape.watch([x, w])
        y = probe(w) * x  # probe's input leads to w, not to x
    assert abs(float(tape.gradient(y, x)) - np.sin(0.25)) < 1e-6
    assert calls == []
    assert abs(float(tape.gradient(y, w)) - 0.5 * np.cos(0.25)) < 1e-6
    assert len(calls) == 1


# -- Jacobians ---------------------------------------------------------------------------------

def test_jacobian_of_an_elementwise_function_is_diagonal(device):
    xs = np.array([0.5, -1.0, 2.0])
    x = ef.constant(xs, dtype=ef.float32)
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.sin(x) * x
    j = tape.jacobian(y, x)
    assert_close(j, np.diag(np.cos(xs) * xs + np.sin(xs)), dtype=ef.float32, shape=(3, 3))


def test_jacobian_shape_is_target_shape_plus_source_shape(device):
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    x, b = ef.ones((3, 1)), ef.constant([[0.5], [1.5]])
    other = ef.constant(1.0)
    with ef.GradientTape(persistent=True) as tape:
        tape.watch([x, b, other])
        y = ef.constant(a, dtype=ef.float32) @ x + b   # (2, 1)
    jx, jb, jo = tape.jacobian(y, [x, b, other])
    assert_close(jx, a.reshape(2, 1, 3, 1), dtype=ef.float32, shape=(2, 1, 3, 1))
    assert_close(jb, np.eye(2).reshape(2, 1, 2, 1), dtype=ef.float32)
    assert jo is None
    jz = tape.jacobian(y, other, unconnected_gradients="zero")
    assert_close(jz, np.zeros((2, 1)), dtype=ef.float32, shape=(2, 1))


@given(data=st.data())
def test_jacobian_of_x_squared_over_shapes(device, data):
    shape = data.draw(efst.shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    xs = data.draw(efst.arrays(ef.float64, shape))
    x = ef.constant(xs, dtype=ef.float64)
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    n = xs.size
    want = np.diag(2 * xs.reshape(-1)).reshape(shape + shape) if n else np.zeros(shape + shape)
    assert_close(tape.jacobian(y, x), want, dtype=ef.float64, shape=shape + shape)


def test_batch_jacobian_matches_per_example_closed_form(device):
    rng = np.random.default_rng(0)
    xs, w = rng.standard_normal((4, 3)), rng.standard_normal((2, 3))
    x = ef.constant(xs, dtype=ef.float32)
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.tanh(x) @ ef.constant(w.T, dtype=ef.float32)   # (4, 2); example b only sees x[b]
    bj = tape.batch_jacobian(y, x)  # called after the block, as usual
    assert bj is not None
    want = w[None, :, :] * (1 - np.tanh(xs) ** 2)[:, None, :]
    assert_close(bj, want, dtype=ef.float32, shape=(4, 2, 3))


def test_batch_jacobian_inside_the_block(device):
    xs = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    x = ef.constant(xs, dtype=ef.float32)
    with ef.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = ef.sin(x) * 2.0
        bj = tape.batch_jacobian(y, x)
    want = np.stack([np.diag(2 * np.cos(row)) for row in xs])
    assert_close(bj, want, dtype=ef.float32, shape=(3, 2, 2))


# -- nesting -----------------------------------------------------------------------------------

def test_nested_tapes_give_second_and_third_derivatives(device):
    x = ef.constant(2.0, dtype=ef.float64)
    with ef.GradientTape() as t3:
        t3.watch(x)
        with ef.GradientTape() as t2:
            t2.watch(x)
            with ef.GradientTape() as t1:
                t1.watch(x)
                y = x ** 4
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    assert (float(d1), float(d2), float(d3)) == (32.0, 48.0, 48.0)


def test_inner_tape_does_not_see_ops_before_it_started(device):
    x = ef.constant(3.0)
    with ef.GradientTape() as outer:
        outer.watch(x)
        h = x * x
        with ef.GradientTape() as inner:
            inner.watch(h)
            y = h * x
        assert float(inner.gradient(y, h)) == 3.0
    assert float(outer.gradient(y, x)) == 27.0


def test_nested_tapes_with_mixed_sin_cos(device):
    xs = np.array([0.3, 1.1])
    x = ef.constant(xs, dtype=ef.float64)
    with ef.GradientTape() as outer:
        outer.watch(x)
        with ef.GradientTape() as inner:
            inner.watch(x)
            y = ef.sum(ef.sin(x) * x)
        g = inner.gradient(y, x)
    h = outer.gradient(g, x)
    assert_close(g, np.cos(xs) * xs + np.sin(xs), dtype=ef.float64)
    assert_close(h, 2 * np.cos(xs) - xs * np.sin(xs), dtype=ef.float64)


# -- threads -----------------------------------------------------------------------------------

def _in_thread(fn):
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 -- re-raised in the test's thread
            box["error"] = exc
    th = threading.Thread(target=run)
    th.start()
    return th, box


def test_a_tape_does_not_record_ops_of_another_thread(device):
    x = ef.constant(2.0)
    go = threading.Event()

    def other():
        go.wait(10)
        with device:
            return x * 5.0

    with ef.GradientTape(persistent=True) as tape:
        tape.watch(x)
        th, box = _in_thread(other)
        before = tape.held_bytes()
        go.set()
        th.join(10)
        after = tape.held_bytes()
        y = x * 3.0
    assert "error" not in box
    assert after == before
    assert tape.gradient(box["value"], x) is None
    assert float(tape.gradient(y, x)) == 3.0


def test_a_tape_in_another_thread_does_not_record_this_threads_ops(device):
    x = ef.constant(2.0)
    opened, computed = threading.Event(), threading.Event()
    tape = ef.GradientTape(persistent=True)

    def other():
        with device, tape:
            tape.watch(x)
            opened.set()
            computed.wait(10)
            return x * 3.0

    th, box = _in_thread(other)
    opened.wait(10)
    assert not _dispatch.state.tapes  # no tape is active on this thread
    mine = x * 7.0
    computed.set()
    th.join(10)
    assert "error" not in box
    assert tape.gradient(mine, x) is None
    assert float(tape.gradient(box["value"], x)) == 3.0
