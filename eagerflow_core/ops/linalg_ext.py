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


def _value(x):
    """A Variable's value (read as the dispatcher reads it: watched by tapes); anything else
    as is. Every check below then treats a Variable exactly as a Tensor (issue #7)."""
    return x if isinstance(x, Tensor) or not hasattr(x, "_ef_tensor_") else x._ef_tensor_()


def _lift(x):
    """Integer and bool tensors become the default float before a float-only kernel, so that
    every backend gets a float array (LAPACK, cuSOLVER and torch.linalg take no integers)."""
    x = _value(x)
    if isinstance(x, Tensor) and x.dtype.kind in "biu":
        return astype(x, R.F)
    return x


def _lift_pair(x1, x2):
    # Only when both are integral: an int with a float promotes to that float by itself.
    x1, x2 = _value(x1), _value(x2)
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
    x, rtol = _value(x), _value(rtol)
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
    x = _value(x)
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
    x = _value(x)
    dtype = as_dtype(dtype) if dtype is not None else (
        _trace_dtype(x.dtype) if isinstance(x, Tensor) else None)
    return call(trace_op, (x,), {"offset": operator.index(offset), "dtype": dtype})


__all__ = ["EighResult", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "cross", "det",
           "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm", "matrix_power",
           "matrix_rank", "matrix_transpose", "outer", "pinv", "qr", "slogdet", "solve", "svd",
           "svdvals", "tensordot", "trace", "vecdot", "vector_norm"]


# The gradient rules of these ops are one table in linalg_ext_grads.py (loaded here, so that
# defining the ops always gives them their rules).
from . import linalg_ext_grads  # noqa: E402,F401
