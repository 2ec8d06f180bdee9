"""Inverses, determinants, solving, powers, rank and norms of the Array API ``linalg``
extension: ``ef.linalg.inv``, ``pinv``, ``det``, ``slogdet``, ``solve``, ``matrix_power``,
``matrix_rank``, ``matrix_norm``, ``vector_norm``.

Each op is named ``"linalg.<name>"``, so a backend built with the kit finds ``xp.linalg.<name>``.
Float-only functions lift integer and bool inputs to the default float (float32) before the
kernel runs, as the elementwise ``floating`` rule does. Norms of a complex input have its real
dtype; ``slogdet`` returns the standard's ``SlogdetResult``.

Each op is followed by its gradient rules, in eagerflow ops: ``defvjp`` (complex inputs use
the conjugate convention; the pseudo-inverse and the nuclear norm assume full rank) and,
except for ``pinv``, ``defjvp``.
"""

from __future__ import annotations

import operator
from typing import NamedTuple

from .._dispatch import call
from .._errors import InvalidArgumentError, ShapeError
from .._registry import F, defjvp, defop, defvjp
from .._tensor import Tensor
from . import _rules as R
from ._define import public
from ._grad_util import cj, mH, with_kept_dims
from ._linalg_util import (value, as_matrices, batch, eye_like, float_dtype, inf, lift, lift_pair, matrix,
                           nonzero, real_dtype, rtol_param, sgn, square)


