"""Products and diagonals: matmul, matrix_transpose, tensordot, vecdot (the main namespace)
and ``ef.linalg``'s outer, cross, diagonal and trace.

Each op is followed by its gradient rules, in eagerflow ops: ``defvjp`` (complex inputs use
the conjugate convention, PyTorch's and TensorFlow's: the gradient of x1 @ x2 for x1 is
g @ x2^H; the engine sums a gradient over broadcast batch axes and casts it to the input's
dtype) and ``defjvp`` (the products are bilinear: the op with one input replaced by its
tangent; the others are linear).
"""

from __future__ import annotations

import operator

from .._dispatch import call
from .._dtypes import as_dtype
from .._errors import AxisError, DTypeError, InvalidArgumentError, ShapeError
from .._registry import F, defjvp, defop, defvjp
from .._tensor import Tensor
from . import _rules as R
from ._define import public
from ._grad_util import bilinear, cj, linear, mH
from ._linalg_util import as_matrices, eye_like, matrix, numeric_dtype


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


matmul_op = defop("matmul", family="linalg", nin=2, dtype_rule=numeric_dtype,
                  shape_rule=_matmul_shape, promote=True)


@public(matmul_op)
def matmul(x1, x2, /) -> Tensor:
    """Matrix product, batched over leading axes (``x1 @ x2``).

    >>> import eagerflow_core as ef
    >>> ef.matmul(ef.constant([[1.0, 2.0]]), ef.constant([[3.0], [4.0]]))
    ef.Tensor([[11.]], shape=(1, 1), dtype=float32, device='cpu:0')
    """
    return call(matmul_op, (x1, x2))


def _matmul_x1(g, ans, x1, x2):
    if x2.ndim == 1:  # ans[..., m] = x1[..., m, :] . x2: an outer product per row
        return F.expand_dims(g, axis=-1) * cj(x2)
    if x1.ndim == 1:  # ans[..., n] = x1 @ x2[..., :, n]: x1 was a row
        if x2.ndim == 2:  # no batch to sum away: one matrix-vector product
            return matmul(cj(x2), g)
        g = F.expand_dims(g, axis=-2)
    return matmul(g, mH(x2))


def _matmul_x2(g, ans, x1, x2):
    if x1.ndim == 1:
        if x2.ndim == 1:
            return g * cj(x1)
        return F.expand_dims(cj(x1), axis=-1) * F.expand_dims(g, axis=-2)
    if x2.ndim == 1:
        if x1.ndim == 2:  # no batch to sum away: one vector-matrix product
            return matmul(g, cj(x1))
        # (..., 1, m) @ (..., m, k): a row per batch, summed by the engine
        return matmul(F.expand_dims(g, axis=-2), cj(x1))
    return matmul(mH(x1), g)


defvjp(matmul, _matmul_x1, _matmul_x2)
defjvp(matmul, *bilinear(matmul_op))


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
    if not isinstance(x, Tensor) and hasattr(x, "_ef_tensor_"):  # a Variable: its value
        x = x._ef_tensor_()
    if isinstance(x, Tensor) and x.ndim < 2:
        raise ShapeError(f"matrix_transpose: needs at least 2 dimensions, got shape {x.shape}")
    return call(matrix_transpose_op, (x,))


defvjp(matrix_transpose, lambda g, ans, x: matrix_transpose(g))
defjvp(matrix_transpose, linear(matrix_transpose_op))


# -- tensordot ---------------------------------------------------------------------------------

def _tensordot_axes(s1, s2, axes):
    """The contracted axes of each input, in [0, ndim), checked against both shapes."""
    if isinstance(axes, int):
        if not 0 <= axes <= min(len(s1), len(s2)):
            raise AxisError(f"axes={axes} contracts more axes than shapes {tuple(s1)} and "
                            f"{tuple(s2)} have; an int axes must be in 0..{min(len(s1), len(s2))}")
        a1 = tuple(range(len(s1) - axes, len(s1)))
        a2 = tuple(range(axes))
    else:
        a1 = R.normalize_axes(axes[0], len(s1))
        a2 = R.normalize_axes(axes[1], len(s2))
        if len(a1) != len(a2):
            raise AxisError(f"axes {tuple(axes[0])} and {tuple(axes[1])} must be of equal length")
    for i, j in zip(a1, a2):
        if s1[i] != s2[j]:
            raise ShapeError(f"contracted axes differ in size: axis {i} of shape {tuple(s1)} has "
                             f"{s1[i]} but axis {j} of shape {tuple(s2)} has {s2[j]} (contracted "
                             f"axes are not broadcast)")
    return a1, a2


def _tensordot_shape(s1, s2, *, axes):
    a1, a2 = _tensordot_axes(s1, s2, axes)
    return (tuple(d for i, d in enumerate(s1) if i not in a1)
            + tuple(d for i, d in enumerate(s2) if i not in a2))


