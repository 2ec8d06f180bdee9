"""The functional API (JAX's names): grad, value_and_grad, vjp, jvp, jacobian, hessian."""

from __future__ import annotations

import functools

from .._errors import InvalidArgumentError, ShapeError
from .._tensor import Tensor
from .tape import GradientTape, _flatten, _unflatten, shadow


def _pinned(x):
    """``x``'s tensors as they are now. ``f`` may write into an argument (``x[0] = v``), which
    rebinds it to the new value; the gradient is w.r.t. the value passed in."""
    return _unflatten(x, [shadow(t) if isinstance(t, Tensor) else t for t in _flatten(x)])


def _as_input(x):
    if isinstance(x, Tensor) or hasattr(x, "_ef_variable_") or isinstance(x, (list, tuple, dict)):
        return x
    from ..ops.creation import asarray
    return asarray(x)


def _nums(argnums):
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def value_and_grad(f, argnums=0, has_aux=False):
    """``f``'s value and its gradient w.r.t. the ``argnums`` arguments (scalar ``f`` only).

    >>> import eagerflow_core as ef
    >>> ef.value_and_grad(lambda x: x ** 3)(ef.constant(2.0))
    (ef.Tensor(8., shape=(), dtype=float32, device='cpu:0'), ef.Tensor(12., shape=(), dtype=float32, device='cpu:0'))
    """
    nums = _nums(argnums)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        args = list(args)
        for i in nums:
            if i >= len(args):
                raise InvalidArgumentError(f"grad: argnums={argnums} but f got {len(args)} arguments")
            args[i] = _as_input(args[i])
        with GradientTape() as tape:
            for i in nums:
                tape.watch(args[i])
            sources = [_pinned(args[i]) for i in nums]
            out = f(*args, **kwargs)
        value, aux = out if has_aux else (out, None)
        if not isinstance(value, Tensor) or value.size != 1:
            shape = value.shape if isinstance(value, Tensor) else type(value).__name__
            raise ShapeError(f"grad: f must return a scalar (one element), got {shape}; for "
                             f"vector outputs use ef.vjp or ef.jacobian")
        grads = tape.gradient(value, sources, unconnected_gradients="zero")
        g = grads[0] if isinstance(argnums, int) else tuple(grads)
        return ((value, aux), g) if has_aux else (value, g)
    return wrapped


def grad(f, argnums=0, has_aux=False):
    """The gradient function of a scalar function ``f``. Nest it for higher derivatives.

    >>> import eagerflow_core as ef
    >>> ef.grad(lambda x: x ** 3)(ef.constant(2.0))
    ef.Tensor(12., shape=(), dtype=float32, device='cpu:0')
    >>> ef.grad(ef.grad(lambda x: x ** 3))(ef.constant(2.0))
    ef.Tensor(12., shape=(), dtype=float32, device='cpu:0')
    """
    vg = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        out = vg(*args, **kwargs)
        return (out[1], out[0][1]) if has_aux else out[1]
    return wrapped


def vjp(f, *primals, has_aux=False):
    """``(f(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` gives one gradient per primal.

    >>> import eagerflow_core as ef
    >>> y, back = ef.vjp(lambda x: x * 2.0, ef.constant([1.0, 2.0]))
    >>> back(ef.constant([1.0, 10.0]))
    (ef.Tensor([ 2., 20.], shape=(2,), dtype=float32, device='cpu:0'),)
    """
    primals = [_as_input(p) for p in primals]
    tape = GradientTape(persistent=True)
    with tape:
        tape.watch(primals)
        sources = _pinned(primals)
        out = f(*primals)
    value, aux = out if has_aux else (out, None)

    def vjp_fn(cotangent):
        return tuple(tape.gradient(value, sources, output_gradients=cotangent,
                                   unconnected_gradients="zero"))
    return (value, vjp_fn, aux) if has_aux else (value, vjp_fn)


def jvp(f, primals, tangents):
    """Forward-mode product ``(f(*primals), J @ tangents)``.

    Computed as the transpose of a VJP (the VJP is linear in its cotangent ``u``, so the VJP
    of ``u -> J^T u`` is ``J v``): two reverse passes, no separate forward-mode rules, and it
    works for every op that has a VJP.

    >>> import eagerflow_core as ef
    >>> ef.jvp(lambda x: x ** 2, (ef.constant(3.0),), (ef.constant(1.0),))[1]
    ef.Tensor(6., shape=(), dtype=float32, device='cpu:0')
    """
    from ..ops.creation import zeros_like
    primals = [_as_input(p) for p in primals]
    tangents = [_as_input(t) for t in tangents]
    if len(primals) != len(tangents):
        raise InvalidArgumentError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    with GradientTape() as outer:
        with GradientTape() as inner:
            inner.watch(primals)
            out = f(*primals)
        outs = _flatten(out)
        us = [zeros_like(o) for o in outs]
        outer.watch(us)
        gs = inner.gradient(outs, primals, output_gradients=us, unconnected_gradients="zero")
    tangent_out = outer.gradient(gs, us, output_gradients=tangents, unconnected_gradients="zero")
    return out, _unflatten(out, tangent_out)


def jacobian(f, argnums=0):
    """The Jacobian function of ``f``: shape ``out.shape + arg.shape``.

    >>> import eagerflow_core as ef
    >>> ef.jacobian(lambda x: x * ef.constant([1.0, 2.0]))(ef.constant([3.0, 4.0]))
    ef.Tensor([[1., 0.],
               [0., 2.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    nums = _nums(argnums)

    @functools.wraps(f)
    def wrapped(*args):
        args = [_as_input(a) for a in args]
        with GradientTape(persistent=True) as tape:
            for i in nums:
                tape.watch(args[i])
            sources = [_pinned(args[i]) for i in nums]
            out = f(*args)

        def of(target):
            jac = tape.jacobian(target, sources, unconnected_gradients="zero")
            return jac[0] if isinstance(argnums, int) else tuple(jac)
        # One Jacobian per output, in the output's structure (a tuple from grad: hessian).
        return _unflatten(out, [of(o) for o in _flatten(out)])
    return wrapped


def hessian(f, argnums=0):
    """The Hessian function of a scalar ``f`` (the Jacobian of its gradient).

    >>> import eagerflow_core as ef
    >>> ef.hessian(lambda x: ef.sum(x ** 3))(ef.constant([1.0, 2.0]))
    ef.Tensor([[ 6.,  0.],
               [ 0., 12.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    return jacobian(grad(f, argnums), argnums)
