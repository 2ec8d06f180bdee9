"""Linear algebra: matmul, matrix_transpose, tensordot, vecdot and the ef.linalg extension.

Products (matmul, tensordot, vecdot, cross, outer, trace) draw values on a grid on which every
product and partial sum is exact, so any summation order gives the reference's answer. The
other functions draw a seed and build well-conditioned matrices from it with NumPy, as
tests/backends/test_linalg.py does (``A + 2n I`` for general ones, ``A A^H + n I`` for
positive-definite ones; distinct, well-separated singular values and eigenvalues for the
gradient checks): random draws would be singular or ill-conditioned. Decompositions are
compared through what is unique about them (``fn`` computes it from the backend's answer with
eagerflow ops), never through the signs or phases of vectors.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from hypothesis import strategies as st

import eagerflow_core as ef

from ..._dtypes import DType, float64
from .. import strategies as st_ef
from .._compare import TOLERANCES
from ._base import ALL, ErrorCase, OpInfo, Sample, arrays, away, kinds, lift
from ._reductions import grid

L = ef.linalg
NUMERIC = kinds("iufc")
_F = np.float32
seeds = st.integers(0, 2**16)

# LAPACK results carry a few roundings times the (small) condition number of the inputs.
K = {"float16": 4, "bfloat16": 4, "float32": 100, "float64": 1000, "complex64": 100,
     "complex128": 1000}


def lapack_tol(scale=1.0) -> dict:
    """(rtol, atol) per dtype: K times the default rtol, atol for values of about ``scale``."""
    return {n: (TOLERANCES[n][0] * k, TOLERANCES[n][0] * k * scale) for n, k in K.items()}


# -- matrices built from a seed ------------------------------------------------------------------

def _normal(rng, shape, dtype: DType):
    x = rng.standard_normal(shape)
    if dtype.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x


def _as(host, dtype: DType) -> np.ndarray:
    """A float64/complex128 host array in ``dtype`` (integers rounded, unsigned made >= 0)."""
    host = np.asarray(host)
    if dtype.kind == "b":
        return host.real != 0
    if dtype.kind in "iu":
        host = np.round(host.real)
        if dtype.kind == "u":
            host = np.abs(host)
    return np.ascontiguousarray(host.astype(dtype.numpy))


def general(seed, shape, dtype):
    """Square (or rectangular, full-rank) matrices far from singular: diagonally dominant.
    Bool ones are unit upper triangular."""
    rng = np.random.default_rng(seed)
    m, n = shape[-2:]
    eye = np.eye(m, n)
    if dtype.kind == "b":
        return _as(eye + np.triu(rng.random(shape) > 0.5, 1), dtype)
    noise = _normal(rng, shape, dtype)
    noise = np.clip(noise.real, -1, 1) + (1j * np.clip(noise.imag, -1, 1) if dtype.kind == "c"
                                          else 0)
    return _as(noise + 2 * max(m, n) * eye, dtype)  # strictly dominant, rounded or not


def spd(seed, shape, dtype):
    """Symmetric (Hermitian) positive-definite matrices (bool: the identity)."""
    rng = np.random.default_rng(seed)
    n = shape[-1]
    if dtype.kind == "b":
        return _as(np.broadcast_to(np.eye(n), shape), dtype)
    a = _normal(rng, shape, dtype)
    if dtype.kind in "iu":
        a = np.round(a)
    return _as(a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n), dtype)


def _orthogonal(rng, batch, n):
    q, r = np.linalg.qr(rng.standard_normal(batch + (n, n)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def _separated(rng, batch, k, lo, hi):
    """k values per matrix, at least (hi - lo) / (2k) apart, in random order."""
    base = np.linspace(lo, hi, k) if k > 1 else np.array([(lo + hi) / 2])
    jitter = rng.uniform(-0.25, 0.25, batch + (k,)) * ((hi - lo) / max(k, 2))
    return rng.permuted(np.broadcast_to(base, batch + (k,)) + jitter, axis=-1)


def conditioned(seed, shape, dtype=float64, lo=1.0, hi=2.0):
    """U diag(s) V^T with distinct singular values s in [lo, hi]."""
    rng = np.random.default_rng(seed)
    *batch, m, n = shape
    batch, k = tuple(batch), min(m, n)
    s = np.sort(_separated(rng, batch, k, lo, hi), axis=-1)[..., ::-1]
    u = _orthogonal(rng, batch, m)[..., :k]
    v = _orthogonal(rng, batch, n)[..., :k]
    return _as((u * s[..., None, :]) @ np.swapaxes(v, -1, -2), dtype)


def symmetric(seed, shape, lo=-3.0, hi=3.0):
    """Symmetric float64 matrices with well-separated eigenvalues in [lo, hi]."""
    rng = np.random.default_rng(seed)
    *batch, n, _ = shape
    w = _separated(rng, tuple(batch), n, lo, hi)
    v = _orthogonal(rng, tuple(batch), n)
    return (v * w[..., None, :]) @ np.swapaxes(v, -1, -2)


batches = st_ef.shapes(min_dims=0, max_dims=1, min_side=1, max_side=2)


def _sides(grad):
    return st.integers(1, 3) if grad else st.integers(0, 3)


@st.composite
def square_samples(draw, dtype, grad=False, build=general, nonempty=False, kwargs=None):
    """One matrix (or a stack) from ``build(seed, shape, dtype)``; ``kwargs(draw)`` adds the
    op's keyword arguments."""
    n = draw(st.integers(1, 3) if grad or nonempty else st.integers(0, 3), label="n")
    shape = draw(batches, label="batch") + (n, n)
    if grad and build is spd:
        build = _spd64
    x = build(draw(seeds, label="seed"), shape, float64 if grad else dtype)
    return Sample((x,), kwargs(draw) if kwargs else {})


