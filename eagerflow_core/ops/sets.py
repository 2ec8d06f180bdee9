"""Set ops of the Array API standard: unique_all, unique_counts, unique_inverse, unique_values.

Each flattens its input and returns the distinct values (sorted, on the NumPy backend); NaNs
are all distinct, as the standard asks, since NaN != NaN. Index outputs are int64, and
``inverse_indices`` has the input's shape, so ``values[inverse_indices]`` rebuilds the input.
"""

from __future__ import annotations

from typing import NamedTuple

from .._dispatch import call
from .._dtypes import default_index
from .._registry import defop
from .._tensor import Tensor
from . import _rules as R
from ._define import public


class UniqueAllResult(NamedTuple):
    values: Tensor
    indices: Tensor
    inverse_indices: Tensor
    counts: Tensor


class UniqueCountsResult(NamedTuple):
    values: Tensor
    counts: Tensor


class UniqueInverseResult(NamedTuple):
    values: Tensor
    inverse_indices: Tensor


def _all_dtypes(x):
    return (x, default_index, default_index, default_index)


def _pair_dtypes(x):
    return (x, default_index)


# How many distinct values there are depends on the values: the shape rules say None.
def _all_shapes(x):
    return [(None,), (None,), tuple(x), (None,)]


def _counts_shapes(x):
    return [(None,), (None,)]


def _inverse_shapes(x):
    return [(None,), tuple(x)]


def _values_shape(x):
    return (None,)


unique_all_op = defop("unique_all", family="sets", dtype_rule=_all_dtypes, nout=4,
                      shape_rule=_all_shapes, differentiable=False)
unique_counts_op = defop("unique_counts", family="sets", dtype_rule=_pair_dtypes, nout=2,
                         shape_rule=_counts_shapes, differentiable=False)
unique_inverse_op = defop("unique_inverse", family="sets", dtype_rule=_pair_dtypes, nout=2,
                          shape_rule=_inverse_shapes, differentiable=False)
unique_values_op = defop("unique_values", family="sets", dtype_rule=R.same_dtype,
                         shape_rule=_values_shape, differentiable=False)


@public(unique_all_op)
def unique_all(x, /) -> UniqueAllResult:
    """The distinct values of ``x``, the index of each one's first occurrence in the
    flattened ``x``, the index into ``values`` of every element of ``x``, and each value's
    count.

    >>> import eagerflow_core as ef
    >>> r = ef.unique_all(ef.constant([3, 1, 3, 2]))
    >>> r.values
    ef.Tensor([1, 2, 3], shape=(3,), dtype=int64, device='cpu:0')
    >>> r.indices.tolist(), r.inverse_indices.tolist(), r.counts.tolist()
    ([1, 3, 0], [2, 0, 2, 1], [1, 1, 2])
    """
    return UniqueAllResult(*call(unique_all_op, (x,)))


@public(unique_counts_op)
def unique_counts(x, /) -> UniqueCountsResult:
    """The distinct values of ``x`` and how often each occurs.

    >>> import eagerflow_core as ef
    >>> ef.unique_counts(ef.constant([[1.0, 2.0], [2.0, 2.0]])).counts
    ef.Tensor([1, 3], shape=(2,), dtype=int64, device='cpu:0')
    """
    return UniqueCountsResult(*call(unique_counts_op, (x,)))


@public(unique_inverse_op)
def unique_inverse(x, /) -> UniqueInverseResult:
    """The distinct values of ``x`` and, shaped like ``x``, each element's index into them.

    >>> import eagerflow_core as ef
    >>> ef.unique_inverse(ef.constant([[5, 7], [7, 5]])).inverse_indices
    ef.Tensor([[0, 1],
               [1, 0]], shape=(2, 2), dtype=int64, device='cpu:0')
    """
    return UniqueInverseResult(*call(unique_inverse_op, (x,)))


@public(unique_values_op)
def unique_values(x, /) -> Tensor:
    """The distinct values of ``x``, as a 1-D tensor.

    >>> import eagerflow_core as ef
    >>> ef.unique_values(ef.constant([3, 1, 3, 2]))
    ef.Tensor([1, 2, 3], shape=(3,), dtype=int64, device='cpu:0')
    """
    return call(unique_values_op, (x,))


__all__ = ["unique_all", "unique_counts", "unique_inverse", "unique_values"]


# -- gradients ---------------------------------------------------------------------------------
# None: every set op is differentiable=False. The indices, inverse indices and counts are
# integers, and the distinct values are a data-dependent selection that merges tied inputs (as
# TensorFlow's unique, which has no gradient). To differentiate through the values, gather them
# from x instead: ``ef.take(ef.reshape(x, (-1,)), unique_all(x).indices)``.
