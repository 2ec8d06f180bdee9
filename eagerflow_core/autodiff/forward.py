"""Forward mode: an interpreter that carries a tangent beside each tensor computed from the
primals (JAX's ``JVPTrace``).

For each op it sees, the interpreter has the op evaluated below itself, then computes the
output's tangent with the op's JVP rule (``defjvp``), also below itself: the rule's ops are
seen by the interpreters underneath (a tape recording a gradient, another forward
interpreter), never by this one, so nested derivatives do not mix their perturbations. An op
without a JVP rule but with a default implementation (a composite) is differentiated through
its body; an op with neither is linearised by transposing its VJP (two reverse passes over
that op alone), so every differentiable op works forward.

Forward-over-reverse Hessian-vector products (``ef.jvp(ef.grad(f), (x,), (v,))``) then cost
one forward and one backward pass, each carrying tangents, instead of two reverse passes.
"""

from __future__ import annotations

from .._dispatch import call, call_binary, call_unary
from .._registry import F
from .._state import state
from .._tensor import Tensor
from .tape import GradientTape, _unlink, tid


class ForwardInterpreter:
    """Tangents by tape identity (``_tid``); see the module docstring."""

    def __init__(self):
        self.parent = None
        self.tangents: dict[int, Tensor] = {}

    # -- the stack ---------------------------------------------------------------------------
    def __enter__(self):
        self.parent = state.interp
        state.interp = self
        return self

    def __exit__(self, *exc):
        _unlink(self)
        return False

    def set_tangent(self, x: Tensor, t: Tensor) -> None:
        self.tangents[tid(x)] = t

    def tangent(self, x: Tensor):
        return self.tangents.get(x._tid) if x._tid else None

    # -- the interpreter ---------------------------------------------------------------------
    def process(self, op, inputs, params, device):
        tangents = self.tangents
        tans = [tangents.get(x._tid) if type(x) is Tensor and x._tid else None for x in inputs]
        if not any(t is not None for t in tans):
            return self._below(op, inputs, params, device)
        if op.jvp is None and op.impl is not None:
            return op.impl(*inputs, **params)  # through the body, op by op (self stays on top)
        out = self._below(op, inputs, params, device)
        outs = out if type(out) is tuple else (out,)
        if not any(o._dtype.inexact for o in outs) or not op.differentiable:
            return out
        top = state.interp
        state.interp = self.parent  # the rule's ops belong to the interpreters below
        try:
            out_tans = _tangents(op, inputs, params, out, tans)
        finally:
            state.interp = top
        out_tans = out_tans if type(out) is tuple else (out_tans,)
        for o, t in zip(outs, out_tans):
            if t is not None and o._dtype.inexact:
                tangents[tid(o)] = _fit(t, o)
        return out

    def _below(self, op, inputs, params, device):
        parent = self.parent
        if parent is not None:
            return parent.process(op, inputs, params, device)
        kind = op.kind
        if kind == "unary":
            return call_unary(op, inputs[0], True)
        if kind == "binary":
            return call_binary(op, inputs[0], inputs[1], True)
        return call(op, inputs, params, device, True)


def _tangents(op, inputs, params, out, tans):
    """The output tangent(s) of one op, from its JVP rule or its transposed VJP."""
    if op.jvp is None:
        return _by_transpose(op, inputs, params, out, tans)
    kind, rules = op.jvp
    if kind == "all":
        return rules(tuple(tans), out, *inputs, **params)
    total = None
    for t, rule in zip(tans, rules):
        if t is None or rule is None:
            continue
        part = rule(t, out, *inputs, **params)
        if part is not None:
            total = part if total is None else _plus(total, part)
    return total


def _plus(a, b):
    """Two inputs' contributions: per output for a multi-output op (a tuple, None where an
    input does not reach that output), not the tuples concatenated."""
    if type(a) is not tuple:
        return a + b
    return tuple(y if x is None else x if y is None else x + y for x, y in zip(a, b))


def _by_transpose(op, inputs, params, out, tans):
    """``J t`` for an op without a JVP rule: its VJP ``u -> J^T u`` is linear in ``u``, so the
    VJP of that with respect to ``u``, applied to ``t``, is ``J t``."""
    outs = out if type(out) is tuple else (out,)
    sources, cts, seen = [], [], set()
    for x, t in zip(inputs, tans):
        if t is not None and x._tid not in seen:  # x * x: one source, one tangent
            seen.add(x._tid)
            sources.append(x)
            cts.append(t)
    with GradientTape(persistent=True) as outer:
        us = [F.zeros_like(o) for o in outs]
        outer.watch(us)
        with GradientTape() as inner:
            inner.watch(sources)
            again = _rerun(op, inputs, params)
        agains = again if type(again) is tuple else (again,)
        gs = inner.gradient(list(agains), sources, output_gradients=us,
                            unconnected_gradients="zero")
    result = outer.gradient(gs, us, output_gradients=cts, unconnected_gradients="zero")
    return tuple(result) if type(out) is tuple else result[0]


def _rerun(op, inputs, params):
    kind = op.kind
    if kind == "unary":
        return call_unary(op, inputs[0])
    if kind == "binary":
        return call_binary(op, inputs[0], inputs[1])
    return call(op, inputs, params)


def _fit(t, o: Tensor):
    """A tangent of the output's shape and dtype (rules may return broadcastable values)."""
    if not isinstance(t, Tensor):
        return F.full(o.shape, t, dtype=o.dtype, device=o.device)
    if t.shape != o.shape:
        t = F.broadcast_to(t, o.shape)
    if t._dtype is not o._dtype:
        t = F.real(t) if t._dtype.kind == "c" and o._dtype.kind != "c" else t
        if t._dtype is not o._dtype:
            t = F.astype(t, o._dtype)
    return t