class SlogdetResult(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


# -- inverses, determinants and solving ---------------------------------------------------------

inv_op = defop("linalg.inv", family="linalg", dtype_rule=float_dtype, shape_rule=square)


@public(inv_op)
def inv(x, /) -> Tensor:
    """Inverse of square matrices. A singular matrix raises InvalidArgumentError (a ValueError).

    >>> import eagerflow_core as ef
    >>> ef.linalg.inv(ef.constant([[2.0, 0.0], [0.0, 4.0]]))
    ef.Tensor([[0.5 , 0.  ],
               [0.  , 0.25]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    return call(inv_op, (lift(x),))


defvjp(inv, lambda g, ans, x: -F.matmul(mH(ans), F.matmul(g, mH(ans))))
defjvp(inv, lambda t, ans, x: -F.matmul(ans, F.matmul(t, ans)))


def _pinv_shape(x, **params):
    return x[:-2] + (matrix(x)[-1], x[-2])


pinv_op = defop("linalg.pinv", family="linalg", dtype_rule=float_dtype, shape_rule=_pinv_shape)


@public(pinv_op)
def pinv(x, /, *, rtol=None) -> Tensor:
    """Moore-Penrose pseudo-inverse; singular values up to ``rtol`` times the largest count as
    zero (default ``max(m, n) * eps``). ``rtol`` may be a tensor broadcasting with x's batch.

    >>> import eagerflow_core as ef
    >>> ef.linalg.pinv(ef.constant([[1.0, 0.0], [0.0, 0.0]]))
    ef.Tensor([[1., 0.],
               [0., 0.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    return call(pinv_op, (lift(x),), {"rtol": rtol_param("linalg.pinv", x, rtol)})


def _pinv_vjp(g, ans, x, rtol=None):
    # Golub & Pereyra's derivative of the pseudo-inverse (constant rank), transposed.
    mm = F.matmul
    p, ph, gh = ans, mH(ans), mH(g)
    m, n = x.shape[-2:]
    t1 = -mm(ph, mm(g, ph))
    t2 = mm(eye_like(m, x) - mm(x, p), mm(gh, mm(p, ph)))
    t3 = mm(mm(ph, p), mm(gh, eye_like(n, x) - mm(p, x)))
    return t1 + t2 + t3


defvjp(pinv, _pinv_vjp)


det_op = defop("linalg.det", family="linalg", dtype_rule=float_dtype, shape_rule=batch)


@public(det_op)
def det(x, /) -> Tensor:
    """Determinant of square matrices.

    >>> import eagerflow_core as ef
    >>> ef.linalg.det(ef.constant([[1.0, 2.0], [3.0, 4.0]]))
    ef.Tensor(-2., shape=(), dtype=float32, device='cpu:0')
    """
    return call(det_op, (lift(x),))


def _trace_of_solve(x, t):
    """tr(x^-1 t) for each matrix of a stack: the relative change of det(x) along t."""
    return F.linalg.trace(F.matmul(inv(x), t))


# d det = det tr(x^-1 dx); at a singular x this needs the adjugate, which inv cannot give.
defvjp(det, lambda g, ans, x: as_matrices(g * cj(ans)) * mH(inv(x)))
defjvp(det, lambda t, ans, x: ans * _trace_of_solve(x, t))


def _slogdet_shape(x, **params):
    return batch(x), batch(x)


def _slogdet_dtype(x, **params):
    return float_dtype(x), real_dtype(x)


slogdet_op = defop("linalg.slogdet", family="linalg", dtype_rule=_slogdet_dtype,
                   shape_rule=_slogdet_shape, nout=2)


@public(slogdet_op)
def slogdet(x, /) -> SlogdetResult:
    """Sign and natural log of the absolute value of the determinant, ``det = sign *
    exp(logabsdet)``, without overflow. A singular matrix gives sign 0 and logabsdet -inf.

    >>> import eagerflow_core as ef
    >>> ef.linalg.slogdet(ef.constant([[1.0, 2.0], [3.0, 4.0]])).sign
    ef.Tensor(-1., shape=(), dtype=float32, device='cpu:0')
    """
    return SlogdetResult(*call(slogdet_op, (lift(x),)))


def _slogdet_vjp(g, ans, x):
    g_sign, g_log = g
    if x.dtype.kind == "c" and g_sign is not None:
        # sign = det / |det| moves with the phase of det (PyTorch's slogdet_backward)
        phase = F.imag(F.conj(g_sign) * ans[0])
        g_log = (g_log if g_log is not None else 0) - 1j * phase
    if g_log is None:
        return None  # a real sign is locally constant
    return as_matrices(g_log) * mH(inv(x))


def _slogdet_jvp(t, ans, x):
    # d log det = tr(x^-1 dx): its real part moves log|det|, its imaginary part the phase of
    # sign (a real sign is locally constant: no tangent).
    d = _trace_of_solve(x, t)
    if x.dtype.kind != "c":
        return None, d
    return ans[0] * (1j * F.imag(d)), F.real(d)


defvjp(slogdet, _slogdet_vjp)
defjvp(slogdet, _slogdet_jvp)


def _solve_shape(a, b, **params):
    m = square(a)[-1]
    if len(b) == 1:
        if b[0] != m:
            raise ShapeError(f"x2 of shape {tuple(b)} needs {m} entries to match x1 of shape "
                             f"{tuple(a)}")
        return tuple(a[:-1])
    if len(b) == 0 or b[-2] != m:
        raise ShapeError(f"x2 must have shape ({m},) or (..., {m}, k) to match x1 of shape "
                         f"{tuple(a)}; got shape {tuple(b)}")
    try:
        batch = R.broadcast_shapes(a[:-2], b[:-2])
    except ShapeError:
        raise ShapeError(f"the stacks do not broadcast: x1 of shape {tuple(a)} has batch "
                         f"{tuple(a[:-2])}, x2 of shape {tuple(b)} has batch "
                         f"{tuple(b[:-2])}") from None
    return batch + tuple(b[-2:])


solve_op = defop("linalg.solve", family="linalg", nin=2, dtype_rule=float_dtype,
                 shape_rule=_solve_shape, promote=True)


@public(solve_op)
def solve(x1, x2, /) -> Tensor:
    """The solution ``y`` of ``x1 @ y = x2`` for square ``x1``. ``x2`` of shape (m,) is one
    vector (shared by every matrix of a stack); otherwise it is a stack of (m, k) matrices
    whose batch axes broadcast with x1's. A singular ``x1`` raises InvalidArgumentError.

    >>> import eagerflow_core as ef
    >>> ef.linalg.solve(ef.constant([[2.0, 0.0], [0.0, 4.0]]), ef.constant([1.0, 1.0]))
    ef.Tensor([0.5 , 0.25], shape=(2,), dtype=float32, device='cpu:0')
    """
    return call(solve_op, lift_pair(x1, x2))


def _solve_vjp(g, ans, x1, x2):
    vector = x2.ndim == 1
    if vector:  # one right-hand side for the whole stack: make it a column per matrix
        g, ans = F.expand_dims(g, axis=-1), F.expand_dims(ans, axis=-1)
    g2 = solve(mH(x1), g)
    g1 = -F.matmul(g2, mH(ans))
    return g1, F.squeeze(g2, axis=-1) if vector else g2


def _solve_jvp(tangents, ans, x1, x2):
    # x1 y = x2 gives x1 dy = dx2 - dx1 y: one more solve with the same matrices.
    t1, t2 = tangents
    vector = x2.ndim == 1
    y = F.expand_dims(ans, axis=-1) if vector else ans
    rhs = None if t2 is None else F.expand_dims(t2, axis=-1) if vector else t2
    if t1 is not None:
        rhs = -F.matmul(t1, y) if rhs is None else rhs - F.matmul(t1, y)
    dy = solve(x1, rhs)
    return F.squeeze(dy, axis=-1) if vector else dy


defvjp(solve, all_inputs=_solve_vjp)
defjvp(solve, all_inputs=_solve_jvp)


matrix_power_op = defop("linalg.matrix_power", family="linalg", dtype_rule=float_dtype,
                        shape_rule=square, posparams=("n",))


@public(matrix_power_op)
def matrix_power(x, n, /) -> Tensor:
    """Square matrices raised to the integer power ``n`` (``n = 0``: identity; ``n < 0``: the
    inverse's power).

    >>> import eagerflow_core as ef
    >>> ef.linalg.matrix_power(ef.constant([[1.0, 1.0], [0.0, 1.0]]), 3)
    ef.Tensor([[1., 3.],
               [0., 1.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    if isinstance(n, bool):
        raise InvalidArgumentError(f"linalg.matrix_power: n must be an int, got {n!r}")
    try:
        n = operator.index(n)
    except TypeError:
        raise InvalidArgumentError(f"linalg.matrix_power: n must be an int, got {n!r}") from None
    return call(matrix_power_op, (lift(x),), {"n": n})


def _power_terms(d, base, k):
    """sum_j base^j d base^(k-1-j), j = 0..k-1: the derivative of base^k along d (the
    reverse rule passes base^H and the cotangent)."""
    powers = [None, base]  # powers[j] = base ** j (None: the identity)
    for _ in range(2, k):
        powers.append(F.matmul(powers[-1], base))
    out = None
    for j in range(k):
        term = d if powers[k - 1 - j] is None else F.matmul(d, powers[k - 1 - j])
        term = term if powers[j] is None else F.matmul(powers[j], term)
        out = term if out is None else out + term
    return out


def _matrix_power_vjp(g, ans, x, n):
    if n == 0:
        return F.zeros_like(x)
    bh = mH(x if n > 0 else inv(x))
    gb = _power_terms(g, bh, abs(n))
    return gb if n > 0 else -F.matmul(bh, F.matmul(gb, bh))


def _matrix_power_jvp(t, ans, x, n):
    if n == 0:
        return None  # the identity, whatever x is
    if n > 0:
        return _power_terms(t, x, n)
    base = inv(x)  # x^n = base^|n|, and d base = -base dx base
    return _power_terms(-F.matmul(base, F.matmul(t, base)), base, -n)


defvjp(matrix_power, _matrix_power_vjp)
defjvp(matrix_power, _matrix_power_jvp)


def _rank_shape(x, **params):
    return matrix(x)[:-2]


matrix_rank_op = defop("linalg.matrix_rank", family="linalg", dtype_rule=R.index_dtype,
                       shape_rule=_rank_shape, differentiable=False)


@public(matrix_rank_op)
def matrix_rank(x, /, *, rtol=None) -> Tensor:
    """Rank of matrices: the number of singular values above ``rtol`` times the largest
    (default ``rtol = max(m, n) * eps``). The result has the default index dtype (int64).

    >>> import eagerflow_core as ef
    >>> ef.linalg.matrix_rank(ef.constant([[1.0, 2.0], [2.0, 4.0]]))
    ef.Tensor(1, shape=(), dtype=int64, device='cpu:0')
    """
    x = value(x)
    if isinstance(x, Tensor) and x.ndim < 2:  # NumPy would answer for vectors and scalars
        raise ShapeError(f"linalg.matrix_rank: needs a matrix or a stack of matrices, shape "
                         f"(..., m, n); got shape {x.shape}")
    return call(matrix_rank_op, (lift(x),), {"rtol": rtol_param("linalg.matrix_rank", x, rtol)})


# -- norms -------------------------------------------------------------------------------------

_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, inf, -inf)


def _matrix_norm_shape(x, *, keepdims=False, ord="fro"):
    b = matrix(x)[:-2]
    return b + (1, 1) if keepdims else b


matrix_norm_op = defop("linalg.matrix_norm", family="linalg", dtype_rule=real_dtype,
                       shape_rule=_matrix_norm_shape)


@public(matrix_norm_op)
def matrix_norm(x, /, *, keepdims=False, ord="fro") -> Tensor:
    """Matrix norm over the last two axes: ``ord`` is ``"fro"`` (Frobenius, the default),
    ``"nuc"`` (sum of singular values), 1 / -1 (max / min column sum), 2 / -2 (largest /
    smallest singular value) or inf / -inf (max / min row sum). Real dtype.

    >>> import eagerflow_core as ef
    >>> ef.linalg.matrix_norm(ef.constant([[3.0, 0.0], [0.0, 4.0]]))
    ef.Tensor(5., shape=(), dtype=float32, device='cpu:0')
    """
    if isinstance(ord, bool) or ord not in _MATRIX_ORDS:
        raise InvalidArgumentError(f"linalg.matrix_norm: ord must be one of 'fro', 'nuc', 1, -1, "
                                   f"2, -2, inf, -inf; got {ord!r}")
    return call(matrix_norm_op, (lift(x),), {"keepdims": bool(keepdims), "ord": ord})


def _shared_pick(a, axis, largest):
    """1 where ``a`` holds its max (min) along ``axis``, shared equally among ties (as max's
    gradient is)."""
    hit = (a == (F.max if largest else F.min)(a, axis=axis, keepdims=True)).astype(a.dtype)
    return hit / F.sum(hit, axis=axis, keepdims=True)


def _matrix_norm_vjp(g, ans, x, keepdims=False, ord="fro"):
    if not keepdims:
        g, ans = as_matrices(g), as_matrices(ans)
    if ord == "fro":
        return g * x / nonzero(ans)
    if ord in ("nuc", 2, -2):
        u, s, vh = F.linalg.svd(x, full_matrices=False)
        if ord == "nuc":
            return g * F.matmul(u, vh)
        i = 0 if ord == 2 else s.shape[-1] - 1  # the largest (smallest) singular pair
        return g * F.matmul(u[..., i:i + 1], vh[..., i:i + 1, :])
    # 1 / -1: the max / min column sum of |x|; inf / -inf: row sums
    along, across = (-2, -1) if ord in (1, -1) else (-1, -2)
    sums = F.sum(F.abs(x), axis=along, keepdims=True)
    return g * sgn(x) * _shared_pick(sums, across, ord in (1, inf))


def _norm_jvp(vjp, axes):
    """A norm's forward rule from its reverse rule: a norm is real and each of its values
    depends on one slice of x, so its reverse rule is g * w with the weights w = vjp(1), and
    its tangent is the sum of Re(conj(w) t) over the slice (the axes ``axes(params)``)."""
    def rule(t, ans, x, **params):
        d = cj(vjp(F.ones_like(ans), ans, x, **params)) * t
        d = F.real(d) if d.dtype.kind == "c" else d
        return F.sum(d, axis=axes(params), keepdims=params.get("keepdims", False))
    return rule


defvjp(matrix_norm, _matrix_norm_vjp)
defjvp(matrix_norm, _norm_jvp(_matrix_norm_vjp, lambda params: (-2, -1)))


vector_norm_op = defop("linalg.vector_norm", family="linalg", dtype_rule=real_dtype,
                       shape_rule=R.reduce_shape)


@public(vector_norm_op)
def vector_norm(x, /, *, axis=None, keepdims=False, ord=2) -> Tensor:
    """The ``ord``-norm of vectors along ``axis`` (an int, a tuple of axes, or None for all
    elements as one vector). ``ord`` is any real p, inf (max abs), -inf (min abs) or 0 (count
    of non-zeros). Real dtype.

    >>> import eagerflow_core as ef
    >>> ef.linalg.vector_norm(ef.constant([[3.0, 4.0], [6.0, 8.0]]), axis=1)
    ef.Tensor([ 5., 10.], shape=(2,), dtype=float32, device='cpu:0')
    """
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise InvalidArgumentError(f"linalg.vector_norm: ord must be a real number (or inf, "
                                   f"-inf), got {ord!r}")
    if axis is not None and not isinstance(axis, int):
        axis = tuple(operator.index(a) for a in axis)
    return call(vector_norm_op, (lift(x),), {"axis": axis, "keepdims": bool(keepdims),
                                              "ord": ord})


def _vector_norm_vjp(g, ans, x, axis=None, keepdims=False, ord=2):
    if not keepdims:
        g, ans = with_kept_dims(g, x.shape, axis), with_kept_dims(ans, x.shape, axis)
    if ord == 0:  # a count of non-zeros
        return F.zeros_like(x)
    if ord == 2:
        return g * x / nonzero(ans)
    if ord == 1:
        return g * sgn(x)
    if ord in (inf, -inf):
        return g * sgn(x) * _shared_pick(F.abs(x), axis, ord == inf)
    return g * sgn(x) * F.abs(x) ** (ord - 1) / nonzero(ans) ** (ord - 1)


defvjp(vector_norm, _vector_norm_vjp)
defjvp(vector_norm, _norm_jvp(_vector_norm_vjp, lambda params: params["axis"]))


__all__ = ["SlogdetResult", "det", "inv", "matrix_norm", "matrix_power", "matrix_rank", "pinv",
           "slogdet", "solve", "vector_norm"]
