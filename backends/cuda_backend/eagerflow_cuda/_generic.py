"""Kernels for core ops that CuPy's namespace lacks or spells differently, written on any
NumPy-like namespace ``xp``.

CuPy 14 has the Array API names of most ops (the backend kit takes those), but not the linalg
extension's ``diagonal``/``trace``/``outer``/``svdvals``/``vector_norm``/``matrix_norm``, nor
``unstack``/``vecdot``; its special functions live in ``cupyx.scipy.special`` under SciPy's
names; and the optimizer updates (``optim.*``, called through ``update_in_place``) are
eagerflow's own. Everything here is array code on ``xp``, so NumPy runs it too: that is how the
tests check it against the NumPy backend on a machine without a GPU.

>>> import numpy as np
>>> t = generic_kernels(np)
>>> t["linalg.vector_norm"](np.array([[3.0, 4.0], [6.0, 8.0]]), axis=1, keepdims=False, ord=2)
array([ 5., 10.])
>>> t["linalg.matrix_norm"](np.eye(3), keepdims=False, ord="nuc")
np.float64(3.0)
"""

from __future__ import annotations

import math

_SPECIAL = {"erf": "erf", "erfc": "erfc", "erfinv": "erfinv", "lgamma": "gammaln",
            "digamma": "digamma", "igamma": "gammainc", "igammac": "gammaincc"}


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,)))


def linalg_kernels(xp) -> dict:
    """The linalg extension's functions that ``xp.linalg`` may lack, by the standard's
    signatures."""

    def diagonal(x, /, *, offset=0):
        return xp.diagonal(x, offset, axis1=-2, axis2=-1)

    def trace(x, /, *, offset=0, dtype=None):
        return xp.trace(x, offset, axis1=-2, axis2=-1, dtype=dtype)

    def outer(x1, x2, /):
        return xp.multiply.outer(x1, x2) if hasattr(xp.multiply, "outer") else \
            x1[:, None] * x2[None, :]

    def svdvals(x, /):
        return xp.linalg.svd(x, compute_uv=False)

    def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
        axes = _axes(axis, x.ndim)
        a = xp.abs(x)
        if ord == math.inf:
            out = xp.max(a, axis=axes, keepdims=keepdims) if a.size else \
                xp.zeros(_reduced(a.shape, axes, keepdims), a.dtype)
        elif ord == -math.inf:
            out = xp.min(a, axis=axes, keepdims=keepdims)
        elif ord == 0:
            out = xp.sum(a != 0, axis=axes, keepdims=keepdims).astype(a.dtype)
        elif ord == 1:
            out = xp.sum(a, axis=axes, keepdims=keepdims)
        elif ord == 2:
            out = xp.sqrt(xp.sum(a * a, axis=axes, keepdims=keepdims))
        else:
            p = a.dtype.type(ord)
            out = xp.sum(a ** p, axis=axes, keepdims=keepdims) ** (1 / p)
        return out

    def matrix_norm(x, /, *, keepdims=False, ord="fro"):
        a = xp.abs(x)
        if ord == "fro":
            out = xp.sqrt(xp.sum(a * a, axis=(-2, -1)))
        elif ord == "nuc":
            out = xp.sum(svdvals(x), axis=-1)
        elif ord in (2, -2):
            s = svdvals(x)
            out = xp.max(s, axis=-1) if ord == 2 else xp.min(s, axis=-1)
        elif ord in (1, -1):  # column sums
            c = xp.sum(a, axis=-2)
            out = xp.max(c, axis=-1) if ord == 1 else xp.min(c, axis=-1)
        elif ord in (math.inf, -math.inf):  # row sums
            r = xp.sum(a, axis=-1)
            out = xp.max(r, axis=-1) if ord == math.inf else xp.min(r, axis=-1)
        else:
            raise ValueError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf "
                             f"or -inf, got {ord!r}")
        return out[..., None, None] if keepdims else out

    return {"linalg.diagonal": diagonal, "linalg.trace": trace, "linalg.outer": outer,
            "linalg.svdvals": svdvals, "linalg.vector_norm": vector_norm,
            "linalg.matrix_norm": matrix_norm}


