"""The Array API ``fft`` extension: ``ef.fft.fft``, ``ef.fft.rfft``, ``ef.fft.fftfreq``, ...

Each op is named ``"fft.<name>"`` and takes the standard's arguments: ``n``/``axis`` (one axis)
or ``s``/``axes`` (several), and ``norm`` ("backward": the forward transform is unscaled and
the inverse scaled by 1/n; "ortho": both by 1/sqrt(n); "forward": the other way round). The
public functions resolve them (defaults, negative axes, ``-1`` in ``s``) before the kernel
runs, so a kernel always receives ``n``, ``axis`` (>= 0) and ``norm``, or ``s``, ``axes`` and
``norm``, all explicit.

Dtypes follow the standard: complex64 stays complex64 and complex128 stays complex128;
real transforms keep the precision (``rfft`` of float32 is complex64, ``irfft`` of complex64 is
float32). Where the standard says "should", other inputs are converted first, as PyTorch does:
a real input of ``fft``/``ifft``/``fftn``/``ifftn``/``irfft``/``hfft``/``irfftn`` becomes
complex of its precision (float64: complex128, others: complex64); integers and bool become
the default float (complex64 for the complex transforms); float16 and bfloat16 are computed
in float32 (there is no 32-bit complex dtype). A complex input of ``rfft``/``ihfft``/``rfftn``,
which the standard forbids, is a DTypeError.

The transforms are linear, so their gradients are transforms too: each pair of mutually
adjoint transforms is followed by the rules of both.
"""

from __future__ import annotations

import operator

import numpy as np

from .._dispatch import as_tensor_arg, call
from .._dtypes import as_dtype, complex64, complex128, default_float, float32, float64
from .._errors import AxisError, DTypeError, InvalidArgumentError, ShapeError
from .._registry import F, defjvp, defop, defvjp
from .._tensor import Tensor
from . import _rules as R
from ._define import public
from ._grad_util import linear

_NORMS = ("backward", "ortho", "forward")
# The adjoint of a transform with norm N is the conjugate transform with the dual scaling:
# fft(norm="backward") is the DFT matrix F, whose adjoint F^H is ifft(norm="forward").
_DUAL = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


# -- dtypes ------------------------------------------------------------------------------------

def _double(d) -> bool:
    return d is float64 or d is complex128


def _c2c_dtype(x, **params):
    return R.require(x, "c", "a complex")


def _r2c_dtype(x, **params):
    return complex128 if _double(R.require(x, "f", "a real floating-point")) else complex64


def _c2r_dtype(x, **params):
    return float64 if _double(R.require(x, "c", "a complex")) else float32


def _tensor(op, x) -> Tensor:
    return x if isinstance(x, Tensor) else as_tensor_arg(op, x, allow_scalar=False)


def _complex_input(op, x) -> Tensor:
    """x as the complex tensor a complex-input transform computes on."""
    x = _tensor(op, x)
    if x.dtype.kind == "c":
        return x
    return F.astype(x, complex128 if x.dtype is float64 else complex64)


def _real_input(op, x) -> Tensor:
    """x as the real floating tensor a real-input transform computes on."""
    x = _tensor(op, x)
    d = x.dtype
    if d.kind == "c":
        raise DTypeError(f"{op.name}: expects a real input, got {d}; the standard's real "
                         f"transforms take no complex values (use ef.fft.fft / fftn, or "
                         f"ef.real(x) first)")
    if d is float32 or d is float64:
        return x
    return F.astype(x, float32 if d.kind == "f" else default_float)


# -- arguments ---------------------------------------------------------------------------------

def _norm(op, norm):
    if norm not in _NORMS:
        raise InvalidArgumentError(f"{op.name}: norm must be 'backward', 'ortho' or 'forward', "
                                   f"got {norm!r}")
    return norm


def _size(op, what, value):
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{op.name}: {what} must be an int, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise InvalidArgumentError(f"{op.name}: {what} must be an int, got {value!r}") from None


def _points(op, what, n, shape, axis, default):
    """n as the kernel takes it: a positive int; ``default`` tells how the default was made."""
    if n < 1:
        why = (f" ({what} defaults to {default}, with M = {shape[axis]} the size of axis {axis} "
               f"of the input, shape {shape}); pass {what} >= 1" if default else "")
        raise InvalidArgumentError(f"{op.name}: {what} must be >= 1, got {n}{why}")
    return n


