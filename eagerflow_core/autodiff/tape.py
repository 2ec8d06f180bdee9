"""Gradient tapes: an interpreter that records eager ops, then runs their gradient rules
backwards.

A tape is an interpreter on the thread's stack (``_state.state.interp``): the dispatcher hands
it each op call before any kernel runs; the tape has the op evaluated below itself (eagerly,
or by the interpreter under it), then records it when one of its inputs is tracked (watched, a
trainable Variable read, or computed from a tracked tensor). A record is a plain tuple
``(op, inputs, params, outputs)``; tensors are identified on tapes by ``_tid``, an integer given
on first use.

Tensors are values, but a name can be given a new one: ``x[0] = 1`` rebinds ``x``'s object to
a new array. Before that happens, the rebind hook replaces ``x`` in every record by a shadow
(the old array, the old identity), so the backward pass always sees the values the ops saw.

"No gradient" stays distinct from "zero gradient" all through the backward pass: a tensor that
no cotangent reaches has no entry in the gradient map, and no rule runs for it.
"""

from __future__ import annotations

import itertools
import weakref
from contextlib import contextmanager

from .._dispatch import call, call_binary, call_unary
from .._errors import DTypeError, EagerflowError, InvalidArgumentError, ShapeError
from .._registry import F
from .._state import hooks, state
from .._tensor import Tensor, new_tensor
from .backprop import backprop

_ids = itertools.count(1)  # next() of itertools.count is atomic under the GIL
_live_tapes: "weakref.WeakSet[GradientTape]" = weakref.WeakSet()  # tapes holding records
_WHY = {"stop_gradient": "ef.stop_gradient was applied on the way"}


def tid(t: Tensor) -> int:
    """The tape identity of ``t`` (given on first use; 0 means none yet)."""
    i = t._tid
    if not i:
        i = t._tid = next(_ids)
    return i


def shadow(t: Tensor) -> Tensor:
    """A Tensor sharing ``t``'s raw array and tape identity."""
    s = new_tensor(t._data, t._dtype, t._device)
    s._tid = tid(t)
    return s