tensordot_op = defop("tensordot", family="linalg", nin=2, dtype_rule=numeric_dtype,
                     shape_rule=_tensordot_shape, promote=True)


def _as_axes(axes):
    """axes as the kernel takes it: an int >= 0, or a pair of tuples of ints."""
    if isinstance(axes, int) and not isinstance(axes, bool):
        if axes < 0:  # NumPy would silently give the outer product
            raise InvalidArgumentError(f"tensordot: an int axes must be >= 0 (the number of "
                                       f"trailing axes of x1 to contract), got {axes}")
        return axes
    try:
        if isinstance(axes, (str, bool)) or len(axes) != 2:
            raise TypeError
        return tuple(_axis_list(side) for side in axes)
    except TypeError:
        raise InvalidArgumentError(f"tensordot: axes must be an int or a pair of sequences of "
                                   f"ints, got {axes!r}") from None


def _axis_list(side):
    if isinstance(side, int):  # NumPy also takes one int per side: axes=(1, 0)
        return (operator.index(side),)
    return tuple(operator.index(a) for a in side)


@public(tensordot_op)
def tensordot(x1, x2, /, *, axes=2) -> Tensor:
    """Tensor contraction of ``x1`` and ``x2`` over ``axes``.

    ``axes=N`` contracts the last N axes of ``x1`` with the first N of ``x2`` (0: outer product);
    ``axes=(x1_axes, x2_axes)`` names the axes to contract. The result has the free axes of
    ``x1`` then those of ``x2``.

    >>> import eagerflow_core as ef
    >>> a = ef.reshape(ef.arange(6.0), (2, 3))
    >>> ef.tensordot(a, a, axes=([1], [1]))
    ef.Tensor([[ 5., 14.],
               [14., 50.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    return call(tensordot_op, (x1, x2), {"axes": _as_axes(axes)})


def _unpermute(r, order):
    """``r`` whose axis i is the input's axis ``order[i]``, with the input's axis order."""
    back = sorted(range(len(order)), key=order.__getitem__)
    return r if back == list(range(len(order))) else F.permute_dims(r, tuple(back))


def _tensordot_x1(g, ans, x1, x2, axes):
    a1, a2 = _tensordot_axes(x1.shape, x2.shape, axes)
    f1 = [i for i in range(x1.ndim) if i not in a1]
    f2 = tuple(j for j in range(x2.ndim) if j not in a2)
    r = tensordot(g, cj(x2), axes=(tuple(range(len(f1), g.ndim)), f2))
    # r's last axes are x2's contracted axes in x2's order; each stands for its x1 partner
    return _unpermute(r, f1 + [a1[a2.index(j)] for j in sorted(a2)])


def _tensordot_x2(g, ans, x1, x2, axes):
    a1, a2 = _tensordot_axes(x1.shape, x2.shape, axes)
    f1 = tuple(i for i in range(x1.ndim) if i not in a1)
    f2 = [j for j in range(x2.ndim) if j not in a2]
    r = tensordot(cj(x1), g, axes=(f1, tuple(range(len(f1)))))
    return _unpermute(r, [a2[a1.index(i)] for i in sorted(a1)] + f2)


defvjp(tensordot, _tensordot_x1, _tensordot_x2)
defjvp(tensordot, *bilinear(tensordot_op))


# -- vecdot ------------------------------------------------------------------------------------

def _vecdot_shape(s1, s2, *, axis=-1):
    n = min(len(s1), len(s2))
    if not -n <= axis <= -1:
        raise AxisError(f"axis {axis} is out of range for shapes {tuple(s1)} and {tuple(s2)}; "
                        f"vecdot counts axes from the end: valid axes are -{n}..-1" if n else
                        f"vecdot needs tensors of at least 1 dimension, got shapes {tuple(s1)} "
                        f"and {tuple(s2)}")
    if s1[axis] != s2[axis]:
        raise ShapeError(f"the vectors differ in length: shape {tuple(s1)} has {s1[axis]} and "
                         f"shape {tuple(s2)} has {s2[axis]} along axis {axis}")
    rest1 = s1[:axis] + s1[axis:][1:]
    rest2 = s2[:axis] + s2[axis:][1:]
    return R.broadcast_shapes(rest1, rest2)


vecdot_op = defop("vecdot", family="linalg", nin=2, dtype_rule=numeric_dtype,
                  shape_rule=_vecdot_shape, promote=True)


@public(vecdot_op)
def vecdot(x1, x2, /, *, axis=-1) -> Tensor:
    """Dot product of the vectors along ``axis`` (conjugating ``x1`` if complex), broadcasting
    the other axes.

    ``axis`` counts from the end (-1 is the last axis); a non-negative axis is accepted when
    both inputs have the same number of dimensions.

    >>> import eagerflow_core as ef
    >>> ef.vecdot(ef.constant([[1.0, 2.0], [3.0, 4.0]]), ef.constant([1.0, 1.0]))
    ef.Tensor([3., 7.], shape=(2,), dtype=float32, device='cpu:0')
    """
    axis = operator.index(axis)
    if axis >= 0:
        axis = _nonnegative_axis("vecdot", x1, x2, axis)
    return call(vecdot_op, (x1, x2), {"axis": axis})


# vecdot conjugates x1: the result is anti-holomorphic in x1, so x1's gradient takes conj(g),
# and its tangent is vecdot(t, x2) (conjugating t), which bilinear gives.
defvjp(vecdot, lambda g, ans, x1, x2, axis: F.expand_dims(cj(g), axis=axis) * x2,
       lambda g, ans, x1, x2, axis: F.expand_dims(g, axis=axis) * x1)
defjvp(vecdot, *bilinear(vecdot_op))


def _nonnegative_axis(name, x1, x2, axis):
    # NumPy would count a non-negative axis in each input separately, silently pairing
    # different axes when the ranks differ: accept it only when that cannot happen.
    n1, n2 = getattr(x1, "ndim", None), getattr(x2, "ndim", None)
    if n1 is not None and n1 == n2 and axis < n1:
        return axis - n1
    raise AxisError(f"{name}: axis {axis} is ambiguous or out of range for shapes "
                    f"{getattr(x1, 'shape', '?')} and {getattr(x2, 'shape', '?')}; {name} counts "
                    f"axes from the end: give a negative axis (-1 is the last)")


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


cross_op = defop("linalg.cross", family="linalg", nin=2, dtype_rule=numeric_dtype,
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


# <g, a x b> = <a, b x g> = <b, g x a>
defvjp(cross, lambda g, ans, x1, x2, axis: cross(cj(x2), g, axis=axis),
       lambda g, ans, x1, x2, axis: cross(g, cj(x1), axis=axis))
defjvp(cross, *bilinear(cross_op))


def _outer_shape(a, b, **params):
    if len(a) != 1 or len(b) != 1:
        raise ShapeError(f"needs two vectors (1-D tensors); got shapes {tuple(a)} and {tuple(b)}")
    return (a[0], b[0])


outer_op = defop("linalg.outer", family="linalg", nin=2, dtype_rule=numeric_dtype,
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


defvjp(outer, lambda g, ans, x1, x2: matmul(g, cj(x2)), lambda g, ans, x1, x2: matmul(cj(x1), g))
defjvp(outer, *bilinear(outer_op))


# -- diagonals ---------------------------------------------------------------------------------

def _diagonal_shape(x, *, offset=0):
    m, n = matrix(x)[-2:]
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


def _diagonal_vjp(g, ans, x, offset=0):
    m, n = x.shape[-2:]
    k = g.shape[-1]
    if k == 0:
        return F.zeros(x.shape, dtype=g.dtype, device=g.device)
    if offset >= 0:  # g[..., i] goes to row i, column i + offset; rows past k stay zero
        out = F.expand_dims(g, axis=-1) * eye_like(k, g, n, k=offset)
        pad, axis = x.shape[:-2] + (m - k, n), -2
    else:  # g[..., j] goes to row j - offset, column j; columns past k stay zero
        out = F.expand_dims(g, axis=-2) * eye_like(m, g, k, k=offset)
        pad, axis = x.shape[:-2] + (m, n - k), -1
    if pad[axis] == 0:
        return out
    return F.concat([out, F.zeros(pad, dtype=g.dtype, device=g.device)], axis=axis)


defvjp(diagonal, _diagonal_vjp)
defjvp(diagonal, linear(diagonal_op))


def _trace_dtype(x, *, offset=0, dtype=None):
    """The standard's rule (as for sum): small integers accumulate in the default integer
    (unsigned in uint64), bool counts as an integer; floats and complex keep their dtype."""
    if dtype is not None:
        if x.kind == "c" and dtype.kind != "c":
            raise DTypeError(f"dtype={dtype} would drop the imaginary part of a {x} input")
        return dtype
    return R.accumulation_dtype(x)


def _trace_shape(x, **params):
    return matrix(x)[:-2]


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
    x = x if isinstance(x, Tensor) or not hasattr(x, "_ef_tensor_") else x._ef_tensor_()
    dtype = as_dtype(dtype) if dtype is not None else (
        _trace_dtype(x.dtype) if isinstance(x, Tensor) else None)
    return call(trace_op, (x,), {"offset": operator.index(offset), "dtype": dtype})


defvjp(trace, lambda g, ans, x, offset=0, dtype=None:
       as_matrices(g) * eye_like(x.shape[-2], g, x.shape[-1], k=offset))
defjvp(trace, linear(trace_op))


# outer, cross, diagonal and trace are ef.linalg's only (eagerflow_core/linalg.py).
__all__ = ["matmul", "matrix_transpose", "tensordot", "vecdot"]
