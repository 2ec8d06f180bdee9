"""Gradient clipping: TensorFlow's ``tf.clip_by_norm`` and ``tf.clip_by_global_norm``.

Both are compositions of eagerflow ops, so they run on every backend and differentiate.
"""

from __future__ import annotations

from .._errors import ArgumentTypeError, DTypeError
from .._tensor import Tensor
from ..ops import creation, elementwise, manipulation, searching, statistical


def _floating(t, what: str) -> Tensor:
    if not isinstance(t, Tensor):
        t = creation.asarray(t.read_value() if hasattr(t, "read_value") else t)
    if t.dtype.kind != "f":
        raise DTypeError(f"{what}: expected a real floating-point tensor, got {t.dtype}")
    return t


def clip_by_norm(t, clip_norm, axes=None) -> Tensor:
    """``t`` scaled so that its L2 norm (over ``axes``, default all) is at most ``clip_norm``:
    ``t * clip_norm / max(norm(t), clip_norm)``. A zero tensor stays zero, with a finite
    gradient.

    >>> import eagerflow_core as ef
    >>> ef.clip_by_norm(ef.constant([3.0, 4.0]), 1.0)
    ef.Tensor([0.6, 0.8], shape=(2,), dtype=float32, device='cpu:0')
    """
    t = _floating(t, "clip_by_norm")
    axes = tuple(axes) if isinstance(axes, list) else axes
    l2sum = statistical.sum(elementwise.square(t), axis=axes, keepdims=True)
    positive = l2sum > 0
    # The two-where trick: sqrt's gradient at 0 is inf, so 0 never reaches it.
    safe = searching.where(positive, l2sum, creation.ones_like(l2sum))
    l2norm = searching.where(positive, elementwise.sqrt(safe), l2sum)
    return t * clip_norm / elementwise.maximum(l2norm, clip_norm)


def global_norm(t_list) -> Tensor:
    """``sqrt(sum of squares of every element of every tensor)``; ``None`` entries skipped."""
    tensors = [_floating(t, "global_norm") for t in t_list if t is not None]
    if not tensors:
        return creation.constant(0.0)
    from .._dtypes import result_type
    dtype = result_type(*(t.dtype for t in tensors))
    squares = [creation.astype(statistical.sum(elementwise.square(t)), dtype) for t in tensors]
    return elementwise.sqrt(statistical.sum(manipulation.stack(squares)))


def clip_by_global_norm(t_list, clip_norm, use_norm=None):
    """``(clipped, global_norm)``: every tensor of ``t_list`` scaled by
    ``clip_norm / max(global_norm, clip_norm)``, so that their joint L2 norm is at most
    ``clip_norm``; ``None`` entries stay ``None``. If the global norm is inf or NaN, every
    clipped value is NaN (TensorFlow's behaviour: a blown-up step shows instead of hiding).

    >>> import eagerflow_core as ef
    >>> clipped, norm = ef.clip_by_global_norm([ef.constant([3.0]), None, ef.constant([4.0])], 1.0)
    >>> clipped[0], clipped[1], clipped[2], norm
    (ef.Tensor([0.6], shape=(1,), dtype=float32, device='cpu:0'), None, ef.Tensor([0.8], shape=(1,), dtype=float32, device='cpu:0'), ef.Tensor(5., shape=(), dtype=float32, device='cpu:0'))
    """
    if isinstance(t_list, (Tensor, str)) or not hasattr(t_list, "__iter__"):
        raise ArgumentTypeError(f"clip_by_global_norm: t_list must be a list of tensors, got "
                                f"{type(t_list).__name__}")
    t_list = [None if t is None else _floating(t, "clip_by_global_norm") for t in t_list]
    norm = global_norm(t_list) if use_norm is None else use_norm
    scale = clip_norm * elementwise.minimum(1.0 / norm, 1.0 / clip_norm)
    scale = scale + (norm - norm)  # NaN when the norm is inf or NaN
    return [None if t is None else t * creation.astype(scale, t.dtype) for t in t_list], norm
