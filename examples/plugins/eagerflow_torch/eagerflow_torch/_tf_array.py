"""Kernels of TensorFlow's array ops with kernels of their own: pad, einsum, math.top_k.

``torch.nn.functional.pad`` mirrors only the last 1-3 dims of a batched tensor and has no
SYMMETRIC mode, so the mirrored modes gather with one index per padded axis (the core has
checked the widths). ``torch.topk`` does not promise which of equal values comes first;
TensorFlow gives the lower index, so top_k is a stable descending sort cut at k.
"""

from __future__ import annotations

import torch


def _mirror(n, before, after, mode, device):
    """Source positions along an axis of size ``n`` for REFLECT / SYMMETRIC padding."""
    i = torch.arange(-before, n + after, device=device)
    if mode == "REFLECT":
        i = torch.where(i < 0, -i, i)
        return torch.where(i >= n, 2 * (n - 1) - i, i)
    i = torch.where(i < 0, -i - 1, i)
    return torch.where(i >= n, 2 * n - 1 - i, i)


def _pad(x, /, *, paddings, mode="CONSTANT", constant_values=0):
    if mode == "CONSTANT":
        shape = tuple(n + b + a for n, (b, a) in zip(x.shape, paddings))
        out = torch.full(shape, constant_values, dtype=x.dtype, device=x.device)
        out[tuple(slice(b, b + n) for n, (b, _) in zip(x.shape, paddings))] = x
        return out
    for axis, (before, after) in enumerate(paddings):
        if before or after:
            x = x.index_select(axis, _mirror(x.shape[axis], before, after, mode, x.device))
    return x


def _einsum(operands, /, *, equation):
    # torch sums small integers into int64 where an einsum reduces to a sum ('ii', 'ij->');
    # the operands' dtype is the op's, wrapping as NumPy's einsum does.
    out = torch.einsum(equation, *operands)
    return out if out.dtype == operands[0].dtype else out.to(operands[0].dtype)


def _top_k(x, /, *, k):
    return torch.sort(x, dim=-1, descending=True, stable=True).indices[..., :k]


KERNELS = {"pad": _pad, "einsum": _einsum, "math.top_k": _top_k}
