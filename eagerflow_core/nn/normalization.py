"""Normalisation: ``moments``, ``batch_norm`` (TensorFlow's ``tf.nn.batch_normalization``) and
``layer_norm``; one tape step each, with hand-written rules in eagerflow ops.

16-bit inputs are normalised in float32 and the results cast back, as Keras does: their
sums of squares lose most digits in 10 or 7 mantissa bits.
"""

from __future__ import annotations

import math

from .._dtypes import float32
from .._errors import ShapeError
from .._tensor import Tensor
from ..autodiff.composite import composite
from ..ops.creation import astype
from ..ops.elementwise import sqrt, square
from ..ops.manipulation import broadcast_to, reshape
from ..ops.statistical import mean as ef_mean
from . import _rules
from ._common import as_float, axes_of, kept_shape

_MOMENTS = "nn.moments"
_BATCH = "nn.batch_norm"
_LAYER = "nn.layer_norm"


def _wide(x: Tensor) -> Tensor:
    """``x`` in the dtype to compute statistics in: float32 for the 16-bit floats."""
    return astype(x, float32) if x.dtype.itemsize < 4 else x


def _at_least_1d(x: Tensor, who: str) -> Tensor:
    if x.ndim == 0:
        raise ShapeError(f"{who}: x must have at least 1 dimension to normalise over, got a 0-d "
                         f"tensor")
    return x


def _reduced_shape(shape, *, axes, keepdims):
    return kept_shape(shape, axes) if keepdims else tuple(
        d for i, d in enumerate(shape) if i not in axes)


# -- moments -----------------------------------------------------------------------------------
def _moments_vjp(g, ans, x, *, axes, keepdims):
    g_mean, g_var = g
    mean = ans[0]
    n = math.prod(x.shape[a] for a in axes)
    kept = kept_shape(x.shape, axes)
    out = None
    if g_mean is not None:
        out = broadcast_to(reshape(g_mean, kept) / n, x.shape)
    if g_var is not None:
        # d var = 2 (x - mean) / n; the mean's own dependence on x adds sum(x - mean) = 0
        part = reshape(g_var, kept) * (2 / n) * (x - reshape(mean, kept))
        out = part if out is None else out + part
    return out


@composite(vjp=_moments_vjp, name=_MOMENTS)
def _moments(x, *, axes, keepdims):
    xw = _wide(x)
    mean = ef_mean(xw, axis=axes, keepdims=True)
    var = ef_mean(square(xw - mean), axis=axes, keepdims=True)
    shape = _reduced_shape(x.shape, axes=axes, keepdims=keepdims)
    return (astype(reshape(mean, shape), x.dtype, copy=False),
            astype(reshape(var, shape), x.dtype, copy=False))


_rules.declare(_moments, dtype_rule=lambda d, **p: (_rules.float_result(d),) * 2,
               shape_rule=lambda s, **p: (_reduced_shape(s, **p),) * 2)


def moments(x, axes, shift=None, keepdims=False) -> tuple[Tensor, Tensor]:
    """``(mean, variance)`` of ``x`` over ``axes`` (an int or a list of ints), TensorFlow's
    ``tf.nn.moments``: the population variance (divided by the count). ``shift`` is accepted
    and unused, as in TensorFlow 2.

    What a batch-normalisation layer needs in training: ``axes=[0, 1, 2]`` for NHWC images.

    >>> import eagerflow_core as ef
    >>> m, v = ef.nn.moments(ef.constant([[1.0, 2.0], [3.0, 6.0]]), axes=[0])
    >>> m, v
    (ef.Tensor([2., 4.], shape=(2,), dtype=float32, device='cpu:0'), ef.Tensor([1., 4.], shape=(2,), dtype=float32, device='cpu:0'))
    """
    x = _at_least_1d(as_float(x, _MOMENTS), _MOMENTS)
    axes = axes_of(tuple(axes) if isinstance(axes, list) else axes, x, _MOMENTS)
    if not axes:
        raise ShapeError(f"{_MOMENTS}: axes must name at least one axis of x (shape {x.shape})")
    return _moments(x, axes=axes, keepdims=bool(keepdims))


moments.op = _moments.op  # what tapes record for it (its rules, for interpreters)


# -- batch_norm ----------------------------------------------------------------------------------
def _inv(variance, scale, epsilon):
    inv = 1 / sqrt(variance + epsilon)
    return inv if scale is None else inv * scale


def _bn_x_vjp(g, ans, x, mean, variance, offset, scale, *, epsilon):
    return g * _inv(variance, scale, epsilon)


def _bn_mean_vjp(g, ans, x, mean, variance, offset, scale, *, epsilon):
    return -g * _inv(variance, scale, epsilon)


def _bn_variance_vjp(g, ans, x, mean, variance, offset, scale, *, epsilon):
    return g * (x - mean) * (-0.5 * _inv(variance, scale, epsilon) / (variance + epsilon))


def _bn_offset_vjp(g, ans, x, mean, variance, offset, scale, *, epsilon):
    return g


def _bn_scale_vjp(g, ans, x, mean, variance, offset, scale, *, epsilon):
    return g * (x - mean) * _inv(variance, None, epsilon)


@composite(vjp=(_bn_x_vjp, _bn_mean_vjp, _bn_variance_vjp, _bn_offset_vjp, _bn_scale_vjp),
           name=_BATCH)
def _batch_norm(x, mean, variance, offset, scale, *, epsilon):
    xw, mean, variance, offset, scale = (None if a is None else _wide(a)
                                         for a in (x, mean, variance, offset, scale))
    inv = _inv(variance, scale, epsilon)
    shift = -mean * inv if offset is None else offset - mean * inv
    return astype(xw * inv + shift, x.dtype, copy=False)  # TensorFlow's order: one multiply-add


