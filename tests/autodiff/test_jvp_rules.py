"""Forward-mode (JVP) rules against the reverse-mode (VJP) rules, op by op.

For an op f at a drawn input x, a JVP rule maps an input tangent t to J t and the VJP rules
map an output cotangent u to J^T u (the conjugate of J for complex inputs). For random t and
u the two must pair: ``<u, J t> == <J^T u, t>``, with the real inner product
``Re sum(conj(a) * b)``. The VJP rules are checked against central differences by the
conformance kit, so this ties every JVP rule to the true derivative, at complex inputs too.

The rules are called by hand here (``op.jvp`` on the op's own inputs and params, captured at
the dispatcher's seam), so this test needs no forward-mode interpreter.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core._dispatch import call, call_binary, call_unary, eager
from eagerflow_core._registry import OPS
from eagerflow_core._state import state
from eagerflow_core.ops import _rules as R
from eagerflow_core.testing.opdb import OPDB

JVP_OPS = sorted(n for n, op in OPS.items() if op.jvp is not None)
# Half the profile's examples: every op runs twice (real and complex samples).
few = settings(settings.default, max_examples=max(5, settings.default.max_examples // 2),
               deadline=None, suppress_health_check=list(HealthCheck))

# Ops the brief of issue #10 asks forward rules for: the elementwise, reduction, shape and
# matmul families.
REQUIRED = {
    # elementwise: every differentiable unary and binary op, and clip
    *(n for n, op in OPS.items() if op.kind in ("unary", "binary") and op.differentiable),
    "clip",
    # reductions
    "sum", "prod", "mean", "max", "min", "var", "std", "cumulative_sum", "cumulative_prod",
    # shapes
    "reshape", "broadcast_to", "broadcast_arrays", "concat", "stack", "unstack", "expand_dims",
    "squeeze", "permute_dims", "moveaxis", "flip", "roll", "repeat", "tile", "getitem",
    "setitem", "take", "take_along_axis", "where", "astype", "matrix_transpose", "tril", "triu",
    "diff",
    # products
    "matmul", "tensordot", "vecdot", "linalg.outer", "linalg.trace", "linalg.diagonal",
}

# Differentiable ops without a JVP rule: forward mode differentiates them by transposing
# their VJP (two reverse passes over the op). Adding a name here is a decision: say why.
NO_JVP_RULE = {
    # Decompositions with vector outputs: their forward rules are as long as the reverse
    # ones, and no forward-over-reverse product (HVP) in this code base goes through them.
    # (eigvalsh and svdvals, values only, have short forward rules.)
    "linalg.cholesky", "linalg.eigh", "linalg.qr", "linalg.svd",
    # The pseudo-inverse: Golub & Pereyra's three terms again, for the same reason.
    "linalg.pinv",
}


def test_the_families_have_forward_rules():
    missing = sorted(n for n in REQUIRED if OPS[n].jvp is None)
    assert not missing, f"no JVP rule for {missing}"


def test_ops_without_a_forward_rule_are_the_listed_ones():
    differentiable = {n for n, op in OPS.items() if op.differentiable and op.vjp is not None}
    without = {n for n in differentiable if OPS[n].jvp is None}
    assert without == NO_JVP_RULE, (
        f"new ops without a JVP rule: {sorted(without - NO_JVP_RULE)}; ops that now have one "
        f"(remove them from NO_JVP_RULE): {sorted(NO_JVP_RULE - without)}")
    assert not NO_JVP_RULE & REQUIRED


def test_every_forward_rule_has_samples():
    unsampled = [n for n in JVP_OPS if n not in OPDB and _hand_sample(n) is None]
    assert not unsampled, f"JVP rules with no op database entry to test them on: {unsampled}"


# -- the pairing check -------------------------------------------------------------------------

class _Capture:
    """An interpreter that evaluates every op eagerly and keeps the last call of one op (its
    inputs and params as the public function normalised them)."""

    parent = None

    def __init__(self, op):
        self.op = op
        self.seen = None

    def process(self, op, inputs, params, device):
        if op is self.op:
            self.seen = (tuple(inputs), dict(params))
        return eager(op, inputs, params, device)


def _captured(op, fn, args, kwargs):
    cap = _Capture(op)
    top, state.interp = state.interp, cap
    try:
        fn(*args, **kwargs)
    finally:
        state.interp = top
    assert cap.seen is not None, f"calling the op database's function did not call {op.name}"
    return cap.seen


def _tensors(value):
    """A sample's NumPy arrays (also inside lists and tuples) as tensors of their dtype."""
    if isinstance(value, np.ndarray):
        return ef.asarray(value)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_tensors(v) for v in value)
    if isinstance(value, dict):
        return {k: _tensors(v) for k, v in value.items()}
    return value


