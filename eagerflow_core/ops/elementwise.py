"""Elementwise ops of the Array API standard, one short block each.

Names and argument order are the standard's; each op's dtype rule is one of ``_rules``'s.
Binary ops broadcast and accept a Python scalar on either side (weak: it takes the tensor's
dtype). ``clip`` is the one general op here (three inputs, the result keeps x's dtype).

Each op is followed by its gradient rules: ``defvjp`` (reverse mode: the conjugate of the
local derivative for complex inputs, PyTorch's and TensorFlow's convention) and ``defjvp``
(forward mode: the linear map itself, so holomorphic functions take no conjugate). See
``_grad_util`` for the conventions.
"""

from __future__ import annotations

import cmath as _cmath
import math as _math

import numpy as np

from .._dispatch import as_tensor_arg, call
from .._dtypes import iinfo, promote_types
from .._errors import DTypeError
from .._registry import F, defjvp, defop, defvjp
from .._tensor import Tensor
from . import _rules as R
from ._define import binary, public, unary
from ._grad_util import cj, identity, select


def _negated(g, ans, *inputs):
    return -g


# -- arithmetic --------------------------------------------------------------------------------
add = binary("add", R.numeric, "Sum x1 + x2, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.add(ef.constant([1, 2]), 10)
    ef.Tensor([11, 12], shape=(2,), dtype=int64, device='cpu:0')
""")
defvjp(add, identity, identity)
defjvp(add, identity, identity)

subtract = binary("subtract", R.numeric, "Difference x1 - x2, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.subtract(ef.constant([5, 3]), ef.constant([1, 4]))
    ef.Tensor([ 4, -1], shape=(2,), dtype=int64, device='cpu:0')
""")
defvjp(subtract, identity, _negated)
defjvp(subtract, identity, _negated)

