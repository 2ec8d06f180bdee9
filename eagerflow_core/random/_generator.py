"""``ef.random.Generator``: a reproducible random stream, state ``(key, counter)``.

The state is two 64-bit integers held on the host: the Philox-style ``key`` (from the seed)
and the ``counter`` of the next draw. Drawing takes a counter under a lock and runs a stateless
kernel at ``(key, counter)`` (``_kernels.py``), so no two draws of one generator, from any
number of threads, share a counter, and a device draws without reading any state back.
"""

from __future__ import annotations

import secrets
import threading

import numpy as np

from .._dtypes import bool_, float32, int64
from .._errors import ArgumentTypeError, InvalidArgumentError, OutOfRangeError
from . import _distributions as D

_MASK64 = (1 << 64) - 1
# Tags that keep the key derivations apart: a seed, a split and an op seed never collide.
_SEED, _SPLIT, _OP_SEED = 0x5EED, 0x5B17, 0x0B5EED


def _words(value: int) -> list[int]:
    """A Python int (any sign and size) as non-negative words for NumPy's SeedSequence."""
    return [1 if value < 0 else 0, abs(value)]


def mix(*values: int) -> int:
    """A 64-bit key from integers. NumPy's SeedSequence hashes them, so nearby seeds (0, 1, 2)
    give unrelated keys, as Philox needs."""
    entropy = [w for v in values for w in _words(v)]
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0])


def check_seed(seed, who: str) -> int:
    """``seed`` as a Python int (NumPy integers and 0-d integer tensors are accepted)."""
    if hasattr(seed, "ndim") and getattr(seed, "ndim", None) == 0 and hasattr(seed, "item"):
        seed = seed.item()
    if isinstance(seed, bool) or not hasattr(seed, "__index__"):
        raise ArgumentTypeError(f"{who}: seed must be an int, got {type(seed).__name__} {seed!r}")
    return seed.__index__()


def key_from_seed(seed) -> int:
    return mix(_SEED, check_seed(seed, "Generator"))


def _check_state(state) -> tuple[int, int]:
    try:
        key, counter = (int(v) for v in state)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"Generator: a state is a pair (key, counter) of ints, got "
                                f"{state!r}") from None
    if not (0 <= key <= _MASK64 and 0 <= counter <= _MASK64):
        raise InvalidArgumentError(f"Generator: key and counter must be in [0, 2**64), got "
                                   f"state {state!r}")
    return key, counter


