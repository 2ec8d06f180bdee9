"""``ef.random``: reproducible random tensors from counter-based generators.

A :class:`Generator` is a 64-bit key and a counter. Each draw takes the next counter and runs a
*stateless* kernel at ``(key, counter)`` on the target device (the kernels and the contract a
backend implements are in ``_kernels.py``; the NumPy backend's are NumPy's Philox), so the same
seed gives the same values on every run, threads never receive the same numbers, and a GPU
backend draws on its device without reading state back. The module-level functions use a
global generator that :func:`set_seed` makes reproducible, as ``tf.random.set_seed`` does.

Random draws are constants to gradient tapes: they have no gradient (a ``mean`` or ``stddev``
given as a tensor does: ``normal`` is ``mean + stddev * z``).

>>> import eagerflow_core as ef
>>> g = ef.random.Generator(seed=42)
>>> g.uniform((2, 3)).shape
(2, 3)
>>> ef.random.set_seed(0)
>>> ef.random.normal((2,), dtype=ef.float64).dtype
ef.float64
"""

from ._generator import Generator
from ._global import (bernoulli, categorical, derived_seed, get_global_generator, normal,
                      permutation,
                      set_global_generator, set_seed, shuffle, truncated_normal, uniform)

__all__ = ["Generator", "bernoulli", "categorical", "derived_seed", "get_global_generator",
           "normal",
           "permutation", "set_global_generator", "set_seed", "shuffle", "truncated_normal",
           "uniform"]
