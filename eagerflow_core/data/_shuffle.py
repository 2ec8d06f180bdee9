"""tf.data's bounded-buffer shuffle, vectorised over chunks.

The algorithm (TensorFlow's ``ShuffleDataset``): fill a buffer with the first ``B`` elements;
then for each further input element pick a random slot, emit what it holds and put the new
element there; when the input ends, emit what is left in random order. Memory is ``B``
elements; an element can only move ``B`` places earlier.

Done one element at a time this is a Python loop per element. ``BufferShuffle.push`` does a
whole chunk of ``m`` inputs at once, exactly: the slot picks ``j_0..j_m-1`` are drawn up front;
the element emitted at step ``t`` is the one put into slot ``j_t`` the last time that slot was
picked before ``t`` (or the buffer's old content, if it was not), which a stable sort of the
picks by slot finds for every step together. Picks are ``floor(u * B)`` for ``u`` from
``Generator.random``, which consumes the bit stream identically however the draws are split
into chunks, so the order depends only on the seed and ``B``: the per-element pipeline (chunks
of positions) and the index plan below a batch (chunks of row indices) agree exactly.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..random import derived_seed
from . import _context
from ._node import closing

# Elements pulled from the input per vectorised step when shuffling elements (not indices):
# the buffer effectively runs this far ahead of the output.
ELEMENT_CHUNK = 128


class BufferShuffle:
    """The shuffle state for one epoch over a stream of int64 values."""

    def __init__(self, buffer_size: int, rng: np.random.Generator):
        self.size = buffer_size
        self.rng = rng
        self._filling: list[np.ndarray] = []
        self._count = 0
        self.buf: np.ndarray | None = None  # set once the buffer is full

    def push(self, chunk: np.ndarray) -> np.ndarray:
        """Feed input values; returns the values emitted meanwhile, in order."""
        if self.buf is None:
            room = self.size - self._count
            self._filling.append(chunk[:room])
            self._count += min(room, len(chunk))
            chunk = chunk[room:]
            if self._count < self.size:
                return chunk  # empty
            self.buf = np.concatenate(self._filling)
            self._filling = []
        m = len(chunk)
        if m == 0:
            return chunk
        picks = (self.rng.random(m) * self.size).astype(np.intp)
        np.minimum(picks, self.size - 1, out=picks)  # u * B may round up to B
        order = np.argsort(picks, kind="stable")  # steps grouped by slot, in time order
        slots = picks[order]
        first = np.empty(m, dtype=bool)
        first[0] = True
        np.not_equal(slots[1:], slots[:-1], out=first[1:])
        before = np.empty(m, dtype=np.intp)  # the step that last filled this slot
        before[0] = 0
        before[1:] = order[:-1]
        out = np.empty(m, dtype=chunk.dtype)
        out[order] = np.where(first, self.buf[slots], chunk[before])
        last = np.empty(m, dtype=bool)
        last[-1] = True
        last[:-1] = first[1:]
        self.buf[slots[last]] = chunk[order[last]]
        return out

    def drain(self) -> np.ndarray:
        """The input has ended: what the buffer holds, in random order."""
        rest = self.buf if self.buf is not None else (
            np.concatenate(self._filling) if self._filling else np.empty(0, np.int64))
        self.buf, self._filling, self._count = None, [], 0
        return rest[self.rng.permutation(len(rest))]


def shuffle_chunks(chunks, buffer_size: int, rng):
    """Shuffle a stream of int64 chunks (an index plan)."""
    sh = BufferShuffle(buffer_size, rng)
    with closing(chunks) as it:
        for chunk in it:
            out = sh.push(chunk)
            if len(out):
                yield out
    out = sh.drain()
    if len(out):
        yield out


def shuffle_elements(elements, buffer_size: int, rng):
    """Shuffle a stream of elements: the same algorithm over their positions."""
    sh = BufferShuffle(buffer_size, rng)
    held: dict[int, object] = {}
    position = 0
    with closing(elements) as it:
        while True:
            got = list(itertools.islice(it, ELEMENT_CHUNK))
            if not got:
                break
            held.update(zip(range(position, position + len(got)), got))
            out = sh.push(np.arange(position, position + len(got), dtype=np.int64))
            position += len(got)
            for p in out.tolist():
                yield held.pop(p)
    for p in sh.drain().tolist():
        yield held.pop(p)


class EpochSeeds:
    """One random generator per epoch of a shuffle: from ``(seed, epoch)``. Where no seed is
    given, the seed is derived from ``ef.random``'s global seed when ``ef.random.set_seed``
    was called (TensorFlow's rule: the program's shuffles are reproducible, each its own),
    else drawn from entropy once, when the dataset is made. Without reshuffling every epoch
    uses epoch 0's order."""

    def __init__(self, seed, reshuffle: bool):
        if seed is None:
            seed = derived_seed()
        if seed is None:
            self.seed = np.random.SeedSequence().entropy
        else:
            self.seed = int(seed) % (1 << 64)
        self.reshuffle = reshuffle
        self._epochs = itertools.count()

    def next_rng(self) -> np.random.Generator:
        if _context.peeking() or not self.reshuffle:
            epoch = 0
        else:
            epoch = next(self._epochs)  # itertools.count is atomic under the GIL
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, epoch])))
