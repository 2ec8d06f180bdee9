"""NumPy kernels for TensorFlow's index ops (``eagerflow_core/ops/tf_indexing.py`` and
``tf_segment.py``).

The core has checked the indices (in range, sorted segment ids) and computed the output
shape before a kernel runs, so the kernels only compute. Scatter-adds and unsorted sums
go through ``np.add.at`` on flat positions (``_add_rows``: NumPy's fast 1-D path); sorted
segment reductions use ``ufunc.reduceat`` over the non-empty runs, one pass with no scatter.
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
    # batch axes, the axes before `axis`, `axis`, the rest: each flattened to one, so that
    # one take_along_axis picks every batch element's indices
    b = batch_dims
    batch, pre, post = params.shape[:b], params.shape[b:axis], params.shape[axis + 1:]
    flat = params.reshape(_prod(batch), _prod(pre), params.shape[axis], _prod(post))
    picks = indices.reshape(_prod(batch), 1, _prod(indices.shape[b:]), 1)
    out = np.take_along_axis(flat, picks, axis=2)
    return out.reshape(batch + pre + indices.shape[b:] + post)


def _prod(shape):
    return int(np.prod(shape, dtype=np.int64))


def gather_nd(params, indices, *, batch_dims):
    return params[_nd_key(indices, batch_dims)]


def _add_rows(out, rows, values):
    """``out[rows[i]] += values[i]`` for 1-D integer ``rows`` into a C-contiguous ``out``; a
    repeated row gets every value.

    ``np.add.at`` has a fast path for 1-D arrays only: on rows of a 2-D array it is ~5x
    slower (9 ms for 4096 rows of 128 floats). Each element's flat position goes through
    the 1-D path instead (~1.6 ms there, whatever the repeats)."""
    if out.ndim > 1:
        width = int(np.prod(out.shape[1:]))
        rows = (rows[:, None] * width + np.arange(width)).reshape(-1)
        values, out_flat = values.reshape(-1), out.reshape(-1)
    else:
        out_flat = out
    np.add.at(out_flat, rows, values)
    return out


def _nd_rows(indices, shape):
    """Each index row of gather_nd/scatter_nd indices as one row of ``shape`` flattened over
    its first ``indices.shape[-1]`` axes (the indices are checked in range)."""
    k = indices.shape[-1]
    cols = tuple(indices[..., j].reshape(-1) for j in range(k))
    return np.ravel_multi_index(cols, shape[:k]), (int(np.prod(shape[:k])),) + tuple(shape[k:])


def _scatter_add(out, indices, updates):
    rows, flat_shape = _nd_rows(indices, out.shape)
    _add_rows(out.reshape(flat_shape), rows, updates.reshape((len(rows),) + flat_shape[1:]))
    return out


def scatter_nd(indices, updates, *, shape):
    return _scatter_add(np.zeros(shape, dtype=updates.dtype), indices, updates)


def tensor_scatter_nd_update(tensor, indices, updates):
    out = tensor.copy()
    out[_nd_key(indices)] = updates
    return out


def tensor_scatter_nd_add(tensor, indices, updates):
    return _scatter_add(tensor.copy(), indices, updates)


def unsorted_segment_sum(data, ids, *, num_segments):
    if ids.ndim == data.ndim == 1 and data.dtype.kind == "f":
        # one bincount pass (in float64) beats add.at's per-element loop
        return np.bincount(ids, weights=data, minlength=num_segments).astype(data.dtype)
    rest = data.shape[ids.ndim:]
    out = np.zeros((num_segments,) + rest, dtype=data.dtype)
    return _add_rows(out, ids.reshape(-1), data.reshape((ids.size,) + rest))


def _runs(ufunc, data, ids, num_segments):
    """The reduction of each run of equal sorted ``ids``, zeros for absent ids, and each
    present segment's (id, length). ``reduceat`` pays per run: only non-empty ones are given."""
    out = np.zeros((num_segments,) + data.shape[1:], dtype=data.dtype)
    n = len(ids)
    if n == 0:
        return out, ids, ids
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    present = ids[starts]
    out[present] = ufunc.reduceat(data, starts, axis=0, dtype=data.dtype)
    return out, present, np.diff(np.append(starts, n))


def segment_sum(data, ids, *, num_segments):
    return _runs(np.add, data, ids, num_segments)[0]


def segment_max(data, ids, *, num_segments):
    return _runs(np.maximum, data, ids, num_segments)[0]


def segment_mean(data, ids, *, num_segments):
    out, present, lengths = _runs(np.add, data, ids, num_segments)
    if len(present):
        shape = (len(present),) + (1,) * (data.ndim - 1)
        out[present] = out[present] / lengths.reshape(shape).astype(out.real.dtype)
    return out


def bincount(arr, *, length, dtype):
    counts = np.bincount(arr.reshape(-1).astype(np.intp, copy=False), minlength=length)
    return counts[:length].astype(dtype, copy=False)


def boolean_mask(x, mask, *, axis, count):
    return x[(slice(None),) * axis + (mask,)]


KERNELS: dict = {f.__name__: f for f in (
    gather, gather_nd, scatter_nd, tensor_scatter_nd_update, tensor_scatter_nd_add,
    unsorted_segment_sum, segment_sum, segment_max, segment_mean, bincount, boolean_mask)}