def _apply(op, inputs, params):
    """The op through the dispatcher's seam (where a tape sees it)."""
    if op.kind == "unary":
        return call_unary(op, inputs[0])
    if op.kind == "binary":
        return call_binary(op, inputs[0], inputs[1])
    return call(op, inputs, params)


def _outs(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]


def _random(rng, t):
    host = rng.standard_normal(t.shape)
    if t.dtype.kind == "c":
        host = host + 1j * rng.standard_normal(t.shape)
    return ef.asarray(host, dtype=t.dtype)


def _jvp(op, tangents, ans, inputs, params):
    """The output tangent(s) by the op's JVP rules: a list per output, None for none."""
    kind, rules = op.jvp
    n_out = len(_outs(ans))
    if kind == "all":
        out = rules(tangents, ans, *inputs, **params)
        return [None] * n_out if out is None else _outs(out)
    total = [None] * n_out
    for i, (t, rule) in enumerate(zip(tangents, rules)):
        if t is None or rule is None:
            continue
        part = rule(t, ans, *inputs, **params)
        if part is None:
            continue
        parts = _outs(part)
        assert len(parts) == n_out, f"input {i}'s rule gave {len(parts)} tangents, not {n_out}"
        total = [p if s is None else s if p is None else s + p for s, p in zip(total, parts)]
    return total


def _inner(a, b) -> float:
    return float(np.vdot(np.asarray(a), np.asarray(b)).real)


def _finite(ts) -> bool:
    return all(t is None or bool(np.all(np.isfinite(t.numpy()))) for t in ts)


def _tolerance(inputs, outs) -> float:
    """1e-9 in float64; looser where a sample holds a lower-precision tensor (astype's)."""
    dtypes = [t.dtype for t in list(inputs) + outs if isinstance(t, ef.Tensor)]
    eps = max((ef.finfo(d).eps for d in dtypes if d.kind in "fc"), default=0.0)
    return max(1e-9, 100 * eps)


def _check_pairing(name, inputs, params, seed=0) -> bool:
    """Check the pairing at one point; False if there was nothing to check (no floating
    input, or a value or gradient that is not finite there)."""
    op = OPS[name]
    rng = np.random.default_rng(seed)
    ans = eager(op, inputs, params)
    outs = _outs(ans)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, ef.Tensor) and x.dtype.kind in "fc"]
    if not wrt or not outs or not _finite(outs):
        return False
    tangents = [_random(rng, x) if i in wrt else None for i, x in enumerate(inputs)]
    forward = _jvp(op, tangents, ans, inputs, params)
    assert len(forward) == len(outs), f"{len(forward)} tangents for {len(outs)} outputs"
    for j, (t, o) in enumerate(zip(forward, outs)):
        if t is None:
            continue
        assert isinstance(t, ef.Tensor), f"output {j}'s tangent is a {type(t).__name__}"
        assert np.broadcast_shapes(t.shape, o.shape) == o.shape, (
            f"output {j}'s tangent has shape {t.shape}, which does not broadcast to the "
            f"output's {o.shape}")
        assert o.dtype.kind == "c" or t.dtype.kind != "c", (
            f"output {j} is {o.dtype} but its tangent is {t.dtype}")
    us = [_random(rng, o) if o.dtype.kind in "fc" else None for o in outs]
    with ef.GradientTape() as tape:
        for i in wrt:
            tape.watch(inputs[i])
        again = _outs(_apply(op, inputs, params))
    kept = [k for k, u in enumerate(us) if u is not None]
    grads = tape.gradient([again[k] for k in kept], [inputs[i] for i in wrt],
                          output_gradients=[us[k] for k in kept], unconnected_gradients="zero")
    if not _finite(grads):
        return False
    lhs = [_inner(us[k], np.broadcast_to(forward[k].numpy(), outs[k].shape))
           for k in kept if forward[k] is not None]
    rhs = [_inner(g, tangents[i]) for g, i in zip(grads, wrt)]
    scale = 1.0 + sum(abs(v) for v in lhs + rhs)
    assert abs(sum(lhs) - sum(rhs)) <= _tolerance(inputs, outs) * scale, (
        f"{name}: <u, jvp(t)> = {sum(lhs)!r} but <vjp(u), t> = {sum(rhs)!r}; input shapes "
        f"{[getattr(x, 'shape', x) for x in inputs]}, params {params}")
    return True


def _to_device_sample():
    x = ef.asarray(np.linspace(-1.0, 1.0, 6).reshape(2, 3))
    return (x,), {"device": x.device}


