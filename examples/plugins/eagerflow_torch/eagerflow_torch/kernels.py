"""The torch kernel table: the backend kit's table over ``array_api_compat.torch``, then the
overrides where torch (or that namespace) and eagerflow disagree.

Each override says what goes wrong without it. Most were found by running eagerflow's
conformance kit (``eagerflow conformance --backend torch``) and the backend test-suite on the
``torchcpu`` device; what is still wrong is declared in ``known_failures.json``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from eagerflow_core.plugins import kernels_from_namespace

from . import _fft, _nn, _random, _special, _tf_array, _tf_indexing

_HALF = (torch.float16, torch.bfloat16)
_INT = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)
# torch indexes with int32/int64 tensors only, and reads a uint8 tensor as a boolean mask.
_SMALL_INT = (torch.int8, torch.int16, torch.uint8)
_PY_DTYPE = {bool: torch.bool, int: torch.int64, float: torch.float64, complex: torch.complex128}


def _tensor(x, like=None):
    """A Python scalar as a tensor of ``like``'s dtype (the core already chose the dtype)."""
    if isinstance(x, torch.Tensor):
        return x
    return torch.as_tensor(x, dtype=like.dtype if like is not None else _PY_DTYPE[type(x)])


def _pair(x1, x2):
    """Both operands of a binary kernel as tensors: the core passes weak Python scalars as is."""
    if not isinstance(x1, torch.Tensor):
        x1 = _tensor(x1, x2)
    return x1, _tensor(x2, x1)


# -- elementwise -------------------------------------------------------------------------------

def _imag(x, /):
    # torch.imag raises for real tensors; the standard's imag of a real number is 0.
    return x.imag if x.is_complex() else torch.zeros_like(x)


def _sign(x, /):
    if not x.is_complex():
        out = torch.sign(x)  # 0 for NaN; the standard says NaN
        return torch.where(torch.isnan(x), x, out) if x.is_floating_point() else out
    # torch.sgn divides by |x| computed in x's precision: for subnormal x, |x| underflows
    # (complex64 sgn(1e-45+1e-45j) is inf+infj). Scaling x by its larger part first keeps the
    # direction; where that part is 0, >= 1, inf or NaN, torch's answer stands.
    scale = torch.maximum(x.real.abs(), x.imag.abs())
    tiny = (scale > 0) & (scale < 1)
    if not bool(tiny.any()):
        return torch.sgn(x)
    scale = torch.where(tiny, scale, 1)  # real divisions: a complex one by a subnormal is NaN
    scaled = torch.complex(x.real / scale, x.imag / scale)
    return torch.where(tiny, torch.sgn(scaled), torch.sgn(x))


def _pow(x1, x2, /):
    x1, x2 = _pair(x1, x2)
    if x2.dtype in _INT and x2.dtype != torch.uint8 and bool((x2 < 0).any()):
        # torch raises for a negative scalar exponent only, and returns garbage for a tensor
        # of them; NumPy raises ValueError, which eagerflow reports as InvalidArgumentError.
        raise ValueError("Integers to negative integer powers are not allowed. Cast x1 to a "
                         "floating dtype first, e.g. ef.astype(x1, ef.float32)")
    out = torch.pow(x1, x2)
    if out.is_complex():
        # torch gives nan+nanj for 0j ** 0j; the standard says x ** 0 is 1 for every x.
        out = torch.where(x2 == 0, torch.ones((), dtype=out.dtype), out)
    return out


def _subtract(x1, x2, /):
    # torch refuses `tensor - True` ("Subtraction with a bool tensor is not supported"); the
    # core has already made the Python bool a weak operand of the tensor's dtype.
    if type(x1) is bool:
        x1 = int(x1)
    if type(x2) is bool:
        x2 = int(x2)
    return torch.subtract(x1, x2)