class Generator:
    """A reproducible stream of random tensors (TensorFlow's ``tf.random.Generator``).

    ``Generator(seed)`` starts from an int seed; ``Generator()`` (or
    :meth:`from_non_deterministic_state`) from operating-system entropy. Every method draws
    fresh values and advances the generator; the same seed gives the same sequence of draws,
    on every run and every machine with the same backend. A generator may be shared by
    threads: each draw gets its own counter.

    >>> import eagerflow_core as ef
    >>> g = ef.random.Generator(seed=0)
    >>> a = g.normal((2,))
    >>> b = g.normal((2,))                  # the next draw: other values
    >>> bool(ef.all(a == b))
    False
    >>> bool(ef.all(ef.random.Generator(seed=0).normal((2,)) == a))   # same seed, same values
    True
    """

    __slots__ = ("_key", "_counter", "_lock", "__weakref__")

    def __init__(self, seed=None, *, state=None):
        if state is not None:
            if seed is not None:
                raise InvalidArgumentError("Generator: give a seed or a state, not both")
            self._key, self._counter = _check_state(state)
        elif seed is None:
            self._key, self._counter = secrets.randbits(64), 0
        else:
            self._key, self._counter = key_from_seed(seed), 0
        self._lock = threading.Lock()

    # -- construction and state ----------------------------------------------------------------
    @classmethod
    def from_seed(cls, seed) -> Generator:
        """A generator whose sequence is fixed by the int ``seed``."""
        return cls(seed)

    @classmethod
    def from_non_deterministic_state(cls) -> Generator:
        """A generator seeded from operating-system entropy (``secrets``)."""
        return cls()

    @classmethod
    def from_state(cls, state) -> Generator:
        """A generator continuing from ``state``, a ``(key, counter)`` pair from :attr:`state`."""
        return cls(state=state)

    @classmethod
    def from_key(cls, key: int, counter: int = 0) -> Generator:
        return cls(state=(key, counter))

    @property
    def state(self) -> tuple[int, int]:
        """``(key, counter)``: where this generator is. ``Generator.from_state(g.state)``
        continues the same sequence (save it with a checkpoint to resume a run)."""
        with self._lock:
            return self._key, self._counter

    @property
    def key(self) -> int:
        return self._key

    def reset(self, state) -> None:
        """Move this generator to ``state`` (a ``(key, counter)`` pair)."""
        key, counter = _check_state(state)
        with self._lock:
            self._key, self._counter = key, counter

    def reset_from_seed(self, seed) -> None:
        """Start this generator's sequence again from ``seed``."""
        self.reset((key_from_seed(seed), 0))

    def skip(self, delta: int) -> None:
        """Advance by ``delta`` draws, as if that many had been made."""
        self._take(int(delta))

    def split(self, count: int = 1) -> list[Generator]:
        """``count`` new generators whose streams are independent of this one's and of each
        other's (each gets its own key, derived from this generator's key and a counter it
        takes, so splitting is reproducible too)."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidArgumentError(f"Generator.split: count must be a non-negative int, "
                                       f"got {count!r}")
        key, counter = self._take(1)
        return [Generator.from_key(mix(_SPLIT, key, counter, i)) for i in range(count)]

    def _take(self, n: int = 1) -> tuple[int, int]:
        """``(key, counter)`` for the next draw, reserving ``n`` counters."""
        with self._lock:
            counter = self._counter
            if counter + n > _MASK64 + 1:
                raise OutOfRangeError(f"Generator: counter exhausted (2**64 draws); split or "
                                      f"reseed it (state {self._key, counter})")
            self._counter = counter + n
            return self._key, counter

    def __repr__(self):
        key, counter = self.state
        return f"ef.random.Generator(state=({key}, {counter}))"

    def __reduce__(self):  # copy, deepcopy and pickle keep the state (the lock is not state)
        return (Generator.from_state, (self.state,))

    # -- distributions ---------------------------------------------------------------------------
    def normal(self, shape, mean=0.0, stddev=1.0, dtype=float32, device=None, *, name=None):
        """Normal values: ``mean + stddev * z`` with ``z`` standard normal.

        ``mean`` and ``stddev`` are Python numbers or tensors that broadcast to ``shape``;
        ``dtype`` a floating dtype; ``device`` a device (default: the default device).
        ``name`` is accepted for TensorFlow compatibility and ignored.

        >>> import eagerflow_core as ef
        >>> ef.random.Generator(seed=1).normal((2, 3), dtype=ef.float64).shape
        (2, 3)
        """
        return D.normal(self, shape, mean, stddev, dtype, device)

    def uniform(self, shape, minval=0, maxval=None, dtype=float32, device=None, *, name=None):
        """Uniform values in ``[minval, maxval)``.

        Floating dtypes default to ``maxval=1``; integer dtypes need Python-int bounds and give
        every integer of the range with equal probability (TensorFlow's rule).

        >>> import eagerflow_core as ef
        >>> g = ef.random.Generator(seed=1)
        >>> x = g.uniform((1000,), minval=-2.0, maxval=3.0)
        >>> bool(ef.all((x >= -2) & (x < 3)))
        True
        >>> g.uniform((3,), 0, 10, dtype=ef.int32).dtype
        ef.int32
        """
        return D.uniform(self, shape, minval, maxval, dtype, device)

    def truncated_normal(self, shape, mean=0.0, stddev=1.0, dtype=float32, device=None, *,
                         name=None):
        """Normal values conditioned on lying within two standard deviations of the mean
        (TensorFlow's truncated normal, drawn exactly through the inverse CDF).

        >>> import eagerflow_core as ef
        >>> x = ef.random.Generator(seed=1).truncated_normal((10000,))
        >>> bool(ef.max(ef.abs(x)) <= 2.0)
        True
        """
        return D.truncated_normal(self, shape, mean, stddev, dtype, device)

    def categorical(self, logits, num_samples, dtype=int64, *, name=None):
        """``num_samples`` class indices per row of the 2-D ``logits`` (unnormalised log
        probabilities, ``[batch, num_classes]``): an integer tensor ``[batch, num_samples]``.

        >>> import eagerflow_core as ef
        >>> logits = ef.log(ef.constant([[0.0, 1.0], [1.0, 0.0]]))
        >>> ef.random.Generator(seed=1).categorical(logits, 3)
        ef.Tensor([[1, 1, 1],
                   [0, 0, 0]], shape=(2, 3), dtype=int64, device='cpu:0')
        """
        return D.categorical(self, logits, num_samples, dtype)

    def bernoulli(self, p=0.5, shape=None, dtype=bool_, device=None):
        """``True`` with probability ``p`` (a number or a tensor broadcasting to ``shape``;
        ``shape`` defaults to ``p``'s). ``dtype`` may be a numeric dtype (1 and 0).

        >>> import eagerflow_core as ef
        >>> ef.random.Generator(seed=1).bernoulli(1.0, (3,))
        ef.Tensor([ True,  True,  True], shape=(3,), dtype=bool, device='cpu:0')
        """
        return D.bernoulli(self, p, shape, dtype, device)

    def permutation(self, x, axis=0, device=None):
        """A random permutation: of ``range(x)`` for an int ``x`` (int64), else of tensor
        ``x``'s entries along ``axis``.

        >>> import eagerflow_core as ef
        >>> p = ef.random.Generator(seed=1).permutation(5)
        >>> sorted(p.tolist())
        [0, 1, 2, 3, 4]
        """
        return D.permutation(self, x, axis, device)

    def shuffle(self, x, *, name=None):
        """``x`` with its entries along axis 0 in random order (``tf.random.shuffle``).

        >>> import eagerflow_core as ef
        >>> x = ef.random.Generator(seed=1).shuffle(ef.reshape(ef.arange(6), (3, 2)))
        >>> sorted(x.tolist())
        [[0, 1], [2, 3], [4, 5]]
        """
        return D.permutation(self, x, 0, None)
