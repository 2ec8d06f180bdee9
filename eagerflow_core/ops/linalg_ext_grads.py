"""Gradient rules of the linalg extension: one table, read top to bottom (tinygrad's habit).

rule(g, ans, *inputs, **params) -> that input's gradient, in eagerflow ops, so every backend
gets them and they differentiate again. ``inputs`` are what the public function passed to
call (after _lift); a multi-output op gets ``g`` as a tuple with None for outputs that no
cotangent reached. Complex inputs use the conjugate convention (PyTorch's, TensorFlow's).
The decompositions read one triangle of a symmetric input (cholesky, eigh, eigvalsh): their
gradient is the symmetric (Hermitian) one, as in PyTorch, TensorFlow and JAX. The standard
formulas assume what makes the function smooth there: distinct eigenvalues (eigh) and
singular values (svd), full rank (qr, pinv, nuc norm), and, for the vectors of eigh and svd,
a loss that does not depend on their arbitrary signs (phases).
"""

from __future__ import annotations

from .._errors import InvalidArgumentError
from . import _rules as R
from .linalg import matmul, matrix_transpose
from .linalg_ext import (cholesky, cross, det, diagonal, eigh, eigvalsh, inv, matrix_norm,
                         matrix_power, outer, pinv, qr, slogdet, solve, svd, svdvals, trace,
                         vector_norm)
from .linalg_ext import inf
from .._registry import defvjp
from .creation import eye, tril, triu, zeros, zeros_like
from .elementwise import abs as _abs
from .elementwise import conj, imag, real, sign
from .manipulation import concat, expand_dims, reshape, squeeze
from .searching import where
from .statistical import max as _max
from .statistical import min as _min
from .statistical import sum as _sum


def _cj(t):
    return conj(t) if t.dtype.kind == "c" else t


def _mH(t):
    return _cj(matrix_transpose(t))


def _mat(t):
    """``t`` with two unit axes appended: one value per matrix of a stack."""
    return reshape(t, t.shape + (1, 1))


def _eye(n_rows, like, n_cols=None, k=0):
    return eye(n_rows, n_cols, k=k, dtype=like.dtype, device=like.device)


def _diag_embed(v):
    return expand_dims(v, axis=-2) * _eye(v.shape[-1], v)


def _solve_right_h(b, r):
    """``b @ r^-H`` (r square)."""
    return _mH(solve(r, _mH(b)))


def _sgn(x):
    """d|x|/dx in the conjugate convention: sign(x) for real x, x / |x| (0 at 0) for complex,
    written out so that its own derivative is not lost (sign's gradient is zero)."""
    return sign(x) if x.dtype.kind != "c" else x / _safe(_abs(x))


def _safe(norm):
    # The norm's gradient is x / norm: at the zero vector (matrix) x is 0 too, and dividing
    # by 1 there gives the finite subgradient 0 instead of 0 / 0 (PyTorch and JAX do the same).
    return where(norm == 0, 1, norm)


# -- inverses, determinants, solving ---------------------------------------------------------

defvjp(inv, lambda g, ans, x: -matmul(_mH(ans), matmul(g, _mH(ans))))
# d det = det tr(x^-1 dx); at a singular x this needs the adjugate, which inv cannot give.
defvjp(det, lambda g, ans, x: _mat(g * _cj(ans)) * _mH(inv(x)))


def _slogdet_vjp(g, ans, x):
    g_sign, g_log = g
    if x.dtype.kind == "c" and g_sign is not None:
        # sign = det / |det| moves with the phase of det (PyTorch's slogdet_backward)
        phase = imag(conj(g_sign) * ans[0])
        g_log = (g_log if g_log is not None else 0) - 1j * phase
    if g_log is None:
        return None  # a real sign is locally constant
    return _mat(g_log) * _mH(inv(x))


defvjp(slogdet, _slogdet_vjp)


def _solve_vjp(g, ans, x1, x2):
    vector = x2.ndim == 1
    if vector:  # one right-hand side for the whole stack: make it a column per matrix
        g, ans = expand_dims(g, axis=-1), expand_dims(ans, axis=-1)
    g2 = solve(_mH(x1), g)
    g1 = -matmul(g2, _mH(ans))
    return g1, squeeze(g2, axis=-1) if vector else g2


defvjp(solve, all_inputs=_solve_vjp)


def _pinv_vjp(g, ans, x, rtol=None):
    # Golub & Pereyra's derivative of the pseudo-inverse (constant rank), transposed.
    p, ph, gh = ans, _mH(ans), _mH(g)
    m, n = x.shape[-2:]
    t1 = -matmul(ph, matmul(g, ph))
    t2 = matmul(_eye(m, x) - matmul(x, p), matmul(gh, matmul(p, ph)))
    t3 = matmul(matmul(ph, p), matmul(gh, _eye(n, x) - matmul(p, x)))
    return t1 + t2 + t3


