"""Linear algebra in the main namespace: matmul, matrix_transpose, tensordot, vecdot."""

from __future__ import annotations

import operator

from .._dispatch import call
from .._errors import AxisError, InvalidArgumentError, ShapeError
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


# -- tensordot ---------------------------------------------------------------------------------

def _numeric_pair(a, b, **params):
    return R.require(a, "iufc", "a numeric (not bool)")


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


tensordot_op = defop("tensordot", family="linalg", nin=2, dtype_rule=_numeric_pair,
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


vecdot_op = defop("vecdot", family="linalg", nin=2, dtype_rule=_numeric_pair,
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


def _nonnegative_axis(name, x1, x2, axis):
    # NumPy would count a non-negative axis in each input separately, silently pairing
    # different axes when the ranks differ: accept it only when that cannot happen.
    n1, n2 = getattr(x1, "ndim", None), getattr(x2, "ndim", None)
    if n1 is not None and n1 == n2 and axis < n1:
        return axis - n1
    raise AxisError(f"{name}: axis {axis} is ambiguous or out of range for shapes "
                    f"{getattr(x1, 'shape', '?')} and {getattr(x2, 'shape', '?')}; {name} counts "
                    f"axes from the end: give a negative axis (-1 is the last)")


__all__ = ["matmul", "matrix_transpose", "tensordot", "vecdot"]


# -- gradients ---------------------------------------------------------------------------------
# rule(g, ans, *inputs, **params) -> that input's gradient, in eagerflow ops (so every backend
# gets them and they differentiate again). Complex inputs use the conjugate convention
# (PyTorch's, TensorFlow's): the gradient of x1 @ x2 for x1 is g @ x2^H. The engine sums a
# gradient over broadcast batch axes and casts it to the input's dtype.
from .._registry import defvjp
from .elementwise import conj
from .manipulation import expand_dims, permute_dims


def _cj(t):
    return conj(t) if t.dtype.kind == "c" else t


def _mH(t):
    # A transposed view for real tensors: matmul reads it as is (BLAS transposes), no copy.
    return _cj(matrix_transpose(t))


def _matmul_x1(g, ans, x1, x2):
    if x2.ndim == 1:  # ans[..., m] = x1[..., m, :] . x2: an outer product per row
        return expand_dims(g, axis=-1) * _cj(x2)
    if x1.ndim == 1:  # ans[..., n] = x1 @ x2[..., :, n]: x1 was a row
        g = expand_dims(g, axis=-2)
    return matmul(g, _mH(x2))


def _matmul_x2(g, ans, x1, x2):
    if x1.ndim == 1:
        if x2.ndim == 1:
            return g * _cj(x1)
        return expand_dims(_cj(x1), axis=-1) * expand_dims(g, axis=-2)
    if x2.ndim == 1:  # (..., 1, m) @ (..., m, k): a row per batch, summed by the engine
        return matmul(expand_dims(g, axis=-2), _cj(x1))
    return matmul(_mH(x1), g)


defvjp(matmul, _matmul_x1, _matmul_x2)
defvjp(matrix_transpose, lambda g, ans, x: matrix_transpose(g))


def _unpermute(r, order):
    """``r`` whose axis i is the input's axis ``order[i]``, with the input's axis order."""
    back = sorted(range(len(order)), key=order.__getitem__)
    return r if back == list(range(len(order))) else permute_dims(r, tuple(back))


def _tensordot_x1(g, ans, x1, x2, axes):
    a1, a2 = _tensordot_axes(x1.shape, x2.shape, axes)
    f1 = [i for i in range(x1.ndim) if i not in a1]
    f2 = tuple(j for j in range(x2.ndim) if j not in a2)
    r = tensordot(g, _cj(x2), axes=(tuple(range(len(f1), g.ndim)), f2))
    # r's last axes are x2's contracted axes in x2's order; each stands for its x1 partner
    return _unpermute(r, f1 + [a1[a2.index(j)] for j in sorted(a2)])


def _tensordot_x2(g, ans, x1, x2, axes):
    a1, a2 = _tensordot_axes(x1.shape, x2.shape, axes)
    f1 = tuple(i for i in range(x1.ndim) if i not in a1)
    f2 = [j for j in range(x2.ndim) if j not in a2]
    r = tensordot(_cj(x1), g, axes=(f1, tuple(range(len(f1)))))
    return _unpermute(r, [a2[a1.index(i)] for i in sorted(a1)] + f2)


defvjp(tensordot, _tensordot_x1, _tensordot_x2)
# vecdot conjugates x1: the result is anti-holomorphic in x1, so x1's gradient takes conj(g).
defvjp(vecdot, lambda g, ans, x1, x2, axis: expand_dims(_cj(g), axis=axis) * x2,
       lambda g, ans, x1, x2, axis: expand_dims(g, axis=axis) * x1)
