"""Activation functions: relu, sigmoid, softplus, gelu; one tape step each.

Each is a composite (see ``autodiff/composite.py``): its forward pass uses a numerically
stable form, and tapes record one entry whose rule reuses the output where it can
(``sigmoid``'s derivative is ``ans * (1 - ans)``).
"""

from __future__ import annotations

import math

from .._errors import InvalidArgumentError
from .._tensor import Tensor
from ..autodiff.composite import composite
from ..ops.elementwise import abs as ef_abs
from ..ops.elementwise import exp, log1p, maximum, tanh
from ..ops.searching import where
from . import _rules
from ._common import as_float, as_tensor


def _relu_vjp(g, ans, x):
    return where(x > 0, g, 0)


@composite(vjp=_relu_vjp)
def relu(x, /) -> Tensor:
    """``maximum(x, 0)``, element-wise; its gradient is 1 where ``x > 0`` and 0 elsewhere
    (also at 0). Integer inputs keep their dtype.

    >>> import eagerflow_core as ef
    >>> x = ef.constant([-1.0, 0.0, 2.0])
    >>> ef.nn.relu(x)
    ef.Tensor([0., 0., 2.], shape=(3,), dtype=float32, device='cpu:0')
    >>> ef.grad(lambda x: ef.sum(ef.nn.relu(x)))(x)
    ef.Tensor([0., 0., 1.], shape=(3,), dtype=float32, device='cpu:0')
    """
    return maximum(as_tensor(x, "relu"), 0)


@composite(vjp=lambda g, ans, x: g * (ans * (1 - ans)))
def sigmoid(x, /) -> Tensor:
    """``1 / (1 + exp(-x))``, element-wise, without overflow for large ``|x|``.

    >>> import eagerflow_core as ef
    >>> ef.nn.sigmoid(ef.constant([-1000.0, 0.0, 1000.0]))
    ef.Tensor([0. , 0.5, 1. ], shape=(3,), dtype=float32, device='cpu:0')
    """
    x = as_float(x, "sigmoid")
    e = exp(-ef_abs(x))  # in (0, 1]: never overflows
    r = 1 / (1 + e)
    return where(x >= 0, r, e * r)


@composite(vjp=lambda g, ans, x: g * sigmoid(x))
def softplus(x, /) -> Tensor:
    """``log(1 + exp(x))``, element-wise, computed as ``log1p(exp(-|x|)) + max(x, 0)`` so that
    it neither overflows for large ``x`` nor loses precision for very negative ``x``.

    >>> import eagerflow_core as ef
    >>> ef.nn.softplus(ef.constant([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.6931471824645996, 1000.0]
    """
    x = as_float(x, "softplus")
    return log1p(exp(-ef_abs(x))) + maximum(x, 0)


_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_A = 0.044715


def _gelu_vjp(g, ans, x):
    t = tanh(_GELU_C * (x + _GELU_A * x * x * x))
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _GELU_C * (1 + 3 * _GELU_A * x * x))


@composite(vjp=_gelu_vjp, name="gelu")
def _gelu(x):
    return 0.5 * x * (1 + tanh(_GELU_C * (x + _GELU_A * x * x * x)))


# A backend with a "gelu" kernel (the CUDA backend's fused one) runs it as kernel(x).
_rules.declare(_gelu, dtype_rule=_rules.float_result, shape_rule=_rules.same_shape)


def gelu(x, /, *, approximate=True) -> Tensor:
    """Gaussian error linear unit, element-wise, in its tanh form (Hendrycks & Gimpel):
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))``, within 1e-3 of ``x * Phi(x)``.

    Only ``approximate=True`` is available: the exact form needs ``erf``, which eagerflow has
    no op for yet.

    >>> import eagerflow_core as ef
    >>> ef.nn.gelu(ef.constant([-3.0, 0.0, 1.0]))
    ef.Tensor([-0.00363734,  0.        ,  0.841192  ], shape=(3,), dtype=float32, device='cpu:0')
    """
    if approximate is not True:
        raise InvalidArgumentError("gelu: only approximate=True (the tanh form) is available; "
                                   "the exact form needs erf, which eagerflow has no op for yet")
    return _gelu(as_float(x, "gelu"))


gelu.op = _gelu.op  # what tapes record for it (its rules, for interpreters)


__all__ = ["gelu", "relu", "sigmoid", "softplus"]