def _int_division(fn):
    """``fn`` with integer division by zero giving 0, as NumPy does (torch raises)."""
    def kernel(x1, x2, /):
        x1, x2 = _pair(x1, x2)
        if x1.dtype in _INT:
            zero = x2 == 0
            if bool(zero.any()):
                safe = torch.where(zero, torch.ones((), dtype=x2.dtype), x2)
                return torch.where(zero, torch.zeros((), dtype=x1.dtype), fn(x1, safe))
        return fn(x1, x2)
    kernel.__name__ = kernel.__qualname__ = fn.__name__
    return kernel


# -- searching, sorting, sets --------------------------------------------------------------------

def _arg_reduction(fn):
    def kernel(x, /, *, axis=None, keepdims=False):
        if x.dtype == torch.bool:  # torch: "argmax(): does not support bool input"
            x = x.to(torch.uint8)
        return fn(x, axis=axis, keepdims=keepdims)
    kernel.__name__ = kernel.__qualname__ = fn.__name__
    return kernel


def _count_nonzero(x, /, *, axis=None, keepdims=False):
    # array_api_compat's version fails on empty tensors (reshape of a size-1 result to [0]).
    nonzero = x != 0
    if axis == ():
        return nonzero.to(torch.int64)
    if axis is None and keepdims:
        axis = tuple(range(x.ndim))
    return torch.sum(nonzero, dim=axis, keepdim=keepdims, dtype=torch.int64)


def _searchsorted(x1, x2, /, *, side="left", sorter=None):
    x2 = _tensor(x2, x1)
    if x1.dtype == torch.bool:  # torch: "searchsorted_out_cpu" not implemented for 'Bool'
        x1, x2 = x1.to(torch.uint8), x2.to(torch.uint8)
    if not x1.is_floating_point():
        return torch.searchsorted(x1, x2, side=side, sorter=sorter)
    # NaN sorts last (the standard's order, and NumPy's), but torch's comparisons put every
    # value before a NaN of x1 and a NaN of x2 after everything. Search the non-NaN prefix;
    # a NaN goes before the first NaN of x1 (left) or after the last (right).
    keys = x1 if sorter is None else x1[sorter]
    valid = int((~torch.isnan(keys)).sum())
    out = torch.searchsorted(keys[:valid], x2, side=side)
    return torch.where(torch.isnan(x2), valid if side == "left" else keys.shape[0], out)


def _sorted_groups(x):
    """``(values, order, starts)``: the flattened ``x`` sorted stably, the permutation that
    sorts it, and where each run of equal values starts (NaN != NaN: each NaN is its own)."""
    flat = x.reshape(-1)
    if flat.is_complex():  # torch sorts no complex: lexicographic by (real, imag), stably
        order = torch.argsort(flat.imag, stable=True)
        order = order[torch.argsort(flat.real[order], stable=True)]
    else:
        keys = flat.to(torch.uint8) if flat.dtype == torch.bool else flat
        order = torch.argsort(keys, stable=True)
    values = flat[order]
    starts = torch.ones(values.shape, dtype=torch.bool)
    starts[1:] = values[1:] != values[:-1]
    return values, order, starts


def _unique_all(x, /):
    values, order, starts = _sorted_groups(x)
    group = torch.cumsum(starts.to(torch.int64), 0) - 1
    inverse = torch.empty_like(group)
    inverse[order] = group
    first = torch.nonzero(starts).reshape(-1)
    counts = torch.diff(first, append=torch.tensor([values.numel()]))
    return values[starts], order[first], inverse.reshape(x.shape), counts


def _unique_counts(x, /):
    values, _, _, counts = _unique_all(x)
    return values, counts


def _unique_inverse(x, /):
    values, _, inverse, _ = _unique_all(x)
    return values, inverse


def _unique_values(x, /):
    values, _, starts = _sorted_groups(x)
    return values[starts]


# -- statistical -------------------------------------------------------------------------------