def _axis(op, x, axis):
    if x.ndim == 0:
        raise ShapeError(f"{op.name}: needs a tensor of at least one dimension, got shape ()")
    try:
        return R.normalize_axis(_size(op, "axis", axis), x.ndim)
    except AxisError as exc:
        raise AxisError(f"{op.name}: {exc}") from None


def _one_axis(op, x, n, axis, norm, half=False):
    """The kernel's params for a transform along one axis. ``half``: ``n`` counts the (real)
    output, whose default is ``2 * (M - 1)`` (irfft, hfft)."""
    ax = _axis(op, x, axis)
    m = x.shape[ax]
    if n is None:
        n = 2 * (m - 1) if half else m
        _points(op, "n", n, x.shape, ax, "2*(M-1)" if half else "M")
    else:
        n = _points(op, "n", _size(op, "n", n), x.shape, ax, None)
    return {"n": n, "axis": ax, "norm": _norm(op, norm)}


def _axes(op, x, axes):
    if axes is None:
        return tuple(range(x.ndim))
    axes = (axes,) if hasattr(axes, "__index__") else tuple(axes)
    try:
        return R.normalize_axes(tuple(_size(op, "an axis", a) for a in axes), x.ndim)
    except AxisError as exc:
        raise AxisError(f"{op.name}: {exc}") from None


def _many_axes(op, x, s, axes, norm, half=False):
    """The kernel's params for a transform along several axes (``half``: irfftn's ``s``)."""
    if s is not None and axes is None:
        raise InvalidArgumentError(f"{op.name}: s was given without axes; the standard asks "
                                   f"for both (axes=... names the axes s sizes)")
    axes = _axes(op, x, axes)
    if s is None:
        s = (-1,) * len(axes)
    s = tuple(_size(op, "s[i]", v) for v in s)
    if len(s) != len(axes):
        raise InvalidArgumentError(f"{op.name}: s has {len(s)} entries but axes has "
                                   f"{len(axes)}; give one size per axis")
    sizes = []
    for i, (ax, v) in enumerate(zip(axes, s)):
        last = half and i == len(axes) - 1
        if v == -1:
            v = 2 * (x.shape[ax] - 1) if last else x.shape[ax]
            _points(op, f"s[{i}]", v, x.shape, ax, "2*(M-1)" if last else "M")
        sizes.append(_points(op, f"s[{i}]", v, x.shape, ax, None))
    return {"s": tuple(sizes), "axes": axes, "norm": _norm(op, norm)}


# -- shape rules -------------------------------------------------------------------------------

def _replace(shape, axes, sizes):
    out = list(shape)
    for ax, v in zip(axes, sizes):
        out[R.normalize_axis(ax, len(shape))] = v
    return tuple(out)


def _shape_1d(x, *, n, axis, norm="backward"):
    return _replace(x, (axis,), (n,))


