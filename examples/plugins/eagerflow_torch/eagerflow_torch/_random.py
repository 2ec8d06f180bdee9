"""The random kernels (``eagerflow_core.random``'s contract): pure functions of
``(key, counter, ...)``.

torch has no counter-based generator on the CPU, so each call seeds a fresh ``torch.Generator``
(Mersenne Twister) from the pair, mixed by SplitMix64: the same pair gives the same values, and
different pairs give unrelated seeds. The bits differ from the NumPy backend's Philox; the
contract asks only for determinism and independent streams, which the conformance kit checks.
"""

from __future__ import annotations

import torch

_MASK = (1 << 64) - 1
# Significand bits per dtype: a uniform value is k * 2**-bits with k < 2**bits, exact in the
# dtype, so it is never rounded up to 1.0.
_BITS = {torch.float16: 11, torch.bfloat16: 8, torch.float32: 24, torch.float64: 53}


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _generator(key: int, counter: int) -> torch.Generator:
    gen = torch.Generator()
    gen.manual_seed(_splitmix64(_splitmix64(key) ^ counter))
    return gen


def uniform(key, counter, shape, dtype, /):
    bits = _BITS[dtype]
    k = torch.randint(0, 1 << bits, tuple(shape), generator=_generator(key, counter))
    return k.to(dtype) * (2.0 ** -bits)


def normal(key, counter, shape, dtype, /):
    work = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
    return torch.randn(tuple(shape), generator=_generator(key, counter), dtype=work).to(dtype)


def permutation(key, counter, n, /):
    return torch.randperm(n, generator=_generator(key, counter))


KERNELS = {"random.uniform": uniform, "random.normal": normal, "random.permutation": permutation}