def _reduced(shape, axes, keepdims):
    return tuple(1 if i in axes else d for i, d in enumerate(shape) if keepdims or i not in axes)


def array_kernels(xp) -> dict:
    """``unstack`` and ``vecdot`` (NumPy 2 names CuPy 14 lacks)."""

    def unstack(x, /, *, axis=0):
        moved = xp.moveaxis(x, axis, 0)
        return tuple(moved[i] for i in range(moved.shape[0]))

    def vecdot(x1, x2, /, *, axis=-1):
        # The standard's vecdot conjugates its first argument; the core broadcasts the inputs.
        a = xp.conj(x1) if x1.dtype.kind == "c" else x1
        return xp.sum(a * x2, axis=axis)

    return {"unstack": unstack, "vecdot": vecdot}


def compat_kernels(xp) -> dict:
    """Ops CuPy has under the standard's name but with NumPy 1's signature, which the core's
    call does not bind to (``cupy.sort(a, axis, kind)`` has no ``descending``,
    ``cupy.var`` takes ``ddof``, ``cupy.reshape`` names its shape ``newshape``...): the
    standard's signatures over CuPy's functions. They replace the kit's entries."""
    import numpy as np

    # CuPy's sorts are always stable and take no other ``kind`` (its default, None, is the
    # stable one); NumPy, standing in for it in the tests, has to be asked.
    stable_kind = {"kind": "stable"} if xp is np else {}

    def sort(x, /, *, axis=-1, descending=False, stable=True):
        if x.ndim == 0:
            return x.copy()
        if descending:  # a stable ascending sort of the reversed axis, reversed back
            return xp.flip(xp.sort(xp.flip(x, axis), axis=axis, **stable_kind), axis)
        return xp.sort(x, axis=axis, **stable_kind)

    def argsort(x, /, *, axis=-1, descending=False, stable=True):
        if x.ndim == 0:
            return xp.zeros((), dtype=np.int64)
        if descending:  # positions in the reversed axis map back as n - 1 - i
            rev = xp.argsort(xp.flip(x, axis), axis=axis, **stable_kind)
            return (x.shape[axis] - 1) - xp.flip(rev, axis)
        return xp.argsort(x, axis=axis, **stable_kind)

    def count_nonzero(x, /, *, axis=None, keepdims=False):
        out = xp.count_nonzero(x, axis=axis)
        if keepdims:
            out = xp.reshape(out, _reduced(x.shape, _axes(axis, x.ndim), True))
        return out

    def var(x, /, *, axis=None, correction=0.0, keepdims=False):
        return xp.var(x, axis=axis, ddof=correction, keepdims=keepdims)

    def std(x, /, *, axis=None, correction=0.0, keepdims=False):
        return xp.std(x, axis=axis, ddof=correction, keepdims=keepdims)

    def reshape(x, /, shape, *, copy=None):
        out = xp.reshape(x, shape)
        return out.copy() if copy and out.base is not None else out

    def fftfreq(n, /, *, d=1.0, dtype=None, device=None):
        out = xp.fft.fftfreq(n, d)
        return out if dtype is None else out.astype(dtype, copy=False)

    def rfftfreq(n, /, *, d=1.0, dtype=None, device=None):
        out = xp.fft.rfftfreq(n, d)
        return out if dtype is None else out.astype(dtype, copy=False)

    def cholesky(x, /, *, upper=False):
        low = xp.linalg.cholesky(x)
        return xp.conj(xp.swapaxes(low, -1, -2)) if upper else low

    def _cutoff(x, s, rtol):
        if rtol is None:
            rtol = max(x.shape[-2:], default=0) * np.finfo(s.dtype).eps
        rtol = xp.asarray(rtol, dtype=s.dtype)
        return rtol[..., None] * xp.max(s, axis=-1, keepdims=True) if s.shape[-1] else s

    def matrix_rank(x, /, *, rtol=None):
        s = xp.linalg.svd(x, compute_uv=False)
        return xp.sum(s > _cutoff(x, s, rtol), axis=-1).astype(np.int64)

    def pinv(x, /, *, rtol=None):
        u, s, vh = xp.linalg.svd(x, full_matrices=False)
        keep = s > _cutoff(x, s, rtol)
        s_inv = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(s.dtype)
        vt = xp.conj(xp.swapaxes(vh, -1, -2))
        return xp.matmul(vt * s_inv[..., None, :], xp.conj(xp.swapaxes(u, -1, -2)))

    return {"sort": sort, "argsort": argsort, "count_nonzero": count_nonzero, "var": var,
            "std": std, "reshape": reshape, "fft.fftfreq": fftfreq, "fft.rfftfreq": rfftfreq,
            "linalg.cholesky": cholesky, "linalg.matrix_rank": matrix_rank, "linalg.pinv": pinv}


