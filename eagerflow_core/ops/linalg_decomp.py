"""Decompositions of the Array API ``linalg`` extension: ``ef.linalg.cholesky``, ``eigh``,
``eigvalsh``, ``qr``, ``svd``, ``svdvals``.

Each op is named ``"linalg.<name>"``, so a backend built with the kit finds ``xp.linalg.<name>``.
Integer and bool inputs are lifted to the default float (float32) before the kernel runs.
Several outputs come back as the standard's namedtuples (``EighResult``, ``QRResult``,
``SVDResult``).

Each op is followed by its reverse-mode rule (``defvjp``), in eagerflow ops: a multi-output
op gets ``g`` as a tuple with None for outputs that no cotangent reached; complex inputs use
the conjugate convention. The decompositions read one triangle of a symmetric input
(cholesky, eigh, eigvalsh): their gradient is the symmetric (Hermitian) one, as in PyTorch,
TensorFlow and JAX. The standard formulas assume what makes the function smooth there:
distinct eigenvalues (eigh) and singular values (svd), full rank (qr), and, for the vectors
of eigh and svd, a loss that does not depend on their arbitrary signs (phases). Only the
value-only decompositions (eigvalsh, svdvals) have forward rules (``defjvp``); forward mode
differentiates the others by transposing their reverse rule.
"""

from __future__ import annotations

from typing import NamedTuple

from .._dispatch import call
from .._errors import InvalidArgumentError
from .._registry import F, defjvp, defop, defvjp
from .._tensor import Tensor
from ._define import public
from ._grad_util import mH
from ._linalg_util import (diag_embed, eye_like, float_dtype, lift, matrix, real_dtype, square,
                           vectors)


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class QRResult(NamedTuple):
    Q: Tensor
    R: Tensor


class SVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


def _diagonal_of(t, left, right):
    """Re diag(left^H t right): how the values of a decomposition x = left diag(v) right^H
    move with x along t (first-order perturbation theory)."""
    d = F.linalg.diagonal(F.matmul(mH(left), F.matmul(t, right)))
    return F.real(d) if d.dtype.kind == "c" else d


# -- decompositions ----------------------------------------------------------------------------

cholesky_op = defop("linalg.cholesky", family="linalg", dtype_rule=float_dtype, shape_rule=square)


