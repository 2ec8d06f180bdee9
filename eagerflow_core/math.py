"""``ef.math``: the math ops under TensorFlow's ``tf.math`` names and signatures.

Most names are the Array API functions themselves (``ef.math.add is ef.add``); the rest are
TensorFlow's spellings (``truediv``, ``is_nan``, ``reduce_std``), TensorFlow's argument
conventions (``argmax``'s axis 0, ``output_type``) or short compositions of existing ops with
their gradients (``xlogy``, ``divide_no_nan``, ``l2_normalize``). ``top_k`` is an op of its own
(``ops/tf_array.py``). The segment ops and ``bincount`` are looked up on ``eagerflow_core`` when
first asked for (they are defined in ``ops/tf_indexing.py``, built alongside this module).

>>> import eagerflow_core as ef
>>> ef.math.divide_no_nan(ef.constant([1.0, 2.0]), ef.constant([0.0, 4.0]))
ef.Tensor([0. , 0.5], shape=(2,), dtype=float32, device='cpu:0')
"""

from __future__ import annotations

import sys

from ._dtypes import int64
from .nn import log_softmax as _log_softmax
from .nn import logsumexp as _logsumexp
from .nn import sigmoid, softplus
from .nn import softmax as _softmax
from .ops._tf_args import as_tensor as _as_tensor
from .ops._tf_args import axis_arg as _axis
from .ops.comparison import (
    equal,
    greater,
    greater_equal,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    not_equal,
)
from .ops.creation import astype as _astype
from .ops.elementwise import (
    abs,
    acos,
    acosh,
    add,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    ceil,
    conj,
    cos,
    cosh,
    divide,
    exp,
    expm1,
    floor,
    floor_divide,
    imag,
    isfinite,
    isinf,
    isnan,
    log,
    log1p,
    maximum,
    minimum,
    multiply,
    negative,
    pow,
    real,
    reciprocal,
    remainder,
    round,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
)
from .ops.searching import argmax as _argmax
from .ops.searching import argmin as _argmin
from .ops.searching import count_nonzero as _count_nonzero
from .ops.searching import where as _where
from .ops.special import digamma, erf, erfc, erfinv, igamma, igammac, lgamma, polygamma
from .ops.statistical import reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_sum
from .ops.statistical import sum as _sum
from .ops.tf_array import TopKV2, top_k
from .ops.tf_compose import (
    cumprod,
    cumsum,
    reduce_all,
    reduce_any,
    reduce_std,
    reduce_variance,
)

# TensorFlow's other names for the same functions.
truediv = divide
floordiv = floor_divide
floormod = mod = remainder
is_nan, is_inf, is_finite = isnan, isinf, isfinite


def argmax(input, axis=None, output_type=int64, name=None):
    """Index of the largest value along ``axis`` (``tf.math.argmax``: axis 0 by default,
    ``output_type`` int64 or int32).

    >>> import eagerflow_core as ef
    >>> ef.math.argmax(ef.constant([[1, 5], [7, 2]]))
    ef.Tensor([1, 0], shape=(2,), dtype=int64, device='cpu:0')
    """
    out = _argmax(input, axis=0 if axis is None else int(axis))
    return out if output_type is int64 else _astype(out, output_type)


def argmin(input, axis=None, output_type=int64, name=None):
    """Index of the smallest value along ``axis`` (``tf.math.argmin``; see :func:`argmax`).

    >>> import eagerflow_core as ef
    >>> ef.math.argmin(ef.constant([[1, 5], [7, 2]]), axis=1)
    ef.Tensor([0, 1], shape=(2,), dtype=int64, device='cpu:0')
    """
    out = _argmin(input, axis=0 if axis is None else int(axis))
    return out if output_type is int64 else _astype(out, output_type)


