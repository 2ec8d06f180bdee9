"""NumPy overrides for the elementwise ops (the kit's table covers the rest).

NumPy 2 (with ml_dtypes for bfloat16) has a loop for every dtype the core sends to an
elementwise kernel, and its values follow the standard's special cases. What it gets wrong:

- noise: it emits a RuntimeWarning for inputs whose result the standard defines (``log(0)`` is
  -inf, ``sqrt(-1)`` is NaN, ``atanh(1)`` is inf, ``5 % 0`` on integers...). The ops below run
  with NumPy's floating-point error reporting off (``_quiet``). The hot-path ops (add, subtract,
  multiply, divide, square, sqrt, exp, tanh, maximum, minimum, comparisons; see
  benchmarks/bench_dispatch.py) stay plain ufuncs: a wrapper costs ~0.2 µs, a third of an eager
  call, so they still warn, as NumPy does, on overflow, ``x / 0``, ``inf - inf``, ``sqrt(-1)``
  and (ml_dtypes) on bfloat16 NaN comparisons.
- wrong values: ``log1p`` of a small complex number (inaccurate), ``sign`` of a subnormal
  complex number, ``reciprocal(0j)`` (NaN, not 1 / 0j), and ``nextafter(-0.0, +0.0)`` in
  float16 (NumPy returns x1, the standard x2).
- integer rounding: before NumPy 2.3, ``floor``/``ceil``/``trunc`` of integers go through float64,
  which rounds int64 values past 2**53; integers are already integral, so they pass through.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np

_BF16 = np.dtype(ml_dtypes.bfloat16)

try:
    # NumPy 2 keeps its floating-point error state in a context variable. Setting it directly
    # costs ~0.2 µs a call; `with np.errstate(...)` costs ~0.8 µs, more than the eager op itself.
    from numpy._core.umath import _extobj_contextvar, _make_extobj
    _IGNORE = _make_extobj(all="ignore")
    _set, _reset = _extobj_contextvar.set, _extobj_contextvar.reset
except ImportError:  # a NumPy without it: the public (slower) way
    _set = None


def _quiet(fn):
    """``fn`` with NumPy's floating-point warnings off (results are unchanged)."""
    if _set is None:
        return np.errstate(all="ignore")(fn)

    def kernel(*args):
        token = _set(_IGNORE)
        try:
            return fn(*args)
        finally:
            _reset(token)

    kernel.__name__ = kernel.__qualname__ = getattr(fn, "__name__", "kernel")
    return kernel


def _log1p(x):
    if x.dtype.kind != "c":
        return np.log1p(x)
    # NumPy computes the real part as log(hypot(1 + re, im)): for |z| near 1e-7, 1 + re has
    # already lost every digit of re (complex64 log1p(1e-7+3e-8j) is 19% off). log|1 + z| is
    # log1p(2 re + re**2 + im**2) / 2, exact in the small terms; the imaginary part is fine.
    out = np.asarray(np.log1p(x))
    re, im = x.real, x.imag
    out.real = np.where(np.abs(x) < 0.5, 0.5 * np.log1p(re * (2 + re) + im * im), out.real)
    return out


def _sign(x):
    if x.dtype.kind != "c":
        return np.sign(x)
    # NumPy divides x by |x| computed in x's precision: for subnormal x, |x| has lost its low
    # bits (complex64 sign(1e-45+1e-45j) is 1+1j). Scaling x by its larger part first keeps
    # them; where that part is 0, >= 1, inf or NaN, NumPy's answer stands.
    out = np.asarray(np.sign(x))
    scale = np.maximum(np.abs(x.real), np.abs(x.imag))
    tiny = (scale > 0) & (scale < 1)
    if tiny.any():
        scale = np.where(tiny, scale, 1)
        re, im = x.real / scale, x.imag / scale  # the larger part is now +-1
        mag = np.hypot(re, im)
        fixed = np.empty_like(out)
        fixed.real, fixed.imag = re / mag, im / mag
        out = np.where(tiny, fixed, out)
    return out


def _reciprocal(x):
    # NumPy's complex reciprocal gives nan+nanj for 0j; the standard defines it as 1 / x
    # (inf+nanj, an infinity), which NumPy's divide gets right.
    return np.divide(1, x) if x.dtype.kind == "c" else np.reciprocal(x)


def _nextafter(x1, x2):
    if getattr(x1, "dtype", None) == _BF16 or getattr(x2, "dtype", None) == _BF16:
        return _nextafter_bf16(x1, x2)
    out = np.nextafter(x1, x2)
    if out.dtype == np.float16:  # NumPy's float16 loop returns x1 where x1 == x2 (-0 for (-0, +0))
        out = np.where(x1 == x2, x2, out).astype(np.float16)
    return out


def _nextafter_bf16(x1, x2):
    """bfloat16 has no nextafter loop, and one computed in float32 and rounded back loses the
    subnormals (the step after 0 is 9.2e-41 in bfloat16, 1.4e-45 in float32). Step the bit
    pattern instead: one unit away from zero or towards it, by the sign and the direction."""
    a, b = np.broadcast_arrays(np.asarray(x1, _BF16), np.asarray(x2, _BF16))
    af, bf = a.astype(np.float32), b.astype(np.float32)
    bits = a.view(np.uint16).astype(np.int32)
    up = bf > af
    away = np.where(np.signbit(af), ~up, up)  # the magnitude grows
    stepped = np.where(away, bits + 1, bits - 1)
    stepped = np.where(af == 0, np.where(up, 0x0001, 0x8001), stepped)
    out = stepped.astype(np.uint16).view(_BF16)
    out = np.where(af == bf, b, out)
    return np.where(np.isnan(af) | np.isnan(bf), np.asarray(np.nan, _BF16), out).astype(_BF16)


def _pow(x1, x2):
    try:
        return np.pow(x1, x2)
    except ValueError as exc:  # int ** negative int; the standard leaves it unspecified
        raise ValueError(f"{exc} Cast x1 to a floating dtype first, e.g. "
                         f"ef.astype(x1, ef.float32)") from None


def _clip(x, min=None, max=None):
    if min is None and max is None:  # NumPy before 2.1 refuses a clip with no bound
        return x
    return np.clip(x, min, max)


def _integral_passthrough(ufunc):
    def kernel(x):
        return x if x.dtype.kind in "iub" else ufunc(x)
    kernel.__name__ = kernel.__qualname__ = ufunc.__name__
    return kernel


KERNELS: dict = {
    # the standard defines these results for inputs where NumPy warns
    **{name: _quiet(getattr(np, name)) for name in (
        "log", "log2", "log10", "floor_divide", "remainder",
        "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "acosh", "atanh",
        "expm1", "logaddexp")},
    "log1p": _quiet(_log1p),
    "reciprocal": _quiet(_reciprocal),
    "pow": _quiet(_pow),
    "sign": _quiet(_sign),
    "nextafter": _nextafter,
    "clip": _quiet(_clip),  # quiet: bfloat16 NaN comparisons warn
    "floor": _integral_passthrough(np.floor),
    "ceil": _integral_passthrough(np.ceil),
    "trunc": _integral_passthrough(np.trunc),
}
