"""Philox4x32-10 and the draws of ``csrc/philox.cu``, in NumPy: the same stream, bit for bit
for the uniforms (integer arithmetic and exact scalings), to float32 rounding for the normals.

``key`` is a 64-bit int (the two key words: low, high), ``counter`` a 128-bit int; value group q
of a draw is Philox of the counter ``counter + q``. See ``csrc/philox.cu`` for the layout.

>>> from eagerflow_cuda import _philox
>>> [hex(w) for w in _philox.philox4x32_10((0, 0, 0, 0), (0, 0))]  # Random123's known answer
['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']
>>> _philox.uniform(key=7, counter=0, shape=(3,), dtype="float32")
array([0.9545971 , 0.7501522 , 0.11417735], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from ._launch import philox_per_group

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
_MASK = np.uint64(0xFFFFFFFF)


def _rounds(c0, c1, c2, c3, k0: int, k1: int):
    """Ten Philox rounds on uint64 arrays that hold 32-bit words."""
    for _ in range(10):
        p0 = np.uint64(M0) * c0
        p1 = np.uint64(M1) * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0), p1 & _MASK,
                          (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1), p0 & _MASK)
        k0, k1 = (k0 + W0) & 0xFFFFFFFF, (k1 + W1) & 0xFFFFFFFF
    return c0, c1, c2, c3


def philox4x32_10(counter_words, key_words) -> tuple[int, int, int, int]:
    """One block: four 32-bit counter words and two key words in, four words out."""
    c = [np.array([w], dtype=np.uint64) for w in counter_words]
    return tuple(int(w[0]) for w in _rounds(*c, *key_words))


def words(key: int, counter: int, groups: int) -> np.ndarray:
    """The (groups, 4) uint32 words of groups 0 .. groups-1 of (key, counter)."""
    if not 0 <= key < 1 << 64:
        raise ValueError(f"a Philox key is in [0, 2**64), got {key}")
    if not 0 <= counter < 1 << 128:
        raise ValueError(f"a Philox counter is in [0, 2**128), got {counter}")
    q = np.arange(groups, dtype=np.uint64)
    lo = np.uint64(counter & (2**64 - 1)) + q  # wraps modulo 2**64, as the kernel's add
    hi = np.uint64(counter >> 64) + (lo < np.uint64(counter & (2**64 - 1))).astype(np.uint64)
    out = _rounds(lo & _MASK, lo >> np.uint64(32), hi & _MASK, hi >> np.uint64(32),
                  key & 0xFFFFFFFF, key >> 32)
    return np.stack(out, axis=-1).astype(np.uint32)


def _groups(shape, dtype) -> tuple[int, int]:
    n = int(np.prod(shape, dtype=np.int64))
    per = philox_per_group(dtype)
    return n, -(-n // per)


def _u53(hi, lo):
    return ((hi.astype(np.uint64) << np.uint64(32)) | lo.astype(np.uint64)) >> np.uint64(11)


def uniform(key: int, counter: int, shape, dtype="float32") -> np.ndarray:
    """Values in [0, 1) of ``dtype`` (float16, bfloat16, float32 or float64)."""
    dtype = np.dtype(dtype)
    n, groups = _groups(shape, dtype)
    w = words(key, counter, groups)
    if dtype == np.float64:
        vals = _u53(w[:, 0::2], w[:, 1::2]).astype(np.float64) * 2.0**-53
    elif dtype == np.float32:
        vals = (w >> 8).astype(np.float32) * np.float32(2.0**-24)
    elif dtype == np.float16:
        vals = (w >> 21).astype(np.float32) * np.float32(2.0**-11)
    elif dtype.name == "bfloat16":
        vals = (w >> 24).astype(np.float32) * np.float32(2.0**-8)
    else:
        raise TypeError(f"uniform: {dtype} is not a floating dtype the kernels draw")
    return vals.reshape(-1)[:n].astype(dtype).reshape(shape)


def normal(key: int, counter: int, shape, dtype="float32") -> np.ndarray:
    """Standard normal values of ``dtype`` by Box-Muller (see ``csrc/philox.cu``)."""
    dtype = np.dtype(dtype)
    n, groups = _groups(shape, dtype)
    w = words(key, counter, groups)
    if dtype == np.float64:
        u1 = _u53(w[:, 0], w[:, 1]).astype(np.float64) * 2.0**-53 + 2.0**-53
        u2 = _u53(w[:, 2], w[:, 3]).astype(np.float64) * 2.0**-53
        two_pi = 2 * np.pi
    elif dtype in (np.float32, np.float16) or dtype.name == "bfloat16":
        u1 = ((w[:, 0::2] >> 8) + 1).astype(np.float32) * np.float32(2.0**-24)
        u2 = (w[:, 1::2] >> 8).astype(np.float32) * np.float32(2.0**-24)
        two_pi = np.float32(6.2831853071795865)
    else:
        raise TypeError(f"normal: {dtype} is not a floating dtype the kernels draw")
    r = np.sqrt(-2 * np.log(u1))
    theta = two_pi * u2
    vals = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=-1)  # z0, z1 of each pair
    return vals.reshape(-1)[:n].astype(dtype).reshape(shape)
