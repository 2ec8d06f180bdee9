"""Gradients, tapes and records are freed by reference counting alone (issue #9, item 5):
no reference cycle per call, so a training loop's memory stays flat without the cycle
collector."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

import eagerflow_core as ef


@pytest.fixture
def no_gc():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _cycles_after(fn) -> int:
    """How many objects the cycle collector finds after ``fn`` ran (0: refcounting freed all)."""
    gc.collect()
    fn()
    return gc.collect()


def _step(w, x):
    with ef.GradientTape() as tape:
        loss = ef.sum(ef.tanh(x @ w) ** 2)
    (g,) = tape.gradient(loss, [w])
    w.assign_sub(0.01 * g)


CALLS = {
    "tape.gradient (list of sources)": lambda w, x: _step(w, x),
    "tape.gradient (dict of sources)": lambda w, x: (lambda t: t.gradient(ef.sum(x @ w), {"w": w}))(
        _entered(w, x)),
    "ef.grad": lambda w, x: ef.grad(lambda v: ef.sum(ef.exp(x @ v)))(w.read_value()),
    "ef.value_and_grad has_aux": lambda w, x: ef.value_and_grad(
        lambda v: (ef.sum(x @ v), {"aux": v}), has_aux=True)(w.read_value()),
    "ef.vjp": lambda w, x: ef.vjp(lambda v: x @ v, w.read_value())[1](ef.ones((4, 3))),
    "ef.jvp": lambda w, x: ef.jvp(lambda v: ef.tanh(x @ v), (w.read_value(),), (ef.ones((5, 3)),)),
    "ef.hessian": lambda w, x: ef.hessian(lambda v: ef.sum(v ** 3))(ef.ones(3)),
    "custom_gradient": lambda w, x: ef.grad(_log1pexp)(ef.constant(1.0)),
    "nn cross-entropy": lambda w, x: ef.grad(lambda v: ef.sum(
        ef.nn.sparse_softmax_cross_entropy_with_logits(ef.constant([0, 1, 2, 0]), x @ v)))(
        w.read_value()),
}


def _entered(w, x):
    tape = ef.GradientTape()
    with tape:
        _ = w * 1.0
    tape.watch(w)
    return tape


@ef.custom_gradient
def _log1pexp(x):
    e = ef.exp(x)
    return ef.log(1 + e), lambda dy: dy * (1 - 1 / (1 + e))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_gradient_call_leaves_no_reference_cycle(no_gc, name):
    w = ef.Variable(np.random.default_rng(0).standard_normal((5, 3)))
    x = ef.constant(np.random.default_rng(1).standard_normal((4, 5)))
    CALLS[name](w, x)  # warm-up: caches, lazy imports
    assert _cycles_after(lambda: CALLS[name](w, x)) == 0


def test_a_training_loop_stays_flat_without_the_cycle_collector(no_gc):
    # A 16 MiB parameter: a cycle per step would keep every step's gradient alive.
    n = 2 ** 21
    w = ef.Variable(ef.zeros(n, dtype=ef.float64), dtype=ef.float64)
    x = ef.ones(n, dtype=ef.float64)
    for _ in range(3):
        _sgd(w, x)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for _ in range(40):
            _sgd(w, x)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    mib = 2 ** 20
    assert current - base < 1 * mib, f"{(current - base) / mib:.1f} MiB kept after 40 steps"
    # One step holds a few arrays of the parameter's size at once (w*x, the gradient...).
    assert peak - base < 8 * 16 * mib, f"peak {(peak - base) / mib:.0f} MiB above the start"


def _sgd(w, x):
    with ef.GradientTape() as tape:
        loss = ef.sum(w * x * w)
    (g,) = tape.gradient(loss, [w])
    w.assign_sub(0.001 * g)
