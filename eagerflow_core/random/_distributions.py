"""The distributions, in eagerflow ops over the two stateless kernels (``_kernels.py``).

Each function takes the generator first and draws through ``gen._take()``, which hands out a
fresh counter per kernel call. Everything here is an ordinary eagerflow op, so it runs on the
device of the draw; nothing reads values back to the host.
"""

from __future__ import annotations

import math

from .._dtypes import DType, as_dtype, bool_, float32, float64, iinfo, int64, uint64
from .._errors import (ArgumentTypeError, DTypeError, InvalidArgumentError, ShapeError)
from .._tensor import Tensor
from ..ops._rules import broadcast_shapes, normalize_axes
from ..ops.creation import asarray, astype
from ..ops.elementwise import (abs as ef_abs, bitwise_left_shift, bitwise_or, floor, log,
                               maximum, minimum, nextafter, remainder, sqrt)
from ..ops.indexing import take
from ..ops.manipulation import expand_dims
from ..ops.searching import argmax, where
from ..ops.sorting import argsort
from . import _kernels as K


def _tensor(x, who: str, what: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if hasattr(x, "_ef_tensor_"):  # a Variable
        return x._ef_tensor_()
    raise ArgumentTypeError(f"{who}: {what} must be a Tensor, got {type(x).__name__}; wrap it "
                            f"with ef.asarray(...)")


def _param(value, dtype: DType, shape, who: str, what: str):
    """A distribution parameter: a Python number stays a (weak) scalar; a tensor is cast to
    ``dtype`` and must broadcast to ``shape``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0 and not isinstance(value, Tensor) \
            and not hasattr(value, "_ef_tensor_"):
        return value.item()  # a NumPy scalar
    t = _tensor(value, who, what)
    if t.dtype.kind not in "iuf":
        raise DTypeError(f"{who}: {what} must be a real number, not {t.dtype}")
    try:
        ok = broadcast_shapes(t.shape, shape) == tuple(shape)
    except ShapeError:
        ok = False
    if not ok:
        raise ShapeError(f"{who}: {what} of shape {t.shape} does not broadcast to the shape "
                         f"{tuple(shape)} asked for")
    return t if t.dtype is dtype else astype(t, dtype)


def _affine(z: Tensor, loc, scale) -> Tensor:
    """``loc + scale * z``, skipping what is the identity."""
    if not (isinstance(scale, (int, float)) and scale == 1):
        z = z * scale
    if not (isinstance(loc, (int, float)) and loc == 0):
        z = z + loc
    return z


def _wide_float(dev) -> DType:
    """float64 where the device has it (integer draws and permutation keys want 53 bits)."""
    return float64 if float64 in dev.native else float32


# -- uniform and normal ---------------------------------------------------------------------------

def uniform(gen, shape, minval=0, maxval=None, dtype=float32, device=None) -> Tensor:
    dt, dev = as_dtype(dtype), K.resolve_device(device)
    shape = K.shape_of(shape, "uniform")
    if dt.kind in "iu":
        return _uniform_int(gen, shape, minval, maxval, dt, dev)
    dt = K.float_dtype(dt, "uniform")
    lo = _param(minval, dt, shape, "uniform", "minval")
    hi = _param(1.0 if maxval is None else maxval, dt, shape, "uniform", "maxval")
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo > hi:
        raise InvalidArgumentError(f"uniform: minval {lo} is greater than maxval {hi}")
    u = K.draw(K.uniform_op, *gen._take(), shape, dt, dev)
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and (lo, hi) == (0, 1):
        return u
    out = u * (hi - lo) + lo
    # Rounding can land a value on maxval itself; TensorFlow's interval is [minval, maxval).
    top = asarray(hi, dtype=dt, device=dev) if not isinstance(hi, Tensor) else hi
    return minimum(out, nextafter(top, asarray(-math.inf, dtype=dt, device=dev)))


def _uniform_int(gen, shape, minval, maxval, dt: DType, dev) -> Tensor:
    """Integers in [minval, maxval), each with probability 1 / (maxval - minval)."""
    if maxval is None:
        raise InvalidArgumentError(f"uniform: an integer dtype ({dt}) needs maxval (TensorFlow's "
                                   f"rule): the values are in [minval, maxval)")
    try:
        lo, hi = int(minval.__index__()), int(maxval.__index__())
    except (AttributeError, TypeError):
        raise ArgumentTypeError(f"uniform: integer draws take Python int bounds, got minval="
                                f"{minval!r}, maxval={maxval!r}") from None
    info = iinfo(dt)
    if not (info.min <= lo < hi <= info.max + 1):
        raise InvalidArgumentError(f"uniform: need {info.min} <= minval < maxval <= "
                                   f"{info.max + 1} for {dt}, got minval={lo}, maxval={hi}")
    span, wide = hi - lo, _wide_float(dev)
    if wide is float32 and span > 2 ** 24:
        raise InvalidArgumentError(f"uniform: backend {dev.backend.name!r} has no float64, so "
                                   f"integer ranges wider than 2**24 are not available")
    if span <= 2 ** 32:
        # floor(u * span) with 53-bit u: bias below span / 2**53; rounding may give span itself.
        u = K.draw(K.uniform_op, *gen._take(), shape, wide, dev)
        k = minimum(astype(floor(u * span), int64), span - 1)
        return astype(k + lo, dt) if dt is not uint64 else astype(k, uint64) + lo
    # Wider ranges (int64, uint64): 64 random bits from two 32-bit halves, reduced modulo span
    # (TensorFlow's method: the bias is at most span / 2**64), offset in wrapping uint64.
    halves = [astype(floor(K.draw(K.uniform_op, *gen._take(), shape, float64, dev) * 2 ** 32),
                     uint64) for _ in range(2)]
    bits = bitwise_or(bitwise_left_shift(halves[0], 32), halves[1])
    k = bits if span == 2 ** 64 else remainder(bits, span)
    return astype(k + (lo % 2 ** 64), dt)


def normal(gen, shape, mean=0.0, stddev=1.0, dtype=float32, device=None) -> Tensor:
    dt, dev = K.float_dtype(dtype, "normal"), K.resolve_device(device)
    shape = K.shape_of(shape, "normal")
    loc = _param(mean, dt, shape, "normal", "mean")
    scale = _param(stddev, dt, shape, "normal", "stddev")
    return _affine(K.draw(K.normal_op, *gen._take(), shape, dt, dev), loc, scale)


# -- truncated normal ------------------------------------------------------------------------------
# Acklam's rational approximation of the normal quantile (relative error below 1.2e-9): the
# truncated normal is the quantile of a uniform draw in [Phi(-2), Phi(2)), exact in
# distribution, branch-free, one kernel call (no rejection loop reading counts back).
_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
      6.680131188771972e+01, -1.328068155288572e+01, 1.0)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
      3.754408661907416e+00, 1.0)
_TAIL = 0.02425
_PHI_LO = 0.5 * math.erfc(2 / math.sqrt(2))   # Phi(-2)
_PHI_HI = 1.0 - _PHI_LO


def _poly(coefs, t):
    out = coefs[0]
    for c in coefs[1:]:
        out = out * t + c
    return out


def _ndtri(p: Tensor) -> Tensor:
    """The standard normal quantile of ``p`` in (0, 1)."""
    q = p - 0.5
    r = q * q
    central = _poly(_A, r) * q / _poly(_B, r)
    tail_p = 0.5 - ef_abs(q)                      # the smaller of p and 1 - p
    t = sqrt(-2.0 * log(tail_p))
    tail = _poly(_C, t) / _poly(_D, t)            # the lower tail's quantile (negative)
    tail = where(q < 0, tail, -tail)
    return where(tail_p < _TAIL, tail, central)


def truncated_normal(gen, shape, mean=0.0, stddev=1.0, dtype=float32, device=None) -> Tensor:
    dt, dev = K.float_dtype(dtype, "truncated_normal"), K.resolve_device(device)
    shape = K.shape_of(shape, "truncated_normal")
    work = float64 if dt is float64 else float32  # 16-bit floats: computed in float32
    loc = _param(mean, work, shape, "truncated_normal", "mean")
    scale = _param(stddev, work, shape, "truncated_normal", "stddev")
    u = K.draw(K.uniform_op, *gen._take(), shape, work, dev)
    z = _ndtri(_PHI_LO + u * (_PHI_HI - _PHI_LO))
    z = minimum(maximum(z, -2.0), 2.0)            # rounding at the ends
    out = _affine(z, loc, scale)
    return out if dt is work else astype(out, dt)


# -- discrete --------------------------------------------------------------------------------------

def categorical(gen, logits, num_samples, dtype=int64) -> Tensor:
    """Gumbel-max sampling: ``argmax(logits + g)`` with ``g = -log(-log(u))`` picks class ``i``
    with probability ``softmax(logits)[i]`` (JAX's method: no normalisation, no cumulative sum,
    a class with logit ``-inf`` is never picked). Memory: ``batch * num_samples * classes``."""
    logits = _tensor(logits, "categorical", "logits")
    dt = as_dtype(dtype)
    if dt.kind not in "iu":
        raise DTypeError(f"categorical: dtype must be an integer dtype (int32 or int64), not {dt}")
    if logits.ndim != 2:
        raise ShapeError(f"categorical: logits must be 2-D [batch_size, num_classes], got shape "
                         f"{logits.shape}")
    if isinstance(num_samples, bool) or not hasattr(num_samples, "__index__") \
            or num_samples.__index__() < 0:
        raise InvalidArgumentError(f"categorical: num_samples must be a non-negative int, got "
                                   f"{num_samples!r}")
    batch, classes = logits.shape
    if classes == 0:
        raise ShapeError("categorical: logits has no classes (shape "
                         f"{logits.shape}); there is nothing to sample")
    work = float64 if logits.dtype is float64 else float32
    if logits.dtype is not work:
        logits = astype(logits, work)
    n = num_samples.__index__()
    u = K.draw(K.uniform_op, *gen._take(), (batch, n, classes), work, logits.device)
    u = maximum(u, float.fromhex("0x1p-126") if work is float32 else 2.2250738585072014e-308)
    gumbel = -log(-log(u))
    return astype(argmax(expand_dims(logits, axis=1) + gumbel, axis=-1), dt)


def bernoulli(gen, p=0.5, shape=None, dtype=None, device=None) -> Tensor:
    dt = bool_ if dtype is None else as_dtype(dtype)
    if isinstance(p, (int, float)) and not isinstance(p, bool):
        if not 0 <= p <= 1:
            raise InvalidArgumentError(f"bernoulli: p must be a probability in [0, 1], got {p}")
        shape = () if shape is None else K.shape_of(shape, "bernoulli")
        work, dev = float32, K.resolve_device(device)
    else:
        pt = _tensor(p, "bernoulli", "p")
        shape = pt.shape if shape is None else K.shape_of(shape, "bernoulli")
        work = float64 if pt.dtype is float64 else float32
        dev = pt.device if device is None else K.resolve_device(device)
        p = _param(pt, work, shape, "bernoulli", "p")
    u = K.draw(K.uniform_op, *gen._take(), shape, work, dev)
    keep = u < p  # u in [0, 1): p = 0 never, p = 1 always
    return keep if dt is bool_ else astype(keep, dt)


def _perm(gen, n: int, dev) -> Tensor:
    """A permutation of range(n) on ``dev``: the backend's kernel, else an argsort of uniform
    keys on the device (ties have probability about n**2 / 2**54 with float64 keys), else the
    fallback device's kernel."""
    if K.permutation_op.name in dev.kernels or K.uniform_op.name not in dev.kernels:
        return K.draw_permutation(*gen._take(), n, dev)
    keys = K.draw(K.uniform_op, *gen._take(), (n,), _wide_float(dev), dev)
    return argsort(keys, stable=True)


def permutation(gen, x, axis=0, device=None) -> Tensor:
    if isinstance(x, Tensor) or hasattr(x, "_ef_tensor_"):
        x = _tensor(x, "permutation", "x")
        if x.ndim == 0:
            return x  # one element: its only order (tf.random.shuffle of a scalar)
        ax = normalize_axes(axis, x.ndim)[0]
        return take(x, _perm(gen, x.shape[ax], x.device), axis=ax)
    if isinstance(x, bool) or not hasattr(x, "__index__"):
        raise ArgumentTypeError(f"permutation: x must be an int n (a permutation of range(n)) "
                                f"or a Tensor, got {type(x).__name__}")
    n = x.__index__()
    if n < 0:
        raise InvalidArgumentError(f"permutation: n must be non-negative, got {n}")
    return _perm(gen, n, K.resolve_device(device))


__all__ = ["bernoulli", "categorical", "normal", "permutation", "truncated_normal", "uniform"]
