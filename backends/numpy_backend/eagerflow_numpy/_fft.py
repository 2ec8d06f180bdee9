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


def _frequencies(fn):
    def kernel(n, /, *, d, dtype):
        return fn(n, d=d).astype(dtype, copy=False)
    kernel.__name__ = kernel.__qualname__ = fn.__name__
    return kernel


def _shift(fn):
    # NumPy's shifts fail on axes=() (a 0-d input), where there is nothing to move.
    def kernel(x, /, *, axes):
        return fn(x, axes=axes) if axes else x.copy()
    kernel.__name__ = kernel.__qualname__ = fn.__name__
    return kernel


KERNELS: dict = {
    # scipy.fft takes the core's keywords as they are: n / axis / norm, s / axes / norm.
    **{f"fft.{name}": getattr(_sp, name) for name in (
        "fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fftn", "ifftn", "rfftn", "irfftn")},
    "fft.fftfreq": _frequencies(_sp.fftfreq),
    "fft.rfftfreq": _frequencies(_sp.rfftfreq),
    "fft.fftshift": _shift(np.fft.fftshift),
    "fft.ifftshift": _shift(np.fft.ifftshift),
}
