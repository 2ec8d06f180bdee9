"""NumPy kernels for TensorFlow's index ops (``eagerflow_core/ops/tf_indexing.py`` and
``tf_segment.py``).

The core has checked the indices (in range, sorted segment ids) and computed the output
shape before a kernel runs, so the kernels only compute. Scatter-adds and unsorted sums
work on rows (``_add_rows``: fancy ``+=`` where a row is hit once, ``add.at`` or a
``reduceat`` over sorted runs for the repeats); sorted segment reductions use
``ufunc.reduceat`` over the non-empty runs, one pass with no scatter.
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


def _add_rows(out, rows, values):
    """``out[rows[i]] += values[i]`` for 1-D integer ``rows``; a repeated row gets every value.

    ``np.add.at`` is unbuffered but slow on rows of a 2-D array (~9 ms for 4096 rows of 128
    floats, against ~1 ms for fancy indexing): rows seen once go through ``+=`` on a fancy
    index, and only the repeats through ``add.at`` (few repeats) or a ``reduceat`` over the
    sorted runs (many)."""
    if out.ndim == 1 or len(rows) < 2:
        np.add.at(out, rows, values)  # NumPy 2's add.at has a fast path for 1-D
        return out
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    again = np.zeros(len(rows), dtype=bool)
    np.equal(ordered[1:], ordered[:-1], out=again[1:])
    repeats = int(np.count_nonzero(again))
    if repeats == 0:
        out[rows] += values
    elif 4 * repeats <= len(rows):
        first, rest = order[~again], order[again]
        out[rows[first]] += values[first]
        np.add.at(out, rows[rest], values[rest])
    else:
        starts = np.flatnonzero(~again)
        out[ordered[starts]] += np.add.reduceat(values[order], starts, axis=0, dtype=out.dtype)
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
