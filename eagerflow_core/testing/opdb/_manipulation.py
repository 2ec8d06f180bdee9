"""Manipulation ops: they move values without computing, so every dtype is checked and the
results must match exactly (up to the dtype's tolerance, which exact copies meet)."""

from __future__ import annotations

from functools import partial

import numpy as np
from hypothesis import strategies as st

import eagerflow_core as ef

from ..._dtypes import float64
from .. import strategies as st_ef
from ._base import ALL, ErrorCase, OpInfo, Sample, arrays, grad_shapes, shapes


def _x(draw, dtype, grad, min_dims=0, max_dims=3):
    """One input array: small, and for gradients (float64) never empty."""
    if grad:
        return draw(arrays(float64, draw(grad_shapes(min_dims, max_dims))), label="x")
    return draw(arrays(dtype, draw(shapes(min_dims, max_dims))), label="x")


def _axis(draw, ndim, allow_none=False):
    choices = st.integers(-ndim, ndim - 1) if ndim else st.just(0)
    return draw(st.none() | choices if allow_none else choices, label="axis")


def _axes(draw, ndim):
    """None, one axis or a tuple of distinct axes (some negative)."""
    if not ndim or draw(st.integers(0, 3)) == 0:
        return None
    if draw(st.booleans()):
        return _axis(draw, ndim)
    perm = draw(st.permutations(range(ndim)))
    chosen = perm[:draw(st.integers(1, ndim))]
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


# -- reshape, broadcasting -----------------------------------------------------------------------