class GradientTapeError(EagerflowError, RuntimeError):
    """A tape used the wrong way (a second gradient call on a non-persistent tape...)."""


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
        self.parent = None                      # the interpreter below this one
        self._tracked: dict[int, Tensor] = {}   # tid -> tensor (keeps the values alive)
        self._entries: list[tuple] = []         # (op, inputs, params, outputs)
        self._blocked: dict[int, str] = {}      # tid -> why no gradient flows out of it
        self._blocked_from: dict[int, tuple] = {}  # tid -> the tids of its op's inputs
        self._exported: dict[int, str] = {}     # tid -> how its values left eagerflow
        self._var_reads: dict[int, list[int]] = {}  # id(Variable) -> tids of its values read
        self._watched: set[int] = set()

    # -- the interpreter --------------------------------------------------------------------
    def process(self, op, inputs, params, device):
        kind = op.kind
        if kind == "general" and op.dtype_rule is None and not self._tracks(inputs):
            return self._inline(op, inputs, params)
        parent = self.parent
        if parent is None:  # evaluate eagerly, past the seam
            if kind == "unary":
                out = call_unary(op, inputs[0], True)
            elif kind == "binary":
                out = call_binary(op, inputs[0], inputs[1], True)
            else:
                out = call(op, inputs, params, device, True)
        else:
            out = parent.process(op, inputs, params, device)
        if self._recording:
            tracked = self._tracked
            for x in inputs:
                if type(x) is Tensor and x._tid in tracked:
                    self._record(op, inputs, params, out)
                    break
            else:
                if self._blocked:
                    self._follow_block(inputs, out)
        return out

    def _inline(self, op, inputs, params):
        """A user composite on inputs this tape does not track: its body may read Variables
        the tape watches, so the tape (and the interpreters below it) see the body's ops one
        by one, as if the composite were a plain function."""
        top = state.interp
        state.interp = self
        try:
            return op.impl(*inputs, **params)
        finally:
            state.interp = top

    def _tracks(self, inputs) -> bool:
        tracked = self._tracked
        return any(isinstance(x, Tensor) and x._tid in tracked for x in inputs)

    def _record(self, op, inputs, params, out):
        outs = out if type(out) is tuple else (out,)
        if not outs:  # an op with no outputs: nothing can depend on it
            return
        if op.vjp is None:
            why = _WHY.get(op.name) or (f"op {op.name!r} has no gradient" if not op.differentiable
                                        else f"op {op.name!r} has no gradient rule yet")
            self._block(outs, why, inputs)
            return
        for o in outs:
            if o._dtype.inexact:
                break
        else:
            what = "composite" if op.family == "composite" else "op"
            self._block(outs, f"{what} {op.name!r} gave a {outs[0]._dtype} result, and "
                              f"integers have no gradient", inputs)
            return
        tracked = self._tracked
        for o in outs:
            i = o._tid
            if not i:
                i = o._tid = next(_ids)
            tracked[i] = o
        self._entries.append((op, inputs, params, outs))

    def _follow_block(self, inputs, out):
        """An op on a blocked value is blocked for the same reason (for ``explain``)."""
        blocked = self._blocked
        why = next((blocked[x._tid] for x in inputs
                    if isinstance(x, Tensor) and x._tid in blocked), None)
        if why is not None:
            self._block(out if type(out) is tuple else (out,), why, inputs)

    # -- context ---------------------------------------------------------------------------
    def __enter__(self):
        if self._entered:
            raise GradientTapeError("this GradientTape is already recording; nest a new one instead")
        self._entered = self._recording = True
        self.parent = state.interp
        state.interp = self
        state.tapes = state.tapes + (self,)
        _live_tapes.add(self)
        return self

    def __exit__(self, *exc):
        self._recording = False
        self._entered = False
        _unlink(self)
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

    def _add(self, op, inputs, outs) -> None:
        """Record ``op`` (a custom gradient's) with these inputs and outputs."""
        inputs = tuple(inputs)
        for o in outs:
            self._tracked[tid(o)] = o
        self._entries.append((op, inputs, {}, tuple(outs)))

    def watched_variables(self):
        """The Variables this tape has seen read (in first-read order)."""
        from .variable import Variable
        live = Variable._registry
        return tuple(v for v in (live.get(i) for i in self._var_reads) if v is not None)

    def held_bytes(self) -> int:
        """Bytes of tensor data this tape holds for the backward pass (each array once)."""
        seen, total = set(), 0
        arrays = [t for t in self._tracked.values()]
        arrays += [x for e in self._entries for x in e[1] if isinstance(x, Tensor)]
        for t in arrays:
            raw = t._data
            if id(raw) not in seen:
                seen.add(id(raw))
                total += t.size * t.dtype.itemsize
        return total

    # -- gradients ---------------------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """Gradients of ``target`` (summed over its elements, and over a list of targets)
        with respect to ``sources``, a tensor, Variable, or nested list/tuple/dict of them.

        ``output_gradients`` weights each target (a vector-Jacobian product): one per target,
        of the target's shape. ``unconnected_gradients``: ``"none"`` gives None for a source
        the target does not depend on, ``"zero"`` gives zeros. Use :meth:`explain` to learn
        why one is None.
        """
        if unconnected_gradients not in ("none", "zero"):
            raise InvalidArgumentError("gradient: unconnected_gradients must be 'none' or "
                                       f"'zero', not {unconnected_gradients!r}")
        if self._used and not self._persistent:
            self._check_unused()
        flat_sources = [sources] if type(sources) is Tensor or hasattr(sources, "_ef_variable_") \
            else _flatten(sources)
        for s in flat_sources:
            _check_source(s)
        targets = [target] if type(target) is Tensor else _flatten(target)
        for t in targets:
            if not isinstance(t, Tensor):
                raise InvalidArgumentError(f"gradient: targets must be tensors, got "
                                           f"{type(t).__name__}")
        if output_gradients is None:
            seeds = [None] * len(targets)
        else:
            seeds = _flatten(output_gradients)
            if len(seeds) != len(targets):
                raise InvalidArgumentError(f"gradient: {len(targets)} targets but {len(seeds)} "
                                           f"output_gradients")
            seeds = [_seed(t, s) for t, s in zip(targets, seeds)]
        source_tids = [self._source_tids(s) for s in flat_sources]
        was, self._recording = self._recording, False  # the rules' ops are not ours to record
        try:
            grads = backprop(self._entries, targets, seeds,
                             {i for ids in source_tids for i in ids})
        finally:
            self._recording = was
        out = []
        for s, ids in zip(flat_sources, source_tids):
            g = None
            for i in ids:
                part = grads.get(i)
                if part is not None:
                    g = part if g is None else g + part
            if g is None and unconnected_gradients == "zero":
                g = F.zeros_like(s._value if hasattr(s, "_ef_variable_") else s)
            out.append(g)
        if not self._persistent:
            self._free()
        if flat_sources and (type(sources) is Tensor or hasattr(sources, "_ef_variable_")):
            return out[0]
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
        return [t_id] if t_id and t_id in self._tracked else []

    def jacobian(self, target, sources, unconnected_gradients="none"):
        """Full Jacobian: result shape ``target.shape + source.shape`` for each source."""
        _check_target(target, "jacobian")
        with self._one_use():
            flat = _flatten(sources)
            n = target.size
            rows = [[] for _ in flat]
            for k in range(n):
                seed = F.zeros(n, dtype=target.dtype, device=target.device)
                seed[k] = 1
                gs = self.gradient(target, flat, output_gradients=F.reshape(seed, target.shape),
                                   unconnected_gradients="zero" if unconnected_gradients == "zero" else "none")
                for r, g in zip(rows, gs):
                    r.append(g)
            out = []
            for r, s in zip(rows, flat):
                sv = s._value if hasattr(s, "_ef_variable_") else s
                if any(g is None for g in r):
                    out.append(None)
                elif n == 0:
                    out.append(F.zeros(tuple(target.shape) + tuple(sv.shape), dtype=sv.dtype))
                else:
                    out.append(F.reshape(F.stack(r), tuple(target.shape) + tuple(sv.shape)))
        return _unflatten(sources, out)

    def batch_jacobian(self, target, source, unconnected_gradients="none"):
        """Per-example Jacobian: ``target[b, ...]`` w.r.t. ``source[b, ...]`` (examples are
        independent), result shape ``(batch,) + target.shape[1:] + source.shape[1:]``."""
        _check_target(target, "batch_jacobian")
        with self._one_use():
            b = target.shape[0]
            per = target.size // b if b else 0
            rows = []
            for k in range(per):
                # The seed is shaped like the target: the target itself was recorded, a
                # reshape of it made now would not be.
                seed = F.zeros((b, per), dtype=target.dtype, device=target.device)
                seed[:, k] = 1
                g = self.gradient(target, source, output_gradients=F.reshape(seed, target.shape),
                                  unconnected_gradients=unconnected_gradients)
                if g is None:
                    return None
                rows.append(g)
            shape = (b,) + tuple(target.shape[1:]) + tuple(source.shape[1:])
            if not rows:
                return F.zeros(shape, dtype=source.dtype)
            return F.reshape(F.stack(rows, axis=1), shape)

    # -- why is my gradient None? ------------------------------------------------------------
    def explain(self, target, source) -> str:
        """Say, in a sentence, why ``gradient(target, source)`` is or is not None."""
        from .explain import explain
        return explain(self, target, source)


def _unlink(interp) -> None:
    """Take ``interp`` off this thread's interpreter stack (it need not be the top one)."""
    if state.interp is interp:
        state.interp = interp.parent
    else:
        node = state.interp
        while node is not None and node.parent is not interp:
            node = node.parent
        if node is not None:
            node.parent = interp.parent
    interp.parent = None


