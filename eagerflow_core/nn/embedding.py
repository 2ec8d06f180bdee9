"""Integer ids as vectors (TensorFlow's names): ``one_hot`` and ``embedding_lookup``.

Both are compositions of ops that have gradient rules already (``where``, a gather), so they
need no rule of their own: ``embedding_lookup``'s gradient adds each output row back into the
row of ``params`` it was read from, repeated ids accumulating.
"""

from __future__ import annotations

import operator

from .._dtypes import DType, as_dtype, default_float, int64, scalar_dtype
from .._errors import (ArgumentTypeError, AxisError, DTypeError, EagerflowError,
                       InvalidArgumentError, ShapeError)
from .._tensor import Tensor
from ..ops.creation import arange, asarray, astype
from ..ops.elementwise import sqrt, square
from ..ops.indexing import take
from ..ops.manipulation import concat, expand_dims, reshape
from ..ops.searching import where
from ..ops.statistical import sum as ef_sum
from ._common import as_tensor

_ONE_HOT = "nn.one_hot"
_LOOKUP = "nn.embedding_lookup"


def _ids(x, who: str) -> Tensor:
    x = as_tensor(x, who)
    if x.dtype.kind not in "iu":
        raise DTypeError(f"{who}: expects integer ids, not {x.dtype}")
    return x


# -- one_hot -------------------------------------------------------------------------------------
def _value_dtype(on_value, off_value, dtype) -> DType:
    """TensorFlow's rule: ``dtype``, else the dtype of on_value / off_value, else float32."""
    if dtype is not None:
        return as_dtype(dtype)
    given = [v for v in (on_value, off_value) if v is not None]
    kinds = [as_tensor(v, _ONE_HOT).dtype if isinstance(v, Tensor) or hasattr(v, "_ef_tensor_")
             else scalar_dtype(v) for v in given]
    if len(set(kinds)) > 1:
        raise DTypeError(f"{_ONE_HOT}: on_value ({kinds[0]}) and off_value ({kinds[1]}) must "
                         f"have the same dtype; pass dtype= to choose one")
    return kinds[0] if kinds else default_float


def _fill(value, default, dtype: DType, device) -> Tensor:
    """A 0-d tensor of ``dtype``: on_value / off_value (a Python number or a 0-d tensor)."""
    if value is None:
        return asarray(default, dtype=dtype, device=device)
    if isinstance(value, Tensor) or hasattr(value, "_ef_tensor_"):
        value = as_tensor(value, _ONE_HOT)
        if value.ndim:
            raise ShapeError(f"{_ONE_HOT}: on_value and off_value must be scalars, got shape "
                             f"{value.shape}")
        return astype(value, dtype, copy=False)
    if not isinstance(value, (bool, int, float)):
        raise ArgumentTypeError(f"{_ONE_HOT}: on_value and off_value must be numbers or 0-d "
                                f"tensors, got {type(value).__name__}")
    return asarray(value, dtype=dtype, device=device)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None) -> Tensor:
    """One-hot vectors, TensorFlow's ``tf.one_hot`` (also ``ef.one_hot``): position
    ``indices[...]`` along a new axis of length ``depth`` holds ``on_value`` (default 1), every
    other position ``off_value`` (default 0).

    An index outside ``[0, depth)`` (negative ones too) gives a vector of ``off_value``, as in
    TensorFlow. ``axis`` (default -1, the last) is where the new axis goes. ``dtype``: given,
    else that of ``on_value`` / ``off_value``, else float32.

    >>> import eagerflow_core as ef
    >>> ef.one_hot(ef.constant([0, 2, -1]), 3)
    ef.Tensor([[1., 0., 0.],
               [0., 0., 1.],
               [0., 0., 0.]], shape=(3, 3), dtype=float32, device='cpu:0')
    >>> ef.nn.one_hot(ef.constant([1, 0]), 2, on_value=5, off_value=-1, axis=0)
    ef.Tensor([[-1,  5],
               [ 5, -1]], shape=(2, 2), dtype=int64, device='cpu:0')
    """
    ids = _ids(indices, _ONE_HOT)
    try:
        depth = operator.index(depth.item() if isinstance(depth, Tensor) else depth)
    except TypeError:
        raise ArgumentTypeError(f"{_ONE_HOT}: depth must be an int, got {depth!r}") from None
    if depth < 0:
        raise InvalidArgumentError(f"{_ONE_HOT}: depth must be >= 0, got {depth}")
    ndim = ids.ndim + 1
    axis = -1 if axis is None else axis
    if isinstance(axis, bool) or not isinstance(axis, int) or not -ndim <= axis < ndim:
        raise AxisError(f"{_ONE_HOT}: axis {axis!r} is out of range for the {ndim}-D result "
                        f"(indices of shape {ids.shape}); valid axes are {-ndim}..{ndim - 1}")
    axis %= ndim
    dt = _value_dtype(on_value, off_value, dtype)
    on = _fill(on_value, 1, dt, ids.device)
    off = _fill(off_value, 0, dt, ids.device)
    positions = reshape(arange(depth, device=ids.device),
                        tuple(depth if i == axis else 1 for i in range(ndim)))
    hot = expand_dims(astype(ids, int64, copy=False), axis=axis) == positions
    return where(hot, on, off)


# -- embedding_lookup ----------------------------------------------------------------------------
def embedding_lookup(params, ids, max_norm=None) -> Tensor:
    """The rows of ``params`` that ``ids`` name, TensorFlow's ``tf.nn.embedding_lookup``: the
    result has shape ``ids.shape + params.shape[1:]``.

    ``params`` is one tensor, or a list of shards split along the first axis (TensorFlow's
    "div" strategy: the shards are consecutive blocks of rows). An id outside ``[0,
    rows)`` raises OutOfRangeError. With ``max_norm``, each looked-up embedding whose L2 norm
    exceeds it is scaled down to that norm. The gradient of ``params`` adds each output row
    back into its row (repeated ids accumulate).

    >>> import eagerflow_core as ef
    >>> table = ef.constant([[0.0, 0.0], [1.0, 1.0], [3.0, 4.0]])
    >>> ef.nn.embedding_lookup(table, ef.constant([[2, 1], [0, 2]])).shape
    (2, 2, 2)
    >>> ef.nn.embedding_lookup(table, ef.constant([2]), max_norm=1.0)
    ef.Tensor([[0.6, 0.8]], shape=(1, 2), dtype=float32, device='cpu:0')
    """
    if isinstance(params, (list, tuple)):
        if not params:
            raise InvalidArgumentError(f"{_LOOKUP}: params is an empty list")
        shards = [as_tensor(p, _LOOKUP) for p in params]
        params = shards[0] if len(shards) == 1 else concat(shards, axis=0)
    params = as_tensor(params, _LOOKUP)
    ids = _ids(ids, _LOOKUP)
    if params.ndim == 0:
        raise ShapeError(f"{_LOOKUP}: params must have at least 1 dimension (one row per id), "
                         f"got a 0-d tensor")
    try:
        rows = take(params, reshape(ids, (-1,)), axis=0)
    except EagerflowError as exc:
        raise type(exc)(f"{_LOOKUP}: ids must be in [0, {params.shape[0]}) (params has "
                        f"{params.shape[0]} rows): {exc}") from None
    out = reshape(rows, ids.shape + params.shape[1:])
    if max_norm is not None:
        axes = tuple(range(ids.ndim, out.ndim))
        norms = sqrt(ef_sum(square(out), axis=axes, keepdims=True))
        out = out * where(norms > max_norm, max_norm / where(norms > 0, norms, 1), 1)
    return out


__all__ = ["embedding_lookup", "one_hot"]