defvjp(pinv, _pinv_vjp)


def _matrix_power_vjp(g, ans, x, n):
    if n == 0:
        return zeros_like(x)
    base = x if n > 0 else inv(x)
    bh = _mH(base)
    k = n if n > 0 else -n
    powers = [None, bh]  # powers[j] = bh ** j (None: the identity)
    for _ in range(2, k):
        powers.append(matmul(powers[-1], bh))
    gb = None
    for j in range(k):
        term = g if powers[k - 1 - j] is None else matmul(g, powers[k - 1 - j])
        term = term if powers[j] is None else matmul(powers[j], term)
        gb = term if gb is None else gb + term
    return gb if n > 0 else -matmul(bh, matmul(gb, bh))


defvjp(matrix_power, _matrix_power_vjp)


# -- decompositions ---------------------------------------------------------------------------

def _cholesky_vjp(g, ans, x, upper=False):
    low, g_low = (_mH(ans), _mH(g)) if upper else (ans, g)
    p = tril(matmul(_mH(low), g_low))
    p = (p + _mH(tril(p, k=-1))) * 0.5
    low_inv = inv(low)
    return matmul(_mH(low_inv), matmul(p, low_inv))


defvjp(cholesky, _cholesky_vjp)


def _eigh_vjp(g, ans, x):
    g_w, g_v = g
    w, v = ans
    if g_v is None:
        return matmul(v * expand_dims(g_w, axis=-2), _mH(v))
    vhgv = matmul(_mH(v), g_v)
    one = _eye(w.shape[-1], w)
    # f[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it
    f = (1 - one) / (expand_dims(w, axis=-2) - expand_dims(w, axis=-1) + one)
    inner = f * (vhgv - _mH(vhgv)) * 0.5
    if g_w is not None:
        inner = inner + _diag_embed(g_w)
    return matmul(v, matmul(inner, _mH(v)))


defvjp(eigh, _eigh_vjp)
defvjp(eigvalsh, lambda g, ans, x: _eigh_vjp((g, None), eigh(x), x))


def _qr_vjp(g, ans, x, mode="reduced"):
    g_q, g_r = g
    q, r = ans
    m, n = x.shape[-2:]
    if mode == "complete" and m > n:
        raise InvalidArgumentError(
            f"linalg.qr: mode='complete' is not differentiable for a tall input (shape "
            f"{x.shape}): the extra columns of Q are arbitrary; use mode='reduced'")
    parts = ([matmul(g_r, _mH(r))] if g_r is not None else []) + (
        [-matmul(_mH(q), g_q)] if g_q is not None else [])
    xm = parts[0] if len(parts) == 1 else parts[0] + parts[1]
    if m >= n:
        up = triu(xm, k=1)
        sym = up + _mH(up) + _diag_embed(real(diagonal(xm)))
        ga = matmul(q, sym)
        if g_q is not None:
            ga = ga + g_q
        return _solve_right_h(ga, r)
    # wide: x = q @ [r1 | r2] with r1 square; only the square part's QR moves q
    xm = -xm
    skew = tril(xm, k=-1) - tril(_mH(xm), k=-1)
    if xm.dtype.kind == "c":
        skew = skew + _diag_embed(1j * imag(diagonal(xm)))
    ga = _solve_right_h(matmul(q, skew), r[..., :m])
    ga = concat([ga, zeros(ga.shape[:-1] + (n - m,), dtype=ga.dtype, device=ga.device)],
                axis=-1)
    return ga if g_r is None else ga + matmul(q, g_r)


defvjp(qr, _qr_vjp)


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
        return matmul(u * expand_dims(g_s, axis=-2), vh)
    m, n = x.shape[-2:]
    s_row, s_col = expand_dims(s, axis=-2), expand_dims(s, axis=-1)  # s[j], s[i]
    s2 = s * s
    # e[i, j] = s[j]**2 - s[i]**2, with ones on the diagonal (where skew parts are 0 or set)
    e = expand_dims(s2, axis=-2) - expand_dims(s2, axis=-1) + _eye(k, s)
    uhgu = vhgv = None
    if g_u is not None:
        uhgu = matmul(_mH(u), g_u)
        uhgu = uhgu - _mH(uhgu)
    if g_vh is not None:
        vhgv = matmul(vh, _mH(g_vh))
        vhgv = vhgv - _mH(vhgv)
    if vhgv is None:
        inner = uhgu / e * s_row
    elif uhgu is None:
        inner = s_col * (vhgv / e)
    else:
        inner = (uhgu * s_row + s_col * vhgv) / e
    if g_s is not None:
        inner = inner + _diag_embed(g_s)
    if x.dtype.kind == "c" and uhgu is not None:
        inner = inner + _diag_embed(diagonal(uhgu) / (2 * s))
    if m > k and g_u is not None:
        g_us = g_u / s_row
        ga = matmul(u, inner) + g_us - matmul(u, matmul(_mH(u), g_us))
        return matmul(ga, vh)
    if n > k and g_vh is not None:
        g_vhs = g_vh / s_col
        ga = matmul(inner, vh) + g_vhs - matmul(matmul(g_vhs, _mH(vh)), vh)
        return matmul(u, ga)
    return matmul(u, matmul(inner, vh))


