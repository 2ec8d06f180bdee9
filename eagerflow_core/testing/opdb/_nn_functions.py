"""The ef.nn functions composed of other ops (issue #7): silu, sigmoid cross-entropy, moments,
batch_norm, layer_norm, one_hot, embedding_lookup.

They have no kernel of their own, but each backend runs them on its own kernels, so the kit
checks them like kernel ops: values against float64 NumPy formulas, gradients to second order
(their hand-written one-step rules), and errors. 16-bit results go through a few more
roundings than one op's, hence their wider tolerances.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from hypothesis import strategies as st

import eagerflow_core as ef

from ..._dtypes import float64
from .. import strategies as st_ef
from ._base import ALL, ErrorCase, OpInfo, Sample, arrays, grad_shapes, kinds, lift, scaled, shapes

FLOATS = kinds("f")
_F = np.float32
_HALF = ("float16", "bfloat16")


def _x(draw, dtype, grad, min_dims=0, low=None, high=None, label="x", shape=None):
    if shape is None:
        shape = draw(grad_shapes(min_dims, 3) if grad else shapes(min_dims, 3), label="shape")
    return draw(arrays(float64 if grad else dtype, shape, low=low, high=high), label=label)


def _axes(draw, ndim):
    """A non-empty axis spec: an int (maybe negative), a tuple or a list of distinct axes."""
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    chosen = [a - ndim if draw(st.booleans()) else a for a in chosen]
    how = draw(st.sampled_from(["int", "tuple", "list"]))
    return chosen[0] if how == "int" else tuple(chosen) if how == "tuple" else chosen


def _axes_tuple(axis, ndim):
    return tuple(sorted(a % ndim for a in ((axis,) if isinstance(axis, int) else axis)))


# -- silu, sigmoid cross-entropy -----------------------------------------------------------------

@st.composite
def _silu_samples(draw, dtype, grad=False):
    return Sample((_x(draw, dtype, grad),), {"beta": draw(st.sampled_from([1.0, 0.5, 2.0]))})


def _silu_ref(x, beta=1.0):
    x = lift(x)
    return x / (1 + np.exp(-beta * x))


@st.composite
def _sce_samples(draw, dtype, grad=False):
    logits = _x(draw, dtype, grad, label="logits")
    labels = _x(draw, dtype, grad, low=0, high=1, label="labels", shape=logits.shape)
    return Sample((), {"labels": labels, "logits": logits})


def _sce_ref(labels, logits):
    z, x = lift(labels), lift(logits)
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


# -- moments, batch_norm, layer_norm -----------------------------------------------------------

@st.composite
def _moments_samples(draw, dtype, grad=False):
    x = _x(draw, dtype, grad, min_dims=1)
    return Sample((x, _axes(draw, x.ndim)), {"keepdims": draw(st.booleans())})


def _moments_ref(x, axes, shift=None, keepdims=False):
    axes = _axes_tuple(axes, x.ndim)
    return (np.mean(x, axis=axes, keepdims=keepdims), np.var(x, axis=axes, keepdims=keepdims))


@st.composite
def _batch_norm_samples(draw, dtype, grad=False):
    x = _x(draw, dtype, grad, min_dims=1, low=-3, high=3)
    # statistics per channel (the last axis), or in the kept shape of a reduction
    pshape = x.shape[-1:] if draw(st.booleans()) else tuple(
        d if draw(st.booleans()) else 1 for d in x.shape)

    def param(label, low=-2.0, high=2.0, optional=False):
        if optional and draw(st.booleans(), label=f"{label} given") is False:
            return None
        return _x(draw, dtype, grad, low=low, high=high, label=label, shape=pshape)
    return Sample((x, param("mean"), param("variance", 0.5, 2.0), param("offset", optional=True),
                   param("scale", optional=True)),
                  {"variance_epsilon": draw(st.sampled_from([1e-3, 0.0, 0.1]))})


def _batch_norm_ref(x, mean, variance, offset=None, scale=None, variance_epsilon=1e-3):
    y = (x - mean) / np.sqrt(variance + variance_epsilon)
    y = y if scale is None else y * scale
    return y if offset is None else y + offset


@st.composite
def _layer_norm_samples(draw, dtype, grad=False):
    x = _x(draw, dtype, grad, min_dims=1)
    axis = _axes(draw, x.ndim)
    sizes = tuple(x.shape[a] for a in _axes_tuple(axis, x.ndim))
    kwargs = {"axis": axis, "epsilon": draw(st.sampled_from([1e-3, 1e-5]))}
    for name in ("scale", "offset"):
        if draw(st.booleans(), label=f"{name} given"):
            kwargs[name] = _x(draw, dtype, grad, low=-2, high=2, label=name, shape=sizes)
    return Sample((x,), kwargs)


def _layer_norm_ref(x, axis=-1, scale=None, offset=None, epsilon=1e-3):
    axes = _axes_tuple(axis, x.ndim)
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True)
                                                         + epsilon)
    laid = tuple(x.shape[i] if i in axes else 1 for i in range(x.ndim))
    y = y if scale is None else y * scale.reshape(laid)
    return y if offset is None else y + offset.reshape(laid)


# -- one_hot, embedding_lookup ---------------------------------------------------------------------

_IDS = st.sampled_from([np.int32, np.int64, np.uint8])


def _fill_values(dtype):
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        return st.integers(0 if dtype.kind == "u" else -5, 5)
    return st.sampled_from([-1.5, 0.25, 2.0])


@st.composite
def _one_hot_samples(draw, dtype, grad=False):
    depth = draw(st.integers(0, 4), label="depth")
    shape = draw(shapes(0, 2), label="shape")
    ids = draw(st_ef.arrays(ef.int64, shape, low=-1, high=depth + 1), label="indices")
    ids = ids.astype(draw(_IDS)) if ids.min(initial=0) >= 0 else ids
    kwargs = {"axis": draw(st.none() | st.integers(-len(shape) - 1, len(shape))), "dtype": dtype}
    for name in ("on_value", "off_value"):
        if draw(st.booleans(), label=f"{name} given"):
            kwargs[name] = draw(_fill_values(dtype), label=name)
    return Sample((ids, depth), kwargs)


def _one_hot_ref(indices, depth, on_value=None, off_value=None, axis=None, dtype=None):
    on = 1 if on_value is None else on_value
    off = 0 if off_value is None else off_value
    ndim = indices.ndim + 1
    axis = (-1 if axis is None else axis) % ndim
    positions = np.arange(depth).reshape([depth if i == axis else 1 for i in range(ndim)])
    hot = np.expand_dims(indices.astype(np.int64), axis) == positions
    return np.where(hot, on, off).astype(dtype.numpy)


@st.composite
def _lookup_samples(draw, dtype, grad=False):
    rows = draw(st.integers(1, 4), label="rows")
    params = _x(draw, dtype, grad, label="params",
                shape=(rows,) + draw(shapes(0, 2, 1, 3) if not grad else grad_shapes(0, 2)))
    ids = draw(st_ef.arrays(ef.int64, draw(shapes(0, 2), label="ids shape"), low=0,
                            high=rows - 1), label="ids").astype(draw(_IDS))
    if rows > 1 and draw(st.booleans(), label="sharded"):  # TensorFlow's "div" shards
        cut = draw(st.integers(1, rows - 1))
        params = [params[:cut], params[cut:]]
    kwargs = {}
    if dtype.kind == "f" and draw(st.booleans(), label="max_norm"):
        kwargs["max_norm"] = draw(st.sampled_from([0.5, 2.0, 100.0]))
    return Sample((params, ids), kwargs)


def _lookup_ref(params, ids, max_norm=None):
    params = np.concatenate(params) if isinstance(params, list) else params
    out = params[ids]
    if max_norm is not None:
        axes = tuple(range(ids.ndim, out.ndim))
        norms = np.sqrt(np.sum(np.square(lift(out)), axis=axes, keepdims=True))
        out = out * np.where(norms > max_norm, max_norm / np.where(norms > 0, norms, 1), 1)
    return out


# -- the database ----------------------------------------------------------------------------------

def _info(name, kernels, fn, ref, samples, dtypes=FLOATS, errors=(), rtol=None,
          differentiable=True):
    """An entry for a function with no kernel of its own, built on ``kernels``."""
    return OpInfo(name=name, fn=fn, ref=ref, dtypes=dtypes, samples=samples, kernels=kernels,
                  differentiable=differentiable,
                  grad_samples=partial(samples, grad=True) if differentiable else None,
                  errors=errors, rtol=rtol or {},
                  note="composed of other ops: runs on the backend's kernels of those")


_V = np.ones((2, 3), _F)
INFOS = [
    _info("nn.silu", ("exp", "where"),
          ef.nn.silu, _silu_ref, _silu_samples, kinds("iuf"), rtol=scaled(4, _HALF),
          errors=(ErrorCase((np.ones(2, np.complex64),), {}, "DTypeError",
                            r"^nn\.silu: expects a real floating-point input, not complex64"),
                  ErrorCase((_V, np.array(1.0, _F)), {}, "ArgumentTypeError",
                            r"^nn\.silu: beta must be a Python number"))),
    _info("nn.sigmoid_cross_entropy_with_logits", ("exp", "log1p"),
          ef.nn.sigmoid_cross_entropy_with_logits,
          _sce_ref, _sce_samples, rtol=scaled(8, _HALF),
          errors=(ErrorCase((), {"labels": np.ones(3, _F), "logits": _V}, "ShapeError",
                            r"^nn\.sigmoid_cross_entropy_with_logits: labels of shape \(3,\) and "
                            r"logits of shape \(2, 3\) must have the same shape"),
                  ErrorCase((), {"logits": _V}, "InvalidArgumentError", r"both labels and"))),
    _info("nn.moments", ("mean", "square"),
          ef.nn.moments, _moments_ref, _moments_samples,
          errors=(ErrorCase((_V, [0, 2]), {}, "AxisError", r"^nn\.moments: axis 2 is out of range"),
                  ErrorCase((_V, []), {}, "ShapeError", r"^nn\.moments: axes must name"))),
    _info("nn.batch_norm", ("sqrt",),
          ef.nn.batch_norm, _batch_norm_ref, _batch_norm_samples,
          rtol=scaled(2, _HALF),
          errors=(ErrorCase((_V, np.ones((4, 1, 3), _F), np.ones(3, _F)), {}, "ShapeError",
                            r"^nn\.batch_norm: .* must broadcast to x's shape \(2, 3\)"),
                  ErrorCase((_V, np.ones(2, _F), np.ones(3, _F)), {}, "ShapeError",
                            r"^nn\.batch_norm: shapes .* cannot be broadcast"))),
    _info("nn.layer_norm", ("mean", "sqrt"),
          ef.nn.layer_norm, _layer_norm_ref, _layer_norm_samples,
          rtol=scaled(4, _HALF),
          errors=(ErrorCase((_V,), {"scale": np.ones(2, _F)}, "ShapeError",
                            r"^nn\.layer_norm: shapes \(2, 3\) and \(2,\) cannot be broadcast"),
                  ErrorCase((np.ones((), _F),), {}, "ShapeError",
                            r"^nn\.layer_norm: x must have at least 1 dimension"))),
    _info("nn.one_hot", ("arange", "equal", "where"),
          ef.nn.one_hot, _one_hot_ref, _one_hot_samples, ALL,
          differentiable=False,
          errors=(ErrorCase((np.ones(2, _F), 3), {}, "DTypeError",
                            r"^nn\.one_hot: expects integer ids, not float32"),
                  ErrorCase((np.ones(2, np.int64), -1), {}, "InvalidArgumentError",
                            r"^nn\.one_hot: depth must be >= 0"),
                  ErrorCase((np.ones(2, np.int64), 3), {"axis": 2}, "AxisError",
                            r"^nn\.one_hot: axis 2 is out of range for the 2-D result"))),
    _info("nn.embedding_lookup", ("take",),
          ef.nn.embedding_lookup, _lookup_ref, _lookup_samples, ALL,
          errors=(ErrorCase((_V, np.array([0, 2])), {}, "OutOfRangeError",
                            r"^nn\.embedding_lookup: ids must be in \[0, 2\)"),
                  ErrorCase((_V, np.ones(2, _F)), {}, "DTypeError",
                            r"^nn\.embedding_lookup: expects integer ids, not float32"),
                  ErrorCase((np.ones((), _F), np.array([0])), {}, "ShapeError",
                            r"params must have at least 1 dimension"))),
]