def _spd64(seed, shape, dtype):
    return symmetric(seed, shape, lo=1.0, hi=4.0)


@st.composite
def rect_samples(draw, dtype, grad=False, build=conditioned, kwargs=None):
    m, n = draw(st.integers(1, 3), label="m"), draw(st.integers(1, 3), label="n")
    shape = draw(batches, label="batch") + (m, n)
    x = build(draw(seeds, label="seed"), shape, float64 if grad else dtype)
    return Sample((x,), kwargs(draw, grad) if kwargs else {})


# -- what is unique about a decomposition --------------------------------------------------------

def _H(x):
    """Conjugate transpose of the last two axes (eagerflow)."""
    t = ef.matrix_transpose(x)
    return ef.conj(t) if x.dtype.kind == "c" else t


def _nH(x):
    return np.conj(np.swapaxes(x, -1, -2))


def _sym(x):
    """The Hermitian part: what eigh, eigvalsh and cholesky read (exact for Hermitian x),
    whatever direction a gradient check perturbs x in."""
    if x.dtype.kind not in "fc" or x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        return x  # nothing to do, or let the op itself refuse the shape
    return (x + _H(x)) * 0.5


def _eye_like(x, n):
    return np.broadcast_to(np.eye(n), x.shape[:-2] + (n, n))


def _eigh(x):
    w, v = L.eigh(_sym(x))
    return w, v @ (ef.expand_dims(w, axis=-1) * _H(v)), _H(v) @ v


def _eigh_ref(x):
    return np.linalg.eigvalsh(lift(x)), x, _eye_like(x, x.shape[-1])


def _qr(x, *, mode="reduced"):
    q, r = L.qr(x, mode=mode)
    k = min(x.shape[-2:])
    s = ef.sign(L.diagonal(r[..., :k, :k]))  # the sign (phase) of R's diagonal: unique Q, R
    return (q[..., :k] * ef.expand_dims(s, axis=-2),
            ef.expand_dims(ef.conj(s) if s.dtype.kind == "c" else s, axis=-1) * r[..., :k, :],
            _H(q) @ q)


def _qr_ref(x, *, mode="reduced"):
    q, r = np.linalg.qr(lift(x), mode=mode)
    k = min(x.shape[-2:])
    d = np.diagonal(r[..., :k, :k], axis1=-2, axis2=-1)
    s = d / np.abs(d)
    return (q[..., :k] * s[..., None, :], np.conj(s)[..., None] * r[..., :k, :],
            _eye_like(x, q.shape[-1]))


