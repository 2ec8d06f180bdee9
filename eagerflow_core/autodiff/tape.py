"""Gradient tapes: record eager ops, then run their gradient rules backwards.

A tape records an op when it runs inside the tape's context and one of its inputs is tracked
by the tape (watched, or computed from a watched tensor). Tensors are identified on a tape by
``_tid``, an id given on first use; each record keeps *shadow* tensors (the same raw arrays and
tid) rather than the user's objects, so rebinding a tensor later (``x[0] = 1``) never changes
what the backward pass sees.

"No gradient" stays distinct from "zero gradient" all through the backward pass: a tensor that
no cotangent reaches has no entry in the gradient map, and no rule runs for it.
"""

from __future__ import annotations

import itertools
import threading
import warnings
from contextlib import contextmanager

from .. import _dispatch
from .._dispatch import state
from .._errors import DTypeError, EagerflowError, InvalidArgumentError
from .._tensor import Tensor, new_tensor

_ids = itertools.count(1)


class _Ops:
    """The ops the engine itself calls, imported once on first use (ops import autodiff, so
    not at module import; and an import statement per call costs more than the op)."""

    def __getattr__(self, name):
        from ..ops import creation, elementwise, manipulation, searching, statistical, utility
        found = {"astype": creation.astype, "ones_like": creation.ones_like,
                 "zeros_like": creation.zeros_like, "zeros": creation.zeros, "full": creation.full,
                 "asarray": creation.asarray, "reshape": manipulation.reshape,
                 "stack": manipulation.stack, "sum": statistical.sum, "any": utility.any,
                 "real": elementwise.real,
                 "where": searching.where}
        self.__dict__.update(found)
        if name not in found:  # inspect and doctest probe attributes such as __wrapped__
            raise AttributeError(name)
        return found[name]


O = _Ops()
_id_lock = threading.Lock()


def tid(t: Tensor) -> int:
    """The tape identity of ``t`` (given on first use; 0 means none yet)."""
    i = getattr(t, "_tid", 0)
    if not i:
        with _id_lock:
            i = t._tid = next(_ids)
    return i


def shadow(t: Tensor) -> Tensor:
    """A Tensor sharing ``t``'s raw array and tape identity."""
    s = new_tensor(t._data, t._dtype, t._device)
    s._tid = tid(t)
    return s


class GradientTapeError(EagerflowError, RuntimeError):
    """A tape used the wrong way (a second gradient call on a non-persistent tape...)."""


class _Entry:
    """One recorded op. It keeps the caller's tensors and, separately, the raw arrays they held
    when the op ran: a later ``x[i] = v`` rebinds ``x`` to a new array, and ``tensors()`` then
    rebuilds the old value (with its old identity) for the backward pass. Building those
    shadows lazily keeps recording cheap."""

    __slots__ = ("op", "_ins", "_in_data", "params", "_outs", "_out_data", "in_tids",
                 "out_tids", "rule")

    def tensors(self):
        ins = tuple(_as_recorded(x, d, i) for x, d, i in zip(self._ins, self._in_data, self.in_tids))
        outs = tuple(_as_recorded(o, d, i) for o, d, i in zip(self._outs, self._out_data, self.out_tids))
        return ins, outs


def _as_recorded(x, data, i):
    if not isinstance(x, Tensor) or (x._data is data and x._tid == i):
        return x
    s = new_tensor(data, x._dtype, x._device)
    s._tid = i
    return s


def _record(op, inputs, params, out):
    """The dispatcher's record hook: runs only while some tape is active on this thread."""
    for tape in state.tapes:
        if not tape._recording:
            continue
        tracked = tape._tracked
        for x in inputs:
            if isinstance(x, Tensor) and x._tid in tracked:
                break
        else:
            blocked = tape._blocked
            if blocked:  # an op on a blocked value is blocked for the same reason (explain)
                why = next((blocked[x._tid] for x in inputs
                            if isinstance(x, Tensor) and x._tid in blocked), None)
                if why is not None:
                    tape._block(out if type(out) is tuple else (out,), why, inputs)
            continue
        outs = out if type(out) is tuple else (out,)
        if op.vjp is None or not _any_float(outs):
            if op.vjp is None:
                why = (f"op {op.name!r} has no gradient" if not op.differentiable
                       else f"op {op.name!r} has no gradient rule yet")
            else:
                why = f"op {op.name!r} gave a {outs[0]._dtype} result, and integers have no gradient"
            tape._block(outs, why, inputs)
            continue
        tape._add(op, inputs, params, outs)