@st.composite
def _reshape_samples(draw, dtype, grad=False):
    x = _x(draw, dtype, grad)
    n = x.size
    options = [(n,), tuple(reversed(x.shape)), x.shape + (1,), (1,) + x.shape]
    if n and n % 2 == 0:
        options.append((2, n // 2))
    shape = draw(st.sampled_from(options), label="shape")
    if n and shape and draw(st.booleans()):  # one size left for reshape to infer
        i = draw(st.integers(0, len(shape) - 1))
        shape = shape[:i] + (-1,) + shape[i + 1:]
    return Sample((x, shape))


@st.composite
def _broadcast_to_samples(draw, dtype, grad=False):
    x = _x(draw, dtype, grad)
    lead = draw(st_ef.shapes(0, 2, 1 if grad else 0, 3), label="new axes")
    grown = tuple(draw(st.integers(1, 3)) if d == 1 else d for d in x.shape)
    return Sample((x, lead + grown))


@st.composite
def _broadcast_arrays_samples(draw, dtype, grad=False):
    n = draw(st.integers(1, 3))
    all_shapes = draw(st_ef.broadcastable_shapes(n, 0, 3, 1 if grad else 0, 3 if grad else 4))
    kind = float64 if grad else dtype
    return Sample(tuple(draw(arrays(kind, s), label=f"x{i}") for i, s in enumerate(all_shapes)))


# -- joining and splitting -----------------------------------------------------------------------

@st.composite
def _concat_samples(draw, dtype, grad=False):
    base = draw(grad_shapes(1, 3) if grad else shapes(1, 3))
    n = draw(st.integers(1, 3))
    if draw(st.integers(0, 4)) == 0:  # axis=None: any shapes, flattened
        xs = [draw(arrays(float64 if grad else dtype, draw(grad_shapes() if grad else shapes())))
              for _ in range(n)]
        return Sample((xs,), {"axis": None})
    axis = _axis(draw, len(base))
    sizes = st.integers(1, 3) if grad else st.integers(0, 3)
    xs = []
    for _ in range(n):
        shape = list(base)
        shape[axis] = draw(sizes)
        xs.append(draw(arrays(float64 if grad else dtype, tuple(shape))))
    return Sample((xs,), {"axis": axis})


@st.composite
def _stack_samples(draw, dtype, grad=False):
    shape = draw(grad_shapes() if grad else shapes())
    n = draw(st.integers(1, 3))
    xs = [draw(arrays(float64 if grad else dtype, shape)) for _ in range(n)]
    axis = draw(st.integers(-len(shape) - 1, len(shape)), label="axis")
    return Sample((xs,), {"axis": axis})


@st.composite
def _unstack_samples(draw, dtype, grad=False):
    x = _x(draw, dtype, grad, min_dims=1)
    return Sample((x,), {"axis": _axis(draw, x.ndim)})


def _unstack_ref(x, axis=0):
    return tuple(np.moveaxis(x, axis, 0))


# -- axes ----------------------------------------------------------------------------------------

@st.composite
def _expand_dims_samples(draw, dtype, grad=False):
    x = _x(draw, dtype, grad)
    return Sample((x,), {"axis": draw(st.integers(-x.ndim - 1, x.ndim), label="axis")})


@st.composite
def _squeeze_samples(draw, dtype, grad=False):
    x = _x(draw, dtype, grad)
    ones = [i for i, d in enumerate(x.shape) if d == 1]
    if not ones:  # give it an axis of size 1
        at = draw(st.integers(0, x.ndim))
        x = np.expand_dims(x, at)
        ones = [at]
    chosen = draw(st.lists(st.sampled_from(ones), min_size=1, unique=True), label="axes")
    axis = tuple(chosen) if len(chosen) > 1 or draw(st.booleans()) else chosen[0]
    return Sample((x,), {"axis": axis})


@st.composite
def _permute_dims_samples(draw, dtype, grad=False):
    x = _x(draw, dtype, grad)
    return Sample((x,), {"axes": tuple(draw(st.permutations(range(x.ndim)), label="axes"))})


@st.composite
def _moveaxis_samples(draw, dtype, grad=False):
    x = _x(draw, dtype, grad, min_dims=1)
    nd = x.ndim
    k = draw(st.integers(1, nd))
    src = draw(st.permutations(range(nd)))[:k]
    dst = draw(st.permutations(range(nd)))[:k]
    if k == 1 and draw(st.booleans()):
        return Sample((x, src[0] - nd, dst[0]))
    return Sample((x, tuple(src), tuple(dst)))


@st.composite
def _flip_samples(draw, dtype, grad=False):
    x = _x(draw, dtype, grad)
    return Sample((x,), {"axis": _axes(draw, x.ndim)})


@st.composite
def _roll_samples(draw, dtype, grad=False):
    x = _x(draw, dtype, grad)
    axis = _axes(draw, x.ndim)
    if isinstance(axis, tuple):
        shift = tuple(draw(st.integers(-5, 5)) for _ in axis)
    else:
        shift = draw(st.integers(-5, 5))
    return Sample((x, shift), {"axis": axis})


@st.composite
def _repeat_samples(draw, dtype, grad=False):
    x = _x(draw, dtype, grad)
    axis = _axis(draw, x.ndim, allow_none=True) if x.ndim else None
    n = x.size if axis is None else x.shape[axis]
    if draw(st.booleans()):
        return Sample((x, draw(st.integers(0, 3))), {"axis": axis})
    size = draw(st.sampled_from([1, n]))
    reps = np.asarray(draw(st.lists(st.integers(0, 3), min_size=size, max_size=size)), np.int64)
    return Sample((x, reps), {"axis": axis})


@st.composite
def _tile_samples(draw, dtype, grad=False):
    x = _x(draw, dtype, grad)
    reps = draw(st.lists(st.integers(1 if grad else 0, 3), min_size=0, max_size=3))
    return Sample((x, tuple(reps)))


def _info(name, samples, ref, errors, fn=None):
    return OpInfo(name=name, fn=fn or getattr(ef, name), ref=ref, dtypes=ALL, samples=samples,
                  differentiable=True, grad_samples=partial(samples, grad=True), errors=errors)


_F = np.float32


def _ones(*shape):
    return np.ones(shape, _F)


INFOS = [
    _info("reshape", _reshape_samples, lambda x, shape, copy=None: np.reshape(x, shape), (
        ErrorCase((_ones(2, 3), (4, 2)), {}, "ShapeError",
                  r"^reshape: cannot reshape .*\(2, 3\) \(6 elements\)"),
        ErrorCase((_ones(2, 3), (-1, -1)), {}, "ShapeError", r"^reshape: .*at most one -1"))),
    _info("broadcast_to", _broadcast_to_samples, np.broadcast_to, (
        ErrorCase((_ones(3), (2, 2)), {}, "ShapeError",
                  r"^broadcast_to: shapes \(3,\) and \(2, 2\) cannot"),
        ErrorCase((_ones(2, 3), (3,)), {}, "ShapeError", r"^broadcast_to: .*fewer dimensions"))),
    _info("broadcast_arrays", _broadcast_arrays_samples,
          lambda *xs: tuple(np.broadcast_arrays(*xs)), (
              ErrorCase((_ones(2, 3), _ones(4)), {}, "ShapeError",
                        r"^broadcast_arrays: shapes \(2, 3\) and \(4,\)"),)),
    _info("concat", _concat_samples, lambda xs, axis=0: np.concatenate(xs, axis=axis), (
        ErrorCase(([_ones(2, 3), _ones(2, 4)],), {}, "ShapeError",
                  r"^concat: shapes \(2, 3\), \(2, 4\) differ at axis 1"),
        ErrorCase(([_ones(2, 3), _ones(2, 3)],), {"axis": 2}, "AxisError",
                  r"^concat: axis 2 is out of range"),
        ErrorCase(([_ones(), _ones()],), {}, "ShapeError",
                  r"^concat: 0-d tensors cannot be joined"))),
    _info("stack", _stack_samples, lambda xs, axis=0: np.stack(xs, axis=axis), (
        ErrorCase(([_ones(2), _ones(3)],), {}, "ShapeError",
                  r"^stack: all tensors must have the same shape"),
        ErrorCase(([_ones(2), _ones(2)],), {"axis": 2}, "AxisError",
                  r"^stack: axis 2 is out of range"))),
    _info("unstack", _unstack_samples, _unstack_ref, (
        ErrorCase((_ones(),), {}, "ShapeError", r"^unstack: cannot unstack a 0-d tensor"),
        ErrorCase((_ones(2),), {"axis": 1}, "AxisError", r"^unstack: axis 1 is out of range"))),
    _info("expand_dims", _expand_dims_samples, lambda x, axis=0: np.expand_dims(x, axis), (
        ErrorCase((_ones(2),), {"axis": 3}, "AxisError",
                  r"^expand_dims: axis 3 is out of range"),)),
    _info("squeeze", _squeeze_samples, lambda x, axis: np.squeeze(x, axis), (
        ErrorCase((_ones(2, 3, 1),), {"axis": 1}, "ShapeError",
                  r"^squeeze: cannot squeeze axis 1 of shape \(2, 3, 1\)"),
        ErrorCase((_ones(2, 3, 1),), {"axis": 3}, "AxisError",
                  r"^squeeze: axis 3 is out of range"))),
    _info("permute_dims", _permute_dims_samples, lambda x, axes: np.transpose(x, axes), (
        ErrorCase((_ones(2, 3),), {"axes": (0, 0)}, "ShapeError",
                  r"^permute_dims: axes \(0, 0\) is not a permutation"),
        ErrorCase((_ones(2, 3),), {"axes": "ab"}, "ArgumentTypeError",
                  r"axes must be an int or a tuple of ints"))),
    _info("moveaxis", _moveaxis_samples, np.moveaxis, (
        ErrorCase((_ones(2, 3), (0, 1), 0), {}, "ShapeError",
                  r"^moveaxis: source .* and destination .* as many"),
        ErrorCase((_ones(2, 3), 2, 0), {}, "AxisError", r"^moveaxis: axis 2 is out of range"))),
    _info("flip", _flip_samples, lambda x, axis=None: np.flip(x, axis), (
        ErrorCase((_ones(2, 3),), {"axis": 2}, "AxisError", r"^flip: axis 2 is out of range"),)),
    _info("roll", _roll_samples, lambda x, shift, axis=None: np.roll(x, shift, axis), (
        ErrorCase((_ones(2, 3), (1, 2)), {}, "InvalidArgumentError",
                  r"^roll: a tuple shift \(1, 2\) needs a"),
        ErrorCase((_ones(2, 3), 1), {"axis": 2}, "AxisError", r"^roll: axis 2 is out of range"))),
    _info("repeat", _repeat_samples, lambda x, reps, axis=None: np.repeat(x, reps, axis), (
        ErrorCase((_ones(2, 3), -1), {}, "InvalidArgumentError",
                  r"^repeat: repeats must not be negative"),
        ErrorCase((_ones(2, 3), np.ones(2, np.float32)), {"axis": 0}, "DTypeError",
                  r"^repeat: repeats must be an integer tensor, not float32"),
        ErrorCase((_ones(2, 3), np.ones(2, np.int64)), {"axis": 1}, "ShapeError",
                  r"^repeat: repeats of shape \(2,\) must be 1-D of size 1 or 3"))),
    _info("tile", _tile_samples, np.tile, (
        ErrorCase((_ones(2), (2, -1)), {}, "InvalidArgumentError",
                  r"^tile: repetitions \(2, -1\) must not be negative"),
        ErrorCase((_ones(2), "ab"), {}, "ArgumentTypeError",
                  r"repetitions must be an int or a tuple"))),
]