@public(cholesky_op)
def cholesky(x, /, *, upper=False) -> Tensor:
    """Cholesky factor of symmetric (Hermitian) positive-definite matrices: lower ``L`` with
    ``x = L @ L^H``, or upper ``U`` with ``x = U^H @ U`` if ``upper``.

    >>> import eagerflow_core as ef
    >>> ef.linalg.cholesky(ef.constant([[4.0, 2.0], [2.0, 2.0]]))
    ef.Tensor([[2., 0.],
               [1., 1.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    return call(cholesky_op, (lift(x),), {"upper": bool(upper)})


def _cholesky_vjp(g, ans, x, upper=False):
    low, g_low = (mH(ans), mH(g)) if upper else (ans, g)
    p = F.tril(F.matmul(mH(low), g_low))
    p = (p + mH(F.tril(p, k=-1))) * 0.5
    low_inv = F.linalg.inv(low)
    return F.matmul(mH(low_inv), F.matmul(p, low_inv))


defvjp(cholesky, _cholesky_vjp)


def _eigh_shape(x, **params):
    return vectors(x), square(x)


def _eigh_dtype(x, **params):
    return real_dtype(x), float_dtype(x)


eigh_op = defop("linalg.eigh", family="linalg", dtype_rule=_eigh_dtype, shape_rule=_eigh_shape,
                nout=2)


@public(eigh_op)
def eigh(x, /) -> EighResult:
    """Eigenvalues (ascending, real) and eigenvectors (columns) of symmetric or Hermitian
    matrices; only the lower triangle is read.

    >>> import eagerflow_core as ef
    >>> ef.linalg.eigh(ef.constant([[2.0, 0.0], [0.0, 1.0]])).eigenvalues
    ef.Tensor([1., 2.], shape=(2,), dtype=float32, device='cpu:0')
    """
    return EighResult(*call(eigh_op, (lift(x),)))


def _eigh_vjp(g, ans, x):
    g_w, g_v = g
    w, v = ans
    if g_v is None:
        return F.matmul(v * F.expand_dims(g_w, axis=-2), mH(v))
    vhgv = F.matmul(mH(v), g_v)
    one = eye_like(w.shape[-1], w)
    # f[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it
    f = (1 - one) / (F.expand_dims(w, axis=-2) - F.expand_dims(w, axis=-1) + one)
    inner = f * (vhgv - mH(vhgv)) * 0.5
    if g_w is not None:
        inner = inner + diag_embed(g_w)
    return F.matmul(v, F.matmul(inner, mH(v)))


defvjp(eigh, _eigh_vjp)


eigvalsh_op = defop("linalg.eigvalsh", family="linalg", dtype_rule=real_dtype, shape_rule=vectors)


@public(eigvalsh_op)
def eigvalsh(x, /) -> Tensor:
    """Eigenvalues (ascending, real) of symmetric or Hermitian matrices.

    >>> import eagerflow_core as ef
    >>> ef.linalg.eigvalsh(ef.constant([[2.0, 1.0], [1.0, 2.0]]))
    ef.Tensor([1., 3.], shape=(2,), dtype=float32, device='cpu:0')
    """
    return call(eigvalsh_op, (lift(x),))


# d w_i = Re(v_i^H dx v_i) for distinct eigenvalues (the diagonal of V^H dx V)
defvjp(eigvalsh, lambda g, ans, x: _eigh_vjp((g, None), eigh(x), x))


def _eigvalsh_jvp(t, ans, x):
    v = eigh(x).eigenvectors
    return _diagonal_of(t, v, v)


defjvp(eigvalsh, _eigvalsh_jvp)


_QR_MODES = ("reduced", "complete")


def _qr_shape(x, *, mode="reduced"):
    m, n = matrix(x)[-2:]
    k = m if mode == "complete" else min(m, n)
    return x[:-2] + (m, k), x[:-2] + (k, n)


qr_op = defop("linalg.qr", family="linalg", dtype_rule=float_dtype, shape_rule=_qr_shape, nout=2)


@public(qr_op)
def qr(x, /, *, mode="reduced") -> QRResult:
    """QR decomposition ``x = Q @ R``: ``Q`` with orthonormal columns, ``R`` upper triangular.

    ``mode="reduced"`` gives ``Q`` of shape (..., m, k) and ``R`` (..., k, n), k = min(m, n);
    ``mode="complete"`` gives a square ``Q`` (..., m, m) and ``R`` (..., m, n).

    >>> import eagerflow_core as ef
    >>> q, r = ef.linalg.qr(ef.constant([[3.0, 1.0], [4.0, 2.0]]))
    >>> ef.abs(r)
    ef.Tensor([[5. , 2.2],
               [0. , 0.4]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    if mode not in _QR_MODES:
        raise InvalidArgumentError(f"linalg.qr: mode must be 'reduced' or 'complete', got {mode!r}")
    return QRResult(*call(qr_op, (lift(x),), {"mode": mode}))


def _solve_right_h(b, r):
    """``b @ r^-H`` (r square)."""
    return mH(F.linalg.solve(r, mH(b)))


def _qr_vjp(g, ans, x, mode="reduced"):
    g_q, g_r = g
    q, r = ans
    m, n = x.shape[-2:]
    if mode == "complete" and m > n:
        raise InvalidArgumentError(
            f"linalg.qr: mode='complete' is not differentiable for a tall input (shape "
            f"{x.shape}): the extra columns of Q are arbitrary; use mode='reduced'")
    parts = ([F.matmul(g_r, mH(r))] if g_r is not None else []) + (
        [-F.matmul(mH(q), g_q)] if g_q is not None else [])
    xm = parts[0] if len(parts) == 1 else parts[0] + parts[1]
    if m >= n:
        up = F.triu(xm, k=1)
        sym = up + mH(up) + diag_embed(F.real(F.linalg.diagonal(xm)))
        ga = F.matmul(q, sym)
        if g_q is not None:
            ga = ga + g_q
        return _solve_right_h(ga, r)
    # wide: x = q @ [r1 | r2] with r1 square; only the square part's QR moves q
    xm = -xm
    skew = F.tril(xm, k=-1) - F.tril(mH(xm), k=-1)
    if xm.dtype.kind == "c":
        skew = skew + diag_embed(1j * F.imag(F.linalg.diagonal(xm)))
    ga = _solve_right_h(F.matmul(q, skew), r[..., :m])
    ga = F.concat([ga, F.zeros(ga.shape[:-1] + (n - m,), dtype=ga.dtype, device=ga.device)],
                  axis=-1)
    return ga if g_r is None else ga + F.matmul(q, g_r)


defvjp(qr, _qr_vjp)


def _svd_shape(x, *, full_matrices=True):
    m, n = matrix(x)[-2:]
    k = min(m, n)
    b = x[:-2]
    if full_matrices:
        return b + (m, m), b + (k,), b + (n, n)
    return b + (m, k), b + (k,), b + (k, n)


def _svd_dtype(x, **params):
    return float_dtype(x), real_dtype(x), float_dtype(x)


svd_op = defop("linalg.svd", family="linalg", dtype_rule=_svd_dtype, shape_rule=_svd_shape,
               nout=3)


@public(svd_op)
def svd(x, /, *, full_matrices=True) -> SVDResult:
    """Singular value decomposition ``x = U @ diag(S) @ Vh``, singular values descending.

    ``full_matrices=False`` gives the reduced factors: ``U`` (..., m, k) and ``Vh`` (..., k, n),
    k = min(m, n).

    >>> import eagerflow_core as ef
    >>> ef.linalg.svd(ef.constant([[3.0, 0.0], [0.0, -4.0]])).S
    ef.Tensor([4., 3.], shape=(2,), dtype=float32, device='cpu:0')
    """
    return SVDResult(*call(svd_op, (lift(x),), {"full_matrices": bool(full_matrices)}))


def _svd_vjp(g, ans, x, full_matrices=True):
    g_u, g_s, g_vh = g
    u, s, vh = ans
    k = s.shape[-1]
    if full_matrices and (u.shape[-1] != k or vh.shape[-2] != k):
        # Past the first k, the columns of U (rows of Vh) are an arbitrary basis of the
        # complement: they carry nothing about x, so they are dropped (as PyTorch does).
        u, vh = u[..., :k], vh[..., :k, :]
        g_u = g_u[..., :k] if g_u is not None else None
        g_vh = g_vh[..., :k, :] if g_vh is not None else None
    if g_u is None and g_vh is None:
        return F.matmul(u * F.expand_dims(g_s, axis=-2), vh)
    m, n = x.shape[-2:]
    s_row, s_col = F.expand_dims(s, axis=-2), F.expand_dims(s, axis=-1)  # s[j], s[i]
    s2 = s * s
    # e[i, j] = s[j]**2 - s[i]**2, with ones on the diagonal (where skew parts are 0 or set)
    e = F.expand_dims(s2, axis=-2) - F.expand_dims(s2, axis=-1) + eye_like(k, s)
    uhgu = vhgv = None
    if g_u is not None:
        uhgu = F.matmul(mH(u), g_u)
        uhgu = uhgu - mH(uhgu)
    if g_vh is not None:
        vhgv = F.matmul(vh, mH(g_vh))
        vhgv = vhgv - mH(vhgv)
    if vhgv is None:
        inner = uhgu / e * s_row
    elif uhgu is None:
        inner = s_col * (vhgv / e)
    else:
        inner = (uhgu * s_row + s_col * vhgv) / e
    if g_s is not None:
        inner = inner + diag_embed(g_s)
    if x.dtype.kind == "c" and uhgu is not None:
        inner = inner + diag_embed(F.linalg.diagonal(uhgu) / (2 * s))
    if m > k and g_u is not None:
        g_us = g_u / s_row
        ga = F.matmul(u, inner) + g_us - F.matmul(u, F.matmul(mH(u), g_us))
        return F.matmul(ga, vh)
    if n > k and g_vh is not None:
        g_vhs = g_vh / s_col
        ga = F.matmul(inner, vh) + g_vhs - F.matmul(F.matmul(g_vhs, mH(vh)), vh)
        return F.matmul(u, ga)
    return F.matmul(u, F.matmul(inner, vh))


defvjp(svd, _svd_vjp)


def _svdvals_shape(x, **params):
    return x[:-2] + (min(matrix(x)[-2:]),)


svdvals_op = defop("linalg.svdvals", family="linalg", dtype_rule=real_dtype,
                   shape_rule=_svdvals_shape)


@public(svdvals_op)
def svdvals(x, /) -> Tensor:
    """Singular values, descending (real dtype).

    >>> import eagerflow_core as ef
    >>> ef.linalg.svdvals(ef.constant([[0.0, 2.0], [1.0, 0.0]]))
    ef.Tensor([2., 1.], shape=(2,), dtype=float32, device='cpu:0')
    """
    return call(svdvals_op, (lift(x),))


def _svdvals_vjp(g, ans, x):
    u, _, vh = svd(x, full_matrices=False)
    return F.matmul(u * F.expand_dims(g, axis=-2), vh)


def _svdvals_jvp(t, ans, x):
    # d s_i = Re(u_i^H dx v_i) for distinct singular values (the diagonal of U^H dx V)
    u, _, vh = svd(x, full_matrices=False)
    return _diagonal_of(t, u, mH(vh))


defvjp(svdvals, _svdvals_vjp)
defjvp(svdvals, _svdvals_jvp)


__all__ = ["EighResult", "QRResult", "SVDResult", "cholesky", "eigh", "eigvalsh", "qr", "svd",
           "svdvals"]
