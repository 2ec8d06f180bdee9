"""ef.Variable (issue #3): assignable named state that behaves as a tensor in ops, and that
gradient tapes watch when it is read."""

from __future__ import annotations

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core._errors import ShapeError
from eagerflow_core.testing import assert_close

# -- state ----------------------------------------------------------------------------------------

def test_attributes_and_names(device):
    v = ef.Variable([[1.0, 2.0, 3.0]], name="kernel")
    assert (v.name, v.trainable) == ("kernel", True)
    assert (v.shape, v.dtype, v.ndim, v.size) == ((1, 3), ef.float32, 2, 3)
    assert v.device == device
    assert "kernel" in repr(v) and "float32" in repr(v)
    a, b = ef.Variable(1.0), ef.Variable(1.0)
    assert a.name != b.name and a.name.startswith("Variable")
    frozen = ef.Variable(ef.zeros(2, dtype=ef.float64), trainable=False, dtype=ef.float64)
    assert frozen.trainable is False and frozen.dtype == ef.float64


def test_assign_assign_add_assign_sub_and_read_value(device):
    v = ef.Variable([1.0, 2.0])
    assert v.assign([3.0, 4.0]) is v
    assert_close(v.read_value(), np.array([3.0, 4.0]), dtype=ef.float32)
    assert v.assign_add(ef.constant([1.0, 1.0])) is v
    assert_close(v.value(), np.array([4.0, 5.0]), dtype=ef.float32)
    assert v.assign_sub(ef.constant([0.5, 0.5])) is v
    assert_close(v.read_value(), np.array([3.5, 4.5]), dtype=ef.float32)
    v.assign_sub(0.5)
    assert_close(v.read_value(), np.array([3.0, 4.0]), dtype=ef.float32)
    v.assign_add(0.5)
    v.assign_add(ef.Variable([0.5, 0.5]))
    assert_close(v.read_value(), np.array([4.0, 5.0]), dtype=ef.float32)
    assert isinstance(v.read_value(), ef.Tensor)


def test_assign_add_and_assign_sub_take_what_assign_takes(device):
    # assign takes a list, so do its siblings (the class docstring shows assign_sub([...])).
    v = ef.Variable([1.0, 2.0])
    v.assign_add([1.0, 1.0])
    v.assign_sub(np.array([0.5, 0.5]))
    assert_close(v.read_value(), np.array([1.5, 2.5]), dtype=ef.float32)


def test_assign_casts_to_the_variables_dtype(device):
    v = ef.Variable(ef.zeros(2, dtype=ef.float64), dtype=ef.float64)
    v.assign(ef.constant([1.0, 2.0], dtype=ef.float32))
    assert v.dtype == ef.float64
    assert_close(v.read_value(), np.array([1.0, 2.0]), dtype=ef.float64)


