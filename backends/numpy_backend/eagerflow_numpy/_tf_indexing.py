"""NumPy kernels for TensorFlow's index ops (``eagerflow_core/ops/tf_indexing.py`` and
``tf_segment.py``).

The core has checked the indices (in range, sorted segment ids) and computed the output
shape before a kernel runs, so the kernels only compute. Scatters and unsorted sums use
``np.add.at`` (unbuffered: a repeated index receives every update); sorted segment
reductions use ``ufunc.reduceat`` over the run starts, one pass with no scatter.
"""

from __future__ import annotations

import numpy as np


def _batch_key(batch, trailing):
    """Index arrays selecting each position of the leading ``batch`` axes, broadcasting
    against an index array with ``trailing`` more axes."""
    return tuple(np.arange(n).reshape((1,) * d + (n,) + (1,) * (len(batch) - d - 1 + trailing))
                 for d, n in enumerate(batch))


def _nd_key(indices, batch_dims=0):
    b = batch_dims
    return _batch_key(indices.shape[:b], indices.ndim - 1 - b) + \
        tuple(indices[..., j] for j in range(indices.shape[-1]))


def gather(params, indices, *, axis, batch_dims):
    if batch_dims == 0:
        return np.take(params, indices, axis=axis)
    b = batch_dims
    key = _batch_key(params.shape[:b], indices.ndim - b) + (slice(None),) * (axis - b) + \
        (indices,)
    out = params[key]
    if axis == b:
        return out
    ni, npre = indices.ndim - b, axis - b  # NumPy put the advanced block (B + I) first
    perm = list(range(b)) + list(range(b + ni, b + ni + npre)) + list(range(b, b + ni))
    return out.transpose(perm + list(range(len(perm), out.ndim)))


def gather_nd(params, indices, *, batch_dims):
    return params[_nd_key(indices, batch_dims)]


def scatter_nd(indices, updates, *, shape):
    out = np.zeros(shape, dtype=updates.dtype)
    np.add.at(out, _nd_key(indices), updates)
    return out


def tensor_scatter_nd_update(tensor, indices, updates):
    out = tensor.copy()
    out[_nd_key(indices)] = updates
    return out


def tensor_scatter_nd_add(tensor, indices, updates):
    out = tensor.copy()
    np.add.at(out, _nd_key(indices), updates)
    return out


def unsorted_segment_sum(data, ids, *, num_segments):
    if ids.ndim == data.ndim == 1 and data.dtype.kind == "f":
        # one bincount pass (in float64) beats add.at's per-element loop
        return np.bincount(ids, weights=data, minlength=num_segments).astype(data.dtype)
    out = np.zeros((num_segments,) + data.shape[ids.ndim:], dtype=data.dtype)
    np.add.at(out, ids, data)
    return out


def _runs(ids, num_segments):
    """Where each segment's run starts in sorted ``ids``, and which segments are empty."""
    starts = np.searchsorted(ids, np.arange(num_segments))
    ends = np.append(starts[1:], len(ids))
    return starts, ends == starts


def _reduceat(ufunc, data, ids, num_segments):
    out_shape = (num_segments,) + data.shape[1:]
    if num_segments == 0 or data.shape[0] == 0:
        return np.zeros(out_shape, dtype=data.dtype), None
    starts, empty = _runs(ids, num_segments)
    out = ufunc.reduceat(data, starts, axis=0, dtype=data.dtype)
    out[empty] = 0  # reduceat gives data[start] for an empty run
    return out, empty


def segment_sum(data, ids, *, num_segments):
    return _reduceat(np.add, data, ids, num_segments)[0]


def segment_max(data, ids, *, num_segments):
    return _reduceat(np.maximum, data, ids, num_segments)[0]


def segment_mean(data, ids, *, num_segments):
    sums, _ = _reduceat(np.add, data, ids, num_segments)
    counts = np.bincount(ids, minlength=num_segments)
    counts = np.maximum(counts, 1).reshape((num_segments,) + (1,) * (data.ndim - 1))
    return (sums / counts).astype(data.dtype, copy=False)


def bincount(arr, *, length, dtype):
    counts = np.bincount(arr.reshape(-1).astype(np.intp, copy=False), minlength=length)
    return counts[:length].astype(dtype, copy=False)


def boolean_mask(x, mask, *, axis, count):
    return x[(slice(None),) * axis + (mask,)]


KERNELS: dict = {f.__name__: f for f in (
    gather, gather_nd, scatter_nd, tensor_scatter_nd_update, tensor_scatter_nd_add,
    unsorted_segment_sum, segment_sum, segment_max, segment_mean, bincount, boolean_mask)}
