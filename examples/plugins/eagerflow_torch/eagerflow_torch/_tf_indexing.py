"""Kernels for TensorFlow's index ops (gather, scatter_nd, the segment reductions...) on torch.

The core has checked every index and computed the output shape first, so these only compute.
torch indexes with int64 (int32) tensors and reads a uint8 one as a mask: indices are made
int64. Sums go through ``index_add_`` / ``index_put_(accumulate=True)`` (a repeated index
receives every update), maxima through ``scatter_reduce_("amax")``.
"""

from __future__ import annotations

import math

import torch


def _long(idx):
    return idx if idx.dtype == torch.int64 else idx.to(torch.int64)


def _batch_key(batch, trailing):
    return tuple(torch.arange(n).reshape((1,) * d + (n,) + (1,) * (len(batch) - d - 1 + trailing))
                 for d, n in enumerate(batch))


def _nd_key(indices, batch_dims=0):
    indices = _long(indices)
    b = batch_dims
    return _batch_key(indices.shape[:b], indices.ndim - 1 - b) + \
        tuple(indices[..., j] for j in range(indices.shape[-1]))


def gather(params, indices, *, axis, batch_dims):
    indices = _long(indices)
    if batch_dims == 0:
        out_shape = params.shape[:axis] + indices.shape + params.shape[axis + 1:]
        return torch.index_select(params, axis, indices.reshape(-1)).reshape(out_shape)
    b = batch_dims  # batch, pre-axis, axis and trailing axes flattened: one take_along_dim
    batch, pre, post = params.shape[:b], params.shape[b:axis], params.shape[axis + 1:]
    flat = params.reshape(math.prod(batch), math.prod(pre), params.shape[axis], math.prod(post))
    picks = indices.reshape(math.prod(batch), 1, math.prod(indices.shape[b:]), 1)
    out = torch.take_along_dim(flat, picks.expand(-1, flat.shape[1], -1, flat.shape[3]), dim=2)
    return out.reshape(batch + pre + indices.shape[b:] + post)


def gather_nd(params, indices, *, batch_dims):
    return params[_nd_key(indices, batch_dims)]


def scatter_nd(indices, updates, *, shape):
    out = torch.zeros(shape, dtype=updates.dtype)
    return out.index_put_(_nd_key(indices), updates, accumulate=True)


def tensor_scatter_nd_update(tensor, indices, updates):
    return tensor.clone().index_put_(_nd_key(indices), updates)


def tensor_scatter_nd_add(tensor, indices, updates):
    return tensor.clone().index_put_(_nd_key(indices), updates, accumulate=True)


def unsorted_segment_sum(data, ids, *, num_segments):
    rest = data.shape[ids.ndim:]
    out = torch.zeros((num_segments,) + rest, dtype=data.dtype)
    return out.index_add_(0, _long(ids).reshape(-1), data.reshape((ids.numel(),) + rest))


def segment_sum(data, ids, *, num_segments):
    return unsorted_segment_sum(data, ids, num_segments=num_segments)


def segment_mean(data, ids, *, num_segments):
    sums = unsorted_segment_sum(data, ids, num_segments=num_segments)
    counts = torch.bincount(_long(ids), minlength=num_segments).clamp_(min=1)
    return (sums / counts.reshape((num_segments,) + (1,) * (data.ndim - 1))).to(data.dtype)


def segment_max(data, ids, *, num_segments):
    out = torch.zeros((num_segments,) + data.shape[1:], dtype=data.dtype)
    where = _long(ids).reshape((-1,) + (1,) * (data.ndim - 1)).expand(data.shape)
    # include_self=False: an empty segment keeps its 0 (TensorFlow's value for it)
    return out.scatter_reduce_(0, where, data, "amax", include_self=False)


def bincount(arr, *, length, dtype):
    counts = torch.bincount(_long(arr).reshape(-1), minlength=length)
    return counts[:length].to(dtype)


def boolean_mask(x, mask, *, axis, count):
    return x[(slice(None),) * axis + (mask,)]


KERNELS: dict = {f.__name__: f for f in (
    gather, gather_nd, scatter_nd, tensor_scatter_nd_update, tensor_scatter_nd_add,
    unsorted_segment_sum, segment_sum, segment_mean, segment_max, bincount, boolean_mask)}
