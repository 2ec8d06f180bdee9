"""``custom_gradient`` and ``stop_gradient``."""

from __future__ import annotations

import functools

from .._dispatch import as_tensor_arg, call
from .._errors import DTypeError, InvalidArgumentError, ShapeError
from .._registry import OpDef, defjvp, defop, defvjp
from .._state import state
from .._tensor import Tensor, new_tensor
from ..ops import _rules as R
from ..ops._define import public
from .tape import _flatten, _unflatten


def _identity(x):
    return new_tensor(x._data, x._dtype, x._device)


stop_gradient_op = defop("stop_gradient", family="autodiff", dtype_rule=R.same_dtype,
                         shape_rule=R.same_shape, differentiable=False, impl=_identity,
                         doc="x's values, seen by gradient tapes as a constant.")


@public(stop_gradient_op)
def stop_gradient(x) -> Tensor:
    """``x``'s values, seen by gradient tapes as a constant.

    >>> import eagerflow_core as ef
    >>> x = ef.constant(2.0)
    >>> ef.grad(lambda x: x * ef.stop_gradient(x))(x)
    ef.Tensor(2., shape=(), dtype=float32, device='cpu:0')
    """
    if type(x) is not Tensor:
        x = as_tensor_arg(stop_gradient_op, x)
    return call(stop_gradient_op, (x,))


identity_op = defop("identity", family="autodiff", dtype_rule=R.same_dtype,
                    shape_rule=R.same_shape, impl=_identity,
                    doc="x's values as a new tensor (TensorFlow's tf.identity).")


@public(identity_op)
def identity(x) -> Tensor:
    """A tensor with ``x``'s values and an identity of its own, differentiable (TensorFlow's
    ``tf.identity``): gradients pass straight through it.

    >>> import eagerflow_core as ef
    >>> ef.grad(lambda x: ef.identity(x) * 3.0)(ef.constant(2.0))
    ef.Tensor(3., shape=(), dtype=float32, device='cpu:0')
    """
    if type(x) is not Tensor:
        x = as_tensor_arg(identity_op, x)
    return call(identity_op, (x,))


defvjp(identity_op, lambda g, ans, x: g)
defjvp(identity_op, lambda t, ans, x: t)


class _VariableReads:
    """Collects the Variables read on this thread while a custom_gradient function runs
    (``Variable._ef_tensor_`` reports to ``state.var_reads``, which is thread-local)."""

    def __enter__(self):
        self.reads = {}
        state.var_reads = state.var_reads + (self.reads,)
        return self

    def __exit__(self, *exc):
        state.var_reads = tuple(r for r in state.var_reads if r is not self.reads)
        return False


def custom_gradient(f):
    """Give a function its own gradient (TensorFlow's ``tf.custom_gradient``).

    ``f(*args)`` returns ``(y, grad_fn)``; ``grad_fn(dy)`` returns the gradient for each tensor
    argument (a tuple if there are several), each of that argument's shape, or None. If ``f``
    reads trainable Variables, ``grad_fn(dy, variables=...)`` returns ``(argument_grads,
    variable_grads)``. ``grad_fn`` is written in eagerflow ops and may use values computed
    inside ``f``: it is differentiable again (higher order works).

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
    name = getattr(f, "__name__", "custom_gradient")

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        if not state.tapes:
            out = f(*args, **kwargs)
            _check_pair(out, name)
            return out[0]
        with _VariableReads() as reads:
            out = f(*args, **kwargs)
        _check_pair(out, name)
        y, grad_fn = out
        arg_tensors = [a for a in args if isinstance(a, Tensor)]
        variables = [v for v, _ in reads.reads.values()]
        var_values = [val for _, val in reads.reads.values()]
        outs = tuple(new_tensor(t._data, t._dtype, t._device) for t in _flatten(y))
        inputs = tuple(arg_tensors) + tuple(var_values)
        op = OpDef(name, family="custom_gradient", nin=len(inputs),
                   doc="a user-defined gradient")
        defvjp(op, all_inputs=_rule(grad_fn, name, outs, arg_tensors, variables, var_values))
        for tape in state.tapes:
            if tape._recording and tape._tracks(inputs):
                tape._add(op, inputs, outs)
        return _unflatten(y, list(outs)) if isinstance(y, (list, tuple)) else outs[0]
    return wrapped


def _check_pair(out, name):
    if not (isinstance(out, tuple) and len(out) == 2 and callable(out[1])):
        raise InvalidArgumentError(f"custom_gradient: {name} must return (y, grad_fn), got "
                                   f"{type(out).__name__}")


def _rule(grad_fn, name, outs, arg_tensors, variables, var_values):
    n_args = len(arg_tensors)

    def rule(ct, ans, *inputs):
        cts = ct if isinstance(ct, tuple) else (ct,)
        cts = [c if c is not None else _zeros_like(o) for c, o in zip(cts, outs)]
        if variables:
            got = grad_fn(*cts, variables=variables)
            if not (isinstance(got, (tuple, list)) and len(got) == 2):
                raise InvalidArgumentError(f"custom_gradient: {name} reads Variables, so its "
                                           f"grad_fn must return (argument_grads, "
                                           f"variable_grads), got {type(got).__name__}")
            arg_g, var_g = got
            var_g = list(var_g) if isinstance(var_g, (tuple, list)) else [var_g]
            if len(var_g) != len(variables):
                raise InvalidArgumentError(f"custom_gradient: {name}'s grad_fn returned "
                                           f"{len(var_g)} variable gradients for "
                                           f"{len(variables)} Variables")
        else:
            arg_g, var_g = grad_fn(*cts), []
        arg_g = list(arg_g) if isinstance(arg_g, (tuple, list)) else [arg_g]
        if len(arg_g) != n_args:
            raise InvalidArgumentError(f"custom_gradient: {name}'s grad_fn returned "
                                       f"{len(arg_g)} gradients for {n_args} tensor arguments")
        checked = [_valid(g, x, name, f"argument {i}") for i, (g, x) in enumerate(zip(arg_g, arg_tensors))]
        checked += [_valid(g, v, name, f"Variable {var.name!r}")
                    for g, v, var in zip(var_g, var_values, variables)]
        return tuple(checked)
    return rule


def _valid(g, x: Tensor, name: str, what: str):
    """PyTorch's check: a gradient of the input's shape (a Python number is broadcast)."""
    if g is None or isinstance(g, (int, float, complex)):
        return g
    if hasattr(g, "_ef_variable_"):
        g = g.read_value()
    if not isinstance(g, Tensor):
        raise InvalidArgumentError(f"custom_gradient: {name}'s grad_fn returned a "
                                   f"{type(g).__name__} for {what}; return a tensor or None")
    if g.shape != x.shape:
        raise ShapeError(f"custom_gradient: {name}'s grad_fn returned an invalid gradient for "
                         f"{what}: got shape {g.shape} but expected the input's shape {x.shape}")
    if not g.dtype.inexact:
        raise DTypeError(f"custom_gradient: {name}'s grad_fn returned a {g.dtype} gradient for "
                         f"{what}; gradients are floating point")
    return g


def _zeros_like(t):
    from .._registry import F
    return F.zeros_like(t)
