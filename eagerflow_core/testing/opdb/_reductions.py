"""Reductions and running reductions (statistical family) and the utility ops all, any, diff.

Sums are compared with a float64 reference, but a backend may add in any order: values are
drawn on a grid (multiples of 1/4, whole numbers for bfloat16) on which every partial sum is
exact in the dtype, so the order cannot matter and the default tolerances hold. Products use
powers of two for the same reason.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from hypothesis import strategies as st

import eagerflow_core as ef

from ..._dtypes import DType, float64
from ._base import (
    ALL,
    ErrorCase,
    OpInfo,
    Sample,
    arrays,
    grad_shapes,
    kinds,
    lift,
    scaled,
    shapes,
    spread,
)


def grid(dtype: DType, shape, big=False):
    """Values whose sums are exact in ``dtype``: multiples of 1/4 up to 3 in size (whole
    numbers for bfloat16, with 8 significant bits), integers up to 100."""
    if dtype.kind in "biu":
        return arrays(dtype, shape)
    k = st.integers(-12, 12)
    step = 1.0 if dtype.name == "bfloat16" else 0.25
    if dtype.name == "bfloat16":
        k = st.integers(-3, 3)
    part = k.map(lambda v: v * step)
    elem = st.builds(complex, part, part) if dtype.kind == "c" else part
    return st.lists(elem, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))).map(
        lambda v: np.asarray(v, dtype.numpy).reshape(shape))


def powers(dtype: DType, shape):
    """Signed powers of two and zeros: products exact in every dtype (a few elements)."""
    vals = [0, 1, -1, 2] if dtype.kind in "iu" else [0.0, 1.0, -1.0, 2.0, -2.0, 0.5]
    if dtype.kind == "u":
        vals = [0, 1, 2]
    if dtype.kind == "b":
        return arrays(dtype, shape)
    elem = st.sampled_from(vals)
    if dtype.kind == "c":
        elem = st.builds(complex, elem, st.sampled_from([0.0, 1.0, -1.0]))
    return st.lists(elem, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))).map(
        lambda v: np.asarray(v, dtype.numpy).reshape(shape))


def axes_of(draw, ndim, single=False):
    """None, one axis (maybe negative) or (unless ``single``) a tuple of distinct axes."""
    if ndim == 0:
        return None
    choices = [st.none(), st.integers(-ndim, ndim - 1)]
    if not single:
        choices.append(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(
            lambda axs: tuple(a - ndim if i % 2 else a for i, a in enumerate(axs))))
    return draw(st.one_of(*choices), label="axis")


def _reduced(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in ((axis,) if isinstance(axis, int) else axis))


@st.composite
def reduction_samples(draw, dtype, grad=False, values=grid, nonempty=False, single=False,
                      max_side=4, extra=None):
    """x, axis and keepdims (and ``extra(draw)``'s keyword arguments)."""
    if grad:
        shape = draw(grad_shapes())
        x = draw(values(float64, shape) if values is spread else
                 arrays(float64, shape, low=-3, high=3), label="x")
    else:  # max and min have no identity: they get no empty axis (see their ErrorCase)
        shape = draw(shapes(min_side=int(nonempty), max_side=max_side))
        x = draw(values(dtype, shape), label="x")
    axis = axes_of(draw, x.ndim, single)
    kwargs = {"axis": axis, "keepdims": draw(st.booleans(), label="keepdims")}
    if extra is not None:
        kwargs.update(extra(draw))
    return Sample((x,), kwargs)


def _sum_dtype(x):
    if x.dtype.kind == "b" or x.dtype.kind == "i":
        return np.int64
    if x.dtype.kind == "u":
        return np.uint64
    return None


def _sum_ref(x, *, axis=None, keepdims=False):
    return np.sum(x, axis=axis, keepdims=keepdims, dtype=_sum_dtype(x))


def _prod_ref(x, *, axis=None, keepdims=False):
    return np.prod(x, axis=axis, keepdims=keepdims, dtype=_sum_dtype(x))


def _moment(fn):
    def ref(x, *, axis=None, keepdims=False, correction=0.0):
        n = x.size if axis is None else int(np.prod([x.shape[a] for a in _reduced(axis, x.ndim)]))
        if n - correction <= 0:
            shape = np.sum(lift(x), axis=axis, keepdims=keepdims).shape
            return np.full(shape, np.nan)
        return fn(lift(x), axis=axis, keepdims=keepdims, ddof=correction)
    return ref


def _correction(draw):
    return {"correction": draw(st.sampled_from([0.0, 1, 0.5]), label="correction")}


def _grad_correction(draw):
    # below 1, so that no reduced axis (never empty here) makes the moment NaN
    return {"correction": draw(st.sampled_from([0.0, 0.5]), label="correction")}


# -- cumulative sums and products ----------------------------------------------------------------

@st.composite
def _cumulative_samples(draw, dtype, grad=False, values=grid):
    if grad:
        x = draw(arrays(float64, draw(grad_shapes(1, 3)), low=-2, high=2), label="x")
    else:
        x = draw(values(dtype, draw(shapes(1, 3, max_side=3 if values is powers else 4))),
                 label="x")
    axis = draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    if x.ndim == 1 and draw(st.booleans()):
        axis = None
    return Sample((x,), {"axis": axis, "include_initial": draw(st.booleans())})


def _cumulative_ref(fn, identity):
    def ref(x, *, axis=None, include_initial=False):
        ax = 0 if axis is None else axis
        out = fn(x, axis=ax, dtype=_sum_dtype(x))
        if include_initial:
            shape = list(out.shape)
            shape[ax] = 1
            out = np.concatenate([np.full(shape, identity, out.dtype), out], axis=ax)
        return out
    return ref


# -- all, any, diff ------------------------------------------------------------------------------

def _sparse(dtype, shape):
    """Values with many zeros (all and any, count_nonzero)."""
    if dtype.kind == "b":
        return arrays(dtype, shape)
    return arrays(dtype, shape, low=0 if dtype.kind == "u" else -1, high=1)


def _diff_values(dtype, shape, grad):
    if grad:
        return arrays(dtype, shape, low=-3, high=3)
    return arrays(dtype, shape, low=-10, high=10) if dtype.kind in "iu" else grid(dtype, shape)


@st.composite
def _diff_samples(draw, dtype, grad=False):
    kind = float64 if grad else dtype
    shape = draw(grad_shapes(1, 3) if grad else shapes(1, 3))
    # integers stay small: n differences of differences grow like 2**n
    x = draw(_diff_values(kind, shape, grad), label="x")
    axis = draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    kwargs = {"axis": axis, "n": draw(st.integers(0, 3), label="n")}
    for name in ("prepend", "append"):
        choice = draw(st.sampled_from(["none", "tensor", "scalar"]), label=name)
        if choice == "tensor":
            side = list(x.shape)
            side[axis] = draw(st.integers(1, 2))
            kwargs[name] = draw(_diff_values(kind, tuple(side), grad))
        elif choice == "scalar" and not grad:
            kwargs[name] = 1 if dtype.kind in "iu" else 0.5
    return Sample((x,), kwargs)


def _diff_ref(x, *, axis=-1, n=1, prepend=None, append=None):
    """Joined first, then differenced (with n = 0 too, where NumPy ignores the extras); a
    Python scalar takes x's dtype (weak, as in binary ops) and fills one slice."""
    parts = []
    for extra in (prepend, x, append):
        if extra is None:
            continue
        if not isinstance(extra, np.ndarray):
            shape = list(x.shape)
            shape[axis] = 1
            extra = np.full(shape, extra, dtype=x.dtype)
        parts.append(extra)
    return np.diff(np.concatenate(parts, axis=axis), n=n, axis=axis)


_F = np.float32


def _reduction(name, ref, dtypes, samples, grad_samples=None, errors=(), rtol=None):
    differentiable = ef.__dict__[name].op.differentiable
    return OpInfo(name=name, fn=getattr(ef, name), ref=ref, dtypes=dtypes, samples=samples,
                  differentiable=differentiable,
                  grad_samples=(grad_samples or partial(samples, grad=True))
                  if differentiable else None,
                  errors=errors, rtol=rtol or {})


_HALF_MOMENTS = scaled(4, ("float16", "bfloat16"))

INFOS = [
    _reduction("sum", _sum_ref, ALL, reduction_samples, errors=(
        ErrorCase((np.ones((2, 2), _F),), {"axis": 2}, "AxisError", r"^sum: axis 2 is out"),
        ErrorCase((np.ones((2, 2), _F),), {"axis": (0, 0)}, "AxisError", r"^sum: .*repeats"))),
    _reduction("prod", _prod_ref, ALL,
               partial(reduction_samples, values=powers, max_side=2),
               errors=(ErrorCase((np.ones((2, 2), _F),), {"axis": -3}, "AxisError",
                                 r"^prod: axis -3 is out"),)),
    _reduction("max", lambda x, **kw: np.max(x, **kw), kinds("biuf"),
               partial(reduction_samples, values=arrays, nonempty=True),
               partial(reduction_samples, grad=True, values=spread), errors=(
                   ErrorCase((np.ones((0, 3), _F),), {"axis": 0}, "ShapeError",
                             r"^max: .*over axis 0 of shape \(0, 3\)"),
                   ErrorCase((np.ones(2, np.complex128),), {}, "DTypeError",
                             r"^max: .*real.*complex128"))),
    _reduction("min", lambda x, **kw: np.min(x, **kw), kinds("biuf"),
               partial(reduction_samples, values=arrays, nonempty=True),
               partial(reduction_samples, grad=True, values=spread), errors=(
                   ErrorCase((np.ones((2, 0), _F),), {"axis": 1}, "ShapeError",
                             r"^min: .*axis 1 of shape \(2, 0\)"),
                   ErrorCase((np.ones((2, 2), _F),), {"axis": 2}, "AxisError",
                             r"^min: axis 2 is out of range"))),
    _reduction("mean", lambda x, **kw: np.mean(lift(x), **kw), ALL, reduction_samples, errors=(
        ErrorCase((np.ones((2, 2), _F),), {"axis": 2}, "AxisError", r"^mean: axis 2"),)),
    _reduction("var", _moment(np.var), kinds("biuf"),
               partial(reduction_samples, extra=_correction),
               partial(reduction_samples, grad=True, values=spread, extra=_grad_correction),
               rtol=_HALF_MOMENTS, errors=(
                   ErrorCase((np.ones(2, np.complex64),), {}, "DTypeError",
                             r"^var: .*real.*complex64"),
                   ErrorCase((np.ones(2, _F),), {"correction": -1}, "InvalidArgumentError",
                             r"^var: correction must be"))),
    _reduction("std", _moment(np.std), kinds("biuf"),
               partial(reduction_samples, extra=_correction),
               partial(reduction_samples, grad=True, values=spread, extra=_grad_correction),
               rtol=_HALF_MOMENTS, errors=(
                   ErrorCase((np.ones(2, np.complex64),), {}, "DTypeError",
                             r"^std: .*complex64"),
                   ErrorCase((np.ones(2, _F),), {"correction": "1"}, "InvalidArgumentError",
                             r"^std: correction"))),
    _reduction("cumulative_sum", _cumulative_ref(np.cumsum, 0), ALL, _cumulative_samples,
               errors=(ErrorCase((np.ones((2, 3), _F),), {}, "AxisError",
                                 r"^cumulative_sum: axis must be given .*\(2, 3\)"),
                       ErrorCase((np.ones((), _F),), {}, "ShapeError",
                                 r"^cumulative_sum: .*0-d"))),
    _reduction("cumulative_prod", _cumulative_ref(np.cumprod, 1), ALL,
               partial(_cumulative_samples, values=powers),
               errors=(ErrorCase((np.ones((), _F),), {}, "ShapeError",
                                 r"^cumulative_prod: .*0-d"),
                       ErrorCase((np.ones((2, 3), _F),), {"axis": 2}, "AxisError",
                                 r"^cumulative_prod: axis 2 is out of range"))),
    _reduction("all", lambda x, **kw: np.all(x, **kw), ALL,
               partial(reduction_samples, values=_sparse), errors=(
                   ErrorCase((np.ones((2, 2), _F),), {"axis": 2}, "AxisError",
                             r"^all: axis 2"),)),
    _reduction("any", lambda x, **kw: np.any(x, **kw), ALL,
               partial(reduction_samples, values=_sparse), errors=(
                   ErrorCase((np.ones((2, 2), _F),), {"axis": (1, 1)}, "AxisError",
                             r"^any: .*repeats"),)),
    _reduction("diff", _diff_ref, kinds("iufc"), _diff_samples, errors=(
        ErrorCase((np.ones((3, 2), _F),), {"axis": 0, "prepend": np.ones((3, 1), _F)},
                  "ShapeError", r"^diff: prepend of shape \(3, 1\) does not fit"),
        ErrorCase((np.ones((), _F),), {}, "ShapeError", r"^diff: .*0-d"),
        ErrorCase((np.ones(3, np.bool_),), {}, "DTypeError", r"^diff: .*not bool"))),
]