def _svd(x, *, full_matrices=True):
    u, s, vh = L.svd(x, full_matrices=full_matrices)
    k = s.shape[-1]
    recon = (u[..., :k] * ef.expand_dims(ef.astype(s, u.dtype), axis=-2)) @ vh[..., :k, :]
    return s, recon, _H(u) @ u, vh @ _H(vh)


def _svd_ref(x, *, full_matrices=True):
    m, n = x.shape[-2:]
    k = min(m, n)
    return (np.linalg.svd(lift(x), compute_uv=False), x, _eye_like(x, m if full_matrices else k),
            _eye_like(x, n if full_matrices else k))


# -- products ------------------------------------------------------------------------------------

def _values(dtype, shape, grad):
    """Grid values (exact products and sums); ints stay small."""
    if grad:
        return arrays(float64, shape, low=-2, high=2)
    if dtype.kind in "iu":
        return arrays(dtype, shape, low=-3, high=3)
    return grid(dtype, shape)


@st.composite
def _matmul_samples(draw, dtype, grad=False):
    lo = int(grad)
    batch = draw(st_ef.broadcastable_shapes(2, 0, 2, 1, 3), label="batch")
    m, k, n = (draw(st.integers(lo, 3)) for _ in range(3))
    s1 = (k,) if draw(st.integers(0, 4)) == 0 else batch[0] + (m, k)
    s2 = (k,) if draw(st.integers(0, 4)) == 0 else batch[1] + (k, n)
    return Sample((draw(_values(dtype, s1, grad), label="x1"),
                   draw(_values(dtype, s2, grad), label="x2")))


@st.composite
def _tensordot_samples(draw, dtype, grad=False):
    lo = int(grad)
    free1 = draw(st_ef.shapes(0, 2, lo, 3))
    free2 = draw(st_ef.shapes(0, 2, lo, 3))
    summed = draw(st_ef.shapes(0, 2, lo, 3))
    s1, s2 = free1 + summed, summed + free2
    if draw(st.booleans()):
        axes = len(summed)
    else:
        p1 = draw(st.permutations(range(len(s1))))
        p2 = draw(st.permutations(range(len(s2))))
        ax1 = [p1.index(len(free1) + i) for i in range(len(summed))]
        ax2 = [p2.index(i) for i in range(len(summed))]
        s1, s2 = tuple(s1[i] for i in p1), tuple(s2[i] for i in p2)
        axes = ([a - len(s1) for a in ax1] if draw(st.booleans()) else ax1, ax2)
    return Sample((draw(_values(dtype, s1, grad), label="x1"),
                   draw(_values(dtype, s2, grad), label="x2")), {"axes": axes})


@st.composite
def _along_axis_samples(draw, dtype, grad=False, size=None):
    """Two broadcastable operands with a contracted axis (size ``size`` or any)."""
    shapes = draw(st_ef.broadcastable_shapes(2, 0, 2, int(grad), 3), label="shapes")
    n = size or draw(st.integers(int(grad), 3), label="n")
    ndim = min(len(shapes[0]), len(shapes[1])) + 1
    axis = -1 - draw(st.integers(0, 3)) % ndim
    s1, s2 = list(shapes[0]), list(shapes[1])
    s1.insert(len(s1) + axis + 1, n)
    s2.insert(len(s2) + axis + 1, n)
    return Sample((draw(_values(dtype, tuple(s1), grad), label="x1"),
                   draw(_values(dtype, tuple(s2), grad), label="x2")), {"axis": axis})


def _vecdot_ref(x1, x2, *, axis=-1):
    return np.sum(np.conj(np.moveaxis(x1, axis, -1)) * np.moveaxis(x2, axis, -1), axis=-1)


@st.composite
def _outer_samples(draw, dtype, grad=False):
    lo = int(grad)
    return Sample(tuple(draw(_values(dtype, (draw(st.integers(lo, 4)),), grad), label=f"x{i}")
                        for i in (1, 2)))


@st.composite
def _matrix_samples(draw, dtype, grad=False, kwargs=None):
    shape = draw(st_ef.shapes(2, 3, int(grad), 3 if grad else 4), label="shape")
    x = draw(_values(dtype, shape, grad) if dtype.kind != "b" or grad else
             arrays(dtype, shape), label="x")
    return Sample((x,), kwargs(draw) if kwargs else {})


