"""Indexing: getitem and setitem (through Tensor indexing), take, take_along_axis, and the
internal index_add (the gradient of a gather, which every backend must implement).

Keys mix ints, slices, integer index arrays, lists, a bool mask, None and Ellipsis, as NumPy
defines them (tests/backends/test_indexing.py). A write (setitem) uses keys that reach every
element at most once, so the result does not depend on the order a backend writes in.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import eagerflow_core as ef

from ..._dispatch import call
from ..._dtypes import float64
from ...ops.indexing import _prepare, index_add_op
from .. import strategies as st_ef
from ._base import ALL, ErrorCase, OpInfo, Sample, arrays, grad_shapes, kinds, shapes
from ._reductions import grid

_F = np.float32


@st.composite
def keys(draw, shape, unique=False, mask=True, extras=True):
    """A key for an array of ``shape``. ``unique``: at most one index array, its elements
    distinct (a write is then well defined); ``mask=False``: no bool mask (np.add.at takes
    none); ``extras=False``: no None, no Python bool."""
    ndim = len(shape)
    parts, pending = [], []
    axis, mask_count = 0, None
    while axis < ndim:
        choices = ["int", "slice", "full", "array", "list"]
        if mask and mask_count is None:
            choices.append("mask")
        if unique and pending:
            choices = [c for c in choices if c not in ("array", "list")]
        kind = draw(st.sampled_from(choices), label="part")
        n = shape[axis]
        if kind == "int" and n:
            parts.append(draw(st.integers(-n, n - 1)))
            axis += 1
        elif kind in ("slice", "full", "int"):
            parts.append(slice(None) if kind != "slice" else
                         slice(draw(st.none() | st.integers(-n - 1, n + 1)),
                               draw(st.none() | st.integers(-n - 1, n + 1)),
                               draw(st.none() | st.sampled_from([1, 2, -1, -2]))))
            axis += 1
        elif kind == "mask":
            k = draw(st.integers(1, min(2, ndim - axis)))
            m = draw(hnp.arrays(np.bool_, shape[axis:axis + k]), label="mask")
            mask_count = int(m.sum())
            parts.append(m)
            axis += k
        elif n:
            pending.append((len(parts), kind, n))
            parts.append(None)  # filled below, once the common index shape is known
            axis += 1
        else:
            parts.append(slice(None))
            axis += 1
    if pending:
        if unique:
            ishape = None
        elif mask_count is not None:
            ishape = draw(st.sampled_from([(mask_count,), (1,)]))
        else:
            ishape = draw(st_ef.shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
        for pos, kind, n in pending:
            if unique:
                perm = draw(st.permutations(range(n)))
                size = draw(st.integers(0, n)) if mask_count is None else \
                    (mask_count if mask_count <= n else 1)
                arr = np.asarray(perm[:size], dtype=np.int64)
            else:
                arr = draw(hnp.arrays(np.int64, ishape, elements=st.integers(-n, n - 1)))
            parts[pos] = arr.tolist() if kind == "list" and arr.ndim == 1 else arr
    full = [isinstance(p, slice) and p == slice(None) for p in parts]
    if draw(st.booleans()):  # an Ellipsis stands for a run (maybe empty) of full slices
        i = j = draw(st.integers(0, len(parts)))
        while j < len(parts) and full[j] and draw(st.booleans()):
            j += 1
        parts[i:j] = [Ellipsis]
    if extras:
        for _ in range(draw(st.integers(0, 2))):  # None, and rarely a Python bool (0-d mask)
            extra = draw(st.sampled_from([None] if unique else [None, None, True, False]))
            parts.insert(draw(st.integers(0, len(parts))), extra)
    key = tuple(parts) if len(parts) != 1 or draw(st.booleans()) else parts[0]
    try:  # a Python bool next to a mask may not broadcast with it: NumPy refuses those
        np.empty(shape)[key]
    except IndexError:
        assume(False)
    return key


# -- getitem, setitem ----------------------------------------------------------------------------

def _getitem(x, key):
    return x[key]


def _getitem_ref(x, key):
    return x[key]


def _setitem(x, key, value):
    y = x[...]  # another tensor of x's value: the write rebinds y, and x stays as it was
    y[key] = value
    return y


def _setitem_ref(x, key, value):
    out = x.copy()
    out[key] = value
    return out


@st.composite
def _getitem_samples(draw, dtype, grad=False):
    x = draw(arrays(float64 if grad else dtype, draw(grad_shapes() if grad else shapes())),
             label="x")
    if x.ndim and draw(st.booleans()):
        key = draw(keys(x.shape), label="key")
    else:
        key = draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True),
                   label="key")
    return Sample((x, key))


_SCALAR = {"b": True, "i": 5, "u": 5, "f": 2.5, "c": 1 + 2j}


@st.composite
def _setitem_samples(draw, dtype, grad=False):
    kind = float64 if grad else dtype
    x = draw(arrays(kind, draw(grad_shapes() if grad else shapes())), label="x")
    if x.ndim and draw(st.booleans()):
        key = draw(keys(x.shape, unique=True), label="key")
    else:
        key = draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True),
                   label="key")
    target = x[key].shape
    if not grad and draw(st.integers(0, 3)) == 0:
        return Sample((x, key, _SCALAR[dtype.kind]))
    # a value of a shape that broadcasts: some leading axes dropped, some sizes 1
    drop = draw(st.integers(0, len(target)), label="drop")
    vshape = tuple(d if draw(st.booleans()) else 1 for d in target[drop:])
    return Sample((x, key, draw(arrays(kind, vshape), label="value")))


# -- take, take_along_axis -----------------------------------------------------------------------

@st.composite
def _take_samples(draw, dtype, grad=False):
    shape = draw(grad_shapes(1, 3) if grad else shapes(1, 3, min_side=1))
    x = draw(arrays(float64 if grad else dtype, shape), label="x")
    axis = draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    n = shape[axis]
    idx_dtype = draw(st.sampled_from([np.int64, np.int32, np.uint8]), label="index dtype")
    lo = 0 if idx_dtype is np.uint8 else -n
    idx = draw(hnp.arrays(np.int64, draw(st.integers(0 if not grad else 1, 5)),
                          elements=st.integers(lo, n - 1)), label="indices").astype(idx_dtype)
    if x.ndim == 1 and draw(st.booleans()):
        return Sample((x, idx))
    return Sample((x, idx), {"axis": axis})


def _take_ref(x, indices, *, axis=None):
    return np.take(x, indices.astype(np.int64), axis=axis)


@st.composite
def _take_along_axis_samples(draw, dtype, grad=False):
    shape = draw(grad_shapes(1, 3) if grad else shapes(1, 3, min_side=1))
    x = draw(arrays(float64 if grad else dtype, shape), label="x")
    axis = draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    n = shape[axis]
    # the other axes either match or are 1 (broadcast); the indexed axis has any length
    ishape = tuple(draw(st.integers(int(grad), 4)) if i == axis % x.ndim else
                   draw(st.sampled_from([d, 1])) for i, d in enumerate(shape))
    idx = draw(hnp.arrays(np.int64, ishape, elements=st.integers(-n, n - 1)), label="indices")
    return Sample((x, idx), {"axis": axis})


def _take_along_axis_ref(x, indices, *, axis=-1):
    # NumPy does not broadcast x against indices on the other axes: do it first
    def others(shape):
        s = list(shape)
        s[axis] = 1
        return s
    shape = np.broadcast_shapes(others(x.shape), others(indices.shape))
    xs, ish = list(shape), list(shape)
    xs[axis], ish[axis] = x.shape[axis], indices.shape[axis]
    return np.take_along_axis(np.broadcast_to(x, xs), np.broadcast_to(indices, ish), axis=axis)


# -- index_add -----------------------------------------------------------------------------------

def _index_add(x, values, key):
    """index_add has no public function: the key is normalised as x[key]'s would be."""
    nkey, _ = _prepare(x, key, "index_add")
    return call(index_add_op, (x, values), {"key": nkey})


