"""What the linear-algebra families share: dtype and shape rules, argument lifting, and the
small matrix helpers their gradient rules are written with (through ``F``, so that the
families import none of each other).
"""

from __future__ import annotations

from .._errors import DeviceError, InvalidArgumentError, ShapeError
from .._registry import F
from .._tensor import Tensor
from . import _rules as R

inf = float("inf")


# -- dtype rules -------------------------------------------------------------------------------

def float_dtype(x, *rest, **params):
    """Floating and complex dtypes stay; integers and bool were lifted to the default float."""
    return x if x.kind in "fc" else R.F


def real_dtype(x, *rest, **params):
    return R.real_dtype(float_dtype(x))


def numeric_dtype(x, *rest, **params):
    return R.require(x, "iufc", "a numeric (not bool)")


# -- arguments ---------------------------------------------------------------------------------

def value(x):
    """A Variable's value (read as the dispatcher reads it: watched by tapes); anything else
    as is. Every check below then treats a Variable exactly as a Tensor (issue #7)."""
    return x if isinstance(x, Tensor) or not hasattr(x, "_ef_tensor_") else x._ef_tensor_()


def lift(x):
    """Integer and bool tensors become the default float before a float-only kernel, so that
    every backend gets a float array (LAPACK, cuSOLVER and torch.linalg take no integers)."""
    x = value(x)
    if isinstance(x, Tensor) and x.dtype.kind in "biu":
        return F.astype(x, R.F)
    return x


def lift_pair(x1, x2):
    # Only when both are integral: an int with a float promotes to that float by itself.
    x1, x2 = value(x1), value(x2)
    if (isinstance(x1, Tensor) and isinstance(x2, Tensor) and x1.dtype.kind in "biu"
            and x2.dtype.kind in "biu"):
        return F.astype(x1, R.F), F.astype(x2, R.F)
    return x1, x2


def rtol_param(name, x, rtol):
    """rtol as the kernel takes it: a Python float, or the raw array of a tensor on x's device."""
    if rtol is None:
        return None
    x, rtol = value(x), value(rtol)
    if isinstance(rtol, Tensor):
        if isinstance(x, Tensor) and rtol.device is not x.device:
            raise DeviceError(f"{name}: rtol is on {rtol.device} but x is on {x.device}; "
                              f"move it with .to('{x.device}')")
        return rtol._data
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float)):
        raise InvalidArgumentError(f"{name}: rtol must be a float or a tensor, got {rtol!r}")
    return float(rtol)


# -- shape rules -------------------------------------------------------------------------------

def matrix(x, what="a matrix or a stack of matrices, shape (..., m, n)"):
    if len(x) < 2:
        raise ShapeError(f"needs {what}; got shape {tuple(x)}")
    return tuple(x)


def square(x, *rest, **params):
    matrix(x, "a square matrix or a stack of them, shape (..., n, n)")
    if x[-1] != x[-2]:
        raise ShapeError(f"needs square matrices, shape (..., n, n); got shape {tuple(x)} "
                         f"({x[-2]} rows, {x[-1]} columns)")
    return tuple(x)


def batch(x, **params):
    return square(x)[:-2]


def vectors(x, **params):
    return square(x)[:-1]


# -- for the gradient rules --------------------------------------------------------------------
# Complex inputs use the conjugate convention in reverse mode (PyTorch's, TensorFlow's).

def as_matrices(t):
    """``t`` with two unit axes appended: one value per matrix of a stack."""
    return F.reshape(t, t.shape + (1, 1))


def eye_like(n_rows, like, n_cols=None, k=0):
    return F.eye(n_rows, n_cols, k=k, dtype=like.dtype, device=like.device)


def diag_embed(v):
    """Matrices with ``v`` on their diagonals."""
    return F.expand_dims(v, axis=-2) * eye_like(v.shape[-1], v)


def sgn(x):
    """d|x|/dx in the conjugate convention: sign(x) for real x, x / |x| (0 at 0) for complex,
    written out so that its own derivative is not lost (sign's gradient is zero)."""
    return F.sign(x) if x.dtype.kind != "c" else x / nonzero(F.abs(x))


def nonzero(norm):
    # A norm's gradient is x / norm: at the zero vector (matrix) x is 0 too, and dividing by 1
    # there gives the finite subgradient 0 instead of 0 / 0 (PyTorch and JAX do the same).
    return F.where(norm == 0, 1, norm)