def special_kernels(sc, xp) -> dict:
    """The special functions from ``sc`` (``cupyx.scipy.special``, or ``scipy.special`` when
    NumPy stands in). The core gives these kernels float32 or float64 only (16-bit floats are
    computed in float32)."""
    table = {name: getattr(sc, fn) for name, fn in _SPECIAL.items()}

    def polygamma(a, x, /):
        # TensorFlow's rule: NaN where the order is not a non-negative integer (SciPy would
        # evaluate a Hurwitz zeta there); the NumPy backend does the same.
        valid = (a >= 0) & (a == xp.floor(a))
        out = sc.polygamma(xp.where(valid, a, 0), x)
        return xp.where(valid, out, xp.nan).astype(x.dtype, copy=False)

    table["polygamma"] = polygamma
    return table


def optim_kernels(xp) -> dict:
    """The optimizer updates (``optim.<family>``) in place, with the NumPy backend's exact
    signatures and math (``eagerflow_numpy/_optim.py`` documents the contract): buffers first,
    ``grad`` last, hyperparameters as keywords; the updated buffers come back in order. CuPy
    runs each line as one elementwise kernel; ``optim.adam`` is replaced by the fused CUDA C
    kernel where its dtypes allow (``fused.Fused.optim_adam``)."""

    def decay_(p, decay):
        if decay:
            p *= 1.0 - decay

    def sgd(param, *rest, lr, momentum=0.0, nesterov=False, decay=0.0):
        grad = rest[-1]
        decay_(param, decay)
        if momentum <= 0:
            param -= grad * lr
            return param
        buf = rest[0]
        buf *= momentum
        buf -= grad * lr
        if nesterov:
            param -= grad * lr
            param += buf * momentum
        else:
            param += buf
        return param, buf

    def adam(param, m, v, *rest, lr, beta_1, beta_2, epsilon, decay=0.0, amsgrad=False):
        grad = rest[-1]
        decay_(param, decay)
        m += (grad - m) * (1.0 - beta_1)
        v += (grad * grad - v) * (1.0 - beta_2)
        second = v
        if amsgrad:
            second = rest[0]
            xp.maximum(second, v, out=second)
        param -= m / (xp.sqrt(second) + epsilon) * lr
        return (param, m, v, rest[0]) if amsgrad else (param, m, v)

    def rmsprop(param, v, *rest, lr, rho, momentum=0.0, epsilon, centered=False, decay=0.0):
        grad = rest[-1]
        decay_(param, decay)
        v *= rho
        v += grad * grad * (1.0 - rho)
        if centered:
            mg = rest[-2]
            mg *= rho
            mg += grad * (1.0 - rho)
            den = (v - mg * mg) + epsilon
        else:
            den = v + epsilon
        inc = grad / xp.sqrt(den) * lr
        if momentum > 0:
            mom = rest[0]
            mom *= momentum
            mom += inc
            param -= mom
        else:
            param -= inc
        return (param, v, *rest[:-1])

    def adagrad(param, acc, grad, *, lr, epsilon, decay=0.0):
        decay_(param, decay)
        acc += grad * grad
        param -= grad / xp.sqrt(acc + epsilon) * lr
        return param, acc

    return {"optim.sgd": sgd, "optim.adam": adam, "optim.rmsprop": rmsprop,
            "optim.adagrad": adagrad}


