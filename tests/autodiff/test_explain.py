"""Why is my gradient None? (issue #3): integer sources raise, and ``tape.explain`` names the
cause in one sentence for each way a gradient goes missing."""

from __future__ import annotations

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core._errors import DTypeError

# -- integer and bool sources -------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [ef.int32, ef.int64, ef.uint8, ef.bool])
def test_integer_and_bool_sources_raise_dtype_error(device, dtype):
    x = ef.ones((2,), dtype=dtype)
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.sum(ef.astype(x, ef.float32) * 2.0)
    with pytest.raises(DTypeError, match=rf"source has dtype {dtype.name}.*no gradient.*ef\.astype"):
        tape.gradient(y, x)


def test_an_integer_source_among_others_raises(device):
    x, i = ef.constant(1.0), ef.constant(3)
    with ef.GradientTape() as tape:
        tape.watch([x, i])
        y = x * 2.0
    with pytest.raises(DTypeError, match="int64"):
        tape.gradient(y, {"x": x, "i": i})


def test_integer_variable_source_raises(device):
    v = ef.Variable(ef.constant([1, 2], dtype=ef.int32))
    with ef.GradientTape() as tape:
        y = v * 2
    with pytest.raises(DTypeError, match="int32"):
        tape.gradient(y, v)


def test_grad_of_an_integer_argument_raises(device):
    with pytest.raises(DTypeError, match="(?i)int64.*cast"):
        ef.grad(lambda x: x * 2.0)(2)
    assert float(ef.grad(lambda x: x * 2.0)(2.0)) == 2.0


# -- explain ------------------------------------------------------------------------------------

def _explained(build, *, watch=True):
    """(explanation, gradient) of the target ``build(x)`` w.r.t. a float source x."""
    x = ef.constant([1.0, 2.0])
    with ef.GradientTape(persistent=True) as tape:
        if watch:
            tape.watch(x)
        y = build(x)
    return tape.explain(y, x), tape.gradient(y, x)


def test_explain_connected_says_the_gradient_flows(device):
    why, g = _explained(lambda x: ef.sum(ef.sin(x) * 2.0))
    assert g is not None
    assert "gradient flows" in why and "depends on the source" in why


def test_explain_target_is_the_source(device):
    why, g = _explained(lambda x: x)
    assert g is not None and "source itself" in why


def test_explain_unwatched_source(device):
    why, g = _explained(lambda x: x * 2.0, watch=False)
    assert g is None
    assert "never watched" in why and "tape.watch(x)" in why


def test_explain_target_not_connected(device):
    w = ef.constant(5.0)
    x = ef.constant(1.0)
    with ef.GradientTape() as tape:
        tape.watch([x, w])
        x * 3.0
        y = w * 2.0
    assert "does not depend on the source" in tape.explain(y, x)


def test_explain_target_computed_outside_the_tape(device):
    x = ef.constant(1.0)
    with ef.GradientTape() as tape:
        tape.watch(x)
    y = x * 2.0
    assert "not computed from the source while this tape was recording" in tape.explain(y, x)


def test_explain_integer_source(device):
    i = ef.constant([1, 2])
    with ef.GradientTape() as tape:
        tape.watch(i)
        y = ef.astype(i, ef.float32) * 2.0
    why = tape.explain(y, i)
    assert "int64" in why and "no gradient" in why and "cast" in why


def test_explain_values_that_left_through_numpy(device):
    why, g = _explained(lambda x: ef.sum(ef.constant(x.numpy() * 2.0)))
    assert g is None
    assert "numpy()" in why and "not recorded" in why


@pytest.mark.parametrize("then", [False, True], ids=["as-target", "then-more-ops"])
def test_explain_stop_gradient_on_the_way(device, then):
    def build(x):
        y = ef.stop_gradient(x * x)
        return ef.sum(y * 3.0) if then else y
    why, g = _explained(build)
    assert g is None
    assert "stop_gradient" in why
    assert "not computed from the source" not in why  # it was: a stop_gradient cut it


@pytest.mark.parametrize("then", [False, True], ids=["as-target", "then-more-ops"])
@pytest.mark.parametrize("op", ["argmax", "floor"])
def test_explain_op_without_a_gradient_on_the_way(device, op, then):
    def build(x):
        y = getattr(ef, op)(x * 2.0)
        return ef.astype(y, ef.float32) * 2.0 + 1.0 if then else y
    why, g = _explained(build)
    assert g is None
    assert f"'{op}'" in why and "no gradient" in why
    assert "not computed from the source" not in why  # it was: through an op with no gradient


def test_explain_does_not_blame_a_blocked_op_on_another_path(device):
    x, w = ef.constant(1.5), ef.constant(2.5)
    with ef.GradientTape() as tape:
        tape.watch([x, w])
        ef.floor(w)          # blocked, but on w's path, not x's
        y = w * 2.0 + 0.0 * ef.sum(ef.zeros(1))
    why = tape.explain(y, x)
    assert "does not depend on the source" in why or "not connected" in why
    assert "floor" not in why


def test_explain_variables(device):
    frozen = ef.Variable(1.0, trainable=False, name="frozen")
    unread = ef.Variable(1.0, name="unread")
    used = ef.Variable(np.float32(2.0), name="used")
    with ef.GradientTape(persistent=True) as tape:
        y = frozen * used * 3.0
    assert "'frozen'" in tape.explain(y, frozen) and "not trainable" in tape.explain(y, frozen)
    assert "'unread'" in tape.explain(y, unread) and "never read" in tape.explain(y, unread)
    assert "gradient flows" in tape.explain(y, used) and "'used'" in tape.explain(y, used)
    hidden = ef.Variable(1.0, name="hidden")
    with ef.GradientTape(watch_accessed_variables=False) as tape:
        z = hidden * 2.0
    why = tape.explain(z, hidden)
    assert "watch_accessed_variables=False" in why and "tape.watch(v)" in why


def test_explain_answers_match_the_gradients(device):
    """Each explanation agrees with what gradient() returns for the same pair."""
    x, w = ef.constant(1.0), ef.constant(2.0)
    with ef.GradientTape(persistent=True) as tape:
        tape.watch([x, w])
        flows = x * w
        cut = ef.stop_gradient(x) * w
    assert tape.gradient(flows, x) is not None and "gradient flows" in tape.explain(flows, x)
    assert tape.gradient(cut, x) is None and "gradient flows" not in tape.explain(cut, x)
    assert tape.gradient(cut, w) is not None and "gradient flows" in tape.explain(cut, w)