def count_nonzero(input, axis=None, keepdims=None, dtype=int64, name=None):
    """The number of nonzero elements over ``axis`` (``tf.math.count_nonzero``), as ``dtype``.

    >>> import eagerflow_core as ef
    >>> ef.math.count_nonzero(ef.constant([[0, 1], [2, 3]]), axis=1)
    ef.Tensor([1, 2], shape=(2,), dtype=int64, device='cpu:0')
    """
    out = _count_nonzero(input, axis=_axis(axis), keepdims=bool(keepdims))
    return out if dtype is int64 else _astype(out, dtype)


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    """``log(reduce_sum(exp(x), axis))`` without overflow (``tf.math.reduce_logsumexp``).

    >>> import eagerflow_core as ef
    >>> ef.reduce_logsumexp(ef.constant([1000.0, 1000.0]))
    ef.Tensor(1000.6932, shape=(), dtype=float32, device='cpu:0')
    """
    return _logsumexp(input_tensor, axis=_axis(axis), keepdims=keepdims)


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """``sqrt(reduce_sum(x * conj(x), axis))`` (``tf.math.reduce_euclidean_norm``).

    >>> import eagerflow_core as ef
    >>> ef.math.reduce_euclidean_norm(ef.constant([3.0, 4.0]))
    ef.Tensor(5., shape=(), dtype=float32, device='cpu:0')
    """
    x = _as_tensor("math.reduce_euclidean_norm", input_tensor)
    return sqrt(_sum(real(x * conj(x)) if x.dtype.kind == "c" else x * x, axis=_axis(axis),
                     keepdims=keepdims))


def log_softmax(logits, axis=None, name=None):
    """``logits - reduce_logsumexp(logits, axis, keepdims=True)`` (axis -1 by default).

    >>> import eagerflow_core as ef
    >>> ef.math.exp(ef.math.log_softmax(ef.constant([0.0, 0.0])))
    ef.Tensor([0.5, 0.5], shape=(2,), dtype=float32, device='cpu:0')
    """
    return _log_softmax(logits, axis=-1 if axis is None else axis)


def softmax(logits, axis=None, name=None):
    """``exp(logits) / reduce_sum(exp(logits), axis)`` (axis -1 by default).

    >>> import eagerflow_core as ef
    >>> ef.math.softmax(ef.constant([0.0, 0.0]))
    ef.Tensor([0.5, 0.5], shape=(2,), dtype=float32, device='cpu:0')
    """
    return _softmax(logits, axis=-1 if axis is None else axis)


def rsqrt(x, name=None):
    """``1 / sqrt(x)``, element-wise (``tf.math.rsqrt``).

    >>> import eagerflow_core as ef
    >>> ef.math.rsqrt(ef.constant([4.0]))
    ef.Tensor([0.5], shape=(1,), dtype=float32, device='cpu:0')
    """
    return reciprocal(sqrt(x))


def squared_difference(x, y, name=None):
    """``(x - y) * conj(x - y)``, element-wise (``tf.math.squared_difference``).

    >>> import eagerflow_core as ef
    >>> ef.math.squared_difference(ef.constant([1.0, 5.0]), 3.0)
    ef.Tensor([4., 4.], shape=(2,), dtype=float32, device='cpu:0')
    """
    d = subtract(x, y)
    return d * conj(d) if d.dtype.kind == "c" else square(d)


def xlogy(x, y, name=None):
    """``x * log(y)``, and 0 where ``x`` is 0 (even where ``y`` is 0): ``tf.math.xlogy``.

    The log is taken of a safe ``y`` where ``x`` is 0, so the gradient there is 0 too, not
    ``0 * inf``.

    >>> import eagerflow_core as ef
    >>> ef.math.xlogy(ef.constant([0.0, 2.0]), ef.constant([0.0, 1.0]))
    ef.Tensor([0., 0.], shape=(2,), dtype=float32, device='cpu:0')
    """
    zero = equal(x, 0)
    return _where(zero, 0, multiply(x, log(_where(zero, 1, y))))


