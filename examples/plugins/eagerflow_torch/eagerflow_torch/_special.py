"""Kernels of the special functions on ``torch.special``.

The core computes float16 and bfloat16 in float32, so these kernels see float32 and float64.
``torch.special.polygamma`` takes its order as a Python int, not a tensor: a tensor of orders
is computed once per distinct order, through the Hurwitz zeta function (see ``_order``). Orders that are not non-negative integers give NaN
(TensorFlow's rule, which the NumPy backend follows too).
"""

from __future__ import annotations

import math

import torch

_S = torch.special


def _polygamma(a, x, /):
    if not isinstance(a, torch.Tensor):
        a = torch.as_tensor(a, dtype=x.dtype)
    a, x = torch.broadcast_tensors(a, x)
    out = torch.full_like(x, float("nan"))
    valid = (a >= 0) & (a == torch.floor(a))
    for order in torch.unique(a[valid]).tolist():
        pick = valid & (a == order)
        out[pick] = _order(int(order), x[pick])
    return out


def _order(n, x):
    if n == 0:
        return _S.digamma(x)
    # torch's trigamma (its polygamma(1, x)) is good to ~5e-10 in float64, too coarse for a
    # second-order gradient check of digamma; (-1)**(n+1) n! zeta(n + 1, x) is exact to
    # rounding, for negative x too (torch's own polygamma uses it for n >= 2).
    scale = (-1) ** (n + 1) * math.factorial(n)
    return scale * _S.zeta(torch.tensor(n + 1.0, dtype=x.dtype), x)


def _scalar_first(fn):
    # The core passes a weak Python scalar as is; torch.special's binary functions want tensors.
    def kernel(a, x, /):
        if not isinstance(a, torch.Tensor):
            a = torch.as_tensor(a, dtype=x.dtype)
        if not isinstance(x, torch.Tensor):
            x = torch.as_tensor(x, dtype=a.dtype)
        return fn(a, x)
    kernel.__name__ = kernel.__qualname__ = fn.__name__
    return kernel


KERNELS: dict = {
    "erf": _S.erf, "erfc": _S.erfc, "erfinv": _S.erfinv, "lgamma": torch.lgamma,
    "digamma": _S.digamma, "polygamma": _polygamma,
    "igamma": _scalar_first(_S.gammainc), "igammac": _scalar_first(_S.gammaincc),
}
