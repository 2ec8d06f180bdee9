"""map (sequential, or in a thread pool with the order kept), filter and flat_map."""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from .._errors import ArgumentTypeError
from ._context import Inherited
from ._function import call, predicate_value, to_element
from ._node import UNKNOWN, Node, closing, positive_int

AUTOTUNE = -1


def threads_for(num_parallel_calls) -> int:
    """How many threads run a map: ``None`` runs it in the iterating thread (1)."""
    if num_parallel_calls is None:
        return 1
    n = positive_int(num_parallel_calls, "Dataset.map: num_parallel_calls", allow=(AUTOTUNE,))
    # AUTOTUNE: one thread per core. Kernels (NumPy's, BLAS) release the GIL, so threads
    # overlap where the function spends its time in them.
    return max(2, os.cpu_count() or 2) if n == AUTOTUNE else n


class Map(Node):
    label = "map"

    def __init__(self, input_node, fn, threads: int):
        self.inputs = (input_node,)
        self.fn, self.threads = fn, threads

    def _apply(self, element, index):
        return to_element(call(self.fn, element, "Dataset.map", index), "Dataset.map", index)

    def elements(self):
        return self._parallel() if self.threads > 1 else self._sequential()

    def _sequential(self):
        with closing(self.inputs[0].elements()) as it:
            for index, element in enumerate(it):
                yield self._apply(element, index)

    def _parallel(self):
        inherited = Inherited()

        def work(element, index):
            with inherited.entered():
                return self._apply(element, index)

        # At most 2 * threads elements in flight: the workers stay busy while the consumer
        # takes results, in input order (Future of element i before i + 1).
        limit = 2 * self.threads
        pool = ThreadPoolExecutor(self.threads, thread_name_prefix="eagerflow-map")
        pending = deque()
        try:
            with closing(self.inputs[0].elements()) as it:
                for index, element in enumerate(it):
                    pending.append(pool.submit(work, element, index))
                    if len(pending) >= limit:
                        yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            # Stopped early (break, an error): drop what has not started, wait for what has.
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True)

    def cardinality(self):
        return self.inputs[0].cardinality()

    def peek_elements(self):
        return self._sequential()

    def compute_spec(self):
        return self.peek_spec()


class Filter(Node):
    label = "filter"

    def __init__(self, input_node, predicate):
        self.inputs = (input_node,)
        self.predicate = predicate

    def elements(self):
        with closing(self.inputs[0].elements()) as it:
            for index, element in enumerate(it):
                if predicate_value(call(self.predicate, element, "Dataset.filter", index),
                                   index):
                    yield element


class Interleave(Node):
    """``fn`` maps each input element to a dataset; their elements are interleaved, as
    tf.data does: ``cycle_length`` datasets are open at a time, ``block_length`` elements are
    taken from each in turn, and an exhausted one is replaced by the next input's. ``flat_map``
    is the case of one open dataset read to its end."""

    label = "interleave"

    def __init__(self, input_node, fn, as_node, cycle_length: int, block_length, what: str):
        self.inputs = (input_node,)
        self.fn, self.as_node, self.what = fn, as_node, what  # as_node: Dataset -> its Node
        self.cycle_length, self.block_length = cycle_length, block_length  # None: to the end

    def _open(self, element, index):
        result = call(self.fn, element, self.what, index)
        node = self.as_node(result)
        if node is None:
            raise ArgumentTypeError(f"{self.what}: the function must return a Dataset, got "
                                    f"{type(result).__name__} for element {index}")
        return node.elements()

    def elements(self):
        n, block = self.cycle_length, self.block_length
        cycle = [None] * n
        try:
            with closing(self.inputs[0].elements()) as inputs:
                index = slot = taken = live = 0
                more_input = True
                while more_input or live:
                    it = cycle[slot]
                    if it is None and more_input:  # open the next input's dataset here
                        element = next(inputs, _DONE)
                        if element is _DONE:
                            more_input = False
                        else:
                            cycle[slot] = self._open(element, index)
                            index, live = index + 1, live + 1
                        continue
                    element = _DONE if it is None else next(it, _DONE)
                    if element is not _DONE:
                        taken += 1
                        if taken == block:
                            slot, taken = (slot + 1) % n, 0
                        yield element
                        continue
                    if it is not None:
                        it.close()
                        cycle[slot], live = None, live - 1
                    slot, taken = (slot + 1) % n, 0
        finally:
            for it in cycle:
                if it is not None:
                    it.close()

    def compute_spec(self):
        return self.peek_spec()

    def cardinality(self):
        return 0 if self.inputs[0].cardinality() == 0 else UNKNOWN


_DONE = object()