_rules.declare(_batch_norm, dtype_rule=_rules.float_result, shape_rule=_rules.broadcast)


def batch_norm(x, mean, variance, offset=None, scale=None, variance_epsilon=1e-3) -> Tensor:
    """``(x - mean) / sqrt(variance + variance_epsilon) * scale + offset``, TensorFlow's
    ``tf.nn.batch_normalization`` (also ``ef.nn.batch_normalization``).

    ``mean``, ``variance``, ``offset`` and ``scale`` broadcast against ``x`` (shape
    ``(channels,)`` for channels-last inputs); ``offset`` and ``scale`` may be None.
    Gradients flow to all five. In training, ``mean`` and ``variance`` come from
    :func:`moments` of the batch; in inference, from the moving averages.

    >>> import eagerflow_core as ef
    >>> x = ef.constant([[1.0, 2.0], [3.0, 6.0]])
    >>> m, v = ef.nn.moments(x, axes=[0])
    >>> ef.nn.batch_norm(x, m, v, offset=ef.constant([0.0, 10.0]), scale=None,
    ...                  variance_epsilon=0.0)
    ef.Tensor([[-1.,  9.],
               [ 1., 11.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    args = [x, mean, variance, offset, scale]
    args = [None if a is None else as_float(a, _BATCH) for a in args]
    dt = _rules.float_result(*[a.dtype for a in args if a is not None])
    args = [None if a is None else astype(a, dt, copy=False) for a in args]
    shape = _rules.checked(_BATCH, _rules.broadcast, *[a.shape for a in args if a is not None])
    if shape != args[0].shape:
        raise ShapeError(f"{_BATCH}: mean, variance, offset and scale must broadcast to x's shape "
                         f"{args[0].shape}, not widen it to {shape}")
    return _batch_norm(*args, epsilon=float(variance_epsilon))


batch_norm.op = _batch_norm.op
batch_normalization = batch_norm


# -- layer_norm ----------------------------------------------------------------------------------
def _normalize_vjp(g, ans, x, *, axes, epsilon):
    xw, g, xhat = _wide(x), _wide(g), _wide(ans)
    mean = ef_mean(xw, axis=axes, keepdims=True)
    inv = 1 / sqrt(ef_mean(square(xw - mean), axis=axes, keepdims=True) + epsilon)
    return inv * (g - ef_mean(g, axis=axes, keepdims=True)
                  - xhat * ef_mean(g * xhat, axis=axes, keepdims=True))


@composite(vjp=_normalize_vjp, name=_LAYER)
def _normalize(x, *, axes, epsilon):
    xw = _wide(x)
    centred = xw - ef_mean(xw, axis=axes, keepdims=True)
    inv = 1 / sqrt(ef_mean(square(centred), axis=axes, keepdims=True) + epsilon)
    return astype(centred * inv, x.dtype, copy=False)


_rules.declare(_normalize, dtype_rule=_rules.float_result, shape_rule=_rules.same_shape)


def _param(p, x: Tensor, axes, what: str):
    """A scale or offset as a tensor that broadcasts against ``x``: one of the normalised
    axes' shape is laid out along those axes."""
    p = astype(as_float(p, _LAYER), x.dtype, copy=False)
    sizes = tuple(x.shape[a] for a in sorted(axes))  # in the order the axes have in x
    if p.shape == sizes:
        return reshape(p, tuple(x.shape[i] if i in axes else 1 for i in range(x.ndim)))
    _rules.checked(_LAYER, _rules.broadcast, x.shape, p.shape)
    if _rules.broadcast(x.shape, p.shape) != x.shape:
        raise ShapeError(f"{_LAYER}: {what} of shape {p.shape} must have the normalised axes' "
                         f"shape {sizes} or broadcast to x's shape {x.shape}")
    return p


def layer_norm(x, axis=-1, scale=None, offset=None, epsilon=1e-3) -> Tensor:
    """Layer normalisation (Ba et al.; what Keras' ``LayerNormalization`` computes): ``x``
    normalised to mean 0 and variance 1 over ``axis`` (an int or a tuple; by default the last
    axis), then ``* scale + offset``.

    ``scale`` and ``offset`` (optional) have the normalised axes' shape, in the order those
    axes have in ``x`` (``(features,)`` for the last axis), or any shape that broadcasts to
    ``x``. ``epsilon`` (Keras' default 1e-3)
    is added to the variance. The normalisation is one tape step whose rule is
    ``(g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + epsilon)``.

    >>> import eagerflow_core as ef
    >>> x = ef.constant([[1.0, 3.0], [2.0, 6.0]])
    >>> ef.nn.layer_norm(x, epsilon=0.0)
    ef.Tensor([[-1.,  1.],
               [-1.,  1.]], shape=(2, 2), dtype=float32, device='cpu:0')
    >>> ef.nn.layer_norm(x, axis=0, scale=ef.constant([1.0, 2.0]), epsilon=0.0)  # row scales
    ef.Tensor([[-1., -1.],
               [ 2.,  2.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """
    x = _at_least_1d(as_float(x, _LAYER), _LAYER)
    axes = axes_of(tuple(axis) if isinstance(axis, list) else axis, x, _LAYER)
    if not axes:
        raise ShapeError(f"{_LAYER}: axis must name at least one axis of x (shape {x.shape})")
    y = _normalize(x, axes=axes, epsilon=float(epsilon))
    if scale is not None:
        y = y * _param(scale, x, axes, "scale")
    if offset is not None:
        y = y + _param(offset, x, axes, "offset")
    return y


layer_norm.op = _normalize.op  # the normalisation; scale and offset are recorded after it


__all__ = ["batch_norm", "batch_normalization", "layer_norm", "moments"]
