"""The transformations of ``Dataset``: each checks its arguments and returns a new Dataset
around a new node; nothing runs until the dataset is iterated."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._errors import ArgumentTypeError, InvalidArgumentError
from ._batch import Batch, PaddedBatch, Unbatch
from ._combine import Cache, Concatenate, Enumerate
from ._function import call, to_element
from ._map import AUTOTUNE, Filter, Interleave, Map, threads_for
from ._node import closing, count_arg, int_arg, positive_int
from ._order import Repeat, Shard, Shuffle, Skip, Take
from ._prefetch import AUTOTUNE_BUFFER, Prefetch

if TYPE_CHECKING:
    from ._dataset import Dataset


def _node_of(result):
    """A Dataset's node (for functions that return datasets), else None."""
    return result._node if isinstance(result, Transformations) else None


def _callable(fn, what):
    if not callable(fn):
        raise ArgumentTypeError(f"{what}: expected a function, got {type(fn).__name__}")
    return fn


class Transformations:
    """Mixed into ``Dataset``; ``self._node`` is the pipeline so far."""

    __slots__ = ()

    def _then(self, node):
        return type(self)(node)

    # -- functions on elements -------------------------------------------------------------
    def map(self, map_func: Callable, num_parallel_calls: int | None = None,
            deterministic: bool | None = None) -> Dataset:
        """``map_func`` on every element (a tuple element is unpacked into arguments).

        With ``num_parallel_calls`` (an int, or ``data.AUTOTUNE`` for one per core) the
        function runs in that many threads; results keep the input order either way
        (``deterministic`` is accepted for TensorFlow code: the order is always kept). An
        exception raised by ``map_func`` is re-raised naming the element's index.

        >>> from eagerflow_core import data
        >>> ds = data.Dataset.range(4).map(lambda x: x * 10, num_parallel_calls=2)
        >>> [int(x) for x in ds]
        [0, 10, 20, 30]
        """
        _callable(map_func, "Dataset.map")
        return self._then(Map(self._node, map_func, threads_for(num_parallel_calls)))

    def filter(self, predicate: Callable) -> Dataset:
        """The elements for which ``predicate`` returns True (a bool or a 0-d bool tensor).

        >>> from eagerflow_core import data
        >>> [int(x) for x in data.Dataset.range(6).filter(lambda x: x % 2 == 0)]
        [0, 2, 4]
        """
        return self._then(Filter(self._node, _callable(predicate, "Dataset.filter")))

    def flat_map(self, map_func: Callable) -> Dataset:
        """``map_func`` returns a Dataset for each element; their elements follow in turn.

        >>> from eagerflow_core import data
        >>> ds = data.Dataset.range(1, 3).flat_map(lambda n: data.Dataset.range(int(n)))
        >>> [int(x) for x in ds]
        [0, 0, 1]
        """
        fn = _callable(map_func, "Dataset.flat_map")
        return self._then(Interleave(self._node, fn, _node_of, 1, None, "Dataset.flat_map"))

    def interleave(self, map_func: Callable, cycle_length: int | None = None,
                   block_length: int | None = None, num_parallel_calls: int | None = None,
                   deterministic: bool | None = None) -> Dataset:
        """``map_func`` returns a Dataset for each element; ``cycle_length`` of them (default:
        one per core, as TF) are read in turn, ``block_length`` elements (default 1) at a
        time. They are read in the iterating thread: ``num_parallel_calls`` and
        ``deterministic`` are accepted for TensorFlow code.

        >>> from eagerflow_core import data
        >>> ds = data.Dataset.range(1, 4).interleave(
        ...     lambda x: data.Dataset.from_tensors(x).repeat(3), cycle_length=2, block_length=2)
        >>> [int(x) for x in ds]
        [1, 1, 2, 2, 1, 2, 3, 3, 3]
        """
        fn = _callable(map_func, "Dataset.interleave")
        cycle = AUTOTUNE if cycle_length is None else positive_int(
            cycle_length, "Dataset.interleave: cycle_length", allow=(AUTOTUNE,))
        block = 1 if block_length is None else positive_int(
            block_length, "Dataset.interleave: block_length")
        if cycle == AUTOTUNE:
            cycle = os.cpu_count() or 1
        return self._then(Interleave(self._node, fn, _node_of, cycle, block,
                                     "Dataset.interleave"))

    def apply(self, transformation_func: Callable[[Dataset], Dataset]) -> Dataset:
        """``transformation_func(self)``: a reusable chain of transformations.

        >>> from eagerflow_core import data
        >>> evens = lambda ds: ds.filter(lambda x: x % 2 == 0)
        >>> [int(x) for x in data.Dataset.range(5).apply(evens)]
        [0, 2, 4]
        """
        result = transformation_func(self)
        if not isinstance(result, Transformations):
            raise ArgumentTypeError(f"Dataset.apply: the function must return a Dataset, got "
                                    f"{type(result).__name__}")
        return result

    def reduce(self, initial_state, reduce_func: Callable):
        """Folds the elements: ``state = reduce_func(state, element)`` from
        ``initial_state``; returns the last state.

        >>> from eagerflow_core import data
        >>> int(data.Dataset.range(5).reduce(0, lambda total, x: total + x))
        10
        """
        _callable(reduce_func, "Dataset.reduce")
        state = to_element(initial_state, "Dataset.reduce", 0)
        with closing(self._node.elements()) as it:
            for index, element in enumerate(it):
                state = to_element(call(reduce_func, (state, element), "Dataset.reduce", index),
                                   "Dataset.reduce", index)
        return state

    # -- batching --------------------------------------------------------------------------
    def batch(self, batch_size: int, drop_remainder: bool = False,
              num_parallel_calls: int | None = None, deterministic: bool | None = None
              ) -> Dataset:
        """``batch_size`` consecutive elements stacked along a new axis 0; the last batch is
        smaller unless ``drop_remainder``.

        Right after a source and order-only steps (``shuffle``, ``repeat``, ``take``,
        ``skip``, ``shard``) each batch is gathered from the source in one indexing per
        component. ``num_parallel_calls``/``deterministic`` are accepted for TensorFlow code.

        >>> from eagerflow_core import data
        >>> [b.tolist() for b in data.Dataset.range(5).batch(2)]
        [[0, 1], [2, 3], [4]]
        >>> [b.tolist() for b in data.Dataset.range(5).batch(2, drop_remainder=True)]
        [[0, 1], [2, 3]]
        """
        size = positive_int(batch_size, "Dataset.batch: batch_size")
        return self._then(Batch(self._node, size, drop_remainder))

    def padded_batch(self, batch_size: int, padded_shapes=None, padding_values=None,
                     drop_remainder: bool = False) -> Dataset:
        """Like ``batch``, for elements of different shapes: each component is padded, with
        ``padding_values`` (default 0), to ``padded_shapes`` (a shape per component; ``None``
        or -1 in it, or no ``padded_shapes`` at all, pads to the largest in the batch).

        >>> from eagerflow_core import data
        >>> ds = data.Dataset.from_generator(lambda: iter([[1], [2, 2], [3, 3, 3]]))
        >>> [b.tolist() for b in ds.padded_batch(2, padding_values=-1)]
        [[[1, -1], [2, 2]], [[3, 3, 3]]]
        """
        size = positive_int(batch_size, "Dataset.padded_batch: batch_size")
        return self._then(PaddedBatch(self._node, size, padded_shapes, padding_values,
                                      drop_remainder))

    def unbatch(self) -> Dataset:
        """Splits each element along axis 0 into elements (``batch``'s inverse).

        >>> from eagerflow_core import data
        >>> [int(x) for x in data.Dataset.range(5).batch(2).unbatch()]
        [0, 1, 2, 3, 4]
        """
        return self._then(Unbatch(self._node))

    # -- order -----------------------------------------------------------------------------
    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool = True) -> Dataset:
        """Shuffles with a buffer of ``buffer_size`` elements, as tf.data: each output is a
        random pick from the buffer, refilled from the input (a buffer as large as the
        dataset is a full shuffle). A ``seed`` makes the orders reproducible; without one,
        ``ef.random.set_seed`` does (each shuffle made after it gets its own seed, the same in
        every run, as in TensorFlow). Each epoch has a new order unless
        ``reshuffle_each_iteration=False``.

        >>> from eagerflow_core import data
        >>> ds = data.Dataset.range(6).shuffle(6, seed=1)
        >>> first, second = [int(x) for x in ds], [int(x) for x in ds]
        >>> sorted(first), first != second
        ([0, 1, 2, 3, 4, 5], True)
        """
        size = positive_int(buffer_size, "Dataset.shuffle: buffer_size")
        if seed is not None:
            seed = int_arg(seed, "Dataset.shuffle: seed")
        return self._then(Shuffle(self._node, size, seed,
                                  True if reshuffle_each_iteration is None
                                  else bool(reshuffle_each_iteration)))

    def repeat(self, count: int | None = None) -> Dataset:
        """The dataset ``count`` times (forever with ``None`` or -1); each repetition is a new
        epoch of the input (a shuffle above reshuffles).

        >>> from eagerflow_core import data
        >>> [int(x) for x in data.Dataset.range(2).repeat(3)]
        [0, 1, 0, 1, 0, 1]
        """
        return self._then(Repeat(self._node, count_arg(count, "Dataset.repeat: count")))

    def take(self, count: int) -> Dataset:
        """The first ``count`` elements (all of them for -1).

        >>> from eagerflow_core import data
        >>> [int(x) for x in data.Dataset.range(10).take(3)]
        [0, 1, 2]
        """
        return self._then(Take(self._node, count_arg(count, "Dataset.take: count")))

    def skip(self, count: int) -> Dataset:
        """All but the first ``count`` elements (none for -1).

        >>> from eagerflow_core import data
        >>> [int(x) for x in data.Dataset.range(5).skip(3)]
        [3, 4]
        """
        return self._then(Skip(self._node, count_arg(count, "Dataset.skip: count")))

    def shard(self, num_shards: int, index: int) -> Dataset:
        """Every ``num_shards``-th element from the ``index``-th: the shards of all indices
        partition the dataset (one per worker).

        >>> from eagerflow_core import data
        >>> [int(x) for x in data.Dataset.range(10).shard(3, 1)]
        [1, 4, 7]
        """
        n = positive_int(num_shards, "Dataset.shard: num_shards")
        i = positive_int(index, "Dataset.shard: index", allow=(0,))
        if i >= n:
            raise InvalidArgumentError(f"Dataset.shard: index must be in [0, num_shards), got "
                                       f"index {i} with num_shards {n}")
        return self._then(Shard(self._node, n, i))

    # -- the rest --------------------------------------------------------------------------
    def prefetch(self, buffer_size: int) -> Dataset:
        """Runs the pipeline in a background thread, up to ``buffer_size`` elements ahead of
        the loop (``data.AUTOTUNE``: a small default). The thread ends with the iteration.

        >>> from eagerflow_core import data
        >>> [int(x) for x in data.Dataset.range(3).prefetch(2)]
        [0, 1, 2]
        """
        n = positive_int(buffer_size, "Dataset.prefetch: buffer_size", allow=(0, AUTOTUNE))
        return self._then(Prefetch(self._node, AUTOTUNE_BUFFER if n == AUTOTUNE else n))

    def enumerate(self, start: int = 0) -> Dataset:
        """``(index, element)`` pairs, the index an int64 tensor counting from ``start``.

        >>> from eagerflow_core import data
        >>> [(int(i), int(x)) for i, x in data.Dataset.range(5, 7).enumerate()]
        [(0, 5), (1, 6)]
        """
        return self._then(Enumerate(self._node, int_arg(start, "Dataset.enumerate: start")))

    def concatenate(self, dataset: Dataset) -> Dataset:
        """The elements of this dataset, then those of ``dataset``.

        >>> from eagerflow_core import data
        >>> [int(x) for x in data.Dataset.range(2).concatenate(data.Dataset.range(5, 6))]
        [0, 1, 5]
        """
        if not isinstance(dataset, Transformations):
            raise ArgumentTypeError(f"Dataset.concatenate: expected a Dataset, got "
                                    f"{type(dataset).__name__}")
        return self._then(Concatenate(self._node, dataset._node))

    def cache(self, filename: str = "") -> Dataset:
        """Keeps the elements of the first complete epoch in memory and replays them in later
        epochs (only the in-memory cache: ``filename`` must be empty).

        >>> from eagerflow_core import data
        >>> calls = []
        >>> ds = data.Dataset.range(3).map(lambda x: calls.append(1) or x).cache()
        >>> _ = list(ds), list(ds)
        >>> len(calls)
        3
        """
        if filename:
            raise InvalidArgumentError("Dataset.cache: only the in-memory cache is supported "
                                       "(filename=''); eagerflow has no file cache")
        return self._then(Cache(self._node))