def _moment(x, axis, correction, keepdims, root):
    # array_api_compat refuses a float correction in std; computed here for var and std alike,
    # in float32 for the 16-bit floats (their accumulators lose digits after a few additions).
    xa = x.float() if x.dtype in _HALF else x
    dims = tuple(range(x.ndim)) if axis is None else ((axis,) if isinstance(axis, int) else axis)
    n = math.prod(x.shape[d] for d in dims)
    if not dims:  # torch.sum(dim=()) would reduce every axis
        ss = torch.zeros_like(xa)
    else:
        mean = torch.sum(xa, dim=dims, keepdim=True) / n if n else torch.full_like(
            torch.sum(xa, dim=dims, keepdim=True), math.nan)
        dev = xa - mean
        ss = torch.sum(dev * dev, dim=dims, keepdim=keepdims)
    out = ss / (n - correction) if n - correction > 0 else ss * math.nan
    out = torch.sqrt(out) if root else out
    return out.to(x.dtype)


def _var(x, /, *, axis=None, correction=0.0, keepdims=False):
    return _moment(x, axis, correction, keepdims, root=False)


def _std(x, /, *, axis=None, correction=0.0, keepdims=False):
    return _moment(x, axis, correction, keepdims, root=True)


# -- manipulation, indexing ----------------------------------------------------------------------

def _repeat(x, repeats, /, *, axis=None):
    if isinstance(repeats, torch.Tensor):
        # torch's repeat_interleave takes int64 counts only, and raises RuntimeError for
        # negative ones where NumPy raises ValueError.
        repeats = repeats.to(torch.int64)
        if repeats.numel() and bool((repeats < 0).any()):
            raise ValueError("repeats may not contain negative values")
    elif repeats < 0:
        raise ValueError("repeats may not be negative")
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    return torch.repeat_interleave(x, repeats, dim=axis)


def _wrapped(indices, size):
    # torch's gathers take no negative indices; the standard counts them from the end (the
    # core has already checked that every index is in range).
    indices = indices.to(torch.int64)
    return torch.where(indices < 0, indices + size, indices)


def _take(x, indices, /, *, axis=None):
    if axis is None:
        x, axis = x.reshape(-1), 0
    picked = torch.index_select(x, axis, _wrapped(indices, x.shape[axis]).reshape(-1))
    return picked.reshape(x.shape[:axis] + indices.shape + x.shape[axis:][1:])


def _take_along_axis(x, indices, /, *, axis=-1):
    return torch.take_along_dim(x, _wrapped(indices, x.shape[axis]), dim=axis)


def _tensordot(x1, x2, /, *, axes=2):
    # torch broadcasts contracted axes of size 1 (shapes (2, 3) and (1, 4) contract to (2, 4));
    # NumPy and the standard require equal sizes.
    a1, a2 = ((tuple(range(x1.ndim - axes, x1.ndim)), tuple(range(axes)))
              if isinstance(axes, int) else axes)
    for i, j in zip(a1, a2):
        if x1.shape[i] != x2.shape[j]:
            raise ValueError(f"shape mismatch for sum: axis {i} of x1 has size {x1.shape[i]}, "
                             f"axis {j} of x2 has size {x2.shape[j]}")
    return torch.tensordot(x1, x2, dims=(list(a1), list(a2)))


def _where(condition, x1, x2, /):
    # The core passes Python scalars through; torch.where takes a tensor condition and at most
    # one scalar among x1, x2.
    like = x1 if isinstance(x1, torch.Tensor) else x2 if isinstance(x2, torch.Tensor) else None
    x1, x2 = _tensor(x1, like), _tensor(x2, like)
    return torch.where(_tensor(condition), x1, x2)


# eagerflow normalises a key to a tuple of ints, slices, None, Ellipsis, bools and raw tensors.
# torch follows NumPy for keys of slices and index tensors, with four differences: it refuses
# negative slice steps; it takes no int8/int16 index tensors and reads uint8 ones as boolean
# masks; when an int or None stands in a key with an index tensor, NumPy may move the indexed
# dimensions to the front where torch applies the int first; and it places the dimension of a
# Python bool (a 0-d mask) elsewhere. Negative steps are served by flipping (x[::-2] is
# flip(x)[1::2], element for element); the rare mixed keys are resolved on the host, as the
# flat positions NumPy's own indexing picks.

