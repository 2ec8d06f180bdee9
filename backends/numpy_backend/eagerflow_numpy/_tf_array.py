"""NumPy kernels of TensorFlow's array ops with kernels of their own: pad, einsum, math.top_k.

- ``pad``: CONSTANT is one ``np.full`` and one copy (``np.pad`` spends ~15 µs in Python per
  call); REFLECT and SYMMETRIC are ``np.pad``'s (the core has already checked the widths:
  NumPy would mirror a too-wide pad again and again).
- ``einsum``: a two-operand contraction without repeated subscripts is one ``np.matmul`` of
  transposed and reshaped operands (BLAS, batched), as PyTorch does it; ``np.einsum`` runs
  such contractions in its own loops, ~10-50x slower at 128x128. Everything else goes to
  ``np.einsum`` with the contraction order of ``np.einsum_path``, cached per equation and shapes.
  16-bit floats are computed in float32 and rounded back.
- ``math.top_k``: ``np.argpartition`` when k is small next to the axis, then a stable sort of
  the k candidates; a full stable sort where ties at the k-th value (TensorFlow gives the
  lower indices) or NaNs make the partition ambiguous.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# -- pad -----------------------------------------------------------------------------------------

_NP_MODE = {"REFLECT": "reflect", "SYMMETRIC": "symmetric"}


def _pad(x, /, *, paddings, mode="CONSTANT", constant_values=0):
    if mode != "CONSTANT":
        return np.pad(x, paddings, mode=_NP_MODE[mode])
    out = np.full(tuple(n + b + a for n, (b, a) in zip(x.shape, paddings)), constant_values,
                  dtype=x.dtype)
    out[tuple(slice(b, b + n) for n, (b, _) in zip(x.shape, paddings))] = x
    return out


# -- einsum --------------------------------------------------------------------------------------

@lru_cache(maxsize=1024)
def _matmul_plan(equation: str):
    """How ``equation`` (two operands, explicit output) runs as one matmul, or None.

    Letters of one operand only and not in the output are summed first; then the operands are
    transposed to (batch, kept, contracted) and (batch, contracted, kept), the matmul runs, and
    its (batch, kept_a, kept_b) result is transposed to the output's order.
    """
    (sa, sb), out = equation.split("->")[0].split(","), equation.split("->")[1]
    if len(set(sa)) < len(sa) or len(set(sb)) < len(sb):
        return None  # a diagonal: np.einsum
    sum_a = tuple(i for i, c in enumerate(sa) if c not in sb and c not in out)
    sum_b = tuple(i for i, c in enumerate(sb) if c not in sa and c not in out)
    ra = "".join(c for c in sa if c in sb or c in out)
    rb = "".join(c for c in sb if c in sa or c in out)
    batch = [c for c in out if c in ra and c in rb]
    contract = [c for c in ra if c in rb and c not in out]
    keep_a = [c for c in out if c in ra and c not in rb]
    keep_b = [c for c in out if c in rb and c not in ra]
    perm_a = tuple(ra.index(c) for c in batch + keep_a + contract)
    perm_b = tuple(rb.index(c) for c in batch + contract + keep_b)
    res = batch + keep_a + keep_b
    perm_out = tuple(res.index(c) for c in out)
    return (sum_a, sum_b, _unless_identity(perm_a), _unless_identity(perm_b), len(batch),
            len(keep_a), len(keep_b), _unless_identity(perm_out))


def _unless_identity(perm):
    return None if perm == tuple(range(len(perm))) else perm


def _einsum2(plan, a, b):
    sum_a, sum_b, perm_a, perm_b, nbatch, nka, nkb, perm_out = plan
    if sum_a:
        a = a.sum(axis=sum_a)
    if sum_b:
        b = b.sum(axis=sum_b)
    if perm_a is not None:
        a = a.transpose(perm_a)
    if perm_b is not None:
        b = b.transpose(perm_b)
    if nka == nkb == 1 and a.ndim == b.ndim == nbatch + 2:  # already (batch, m, k), (batch, k, n)
        out = np.matmul(a, b)
    else:
        sa, sb = a.shape, b.shape
        batch, ka, kb = sa[:nbatch], sa[nbatch:nbatch + nka], sb[len(sb) - nkb:]
        k = _prod(sa[nbatch + nka:])
        out = np.matmul(a.reshape(batch + (_prod(ka), k)), b.reshape(batch + (k, _prod(kb))))
        out = out.reshape(batch + ka + kb)
    return out if perm_out is None else out.transpose(perm_out)


def _prod(shape):
    n = 1
    for d in shape:
        n *= d
    return n


@lru_cache(maxsize=1024)
def _path(equation, shapes):
    operands = [np.empty(s, np.float64) for s in shapes]  # shapes only: no values are read
    return np.einsum_path(equation, *operands, optimize="greedy")[0]


def _einsum(operands, /, *, equation):
    dtype = operands[0].dtype
    if dtype.itemsize == 2 and dtype.kind in "fV":  # float16, bfloat16 (not dtype.name: 4 us)
        return _einsum([o.astype(np.float32) for o in operands], equation=equation).astype(dtype)
    if len(operands) == 2:
        plan = _matmul_plan(equation)
        if plan is not None:
            return _einsum2(plan, *operands)
    if len(operands) <= 2:
        return np.einsum(equation, *operands)
    return np.einsum(equation, *operands,
                     optimize=_path(equation, tuple(o.shape for o in operands)))


# -- top_k ---------------------------------------------------------------------------------------

def _descending(x, axis=-1):
    """A stable descending argsort: equal values keep their order (lower index first)."""
    n = x.shape[axis]
    return n - 1 - np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)


def _top_k(x, /, *, k):
    n = x.shape[-1]
    if k == 0 or n == 0:
        return np.zeros(x.shape[:-1] + (k,), np.int64)
    if 4 * k < n and not (x.dtype.kind == "f" and np.isnan(x).any()):
        cand = np.sort(np.argpartition(x, n - k, axis=-1)[..., n - k:], axis=-1)
        vals = np.take_along_axis(x, cand, axis=-1)
        kth = vals.min(axis=-1, keepdims=True)
        # The partition picks any of the values equal to the k-th: TensorFlow picks the
        # lowest indices. Exact unless a tie at the k-th value was left out.
        if ((x == kth).sum(axis=-1) == (vals == kth).sum(axis=-1)).all():
            return np.take_along_axis(cand, _descending(vals), axis=-1)
    return _descending(x)[..., :k]


KERNELS: dict = {"pad": _pad, "einsum": _einsum, "math.top_k": _top_k}