def _shape_r2c(x, *, n, axis, norm="backward"):
    return _replace(x, (axis,), (n // 2 + 1,))


def _shape_nd(x, *, s, axes, norm="backward"):
    if len(s) != len(axes):
        raise ShapeError(f"s {tuple(s)} and axes {tuple(axes)} differ in length")
    return _replace(x, axes, s)


def _shape_rfftn(x, *, s, axes, norm="backward"):
    return _replace(x, axes, tuple(s[:-1]) + (s[-1] // 2 + 1,))


def _op(name, dtype_rule, shape_rule):
    return defop(f"fft.{name}", family="fft", dtype_rule=dtype_rule, shape_rule=shape_rule)


fft_op = _op("fft", _c2c_dtype, _shape_1d)
ifft_op = _op("ifft", _c2c_dtype, _shape_1d)
fftn_op = _op("fftn", _c2c_dtype, _shape_nd)
ifftn_op = _op("ifftn", _c2c_dtype, _shape_nd)
rfft_op = _op("rfft", _r2c_dtype, _shape_r2c)
irfft_op = _op("irfft", _c2r_dtype, _shape_1d)
rfftn_op = _op("rfftn", _r2c_dtype, _shape_rfftn)
irfftn_op = _op("irfftn", _c2r_dtype, _shape_nd)
hfft_op = _op("hfft", _c2r_dtype, _shape_1d)
ihfft_op = _op("ihfft", _r2c_dtype, _shape_r2c)


# -- what the gradient rules share -------------------------------------------------------------
# Each transform is a linear map A (a DFT matrix, its first half, or its Hermitian extension,
# after the input was zero-padded or trimmed to the transform's size), so its gradient is
# A^H g, which is again a transform (with the dual norm) followed by the adjoint of the
# padding or trimming. Complex inputs follow the conjugate convention (PyTorch's,
# TensorFlow's); the rules are transforms, so they differentiate again. A transform's forward
# rule is the transform of the tangent (it is linear).

def _fit(t, axis, size):
    """``t`` cut or zero-padded along ``axis`` to ``size``: the adjoint of trimming or padding
    the input from ``size`` to t's length."""
    have = t.shape[axis]
    if have > size:
        return t[(slice(None),) * axis + (slice(0, size),)]
    if have < size:
        pad = F.zeros(t.shape[:axis] + (size - have,) + t.shape[axis + 1:], dtype=t.dtype,
                      device=t.device)
        return F.concat([t, pad], axis=axis)
    return t


def _fit_all(t, axes, shape):
    for ax in axes:
        t = _fit(t, ax, shape[ax])
    return t


def _hermitian(t, n, axis, factor=2.0):
    """``t`` (the n // 2 + 1 non-negative frequencies of an n-point real signal) with each
    frequency that stands for itself and its mirror image multiplied by ``factor``: 2 is the
    adjoint of extending a half spectrum to a Hermitian one (irfft, hfft)."""
    m = t.shape[axis]
    w = np.ones(m)
    w[1:n - m + 1] = factor
    w = w.reshape((m,) + (1,) * (t.ndim - axis - 1))
    return t * F.asarray(w, dtype=R.real_dtype(t.dtype), device=t.device)


def _c2c_vjp(adjoint):
    def rule(g, ans, x, *, n, axis, norm):
        return _fit(adjoint(g, axis=axis, norm=_DUAL[norm]), axis, x.shape[axis])
    return rule


def _r2c_vjp(adjoint):
    # rfft keeps the first m = n // 2 + 1 outputs of a complex transform of a real input, so
    # its adjoint is Re(ifft(g zero-padded to n points)). That is a complex-to-real transform
    # of g whose doubled frequencies are halved: Re(sum_k<m g_k e^(i theta k)) = irfft(h) with
    # h = g, h_k = g_k / 2 for the k that irfft mirrors (half the work of the complex ifft,
    # and no padded copy). ihfft(x) = conj(rfft(x)) with the dual norm: its adjoint is hfft's.
    def rule(g, ans, x, *, n, axis, norm):
        full = adjoint(_hermitian(g, n, axis, 0.5), n=n, axis=axis, norm=_DUAL[norm])
        return _fit(full, axis, x.shape[axis])
    return rule


def _c2r_vjp(adjoint):
    # irfft(x) = ifft of x's Hermitian extension (the imaginary parts of the zero and Nyquist
    # frequencies are ignored); hfft(x) = irfft(conj(x)) with the dual norm.
    def rule(g, ans, x, *, n, axis, norm):
        half = _hermitian(adjoint(g, axis=axis, norm=_DUAL[norm]), n, axis)
        return _fit(half, axis, x.shape[axis])
    return rule


def _c2cn_vjp(adjoint):
    def rule(g, ans, x, *, s, axes, norm):
        return _fit_all(adjoint(g, axes=axes, norm=_DUAL[norm]), axes, x.shape)
    return rule


def _rfftn_vjp(g, ans, x, *, s, axes, norm):
    # as rfft's, with the c2c transforms over the other axes commuting with the weights
    full = irfftn(_hermitian(g, s[-1], axes[-1], 0.5), s=s, axes=axes, norm=_DUAL[norm])
    return _fit_all(full, axes, x.shape)


def _irfftn_vjp(g, ans, x, *, s, axes, norm):
    half = _hermitian(rfftn(g, axes=axes, norm=_DUAL[norm]), s[-1], axes[-1])
    return _fit_all(half, axes, x.shape)


# -- complex to complex ------------------------------------------------------------------------

@public(fft_op)
def fft(x, /, *, n=None, axis=-1, norm="backward") -> Tensor:
    """One-dimensional discrete Fourier transform along ``axis``, zero-padded or trimmed to
    ``n`` points. Complex result of x's precision.

    >>> import eagerflow_core as ef
    >>> ef.fft.fft(ef.constant([1.0, 2.0, 3.0, 4.0]))
    ef.Tensor([10.+0.j, -2.+2.j, -2.+0.j, -2.-2.j], shape=(4,), dtype=complex64, device='cpu:0')
    """
    x = _complex_input(fft_op, x)
    return call(fft_op, (x,), _one_axis(fft_op, x, n, axis, norm))


@public(ifft_op)
def ifft(x, /, *, n=None, axis=-1, norm="backward") -> Tensor:
    """One-dimensional inverse discrete Fourier transform: ``ifft(fft(x)) == x``.

    >>> import eagerflow_core as ef
    >>> ef.fft.ifft(ef.constant([4.0, 0.0, 0.0, 0.0]))
    ef.Tensor([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j], shape=(4,), dtype=complex64, device='cpu:0')
    """
    x = _complex_input(ifft_op, x)
    return call(ifft_op, (x,), _one_axis(ifft_op, x, n, axis, norm))


defvjp(fft, _c2c_vjp(ifft))
defjvp(fft, linear(fft_op))
defvjp(ifft, _c2c_vjp(fft))
defjvp(ifft, linear(ifft_op))


def _transform_nd(op, x, s, axes, norm, half=False):
    params = _many_axes(op, x, s, axes, norm, half)
    if not params["axes"]:  # nothing to transform: the input, in the result's dtype
        return F.astype(x, op.dtype_rule(x.dtype))
    return call(op, (x,), params)


@public(fftn_op)
def fftn(x, /, *, s=None, axes=None, norm="backward") -> Tensor:
    """N-dimensional discrete Fourier transform over ``axes`` (default: all), each zero-padded
    or trimmed to the size ``s`` gives it (-1: keep it; ``s`` needs ``axes``).

    >>> import eagerflow_core as ef
    >>> ef.fft.fftn(ef.ones((2, 2)))
    ef.Tensor([[4.+0.j, 0.+0.j],
               [0.+0.j, 0.+0.j]], shape=(2, 2), dtype=complex64, device='cpu:0')
    """
    return _transform_nd(fftn_op, _complex_input(fftn_op, x), s, axes, norm)


@public(ifftn_op)
def ifftn(x, /, *, s=None, axes=None, norm="backward") -> Tensor:
    """N-dimensional inverse discrete Fourier transform: ``ifftn(fftn(x)) == x``.

    >>> import eagerflow_core as ef
    >>> ef.fft.ifftn(ef.constant([[4.0, 0.0], [0.0, 0.0]]))
    ef.Tensor([[1.+0.j, 1.+0.j],
               [1.+0.j, 1.+0.j]], shape=(2, 2), dtype=complex64, device='cpu:0')
    """
    return _transform_nd(ifftn_op, _complex_input(ifftn_op, x), s, axes, norm)


defvjp(fftn, _c2cn_vjp(ifftn))
defjvp(fftn, linear(fftn_op))
defvjp(ifftn, _c2cn_vjp(fftn))
defjvp(ifftn, linear(ifftn_op))


# -- real input, Hermitian output ----------------------------------------------------------------

@public(rfft_op)
def rfft(x, /, *, n=None, axis=-1, norm="backward") -> Tensor:
    """Discrete Fourier transform of a real signal: the ``n // 2 + 1`` non-negative
    frequencies (the others are their complex conjugates). float32 gives complex64.

    >>> import eagerflow_core as ef
    >>> ef.fft.rfft(ef.constant([1.0, 2.0, 3.0, 4.0]))
    ef.Tensor([10.+0.j, -2.+2.j, -2.+0.j], shape=(3,), dtype=complex64, device='cpu:0')
    """
    x = _real_input(rfft_op, x)
    return call(rfft_op, (x,), _one_axis(rfft_op, x, n, axis, norm))


@public(irfft_op)
def irfft(x, /, *, n=None, axis=-1, norm="backward") -> Tensor:
    """The inverse of :func:`rfft`: ``n`` real points (default ``2 * (M - 1)``; pass an odd
    ``n`` for an odd length) from the non-negative frequencies. complex64 gives float32.

    >>> import eagerflow_core as ef
    >>> ef.fft.irfft(ef.fft.rfft(ef.constant([1.0, 2.0, 3.0])), n=3)
    ef.Tensor([1., 2., 3.], shape=(3,), dtype=float32, device='cpu:0')
    """
    x = _complex_input(irfft_op, x)
    return call(irfft_op, (x,), _one_axis(irfft_op, x, n, axis, norm, half=True))


defvjp(rfft, _r2c_vjp(irfft))
defjvp(rfft, linear(rfft_op))
defvjp(irfft, _c2r_vjp(rfft))
defjvp(irfft, linear(irfft_op))


@public(rfftn_op)
def rfftn(x, /, *, s=None, axes=None, norm="backward") -> Tensor:
    """N-dimensional discrete Fourier transform of a real signal: the last of ``axes`` keeps
    its ``s[-1] // 2 + 1`` non-negative frequencies.

    >>> import eagerflow_core as ef
    >>> ef.fft.rfftn(ef.ones((2, 4))).shape
    (2, 3)
    """
    x = _real_input(rfftn_op, x)
    params = _many_axes(rfftn_op, x, s, axes, norm)
    if not params["axes"]:
        raise InvalidArgumentError("fft.rfftn: needs at least one axis to transform")
    return call(rfftn_op, (x,), params)


@public(irfftn_op)
def irfftn(x, /, *, s=None, axes=None, norm="backward") -> Tensor:
    """The inverse of :func:`rfftn`; the last axis gives ``s[-1]`` real points (default
    ``2 * (M - 1)``).

    >>> import eagerflow_core as ef
    >>> x = ef.reshape(ef.arange(6.0), (2, 3))
    >>> ef.fft.irfftn(ef.fft.rfftn(x), s=(2, 3), axes=(0, 1))
    ef.Tensor([[0., 1., 2.],
               [3., 4., 5.]], shape=(2, 3), dtype=float32, device='cpu:0')
    """
    x = _complex_input(irfftn_op, x)
    params = _many_axes(irfftn_op, x, s, axes, norm, half=True)
    if not params["axes"]:
        raise InvalidArgumentError("fft.irfftn: needs at least one axis to transform")
    return call(irfftn_op, (x,), params)


defvjp(rfftn, _rfftn_vjp)
defjvp(rfftn, linear(rfftn_op))
defvjp(irfftn, _irfftn_vjp)
defjvp(irfftn, linear(irfftn_op))


@public(hfft_op)
def hfft(x, /, *, n=None, axis=-1, norm="backward") -> Tensor:
    """Discrete Fourier transform of a Hermitian signal given by its first half: ``n`` real
    points (default ``2 * (M - 1)``).

    >>> import eagerflow_core as ef
    >>> ef.fft.hfft(ef.constant([1.0, 0.0, 0.0]))
    ef.Tensor([1., 1., 1., 1.], shape=(4,), dtype=float32, device='cpu:0')
    """
    x = _complex_input(hfft_op, x)
    return call(hfft_op, (x,), _one_axis(hfft_op, x, n, axis, norm, half=True))


@public(ihfft_op)
def ihfft(x, /, *, n=None, axis=-1, norm="backward") -> Tensor:
    """The inverse of :func:`hfft`: the ``n // 2 + 1`` non-negative frequencies of a real
    signal's inverse transform.

    >>> import eagerflow_core as ef
    >>> ef.fft.ihfft(ef.constant([1.0, 2.0, 3.0, 4.0]))
    ef.Tensor([ 2.5+0.j , -0.5-0.5j, -0.5+0.j ], shape=(3,), dtype=complex64, device='cpu:0')
    """
    x = _real_input(ihfft_op, x)
    return call(ihfft_op, (x,), _one_axis(ihfft_op, x, n, axis, norm))


defvjp(hfft, _c2r_vjp(ihfft))     # conj(rfft(g)) = ihfft(g) with the dual norm
defjvp(hfft, linear(hfft_op))
defvjp(ihfft, _r2c_vjp(hfft))
defjvp(ihfft, linear(ihfft_op))


# -- frequencies and shifts -------------------------------------------------------------------

def _freq_dtype(*dtypes, n, d=1.0, dtype=None):
    return dtype


def _freq_shape(*shapes, n, **params):
    return (n,)


def _rfreq_shape(*shapes, n, **params):
    return (n // 2 + 1,)


fftfreq_op = defop("fft.fftfreq", family="fft", nin=0, dtype_rule=_freq_dtype,
                   shape_rule=_freq_shape, differentiable=False, posparams=("n",))
rfftfreq_op = defop("fft.rfftfreq", family="fft", nin=0, dtype_rule=_freq_dtype,
                    shape_rule=_rfreq_shape, differentiable=False, posparams=("n",))


def _frequencies(op, n, d, dtype, device):
    n = _size(op, "n", n)
    if n < 1:
        raise InvalidArgumentError(f"{op.name}: n (the window length) must be >= 1, got {n}")
    if isinstance(d, bool) or not isinstance(d, (int, float, np.integer, np.floating)) or \
            not np.isfinite(d) or d == 0:
        raise InvalidArgumentError(f"{op.name}: d (the sample spacing) must be a finite, "
                                   f"non-zero real number, got {d!r}")
    dt = default_float if dtype is None else as_dtype(dtype)
    if dt.kind != "f":
        raise DTypeError(f"{op.name}: dtype must be a real floating-point dtype, got {dt}")
    from .._devices import device as get_device
    return call(op, (), {"n": n, "d": float(d), "dtype": dt},
                device=None if device is None else get_device(device))


@public(fftfreq_op)
def fftfreq(n, /, *, d=1.0, dtype=None, device=None) -> Tensor:
    """Sample frequencies of an ``n``-point transform with sample spacing ``d``:
    ``[0, 1, ..., -2, -1] / (d * n)``, in ``dtype`` (default: the default float).

    >>> import eagerflow_core as ef
    >>> ef.fft.fftfreq(4)
    ef.Tensor([ 0.  ,  0.25, -0.5 , -0.25], shape=(4,), dtype=float32, device='cpu:0')
    """
    return _frequencies(fftfreq_op, n, d, dtype, device)


@public(rfftfreq_op)
def rfftfreq(n, /, *, d=1.0, dtype=None, device=None) -> Tensor:
    """The ``n // 2 + 1`` non-negative sample frequencies of :func:`rfft` (the Nyquist
    frequency counts as positive).

    >>> import eagerflow_core as ef
    >>> ef.fft.rfftfreq(4, d=0.5)
    ef.Tensor([0. , 0.5, 1. ], shape=(3,), dtype=float32, device='cpu:0')
    """
    return _frequencies(rfftfreq_op, n, d, dtype, device)


def _shift_shape(x, *, axes):
    for ax in axes:
        R.normalize_axis(ax, len(x))
    return tuple(x)


fftshift_op = defop("fft.fftshift", family="fft", dtype_rule=R.same_dtype,
                    shape_rule=_shift_shape)
ifftshift_op = defop("fft.ifftshift", family="fft", dtype_rule=R.same_dtype,
                     shape_rule=_shift_shape)


@public(fftshift_op)
def fftshift(x, /, *, axes=None) -> Tensor:
    """``x`` with the zero frequency moved to the centre of ``axes`` (default: all): each
    axis rolled by half its size.

    >>> import eagerflow_core as ef
    >>> ef.fft.fftshift(ef.fft.fftfreq(5))
    ef.Tensor([-0.4, -0.2,  0. ,  0.2,  0.4], shape=(5,), dtype=float32, device='cpu:0')
    """
    x = _tensor(fftshift_op, x)
    return call(fftshift_op, (x,), {"axes": _axes(fftshift_op, x, axes)})


@public(ifftshift_op)
def ifftshift(x, /, *, axes=None) -> Tensor:
    """The inverse of :func:`fftshift` (they differ by one sample for an odd length).

    >>> import eagerflow_core as ef
    >>> ef.fft.ifftshift(ef.constant([-2, -1, 0, 1, 2]))
    ef.Tensor([ 0,  1,  2, -2, -1], shape=(5,), dtype=int64, device='cpu:0')
    """
    x = _tensor(ifftshift_op, x)
    return call(ifftshift_op, (x,), {"axes": _axes(ifftshift_op, x, axes)})


defvjp(fftshift, lambda g, ans, x, *, axes: ifftshift(g, axes=axes))
defjvp(fftshift, linear(fftshift_op))
defvjp(ifftshift, lambda g, ans, x, *, axes: fftshift(g, axes=axes))
defjvp(ifftshift, linear(ifftshift_op))


__all__ = ["fft", "fftfreq", "fftn", "fftshift", "hfft", "ifft", "ifftn", "ifftshift", "ihfft",
           "irfft", "irfftn", "rfft", "rfftfreq", "rfftn"]
