"""Elementwise ops of the Array API standard, one line each.

Names and argument order are the standard's; each op's dtype rule is one of ``_rules``'s.
Binary ops broadcast and accept a Python scalar on either side (weak: it takes the tensor's
dtype). Gradient rules for these ops live with the autodiff module's table.
"""

from __future__ import annotations

from . import _rules as R
from ._define import binary, unary

# -- arithmetic --------------------------------------------------------------------------------
add = binary("add", R.numeric, "Sum x1 + x2, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.add(ef.constant([1, 2]), 10)
    ef.Tensor([11, 12], shape=(2,), dtype=int64, device='cpu:0')
""")
subtract = binary("subtract", R.numeric, "Difference x1 - x2, element-wise.")
multiply = binary("multiply", R.numeric, "Product x1 * x2, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.multiply(ef.constant([1.5, 2.0]), 2)
    ef.Tensor([3., 4.], shape=(2,), dtype=float32, device='cpu:0')
""")
divide = binary("divide", R.true_divide, """True division x1 / x2, element-wise.

    Integer inputs give the default float dtype (float32), as in PyTorch and JAX.""", example="""
    >>> import eagerflow_core as ef
    >>> ef.divide(ef.constant([3, 4]), 2)
    ef.Tensor([1.5, 2. ], shape=(2,), dtype=float32, device='cpu:0')
""")
floor_divide = binary("floor_divide", R.real_numeric, "Floor division x1 // x2, element-wise.",
                      differentiable=False)
remainder = binary("remainder", R.real_numeric,
                   "Remainder of x1 / x2 with the sign of x2 (Python's %), element-wise.")
pow = binary("pow", R.numeric, "x1 raised to the power x2, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.pow(ef.constant([2.0, 3.0]), 2)
    ef.Tensor([4., 9.], shape=(2,), dtype=float32, device='cpu:0')
""")
negative = unary("negative", R.numeric, "Negation -x, element-wise.")
positive = unary("positive", R.numeric, "+x (a copy of x), element-wise.")
square = unary("square", R.numeric, "x * x, element-wise.")
reciprocal = unary("reciprocal", R.floating, "1 / x, element-wise.")
abs = unary("abs", R.to_real, "Absolute value |x| (modulus for complex), element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.abs(ef.constant([-1.5, 2.0]))
    ef.Tensor([1.5, 2. ], shape=(2,), dtype=float32, device='cpu:0')
""")
sign = unary("sign", R.numeric, "Sign of x (-1, 0 or 1; x/|x| for complex), element-wise.")
maximum = binary("maximum", R.real_numeric, "Larger of x1 and x2, element-wise (NaN wins).")
minimum = binary("minimum", R.real_numeric, "Smaller of x1 and x2, element-wise (NaN wins).")

