"""The fft extension: every transform against ``numpy.fft`` in float64 (complex128), the
frequencies and the shifts.

Samples draw the transform's size (``n``, or ``s`` with ``axes``), the axis or axes (negative
ones too) and the norm, so zero-padding, trimming and every scaling are checked. Values stay
small (|x| <= 4) and transforms short (at most 8 points per axis): a transform's error grows
with the sum of its inputs' magnitudes, and the absolute tolerances below are sized for that.
Gradient samples of the complex-input transforms are complex128, of the real-input ones
float64, so the gradient check differentiates each in its own domain.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from hypothesis import strategies as st

import eagerflow_core as ef

from ..._dtypes import complex128, float64
from .. import strategies as st_ef
from ._base import ALL, ErrorCase, OpInfo, Sample, arrays, kinds, lift

F = ef.fft
NORMS = ("backward", "ortho", "forward")
REAL = kinds("biuf")
# An absolute error of a few eps times the sum of |x| (<= 4 * 64 here) per element.
FFT_TOL = {"float32": (1e-5, 2e-4), "complex64": (1e-5, 2e-4),
           "float64": (1e-12, 1e-11), "complex128": (1e-12, 1e-11)}
EXACT = {}  # shifts move values, frequencies are one rounding of a float64 value


def _values(dtype, shape, grad, kind):
    if grad:
        dtype = complex128 if kind == "c" else float64
    return arrays(dtype, shape, low=-4, high=4)


def _size(draw, grad, label):
    return draw(st.none() | st.integers(1, 4 if grad else 8), label=label)


@st.composite
def _one_axis_samples(draw, dtype, grad=False, kind="c", half=False):
    """x, and n / axis / norm. ``half``: n counts the output (irfft, hfft), whose default
    2 * (M - 1) needs M >= 2."""
    shape = list(draw(st_ef.shapes(1, 2 if grad else 3, int(grad), 3 if grad else 4),
                      label="shape"))
    axis = draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    n = _size(draw, grad, "n")
    shape[axis] = draw(st.integers(2 if half and n is None else 1, 4 if grad else 6))
    kwargs = {"axis": axis, "norm": draw(st.sampled_from(NORMS), label="norm")}
    if n is not None:
        kwargs["n"] = n
    return Sample((draw(_values(dtype, tuple(shape), grad, kind), label="x"),), kwargs)


@st.composite
def _many_axes_samples(draw, dtype, grad=False, kind="c", half=False):
    """x, and s / axes / norm (``s`` with -1 entries now and then; axes in any order)."""
    ndim = draw(st.integers(1, 2 if grad else 3), label="ndim")
    shape = draw(st_ef.shapes(ndim, ndim, 1, 3 if grad else 4), label="shape")
    perm = draw(st.permutations(range(ndim)), label="order")
    axes = tuple(perm[:draw(st.integers(1, ndim), label="count")])
    if half and shape[axes[-1]] < 2:
        shape = tuple(2 if i == axes[-1] else d for i, d in enumerate(shape))
    kwargs = {"norm": draw(st.sampled_from(NORMS), label="norm")}
    if draw(st.booleans(), label="given axes"):
        kwargs["axes"] = tuple(a - ndim if draw(st.booleans()) else a for a in axes)
        if draw(st.booleans(), label="given s"):
            kwargs["s"] = tuple(draw(st.sampled_from([-1, 1, 2, 3, 5]) if not grad else
                                     st.sampled_from([-1, 1, 2, 4]), label="s[i]") for _ in axes)
    elif kind == "r" or half:
        kwargs["axes"] = axes  # the real transforms need an axis; default: all of them
    return Sample((draw(_values(dtype, shape, grad, kind), label="x"),), kwargs)


def _ref_1d(name):
    fn = getattr(np.fft, name)

    def ref(x, n=None, axis=-1, norm="backward"):
        return fn(lift(x), n=n, axis=axis, norm=norm)
    return ref


def _ref_nd(name, half=False):
    """numpy.fft's n-dimensional transform with ``s`` resolved as the standard says: -1 (or
    no ``s``) is the input's size, except on irfftn's last axis, where it is 2 * (M - 1) (all
    of the input is used; NumPy would take M there)."""
    fn = getattr(np.fft, name)

    def ref(x, s=None, axes=None, norm="backward"):
        x = lift(x)
        axes = tuple(range(x.ndim)) if axes is None else tuple(a % x.ndim for a in axes)
        s = [-1] * len(axes) if s is None else list(s)
        for i, (a, v) in enumerate(zip(axes, s)):
            if v == -1:
                s[i] = 2 * (x.shape[a] - 1) if half and i == len(axes) - 1 else x.shape[a]
        return fn(x, s=s, axes=axes, norm=norm)
    return ref


def _freq_samples(dtype, grad=False):
    return st.builds(lambda n, d: Sample((n,), {"d": d, "dtype": dtype}),
                     st.integers(1, 9), st.sampled_from([1.0, 0.5, 2, 0.1]))


def _freq_ref(name):
    fn = getattr(np.fft, name)
    return lambda n, d=1.0, dtype=None: fn(n, d)


@st.composite
def _shift_samples(draw, dtype, grad=False):
    shape = draw(st_ef.shapes(0, 3, int(grad), 3 if grad else 5), label="shape")
    x = draw(arrays(float64 if grad else dtype, shape), label="x")
    axes = None
    if shape and draw(st.booleans(), label="given axes"):
        perm = draw(st.permutations(range(len(shape))))
        axes = tuple(perm[:draw(st.integers(0, len(shape)))])
        axes = axes[0] if len(axes) == 1 and draw(st.booleans()) else axes
    return Sample((x,), {"axes": axes})


def _shift_ref(name):
    fn = getattr(np.fft, name)  # it fails on 0-d arrays, where there is nothing to shift
    return lambda x, axes=None: fn(x, axes=axes) if x.ndim and axes != () else x.copy()


def _v(*shape, dtype=np.complex64):
    return np.ones(shape, dtype)


def _transform_errors(name, real_input=False, many=False):
    """Bad calls every transform refuses the same way."""
    x = _v(2, 3, dtype=np.float32 if real_input else np.complex64)
    out = [ErrorCase((x,), {"norm": "unit"}, "InvalidArgumentError", rf"^fft\.{name}: norm")]
    if not many:  # a 0-d tensor has no axis to transform (fftn of one is the identity)
        out.append(ErrorCase((_v(dtype=x.dtype),), {}, "ShapeError", rf"^fft\.{name}: "))
    elif real_input or name == "irfftn":
        out.append(ErrorCase((_v(dtype=x.dtype),), {}, "InvalidArgumentError",
                             rf"^fft\.{name}: needs at least one axis"))
    if many:
        out += [ErrorCase((x,), {"s": (2,)}, "InvalidArgumentError",
                          rf"^fft\.{name}: s was given without axes"),
                ErrorCase((x,), {"s": (2, 2), "axes": (0,)}, "InvalidArgumentError",
                          rf"^fft\.{name}: s has 2 entries but axes has 1"),
                ErrorCase((x,), {"axes": (0, -2)}, "AxisError", rf"^fft\.{name}: .*repeats"),
                ErrorCase((x,), {"axes": (2,)}, "AxisError", rf"^fft\.{name}: axis 2"),
                ErrorCase((x,), {"s": (0,), "axes": (1,)}, "InvalidArgumentError",
                          rf"^fft\.{name}: s\[0\] must be >= 1")]
    else:
        out += [ErrorCase((x,), {"axis": 2}, "AxisError", rf"^fft\.{name}: axis 2"),
                ErrorCase((x,), {"n": 0}, "InvalidArgumentError", rf"^fft\.{name}: n must be"),
                ErrorCase((x,), {"n": 2.5}, "InvalidArgumentError",
                          rf"^fft\.{name}: n must be an int")]
    if real_input:
        out.append(ErrorCase((_v(2, 3),), {}, "DTypeError", rf"^fft\.{name}: expects a real"))
    return tuple(out)


def _transform(name, fn, ref, dtypes, samples, kind, half=False, many=False, errors=()):
    return OpInfo(name=f"fft.{name}", fn=fn, ref=ref, dtypes=dtypes,
                  samples=partial(samples, kind=kind, half=half), differentiable=True,
                  grad_samples=partial(samples, grad=True, kind=kind, half=half),
                  errors=_transform_errors(name, kind == "r", many) + errors, rtol=FFT_TOL)


_EMPTY_HALF = ErrorCase((_v(2, 1),), {}, "InvalidArgumentError", r"defaults to 2\*\(M-1\)")

INFOS = [
    _transform("fft", F.fft, _ref_1d("fft"), ALL, _one_axis_samples, "c"),
    _transform("ifft", F.ifft, _ref_1d("ifft"), ALL, _one_axis_samples, "c"),
    _transform("rfft", F.rfft, _ref_1d("rfft"), REAL, _one_axis_samples, "r"),
    _transform("irfft", F.irfft, _ref_1d("irfft"), ALL, _one_axis_samples, "c", half=True,
               errors=(_EMPTY_HALF,)),
    _transform("hfft", F.hfft, _ref_1d("hfft"), ALL, _one_axis_samples, "c", half=True,
               errors=(_EMPTY_HALF,)),
    _transform("ihfft", F.ihfft, _ref_1d("ihfft"), REAL, _one_axis_samples, "r"),
    _transform("fftn", F.fftn, _ref_nd("fftn"), ALL, _many_axes_samples, "c", many=True),
    _transform("ifftn", F.ifftn, _ref_nd("ifftn"), ALL, _many_axes_samples, "c", many=True),
    _transform("rfftn", F.rfftn, _ref_nd("rfftn"), REAL, _many_axes_samples, "r", many=True),
    _transform("irfftn", F.irfftn, _ref_nd("irfftn", half=True), ALL, _many_axes_samples, "c",
               half=True, many=True, errors=(_EMPTY_HALF,)),
    OpInfo(name="fft.fftfreq", fn=F.fftfreq, ref=_freq_ref("fftfreq"), dtypes=kinds("f"),
           samples=_freq_samples, rtol=EXACT, errors=(
               ErrorCase((0,), {}, "InvalidArgumentError", r"^fft\.fftfreq: n .* >= 1"),
               ErrorCase((4,), {"d": 0.0}, "InvalidArgumentError", r"^fft\.fftfreq: d "),
               ErrorCase((4,), {"dtype": ef.int32}, "DTypeError", r"^fft\.fftfreq: dtype"))),
    OpInfo(name="fft.rfftfreq", fn=F.rfftfreq, ref=_freq_ref("rfftfreq"), dtypes=kinds("f"),
           samples=_freq_samples, rtol=EXACT, errors=(
               ErrorCase((4,), {"dtype": ef.complex64}, "DTypeError",
                         r"^fft\.rfftfreq: dtype"),)),
    OpInfo(name="fft.fftshift", fn=F.fftshift,
           ref=_shift_ref("fftshift"), dtypes=ALL,
           samples=_shift_samples, differentiable=True,
           grad_samples=partial(_shift_samples, grad=True), rtol=EXACT, errors=(
               ErrorCase((_v(2, 3),), {"axes": 2}, "AxisError", r"^fft\.fftshift: axis 2"),)),
    OpInfo(name="fft.ifftshift", fn=F.ifftshift,
           ref=_shift_ref("ifftshift"), dtypes=ALL,
           samples=_shift_samples, differentiable=True,
           grad_samples=partial(_shift_samples, grad=True), rtol=EXACT, errors=(
               ErrorCase((_v(2, 3),), {"axes": (0, 0)}, "AxisError",
                         r"^fft\.ifftshift: .*repeats"),)),
]
