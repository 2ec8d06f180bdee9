"""Searching (argmax, argmin, count_nonzero, nonzero, searchsorted, where), sorting (sort,
argsort) and sets (unique_*).

The standard leaves the order of unique values unspecified: the unique ops' ``fn`` puts the
backend's answer in a canonical order (sorted values; lexicographic for complex) with eagerflow
ops, so any order passes and nothing else does.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from hypothesis import strategies as st

import eagerflow_core as ef

from ..._dtypes import bool_, float64
from .. import strategies as st_ef
from ._base import ALL, ErrorCase, OpInfo, Sample, arrays, grad_shapes, kinds, shapes, spread
from ._reductions import _sparse, reduction_samples

REAL = kinds("biuf")
_F = np.float32


def _small(dtype, shape):
    """Few distinct values (ties, for the first-occurrence and stability rules)."""
    return arrays(dtype, shape, low=-3, high=3)


# -- argmax, argmin, count_nonzero, nonzero ------------------------------------------------------

def _arg(name):
    fn = getattr(np, name)
    return OpInfo(
        name=name, fn=getattr(ef, name), ref=lambda x, **kw: fn(x, **kw), dtypes=REAL,
        samples=partial(reduction_samples, values=_small, nonempty=True, single=True),
        errors=(ErrorCase((np.ones((0, 3), _F),), {"axis": 0}, "ShapeError",
                          rf"^{name}: cannot search an empty axis"),
                ErrorCase((np.ones((2, 2), _F),), {"axis": (0, 1)}, "AxisError",
                          rf"^{name}: axis must be an int or None"),
                ErrorCase((np.ones(2, np.complex64),), {}, "DTypeError",
                          rf"^{name}: .*real.*complex64")))


@st.composite
def _nonzero_samples(draw, dtype):
    return Sample((draw(_sparse(dtype, draw(shapes(1, 3))), label="x"),))


# -- searchsorted --------------------------------------------------------------------------------

@st.composite
def _searchsorted_samples(draw, dtype):
    x1 = draw(_small(dtype, (draw(st.integers(0, 6)),)), label="x1")
    kwargs = {"side": draw(st.sampled_from(["left", "right"]), label="side")}
    if draw(st.booleans()):
        kwargs["sorter"] = np.argsort(x1, kind="stable").astype(np.int64)
    else:
        x1 = np.sort(x1)
    if draw(st.integers(0, 4)) == 0:  # a Python scalar to look up
        x2 = draw(st.booleans() if dtype.kind == "b" else
                  st.integers(0 if dtype.kind == "u" else -3, 3))
    else:
        x2 = draw(_small(dtype, draw(shapes(0, 2))), label="x2")
    return Sample((x1, x2), kwargs)


def _searchsorted_ref(x1, x2, *, side="left", sorter=None):
    return np.searchsorted(x1, x2, side=side, sorter=sorter)


# -- where ---------------------------------------------------------------------------------------

@st.composite
def _where_samples(draw, dtype, grad=False):
    all_shapes = draw(st_ef.broadcastable_shapes(3, 0, 3, int(grad), 3 if grad else 4))
    cond = draw(arrays(bool_, all_shapes[0]), label="condition")
    kind = float64 if grad else dtype
    x1 = draw(arrays(kind, all_shapes[1]), label="x1")
    if not grad and draw(st.integers(0, 4)) == 0:  # a Python scalar
        x2 = draw(st.booleans() if dtype.kind == "b" else st.integers(0, 3) if dtype.kind in "iu"
                  else st.sampled_from([0.5, -2.0]))
        return Sample((cond, x1, x2))
    return Sample((cond, x1, draw(arrays(kind, all_shapes[2]), label="x2")))


# -- sort, argsort -------------------------------------------------------------------------------

@st.composite
def _sort_samples(draw, dtype, grad=False):
    if grad:
        x = draw(spread(float64, draw(grad_shapes(1, 3))), label="x")
    else:
        x = draw(_small(dtype, draw(shapes(1, 3))), label="x")
    kwargs = {"axis": draw(st.integers(-x.ndim, x.ndim - 1), label="axis"),
              "descending": draw(st.booleans(), label="descending")}
    return Sample((x,), kwargs)


def _sort_ref(x, *, axis=-1, descending=False):
    out = np.sort(x, axis=axis)
    return np.flip(out, axis=axis) if descending else out


def _argsort_ref(x, *, axis=-1, descending=False):
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    # Descending and stable: equal values keep their order. Sort the reversed axis ascending
    # (stably), reverse that order, and map the positions back.
    n = x.shape[axis]
    rev = np.argsort(np.flip(x, axis=axis), axis=axis, kind="stable")
    return n - 1 - np.flip(rev, axis=axis)


# -- unique_* ------------------------------------------------------------------------------------

def _order(values):
    """The permutation that sorts 1-D ``values`` (a tensor), lexicographically for complex."""
    if values.dtype.kind != "c":
        return ef.argsort(values, stable=True)
    by_imag = ef.argsort(ef.imag(values), stable=True)
    return ef.take(by_imag, ef.argsort(ef.take(ef.real(values), by_imag), stable=True))


def _canonical(values, *rest, inverse=None):
    """``values`` and the per-value outputs in ``rest`` sorted; ``inverse`` (indices into
    values) renumbered to match."""
    p = _order(values)
    out = [ef.take(values, p)] + [ef.take(r, p) for r in rest]
    if inverse is not None:
        rank = ef.argsort(p, stable=True)  # rank[old position] = new position
        shape = inverse.shape
        out.append(ef.reshape(ef.take(rank, ef.reshape(inverse, (-1,))), shape))
    return out


def _unique_all(x):
    values, indices, inverse, counts = ef.unique_all(x)
    v, i, c, inv = _canonical(values, indices, counts, inverse=inverse)
    return v, i, inv, c


def _unique_counts(x):
    return tuple(_canonical(*ef.unique_counts(x)))


def _unique_inverse(x):
    values, inverse = ef.unique_inverse(x)
    return tuple(_canonical(values, inverse=inverse))


def _unique_values(x):
    return _canonical(ef.unique_values(x))[0]


def _np_unique_all(x):
    values, index, inverse, counts = np.unique(x.reshape(-1), return_index=True,
                                               return_inverse=True, return_counts=True)
    return values, index, inverse.reshape(x.shape), counts


@st.composite
def _unique_samples(draw, dtype):
    return Sample((draw(_small(dtype, draw(shapes(0, 3))), label="x"),))


def _unique(name, fn, ref):
    return OpInfo(
        name=name, fn=fn, ref=ref, dtypes=ALL, samples=_unique_samples,
        note="the values' order is unspecified: fn sorts the backend's answer (ef.argsort)",
        errors=(ErrorCase(("1, 2",), {}, "ArgumentTypeError", rf"^{name}: expected a Tensor"),))


INFOS = [
    _arg("argmax"),
    _arg("argmin"),
    OpInfo(name="count_nonzero", fn=ef.count_nonzero,
           ref=lambda x, **kw: np.count_nonzero(x, **kw), dtypes=ALL,
           samples=partial(reduction_samples, values=_sparse),
           errors=(ErrorCase((np.ones((2, 2), _F),), {"axis": 2}, "AxisError",
                             r"^count_nonzero: axis 2"),)),
    OpInfo(name="nonzero", fn=ef.nonzero, ref=lambda x: tuple(np.nonzero(x)), dtypes=ALL,
           samples=_nonzero_samples,
           errors=(ErrorCase((np.ones((), _F),), {}, "ShapeError", r"^nonzero: .*0-d"),)),
    OpInfo(name="searchsorted", fn=ef.searchsorted, ref=_searchsorted_ref, dtypes=REAL,
           samples=_searchsorted_samples,
           errors=(ErrorCase((np.ones((2, 2), _F), np.ones(2, _F)), {}, "ShapeError",
                             r"^searchsorted: x1 must be 1-D.*\(2, 2\)"),
                   ErrorCase((np.ones(2, _F), np.ones(2, _F)), {"side": "middle"},
                             "InvalidArgumentError", r"^searchsorted: side must be"),
                   ErrorCase((np.ones(2, np.complex64), np.ones(2, np.complex64)), {},
                             "DTypeError", r"^searchsorted: .*complex"))),
    OpInfo(name="where", fn=ef.where, ref=np.where, dtypes=ALL, samples=_where_samples,
           differentiable=True, grad_samples=partial(_where_samples, grad=True),
           errors=(ErrorCase((np.ones(2, _F), np.ones(2, _F), np.ones(2, _F)), {}, "DTypeError",
                             r"^where: condition must be a bool tensor, not float32"),
                   ErrorCase((np.ones(2, np.bool_), np.ones(2, _F), np.ones(3, _F)), {},
                             "ShapeError", r"^where: shapes .*cannot be"))),
    OpInfo(name="sort", fn=ef.sort, ref=_sort_ref, dtypes=REAL, samples=_sort_samples,
           differentiable=True, grad_samples=partial(_sort_samples, grad=True),
           errors=(ErrorCase((np.ones((2, 2), _F),), {"axis": 2}, "AxisError",
                             r"^sort: axis 2 is out of range"),
                   ErrorCase((np.ones(2, np.complex64),), {}, "DTypeError",
                             r"^sort: .*real.*complex64"))),
    OpInfo(name="argsort", fn=ef.argsort, ref=_argsort_ref, dtypes=REAL, samples=_sort_samples,
           errors=(ErrorCase((np.ones((2, 2), _F),), {"axis": -3}, "AxisError",
                             r"^argsort: axis -3 is out of range"),
                   ErrorCase((np.ones(2, np.complex128),), {}, "DTypeError",
                             r"^argsort: .*complex128"))),
    _unique("unique_all", _unique_all, _np_unique_all),
    _unique("unique_counts", _unique_counts,
            lambda x: tuple(np.unique(x.reshape(-1), return_counts=True))),
    _unique("unique_inverse", _unique_inverse,
            lambda x: (np.unique(x.reshape(-1)),
                       np.unique(x.reshape(-1), return_inverse=True)[1].reshape(x.shape))),
    _unique("unique_values", _unique_values, lambda x: np.unique(x.reshape(-1))),
]