def _trace_ref(x, *, offset=0):
    acc = np.int64 if x.dtype.kind in "bi" else np.uint64 if x.dtype.kind == "u" else None
    return np.trace(x, offset=offset, axis1=-2, axis2=-1, dtype=acc)


def _offset(draw):
    return {"offset": draw(st.integers(-3, 3), label="offset")}


# -- solve, matrix_power, matrix_rank, norms -------------------------------------------------------

@st.composite
def _solve_samples(draw, dtype, grad=False):
    """x2 of shape (n,) is one vector for every matrix; otherwise a stack of (n, k) matrices
    whose batch broadcasts with x1's."""
    n = draw(st.integers(1, 3), label="n")
    b1, b2 = draw(st_ef.broadcastable_shapes(2, 0, 2, 1, 2), label="batches")
    k = draw(st.integers(0, 3), label="k")
    seed = draw(seeds, label="seed")
    kind = float64 if grad else dtype
    a = general(seed, b1 + (n, n), kind)
    rng = np.random.default_rng(seed + 1)
    b = _as(_normal(rng, (n,) if k == 0 else b2 + (n, k), kind) * 3, kind)
    return Sample((a, b))


def _power(draw):
    return draw(st.integers(-3, 4), label="n")


@st.composite
def _matrix_power_samples(draw, dtype, grad=False):
    n = draw(st.integers(1, 3), label="n")
    shape = draw(batches, label="batch") + (n, n)
    rng = np.random.default_rng(draw(seeds, label="seed"))
    kind = float64 if grad else dtype
    if kind.kind in "biu":  # 2 I plus a strictly upper triangle of small integers
        host = 2 * np.eye(n) + np.triu(np.round(rng.standard_normal(shape)), 1)
        if kind.kind == "b":
            host = np.eye(n) + np.triu(rng.random(shape) > 0.5, 1)
        elif kind.kind == "u":
            host = np.abs(host)
    else:  # near the identity in size, so powers stay near 1
        host = (_normal(rng, shape, kind) + 2 * n * np.eye(n)) / (2 * n)
    return Sample((_as(host, kind), _power(draw)))


@st.composite
def _matrix_rank_samples(draw, dtype):
    """Integer factors: their product is exact in every dtype, so its rank is exact too."""
    m, n = draw(st.integers(1, 3), label="m"), draw(st.integers(1, 3), label="n")
    r = min(draw(st.integers(0, 3), label="rank"), m, n)
    batch = draw(batches, label="batch")
    rng = np.random.default_rng(draw(seeds, label="seed"))
    if dtype.kind == "b":  # a diagonal of True and False: its rank is the count of True
        host = np.zeros(batch + (m, n))
        d = np.arange(min(m, n))
        host[..., d, d] = rng.random(batch + (min(m, n),)) > 0.5
    else:
        def ints(shape):
            v = np.round(_normal(rng, shape, dtype) * 2)
            return np.abs(v) if dtype.kind == "u" else v
        host = ints(batch + (m, r)) @ ints(batch + (r, n))
    kwargs = {"rtol": 1.0} if draw(st.integers(0, 4)) == 0 else {}
    return Sample((_as(host, dtype),), kwargs)


def _matrix_rank_ref(x, *, rtol=None):
    if rtol is not None:
        s = np.linalg.svd(lift(x), compute_uv=False)
        return np.sum(s > rtol * s.max(axis=-1, keepdims=True, initial=0), axis=-1)
    return np.linalg.matrix_rank(lift(x))