defvjp(svd, _svd_vjp)


def _svdvals_vjp(g, ans, x):
    u, _, vh = svd(x, full_matrices=False)
    return matmul(u * expand_dims(g, axis=-2), vh)


defvjp(svdvals, _svdvals_vjp)


# -- norms ------------------------------------------------------------------------------------

def _keep(t, shape, axis):
    """``t`` reduced over ``axis`` of ``shape``, reshaped as keepdims=True would give it."""
    axes = R.normalize_axes(axis, len(shape))
    return reshape(t, tuple(1 if i in axes else d for i, d in enumerate(shape)))


def _shared_pick(a, axis, largest):
    """1 where ``a`` holds its max (min) along ``axis``, shared equally among ties (as max's
    gradient is)."""
    hit = (a == (_max if largest else _min)(a, axis=axis, keepdims=True)).astype(a.dtype)
    return hit / _sum(hit, axis=axis, keepdims=True)


def _vector_norm_vjp(g, ans, x, axis=None, keepdims=False, ord=2):
    if not keepdims:
        g, ans = _keep(g, x.shape, axis), _keep(ans, x.shape, axis)
    if ord == 0:  # a count of non-zeros
        return zeros_like(x)
    if ord == 2:
        return g * x / _safe(ans)
    if ord == 1:
        return g * _sgn(x)
    if ord in (inf, -inf):
        return g * _sgn(x) * _shared_pick(_abs(x), axis, ord == inf)
    return g * _sgn(x) * _abs(x) ** (ord - 1) / _safe(ans) ** (ord - 1)


defvjp(vector_norm, _vector_norm_vjp)


def _matrix_norm_vjp(g, ans, x, keepdims=False, ord="fro"):
    if not keepdims:
        g, ans = _mat(g), _mat(ans)
    if ord == "fro":
        return g * x / _safe(ans)
    if ord in ("nuc", 2, -2):
        u, s, vh = svd(x, full_matrices=False)
        if ord == "nuc":
            return g * matmul(u, vh)
        i = 0 if ord == 2 else s.shape[-1] - 1  # the largest (smallest) singular pair
        return g * matmul(u[..., i:i + 1], vh[..., i:i + 1, :])
    # 1 / -1: the max / min column sum of |x|; inf / -inf: row sums
    along, across = (-2, -1) if ord in (1, -1) else (-1, -2)
    sums = _sum(_abs(x), axis=along, keepdims=True)
    return g * _sgn(x) * _shared_pick(sums, across, ord in (1, inf))


defvjp(matrix_norm, _matrix_norm_vjp)


# -- products and diagonals -------------------------------------------------------------------

defvjp(outer, lambda g, ans, x1, x2: matmul(g, _cj(x2)),
       lambda g, ans, x1, x2: matmul(_cj(x1), g))
# <g, a x b> = <a, b x g> = <b, g x a>
defvjp(cross, lambda g, ans, x1, x2, axis: cross(_cj(x2), g, axis=axis),
       lambda g, ans, x1, x2, axis: cross(g, _cj(x1), axis=axis))
defvjp(trace, lambda g, ans, x, offset=0, dtype=None:
       _mat(g) * _eye(x.shape[-2], g, x.shape[-1], k=offset))


def _diagonal_vjp(g, ans, x, offset=0):
    m, n = x.shape[-2:]
    k = g.shape[-1]
    if k == 0:
        return zeros(x.shape, dtype=g.dtype, device=g.device)
    if offset >= 0:  # g[..., i] goes to row i, column i + offset; rows past k stay zero
        out = expand_dims(g, axis=-1) * _eye(k, g, n, k=offset)
        pad, axis = x.shape[:-2] + (m - k, n), -2
    else:  # g[..., j] goes to row j - offset, column j; columns past k stay zero
        out = expand_dims(g, axis=-2) * _eye(m, g, k, k=offset)
        pad, axis = x.shape[:-2] + (m, n - k), -1
    if pad[axis] == 0:
        return out
    return concat([out, zeros(pad, dtype=g.dtype, device=g.device)], axis=axis)


defvjp(diagonal, _diagonal_vjp)
