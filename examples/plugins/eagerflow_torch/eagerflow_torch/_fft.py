"""Kernels of the fft extension on ``torch.fft``.

``array_api_compat.torch.fft`` passes most functions straight to ``torch.fft``, which spells
``axis``/``axes`` as ``dim``: the kit's table would call them with the wrong keywords. The core
hands these kernels float32/float64 or complex64/complex128 tensors and explicit ``n``,
``axis``, ``s`` and ``axes``. Frequencies are computed in float64 and rounded once to the
dtype asked for (torch would compute float16 frequencies in float16).
"""

from __future__ import annotations

import torch

_COMPLEX = {torch.float32: torch.complex64, torch.float64: torch.complex128}
_REAL = {torch.complex64: torch.float32, torch.complex128: torch.float64}


def _empty(x, axes, sizes, kind):
    """The all-zero result of a transform of an empty tensor (MKL refuses those): a batch
    axis of size 0, or an input axis of size 0 zero-padded to the transform's size."""
    shape = list(x.shape)
    for ax, size in zip(axes, sizes):
        shape[ax] = size
    if kind == "r2c":
        shape[axes[-1]] = sizes[-1] // 2 + 1
    dtype = {"r2c": _COMPLEX, "c2r": _REAL}.get(kind, {}).get(x.dtype, x.dtype)
    return torch.zeros(shape, dtype=dtype)


def _one_axis(fn, kind):
    def kernel(x, /, *, n, axis, norm):
        if x.numel() == 0:
            return _empty(x, (axis,), (n,), kind)
        return fn(x, n=n, dim=axis, norm=norm)
    kernel.__name__ = kernel.__qualname__ = fn.__name__
    return kernel


def _many_axes(fn, kind):
    def kernel(x, /, *, s, axes, norm):
        if x.numel() == 0:
            return _empty(x, axes, s, kind)
        return fn(x, s=s, dim=axes, norm=norm)
    kernel.__name__ = kernel.__qualname__ = fn.__name__
    return kernel


def _frequencies(fn):
    def kernel(n, /, *, d, dtype):
        return fn(n, d, dtype=torch.float64).to(dtype)
    kernel.__name__ = kernel.__qualname__ = fn.__name__
    return kernel


def _shift(fn):
    def kernel(x, /, *, axes):
        return fn(x, dim=axes) if axes else x.clone()
    kernel.__name__ = kernel.__qualname__ = fn.__name__
    return kernel


_KINDS = {"fft": "c2c", "ifft": "c2c", "rfft": "r2c", "ihfft": "r2c", "irfft": "c2r",
          "hfft": "c2r"}
_KINDS_ND = {"fftn": "c2c", "ifftn": "c2c", "rfftn": "r2c", "irfftn": "c2r"}

KERNELS: dict = {
    **{f"fft.{name}": _one_axis(getattr(torch.fft, name), kind) for name, kind in _KINDS.items()},
    **{f"fft.{name}": _many_axes(getattr(torch.fft, name), kind)
       for name, kind in _KINDS_ND.items()},
    "fft.fftfreq": _frequencies(torch.fft.fftfreq),
    "fft.rfftfreq": _frequencies(torch.fft.rfftfreq),
    "fft.fftshift": _shift(torch.fft.fftshift),
    "fft.ifftshift": _shift(torch.fft.ifftshift),
}