def _plain_key(key) -> bool:
    """Whether torch indexes with ``key`` exactly as NumPy does."""
    arrays = sum(isinstance(k, torch.Tensor) for k in key)
    flags = sum(type(k) is bool for k in key)  # a Python bool is a 0-d boolean mask
    if flags:
        return len(key) == 1
    return not arrays or not any(type(k) is int or k is None for k in key)


def _positions(x, key):
    """Flat positions of the elements ``x[key]`` picks, by NumPy's rules (a host round trip)."""
    host_key = tuple(k.numpy() if isinstance(k, torch.Tensor) else k for k in key)
    return torch.as_tensor(np.asarray(np.arange(x.numel()).reshape(tuple(x.shape))[host_key]))


def _flip_negative_steps(x, key):
    """``(x, key)`` with negative-step slices turned into positive ones on flipped axes."""
    if not any(type(k) is slice and k.step is not None and k.step < 0 for k in key):
        return x, key, ()
    axes, axis = [], 0
    rest = x.ndim - sum(k.ndim if isinstance(k, torch.Tensor) and k.dtype == torch.bool else
                        0 if k is None or k is Ellipsis else 1 for k in key)
    for k in key:
        axes.append(axis)
        axis += (rest if k is Ellipsis else 0 if k is None else
                 k.ndim if isinstance(k, torch.Tensor) and k.dtype == torch.bool else 1)
    flips, out = [], []
    for k, ax in zip(key, axes):
        if type(k) is slice and k.step is not None and k.step < 0:
            picked = range(*k.indices(x.shape[ax]))
            n = x.shape[ax]
            k = slice(n - 1 - picked[0], n - picked[-1], -k.step) if picked else slice(0, 0)
            flips.append(ax)
        out.append(k)
    return torch.flip(x, flips), tuple(out), tuple(flips)


def _torch_key(key):
    key = key if isinstance(key, tuple) else (key,)
    return tuple(k.to(torch.int64) if isinstance(k, torch.Tensor) and k.dtype in _SMALL_INT
                 else k for k in key)


def _getitem(x, key, /):
    key = _torch_key(key)
    if not _plain_key(key):
        return x.reshape(-1)[_positions(x, key)]
    x, key, _ = _flip_negative_steps(x, key)
    return x[key]


def _scatter(x, values, key, accumulate):
    """A copy of ``x`` with ``values`` written (or added) at ``key``; x itself is never written:
    other tensors may share its memory."""
    key = _torch_key(key)
    out = x.clone(memory_format=torch.contiguous_format)
    if not accumulate and _plain_key(key):
        view, key, flips = _flip_negative_steps(out, key)
        if flips:
            view[key] = _tensor(values, x)
            return torch.flip(view, flips)
        out[key] = _tensor(values, x)
        return out
    where = _getitem(torch.arange(x.numel()).reshape(x.shape), key)
    values = torch.broadcast_to(_tensor(values, x).to(x.dtype), where.shape).reshape(-1)
    if accumulate:  # a repeated index receives every value meant for it
        out.view(-1).index_add_(0, where.reshape(-1), values)
    else:
        out.view(-1)[where.reshape(-1)] = values
    return out


def _setitem(x, value, key):
    return _scatter(x, value, key, accumulate=False)


def _index_add(x, values, key):
    # torch.index_add, which the kit finds under this name, has another signature entirely.
    return _scatter(x, values, key, accumulate=True)


# -- linear algebra ----------------------------------------------------------------------------
# torch's CPU LAPACK kernels take no float16/bfloat16: those are computed in float32 (the core
# casts the result back to the dtype it decided), as the NumPy backend does. torch raises
# LinAlgError, a RuntimeError; NumPy's is a ValueError, so eagerflow reports it as an
# InvalidArgumentError: raised here as ValueError too, with the same hints.

