"""The Array API ``linalg`` extension: ``ef.linalg.inv``, ``ef.linalg.svd``, ...

Each op is named ``"linalg.<name>"``, so a backend built with the kit finds ``xp.linalg.<name>``.
Float-only functions (inv, det, solve, the decompositions, the norms...) lift integer and bool
inputs to the default float (float32) before the kernel runs, as the elementwise ``floating``
rule does. Norms, singular values and eigenvalues of a complex input have its real dtype.
Several outputs come back as the standard's namedtuples (``EighResult``, ``QRResult``,
``SlogdetResult``, ``SVDResult``). ``matmul``, ``matrix_transpose``, ``tensordot`` and
``vecdot`` are the main namespace's functions.
"""

from __future__ import annotations

import operator
from typing import NamedTuple

from .._dispatch import call
from .._dtypes import as_dtype, default_int, uint64
from .._errors import AxisError, DeviceError, DTypeError, InvalidArgumentError, ShapeError
from .._registry import defop
from .._tensor import Tensor
from . import _rules as R
from ._define import public
from .creation import astype
from .linalg import _nonnegative_axis, matmul, matrix_transpose, tensordot, vecdot

inf = float("inf")


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class QRResult(NamedTuple):
    Q: Tensor
    R: Tensor


class SlogdetResult(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


class SVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


# -- rules shared by the ops below -------------------------------------------------------------

def _float(x, *rest, **params):
    """Floating and complex dtypes stay; integers and bool were lifted to the default float."""
    return x if x.kind in "fc" else R.F


def _real(x, *rest, **params):
    return R.real_dtype(_float(x))


def _numeric(x, *rest, **params):
    return R.require(x, "iufc", "a numeric (not bool)")


def _lift(x):
    """Integer and bool tensors become the default float before a float-only kernel, so that
    every backend gets a float array (LAPACK, cuSOLVER and torch.linalg take no integers)."""
    if isinstance(x, Tensor) and x.dtype.kind in "biu":
        return astype(x, R.F)
    return x


def _lift_pair(x1, x2):
    # Only when both are integral: an int with a float promotes to that float by itself.
    if (isinstance(x1, Tensor) and isinstance(x2, Tensor) and x1.dtype.kind in "biu"
            and x2.dtype.kind in "biu"):
        return astype(x1, R.F), astype(x2, R.F)
    return x1, x2


def _matrix(x, what="a matrix or a stack of matrices, shape (..., m, n)"):
    if len(x) < 2:
        raise ShapeError(f"needs {what}; got shape {tuple(x)}")
    return tuple(x)


def _square(x, *rest, **params):
    _matrix(x, "a square matrix or a stack of them, shape (..., n, n)")
    if x[-1] != x[-2]:
        raise ShapeError(f"needs square matrices, shape (..., n, n); got shape {tuple(x)} "
                         f"({x[-2]} rows, {x[-1]} columns)")
    return tuple(x)


def _batch(x, **params):
    return _square(x)[:-2]


def _vectors(x, **params):
    return _square(x)[:-1]


def _rtol(name, x, rtol):
    """rtol as the kernel takes it: a Python float, or the raw array of a tensor on x's device."""
    if rtol is None:
        return None
    if isinstance(rtol, Tensor):
        if isinstance(x, Tensor) and rtol.device is not x.device:
            raise DeviceError(f"{name}: rtol is on {rtol.device} but x is on {x.device}; "
                              f"move it with .to('{x.device}')")
        return rtol.raw
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float)):
        raise InvalidArgumentError(f"{name}: rtol must be a float or a tensor, got {rtol!r}")
    return float(rtol)


# -- decompositions ----------------------------------------------------------------------------

cholesky_op = defop("linalg.cholesky", family="linalg", dtype_rule=_float, shape_rule=_square)


