"""TensorFlow's index ops (``ops/tf_indexing.py``, ``ops/tf_segment.py``): gather,
gather_nd, scatter_nd, tensor_scatter_nd_update/_add, the segment reductions, bincount and
boolean_mask.

References are written element by element (loops over the index positions), independently
of the fancy indexing the kernels use. Sums with repeated indices draw grid values, so any
summation order gives the same result; writes (tensor_scatter_nd_update) use distinct index
rows, since which of two updates to one place lands is unspecified; segment_max's gradient
samples have no ties.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import eagerflow_core as ef

from ..._dtypes import float64
from .. import strategies as st_ef
from ._base import ALL, ErrorCase, OpInfo, Sample, arrays, grad_shapes, kinds, shapes, spread
from ._reductions import grid

_F = np.float32
_I = np.int64
_IDX = [np.int64, np.int32, np.uint8]


def _values(draw, dtype, shape, grad, exact=False):
    if grad:
        return draw(arrays(float64, shape), label="values")
    return draw(grid(dtype, shape) if exact else arrays(dtype, shape), label="values")


def _idx(draw, shape, n, label="indices"):
    dt = draw(st.sampled_from(_IDX), label="index dtype")
    hi = min(n - 1, 255) if dt is np.uint8 else n - 1
    return draw(hnp.arrays(_I, shape, elements=st.integers(0, hi)), label=label).astype(dt)


# -- gather --------------------------------------------------------------------------------------

@st.composite
def _gather_samples(draw, dtype, grad=False):
    shape = draw(grad_shapes(1, 3) if grad else shapes(1, 3, min_side=1))
    params = _values(draw, dtype, shape, grad)
    b = draw(st.integers(0, len(shape) - 1), label="batch_dims")
    axis = draw(st.integers(b, len(shape) - 1), label="axis")
    extra = draw(st_ef.shapes(min_dims=0, max_dims=2, min_side=int(grad), max_side=3))
    idx = _idx(draw, shape[:b] + extra, shape[axis])
    kw = {"axis": axis - len(shape) if draw(st.booleans()) else axis}
    if b:
        kw["batch_dims"] = b
    return Sample((params, idx), kw)


def _gather_ref(params, indices, axis=0, batch_dims=0):
    axis %= params.ndim
    b = batch_dims
    out_shape = params.shape[:axis] + indices.shape[b:] + params.shape[axis + 1:]
    out = np.empty(out_shape, params.dtype)
    for pos in np.ndindex(*out_shape):
        i = pos[axis:axis + indices.ndim - b]
        src = pos[:axis] + (indices[pos[:b] + i],) + pos[axis + indices.ndim - b:]
        out[pos] = params[src]
    return out


# -- gather_nd -----------------------------------------------------------------------------------

@st.composite
def _gather_nd_samples(draw, dtype, grad=False):
    shape = draw(grad_shapes(1, 3) if grad else shapes(1, 3, min_side=1))
    params = _values(draw, dtype, shape, grad)
    b = draw(st.integers(0, len(shape) - 1), label="batch_dims")
    k = draw(st.integers(1, len(shape) - b), label="k")
    extra = draw(st_ef.shapes(min_dims=0, max_dims=2, min_side=int(grad), max_side=3))
    cols = [_idx(draw, shape[:b] + extra + (1,), shape[b + j], f"column {j}").astype(_I)
            for j in range(k)]
    idx = np.concatenate(cols, axis=-1)
    return Sample((params, idx), {"batch_dims": b} if b else {})


def _gather_nd_ref(params, indices, batch_dims=0):
    b, k = batch_dims, indices.shape[-1]
    rest = params.shape[b + k:]
    out = np.empty(indices.shape[:-1] + rest, params.dtype)
    for pos in np.ndindex(*indices.shape[:-1]):
        out[pos] = params[pos[:b] + tuple(int(i) for i in indices[pos])]
    return out


# -- scatter_nd, tensor_scatter_nd_update / _add ------------------------------------------------

@st.composite
def _scatter_parts(draw, dtype, grad, unique):
    """(shape, indices, updates shape) for writing into a tensor of ``shape``."""
    shape = draw(grad_shapes(1, 3) if grad else shapes(1, 3, min_side=1))
    k = draw(st.integers(1, len(shape)), label="k")
    cells = int(np.prod(shape[:k]))
    if unique:
        m = draw(st.integers(int(grad), min(cells, 4)), label="rows")
        flat = draw(st.permutations(range(cells)), label="cells")[:m]
        idx = np.stack(np.unravel_index(np.asarray(flat, _I), shape[:k]), -1).reshape(m, k)
    else:
        lead = draw(st_ef.shapes(min_dims=1, max_dims=2, min_side=int(grad), max_side=4))
        idx = np.concatenate([draw(hnp.arrays(_I, lead + (1,), elements=st.integers(0, n - 1)))
                              for n in shape[:k]], axis=-1)
    idx = idx.astype(draw(st.sampled_from([np.int64, np.int32]), label="index dtype"))
    return shape, idx, idx.shape[:-1] + shape[k:]


def _nd_cells(indices):
    for pos in np.ndindex(*indices.shape[:-1]):
        yield pos, tuple(int(i) for i in indices[pos])


@st.composite
def _scatter_nd_samples(draw, dtype, grad=False):
    shape, idx, ushape = draw(_scatter_parts(dtype, grad, unique=False))
    return Sample((idx, _values(draw, dtype, ushape, grad, exact=True), shape))


def _scatter_nd_ref(indices, updates, shape):
    out = np.zeros(shape, updates.dtype)
    for pos, cell in _nd_cells(indices):
        out[cell] += updates[pos]
    return out


@st.composite
def _tensor_scatter_samples(draw, dtype, grad=False, unique=False):
    shape, idx, ushape = draw(_scatter_parts(dtype, grad, unique))
    tensor = _values(draw, dtype, shape, grad, exact=not unique)
    return Sample((tensor, idx, _values(draw, dtype, ushape, grad, exact=not unique)))


def _tensor_scatter_ref(tensor, indices, updates, add):
    out = tensor.copy()
    for pos, cell in _nd_cells(indices):
        out[cell] = out[cell] + updates[pos] if add else updates[pos]
    return out


# -- segment reductions --------------------------------------------------------------------------

@st.composite
def _segment_samples(draw, dtype, grad=False, sort=True, distinct=False, exact=True):
    shape = draw(grad_shapes(1, 3) if grad else shapes(1, 3, min_side=0))
    if sort and not grad:
        shape = (draw(st.integers(0, 5)),) + shape[1:]
    k = 1 if sort else draw(st.integers(1, len(shape)), label="id dims")
    if distinct:  # no ties: segment_max's gradient is then smooth
        data = draw(spread(float64 if grad else dtype, shape), label="data")
    else:
        data = _values(draw, dtype, shape, grad, exact=exact)
    num = draw(st.integers(1, 4), label="segments")
    ids = draw(hnp.arrays(_I, shape[:k], elements=st.integers(-1 if not sort else 0, num - 1)),
               label="segment_ids")
    ids = np.sort(ids) if sort else ids
    ids = ids.astype(draw(st.sampled_from([np.int64, np.int32]), label="id dtype"))
    return Sample((data, ids) if sort else (data, ids, num))


def _segment_ref(reduce, data, ids, num=None):
    num = (int(ids[-1]) + 1 if ids.size else 0) if num is None else num
    out = np.zeros((num,) + data.shape[ids.ndim:], data.dtype)
    for s in range(num):
        rows = data[ids == s]
        if len(rows):
            out[s] = reduce(rows, axis=0).astype(data.dtype)  # integer sums wrap, as kernels do
    return out


# -- bincount, boolean_mask ------------------------------------------------------------------------

@st.composite
def _bincount_samples(draw, dtype):
    arr = draw(arrays(dtype, draw(shapes(0, 2)), low=0, high=6), label="arr")
    kw = {}
    if draw(st.booleans()):
        kw["minlength"] = draw(st.integers(0, 8))
    if draw(st.booleans()):
        kw["maxlength"] = draw(st.integers(0, 8))
    return Sample((arr,), kw)


def _bincount_ref(arr, minlength=None, maxlength=None):
    flat = arr.reshape(-1).astype(_I)
    length = int(flat.max()) + 1 if flat.size else 0
    length = max(length, minlength or 0)
    length = length if maxlength is None else min(length, maxlength)
    return np.bincount(flat[flat < length], minlength=length).astype(np.int32)


@st.composite
def _boolean_mask_samples(draw, dtype, grad=False):
    shape = draw(grad_shapes(1, 3) if grad else shapes(1, 3))
    x = _values(draw, dtype, shape, grad)
    axis = draw(st.integers(0, len(shape) - 1), label="axis")
    k = draw(st.integers(1, len(shape) - axis), label="mask dims")
    mask = draw(hnp.arrays(np.bool_, shape[axis:axis + k]), label="mask")
    return Sample((x, mask), {"axis": axis} if axis else {})


def _boolean_mask_ref(x, mask, axis=0):
    return x[(slice(None),) * axis + (mask,)]


_X = np.arange(6, dtype=_F).reshape(3, 2)

# Each op runs from the core's indexing ops on a backend without a kernel of its own (the
# default implementations in ops/tf_indexing.py, ops/tf_segment.py): a backend is checked on
# it when it has a kernel for the op or for those ops (``OpInfo.kernels``).
_GETITEM = ("getitem",)
_INDEX_ADD = ("index_add",)
_SETITEM = ("setitem",)
_SCAN = ("setitem", "maximum", "where", "concat")

INFOS = [
    OpInfo(name="gather", kernels=_GETITEM,
           fn=ef.gather, ref=_gather_ref, dtypes=ALL, samples=_gather_samples,
           differentiable=True, grad_samples=partial(_gather_samples, grad=True),
           errors=(ErrorCase((_X, np.array([3])), {}, "OutOfRangeError",
                             r"^gather: index 3 is out of range for axis 0 .*valid: 0..2"),
                   ErrorCase((_X, np.array([-1])), {}, "OutOfRangeError", r"index -1"),
                   ErrorCase((_X, np.zeros(1, _F)), {}, "DTypeError", r"integer dtype"),
                   ErrorCase((_X, np.zeros((3, 1), _I)), {"axis": 0, "batch_dims": 1},
                             "InvalidArgumentError", r"axis \(0\) must be at least"))),
    OpInfo(name="gather_nd", kernels=_GETITEM, fn=ef.gather_nd, ref=_gather_nd_ref, dtypes=ALL,
           samples=_gather_nd_samples, differentiable=True,
           grad_samples=partial(_gather_nd_samples, grad=True),
           errors=(ErrorCase((_X, np.array([[0, 2]])), {}, "OutOfRangeError",
                             r"^gather_nd: index 2 in indices\[\.\.\., 1\] .*axis 1"),
                   ErrorCase((_X, np.zeros((1, 3), _I)), {}, "ShapeError",
                             r"indices.shape\[-1\] = 3"))),
    OpInfo(name="scatter_nd", kernels=_INDEX_ADD,
           fn=ef.scatter_nd, ref=_scatter_nd_ref, dtypes=kinds("iufc"),
           samples=_scatter_nd_samples, differentiable=True,
           grad_samples=partial(_scatter_nd_samples, grad=True),
           errors=(ErrorCase((np.array([[4]]), np.ones(1, _F), (4,)), {}, "OutOfRangeError",
                             r"^scatter_nd: index 4 .*valid indices are 0..3"),
                   ErrorCase((np.array([[1]]), np.ones(2, _F), (4,)), {}, "ShapeError",
                             r"updates must have shape .*\(1,\)"))),
    OpInfo(name="tensor_scatter_nd_update", kernels=_SETITEM, fn=ef.tensor_scatter_nd_update,
           ref=partial(_tensor_scatter_ref, add=False), dtypes=ALL,
           samples=partial(_tensor_scatter_samples, unique=True), differentiable=True,
           grad_samples=partial(_tensor_scatter_samples, grad=True, unique=True),
           errors=(ErrorCase((_X, np.array([[1, 2]]), np.ones(1, _F)), {}, "OutOfRangeError",
                             r"index 2 in indices\[\.\.\., 1\]"),
                   ErrorCase((_X, np.array([[1]]), np.ones((1, 2), np.int64)), {}, "DTypeError",
                             r"must have the tensor's dtype"))),
    OpInfo(name="tensor_scatter_nd_add", kernels=_INDEX_ADD, fn=ef.tensor_scatter_nd_add,
           ref=partial(_tensor_scatter_ref, add=True), dtypes=kinds("iufc"),
           samples=_tensor_scatter_samples, differentiable=True,
           grad_samples=partial(_tensor_scatter_samples, grad=True),
           errors=(ErrorCase((_X, np.array([[3]]), np.ones((1, 2), _F)), {}, "OutOfRangeError",
                             r"^tensor_scatter_nd_add: index 3"),)),
    OpInfo(name="unsorted_segment_sum", kernels=_INDEX_ADD, fn=ef.unsorted_segment_sum,
           ref=partial(_segment_ref, np.sum), dtypes=kinds("iufc"),
           samples=partial(_segment_samples, sort=False), differentiable=True,
           grad_samples=partial(_segment_samples, grad=True, sort=False),
           errors=(ErrorCase((_X, np.array([0, 3, 1]), 3), {}, "OutOfRangeError",
                             r"^unsorted_segment_sum: segment id 3 .*valid: 0..2"),
                   ErrorCase((_X, np.array([0, 1]), 3), {}, "ShapeError",
                             r"must match the leading dimensions"))),
    OpInfo(name="segment_sum", kernels=_INDEX_ADD,
           fn=ef.segment_sum, ref=partial(_segment_ref, np.sum),
           dtypes=kinds("iufc"), samples=_segment_samples, differentiable=True,
           grad_samples=partial(_segment_samples, grad=True),
           errors=(ErrorCase((_X, np.array([1, 0, 2])), {}, "InvalidArgumentError",
                             r"^segment_sum: segment_ids must be sorted"),
                   ErrorCase((_X, np.array([-1, 0, 0])), {}, "OutOfRangeError",
                             r"segment id -1"))),
    OpInfo(name="segment_mean", kernels=_INDEX_ADD,
           fn=ef.segment_mean, ref=partial(_segment_ref, np.mean),
           dtypes=kinds("fc"), samples=partial(_segment_samples, exact=False),
           differentiable=True, grad_samples=partial(_segment_samples, grad=True),
           errors=(ErrorCase((np.ones(3, _I), np.array([0, 0, 1])), {}, "DTypeError",
                             r"^segment_mean: expects a floating-point input"),)),
    OpInfo(name="segment_max", kernels=_SCAN, fn=ef.segment_max, ref=partial(_segment_ref, np.max),
           dtypes=kinds("iuf"), samples=_segment_samples, differentiable=True,
           grad_samples=partial(_segment_samples, grad=True, distinct=True),
           note="the gradient is checked without ties (split equally among them; "
                "tests/backends/test_tf_indexing.py checks a tie by hand)",
           errors=(ErrorCase((_X, np.array([0, 2, 1])), {}, "InvalidArgumentError",
                             r"must be sorted"),)),
    OpInfo(name="bincount", kernels=_INDEX_ADD,
           fn=ef.bincount, ref=_bincount_ref, dtypes=kinds("iu"),
           samples=_bincount_samples,
           errors=(ErrorCase((np.array([1, -2]),), {}, "InvalidArgumentError",
                             r"^bincount: arr must be non-negative, got the value -2"),
                   ErrorCase((np.array([0.5]),), {}, "DTypeError", r"integer dtype"))),
    OpInfo(name="boolean_mask", kernels=_GETITEM,
           fn=ef.boolean_mask, ref=_boolean_mask_ref, dtypes=ALL,
           samples=_boolean_mask_samples, differentiable=True,
           grad_samples=partial(_boolean_mask_samples, grad=True),
           errors=(ErrorCase((_X, np.ones(2, np.bool_)), {}, "ShapeError",
                             r"mask of shape \(2,\) must match the dimensions \(3,\)"),
                   ErrorCase((_X, np.ones(3, _I)), {}, "DTypeError", r"mask must be bool"))),
]
