"""``custom_gradient`` and ``stop_gradient``."""

from __future__ import annotations

import functools

from .._dispatch import state
from .._errors import InvalidArgumentError
from .._registry import OpDef
from .._tensor import Tensor, new_tensor
from .tape import _flatten, _unflatten

# Not registered: it has no kernel. Its records carry the user's rule.
custom_gradient_op = OpDef("custom_gradient", family="autodiff", doc="a user-defined gradient")


def stop_gradient(x) -> Tensor:
    """``x``'s values, seen by gradient tapes as a constant.

    >>> import eagerflow_core as ef
    >>> x = ef.constant(2.0)
    >>> ef.grad(lambda x: x * ef.stop_gradient(x))(x)
    ef.Tensor(2., shape=(), dtype=float32, device='cpu:0')
    """
    if not isinstance(x, Tensor):
        from .._dispatch import as_tensor_arg
        x = as_tensor_arg(custom_gradient_op, x)
    out = new_tensor(x._data, x._dtype, x._device)
    if state.tapes:
        x_id = getattr(x, "_tid", None)
        for tape in state.tapes:
            if x_id is not None and x_id in tape._tracked:
                tape._block((out,), "ef.stop_gradient was applied on the way", (x,))
    return out


class _VariableReads:
    """Collects the Variables read on this thread while a custom_gradient function runs
    (``Variable._ef_tensor_`` reports to ``state.var_reads``, which is thread-local)."""

    def __enter__(self):
        self.reads = {}
        state.var_reads = getattr(state, "var_reads", ()) + (self.reads,)
        return self

    def __exit__(self, *exc):
        state.var_reads = tuple(r for r in state.var_reads if r is not self.reads)
        return False


def custom_gradient(f):
    """Give a function its own gradient (TensorFlow's ``tf.custom_gradient``).

    ``f(*args)`` returns ``(y, grad_fn)``; ``grad_fn(dy)`` returns the gradient for each tensor
    argument. If ``f`` reads trainable Variables, ``grad_fn(dy, variables=...)`` returns
    ``(argument_grads, variable_grads)``. ``grad_fn`` is written in eagerflow ops and may use
    values computed inside ``f``: it is differentiable again (higher order works).

    >>> import eagerflow_core as ef
    >>> @ef.custom_gradient
    ... def log1pexp(x):
    ...     e = ef.exp(x)
    ...     def grad(dy):
    ...         return dy * (1 - 1 / (1 + e))
    ...     return ef.log(1 + e), grad
    >>> ef.grad(log1pexp)(ef.constant(100.0))
    ef.Tensor(1., shape=(), dtype=float32, device='cpu:0')
    """

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        if not state.tapes:
            return f(*args, **kwargs)[0]
        with _VariableReads() as reads:
            y, grad_fn = f(*args, **kwargs)
        arg_tensors = [a for a in args if isinstance(a, Tensor)]
        variables = [v for v, _ in reads.reads.values()]
        var_values = [val for _, val in reads.reads.values()]
        ys = _flatten(y)
        outs = tuple(new_tensor(t._data, t._dtype, t._device) for t in ys)
        n_args = len(arg_tensors)

        def rule(ct, ans, *inputs):
            cts = ct if isinstance(ct, tuple) else (ct,)
            from ..ops.creation import zeros_like
            cts = [c if c is not None else zeros_like(o) for c, o in zip(cts, outs)]
            if variables:
                got = grad_fn(*cts, variables=variables)
                if not (isinstance(got, (tuple, list)) and len(got) == 2):
                    raise InvalidArgumentError("custom_gradient: with Variables, grad_fn must "
                                               "return (argument_grads, variable_grads)")
                arg_g, var_g = got
            else:
                arg_g, var_g = grad_fn(*cts), []
            arg_g = list(arg_g) if isinstance(arg_g, (tuple, list)) else [arg_g]
            if len(arg_g) != n_args:
                raise InvalidArgumentError(f"custom_gradient: grad_fn returned {len(arg_g)} "
                                           f"gradients for {n_args} tensor arguments")
            return tuple(arg_g) + tuple(var_g)

        inputs = tuple(arg_tensors) + tuple(var_values)
        for tape in state.tapes:
            if tape._recording and any(getattr(x, "_tid", None) in tape._tracked for x in inputs):
                tape._add(custom_gradient_op, inputs, {}, outs, rule=("all", rule))
        return _unflatten(y, list(outs)) if isinstance(y, (list, tuple)) else outs[0]
    return wrapped