_HINTS = {
    "inv": "no inverse exists (for one matrix of the stack at least); ef.linalg.pinv gives "
           "the pseudo-inverse",
    "solve": "x1 has no inverse (one matrix of the stack at least), so there is no unique "
             "solution; ef.linalg.pinv(x1) @ x2 gives the least-squares one",
    "cholesky": "x must be symmetric (Hermitian) positive-definite (every matrix of the stack)",
    "matrix_power": "a negative power needs the inverse, which does not exist",
}
_EPS = {dt: torch.finfo(dt).eps for dt in _HALF}
_LINALG = ("cholesky", "det", "eigh", "eigvalsh", "inv", "matrix_norm", "matrix_power",
           "matrix_rank", "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "vector_norm")


def _linalg(name, fn):
    hint = _HINTS.get(name, "")
    has_rtol = name in ("matrix_rank", "pinv")

    def kernel(*args, **kwargs):
        x = args[0]
        if has_rtol and kwargs.get("rtol") is None and x.dtype in _EPS:
            # The standard's default rtol is max(m, n) * eps of the input's dtype: computing
            # in float32 must not tighten it to float32's eps.
            kwargs["rtol"] = max(x.shape[-2:], default=0) * _EPS[x.dtype]
        args = [a.float() if isinstance(a, torch.Tensor) and a.dtype in _HALF else a
                for a in args]
        if isinstance(kwargs.get("rtol"), torch.Tensor) and kwargs["rtol"].dtype in _HALF:
            kwargs["rtol"] = kwargs["rtol"].float()
        try:
            out = fn(*args, **kwargs)
        except torch.linalg.LinAlgError as exc:
            raise ValueError(f"{exc}: {hint}" if hint else str(exc)) from None
        return tuple(out) if isinstance(out, tuple) else out
    kernel.__name__ = kernel.__qualname__ = name
    return kernel


def _vector_norm(fn):
    def kernel(x, /, *, axis=None, keepdims=False, ord=2):
        real = x.real.dtype if x.is_complex() else x.dtype
        if axis == ():
            # The norm of each element alone; array_api_compat writes it with out[:] = ...,
            # which torch refuses for a 0-d tensor.
            return ((x != 0) if ord == 0 else torch.abs(x)).to(real)
        if ord == 0 and x.is_complex():
            # torch warns that it drops the imaginary part here (its count is right): count
            # the nonzero elements of a real tensor instead
            x = (x != 0).to(real)
        return fn(x, axis=axis, keepdims=keepdims, ord=ord)
    kernel.__name__ = kernel.__qualname__ = "vector_norm"
    return kernel


def build_table(xp) -> dict:
    table = kernels_from_namespace(xp)
    table.update({
        "imag": _imag, "sign": _sign, "pow": _pow, "subtract": _subtract,
        "floor_divide": _int_division(torch.floor_divide),
        "remainder": _int_division(torch.remainder),
        "argmax": _arg_reduction(table["argmax"]), "argmin": _arg_reduction(table["argmin"]),
        "count_nonzero": _count_nonzero, "searchsorted": _searchsorted,
        "unique_all": _unique_all, "unique_counts": _unique_counts,
        "unique_inverse": _unique_inverse, "unique_values": _unique_values,
        "var": _var, "std": _std,
        "repeat": _repeat, "take": _take, "take_along_axis": _take_along_axis,
        "tensordot": _tensordot, "where": _where,
        "getitem": _getitem, "setitem": _setitem, "index_add": _index_add,
    })
    table.update(_fft.KERNELS)
    table.update(_special.KERNELS)
    table["linalg.vector_norm"] = _vector_norm(table["linalg.vector_norm"])
    table.update(_random.KERNELS)  # the stateless kernels of ef.random
    for name in _LINALG:
        key = f"linalg.{name}"
        if key in table:
            table[key] = _linalg(name, table[key])
    table.update(_nn.KERNELS)  # conv and pooling on torch.nn.functional (_nn.py)
    table.update(_tf_array.KERNELS)  # pad, einsum, math.top_k (_tf_array.py)
    table.update(_tf_indexing.KERNELS)  # gather, scatter_nd, segment sums (_tf_indexing.py)
    return table