ORDS = ["fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


def _matrix_norm_kwargs(draw, grad):
    ords = ["fro", "nuc", 2, -2] if grad else ORDS  # smooth at distinct singular values
    return {"ord": draw(st.sampled_from(ords), label="ord"),
            "keepdims": draw(st.booleans(), label="keepdims")}


def _general_rect(seed, shape, dtype):
    rng = np.random.default_rng(seed)
    return _as(_normal(rng, shape, dtype) * 2, dtype)


@st.composite
def _vector_norm_samples(draw, dtype, grad=False):
    shape = draw(st_ef.shapes(0, 3, 1, 3 if grad else 4), label="shape")
    ords = [2, 1, 3, 0.5] if grad else [2, 1, np.inf, -np.inf, 0, 3, 0.5, -1]
    ord_ = draw(st.sampled_from(ords), label="ord")
    kind = float64 if grad else dtype
    if grad or ord_ in (-1, -np.inf) and kind.kind in "fc":  # no zeros: 1 / 0 in these
        x = draw(away(kind, shape, 0.25, 8.0), label="x")
    else:
        x = draw(arrays(kind, shape, low=-8, high=8), label="x")
        if ord_ in (-1, -np.inf) and kind.kind in "iu":
            x = np.where(x == 0, 1, x).astype(x.dtype)
    axis = None
    if shape and draw(st.booleans()):
        perm = draw(st.permutations(range(len(shape))))
        axis = tuple(perm[:draw(st.integers(1, len(shape)))])
        axis = axis[0] if len(axis) == 1 and draw(st.booleans()) else axis
    return Sample((x,), {"axis": axis, "keepdims": draw(st.booleans()), "ord": ord_})


def _vector_norm_ref(x, *, axis=None, keepdims=False, ord=2):
    return np.linalg.vector_norm(lift(x), axis=axis, keepdims=keepdims, ord=ord)


def _info(name, fn, ref, dtypes, samples, grad=True, errors=(), rtol=None, note="",
          grad_samples=None):
    return OpInfo(name=name, fn=fn, ref=ref, dtypes=dtypes, samples=samples,
                  differentiable=grad,
                  grad_samples=(grad_samples or partial(samples, grad=True)) if grad else None,
                  errors=errors, rtol=rtol if rtol is not None else lapack_tol(), note=note)


def _m(*shape, dtype=_F):
    return np.ones(shape, dtype)


def _upper(draw):
    return {"upper": draw(st.booleans(), label="upper")}


def _qr_kwargs(draw, grad):
    # no gradient through the arbitrary extra columns of a complete Q (m > n)
    return {"mode": "reduced" if grad else draw(st.sampled_from(["reduced", "complete"]))}


def _svd_kwargs(draw, grad):
    return {"full_matrices": False if grad else draw(st.booleans(), label="full_matrices")}


def _pinv_kwargs(draw, grad):
    return {"rtol": 1e-3} if not grad and draw(st.integers(0, 3)) == 0 else {}


EXACT = {}  # grid values: products and sums are exact, the default tolerances hold

INFOS = [
    _info("matmul", ef.matmul, np.matmul, NUMERIC, _matmul_samples, rtol=EXACT, errors=(
        ErrorCase((_m(2, 3), _m(2, 3)), {}, "ShapeError", r"^matmul: .*\(2, 3\).*\(2, 3\)"),
        ErrorCase((_m(2, 2, dtype=np.bool_), _m(2, 2, dtype=np.bool_)), {}, "DTypeError",
                  r"^matmul: .*bool"))),
    _info("matrix_transpose", ef.matrix_transpose, lambda x: np.swapaxes(x, -1, -2), ALL,
          _matrix_samples, rtol=EXACT, errors=(
              ErrorCase((_m(3),), {}, "ShapeError", r"^matrix_transpose: .*\(3,\)"),)),
    _info("tensordot", ef.tensordot, lambda a, b, axes=2: np.tensordot(a, b, axes=axes),
          NUMERIC, _tensordot_samples, rtol=EXACT, errors=(
              ErrorCase((_m(2, 3), _m(2, 3)), {"axes": 1}, "ShapeError",
                        r"^tensordot: .*axis 1 of shape \(2, 3\) has 3"),
              ErrorCase((_m(2, 3), _m(2, 3)), {"axes": 3}, "AxisError", r"^tensordot: .*axes=3"),
              ErrorCase((_m(2, 3), _m(2, 3)), {"axes": -1}, "InvalidArgumentError",
                        r"^tensordot: .*>= 0"))),
    _info("vecdot", ef.vecdot, _vecdot_ref, NUMERIC, _along_axis_samples, rtol=EXACT, errors=(
        ErrorCase((_m(2, 3), _m(2)), {}, "ShapeError", r"^vecdot: .*\(2, 3\).*\(2,\)"),
        ErrorCase((_m(2, 3), _m(3)), {"axis": -2}, "AxisError", r"^vecdot: axis -2"))),
    _info("linalg.cholesky", lambda x, upper=False: L.cholesky(_sym(x), upper=upper),
          lambda x, upper=False: np.linalg.cholesky(lift(x), upper=upper), ALL,
          partial(square_samples, build=spd, kwargs=_upper), rtol=lapack_tol(3), errors=(
              ErrorCase((_m(3, 2),), {}, "ShapeError", r"^linalg\.cholesky: .*\(3, 2\)"),
              ErrorCase((np.array([[1.0, 2.0], [2.0, 1.0]], _F),), {}, "InvalidArgumentError",
                        r"^linalg\.cholesky: .*positive-definite"))),
    _info("linalg.eigh", _eigh, _eigh_ref, ALL, partial(square_samples, build=spd),
          rtol=lapack_tol(10), note="compares w, V diag(w) V^H and V^H V (vectors' signs are "
                                    "arbitrary)", errors=(
              ErrorCase((_m(2, 3),), {}, "ShapeError", r"^linalg\.eigh: .*square.*\(2, 3\)"),)),
    _info("linalg.eigvalsh", lambda x: L.eigvalsh(_sym(x)), lambda x: np.linalg.eigvalsh(lift(x)),
          ALL, partial(square_samples, build=spd), rtol=lapack_tol(10), errors=(
              ErrorCase((_m(4),), {}, "ShapeError", r"^linalg\.eigvalsh: .*\(4,\)"),)),
    _info("linalg.qr", _qr, _qr_ref, ALL, partial(rect_samples, build=general, kwargs=_qr_kwargs),
          rtol=lapack_tol(10), note="compares Q S and S^H R, S the phases of R's diagonal "
                                    "(unique), and Q^H Q", errors=(
              ErrorCase((_m(4),), {}, "ShapeError", r"^linalg\.qr: .*\(4,\)"),
              ErrorCase((_m(2, 2),), {"mode": "r"}, "InvalidArgumentError",
                        r"^linalg\.qr: .*'reduced' or 'complete'"))),
    _info("linalg.svd", _svd, _svd_ref, ALL, partial(rect_samples, kwargs=_svd_kwargs),
          rtol=lapack_tol(3), note="compares S, U S Vh, U^H U and Vh Vh^H (vectors' signs "
                                   "are arbitrary)", errors=(
              ErrorCase((_m(4),), {}, "ShapeError", r"^linalg\.svd: .*\(4,\)"),)),
    _info("linalg.svdvals", L.svdvals, lambda x: np.linalg.svd(lift(x), compute_uv=False), ALL,
          rect_samples, rtol=lapack_tol(3), errors=(
              ErrorCase((_m(),), {}, "ShapeError", r"^linalg\.svdvals: .*\(\)"),)),
    _info("linalg.inv", L.inv, lambda x: np.linalg.inv(lift(x)), ALL, square_samples, errors=(
        ErrorCase((_m(2, 3),), {}, "ShapeError", r"^linalg\.inv: .*square.*\(2, 3\)"),
        ErrorCase((np.array([[1.0, 2.0], [2.0, 4.0]], _F),), {}, "InvalidArgumentError",
                  r"^linalg\.inv: .*[Ss]ingular"))),
    _info("linalg.pinv", L.pinv, lambda x, rtol=None: np.linalg.pinv(lift(x), rtol=rtol), ALL,
          partial(rect_samples, kwargs=_pinv_kwargs), errors=(
              ErrorCase((_m(4),), {}, "ShapeError", r"^linalg\.pinv: .*\(4,\)"),)),
    _info("linalg.det", L.det, lambda x: np.linalg.det(lift(x)), ALL, square_samples, errors=(
        ErrorCase((_m(3),), {}, "ShapeError", r"^linalg\.det: .*\(3,\)"),)),
    _info("linalg.slogdet", lambda x: tuple(L.slogdet(x)),
          lambda x: tuple(np.linalg.slogdet(lift(x))), ALL,
          partial(square_samples, nonempty=True), errors=(
              ErrorCase((_m(2, 3),), {}, "ShapeError", r"^linalg\.slogdet: "),)),
    _info("linalg.solve", L.solve, lambda a, b: np.linalg.solve(lift(a), lift(b)), ALL,
          _solve_samples, rtol=lapack_tol(3), errors=(
              ErrorCase((_m(2, 2), _m(3)), {}, "ShapeError", r"^linalg\.solve: .*\(3,\).*2"),
              ErrorCase((np.zeros((2, 2), _F), _m(2)), {}, "InvalidArgumentError",
                        r"^linalg\.solve: .*[Ss]ingular"))),
    _info("linalg.matrix_power", L.matrix_power,
          lambda x, n: np.linalg.matrix_power(lift(x), n), ALL, _matrix_power_samples,
          rtol=lapack_tol(10), errors=(
              ErrorCase((_m(2, 3), 2), {}, "ShapeError", r"^linalg\.matrix_power: .*\(2, 3\)"),
              ErrorCase((np.eye(2, dtype=_F), 1.5), {}, "InvalidArgumentError",
                        r"^linalg\.matrix_power: .*n must be an int"))),
    _info("linalg.matrix_rank", L.matrix_rank, _matrix_rank_ref, ALL, _matrix_rank_samples,
          grad=False, errors=(
              ErrorCase((_m(3),), {}, "ShapeError", r"^linalg\.matrix_rank: .*\(3,\)"),
              ErrorCase((_m(2, 2),), {"rtol": "big"}, "InvalidArgumentError",
                        r"^linalg\.matrix_rank: .*rtol"))),
    _info("linalg.matrix_norm", L.matrix_norm,
          lambda x, ord="fro", keepdims=False: np.linalg.matrix_norm(lift(x), ord=ord,
                                                                     keepdims=keepdims),
          ALL, partial(rect_samples, build=_general_rect, kwargs=_matrix_norm_kwargs),
          rtol=lapack_tol(10),
          grad_samples=partial(rect_samples, grad=True, kwargs=_matrix_norm_kwargs), errors=(
              ErrorCase((np.eye(2, dtype=_F),), {"ord": 3}, "InvalidArgumentError",
                        r"^linalg\.matrix_norm: .*ord"),
              ErrorCase((_m(3),), {}, "ShapeError", r"^linalg\.matrix_norm: .*\(3,\)"))),
    _info("linalg.vector_norm", L.vector_norm, _vector_norm_ref, ALL, _vector_norm_samples,
          rtol=lapack_tol(10), errors=(
              ErrorCase((_m(3),), {"ord": "fro"}, "InvalidArgumentError",
                        r"^linalg\.vector_norm: .*ord"),
              ErrorCase((_m(2, 2),), {"axis": 2}, "AxisError", r"^linalg\.vector_norm: .*axis 2"))),
    _info("linalg.cross", L.cross, lambda a, b, axis=-1: np.cross(a, b, axis=axis), NUMERIC,
          partial(_along_axis_samples, size=3), rtol=EXACT, errors=(
              ErrorCase((_m(2), _m(2)), {}, "ShapeError", r"^linalg\.cross: .*3-element"),
              ErrorCase((_m(2, 3), _m(3)), {"axis": 0}, "AxisError", r"^linalg\.cross: .*axis 0"),
              ErrorCase((_m(3, dtype=np.bool_), _m(3, dtype=np.bool_)), {}, "DTypeError",
                        r"^linalg\.cross: .*bool"))),
    _info("linalg.outer", L.outer, np.outer, NUMERIC, _outer_samples, rtol=EXACT, errors=(
        ErrorCase((_m(1, 2), _m(2)), {}, "ShapeError", r"^linalg\.outer: .*vectors.*\(1, 2\)"),)),
    _info("linalg.diagonal", L.diagonal,
          lambda x, offset=0: np.diagonal(x, offset=offset, axis1=-2, axis2=-1), ALL,
          partial(_matrix_samples, kwargs=_offset), rtol=EXACT, errors=(
              ErrorCase((_m(3),), {}, "ShapeError", r"^linalg\.diagonal: .*\(3,\)"),)),
    _info("linalg.trace", L.trace, _trace_ref, ALL, partial(_matrix_samples, kwargs=_offset),
          rtol=EXACT, errors=(
              ErrorCase((_m(3),), {}, "ShapeError", r"^linalg\.trace: .*\(3,\)"),
              ErrorCase((np.eye(2, dtype=np.complex64),), {"dtype": ef.float32}, "DTypeError",
                        r"^linalg\.trace: .*imaginary"))),
]