# -- exponentials and logarithms ---------------------------------------------------------------
exp = unary("exp", R.floating, "Exponential e**x, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.exp(ef.constant([0.0, 1.0]))
    ef.Tensor([1.      , 2.718282], shape=(2,), dtype=float32, device='cpu:0')
""")
expm1 = unary("expm1", R.floating, "e**x - 1, accurate for small x, element-wise.")
log = unary("log", R.floating, "Natural logarithm, element-wise.")
log1p = unary("log1p", R.floating, "log(1 + x), accurate for small x, element-wise.")
log2 = unary("log2", R.floating, "Base-2 logarithm, element-wise.")
log10 = unary("log10", R.floating, "Base-10 logarithm, element-wise.")
logaddexp = binary("logaddexp", R.real_floating, "log(exp(x1) + exp(x2)) without overflow, element-wise.")
sqrt = unary("sqrt", R.floating, "Square root, element-wise.")

# -- trigonometric and hyperbolic --------------------------------------------------------------
sin = unary("sin", R.floating, "Sine, element-wise (radians).")
cos = unary("cos", R.floating, "Cosine, element-wise (radians).")
tan = unary("tan", R.floating, "Tangent, element-wise (radians).")
asin = unary("asin", R.floating, "Inverse sine, element-wise.")
acos = unary("acos", R.floating, "Inverse cosine, element-wise.")
atan = unary("atan", R.floating, "Inverse tangent, element-wise.")
atan2 = binary("atan2", R.real_floating, "Angle of the point (x2, x1), quadrant-aware, element-wise.")
sinh = unary("sinh", R.floating, "Hyperbolic sine, element-wise.")
cosh = unary("cosh", R.floating, "Hyperbolic cosine, element-wise.")
tanh = unary("tanh", R.floating, "Hyperbolic tangent, element-wise.", example="""
    >>> import eagerflow_core as ef
    >>> ef.tanh(ef.constant([0.0]))
    ef.Tensor([0.], shape=(1,), dtype=float32, device='cpu:0')
""")
asinh = unary("asinh", R.floating, "Inverse hyperbolic sine, element-wise.")
acosh = unary("acosh", R.floating, "Inverse hyperbolic cosine, element-wise.")
atanh = unary("atanh", R.floating, "Inverse hyperbolic tangent, element-wise.")
hypot = binary("hypot", R.real_floating, "sqrt(x1**2 + x2**2) without overflow, element-wise.")

# -- rounding ----------------------------------------------------------------------------------
floor = unary("floor", R.real_numeric, "Largest integer <= x, element-wise (integers pass through).",
              differentiable=False)
ceil = unary("ceil", R.real_numeric, "Smallest integer >= x, element-wise (integers pass through).",
             differentiable=False)
trunc = unary("trunc", R.real_numeric, "x rounded towards zero, element-wise.", differentiable=False)
round = unary("round", R.numeric, "x rounded to the nearest integer, ties to even, element-wise.",
              differentiable=False)

# -- floating-point details --------------------------------------------------------------------
copysign = binary("copysign", R.real_floating, "|x1| with the sign of x2, element-wise.")
nextafter = binary("nextafter", R.real_floating, "Next representable value after x1 towards x2.",
                   differentiable=False)
signbit = unary("signbit", R.predicate_real, "True where the sign bit of x is set (-0.0 too).",
                differentiable=False)
isnan = unary("isnan", R.predicate, "True where x is NaN.", differentiable=False)
isinf = unary("isinf", R.predicate, "True where x is +inf or -inf.", differentiable=False)
isfinite = unary("isfinite", R.predicate, "True where x is neither NaN nor infinite.",
                 differentiable=False)

# -- complex numbers ---------------------------------------------------------------------------
real = unary("real", R.to_real, "Real part, element-wise (real inputs pass through).")
imag = unary("imag", R.to_real, "Imaginary part, element-wise (zero for real inputs).")
conj = unary("conj", R.numeric, "Complex conjugate, element-wise (real inputs pass through).")

# -- comparisons -------------------------------------------------------------------------------
equal = binary("equal", R.compare, "x1 == x2, element-wise.", differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.equal(ef.constant([1, 2]), 2)
    ef.Tensor([False,  True], shape=(2,), dtype=bool, device='cpu:0')
""")
not_equal = binary("not_equal", R.compare, "x1 != x2, element-wise.", differentiable=False)
less = binary("less", R.compare_real, "x1 < x2, element-wise.", differentiable=False)
less_equal = binary("less_equal", R.compare_real, "x1 <= x2, element-wise.", differentiable=False)
greater = binary("greater", R.compare_real, "x1 > x2, element-wise.", differentiable=False)
greater_equal = binary("greater_equal", R.compare_real, "x1 >= x2, element-wise.",
                       differentiable=False)

# -- logical -----------------------------------------------------------------------------------
logical_and = binary("logical_and", R.logical, "x1 and x2 (nonzero is True), element-wise.",
                     differentiable=False)
logical_or = binary("logical_or", R.logical, "x1 or x2, element-wise.", differentiable=False)
logical_xor = binary("logical_xor", R.logical, "x1 xor x2, element-wise.", differentiable=False)
logical_not = unary("logical_not", R.logical, "not x, element-wise.", differentiable=False)

# -- bitwise -----------------------------------------------------------------------------------
bitwise_and = binary("bitwise_and", R.integer_or_bool, "x1 & x2, element-wise.", differentiable=False)
bitwise_or = binary("bitwise_or", R.integer_or_bool, "x1 | x2, element-wise.", differentiable=False)
bitwise_xor = binary("bitwise_xor", R.integer_or_bool, "x1 ^ x2, element-wise.", differentiable=False)
bitwise_invert = unary("bitwise_invert", R.integer_or_bool, "~x, element-wise.", differentiable=False)
bitwise_left_shift = binary("bitwise_left_shift", R.integer, "x1 << x2, element-wise.",
                            differentiable=False)
bitwise_right_shift = binary("bitwise_right_shift", R.integer, "x1 >> x2, element-wise.",
                             differentiable=False)

__all__ = [name for name, value in list(globals().items()) if hasattr(value, "op")]