def _check_target(target, what: str) -> None:
    if not isinstance(target, Tensor):
        raise InvalidArgumentError(f"{what}: the target must be one tensor, got "
                                   f"{type(target).__name__}")


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


def _seed(target: Tensor, seed):
    """An output gradient: of the target's shape, converted to its dtype."""
    if seed is None:
        return None
    if not isinstance(seed, Tensor):
        try:
            seed = F.asarray(getattr(seed, "read_value", lambda: seed)(), device=target.device)
        except EagerflowError as exc:  # named for the call the user made, not asarray
            raise type(exc)(f"gradient: output_gradients: {str(exc).split(': ', 1)[-1]}") \
                from None
    if seed.shape != target.shape and seed.shape != ():
        raise ShapeError(f"gradient: output_gradients of shape {seed.shape} for a target of "
                         f"shape {target.shape}; give one of the target's shape")
    if seed._dtype.kind == "c" and target._dtype.kind != "c":
        raise DTypeError(f"gradient: a complex output gradient ({seed._dtype}) for a real target "
                         f"({target._dtype})")
    if seed._device is not target._device:
        raise DTypeError(f"gradient: the output gradient is on {seed._device}, the target on "
                         f"{target._device}")
    if seed._dtype is not target._dtype:
        seed = F.astype(seed, target._dtype)
    if seed.shape != target.shape:
        seed = F.broadcast_to(seed, target.shape)
    return seed


# -- hooks the lower layers call ------------------------------------------------------------------

def _note_export(t: Tensor, how: str) -> None:
    """Remember that a tracked tensor's values left eagerflow (for ``explain``)."""
    t_id = t._tid
    if not t_id:
        return
    for tape in state.tapes:
        if t_id in tape._tracked:
            tape._exported.setdefault(t_id, how)


def _before_rebind(t: Tensor) -> None:
    """``t`` is about to hold a new value (``t[i] = v``): every record and tracked entry that
    holds ``t`` keeps its current value instead, as a shadow with its current identity."""
    t_id = t._tid
    if not t_id:
        return
    old = None
    for tape in list(_live_tapes):
        if t_id not in tape._tracked:
            continue
        if old is None:
            old = shadow(t)
        if tape._tracked[t_id] is t:
            tape._tracked[t_id] = old
        entries = tape._entries
        for k, (op, inputs, params, outs) in enumerate(entries):
            if any(x is t for x in inputs) or any(o is t for o in outs):
                entries[k] = (op, tuple(old if x is t else x for x in inputs), params,
                              tuple(old if o is t else o for o in outs))


hooks.export = _note_export
hooks.rebind = _before_rebind


# -- nested structures ----------------------------------------------------------------------------

def _flatten(tree) -> list:
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _flatten(item)]
    if isinstance(tree, dict):
        return [leaf for key in tree for leaf in _flatten(tree[key])]
    return [tree]


def _unflatten(tree, leaves):
    """``leaves`` in ``tree``'s structure. Iterative over a plain helper: a recursive closure
    would hold a reference cycle (issue #9: every gradient call left 7 objects for the gc)."""
    return _build(tree, iter(leaves))


def _build(node, it):
    if isinstance(node, (list, tuple)):
        items = [_build(n, it) for n in node]
        return type(node)(items) if not hasattr(node, "_fields") else type(node)(*items)
    if isinstance(node, dict):
        return {k: _build(node[k], it) for k in node}
    return next(it)