# Ops with a JVP rule but no op database entry (they need no kernel): inputs by hand.
HAND_SAMPLES = {"to_device": _to_device_sample}


def _hand_sample(name):
    """The hand-made sample of an op without an op database entry; one-input ops that keep
    the input's shape and take no params get a float64 tensor."""
    if name in HAND_SAMPLES:
        return HAND_SAMPLES[name]
    op = OPS[name]
    if op.nin == 1 and op.shape_rule is R.same_shape and not op.posparams:
        return lambda: ((ef.asarray(np.linspace(-1.0, 1.0, 6).reshape(2, 3)),), {})
    return None


def _strategy(name, kind):
    info = OPDB[name]
    if kind == "float64":
        return (info.grad_samples or info.samples)(ef.float64)
    return info.samples(ef.complex128)


# Each op on its float64 gradient samples, and on complex128 samples where it takes them.
CASES = [(n, kind) for n in JVP_OPS if n in OPDB
         for kind in ("float64", "complex128") if kind == "float64" or kind in OPDB[n].dtypes]


@pytest.mark.parametrize("name,kind", CASES, ids=[f"{k}-{n}" for n, k in CASES])
# Complex samples may sit at a pole of the derivative (sqrt at 0): such a sample is skipped.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_jvp_pairs_with_vjp(name, kind):
    strategy = _strategy(name, kind)
    info, op = OPDB[name], OPS[name]
    checked = []

    @few
    @given(sample=strategy)
    def check(sample):
        args, kwargs = _tensors(sample.args), _tensors(sample.kwargs)
        inputs, params = _captured(op, info.fn, args, kwargs)
        checked.append(_check_pairing(name, inputs, params))
    check()
    assert any(checked), f"{name}: no {kind} sample had a finite value and gradient to check"


@pytest.mark.parametrize("name", [n for n in JVP_OPS if n not in OPDB and _hand_sample(n)])
def test_jvp_pairs_with_vjp_by_hand(name):
    inputs, params = _hand_sample(name)()
    assert _check_pairing(name, inputs, params)


def _a(*values, dtype=ef.float64):
    return ef.asarray(np.array(values), dtype=dtype)


