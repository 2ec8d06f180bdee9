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
- the standard's special cases (issue #8; the tables are ``testing/opdb/_special_cases.py``)
  where NumPy differs: ``floor_divide`` at infinities (NumPy follows Python: ``inf // 2`` is
  NaN, ``1 // -inf`` is -1.0; the standard: inf and -0.0), complex ``expm1`` of infinities and
  NaNs, and the sign of the zero part of complex ``tanh``/``tan`` at infinities. Each kernel
  computes with the ufunc, then corrects the few positions only when a non-finite input is
  there, so finite inputs pay one cheap test (benchmarks/bench_special_cases.py).
- integer rounding: before NumPy 2.3, ``floor``/``ceil``/``trunc`` of integers go through float64,
  which rounds int64 values past 2**53; integers are already integral, so they pass through.
"""

from __future__ import annotations

import cmath
import math

import ml_dtypes
import numpy as np

_BF16 = np.dtype(ml_dtypes.bfloat16)

try:
    # NumPy 2 keeps its floating-point error state in a context variable. Setting it directly
    # costs ~0.2 µs a call; `with np.errstate(...)` costs ~0.8 µs, more than the eager op itself.
    from numpy._core.umath import _extobj_contextvar, _make_extobj
    _IGNORE = _make_extobj(all="ignore")
    _RAISE_INVALID = _make_extobj(all="ignore", invalid="raise")
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


# -- the standard's special cases where NumPy differs (issue #8) ----------------------------
# Finite inputs, the common case, must not pay for these: each kernel computes with the ufunc
# and tests once for a non-finite input (one dtype test alone where only complex results need
# it), masking only when there is one. benchmarks/bench_special_cases.py measures the cost.

_COMPLEX64, _COMPLEX128 = np.dtype(np.complex64), np.dtype(np.complex128)
_BLAS = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.complex64, np.complex128))
_TINY = 32


def _finite(x) -> bool:
    """Whether every element of array ``x`` is finite (False may also mean "too large to
    tell": the caller then takes its exact path). Small arrays: the sum of their values in
    Python, cheaper than any two NumPy calls. Others: ``vdot(x, x)``, the sum of ``|x|**2``,
    one BLAS pass with no temporary (an infinity or a NaN makes it non-finite, and no term
    can cancel another); NumPy's isfinite for the dtypes BLAS lacks."""
    if x.size <= _TINY:
        return cmath.isfinite(sum(x.ravel().tolist()))
    if x.dtype in _BLAS:
        return cmath.isfinite(np.vdot(x, x))
    return np.count_nonzero(np.isfinite(x)) == x.size


def _floor_divide(x1, x2, _ufunc=np.floor_divide):
    # NumPy pairs // with % as Python does, so inf // 2 is NaN and 1 // -inf is -1.0; the
    # standard prefers floor(x1 / x2) there: +-inf and -0.0. An infinite x1 makes the loop's
    # fmod raise the "invalid" flag, which NumPy reads after every loop anyway: asking it to
    # raise costs nothing. An infinite x2 raises no flag: it is looked for (not at all for a
    # Python int divisor, the usual x // 2, nor for integer division).
    token = _set(_RAISE_INVALID)
    try:
        out = _ufunc(x1, x2)
    except FloatingPointError:  # an infinite x1 (or 0 / 0, NaN either way)
        out = None
    finally:
        _reset(token)
    if out is None:
        return _floor_divide_at_infinities(x1, x2)
    kind = type(x2)
    if kind is int or kind is bool or out.dtype.kind in "iu":
        return out
    if kind is float:
        return out if math.isfinite(x2) else _floor_divide_at_infinities(x1, x2)
    return out if _finite(x2) else _floor_divide_at_infinities(x1, x2)


def _floor_divide_at_infinities(x1, x2):
    """NumPy's floor division, with floor(x1 / x2) where x1 or x2 is infinite (the only
    places where the two differ)."""
    with np.errstate(all="ignore"):
        out = np.asarray(np.floor_divide(x1, x2))
        at_inf = np.isinf(x1) | np.isinf(x2)
        return np.where(at_inf, np.floor(np.divide(x1, x2)), out).astype(out.dtype, copy=False)


if _set is None:  # a NumPy without the context variable: the public (slower) way
    _floor_divide = np.errstate(all="ignore", invalid="raise")(_floor_divide_at_infinities)


def _expm1_fix(x, out):
    # NumPy's complex expm1 is expm1(a) cos(b) - 2 sin(b/2)**2 + i exp(a) sin(b): at an
    # infinite or NaN part that gives NaNs (and -0.9999999 for -inf + 2j in complex64) where
    # the standard's table is exp(x) - 1, which NumPy's exp gets right.
    if _finite(x):
        return out
    out = np.asarray(out)
    bad = ~np.isfinite(x)
    fixed = np.exp(x[bad])
    fixed.real -= 1
    out[bad] = fixed
    return out


def _zero_part_follows(x, out, infinite, other):
    """Where part ``infinite`` of complex ``x`` is infinite and part ``other`` finite, make
    that ``other`` part of ``out`` a zero with the sign of x's. C99's ctanh (NumPy's) gives
    +-1 + 0 sin(2b) j at a = +-inf; the standard says 1 + 0j for b > 0 (and so, by its
    symmetries, the sign of b for any finite b)."""
    if _finite(x):
        return out
    out = np.asarray(out)
    at = np.isinf(infinite(x)) & np.isfinite(other(x))
    other(out)[at] = np.copysign(0, other(x)[at])
    return out


def _tanh_fix(x, out):
    return _zero_part_follows(x, out, np.real, np.imag)


def _tan_fix(x, out):
    return _zero_part_follows(x, out, np.imag, np.real)  # tan(x) = -1j tanh(1j x)


def _complex_fixed(ufunc, fix, quiet=True):
    """``ufunc``, with ``fix(x, out)`` applied to complex results: real inputs pay a dtype
    test, no more. ``quiet``: NumPy's floating-point warnings off, as ``_quiet`` does."""
    def kernel(x, _ufunc=ufunc):
        out = _ufunc(x)
        dtype = x.dtype
        if dtype is _COMPLEX64 or dtype is _COMPLEX128:
            return fix(x, out)
        return out

    def quiet_kernel(x, _ufunc=ufunc):
        token = _set(_IGNORE)
        try:
            out = _ufunc(x)
            dtype = x.dtype
            if dtype is _COMPLEX64 or dtype is _COMPLEX128:
                out = fix(x, out)
        finally:
            _reset(token)
        return out
    chosen = quiet_kernel if quiet and _set is not None else kernel
    if quiet and _set is None:
        chosen = np.errstate(all="ignore")(kernel)
    chosen.__name__ = chosen.__qualname__ = ufunc.__name__
    return chosen


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
        "log", "log2", "log10", "remainder",
        "sin", "cos", "asin", "acos", "atan", "sinh", "cosh", "acosh", "atanh", "logaddexp")},
    # the standard's special cases where NumPy differs
    "floor_divide": _floor_divide,
    "expm1": _complex_fixed(np.expm1, _expm1_fix),
    "tan": _complex_fixed(np.tan, _tan_fix),
    "tanh": _complex_fixed(np.tanh, _tanh_fix, quiet=False),  # hot path: warns as NumPy does
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