def divide_no_nan(x, y, name=None):
    """``x / y``, and 0 where ``y`` is 0 (``tf.math.divide_no_nan``); the gradient there is 0.

    >>> import eagerflow_core as ef
    >>> ef.math.divide_no_nan(ef.constant([1.0]), ef.constant([0.0]))
    ef.Tensor([0.], shape=(1,), dtype=float32, device='cpu:0')
    """
    zero = equal(y, 0)
    return _where(zero, 0, divide(x, _where(zero, 1, y)))


def l2_normalize(x, axis=None, epsilon=1e-12, name=None):
    """``x / sqrt(max(reduce_sum(x**2, axis), epsilon))`` (``tf.math.l2_normalize``).

    >>> import eagerflow_core as ef
    >>> ef.math.l2_normalize(ef.constant([3.0, 4.0]))
    ef.Tensor([0.6, 0.8], shape=(2,), dtype=float32, device='cpu:0')
    """
    x = _as_tensor("math.l2_normalize", x)
    sq = real(x * conj(x)) if x.dtype.kind == "c" else square(x)
    return x * rsqrt(maximum(_sum(sq, axis=_axis(axis), keepdims=True), epsilon))


def add_n(inputs, name=None):
    """The element-wise sum of a list of tensors of one shape (``tf.math.add_n``).

    >>> import eagerflow_core as ef
    >>> ef.math.add_n([ef.constant([1, 2]), ef.constant([3, 4]), ef.constant([5, 6])])
    ef.Tensor([ 9, 12], shape=(2,), dtype=int64, device='cpu:0')
    """
    if not inputs:
        from ._errors import InvalidArgumentError
        raise InvalidArgumentError("math.add_n: needs at least one tensor")
    total = inputs[0]
    for t in inputs[1:]:
        total = add(total, t)
    return total


# Defined by the gather/scatter/segment work (ops/tf_indexing.py): read from the package when
# asked for, so ef.math.segment_sum works once that module is merged, and says what is
# missing until then.
_ELSEWHERE = ("bincount", "segment_sum", "segment_mean", "segment_max", "segment_min",
              "segment_prod", "unsorted_segment_sum", "unsorted_segment_mean",
              "unsorted_segment_max", "unsorted_segment_min", "unsorted_segment_prod")


def __getattr__(name):
    if name in _ELSEWHERE:
        # the package face, already imported (it imports this module); looked up, not
        # imported, so this module stays below the face
        try:
            return sys.modules[__package__].__dict__[name]
        except KeyError:
            raise AttributeError(f"ef.math.{name}: this build of eagerflow has no "
                                 f"ef.{name}") from None
    raise AttributeError(f"module 'eagerflow_core.math' has no attribute {name!r}")


__all__ = [
    "TopKV2",
    "abs",
    "acos",
    "acosh",
    "add",
    "add_n",
    "argmax",
    "argmin",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "ceil",
    "conj",
    "cos",
    "cosh",
    "count_nonzero",
    "cumprod",
    "cumsum",
    "digamma",
    "divide",
    "divide_no_nan",
    "equal",
    "erf",
    "erfc",
    "erfinv",
    "exp",
    "expm1",
    "floor",
    "floordiv",
    "floormod",
    "greater",
    "greater_equal",
    "igamma",
    "igammac",
    "imag",
    "is_finite",
    "is_inf",
    "is_nan",
    "l2_normalize",
    "less",
    "less_equal",
    "lgamma",
    "log",
    "log1p",
    "log_softmax",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "maximum",
    "minimum",
    "mod",
    "multiply",
    "negative",
    "not_equal",
    "polygamma",
    "pow",
    "real",
    "reciprocal",
    "reduce_all",
    "reduce_any",
    "reduce_euclidean_norm",
    "reduce_logsumexp",
    "reduce_max",
    "reduce_mean",
    "reduce_min",
    "reduce_prod",
    "reduce_std",
    "reduce_sum",
    "reduce_variance",
    "round",
    "rsqrt",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "softmax",
    "softplus",
    "sqrt",
    "square",
    "squared_difference",
    "subtract",
    "tan",
    "tanh",
    "top_k",
    "truediv",
    "xlogy",
]
