"""Kernels of the fft extension, on ``scipy.fft`` (pocketfft, as ``numpy.fft``).

``scipy.fft`` transforms float32/complex64 in single precision, where ``numpy.fft`` (2.4)
is 2-3x slower on the same inputs (benchmarks/bench_fft.py). The core hands every kernel
float32/float64 or complex64/complex128 arrays and resolved arguments (``n``, ``axis``,
``s``, ``axes`` explicit). The frequencies are computed in float64 and rounded once to the
dtype asked for.
"""

from __future__ import annotations

import numpy as np
import scipy.fft as _sp


def _one_axis(fn):
    def kernel(x, /, *, n, axis, norm):
        return fn(x, n=n, axis=axis, norm=norm)
    kernel.__name__ = kernel.__qualname__ = fn.__name__
    return kernel


def _many_axes(fn):
    def kernel(x, /, *, s, axes, norm):
        return fn(x, s=s, axes=axes, norm=norm)
    kernel.__name__ = kernel.__qualname__ = fn.__name__
    return kernel


def _frequencies(fn):
    def kernel(n, /, *, d, dtype):
        return fn(n, d=d).astype(dtype, copy=False)
    kernel.__name__ = kernel.__qualname__ = fn.__name__
    return kernel


def _shift(fn):
    def kernel(x, /, *, axes):
        return fn(x, axes=axes) if axes else x.copy()
    kernel.__name__ = kernel.__qualname__ = fn.__name__
    return kernel


KERNELS: dict = {
    **{f"fft.{name}": _one_axis(getattr(_sp, name))
       for name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")},
    **{f"fft.{name}": _many_axes(getattr(_sp, name))
       for name in ("fftn", "ifftn", "rfftn", "irfftn")},
    "fft.fftfreq": _frequencies(_sp.fftfreq),
    "fft.rfftfreq": _frequencies(_sp.rfftfreq),
    "fft.fftshift": _shift(np.fft.fftshift),
    "fft.ifftshift": _shift(np.fft.ifftshift),
}
