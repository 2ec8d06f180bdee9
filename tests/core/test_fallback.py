"""The fallback policy: error by default, warn/silent run elsewhere, always counted."""

from __future__ import annotations

import types
import warnings

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core.plugins import (ArrayAPIBackend, hookimpl, register_plugin,
                                    unregister_plugin)

MISSING = ("exp", "concat", "sum", "matmul", "zeros")


class Partial(ArrayAPIBackend):
    name, device_type, namespace, array_type = "partial", "partial", np, np.ndarray

    def kernels(self):
        table = super().kernels()
        for name in MISSING:
            del table[name]
        return table


@pytest.fixture
def partial():
    ef.set_fallback_policy(None)
    ef.reset_fallback_stats()
    register_plugin(types.SimpleNamespace(eagerflow_backend=hookimpl(lambda: Partial())), "partial")
    try:
        yield ef.device("partial")
    finally:
        ef.set_fallback_policy(None)
        unregister_plugin("partial")


def test_default_policy_raises_naming_op_backend_and_dtype(partial, monkeypatch):
    monkeypatch.delenv("EAGERFLOW_FALLBACK", raising=False)
    x = ef.asarray([1.0, 2.0], device=partial)
    with pytest.raises(ef.KernelNotFoundError, match=r"exp: backend 'partial'.*float32\[2\] on partial:0"):
        ef.exp(x)
    with pytest.raises(NotImplementedError, match="EAGERFLOW_FALLBACK=warn"):
        ef.matmul(ef.ones((2, 2), device=partial), ef.ones((2, 2), device=partial))
    assert ef.fallback_stats() == {}


@pytest.mark.parametrize("policy", ["warn", "silent"])
def test_fallback_runs_elsewhere_and_counts(partial, policy, monkeypatch):
    monkeypatch.setenv("EAGERFLOW_FALLBACK", policy)
    x = ef.asarray([1.0, 2.0], device=partial)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = ef.exp(x)
        ef.exp(x)
        c = ef.concat([x, x])
        s = ef.sum(x, axis=0)
        z = ef.zeros(3, device=partial)
    for t in (y, c, s, z):
        assert t.device == partial  # the results come back to the caller's device
    np.testing.assert_allclose(y.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)
    np.testing.assert_array_equal(c.numpy(), [1, 2, 1, 2])
    assert s.item() == 3.0 and z.shape == (3,)
    stats = ef.fallback_stats()
    assert stats[("exp", "partial", "numpy")] == 2
    assert stats[("concat", "partial", "numpy")] == 1
    ours = [w for w in caught if issubclass(w.category, ef.FallbackWarning)]
    if policy == "warn":  # once per op, not per call
        assert sorted(str(w.message).split("'")[3] for w in ours) == ["concat", "exp", "sum", "zeros"]
    else:
        assert ours == []


def test_gradients_flow_through_a_fallback(partial):
    ef.set_fallback_policy("silent")
    x = ef.asarray([0.5, 1.5], device=partial)
    g = ef.grad(lambda x: ef.sum(ef.exp(x) * x))(x)
    assert g.device == partial
    np.testing.assert_allclose(g.numpy(), np.exp([0.5, 1.5]) * (1 + np.array([0.5, 1.5])), rtol=1e-6)


def test_explain_dispatch(partial):
    x = ef.asarray([1.0], device=partial)
    assert "NO kernel" in ef.explain_dispatch(ef.exp, x)
    assert "raises KernelNotFoundError" in ef.explain_dispatch("exp", x)
    ef.set_fallback_policy("warn")
    assert "runs on cpu:0 ('numpy')" in ef.explain_dispatch(ef.exp, x)
    text = ef.explain_dispatch(ef.add, ef.ones(2, dtype=ef.int8), 2.5)
    assert "kernel numpy.add" in text and "result dtype float32" in text
    assert "DeviceError" in ef.explain_dispatch(ef.add, x, ef.ones(1))


def test_bad_policy_is_a_clear_error(monkeypatch, partial):
    with pytest.raises(ValueError, match="use one of error, warn, silent"):
        ef.set_fallback_policy("sometimes")
    monkeypatch.setenv("EAGERFLOW_FALLBACK", "maybe")
    with pytest.raises(ValueError, match="EAGERFLOW_FALLBACK='maybe'"):
        ef.exp(ef.asarray([1.0], device=partial))
