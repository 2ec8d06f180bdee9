"""The functional API (JAX's names): grad, value_and_grad, vjp, jvp, jacobian, hessian."""

from __future__ import annotations

import functools

from .._errors import InvalidArgumentError, ShapeError
from .._tensor import Tensor
from ..ops.creation import asarray, astype, zeros_like
from .custom import identity
from .forward import ForwardInterpreter
from .tape import GradientTape, _flatten, _unflatten, shadow


def _pinned(x):
    """``x``'s tensors as they are now. ``f`` may write into an argument (``x[0] = v``), which
    rebinds it to the new value; the gradient is w.r.t. the value passed in."""
    return _unflatten(x, [shadow(t) if isinstance(t, Tensor) else t for t in _flatten(x)])


def _as_input(x):
    if isinstance(x, Tensor) or hasattr(x, "_ef_variable_") or isinstance(x, (list, tuple, dict)):
        return x
    return asarray(x)


def _nums(argnums, what: str) -> tuple:
    nums = (argnums,) if isinstance(argnums, int) else argnums
    if not isinstance(nums, (tuple, list)) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in nums):
        raise InvalidArgumentError(f"{what}: argnums must be an int or a tuple of ints, got "
                                   f"{type(argnums).__name__}")
    return tuple(nums)


def _check_argnums(nums, args, what: str) -> None:
    for i in nums:
        if not -len(args) <= i < len(args):
            raise InvalidArgumentError(f"{what}: argnums={i} but f got {len(args)} arguments")


def _check_out(out, what: str) -> None:
    """``f``'s result must be tensors (nested in tuples, lists, dicts): anything else has no
    derivative, and would fail deep in the tape with another op's name (issue #9)."""
    for leaf in _flatten(out):
        if not isinstance(leaf, Tensor):
            raise InvalidArgumentError(f"{what}: f returned a {type(leaf).__name__}; it must "
                                       f"return a tensor or a tuple/list/dict of tensors")


def value_and_grad(f, argnums=0, has_aux=False):
    """``f``'s value and its gradient w.r.t. the ``argnums`` arguments (scalar ``f`` only).

    >>> import eagerflow_core as ef
    >>> ef.value_and_grad(lambda x: x ** 3)(ef.constant(2.0))
    (ef.Tensor(8., shape=(), dtype=float32, device='cpu:0'), ef.Tensor(12., shape=(), dtype=float32, device='cpu:0'))
    """
    nums = _nums(argnums, "grad")

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        args = list(args)
        _check_argnums(nums, args, "grad")
        for i in nums:
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
    _check_out(value, "vjp")

    def vjp_fn(cotangent):
        return tuple(tape.gradient(value, sources, output_gradients=cotangent,
                                   unconnected_gradients="zero"))
    return (value, vjp_fn, aux) if has_aux else (value, vjp_fn)


def jvp(f, primals, tangents):
    """Forward-mode product ``(f(*primals), J @ tangents)``.

    Runs ``f`` once under a forward-mode interpreter that carries each tensor's tangent
    beside it (``autodiff/forward.py``): JVP rules where ops have them, the transposed VJP of
    the few that do not. Nest it with ``grad`` for Hessian-vector products
    (``ef.jvp(ef.grad(f), (x,), (v,))``: forward over reverse).

    >>> import eagerflow_core as ef
    >>> ef.jvp(lambda x: x ** 2, (ef.constant(3.0),), (ef.constant(1.0),))[1]
    ef.Tensor(6., shape=(), dtype=float32, device='cpu:0')
    """
    primals = [_as_input(p) for p in primals]
    tangents = [_as_input(t) for t in tangents]
    if len(primals) != len(tangents):
        raise InvalidArgumentError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    ins = []
    for i, p in enumerate(primals):
        p = p.read_value() if hasattr(p, "_ef_variable_") else p
        if not isinstance(p, Tensor):
            raise InvalidArgumentError(f"jvp: primal {i} is a {type(p).__name__}; give tensors")
        # Its own identity, made below the new interpreter: interpreters already running
        # (a tape, an outer jvp) see it as a function of p; this one perturbs it alone.
        ins.append(identity(p))
    with ForwardInterpreter() as fwd:
        for i, (x, t) in enumerate(zip(ins, tangents)):
            fwd.set_tangent(x, _tangent_for(x, t, i))
        out = f(*ins)
    _check_out(out, "jvp")
    outs = _flatten(out)
    touts = []
    for o in outs:
        t = fwd.tangent(o) if isinstance(o, Tensor) else None
        touts.append(t if t is not None or not isinstance(o, Tensor) else zeros_like(o))
    return out, _unflatten(out, touts)


def _tangent_for(x: Tensor, t, i: int) -> Tensor:
    t = t.read_value() if hasattr(t, "_ef_variable_") else t
    if not isinstance(t, Tensor):
        t = asarray(t, dtype=x.dtype, device=x.device)
    if t.shape != x.shape:
        raise ShapeError(f"jvp: tangent {i} has shape {t.shape}, its primal {x.shape}; give "
                         f"tangents of the primals' shapes")
    if t.device is not x.device:
        raise InvalidArgumentError(f"jvp: tangent {i} is on {t.device}, its primal on {x.device}")
    return t if t.dtype is x.dtype else astype(t, x.dtype)


def jacobian(f, argnums=0):
    """The Jacobian function of ``f``: shape ``out.shape + arg.shape``.

    >>> import eagerflow_core as ef
    >>> ef.jacobian(lambda x: x * ef.constant([1.0, 2.0]))(ef.constant([3.0, 4.0]))
    ef.Tensor([[1., 0.],
               [0., 2.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    nums = _nums(argnums, "jacobian")

    @functools.wraps(f)
    def wrapped(*args):
        _check_argnums(nums, args, "jacobian")
        args = [_as_input(a) for a in args]
        with GradientTape(persistent=True) as tape:
            for i in nums:
                tape.watch(args[i])
            sources = [_pinned(args[i]) for i in nums]
            out = f(*args)
        _check_out(out, "jacobian")

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