def _any_float(outs) -> bool:
    for o in outs:
        if o._dtype.kind in "fc":
            return True
    return False


_dispatch.record_hook = _record


def note_export(t: Tensor, how: str) -> None:
    """Remember that a tracked tensor's values left eagerflow (for ``explain``)."""
    t_id = getattr(t, "_tid", None)
    if t_id is None:
        return
    for tape in state.tapes:
        if t_id in tape._tracked:
            tape._exported.setdefault(t_id, how)


class GradientTape:
    """Records eager ops for reverse-mode differentiation (TensorFlow's semantics).

    >>> import eagerflow_core as ef
    >>> x = ef.constant(3.0)
    >>> with ef.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = x * x
    >>> tape.gradient(y, x)
    ef.Tensor(6., shape=(), dtype=float32, device='cpu:0')

    ``persistent=True`` allows several ``gradient`` calls (and keeps what it saved until the
    tape is deleted or ``reset``); a non-persistent tape frees everything after its first.
    Trainable ``ef.Variable`` reads are watched automatically unless
    ``watch_accessed_variables=False``. Nested tapes give higher-order gradients.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self._persistent = persistent
        self._watch_vars = watch_accessed_variables
        self._recording = False
        self._entered = False
        self._used = False
        self._tracked: dict[int, Tensor] = {}   # tid -> shadow (keeps the values alive)
        self._entries: list[_Entry] = []
        self._blocked: dict[int, str] = {}      # tid -> why no gradient flows out of it
        self._blocked_from: dict[int, tuple] = {}  # tid -> the tids of its op's inputs
        self._exported: dict[int, str] = {}     # tid -> how its values left eagerflow
        self._var_reads: dict[int, list[int]] = {}  # id(Variable) -> tids of its values read
        self._watched: set[int] = set()

    # -- context ---------------------------------------------------------------------------
    def __enter__(self):
        if self._entered:
            raise GradientTapeError("this GradientTape is already recording; nest a new one instead")
        self._entered = self._recording = True
        state.tapes = state.tapes + (self,)
        return self

    def __exit__(self, *exc):
        self._recording = False
        self._entered = False
        state.tapes = tuple(t for t in state.tapes if t is not self)
        return False

    @contextmanager
    def stop_recording(self):
        """Ops run inside this block are not recorded on this tape."""
        was, self._recording = self._recording, False
        try:
            yield
        finally:
            self._recording = was

    def reset(self):
        """Forget everything recorded so far (the tape keeps recording if inside its block)."""
        self._tracked.clear()
        self._entries.clear()
        self._blocked.clear()
        self._blocked_from.clear()
        self._exported.clear()
        self._var_reads.clear()
        self._watched.clear()
        self._used = False

    # -- what is tracked ---------------------------------------------------------------------
    def watch(self, tensor) -> None:
        """Track ``tensor`` (or a nested structure of tensors / Variables)."""
        for t in _flatten(tensor):
            if hasattr(t, "_ef_variable_"):
                self._watch_variable(t, t._value)
            elif isinstance(t, Tensor):
                self._tracked[tid(t)] = shadow(t)
                self._watched.add(t._tid)
            else:
                raise InvalidArgumentError(f"GradientTape.watch: expected tensors or Variables, "
                                           f"got {type(t).__name__}")

    def _watch_variable(self, var, value: Tensor) -> None:
        i = tid(value)
        self._tracked.setdefault(i, shadow(value))
        reads = self._var_reads.setdefault(id(var), [])
        if i not in reads:
            reads.append(i)

    def _block(self, outs, why: str, inputs) -> None:
        """Note that no gradient flows from ``inputs`` to ``outs``, and why (for explain)."""
        ins = tuple(x._tid for x in inputs if isinstance(x, Tensor) and x._tid)
        for o in outs:
            i = tid(o)
            self._blocked[i] = why
            self._blocked_from[i] = ins

    def watched_variables(self):
        """The Variables this tape has seen read (in first-read order)."""
        from .variable import Variable
        live = Variable._registry
        return tuple(v for v in (live.get(i) for i in self._var_reads) if v is not None)

    def _add(self, op, inputs, params, outs, rule=None):
        tracked = self._tracked
        e = _Entry.__new__(_Entry)
        e.op = op
        e.params = params
        e.rule = rule if rule is not None else op.vjp
        e._ins = inputs = tuple(inputs)
        e._in_data = tuple(x._data if isinstance(x, Tensor) else None for x in inputs)
        e.in_tids = tuple(tid(x) if isinstance(x, Tensor) else None for x in inputs)
        e._outs = outs = tuple(outs)
        e._out_data = tuple(o._data for o in outs)
        out_ids = []
        for o in outs:
            i = tid(o)
            tracked[i] = o
            out_ids.append(i)
        e.out_tids = tuple(out_ids)
        self._entries.append(e)

    def held_bytes(self) -> int:
        """Bytes of tensor data this tape holds for the backward pass (each array once)."""
        seen, total = set(), 0
        for t in self._tracked.values():
            raw = t._data
            if id(raw) not in seen:
                seen.add(id(raw))
                total += t.size * t.dtype.itemsize
        return total

    # -- gradients ---------------------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """Gradients of ``target`` (summed over its elements, and over a list of targets)
        with respect to ``sources``, a tensor, Variable, or nested list/tuple/dict of them.

        ``output_gradients`` weights each target (a vector-Jacobian product).
        ``unconnected_gradients``: ``"none"`` gives None for a source the target does not
        depend on, ``"zero"`` gives zeros. Use :meth:`explain` to learn why one is None.
        """
        if unconnected_gradients not in ("none", "zero"):
            raise InvalidArgumentError("unconnected_gradients must be 'none' or 'zero', not "
                                       f"{unconnected_gradients!r}")
        self._check_unused()
        flat_sources = _flatten(sources)
        for s in flat_sources:
            _check_source(s)
        targets = _flatten(target)
        seeds = _flatten(output_gradients) if output_gradients is not None else [None] * len(targets)
        if len(seeds) != len(targets):
            raise InvalidArgumentError(f"gradient: {len(targets)} targets but {len(seeds)} "
                                       f"output_gradients")
        source_tids = [self._source_tids(s) for s in flat_sources]
        with self.stop_recording():
            grads = backprop(self._entries, targets, seeds,
                             {i for ids in source_tids for i in ids})
        from ..ops.creation import zeros_like
        out = []
        for s, ids in zip(flat_sources, source_tids):
            gs = [grads[i] for i in ids if i in grads]
            g = None
            for part in gs:
                g = part if g is None else g + part
            if g is None and unconnected_gradients == "zero":
                g = zeros_like(s._value if hasattr(s, "_ef_variable_") else s)
            out.append(g)
        if not self._persistent:
            self._free()
        return _unflatten(sources, out)

    def _check_unused(self):
        if self._used and not self._persistent:
            raise GradientTapeError(
                "a non-persistent GradientTape can compute gradients once (it has freed what it "
                "saved); use GradientTape(persistent=True) for several gradient calls")

    def _free(self):
        self._used = True
        self._entries = []
        self._tracked = {}

    @contextmanager
    def _one_use(self):
        """A jacobian's many gradient calls count as one use of a non-persistent tape, which
        is freed after them like after ``gradient``."""
        self._check_unused()
        was, self._persistent = self._persistent, True
        try:
            yield
        finally:
            self._persistent = was
            if not was:
                self._free()

    def _source_tids(self, s) -> list[int]:
        if hasattr(s, "_ef_variable_"):
            return self._var_reads.get(id(s), [])
        t_id = getattr(s, "_tid", None)
        return [t_id] if t_id is not None and t_id in self._tracked else []

    def jacobian(self, target, sources, unconnected_gradients="none"):
        """Full Jacobian: result shape ``target.shape + source.shape`` for each source."""
        from ..ops.creation import zeros
        from ..ops.manipulation import reshape, stack
        with self._one_use():
            flat = _flatten(sources)
            n = target.size
            rows = [[] for _ in flat]
            for k in range(n):
                seed = zeros(n, dtype=target.dtype, device=target.device)
                seed[k] = 1
                gs = self.gradient(target, flat, output_gradients=reshape(seed, target.shape),
                                   unconnected_gradients="zero" if unconnected_gradients == "zero" else "none")
                for r, g, s in zip(rows, gs, flat):
                    r.append(g)
            out = []
            for r, s in zip(rows, flat):
                sv = s._value if hasattr(s, "_ef_variable_") else s
                if any(g is None for g in r):
                    out.append(None)
                elif n == 0:
                    out.append(zeros(tuple(target.shape) + tuple(sv.shape), dtype=sv.dtype))
                else:
                    out.append(reshape(stack(r), tuple(target.shape) + tuple(sv.shape)))
        return _unflatten(sources, out)

    def batch_jacobian(self, target, source, unconnected_gradients="none"):
        """Per-example Jacobian: ``target[b, ...]`` w.r.t. ``source[b, ...]`` (examples are
        independent), result shape ``(batch,) + target.shape[1:] + source.shape[1:]``."""
        from ..ops.creation import zeros
        from ..ops.manipulation import reshape, stack
        with self._one_use():
            b = target.shape[0]
            per = target.size // b if b else 0
            rows = []
            for k in range(per):
                # The seed is shaped like the target: the target itself was recorded, a
                # reshape of it made now would not be.
                seed = zeros((b, per), dtype=target.dtype, device=target.device)
                seed[:, k] = 1
                g = self.gradient(target, source, output_gradients=reshape(seed, target.shape),
                                  unconnected_gradients=unconnected_gradients)
                if g is None:
                    return None
                rows.append(g)
            if not rows:
                return zeros((b,) + tuple(target.shape[1:]) + tuple(source.shape[1:]),
                             dtype=source.dtype)
            return reshape(stack(rows, axis=1), (b,) + tuple(target.shape[1:]) + tuple(source.shape[1:]))

    # -- why is my gradient None? ------------------------------------------------------------
    def explain(self, target, source) -> str:
        """Say, in a sentence, why ``gradient(target, source)`` is or is not None."""
        from .explain import explain
        return explain(self, target, source)


def _check_source(s):
    dtype = s.dtype if isinstance(s, Tensor) or hasattr(s, "_ef_variable_") else None
    if dtype is None:
        raise InvalidArgumentError(f"gradient: sources must be tensors or Variables, got "
                                   f"{type(s).__name__}")
    if dtype.kind not in "fc":
        raise DTypeError(
            f"gradient: a source has dtype {dtype}; integer and bool tensors have no gradient "
            f"(TensorFlow silently returns None here). Cast the source to a float dtype before "
            f"computing with it, e.g. x = ef.astype(x, ef.float32)")


class Masked:
    """A cotangent that is structurally zero where ``mask`` is False (made by ``where``'s rule).

    Elementwise gradient rules applied to it keep those positions at exactly zero instead of
    multiplying the zero by a local derivative that may be inf or NaN there: the gradient of
    ``ef.where(x > 0, ef.sqrt(x), 0.0)`` at ``x = 0`` is 0, not NaN (pytorch#52248, jax#1052),
    without the double-``where`` trick. The function does not depend on the unselected branch
    at those positions, so zero is the exact answer, not an approximation.
    """

    __slots__ = ("value", "mask")

    def __init__(self, value, mask):
        self.value = value
        self.mask = mask


def _add_ct(grads, masks, i, g, mask):
    """Accumulate cotangent ``g`` (with support ``mask`` or None for dense) into ``i``."""
    if i in grads:
        grads[i] = grads[i] + g
        old = masks.get(i)
        masks[i] = None if old is None or mask is None else (old | mask)
    else:
        grads[i] = g
        masks[i] = mask


def backprop(entries, targets, seeds, wanted: set[int]) -> dict[int, Tensor]:
    """Run the recorded gradient rules backwards; returns ``tid -> gradient`` for every tensor
    that a cotangent reaches and that leads to a tid in ``wanted``."""
    # Forward sweep: which tids depend on a wanted source? Only those need cotangents.
    relevant = set(wanted)
    for e in entries:
        if any(i in relevant for i in e.in_tids if i is not None):
            relevant.update(e.out_tids)
    grads: dict[int, Tensor] = {}
    masks: dict[int, Tensor | None] = {}
    for t, seed in zip(targets, seeds):
        t_id = getattr(t, "_tid", None)
        if t_id is None or t_id not in relevant:
            continue
        if seed is not None and not isinstance(seed, Tensor):
            seed = O.asarray(seed, dtype=t.dtype, device=t.device)
        _add_ct(grads, masks, t_id, O.ones_like(t) if seed is None else seed, None)
    for e in reversed(entries):
        if not any(i in grads for i in e.out_tids):
            continue
        needs = [i is not None and i in relevant for i in e.in_tids]
        if not any(needs):
            continue
        inputs, outputs = e.tensors()
        if len(outputs) == 1:
            ct = grads[e.out_tids[0]]
            ans = outputs[0]
        else:
            ct = tuple(grads.get(i) for i in e.out_tids)
            ans = outputs
        # A masked cotangent stays structurally zero through elementwise rules.
        out_mask = masks.get(e.out_tids[0]) if len(outputs) == 1 and e.op.kind != "general" else None
        if out_mask is None:
            in_grads = _run_rules(e, inputs, ct, ans, needs)
        else:
            # The rule's values at masked positions (0 * inf, say) are computed, then dropped:
            # their floating-point warnings are noise.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                in_grads = _run_rules(e, inputs, ct, ans, needs)
        for x, need, g, i in zip(inputs, needs, in_grads, e.in_tids):
            if not need or g is None:
                continue
            mask = None
            if isinstance(g, Masked):
                g, mask = g.value, g.mask
            elif out_mask is not None:
                g = O.where(out_mask, g, 0)
                mask = out_mask
            g = _fit(g, x)
            if mask is not None and mask.shape != x.shape:
                mask = _fit_mask(mask, x.shape)
            _add_ct(grads, masks, i, g, mask)
    return grads


def _run_rules(e, inputs, ct, ans, needs):
    kind, rules = e.rule
    if kind == "all":
        in_grads = rules(ct, ans, *inputs, **e.params)
        return in_grads if isinstance(in_grads, (tuple, list)) else (in_grads,)
    return [rule(ct, ans, *inputs, **e.params) if need and rule is not None else None
            for need, rule in zip(needs, rules)]


def _fit_mask(mask, shape):
    """The support of a cotangent that ``_fit`` summed down to ``shape``."""
    extra = mask.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, d in enumerate(shape) if d == 1 and mask.shape[extra + i] != 1)
    if axes:
        mask = O.any(mask, axis=axes, keepdims=True)
    return O.reshape(mask, shape)


def _fit(g, x: Tensor) -> Tensor:
    """A cotangent summed over broadcast axes and cast to ``x``'s dtype."""
    if not isinstance(g, Tensor):
        g = O.full(x.shape, g, dtype=x.dtype, device=x.device)
    xs = x.shape
    if g.shape != xs:
        gs = g.shape
        extra = len(gs) - len(xs)
        axes = tuple(range(extra)) + tuple(
            extra + i for i, d in enumerate(xs) if d == 1 and gs[extra + i] != 1)
        if axes:
            g = O.sum(g, axis=axes, keepdims=True)
        g = O.reshape(g, xs)
    if g._dtype is not x._dtype:
        if g._dtype.kind == "c" and x._dtype.kind != "c":
            # A real input's gradient is the real part (PyTorch's convention): the imaginary
            # part is the derivative along a direction the real input cannot move in.
            g = O.real(g)
        if g._dtype is not x._dtype:
            g = O.astype(g, x._dtype)
    return g


def _flatten(tree) -> list:
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _flatten(item)]
    if isinstance(tree, dict):
        return [leaf for key in tree for leaf in _flatten(tree[key])]
    return [tree]


def _unflatten(tree, leaves):
    it = iter(leaves)

    def build(node):
        if isinstance(node, (list, tuple)):
            items = [build(n) for n in node]
            return type(node)(items) if not hasattr(node, "_fields") else type(node)(*items)
        if isinstance(node, dict):
            return {k: build(node[k]) for k in node}
        return next(it)
    return build(tree)
