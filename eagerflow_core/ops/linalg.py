"""Linear algebra in the main namespace: matmul, matrix_transpose, tensordot, vecdot."""

from __future__ import annotations

from .._dispatch import call
from .._errors import ShapeError
from .._registry import defop
from .._tensor import Tensor
from . import _rules as R
from ._define import public


def _matmul_dtype(a, b):
    return R.require(a, "iufc", "a numeric (not bool)")


def _matmul_shape(a, b):
    if not a or not b:
        raise ShapeError(f"matmul needs tensors of at least 1 dimension, got shapes {tuple(a)} "
                         f"and {tuple(b)}; use ef.multiply for scalars")
    k1 = a[-1]
    k2 = b[-2] if len(b) > 1 else b[0]
    if k1 != k2:
        raise ShapeError(f"inner sizes differ: shape {tuple(a)} has {k1} columns but shape "
                         f"{tuple(b)} has {k2} rows; matmul needs a[..., k] @ b[..., k, n]")
    batch = R.broadcast_shapes(a[:-2], b[:-2])
    return batch + (a[-2:-1] if len(a) > 1 else ()) + (b[-1:] if len(b) > 1 else ())


matmul_op = defop("matmul", family="linalg", nin=2, dtype_rule=_matmul_dtype,
                  shape_rule=_matmul_shape, promote=True)


@public(matmul_op)
def matmul(x1, x2, /) -> Tensor:
    """Matrix product, batched over leading axes (``x1 @ x2``).

    >>> import eagerflow_core as ef
    >>> ef.matmul(ef.constant([[1.0, 2.0]]), ef.constant([[3.0], [4.0]]))
    ef.Tensor([[11.]], shape=(1, 1), dtype=float32, device='cpu:0')
    """
    return call(matmul_op, (x1, x2))


def _mT_shape(x):
    if len(x) < 2:
        raise ShapeError(f"matrix_transpose needs at least 2 dimensions, got shape {tuple(x)}")
    return tuple(x[:-2]) + (x[-1], x[-2])


matrix_transpose_op = defop("matrix_transpose", family="linalg", dtype_rule=R.same_dtype,
                            shape_rule=_mT_shape)


@public(matrix_transpose_op)
def matrix_transpose(x, /) -> Tensor:
    """Swap the last two axes.

    >>> import eagerflow_core as ef
    >>> ef.matrix_transpose(ef.constant([[1, 2]])).shape
    (2, 1)
    """
    if isinstance(x, Tensor) and x.ndim < 2:
        raise ShapeError(f"matrix_transpose: needs at least 2 dimensions, got shape {x.shape}")
    return call(matrix_transpose_op, (x,))


__all__ = ["matmul", "matrix_transpose"]