def test_assign_shape_mismatch_raises(device):
    v = ef.Variable([1.0, 2.0], name="bias")
    with pytest.raises(ShapeError, match=r"'bias' has shape \(2,\).*new value has shape \(3,\)"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(ShapeError, match=r"shape \(2,\)"):
        v.assign_add(ef.ones((2, 2)))
    assert_close(v.read_value(), np.array([1.0, 2.0]), dtype=ef.float32)  # unchanged


def test_a_value_read_earlier_never_changes(device):
    v = ef.Variable([1.0, 2.0])
    before = v.read_value()
    v.assign([5.0, 6.0])
    v.assign_add(ef.constant([1.0, 1.0]))
    assert_close(before, np.array([1.0, 2.0]), dtype=ef.float32)
    snapshot = v.read_value()
    v[0] = 100.0
    assert_close(v.read_value(), np.array([100.0, 7.0]), dtype=ef.float32)
    assert_close(snapshot, np.array([6.0, 7.0]), dtype=ef.float32)


def test_a_variable_does_not_alias_its_initial_value_or_assigned_tensors(device):
    x = ef.constant([1.0, 2.0])
    v = ef.Variable(x)
    v[0] = 9.0
    v.assign_add(ef.ones(2))
    assert_close(x, np.array([1.0, 2.0]), dtype=ef.float32)
    t = ef.constant([3.0, 4.0])
    v.assign(t)
    v[1] = 0.0
    t[0] = -1.0
    assert_close(t, np.array([-1.0, 4.0]), dtype=ef.float32)
    assert_close(v.read_value(), np.array([3.0, 0.0]), dtype=ef.float32)


# -- a Variable is a tensor in ops ------------------------------------------------------------

def test_behaves_as_a_tensor_in_ops_and_operators(device):
    v = ef.Variable([[1.0, 2.0], [3.0, 4.0]])
    w = ef.Variable([[0.0, 1.0], [1.0, 0.0]])
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert_close(v + 1, m + 1, dtype=ef.float32)
    assert_close(1 - v, 1 - m, dtype=ef.float32)
    assert_close(v * v, m * m, dtype=ef.float32)
    assert_close(v / 2, m / 2, dtype=ef.float32)
    assert_close(v ** 2, m ** 2, dtype=ef.float32)
    assert_close(-v, -m, dtype=ef.float32)
    assert_close(v @ w, m @ np.array([[0.0, 1.0], [1.0, 0.0]]), dtype=ef.float32)
    assert_close(ef.ones((2, 2)) @ v, np.ones((2, 2)) @ m, dtype=ef.float32)
    assert_close(v.T, m.T, dtype=ef.float32)
    assert_close(ef.sum(v), np.asarray(10.0), dtype=ef.float32)
    assert_close(ef.sum(v, axis=0), m.sum(0), dtype=ef.float32)
    assert_close(ef.sin(v), np.sin(m), dtype=ef.float32)
    assert_close(ef.add(v, w), m + np.array([[0.0, 1.0], [1.0, 0.0]]), dtype=ef.float32)
    assert_close(v[0], m[0], dtype=ef.float32)
    assert_close(v[:, 1], m[:, 1], dtype=ef.float32)
    assert_close(v > 2.0, m > 2.0, dtype=ef.bool)
    assert len(v) == 2 and [r.shape for r in v] == [(2,), (2,)]
    assert float(v[1, 1]) == 4.0
    np.testing.assert_array_equal(np.asarray(v), m.astype(np.float32))
    assert v.astype(ef.float64).dtype == ef.float64
    assert {v: 1}[v] == 1  # hashable by identity (optimizer slots are keyed by Variables)


def test_int8_variable_sum_does_not_overflow(device):
    v = ef.Variable(ef.constant([100, 100, 100], dtype=ef.int8))
    s = ef.sum(v)
    assert s.dtype == ef.int64
    assert int(s) == 300


# -- Variables on tapes -------------------------------------------------------------------------

def test_trainable_variables_are_watched_when_read(device):
    w = ef.Variable([1.0, 2.0], name="w")
    b = ef.Variable(0.5, name="b")
    x = ef.constant([3.0, 4.0])
    with ef.GradientTape() as tape:
        y = ef.sum(w * x) + b * b
    gw, gb = tape.gradient(y, [w, b])
    assert_close(gw, np.array([3.0, 4.0]), dtype=ef.float32)
    assert float(gb) == 1.0
    assert [v.name for v in tape.watched_variables()] == ["w", "b"]


def test_watched_variables_come_in_first_read_order(device):
    a, b, c = ef.Variable(1.0, name="a"), ef.Variable(2.0, name="b"), ef.Variable(3.0, name="c")
    with ef.GradientTape() as tape:
        y = c * b
        y = y * a * c
    assert [v.name for v in tape.watched_variables()] == ["c", "b", "a"]


def test_variables_read_before_the_tape_are_watched_when_read_inside(device):
    w = ef.Variable(2.0)
    outside = w * 3.0
    with ef.GradientTape(persistent=True) as tape:
        inside = w * 3.0
    assert tape.gradient(outside, w) is None
    assert float(tape.gradient(inside, w)) == 3.0


def test_non_trainable_variables_are_not_watched(device):
    w = ef.Variable(2.0, trainable=False)
    with ef.GradientTape() as tape:
        y = w * w
    assert tape.gradient(y, w) is None
    assert tape.watched_variables() == ()
    with ef.GradientTape() as tape:
        tape.watch(w)  # explicitly
        y = w * w
    assert float(tape.gradient(y, w)) == 4.0


def test_watch_accessed_variables_false(device):
    w, u = ef.Variable(2.0), ef.Variable(5.0)
    with ef.GradientTape(watch_accessed_variables=False, persistent=True) as tape:
        tape.watch(u)
        y = w * w + u * u
    assert tape.gradient(y, w) is None
    assert float(tape.gradient(y, u)) == 10.0
    assert tape.watched_variables() == (u,)
    z = tape.gradient(y, [w, u], unconnected_gradients="zero")
    assert (float(z[0]), float(z[1])) == (0.0, 10.0)


def test_gradient_sums_over_every_read_and_assign_is_not_differentiated(device):
    v = ef.Variable(2.0)
    with ef.GradientTape() as tape:
        first = v * 1.0      # read 1: value 2
        v.assign_add(1.0)    # a new value, not a function of the old on the tape
        y = first * v        # read 2: value 3
    # dy/d(read1) = 3, dy/d(read2) = 2
    assert float(tape.gradient(y, v)) == 5.0


def test_grad_of_a_function_of_a_variable_argument(device):
    v = ef.Variable([1.0, 2.0])
    g = ef.grad(lambda p: ef.sum(p * p * p))(v)
    assert_close(g, np.array([3.0, 12.0]), dtype=ef.float32)


def test_variable_gradients_through_matmul_and_broadcast_bias(device):
    rng = np.random.default_rng(1)
    xs, ws, bs = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    w = ef.Variable(ws, dtype=ef.float64)
    b = ef.Variable(bs, dtype=ef.float64)
    with ef.GradientTape() as tape:
        y = ef.sum(ef.sin(ef.constant(xs, dtype=ef.float64) @ w + b))
    gw, gb = tape.gradient(y, (w, b))
    c = np.cos(xs @ ws + bs)
    assert_close(gw, xs.T @ c, dtype=ef.float64, shape=(3, 2))
    assert_close(gb, c.sum(0), dtype=ef.float64, shape=(2,))