def _index_add_ref(x, values, key):
    out = x.copy()
    # broadcast explicitly: NumPy 2.4's ufunc.at adds broadcast values wrongly
    np.add.at(out, key, np.broadcast_to(values, out[key].shape))
    return out


@st.composite
def _index_add_samples(draw, dtype, grad=False):
    kind = float64 if grad else dtype
    shape = draw(grad_shapes(1, 3) if grad else shapes(1, 3, min_side=1))
    # grid values: a repeated index adds several values, in any order, exactly
    x = draw(arrays(kind, shape) if grad else grid(kind, shape), label="x")
    key = draw(keys(shape, mask=False, extras=False), label="key")
    key = key if isinstance(key, tuple) else (key,)
    key = tuple(np.asarray(k) if isinstance(k, list) else k for k in key)
    # values of x[key]'s own shape: the one caller (the gradient of a gather) never
    # broadcasts them, so a backend need not either
    target = x[key].shape
    values = draw(arrays(kind, target) if grad else grid(kind, target), label="values")
    return Sample((x, values, key))


INFOS = [
    OpInfo(name="getitem", fn=_getitem, ref=_getitem_ref, dtypes=ALL,
           samples=_getitem_samples, differentiable=True,
           grad_samples=partial(_getitem_samples, grad=True),
           errors=(ErrorCase((np.ones((3, 4), _F), (1, 4)), {}, "OutOfRangeError",
                             r"^getitem: index 4 is out of range for axis 1 of size 4"),
                   ErrorCase((np.ones((3, 4), _F), np.ones(2, _F)), {}, "DTypeError",
                             r"^getitem: index tensors must have an integer or bool"),
                   ErrorCase((np.ones(3, _F), np.ones(2, np.bool_)), {}, "ShapeError",
                             r"bool mask of shape \(2,\) must match"))),
    OpInfo(name="setitem", fn=_setitem, ref=_setitem_ref, dtypes=ALL,
           samples=_setitem_samples, differentiable=True,
           grad_samples=partial(_setitem_samples, grad=True),
           errors=(ErrorCase((np.ones((2, 3), np.int32), 0, 1.5), {}, "DTypeError",
                             r"^setitem: cannot write a Python float .*int32"),
                   ErrorCase((np.ones((2, 3), _F), 0, np.ones(2, _F)), {}, "ShapeError",
                             r"^setitem: a value of shape \(2,\) cannot be broadcast"),
                   ErrorCase((np.ones(3, _F), 3, 1.0), {}, "OutOfRangeError",
                             r"^setitem: index 3 is out of range for axis 0"))),
    OpInfo(name="take", fn=ef.take, ref=_take_ref, dtypes=ALL, samples=_take_samples,
           differentiable=True, grad_samples=partial(_take_samples, grad=True),
           errors=(ErrorCase((np.ones((2, 3), _F), np.zeros(2, np.int64)), {},
                             "InvalidArgumentError", r"^take: axis is required"),
                   ErrorCase((np.ones((2, 3), _F), np.zeros(1, _F)), {"axis": 0}, "DTypeError",
                             r"^take: expects an integer indices tensor, not float32"),
                   ErrorCase((np.ones((2, 3), _F), np.array([3])), {"axis": 1},
                             "OutOfRangeError", r"index 3 .*axis 1 .*size 3"))),
    OpInfo(name="take_along_axis", fn=ef.take_along_axis, ref=_take_along_axis_ref,
           dtypes=ALL, samples=_take_along_axis_samples, differentiable=True,
           grad_samples=partial(_take_along_axis_samples, grad=True),
           errors=(ErrorCase((np.ones((2, 3), _F), np.zeros(2, np.int64)), {}, "ShapeError",
                             r"^take_along_axis: x of shape \(2, 3\) and indices"),
                   ErrorCase((np.ones((2, 3), _F), np.zeros((2, 1), _F)), {}, "DTypeError",
                             r"^take_along_axis: expects an integer indices"),
                   ErrorCase((np.ones((2, 3), _F), np.zeros((2, 1), np.int64)), {"axis": -3},
                             "AxisError", r"^take_along_axis: axis -3"))),
    OpInfo(name="index_add", fn=_index_add, ref=_index_add_ref, dtypes=kinds("iufc"),
           samples=_index_add_samples, differentiable=True,
           grad_samples=partial(_index_add_samples, grad=True),
           # no ErrorCase: index_add has no shape rule (its callers build valid keys), so a
           # bad call raises whatever the backend's kernel maps to
           note="internal (no public function): the gradient of x[key] for integer-array keys"),
]
