"""The global generator, ``set_seed``, and the module-level functions that draw from it.

TensorFlow's rules for the two seeds, as a port expects them:

- ``ef.random.set_seed(s)`` restarts the global sequence: the draws after it are the same on
  every run. Without it, the global generator is seeded from operating-system entropy.
- A function's own ``seed=`` (an "op seed") picks a sequence of its own, fixed by the global
  seed and the op seed together: calling ``ef.random.normal((2,), seed=1)`` twice gives two
  different draws, and the same two again after ``set_seed`` with the same global seed (or in
  a new run). With an op seed and no global seed, a fixed default global seed is used
  (TensorFlow's ``DEFAULT_GRAPH_SEED``), so an op seed alone is reproducible too.
"""

from __future__ import annotations

import threading

from .._dtypes import bool_, float32, int64
from . import _distributions as D
from ._generator import _OP_SEED, Generator, check_seed, mix

_DEFAULT_GLOBAL_SEED = 87654321  # TensorFlow's DEFAULT_GRAPH_SEED

_lock = threading.Lock()
_global: Generator | None = None
_global_seed: int | None = None
_op_generators: dict[int, Generator] = {}
_derived_count = 0  # seeds handed out by derived_seed() since the last set_seed
_DERIVED = 0xDE51ED  # keeps derived seeds apart from op-seed keys


def get_global_generator() -> Generator:
    """The generator that the module-level functions draw from (created on first use, from
    operating-system entropy unless :func:`set_seed` was called).

    >>> import eagerflow_core as ef
    >>> isinstance(ef.random.get_global_generator(), ef.random.Generator)
    True
    """
    global _global
    with _lock:
        if _global is None:
            _global = Generator.from_non_deterministic_state()
        return _global


def set_global_generator(generator: Generator) -> None:
    """Make ``generator`` the global generator (TensorFlow's ``tf.random.set_global_generator``)."""
    global _global
    if not isinstance(generator, Generator):
        from .._errors import ArgumentTypeError
        raise ArgumentTypeError(f"set_global_generator: expected an ef.random.Generator, got "
                                f"{type(generator).__name__}")
    with _lock:
        _global = generator


def set_seed(seed) -> None:
    """Make the module-level draws reproducible (TensorFlow's ``tf.random.set_seed``): the
    global generator restarts from ``seed``, and op-seeded sequences restart too. ``None``
    goes back to operating-system entropy.

    >>> import eagerflow_core as ef
    >>> ef.random.set_seed(7); a = ef.random.uniform((3,))
    >>> ef.random.set_seed(7); b = ef.random.uniform((3,))
    >>> bool(ef.all(a == b))
    True
    """
    global _global, _global_seed, _derived_count
    seed = None if seed is None else check_seed(seed, "set_seed")
    with _lock:
        _global_seed = seed
        _global = Generator(seed)
        _op_generators.clear()
        _derived_count = 0


def derived_seed() -> int | None:
    """A seed for something random that was given none (a ``Dataset.shuffle``), when a global
    seed is set: the global seed mixed with a counter that ``set_seed`` restarts, so the n-th
    such object after ``set_seed(s)`` gets the same seed in every run and different objects
    get different ones (TensorFlow's operation seed). None without a global seed.

    >>> import eagerflow_core as ef
    >>> from eagerflow_core.random import derived_seed
    >>> ef.random.set_seed(1); a, b = derived_seed(), derived_seed()
    >>> ef.random.set_seed(1); (a, b) == (derived_seed(), derived_seed()) and a != b
    True
    """
    global _derived_count
    with _lock:
        if _global_seed is None:
            return None
        n = _derived_count
        _derived_count += 1
        base = _global_seed
    return mix(_DERIVED, base, n)


def _generator(seed) -> Generator:
    """The global generator, or the sequence of the op seed ``seed``."""
    if seed is None:
        return get_global_generator()
    seed = check_seed(seed, "seed")
    with _lock:
        gen = _op_generators.get(seed)
        if gen is None:
            base = _DEFAULT_GLOBAL_SEED if _global_seed is None else _global_seed
            gen = _op_generators[seed] = Generator.from_key(mix(_OP_SEED, base, seed))
        return gen


def normal(shape, mean=0.0, stddev=1.0, dtype=float32, seed=None, *, device=None, name=None):
    """Normal values from the global generator (``tf.random.normal``); see
    :meth:`Generator.normal`. ``seed`` is an op seed (module docstring).

    >>> import eagerflow_core as ef
    >>> ef.random.normal((2, 2), seed=3).shape
    (2, 2)
    """
    return D.normal(_generator(seed), shape, mean, stddev, dtype, device)


def uniform(shape, minval=0, maxval=None, dtype=float32, seed=None, *, device=None, name=None):
    """Uniform values in ``[minval, maxval)`` from the global generator (``tf.random.uniform``);
    see :meth:`Generator.uniform`.

    >>> import eagerflow_core as ef
    >>> ef.random.uniform((4,), 0, 3, dtype=ef.int64, seed=1).dtype
    ef.int64
    """
    return D.uniform(_generator(seed), shape, minval, maxval, dtype, device)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=float32, seed=None, *, device=None,
                     name=None):
    """Normal values within two standard deviations of ``mean`` (``tf.random.truncated_normal``);
    see :meth:`Generator.truncated_normal`.

    >>> import eagerflow_core as ef
    >>> bool(ef.all(ef.abs(ef.random.truncated_normal((100,), stddev=0.5)) <= 1.0))
    True
    """
    return D.truncated_normal(_generator(seed), shape, mean, stddev, dtype, device)


def categorical(logits, num_samples, dtype=int64, seed=None, *, name=None):
    """Class indices drawn from 2-D ``logits`` (``tf.random.categorical``); see
    :meth:`Generator.categorical`.

    >>> import eagerflow_core as ef
    >>> ef.random.categorical(ef.constant([[0.0, -ef.inf]]), 2)
    ef.Tensor([[0, 0]], shape=(1, 2), dtype=int64, device='cpu:0')
    """
    return D.categorical(_generator(seed), logits, num_samples, dtype)


def bernoulli(p=0.5, shape=None, dtype=bool_, seed=None, *, device=None):
    """``True`` with probability ``p``; see :meth:`Generator.bernoulli`.

    >>> import eagerflow_core as ef
    >>> ef.random.bernoulli(0.0, (2,))
    ef.Tensor([False, False], shape=(2,), dtype=bool, device='cpu:0')
    """
    return D.bernoulli(_generator(seed), p, shape, dtype, device)


def permutation(x, axis=0, seed=None, *, device=None):
    """A random permutation of ``range(x)`` (int ``x``) or of a tensor along ``axis``; see
    :meth:`Generator.permutation`.

    >>> import eagerflow_core as ef
    >>> sorted(ef.random.permutation(4).tolist())
    [0, 1, 2, 3]
    """
    return D.permutation(_generator(seed), x, axis, device)


def shuffle(value, seed=None, *, name=None):
    """``value`` with its entries along axis 0 in random order (``tf.random.shuffle``).

    >>> import eagerflow_core as ef
    >>> sorted(ef.random.shuffle(ef.constant([1, 2, 3])).tolist())
    [1, 2, 3]
    """
    return D.permutation(_generator(seed), value, 0, None)
