"""Elementwise comparisons and logical ops of the Array API standard.

Their results are bool, so none has a gradient. Binary ops broadcast and accept a
Python scalar on either side (weak: it takes the tensor's dtype).
"""

from __future__ import annotations

from . import _rules as R
from ._define import binary, unary

# -- comparisons -------------------------------------------------------------------------------
equal = binary("equal", R.compare, "x1 == x2, element-wise.", differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.equal(ef.constant([1, 2]), 2)
    ef.Tensor([False,  True], shape=(2,), dtype=bool, device='cpu:0')
""")
not_equal = binary("not_equal", R.compare, "x1 != x2, element-wise.", differentiable=False,
                   example="""
    >>> import eagerflow_core as ef
    >>> ef.not_equal(ef.constant([1, 2]), 2)
    ef.Tensor([ True, False], shape=(2,), dtype=bool, device='cpu:0')
""")
less = binary("less", R.compare_real, "x1 < x2, element-wise.", differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.less(ef.constant([1, 2, 3]), 2)
    ef.Tensor([ True, False, False], shape=(3,), dtype=bool, device='cpu:0')
""")
less_equal = binary("less_equal", R.compare_real, "x1 <= x2, element-wise.",
                    differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.less_equal(ef.constant([1, 2, 3]), 2)
    ef.Tensor([ True,  True, False], shape=(3,), dtype=bool, device='cpu:0')
""")
greater = binary("greater", R.compare_real, "x1 > x2, element-wise.", differentiable=False,
                 example="""
    >>> import eagerflow_core as ef
    >>> ef.greater(ef.constant([1, 2, 3]), 2)
    ef.Tensor([False, False,  True], shape=(3,), dtype=bool, device='cpu:0')
""")
greater_equal = binary("greater_equal", R.compare_real, "x1 >= x2, element-wise.",
                       differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.greater_equal(ef.constant([1, 2, 3]), 2)
    ef.Tensor([False,  True,  True], shape=(3,), dtype=bool, device='cpu:0')
""")

# -- logical -----------------------------------------------------------------------------------
logical_and = binary("logical_and", R.logical, "x1 and x2 (nonzero is True), element-wise.",
                     differentiable=False, example="""
    >>> import eagerflow_core as ef
    >>> ef.logical_and(ef.constant([True, True, False]), ef.constant([True, False, False]))
    ef.Tensor([ True, False, False], shape=(3,), dtype=bool, device='cpu:0')
""")
logical_or = binary("logical_or", R.logical, "x1 or x2, element-wise.", differentiable=False,
                    example="""
    >>> import eagerflow_core as ef
    >>> ef.logical_or(ef.constant([True, True, False]), ef.constant([True, False, False]))
    ef.Tensor([ True,  True, False], shape=(3,), dtype=bool, device='cpu:0')
""")
logical_xor = binary("logical_xor", R.logical, "x1 xor x2, element-wise.", differentiable=False,
                     example="""
    >>> import eagerflow_core as ef
    >>> ef.logical_xor(ef.constant([True, True, False]), ef.constant([True, False, False]))
    ef.Tensor([False,  True, False], shape=(3,), dtype=bool, device='cpu:0')
""")
logical_not = unary("logical_not", R.logical, "not x, element-wise.", differentiable=False,
                    example="""
    >>> import eagerflow_core as ef
    >>> ef.logical_not(ef.constant([True, False]))
    ef.Tensor([False,  True], shape=(2,), dtype=bool, device='cpu:0')
""")


__all__ = [name for name, value in list(globals().items())
           if hasattr(value, "op") and not name.startswith("_")]
