"""The NumPy backend's random kernels: stateless and counter-based, on NumPy's Philox.

Each kernel is a pure function of ``(key, counter, shape, dtype)``: the same arguments give the
same values, on any machine. ``key`` (64 bits) is the Philox key; ``counter`` (64 bits) selects
a substream, the Philox blocks ``counter * 2**64 ... counter * 2**64 + 2**64 - 1`` (the second
word of Philox4x64's 256-bit counter), so one draw can use as many blocks as it likes (the
ziggurat's rejections included) and draws at different counters never share a block.
``eagerflow_core.random.Generator`` gives each draw a fresh counter.
"""

from __future__ import annotations

import threading

import ml_dtypes
import numpy as np

_BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
_HALF = np.dtype(np.float16)
# Significand bits of the 16-bit floats: a uniform draw is k * 2**-bits, k < 2**bits, so it is
# exact in the dtype and never rounds up to 1.0 (float32 and float64 draws are NumPy's own,
# with 24 and 53 bits).
_BITS = {_HALF: 11, _BFLOAT16: 8}


_tls = threading.local()
_EMPTY_BUFFER = np.zeros(4, np.uint64)


def _generator(key: int, counter: int) -> np.random.Generator:
    """A Philox generator at ``(key, counter)``. Constructing one costs about five times
    setting its state (``Philox()`` gathers OS entropy it then discards), so each thread keeps
    one and moves it; a kernel call completes before the same thread starts another."""
    gen = getattr(_tls, "generator", None)
    if gen is None:
        gen = _tls.generator = np.random.Generator(np.random.Philox(0))
    gen.bit_generator.state = {
        "bit_generator": "Philox",
        "state": {"counter": np.array([0, counter, 0, 0], np.uint64),
                  "key": np.array([key, 0], np.uint64)},
        "buffer": _EMPTY_BUFFER, "buffer_pos": 4, "has_uint32": 0, "uinteger": 0}
    return gen


def uniform(key, counter, shape, dtype, /):
    """Uniform values in [0, 1) of ``dtype`` (a floating NumPy dtype)."""
    gen = _generator(key, counter)
    dtype = np.dtype(dtype)
    bits = _BITS.get(dtype)
    if bits is None:
        return gen.random(shape, dtype=dtype)
    k = gen.integers(0, 1 << bits, size=shape, dtype=np.uint16)
    return k.astype(dtype) * dtype.type(2.0 ** -bits)


def normal(key, counter, shape, dtype, /):
    """Standard normal values of ``dtype`` (16-bit floats are float32 draws, rounded)."""
    gen = _generator(key, counter)
    dtype = np.dtype(dtype)
    if dtype in _BITS:
        return gen.standard_normal(shape, dtype=np.float32).astype(dtype)
    return gen.standard_normal(shape, dtype=dtype)


def permutation(key, counter, n, /):
    """A uniformly random permutation of ``range(n)``, as int64 (Fisher-Yates)."""
    return _generator(key, counter).permutation(n).astype(np.int64, copy=False)


KERNELS: dict = {"random.uniform": uniform, "random.normal": normal,
                 "random.permutation": permutation}
