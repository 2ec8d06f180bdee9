"""The backward pass of a gradient tape: its records' gradient rules, run in reverse.

``backprop`` sweeps the records forward once to find the tensors that lead to a wanted source,
then walks them backwards, running only the rules of inputs on such a path. ``_fit`` sums a
cotangent over broadcast axes and casts it to its input's dtype, so rules need not; ``where``'s
``Masked`` cotangents keep their exact zeros through elementwise records. "No gradient" (no
entry) stays distinct from "zero gradient" to the end.
"""

from __future__ import annotations

import warnings

from .._registry import F, Masked
from .._tensor import Symbolic, Tensor


_ONES: dict = {}  # (dtype, device) -> a 0-d one: tensors are immutable, so one serves all


def _ones(t: Tensor) -> Tensor:
    """The seed of a target's gradient: ones of its shape (a shared 0-d one for a scalar)."""
    if t._data.shape:
        return F.ones_like(t)
    key = (t._dtype, t._device)
    one = _ONES.get(key)
    if one is None or isinstance(t._data, Symbolic):
        one = F.ones((), dtype=t._dtype, device=t._device)
        if not isinstance(one._data, Symbolic):
            _ONES[key] = one
    return one


def _add_ct(grads, masks, i, g, mask):
    """Accumulate cotangent ``g`` (with support ``mask`` or None for dense) into ``i``."""
    old = grads.get(i)
    if old is None:
        grads[i] = g
        masks[i] = mask
    else:
        grads[i] = old + g
        old_mask = masks.get(i)
        masks[i] = None if old_mask is None or mask is None else (old_mask | mask)


def backprop(entries, targets, seeds, wanted: set[int]) -> dict[int, Tensor]:
    """Run the recorded gradient rules backwards; returns ``tid -> gradient`` for every tensor
    that a cotangent reaches and that leads to a tid in ``wanted``."""
    # Forward sweep: which tids depend on a wanted source? Only those need cotangents.
    relevant = set(wanted)
    for e in entries:
        for x in e[1]:
            if type(x) is Tensor and x._tid in relevant:
                for o in e[3]:
                    relevant.add(o._tid)
                break
    grads: dict[int, Tensor] = {}
    masks: dict[int, Tensor | None] = {}
    for t, seed in zip(targets, seeds):
        t_id = t._tid
        if not t_id or t_id not in relevant:
            continue
        _add_ct(grads, masks, t_id, _ones(t) if seed is None else seed, None)
    for op, inputs, params, outs in reversed(entries):
        if len(outs) == 1:
            o_id = outs[0]._tid
            ct = grads.get(o_id)
            if ct is None:
                continue
            ans = outs[0]
            out_mask = masks.get(o_id) if op.kind != "general" else None
        else:
            cts = [grads.get(o._tid) for o in outs]
            if all(c is None for c in cts):
                continue
            ct, ans, out_mask = tuple(cts), outs, None
        needs = [type(x) is Tensor and x._tid in relevant for x in inputs]
        if True not in needs:
            continue
        if out_mask is None:
            in_grads = _run_rules(op, inputs, params, ct, ans, needs)
        else:
            # The rule's values at masked positions (0 * inf, say) are computed, then dropped:
            # their floating-point warnings are noise.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                in_grads = _run_rules(op, inputs, params, ct, ans, needs)
        for x, need, g in zip(inputs, needs, in_grads):
            if not need or g is None:
                continue
            mask = None
            if type(g) is Masked:
                g, mask = g.value, g.mask
            elif out_mask is not None:
                g = F.where(out_mask, g, 0)
                mask = out_mask
            if type(g) is not Tensor or g._data.shape != x._data.shape or g._dtype is not x._dtype:
                g = _fit(g, x)
            if mask is not None and mask.shape != x.shape:
                mask = _fit_mask(mask, x.shape)
            _add_ct(grads, masks, x._tid, g, mask)
    return grads


def _run_rules(op, inputs, params, ct, ans, needs):
    kind, rules = op.vjp
    if kind == "all":
        in_grads = rules(ct, ans, *inputs, **params)
        return in_grads if isinstance(in_grads, (tuple, list)) else (in_grads,)
    return [rule(ct, ans, *inputs, **params) if need and rule is not None else None
            for need, rule in zip(needs, rules)]


def _fit_mask(mask, shape):
    """The support of a cotangent that ``_fit`` summed down to ``shape``."""
    extra = mask.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, d in enumerate(shape) if d == 1 and mask.shape[extra + i] != 1)
    if axes:
        mask = F.any(mask, axis=axes, keepdims=True)
    return F.reshape(mask, shape)


def _fit(g, x: Tensor) -> Tensor:
    """A cotangent summed over broadcast axes and cast to ``x``'s dtype."""
    if not isinstance(g, Tensor):
        g = F.full(x.shape, g, dtype=x.dtype, device=x.device)
    xs = x.shape
    if g.shape != xs:
        gs = g.shape
        extra = len(gs) - len(xs)
        axes = tuple(range(extra)) + tuple(
            extra + i for i, d in enumerate(xs) if d == 1 and gs[extra + i] != 1)
        if axes:
            g = F.sum(g, axis=axes, keepdims=True)
        g = F.reshape(g, xs)
    if g._dtype is not x._dtype:
        if g._dtype.kind == "c" and x._dtype.kind != "c":
            # A real input's gradient is the real part (PyTorch's convention): the imaginary
            # part is the derivative along a direction the real input cannot move in.
            g = F.real(g)
        if g._dtype is not x._dtype:
            g = F.astype(g, x._dtype)
    return g
