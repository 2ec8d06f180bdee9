"""Dropout, and the random state it draws from (Keras 3's ``SeedGenerator``).

A Dropout mask must change at every training step, eagerly *and* in a step traced with
``ef.function``, where an ``ef.random`` draw would be frozen into the graph (its counter is a
parameter fixed when tracing). So the layer's randomness is state in a Variable, as in Keras 3:
a ``SeedGenerator`` holds a step counter that each mask reads and increments (a traced step
reads and assigns it like any Variable), and the mask is a counter-based hash of
``(key, counter, position)`` written in eagerflow's uint32 ops. The same seed gives the same
masks, eagerly or traced, on every backend; a checkpoint saves the counter, so a restored run
continues with the masks it would have drawn.

The hash is Chris Wellons' ``lowbias32`` (a 32-bit integer mixer with near-ideal avalanche),
applied twice around a per-step scalar: ``h = H(H(i * golden ^ s) + (s ^ k2))`` with
``s = H(counter ^ k1)``. An element is kept when ``h >= rate * 2**32``.
"""

from __future__ import annotations

import math
import numbers

from .._dtypes import int64, uint32
from .._errors import InvalidArgumentError, ShapeError
from ..autodiff.variable import Variable
from ..module import Module
from ..nn.dropout import _apply as apply_keep_mask  # x * keep / (1 - rate), one tape step
from ..ops.creation import arange, astype, constant
from ..ops.manipulation import reshape
from ..random import Generator, get_global_generator
from ._base import Layer, init_scope

_GOLDEN = 0x9E3779B9  # 2**32 / phi: spreads consecutive positions over the 32-bit range
_positions: dict = {}  # (size, device) -> arange(size) * _GOLDEN (uint32), a few kept


def _mix32(x):
    """lowbias32: a bijection of uint32 whose output bits each depend on every input bit."""
    x = x ^ (x >> 16)
    x = x * 0x7FEB352D
    x = x ^ (x >> 15)
    x = x * 0x846CA68B
    return x ^ (x >> 16)


def _scattered_positions(n: int, device):
    key = (n, str(device))
    t = _positions.get(key)
    if t is None:
        with init_scope():  # a concrete constant, even while tracing
            t = arange(n, dtype=uint32, device=device) * _GOLDEN
        if len(_positions) >= 16:
            _positions.pop(next(iter(_positions)))
        _positions[key] = t
    return t


class SeedGenerator(Module):
    """A random stream whose state is a Variable (``state``, a counter), usable eagerly and
    in traced functions; its key comes from ``seed``, else from ``ef.random``'s global
    generator (reproducible after ``ef.random.set_seed``). Not a weight: layers leave it out
    of ``weights`` (Keras 3's rule), checkpoints save it.
    """

    _ef_not_weights = True

    def __init__(self, seed=None, *, device=None, name=None):
        super().__init__(name=name)
        gen = Generator(seed) if seed is not None else get_global_generator().split(1)[0]
        key = gen.key
        object.__setattr__(self, "_ef_words", (key & 0xFFFFFFFF, key >> 32))
        with init_scope():
            self.state = Variable(constant(0, dtype=int64, device=device), trainable=False,
                                  name="seed_generator_state")

    def keep_mask(self, shape, rate: float, device):
        """A bool tensor of ``shape``: True with probability ``1 - rate``, a new draw per call
        (the counter advances)."""
        k1, k2 = self._ef_words
        counter = self.state.read_value()
        self.state.assign_add(1)
        s = _mix32(astype(counter & 0xFFFFFFFF, uint32) ^ k1)
        h = _mix32(_mix32(_scattered_positions(math.prod(shape), device) ^ s) + (s ^ k2))
        return reshape(h >= min(int(rate * 2.0 ** 32), 2 ** 32 - 1), shape)


class Dropout(Layer):
    """In training, zeroes each input element with probability ``rate`` and scales the others
    by ``1 / (1 - rate)``; otherwise (``training`` False or None) returns the input unchanged.

    ``noise_shape`` shares one keep/drop decision along axes of size 1 (``None`` takes the
    input's size); ``seed`` fixes the sequence of masks (module docstring).

    >>> import eagerflow_core as ef
    >>> drop = ef.layers.Dropout(0.5, seed=0)
    >>> x = ef.ones((2, 6))
    >>> bool(ef.all(drop(x) == x))  # inference: the identity
    True
    >>> y = drop(x, training=True)
    >>> sorted(set(y.numpy().ravel().tolist()))  # dropped: 0, kept: 1 / (1 - 0.5)
    [0.0, 2.0]
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        who = self._ef_who()
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
            raise InvalidArgumentError(f"{who}: rate must be a float in [0, 1) (the probability "
                                       f"of dropping each element), got {rate!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        # The key is chosen now (the global generator's draw order is the construction order);
        # the counter Variable is made at build, on the input's device.
        object.__setattr__(self, "_ef_seed", seed if seed is not None
                           else get_global_generator().split(1)[0].key)

    def build(self, input_shape):
        self.seed_generator = SeedGenerator(self._ef_seed, device=self.__dict__.get("_ef_device"))

    def _mask_shape(self, shape) -> tuple[int, ...]:
        if self.noise_shape is None:
            return tuple(shape)
        dims = [n if d is None else int(d) for d, n in zip(self.noise_shape, shape)]
        if len(self.noise_shape) != len(shape) or any(d not in (1, n) for d, n in
                                                      zip(dims, shape)):
            raise ShapeError(f"{self._ef_who()}: noise_shape {self.noise_shape} does not fit an "
                             f"input of shape {tuple(shape)}: it needs the input's rank, each "
                             f"size the input's, 1 or None")
        return tuple(dims)

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        keep = self.seed_generator.keep_mask(self._mask_shape(inputs.shape), self.rate,
                                             inputs.device)
        return apply_keep_mask(inputs, keep, scale=1.0 / (1.0 - self.rate))


__all__ = ["Dropout", "SeedGenerator"]