@public(cholesky_op)
def cholesky(x, /, *, upper=False) -> Tensor:
    """Cholesky factor of symmetric (Hermitian) positive-definite matrices: lower ``L`` with
    ``x = L @ L^H``, or upper ``U`` with ``x = U^H @ U`` if ``upper``.

    >>> import eagerflow_core as ef
    >>> ef.linalg.cholesky(ef.constant([[4.0, 2.0], [2.0, 2.0]]))
    ef.Tensor([[2., 0.],
               [1., 1.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    return call(cholesky_op, (_lift(x),), {"upper": bool(upper)})


def _eigh_shape(x, **params):
    return _vectors(x), _square(x)


def _eigh_dtype(x, **params):
    return _real(x), _float(x)


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
    return EighResult(*call(eigh_op, (_lift(x),)))


eigvalsh_op = defop("linalg.eigvalsh", family="linalg", dtype_rule=_real, shape_rule=_vectors)


@public(eigvalsh_op)
def eigvalsh(x, /) -> Tensor:
    """Eigenvalues (ascending, real) of symmetric or Hermitian matrices.

    >>> import eagerflow_core as ef
    >>> ef.linalg.eigvalsh(ef.constant([[2.0, 1.0], [1.0, 2.0]]))
    ef.Tensor([1., 3.], shape=(2,), dtype=float32, device='cpu:0')
    """
    return call(eigvalsh_op, (_lift(x),))


_QR_MODES = ("reduced", "complete")


def _qr_shape(x, *, mode="reduced"):
    m, n = _matrix(x)[-2:]
    k = m if mode == "complete" else min(m, n)
    return x[:-2] + (m, k), x[:-2] + (k, n)


qr_op = defop("linalg.qr", family="linalg", dtype_rule=_float, shape_rule=_qr_shape, nout=2)


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
    return QRResult(*call(qr_op, (_lift(x),), {"mode": mode}))


def _svd_shape(x, *, full_matrices=True):
    m, n = _matrix(x)[-2:]
    k = min(m, n)
    b = x[:-2]
    if full_matrices:
        return b + (m, m), b + (k,), b + (n, n)
    return b + (m, k), b + (k,), b + (k, n)


def _svd_dtype(x, **params):
    return _float(x), _real(x), _float(x)


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
    return SVDResult(*call(svd_op, (_lift(x),), {"full_matrices": bool(full_matrices)}))


def _svdvals_shape(x, **params):
    return x[:-2] + (min(_matrix(x)[-2:]),)


svdvals_op = defop("linalg.svdvals", family="linalg", dtype_rule=_real,
                   shape_rule=_svdvals_shape)


@public(svdvals_op)
def svdvals(x, /) -> Tensor:
    """Singular values, descending (real dtype).

    >>> import eagerflow_core as ef
    >>> ef.linalg.svdvals(ef.constant([[0.0, 2.0], [1.0, 0.0]]))
    ef.Tensor([2., 1.], shape=(2,), dtype=float32, device='cpu:0')
    """
    return call(svdvals_op, (_lift(x),))


# -- inverses, determinants and solving ---------------------------------------------------------

inv_op = defop("linalg.inv", family="linalg", dtype_rule=_float, shape_rule=_square)


@public(inv_op)
def inv(x, /) -> Tensor:
    """Inverse of square matrices. A singular matrix raises InvalidArgumentError (a ValueError).

    >>> import eagerflow_core as ef
    >>> ef.linalg.inv(ef.constant([[2.0, 0.0], [0.0, 4.0]]))
    ef.Tensor([[0.5 , 0.  ],
               [0.  , 0.25]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    return call(inv_op, (_lift(x),))


def _pinv_shape(x, **params):
    return x[:-2] + (_matrix(x)[-1], x[-2])


pinv_op = defop("linalg.pinv", family="linalg", dtype_rule=_float, shape_rule=_pinv_shape)


@public(pinv_op)
def pinv(x, /, *, rtol=None) -> Tensor:
    """Moore-Penrose pseudo-inverse; singular values up to ``rtol`` times the largest count as
    zero (default ``max(m, n) * eps``). ``rtol`` may be a tensor broadcasting with x's batch.

    >>> import eagerflow_core as ef
    >>> ef.linalg.pinv(ef.constant([[1.0, 0.0], [0.0, 0.0]]))
    ef.Tensor([[1., 0.],
               [0., 0.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    return call(pinv_op, (_lift(x),), {"rtol": _rtol("linalg.pinv", x, rtol)})


det_op = defop("linalg.det", family="linalg", dtype_rule=_float, shape_rule=_batch)


@public(det_op)
def det(x, /) -> Tensor:
    """Determinant of square matrices.

    >>> import eagerflow_core as ef
    >>> ef.linalg.det(ef.constant([[1.0, 2.0], [3.0, 4.0]]))
    ef.Tensor(-2., shape=(), dtype=float32, device='cpu:0')
    """
    return call(det_op, (_lift(x),))


def _slogdet_shape(x, **params):
    return _batch(x), _batch(x)


def _slogdet_dtype(x, **params):
    return _float(x), _real(x)


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
    return SlogdetResult(*call(slogdet_op, (_lift(x),)))


def _solve_shape(a, b, **params):
    m = _square(a)[-1]
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


solve_op = defop("linalg.solve", family="linalg", nin=2, dtype_rule=_float,
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
    return call(solve_op, _lift_pair(x1, x2))


matrix_power_op = defop("linalg.matrix_power", family="linalg", dtype_rule=_float,
                        shape_rule=_square, posparams=("n",))


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
    return call(matrix_power_op, (_lift(x),), {"n": n})


def _rank_shape(x, **params):
    return _matrix(x)[:-2]


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
    if isinstance(x, Tensor) and x.ndim < 2:  # NumPy would answer for vectors and scalars
        raise ShapeError(f"linalg.matrix_rank: needs a matrix or a stack of matrices, shape "
                         f"(..., m, n); got shape {x.shape}")
    return call(matrix_rank_op, (_lift(x),), {"rtol": _rtol("linalg.matrix_rank", x, rtol)})


# -- norms -------------------------------------------------------------------------------------

_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, inf, -inf)


def _matrix_norm_shape(x, *, keepdims=False, ord="fro"):
    b = _matrix(x)[:-2]
    return b + (1, 1) if keepdims else b


matrix_norm_op = defop("linalg.matrix_norm", family="linalg", dtype_rule=_real,
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
    return call(matrix_norm_op, (_lift(x),), {"keepdims": bool(keepdims), "ord": ord})


vector_norm_op = defop("linalg.vector_norm", family="linalg", dtype_rule=_real,
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
    return call(vector_norm_op, (_lift(x),), {"axis": axis, "keepdims": bool(keepdims),
                                              "ord": ord})


# -- products ----------------------------------------------------------------------------------

def _cross_shape(a, b, *, axis=-1):
    n = min(len(a), len(b))
    if not -n <= axis <= -1:
        raise AxisError(f"axis {axis} is out of range for shapes {tuple(a)} and {tuple(b)}; "
                         f"valid axes are -{n}..-1" if n else
                         f"needs tensors of at least 1 dimension, got shapes {tuple(a)} and "
                         f"{tuple(b)}")
    if a[axis] != 3 or b[axis] != 3:
        raise ShapeError(f"needs 3-element vectors along axis {axis}; got shapes {tuple(a)} and "
                         f"{tuple(b)} (sizes {a[axis]} and {b[axis]})")
    return R.broadcast_shapes(a, b)


cross_op = defop("linalg.cross", family="linalg", nin=2, dtype_rule=_numeric,
                 shape_rule=_cross_shape, promote=True)


@public(cross_op)
def cross(x1, x2, /, *, axis=-1) -> Tensor:
    """Cross product of 3-element vectors along ``axis`` (counted from the end), broadcasting
    the other axes.

    >>> import eagerflow_core as ef
    >>> ef.linalg.cross(ef.constant([1.0, 0.0, 0.0]), ef.constant([0.0, 1.0, 0.0]))
    ef.Tensor([0., 0., 1.], shape=(3,), dtype=float32, device='cpu:0')
    """
    axis = operator.index(axis)
    if axis >= 0:
        axis = _nonnegative_axis("linalg.cross", x1, x2, axis)
    return call(cross_op, (x1, x2), {"axis": axis})


def _outer_shape(a, b, **params):
    if len(a) != 1 or len(b) != 1:
        raise ShapeError(f"needs two vectors (1-D tensors); got shapes {tuple(a)} and {tuple(b)}")
    return (a[0], b[0])


outer_op = defop("linalg.outer", family="linalg", nin=2, dtype_rule=_numeric,
                 shape_rule=_outer_shape, promote=True)


@public(outer_op)
def outer(x1, x2, /) -> Tensor:
    """Outer product of two vectors: ``out[i, j] = x1[i] * x2[j]``.

    >>> import eagerflow_core as ef
    >>> ef.linalg.outer(ef.constant([1, 2]), ef.constant([1, 10, 100]))
    ef.Tensor([[  1,  10, 100],
               [  2,  20, 200]], shape=(2, 3), dtype=int64, device='cpu:0')
    """
    return call(outer_op, (x1, x2))


# -- diagonals ---------------------------------------------------------------------------------

def _diagonal_shape(x, *, offset=0):
    m, n = _matrix(x)[-2:]
    k = max(0, min(m, n - offset) if offset >= 0 else min(m + offset, n))
    return tuple(x[:-2]) + (k,)


diagonal_op = defop("linalg.diagonal", family="linalg", dtype_rule=R.same_dtype,
                    shape_rule=_diagonal_shape)


@public(diagonal_op)
def diagonal(x, /, *, offset=0) -> Tensor:
    """The diagonal of matrices (``offset > 0``: above the main diagonal; ``< 0``: below).

    >>> import eagerflow_core as ef
    >>> ef.linalg.diagonal(ef.constant([[1, 2], [3, 4]]), offset=1)
    ef.Tensor([2], shape=(1,), dtype=int64, device='cpu:0')
    """
    return call(diagonal_op, (x,), {"offset": operator.index(offset)})


def _trace_dtype(x, *, offset=0, dtype=None):
    """The standard's rule (as for sum): small integers accumulate in the default integer
    (unsigned in uint64), bool counts as an integer; floats and complex keep their dtype."""
    if dtype is not None:
        if x.kind == "c" and dtype.kind != "c":
            raise DTypeError(f"dtype={dtype} would drop the imaginary part of a {x} input")
        return dtype
    if x.kind == "b" or (x.kind == "i" and x.itemsize < default_int.itemsize):
        return default_int
    if x.kind == "u" and x.itemsize < uint64.itemsize:
        return uint64
    return x


def _trace_shape(x, **params):
    return _matrix(x)[:-2]


trace_op = defop("linalg.trace", family="linalg", dtype_rule=_trace_dtype,
                 shape_rule=_trace_shape)


@public(trace_op)
def trace(x, /, *, offset=0, dtype=None) -> Tensor:
    """Sum of the diagonal of matrices (``offset`` as in :func:`diagonal`), accumulated in
    ``dtype`` (by default as ``sum`` does: small integers in int64).

    >>> import eagerflow_core as ef
    >>> ef.linalg.trace(ef.constant([[1, 2], [3, 4]]))
    ef.Tensor(5, shape=(), dtype=int64, device='cpu:0')
    """
    # The accumulation dtype is passed to the kernel explicitly, so that no backend sums int8
    # values in int8 and overflows.
    dtype = as_dtype(dtype) if dtype is not None else (
        _trace_dtype(x.dtype) if isinstance(x, Tensor) else None)
    return call(trace_op, (x,), {"offset": operator.index(offset), "dtype": dtype})


__all__ = ["EighResult", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "cross", "det",
           "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm", "matrix_power",
           "matrix_rank", "matrix_transpose", "outer", "pinv", "qr", "slogdet", "solve", "svd",
           "svdvals", "tensordot", "trace", "vecdot", "vector_norm"]


# -- gradients ---------------------------------------------------------------------------------
# rule(g, ans, *inputs, **params) -> that input's gradient, in eagerflow ops, so every backend
# gets them and they differentiate again. ``inputs`` are what the public function passed to
# call (after _lift); a multi-output op gets ``g`` as a tuple with None for outputs that no
# cotangent reached. Complex inputs use the conjugate convention (PyTorch's, TensorFlow's).
# The decompositions read one triangle of a symmetric input (cholesky, eigh, eigvalsh): their
# gradient is the symmetric (Hermitian) one, as in PyTorch, TensorFlow and JAX. The standard
# formulas assume what makes the function smooth there: distinct eigenvalues (eigh) and
# singular values (svd), full rank (qr, pinv, nuc norm), and, for the vectors of eigh and svd,
# a loss that does not depend on their arbitrary signs (phases).
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