# Points the op database's gradient samples keep away from (ties, zeros, constant slices,
# Python scalar operands, long scans), where the rules still have to agree with each other.
EDGES = [
    ("max", ef.max, (_a([1.0, 3.0, 3.0], [2.0, 2.0, 0.0]),), {"axis": 1}),
    ("min", ef.min, (_a([1.0, 1.0], [1.0, 4.0]),), {}),
    ("maximum", ef.maximum, (_a(1.0, 2.0, 3.0), _a(1.0, 5.0, 3.0)), {}),
    ("minimum", ef.minimum, (_a(1.0, 2.0, 3.0), 2.0), {}),
    ("prod", ef.prod, (_a([0.0, 2.0, 3.0], [0.0, 0.0, 1.5]),), {"axis": 1}),
    ("prod", ef.prod, (_a([0.0, 2.0], [1.5, -1.0]),), {}),
    ("cumulative_prod", ef.cumulative_prod, (_a(0.5, 0.0, 2.0, -1.5, 0.0, 3.0, 1.25, 2.0),),
     {"include_initial": True}),
    ("cumulative_prod", ef.cumulative_prod, (_a(1.5, 0.5, -2.0, 1.0, 0.75),), {}),
    ("cumulative_prod", ef.cumulative_prod, (_a([[1.5, 0.0, 2.0], [0.5, 3.0, -1.0]]),),
     {"axis": 0}),
    ("std", ef.std, (_a([1.0, 1.0, 1.0], [1.0, 2.0, 4.0]),), {"axis": 1}),
    ("clip", ef.clip, (_a(1.0, 5.0, -3.0),), {"max": _a(3.0, 3.0, 3.0)}),
    ("clip", ef.clip, (_a(1.0, 5.0, -3.0),), {"min": _a(0.0, 1.0, -1.0), "max": _a(3.0)}),
    ("pow", ef.pow, (2.0, _a(0.5, -1.0, 2.0)), {}),
    ("pow", ef.pow, (2.0, _a(0.5 + 1j, -1.0 - 0.5j, dtype=ef.complex128)), {}),
    ("pow", ef.pow, (-2.0, _a(1.0, 2.0, -3.0)), {}),
    ("pow", ef.pow, (_a(0.0, 1.5, 2.0), 3.0), {}),
    ("where", ef.where, (_a(True, False, True, dtype=ef.bool), _a(1.0, 2.0, 3.0), 0.0), {}),
    ("where", ef.where, (True, _a(1.0, 2.0), _a(3.0, 4.0)), {}),
    ("abs", ef.abs, (_a(0j, 3 + 4j, -1j, dtype=ef.complex128),), {}),
    ("sign", ef.sign, (_a(0j, 3 + 4j, -1j, dtype=ef.complex128),), {}),
    ("real", ef.real, (_a(1 + 2j, -1j, dtype=ef.complex128),), {}),
    ("imag", ef.imag, (_a(1 + 2j, -1j, dtype=ef.complex128),), {}),
    ("conj", ef.conj, (_a(1 + 2j, -1j, dtype=ef.complex128),), {}),
    ("multiply", ef.multiply, (_a(1.0, 2.0), _a(1 + 1j, 2 - 1j, dtype=ef.complex128)), {}),
    ("add", ef.add, (_a([1.0, 2.0]), _a([[1.0], [2.0], [3.0]])), {}),
    ("vecdot", ef.vecdot, (_a([1 + 1j, 2j], dtype=ef.complex128),
                           _a([1 - 2j, 0.5], dtype=ef.complex128)), {}),
    ("linalg.vector_norm", ef.linalg.vector_norm, (_a([3.0, -3.0, 1.0]),), {"ord": float("inf")}),
    ("linalg.vector_norm", ef.linalg.vector_norm, (_a([[3.0, -1.0], [0.5, 2.0]]),),
     {"ord": 3, "axis": 0, "keepdims": True}),
    ("linalg.vector_norm", ef.linalg.vector_norm, (_a(1 + 1j, -2j, dtype=ef.complex128),), {}),
    ("linalg.matrix_norm", ef.linalg.matrix_norm, (_a([[1.0, -2.0], [3.0, 0.5]]),),
     {"ord": 1}),
    ("linalg.matrix_norm", ef.linalg.matrix_norm, (_a([[1.0, -2.0], [3.0, 0.5]]),),
     {"ord": "nuc"}),
    ("linalg.matrix_power", ef.linalg.matrix_power, (_a([[2.0, 1.0], [0.5, 3.0]]), -3), {}),
    ("linalg.matrix_power", ef.linalg.matrix_power, (_a([[2.0, 1.0], [0.5, 3.0]]), 0), {}),
    ("linalg.solve", ef.linalg.solve, (_a([[[2.0, 1.0], [0.5, 3.0]], [[1.0, 0.0], [1.0, 4.0]]]),
                                       _a(1.0, -2.0)), {}),
    ("linalg.slogdet", ef.linalg.slogdet, (_a([[2.0, 1j], [0.5, 3.0 - 1j]],
                                              dtype=ef.complex128),), {}),
    ("repeat", ef.repeat, (_a([1.0, 2.0], [3.0, 4.0]), ef.asarray([2, 0])), {"axis": 1}),
    ("setitem", lambda x, v: _setitem_copy(x, (0, slice(1, None)), v),
     (_a([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]), 7.0), {}),
    ("concat", ef.concat, ([_a(1.0, 2.0), ef.asarray([3, 4])],), {}),
    ("astype", ef.astype, (_a(1.5, -2.5), ef.int32), {}),
]


def _setitem_copy(x, key, value):
    y = x + 0  # setitem rebinds its target: write into a copy
    y[key] = value
    return y


@pytest.mark.parametrize("case", range(len(EDGES)), ids=lambda i: f"{EDGES[i][0]}-{i}")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_jvp_pairs_with_vjp_at_edges(case):
    name, fn, args, kwargs = EDGES[case]
    inputs, params = _captured(OPS[name], fn, args, kwargs)
    for seed in range(3):
        assert _check_pairing(name, inputs, params, seed=seed)


def test_the_check_catches_a_wrong_rule():
    """The pairing fails for a rule that is off (here exp's tangent without ans)."""
    op = OPS["exp"]
    saved = op.jvp
    try:
        ef._registry.defjvp(op, lambda t, ans, x: t)
        with pytest.raises(AssertionError, match="jvp"):
            _check_pairing("exp", (ef.asarray(np.array([0.5, 1.5])),), {})
    finally:
        op.jvp = saved


@given(x=st.floats(-3, 3), t=st.floats(-3, 3))
@few
def test_a_rule_by_value(x, t):
    """The rule's value itself, not only its pairing: d tanh = (1 - tanh^2) dt."""
    xs, ts = ef.asarray(x, dtype=ef.float64), ef.asarray(t, dtype=ef.float64)
    ans = ef.tanh(xs)
    got = OPS["tanh"].jvp[1][0](ts, ans, xs)
    np.testing.assert_allclose(got.numpy(), t * (1 - np.tanh(x) ** 2), rtol=1e-12, atol=1e-15)
