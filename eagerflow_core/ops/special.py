"""Special functions, by TensorFlow's names: ``ef.erf``, ``ef.erfc``, ``ef.erfinv``,
``ef.lgamma``, ``ef.digamma``, ``ef.polygamma``, ``ef.igamma``, ``ef.igammac``.

Elementwise over real floating dtypes: integers and bool are lifted to the default float (as
``exp``), complex inputs are refused, and float16/bfloat16 are computed in float32 and
rounded back. Each op is followed by its gradient rules, in eagerflow ops, so they
differentiate again; the functions are real, so the reverse rule (g times the derivative)
and the forward rule (t times it) have one form:
``lgamma' = digamma``, ``digamma' = polygamma(1, x)``, ``polygamma(a, x)' = polygamma(a + 1,
x)``. ``polygamma``'s order ``a`` is discrete: it gets no gradient (TensorFlow's choice).
``igamma(a, x)``'s derivative in ``x`` is the gamma density; in ``a`` it has no closed form,
and eagerflow raises (as PyTorch does) instead of returning a wrong or missing value.
"""

from __future__ import annotations

import math

from .._errors import InvalidArgumentError
from .._registry import F, defjvp, defvjp
from .._tensor import Tensor
from . import _rules as R
from ._define import binary, unary

W = R.real_floating_wide
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _both(fn, *rules):
    """Give a real function's rules to both modes (g or t times the derivative)."""
    defvjp(fn, *rules)
    defjvp(fn, *rules)


erf = unary("erf", W, "The error function 2/sqrt(pi) * integral of exp(-t**2) from 0 to x.",
            family="special", example="""
    >>> import eagerflow_core as ef
    >>> ef.erf(ef.constant([0.0, 0.5, -3.0]))
    ef.Tensor([ 0.       ,  0.5204999, -0.9999779], shape=(3,), dtype=float32, device='cpu:0')
""")
_both(erf, lambda g, ans, x: g * (_TWO_OVER_SQRT_PI * F.exp(-(x * x))))

erfc = unary("erfc", W, "The complementary error function 1 - erf(x), accurate where erf(x) is "
             "near 1.", family="special", example="""
    >>> import eagerflow_core as ef
    >>> ef.erfc(ef.constant([0.0, 5.0]))
    ef.Tensor([1.0000000e+00, 1.5374598e-12], shape=(2,), dtype=float32, device='cpu:0')
""")
_both(erfc, lambda g, ans, x: g * (-_TWO_OVER_SQRT_PI * F.exp(-(x * x))))

erfinv = unary("erfinv", W, "The inverse error function: erf(erfinv(x)) == x for -1 < x < 1 "
               "(+-inf at +-1, NaN outside).", family="special", example="""
    >>> import eagerflow_core as ef
    >>> ef.erfinv(ef.constant([0.0, 0.5204999]))
    ef.Tensor([0. , 0.5], shape=(2,), dtype=float32, device='cpu:0')
""")
_both(erfinv, lambda g, ans, x: g * (F.exp(ans * ans) / _TWO_OVER_SQRT_PI))

lgamma = unary("lgamma", W, "log|Gamma(x)|, the log of the gamma function's absolute value "
               "(+inf at 0 and the negative integers).", family="special", example="""
    >>> import eagerflow_core as ef
    >>> ef.lgamma(ef.constant([1.0, 5.0, 0.5]))
    ef.Tensor([0.       , 3.1780539, 0.5723649], shape=(3,), dtype=float32, device='cpu:0')
""")
_both(lgamma, lambda g, ans, x: g * digamma(x))

digamma = unary("digamma", W, "The digamma function Gamma'(x) / Gamma(x), the derivative of "
                "lgamma.", family="special", example="""
    >>> import eagerflow_core as ef
    >>> ef.digamma(ef.constant([1.0, 2.0]))
    ef.Tensor([-0.5772157 ,  0.42278433], shape=(2,), dtype=float32, device='cpu:0')
""")
_both(digamma, lambda g, ans, x: g * polygamma(1, x))

polygamma = binary("polygamma", W, """The polygamma function: the a-th derivative of digamma
    at x (a = 0: digamma, a = 1: trigamma). NaN where a is not a non-negative integer.""",
                   family="special", example="""
    >>> import eagerflow_core as ef
    >>> ef.polygamma(1, ef.constant([1.0, 2.0]))
    ef.Tensor([1.644934  , 0.64493406], shape=(2,), dtype=float32, device='cpu:0')
""")
_both(polygamma, None, lambda g, ans, a, x: g * polygamma(a + 1, x))


def _like(v, t):
    """A Python scalar operand as a tensor of t's dtype and device (a tensor stays)."""
    return v if isinstance(v, Tensor) else F.asarray(v, dtype=t.dtype, device=t.device)


def _gamma_density(a, x):
    """d/dx P(a, x) = x**(a-1) exp(-x) / Gamma(a); x**0 is 1, at x = 0 too (TF's xlogy):
    where a == 1 the log reads 1 instead of x, so no 0 * log(0) = NaN is ever formed."""
    a = _like(a, x)
    return F.exp((a - 1) * F.log(F.where(a == 1, 1, x)) - x - lgamma(a))


def _no_gradient_in_a(name):
    def rule(g, ans, a, x):
        raise InvalidArgumentError(
            f"{name}: no gradient with respect to a: d/da of the incomplete gamma function has "
            f"no closed form and eagerflow does not implement it (PyTorch neither); "
            f"differentiate with respect to x only (ef.stop_gradient(a), or do not watch a)")
    return rule


igamma = binary("igamma", W, """The regularised lower incomplete gamma function P(a, x):
    the integral of t**(a-1) exp(-t) from 0 to x, over Gamma(a) (a > 0, x >= 0; NaN
    elsewhere). Differentiable in x only.""", family="special", example="""
    >>> import eagerflow_core as ef
    >>> ef.igamma(1.0, ef.constant([0.0, 1.0, 10.0]))
    ef.Tensor([0.        , 0.63212055, 0.9999546 ], shape=(3,), dtype=float32, device='cpu:0')
""")
_both(igamma, _no_gradient_in_a("igamma"), lambda g, ans, a, x: g * _gamma_density(a, x))

igammac = binary("igammac", W, """The regularised upper incomplete gamma function
    Q(a, x) = 1 - P(a, x), accurate where P(a, x) is near 1. Differentiable in x only.""",
                 family="special", example="""
    >>> import eagerflow_core as ef
    >>> ef.igammac(1.0, ef.constant([0.0, 1.0, 10.0]))
    ef.Tensor([1.0000000e+00, 3.6787945e-01, 4.5399931e-05], shape=(3,), dtype=float32, device='cpu:0')
""")
_both(igammac, _no_gradient_in_a("igammac"),
      lambda g, ans, a, x: -g * _gamma_density(a, x))


__all__ = ["digamma", "erf", "erfc", "erfinv", "igamma", "igammac", "lgamma", "polygamma"]

