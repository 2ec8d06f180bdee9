"""``composite``: a function written in eagerflow ops that tapes see as one step.

A tape that records softmax op by op keeps every intermediate (the shifted logits, their
exponentials, the sums) and runs one rule per op on the way back. A composite instead is one
op whose default implementation is the function: an interpreter sees the composite (one
record, one hand-written rule: ``softmax - labels`` for a cross-entropy, instead of the rules
of the half-dozen ops its forward pass used), and the body runs below every interpreter. The
rule is written in eagerflow ops, so it is recorded by outer tapes in its turn and
higher-order gradients still work.

A tape that tracks none of the tensor arguments sees the body's ops one by one instead (a
Variable the body reads is then differentiated as usual).
"""

from __future__ import annotations

import functools
import inspect

from .._dispatch import call
from .._registry import OpDef
from .._state import state
from .._tensor import Tensor

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def composite(vjp, *, name: str | None = None):
    """Decorate ``f`` to record on gradient tapes as one step with the gradient rule ``vjp``.

    ``f``'s positional parameters are its inputs (tensors, or Python values such as an axis);
    its keyword-only parameters are static params. ``vjp`` is either one rule per positional
    parameter (a tuple; None or a shorter tuple for those without a gradient) or a single
    rule that returns a tuple with one gradient per positional parameter (or, for a function
    of one input, the gradient itself). Each rule is called as ``rule(g, ans, *inputs,
    **params)``, like :func:`eagerflow_core._registry.defvjp`'s: ``g`` is the cotangent of the
    output (a tuple for several outputs), ``ans`` the output, and it must be written in
    eagerflow ops (then second-order gradients work).

    Gradients flow only through the tensor arguments: tensors the body reads from elsewhere
    (closures, Variables not passed in) are constants to a tape that records the composite.
    With no tape active, calling the function is calling ``f``, unless the composite has a
    dtype rule (``eagerflow_core/nn/_rules.declare``) and the device of its first tensor
    argument has a kernel of the composite's name (a backend's fused kernel, such as the CUDA
    backend's softmax): the dispatcher then runs that kernel, with a tape or without.

    >>> import eagerflow_core as ef
    >>> from eagerflow_core.autodiff.composite import composite
    >>> @composite(vjp=lambda g, ans, x: g * 2 * x)
    ... def square(x):
    ...     return x * x
    >>> ef.grad(lambda x: ef.sum(square(x)))(ef.constant([1.0, 3.0]))
    ef.Tensor([2., 6.], shape=(2,), dtype=float32, device='cpu:0')
    >>> ef.grad(ef.grad(square))(ef.constant(3.0))  # the rule, differentiated
    ef.Tensor(2., shape=(), dtype=float32, device='cpu:0')
    """

    def deco(f):
        sig = inspect.signature(f)
        kinds = [p.kind for p in sig.parameters.values()]
        if any(k not in _POSITIONAL + (inspect.Parameter.KEYWORD_ONLY,) for k in kinds):
            raise TypeError(f"composite: {f.__name__} must take named parameters only "
                            f"(no *args or **kwargs)")
        pos_names = [n for n, p in sig.parameters.items() if p.kind in _POSITIONAL]
        kw_names = [n for n, p in sig.parameters.items() if p.kind not in _POSITIONAL]
        n_in = len(pos_names)
        kw_defaults = {n: sig.parameters[n].default for n in kw_names}
        if any(v is inspect.Parameter.empty for v in kw_defaults.values()):
            kw_defaults = None  # a required keyword: always bind
        op = OpDef(name or f.__name__, family="composite", kind="general", nin=n_in,
                   doc=(f.__doc__ or "").strip().split("\n")[0], impl=f)
        op.vjp = _rule(vjp, n_in)

        @functools.wraps(f)
        def wrapped(*args, **kwargs):
            if state.interp is None and (op.dtype_rule is None
                                         or not _device_has_kernel(op.name, args)):
                return f(*args, **kwargs)
            if not kwargs and len(args) == n_in and kw_defaults is not None:  # skip bind()
                inputs, params = list(args), dict(kw_defaults)
            else:
                bound = sig.bind(*args, **kwargs)
                bound.apply_defaults()
                inputs = [bound.arguments[n] for n in pos_names]
                params = {n: bound.arguments[n] for n in kw_names}
            return call(op, inputs, params)

        wrapped.op = op
        return wrapped
    return deco


def _device_has_kernel(name: str, args) -> bool:
    """Whether the device of the first tensor among ``args`` has a kernel ``name`` (a fused
    kernel for a composite): then even with no interpreter the call goes through the
    dispatcher, which runs that kernel instead of the body."""
    for a in args:
        if type(a) is Tensor:
            return name in a._device.kernels
    return False


def _rule(vjp, n_in):
    """The tape's ``(kind, rules)`` pair for ``vjp``, padded to ``n_in`` inputs."""
    if isinstance(vjp, (tuple, list)):
        rules = tuple(vjp) + (None,) * (n_in - len(vjp))
        if len(rules) != n_in:
            raise TypeError(f"composite: {len(vjp)} gradient rules for {n_in} inputs")
        return ("each", rules)
    if not callable(vjp):
        raise TypeError(f"composite: vjp must be a rule or a tuple of rules, not "
                        f"{type(vjp).__name__}")

    def all_inputs(g, ans, *inputs, **params):
        grads = vjp(g, ans, *inputs, **params)
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        return tuple(grads) + (None,) * (len(inputs) - len(grads))
    return ("all", all_inputs)