#: The linalg kernels that cuSOLVER (and LAPACK) run in float32/float64 only: 16-bit inputs
#: are computed in float32 (the core casts the result back), as the NumPy backend does.
HALF_LIFTED = ("cholesky", "det", "eigh", "eigvalsh", "inv", "matrix_norm", "matrix_power",
               "matrix_rank", "pinv", "qr", "slogdet", "solve", "svd", "svdvals")
_RTOL = ("matrix_rank", "pinv")


def lift_half(fn, name: str):
    """``fn`` computing float16 arrays in float32; for ``matrix_rank``/``pinv`` the default
    ``rtol`` stays the standard's ``max(m, n) * eps`` of float16 (computing in float32 must not
    silently tighten it). Tuples come back as plain tuples (the core wraps each element)."""
    import numpy as np

    half = np.dtype(np.float16)
    eps = float(np.finfo(np.float16).eps)

    def kernel(*args, **kwargs):
        if name in _RTOL and kwargs.get("rtol") is None and args[0].dtype == half:
            kwargs["rtol"] = max(args[0].shape[-2:], default=0) * eps
        args = [a.astype(np.float32) if getattr(a, "dtype", None) == half else a for a in args]
        out = fn(*args, **kwargs)
        return tuple(out) if isinstance(out, tuple) else out

    kernel.__name__ = getattr(fn, "__name__", name)
    kernel.__wrapped__ = fn
    return kernel


def tf_kernels(xp) -> dict:
    """TensorFlow's array ops with kernels of their own (the NumPy backend's ``_tf_array.py``):
    ``pad`` and ``einsum`` exist in CuPy under NumPy's signatures (they replace the kit's
    entries), ``math.top_k`` does not."""
    import numpy as np

    modes = {"REFLECT": "reflect", "SYMMETRIC": "symmetric"}
    stable_kind = {"kind": "stable"} if xp is np else {}  # CuPy's sorts are always stable

    def pad(x, /, *, paddings, mode="CONSTANT", constant_values=0):
        if mode != "CONSTANT":  # the core has checked the widths against the mirrored axis
            return xp.pad(x, paddings, mode=modes[mode])
        out = xp.full(tuple(n + b + a for n, (b, a) in zip(x.shape, paddings)),
                      constant_values, dtype=x.dtype)
        out[tuple(slice(b, b + n) for n, (b, _) in zip(x.shape, paddings))] = x
        return out

    def einsum(operands, /, *, equation):
        return xp.einsum(equation, *operands)  # cuBLAS (cuTENSOR where installed) contracts

    def top_k(x, /, *, k):
        # The indices of the k largest, largest first; among equal values the lower index
        # first (TensorFlow's order): a stable ascending sort of the reversed axis, reversed.
        n = x.shape[-1]
        if k == 0 or n == 0:
            return xp.zeros(x.shape[:-1] + (k,), xp.int64)
        order = xp.argsort(xp.flip(x, -1), axis=-1, **stable_kind)
        return (n - 1 - xp.flip(order, -1))[..., :k]

    return {"pad": pad, "einsum": einsum, "math.top_k": top_k}


def generic_kernels(xp, special=None) -> dict:
    """Every kernel of this module over ``xp`` (the special functions when ``special``, the
    SciPy-like module, is given)."""
    table = {**linalg_kernels(xp), **array_kernels(xp), **optim_kernels(xp)}
    if special is not None:
        table.update(special_kernels(special, xp))
    return table
