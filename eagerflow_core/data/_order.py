"""Steps that only choose and order elements: shuffle, repeat, take, skip, shard.

Each runs on elements, or, where its input has an index plan (``_node.py``), on chunks of row
indices with the same semantics, so that a ``batch`` below can gather rows in one go.
"""

from __future__ import annotations

import itertools

from ._node import INFINITE, UNKNOWN, Node, Plan, closing
from ._shuffle import EpochSeeds, shuffle_chunks, shuffle_elements


def _plan_elements(plan: Plan):
    get = plan.source.get
    with closing(plan.chunks()) as chunks:
        for chunk in chunks:
            for i in chunk.tolist():
                yield get(i)


class Reorder(Node):
    """An order-only step: ``reorder`` works on any stream (elements or index chunks)."""

    def __init__(self, input_node: Node):
        self.inputs = (input_node,)

    def plan(self):
        up = self.inputs[0].plan()
        if up is None:
            return None
        return Plan(up.source, lambda: self.reorder_chunks(up.chunks))

    def elements(self):
        plan = self.plan()
        if plan is not None:
            return _plan_elements(plan)
        return self.reorder_elements(self.inputs[0].elements)

    def reorder_elements(self, make_input):
        raise NotImplementedError

    def reorder_chunks(self, make_input):
        raise NotImplementedError


class Shuffle(Reorder):
    label = "shuffle"

    def __init__(self, input_node, buffer_size: int, seed, reshuffle: bool):
        super().__init__(input_node)
        self.buffer_size = buffer_size
        self.seeds = EpochSeeds(seed, reshuffle)

    def reorder_elements(self, make_input):
        return shuffle_elements(make_input(), self.buffer_size, self.seeds.next_rng())

    def reorder_chunks(self, make_input):
        return shuffle_chunks(make_input(), self.buffer_size, self.seeds.next_rng())

    def cardinality(self):
        return self.inputs[0].cardinality()


def _repeat(make_input, count: int, nonempty):
    for _ in (itertools.count() if count < 0 else range(count)):
        produced = False
        with closing(make_input()) as it:  # a new epoch of the input each time
            for item in it:
                produced = produced or nonempty(item)
                yield item
        if not produced:
            return  # as tf.data: repeating an empty dataset ends instead of spinning


class Repeat(Reorder):
    label = "repeat"

    def __init__(self, input_node, count: int):
        super().__init__(input_node)
        self.count = count

    def reorder_elements(self, make_input):
        return _repeat(make_input, self.count, lambda e: True)

    def reorder_chunks(self, make_input):
        return _repeat(make_input, self.count, lambda c: len(c) > 0)

    def cardinality(self):
        n = self.inputs[0].cardinality()
        if self.count < 0:
            return 0 if n == 0 else INFINITE
        if self.count == 0:
            return 0
        return n if n < 0 else n * self.count


def _islice_closing(make_input, start, stop, step=1):
    with closing(make_input()) as it:
        yield from itertools.islice(it, start, stop, step)


def _slice_chunks(make_input, start: int, stop, step: int = 1):
    """``islice`` over the concatenation of the chunks, chunk by chunk."""
    offset = 0  # position of the current chunk's first index in the whole stream
    with closing(make_input()) as it:
        for chunk in it:
            n = len(chunk)
            lo = max(start - offset, 0)
            if step > 1:
                lo += (-(offset + lo - start)) % step
            hi = n if stop is None else min(stop - offset, n)
            if lo < hi:
                yield chunk[lo:hi:step]
            offset += n
            if stop is not None and offset >= stop:
                return


class Take(Reorder):
    label = "take"

    def __init__(self, input_node, count: int):
        super().__init__(input_node)
        self.count = count

    def _stop(self):
        return None if self.count < 0 else self.count

    def reorder_elements(self, make_input):
        return _islice_closing(make_input, 0, self._stop())

    def reorder_chunks(self, make_input):
        return _slice_chunks(make_input, 0, self._stop())

    def cardinality(self):
        n = self.inputs[0].cardinality()
        if n == UNKNOWN or self.count < 0:
            return n
        return self.count if n == INFINITE else min(n, self.count)


class Skip(Reorder):
    label = "skip"

    def __init__(self, input_node, count: int):
        super().__init__(input_node)
        self.count = count

    def reorder_elements(self, make_input):
        if self.count < 0:
            return _drain(make_input)
        return _islice_closing(make_input, self.count, None)

    def reorder_chunks(self, make_input):
        if self.count < 0:
            return _drain(make_input)
        return _slice_chunks(make_input, self.count, None)

    def cardinality(self):
        n = self.inputs[0].cardinality()
        if n < 0:
            return n
        return 0 if self.count < 0 else max(n - self.count, 0)


def _drain(make_input):
    # skip(-1) skips everything; the input is still run through, as tf.data does.
    with closing(make_input()) as it:
        for _ in it:
            pass
    yield from ()


class Shard(Reorder):
    label = "shard"

    def __init__(self, input_node, num_shards: int, index: int):
        super().__init__(input_node)
        self.num_shards, self.index = num_shards, index

    def reorder_elements(self, make_input):
        return _islice_closing(make_input, self.index, None, self.num_shards)

    def reorder_chunks(self, make_input):
        return _slice_chunks(make_input, self.index, None, self.num_shards)

    def cardinality(self):
        n = self.inputs[0].cardinality()
        if n < 0:
            return n
        return n // self.num_shards + (1 if n % self.num_shards > self.index else 0)