multiply = binary("multiply", R.numeric, "Product x1 * x2, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.multiply(ef.constant([1.5, 2.0]), 2)
    ef.Tensor([3., 4.], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(multiply, lambda g, ans, x, y: g * cj(y), lambda g, ans, x, y: g * cj(x))
defjvp(multiply, lambda t, ans, x, y: t * y, lambda t, ans, x, y: x * t)

divide = binary("divide", R.true_divide, """True division x1 / x2, element-wise.

    Integer inputs follow TensorFlow, which keeps integer quotients exact: 8- and 16-bit
    integers (and bool) give float32, 32- and 64-bit integers float64 (PyTorch and JAX give
    float32 for all).""", example="""
    >>> import eagerflow_core as ef
    >>> ef.divide(ef.constant([3, 4]), 2)
    ef.Tensor([1.5, 2. ], shape=(2,), dtype=float64, device='cpu:0')
    >>> ef.divide(ef.constant([3, 4], dtype=ef.int16), 2)
    ef.Tensor([1.5, 2. ], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(divide, lambda g, ans, x, y: g / cj(y), lambda g, ans, x, y: -g * cj(ans / y))
defjvp(divide, lambda t, ans, x, y: t / y, lambda t, ans, x, y: -t * (ans / y))

floor_divide = binary("floor_divide", R.real_numeric, "Floor division x1 // x2, element-wise.",
                      differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.floor_divide(ef.constant([7, -7]), 2)
    ef.Tensor([ 3, -4], shape=(2,), dtype=int64, device='cpu:0')
""")

remainder = binary("remainder", R.real_numeric,
                   "Remainder of x1 / x2 with the sign of x2 (Python's %), element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.remainder(ef.constant([7, -7]), 3)
    ef.Tensor([1, 2], shape=(2,), dtype=int64, device='cpu:0')
""")
# x1 - floor(x1 / x2) * x2, where the floor is locally constant
defvjp(remainder, identity, lambda g, ans, x, y: -g * floor_divide(x, y))
defjvp(remainder, identity, lambda t, ans, x, y: -t * floor_divide(x, y))

pow = binary("pow", R.numeric, """x1 raised to the power x2, element-wise.

    An integer raised to a negative integer power is an error; cast x1 to a float first.""",
             example="""
    >>> import eagerflow_core as ef
    >>> ef.pow(ef.constant([2.0, 3.0]), 2)
    ef.Tensor([4., 9.], shape=(2,), dtype=float32, device='cpu:0')
""")


def _pow_log(x, ans):
    """d(x**y)/dy = x**y log x; where x == 0 the limit (for y > 0) is 0, not 0 * -inf."""
    if not isinstance(x, Tensor):  # 2.0 ** y: a Python base keeps full precision
        if isinstance(x, complex) or x <= 0:
            return ans * (_cmath.log(x) if x else 0.0)
        return ans * _math.log(x)
    return F.where(x == 0, 0, ans * log(F.where(x == 0, 1, x)))


def _pow_exponent_jvp(t, ans, x, y):
    d = _pow_log(x, ans)
    # A negative Python base of a real power: the real part, as the reverse rule's is taken.
    return t * (real(d) if d.dtype.kind == "c" and ans.dtype.kind != "c" else d)


defvjp(pow, lambda g, ans, x, y: g * cj(y * pow(x, y - 1)),
       lambda g, ans, x, y: g * cj(_pow_log(x, ans)))
defjvp(pow, lambda t, ans, x, y: t * (y * pow(x, y - 1)), _pow_exponent_jvp)

negative = unary("negative", R.numeric, "Negation -x, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.negative(ef.constant([1, -2]))
    ef.Tensor([-1,  2], shape=(2,), dtype=int64, device='cpu:0')
""")
defvjp(negative, _negated)
defjvp(negative, _negated)

positive = unary("positive", R.numeric, "+x (a copy of x), element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.positive(ef.constant([1.5, -2.0]))
    ef.Tensor([ 1.5, -2. ], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(positive, identity)
defjvp(positive, identity)

square = unary("square", R.numeric, "x * x, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.square(ef.constant([1.5, -2.0]))
    ef.Tensor([2.25, 4.  ], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(square, lambda g, ans, x: g * 2 * cj(x))
defjvp(square, lambda t, ans, x: t * 2 * x)

reciprocal = unary("reciprocal", R.floating, "1 / x, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.reciprocal(ef.constant([2.0, 0.0]))
    ef.Tensor([0.5, inf], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(reciprocal, lambda g, ans, x: -g * cj(ans * ans))
defjvp(reciprocal, lambda t, ans, x: -t * (ans * ans))

abs = unary("abs", R.to_real, """Absolute value |x|, element-wise.

    For complex x it is the modulus, of the matching real dtype (complex64 gives float32).""",
            example="""
    >>> import eagerflow_core as ef
    >>> ef.abs(ef.constant([-1.5, 2.0]))
    ef.Tensor([1.5, 2. ], shape=(2,), dtype=float32, device='cpu:0')
    >>> ef.abs(ef.constant([3 + 4j]))
    ef.Tensor([5.], shape=(1,), dtype=float32, device='cpu:0')
""")


def _abs_jvp(t, ans, x):
    # |z| is not holomorphic: d|z| = Re(conj(z / |z|) dz), 0 at 0 (the reverse rule's g * z/|z|)
    if x.dtype.kind != "c":
        return t * sign(x)
    return real(conj(sign(x)) * t)


defvjp(abs, lambda g, ans, x: g * sign(x))
defjvp(abs, _abs_jvp)

sign = unary("sign", R.numeric, "Sign of x (-1, 0 or 1; x/|x| for complex), element-wise.",
             example="""
    >>> import eagerflow_core as ef
    >>> ef.sign(ef.constant([-2.0, 0.0, 3.0]))
    ef.Tensor([-1.,  0.,  1.], shape=(3,), dtype=float32, device='cpu:0')
    >>> ef.sign(ef.constant([3 + 4j]))
    ef.Tensor([0.6+0.8j], shape=(1,), dtype=complex64, device='cpu:0')
""")


# Real sign is flat (zero almost everywhere); complex sign z/|z| is smooth off 0: d(z/|z|)
# projects out the radial part, (dz - Re(conj(s) dz) s) / |z|, a real-linear map equal to its
# own adjoint, so both rules have one form.
def _sign_rule(g, ans, x):
    if x.dtype.kind != "c":
        return None
    return F.where(x == 0, 0, (g - real(conj(g) * ans) * ans) / F.where(x == 0, 1, abs(x)))


defvjp(sign, _sign_rule)
defjvp(sign, _sign_rule)

maximum = binary("maximum", R.real_numeric, "Larger of x1 and x2, element-wise (NaN wins).",
                 example="""
    >>> import eagerflow_core as ef
    >>> ef.maximum(ef.constant([1.0, 3.0, ef.nan]), 2.0)
    ef.Tensor([ 2.,  3., nan], shape=(3,), dtype=float32, device='cpu:0')
""")
# Ties go to x1; a choice is its own adjoint, so both rules have one form.
_max_x1, _max_x2 = lambda g, ans, x, y: select(x >= y, g), lambda g, ans, x, y: select(x < y, g)
defvjp(maximum, _max_x1, _max_x2)
defjvp(maximum, _max_x1, _max_x2)

minimum = binary("minimum", R.real_numeric, "Smaller of x1 and x2, element-wise (NaN wins).",
                 example="""
    >>> import eagerflow_core as ef
    >>> ef.minimum(ef.constant([1, 5]), 3)
    ef.Tensor([1, 3], shape=(2,), dtype=int64, device='cpu:0')
""")
_min_x1, _min_x2 = lambda g, ans, x, y: select(x <= y, g), lambda g, ans, x, y: select(x > y, g)
defvjp(minimum, _min_x1, _min_x2)
defjvp(minimum, _min_x1, _min_x2)

# -- exponentials and logarithms ---------------------------------------------------------------
exp = unary("exp", R.floating, "Exponential e**x, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.exp(ef.constant([0.0, 1.0]))
    ef.Tensor([1.      , 2.718282], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(exp, lambda g, ans, x: g * cj(ans))
defjvp(exp, lambda t, ans, x: t * ans)

expm1 = unary("expm1", R.floating, "e**x - 1, accurate for small x, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.expm1(ef.constant([1e-10]))
    ef.Tensor([1.e-10], shape=(1,), dtype=float32, device='cpu:0')
""")
defvjp(expm1, lambda g, ans, x: g * cj(ans + 1))
defjvp(expm1, lambda t, ans, x: t * (ans + 1))

log = unary("log", R.floating, "Natural logarithm, element-wise (log(0) is -inf).", example="""
    >>> import eagerflow_core as ef
    >>> ef.log(ef.constant([1.0, 0.0, -1.0]))
    ef.Tensor([  0., -inf,  nan], shape=(3,), dtype=float32, device='cpu:0')
""")
defvjp(log, lambda g, ans, x: g / cj(x))
defjvp(log, lambda t, ans, x: t / x)

log1p = unary("log1p", R.floating, "log(1 + x), accurate for small x, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.log1p(ef.constant([1e-10]))
    ef.Tensor([1.e-10], shape=(1,), dtype=float32, device='cpu:0')
""")
defvjp(log1p, lambda g, ans, x: g / cj(x + 1))
defjvp(log1p, lambda t, ans, x: t / (x + 1))

log2 = unary("log2", R.floating, "Base-2 logarithm, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.log2(ef.constant([8.0, 0.5]))
    ef.Tensor([ 3., -1.], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(log2, lambda g, ans, x: g / cj(x * _math.log(2.0)))
defjvp(log2, lambda t, ans, x: t / (x * _math.log(2.0)))

log10 = unary("log10", R.floating, "Base-10 logarithm, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.log10(ef.constant([1, 10]))
    ef.Tensor([0., 1.], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(log10, lambda g, ans, x: g / cj(x * _math.log(10.0)))
defjvp(log10, lambda t, ans, x: t / (x * _math.log(10.0)))

logaddexp = binary("logaddexp", R.real_floating,
                   "log(exp(x1) + exp(x2)) without overflow, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.logaddexp(ef.constant([0.0, 100.0]), 100.0)
    ef.Tensor([100.      , 100.693146], shape=(2,), dtype=float32, device='cpu:0')
""")
# Real only, as are atan2, hypot and copysign: each rule is g (or t) times a real partial
# derivative, so the reverse and forward rules have one form.
_lae_x1, _lae_x2 = lambda g, ans, x, y: g * exp(x - ans), lambda g, ans, x, y: g * exp(y - ans)
defvjp(logaddexp, _lae_x1, _lae_x2)
defjvp(logaddexp, _lae_x1, _lae_x2)

sqrt = unary("sqrt", R.floating, "Square root, element-wise (NaN for x < 0 real).", example="""
    >>> import eagerflow_core as ef
    >>> ef.sqrt(ef.constant([4.0, 0.25]))
    ef.Tensor([2. , 0.5], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(sqrt, lambda g, ans, x: g / cj(ans * 2))
defjvp(sqrt, lambda t, ans, x: t / (ans * 2))

# -- trigonometric and hyperbolic --------------------------------------------------------------
sin = unary("sin", R.floating, "Sine, element-wise (radians).", example="""
    >>> import eagerflow_core as ef
    >>> ef.sin(ef.constant([0.0, ef.pi / 2]))
    ef.Tensor([0., 1.], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(sin, lambda g, ans, x: g * cj(cos(x)))
defjvp(sin, lambda t, ans, x: t * cos(x))

cos = unary("cos", R.floating, "Cosine, element-wise (radians).", example="""
    >>> import eagerflow_core as ef
    >>> ef.cos(ef.constant([0.0, ef.pi]))
    ef.Tensor([ 1., -1.], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(cos, lambda g, ans, x: -g * cj(sin(x)))
defjvp(cos, lambda t, ans, x: -t * sin(x))

tan = unary("tan", R.floating, "Tangent, element-wise (radians).", example="""
    >>> import eagerflow_core as ef
    >>> ef.tan(ef.constant([0.0, -0.0]))
    ef.Tensor([ 0., -0.], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(tan, lambda g, ans, x: g * cj(ans * ans + 1))
defjvp(tan, lambda t, ans, x: t * (ans * ans + 1))

asin = unary("asin", R.floating, "Inverse sine, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.asin(ef.constant([0.0, 1.0]))
    ef.Tensor([0.       , 1.5707964], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(asin, lambda g, ans, x: g / cj(sqrt(1 - x * x)))
defjvp(asin, lambda t, ans, x: t / sqrt(1 - x * x))

acos = unary("acos", R.floating, "Inverse cosine, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.acos(ef.constant([1.0, -1.0]))
    ef.Tensor([0.       , 3.1415927], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(acos, lambda g, ans, x: -g / cj(sqrt(1 - x * x)))
defjvp(acos, lambda t, ans, x: -t / sqrt(1 - x * x))

atan = unary("atan", R.floating, "Inverse tangent, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.atan(ef.constant([0.0, ef.inf]))
    ef.Tensor([0.       , 1.5707964], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(atan, lambda g, ans, x: g / cj(x * x + 1))
defjvp(atan, lambda t, ans, x: t / (x * x + 1))

atan2 = binary("atan2", R.real_floating,
               "Angle of the point (x2, x1), quadrant-aware, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.atan2(ef.constant([1.0, -1.0]), -1.0)
    ef.Tensor([ 2.3561945, -2.3561945], shape=(2,), dtype=float32, device='cpu:0')
""")
_atan2_x1 = lambda g, ans, x, y: g * y / (x * x + y * y)
_atan2_x2 = lambda g, ans, x, y: -g * x / (x * x + y * y)
defvjp(atan2, _atan2_x1, _atan2_x2)
defjvp(atan2, _atan2_x1, _atan2_x2)

sinh = unary("sinh", R.floating, "Hyperbolic sine, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.sinh(ef.constant([0.0, -ef.inf]))
    ef.Tensor([  0., -inf], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(sinh, lambda g, ans, x: g * cj(cosh(x)))
defjvp(sinh, lambda t, ans, x: t * cosh(x))

cosh = unary("cosh", R.floating, "Hyperbolic cosine, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.cosh(ef.constant([0.0, -ef.inf]))
    ef.Tensor([ 1., inf], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(cosh, lambda g, ans, x: g * cj(sinh(x)))
defjvp(cosh, lambda t, ans, x: t * sinh(x))

tanh = unary("tanh", R.floating, "Hyperbolic tangent, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.tanh(ef.constant([0.0, ef.inf]))
    ef.Tensor([0., 1.], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(tanh, lambda g, ans, x: g * cj(1 - ans * ans))
defjvp(tanh, lambda t, ans, x: t * (1 - ans * ans))

asinh = unary("asinh", R.floating, "Inverse hyperbolic sine, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.asinh(ef.constant([0.0, -ef.inf]))
    ef.Tensor([  0., -inf], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(asinh, lambda g, ans, x: g / cj(sqrt(x * x + 1)))
defjvp(asinh, lambda t, ans, x: t / sqrt(x * x + 1))

acosh = unary("acosh", R.floating, "Inverse hyperbolic cosine, element-wise (x >= 1).",
              example="""
    >>> import eagerflow_core as ef
    >>> ef.acosh(ef.constant([1.0, 0.5]))
    ef.Tensor([ 0., nan], shape=(2,), dtype=float32, device='cpu:0')
""")
defvjp(acosh, lambda g, ans, x: g / cj(sqrt(x * x - 1)))
defjvp(acosh, lambda t, ans, x: t / sqrt(x * x - 1))

atanh = unary("atanh", R.floating, "Inverse hyperbolic tangent, element-wise (|x| <= 1).",
              example="""
    >>> import eagerflow_core as ef
    >>> ef.atanh(ef.constant([0.0, 1.0, -1.0]))
    ef.Tensor([  0.,  inf, -inf], shape=(3,), dtype=float32, device='cpu:0')
""")
defvjp(atanh, lambda g, ans, x: g / cj(1 - x * x))
defjvp(atanh, lambda t, ans, x: t / (1 - x * x))

hypot = binary("hypot", R.real_floating, "sqrt(x1**2 + x2**2) without overflow, element-wise.",
               example="""
    >>> import eagerflow_core as ef
    >>> ef.hypot(ef.constant([3.0, 3e30]), 4.0)
    ef.Tensor([5.e+00, 3.e+30], shape=(2,), dtype=float32, device='cpu:0')
""")
_hypot_x1, _hypot_x2 = lambda g, ans, x, y: g * x / ans, lambda g, ans, x, y: g * y / ans
defvjp(hypot, _hypot_x1, _hypot_x2)
defjvp(hypot, _hypot_x1, _hypot_x2)

# -- rounding ----------------------------------------------------------------------------------
floor = unary("floor", R.real_numeric,
              "Largest integer <= x, element-wise (integers pass through).",
              differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.floor(ef.constant([-1.5, 1.5]))
    ef.Tensor([-2.,  1.], shape=(2,), dtype=float32, device='cpu:0')
""")

ceil = unary("ceil", R.real_numeric,
             "Smallest integer >= x, element-wise (integers pass through).",
             differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.ceil(ef.constant([-1.5, 1.5]))
    ef.Tensor([-1.,  2.], shape=(2,), dtype=float32, device='cpu:0')
""")

trunc = unary("trunc", R.real_numeric, "x rounded towards zero, element-wise.",
              differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.trunc(ef.constant([-1.5, 1.5]))
    ef.Tensor([-1.,  1.], shape=(2,), dtype=float32, device='cpu:0')
""")

round = unary("round", R.numeric, """x rounded to the nearest integer, ties to even, element-wise.

    Complex x has its real and imaginary parts rounded separately.""",
              differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.round(ef.constant([0.5, 1.5, 2.5, -0.7]))
    ef.Tensor([ 0.,  2.,  2., -1.], shape=(4,), dtype=float32, device='cpu:0')
""")

# -- floating-point details --------------------------------------------------------------------
copysign = binary("copysign", R.real_floating, "|x1| with the sign of x2, element-wise.",
                  example="""
    >>> import eagerflow_core as ef
    >>> ef.copysign(ef.constant([1.0, -2.0]), -0.0)
    ef.Tensor([-1., -2.], shape=(2,), dtype=float32, device='cpu:0')
""")


def _sign_of(y):
    """+1 where y's sign bit is clear, -1 where set (so -0.0 counts as negative)."""
    if not isinstance(y, Tensor):
        return -1.0 if _math.copysign(1.0, y) < 0 else 1.0
    return 1 - 2 * signbit(y).astype(y.dtype)


def _copysign_x1(g, ans, x, y):
    return g * sign(x) * _sign_of(y)


defvjp(copysign, _copysign_x1, None)  # flat in x2 (almost everywhere)
defjvp(copysign, _copysign_x1, None)

nextafter = binary("nextafter", R.real_floating,
                   "Next representable value after x1 towards x2, element-wise.",
                   differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.nextafter(ef.constant([1.0]), 2.0)
    ef.Tensor([1.0000001], shape=(1,), dtype=float32, device='cpu:0')
""")

signbit = unary("signbit", R.predicate_real, "True where the sign bit of x is set (-0.0 too).",
                differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.signbit(ef.constant([-0.0, 0.0, -1.0]))
    ef.Tensor([ True, False,  True], shape=(3,), dtype=bool, device='cpu:0')
""")

isnan = unary("isnan", R.predicate, "True where x is NaN (either part, for complex).",
              differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.isnan(ef.constant([1.0, ef.nan]))
    ef.Tensor([False,  True], shape=(2,), dtype=bool, device='cpu:0')
""")

isinf = unary("isinf", R.predicate, "True where x is +inf or -inf (either part, for complex).",
              differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.isinf(ef.constant([ef.inf, -ef.inf, 1.0]))
    ef.Tensor([ True,  True, False], shape=(3,), dtype=bool, device='cpu:0')
""")

isfinite = unary("isfinite", R.predicate, "True where x is neither NaN nor infinite.",
                 differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.isfinite(ef.constant([ef.inf, ef.nan, 1.0]))
    ef.Tensor([False, False,  True], shape=(3,), dtype=bool, device='cpu:0')
""")

# -- complex numbers ---------------------------------------------------------------------------
real = unary("real", R.to_real, "Real part, element-wise (real inputs pass through).", example="""
    >>> import eagerflow_core as ef
    >>> ef.real(ef.constant([1 + 2j]))
    ef.Tensor([1.], shape=(1,), dtype=float32, device='cpu:0')
""")
# real, imag and conj are real-linear but not holomorphic: each forward rule is the map itself.
defvjp(real, lambda g, ans, x: g if x.dtype.kind != "c" else g * (1 + 0j))
defjvp(real, lambda t, ans, x: t if x.dtype.kind != "c" else real(t))

imag = unary("imag", R.to_real, "Imaginary part, element-wise (zero for real inputs).", example="""
    >>> import eagerflow_core as ef
    >>> ef.imag(ef.constant([1 + 2j]))
    ef.Tensor([2.], shape=(1,), dtype=float32, device='cpu:0')
""")
defvjp(imag, lambda g, ans, x: None if x.dtype.kind != "c" else g * 1j)
defjvp(imag, lambda t, ans, x: None if x.dtype.kind != "c" else imag(t))

conj = unary("conj", R.numeric, "Complex conjugate, element-wise (real inputs pass through).",
             example="""
    >>> import eagerflow_core as ef
    >>> ef.conj(ef.constant([1 + 2j]))
    ef.Tensor([1.-2.j], shape=(1,), dtype=complex64, device='cpu:0')
""")
defvjp(conj, lambda g, ans, x: cj(g))
defjvp(conj, lambda t, ans, x: cj(t))

# -- bitwise -----------------------------------------------------------------------------------
bitwise_and = binary("bitwise_and", R.integer_or_bool, "x1 & x2, element-wise.",
                     differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.bitwise_and(ef.constant([12, 10]), 6)
    ef.Tensor([4, 2], shape=(2,), dtype=int64, device='cpu:0')
""")
bitwise_or = binary("bitwise_or", R.integer_or_bool, "x1 | x2, element-wise.",
                    differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.bitwise_or(ef.constant([12, 10]), 6)
    ef.Tensor([14, 14], shape=(2,), dtype=int64, device='cpu:0')
""")
bitwise_xor = binary("bitwise_xor", R.integer_or_bool, "x1 ^ x2, element-wise.",
                     differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.bitwise_xor(ef.constant([12, 10]), 6)
    ef.Tensor([10, 12], shape=(2,), dtype=int64, device='cpu:0')
""")
bitwise_invert = unary("bitwise_invert", R.integer_or_bool, "~x, element-wise.",
                       differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.bitwise_invert(ef.constant([0, 5], dtype=ef.uint8))
    ef.Tensor([255, 250], shape=(2,), dtype=uint8, device='cpu:0')
""")
bitwise_left_shift = binary("bitwise_left_shift", R.integer, "x1 << x2, element-wise (x2 >= 0).",
                            differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.bitwise_left_shift(ef.constant([1, 3]), 2)
    ef.Tensor([ 4, 12], shape=(2,), dtype=int64, device='cpu:0')
""")
bitwise_right_shift = binary("bitwise_right_shift", R.integer,
                             "x1 >> x2 (arithmetic for signed x1), element-wise (x2 >= 0).",
                             differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.bitwise_right_shift(ef.constant([16, -16]), 2)
    ef.Tensor([ 4, -4], shape=(2,), dtype=int64, device='cpu:0')
""")


# -- clip: a general op, since min and max may be tensors, scalars or None --------------------

def _clip_dtype(x, min=None, max=None):
    R.require(x, "iuf", "a real numeric (integer or real floating)")
    for bound in (min, max):
        if bound is not None:  # a tensor bound (a Python scalar was checked by clip)
            if bound.kind not in ("iub" if x.kind in "iu" else "iubf"):
                raise DTypeError(f"expects bounds of x's kind, not {bound} bounds for {x} x")
            promote_types(x, bound)  # uint64 x with a signed bound has no common dtype
    return x


clip_op = defop("clip", family="elementwise", nin=3, dtype_rule=_clip_dtype,
                shape_rule=R.broadcast_rule, scalar_inputs=True)


def _clip_scalar(x: Tensor, bound, name: str):
    """A Python scalar bound, checked against x's dtype; tensors and None pass unchanged."""
    if isinstance(bound, np.generic):
        bound = bound.item()
    if isinstance(bound, int) and x.dtype.kind in "iu":
        # Saturate a bound beyond the dtype's range: clip(uint8, min=-1) is x, as the bound
        # cannot be reached either way (the standard leaves it to the implementation).
        info = iinfo(x.dtype)
        return max(info.min, min(bound, info.max))
    if isinstance(bound, float) and x.dtype.kind in "iu" or isinstance(bound, complex):
        raise DTypeError(f"clip: {name}={bound!r} is a Python {type(bound).__name__}, but x is "
                         f"{x.dtype}; give a bound of x's kind (or cast x with ef.astype)")
    return bound


@public(clip_op)
def clip(x, /, min=None, max=None) -> Tensor:
    """Each element of x clamped to [min, max], element-wise; a None bound is no bound.

    The result has x's dtype and the broadcast shape of x, min and max. A bound is a Python
    scalar or a tensor of x's kind (integer bounds for integer x); a NaN bound gives NaN.
    Python int bounds beyond an integer dtype's range saturate. Where min > max the result
    is max.

    >>> import eagerflow_core as ef
    >>> ef.clip(ef.constant([-2.0, 0.5, 3.0]), -1, 1)
    ef.Tensor([-1. ,  0.5,  1. ], shape=(3,), dtype=float32, device='cpu:0')
    >>> ef.clip(ef.constant([1, 200], dtype=ef.uint8), max=ef.constant([100, 150]))
    ef.Tensor([  1, 150], shape=(2,), dtype=uint8, device='cpu:0')
    """
    if type(x) is not Tensor:
        x = as_tensor_arg(clip_op, x)
    return call(clip_op, (x, _clip_scalar(x, min, "min"), _clip_scalar(x, max, "max")))


# Each element comes from one of x, min, max: the rules choose, and a choice is its own
# adjoint, so the reverse and forward rules have one form.
def _clip_x(g, ans, x, lo, hi):
    return select(ans == x, g)  # elements the bounds left alone (ties go to x, like TF)


def _clip_lo(g, ans, x, lo, hi):
    return select((ans != x) & (ans == lo), g)


def _clip_hi(g, ans, x, lo, hi):
    return select(ans != x if lo is None else (ans != x) & (ans != lo), g)


defvjp(clip, _clip_x, _clip_lo, _clip_hi)
defjvp(clip, _clip_x, _clip_lo, _clip_hi)


__all__ = [name for name, value in list(globals().items())
           if hasattr(value, "op") and not name.startswith("_")]

