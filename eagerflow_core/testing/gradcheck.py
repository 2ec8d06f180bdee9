"""Numerical gradient checks: reverse-mode gradients against central differences in float64.

The check is autograd's: for random directions ``u`` (inputs) and ``v`` (outputs), the VJP must
satisfy ``<vjp(v), u> == <v, J u>``, with ``J u`` taken by central differences. It needs one
backward pass and two forward passes per check, whatever the sizes, and it recurses for higher
orders: the second-order check is the same check applied to ``x -> vjp_f(x)(v)``.
"""

from __future__ import annotations

import numpy as np

from .._dtypes import complex128, float64
from .._tensor import Tensor


class GradientCheckError(AssertionError):
    """A reverse-mode gradient disagrees with the numerical one."""


def _to64(x: Tensor) -> Tensor:
    from ..ops.creation import astype
    return astype(x, complex128 if x.dtype.kind == "c" else float64)


def _outputs(y):
    return list(y) if isinstance(y, (tuple, list)) else [y]


def _random_like(rng, t: Tensor) -> Tensor:
    from ..ops.creation import asarray
    host = rng.standard_normal(t.shape)
    if t.dtype.kind == "c":
        host = host + 1j * rng.standard_normal(t.shape)
    return asarray(host, dtype=t.dtype, device=t.device)


def _inner(a: Tensor, b: Tensor) -> complex:
    from ..ops.elementwise import conj
    from ..ops.statistical import sum as ef_sum
    prod = conj(a) * b if a.dtype.kind == "c" or b.dtype.kind == "c" else a * b
    return complex(ef_sum(prod).item()) if prod.dtype.kind == "c" else float(ef_sum(prod).item())


def check_vjp(f, args, *, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0, name=None):
    """One first-order check of ``f`` at ``args`` (float64 tensors)."""
    from ..autodiff.functional import vjp
    rng = np.random.default_rng(seed)
    ys, back = vjp(f, *args)
    outs = _outputs(ys)
    vs = [_random_like(rng, y) for y in outs]
    grads = back(vs if isinstance(ys, (tuple, list)) else vs[0])
    dirs = [_random_like(rng, a) for a in args]
    plus = _outputs(f(*[a + eps * d for a, d in zip(args, dirs)]))
    minus = _outputs(f(*[a - eps * d for a, d in zip(args, dirs)]))
    numeric = sum(_inner(v, (p - m) / (2 * eps)) for v, p, m in zip(vs, plus, minus))
    analytic = sum(_inner(g, d) if g is not None else 0.0 for g, d in zip(grads, dirs))
    # <v, Ju> and <J^T v, u> are equal for real functions; for complex ones compare real parts
    # (the conjugate-gradient convention makes the pairing real-linear).
    numeric, analytic = np.real(numeric), np.real(analytic)
    scale = max(abs(numeric), abs(analytic), 1.0)
    if not abs(numeric - analytic) <= atol + rtol * scale:
        label = name or getattr(f, "__name__", "f")
        raise GradientCheckError(
            f"{label}: reverse-mode gradient disagrees with central differences: "
            f"<vjp(v), u> = {analytic!r} but <v, J u> = {numeric!r} (|diff| = "
            f"{abs(numeric - analytic):.3g}); input shapes {[a.shape for a in args]}")


def check_grads(f, args, order: int = 2, *, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0, name=None):
    """Check ``f``'s gradients at ``args`` up to ``order`` (1 or 2...), in float64.

    >>> import eagerflow_core as ef
    >>> from eagerflow_core.testing import check_grads
    >>> check_grads(ef.tanh, (ef.constant([0.3, -1.2]),), order=2)
    """
    args = [_to64(a) if isinstance(a, Tensor) else a for a in args]
    check_vjp(f, args, eps=eps, rtol=rtol, atol=atol, seed=seed, name=name)
    if order > 1:
        from ..autodiff.functional import vjp
        rng = np.random.default_rng(seed + 1)
        ys = f(*args)
        vs = [_random_like(rng, y) for y in _outputs(ys)]
        v = vs if isinstance(ys, (tuple, list)) else vs[0]

        def vjp_of_f(*xs):
            return vjp(f, *xs)[1](v)
        vjp_of_f.__name__ = f"vjp({name or getattr(f, '__name__', 'f')})"
        check_grads(vjp_of_f, args, order - 1, eps=eps, rtol=rtol, atol=atol, seed=seed + 2,
                    name=vjp_of_f.__name__)
