"""Steps that combine or keep elements: zip, concatenate, enumerate, cache."""

from __future__ import annotations

import threading

from .._dtypes import int64
from ..ops import asarray
from . import _nest
from ._node import INFINITE, UNKNOWN, Node, closing
from ._spec import TensorSpec


class Zip(Node):
    """Elements of several datasets side by side, nested as the datasets were given; it ends
    with the shortest."""

    label = "zip"

    def __init__(self, structure):
        self.structure = structure  # a (nested) tuple/dict of Nodes
        self.inputs = tuple(_nest.flatten(structure))

    def elements(self):
        iterators = []
        try:
            for node in self.inputs:
                iterators.append(node.elements())
            while True:
                row = []
                for it in iterators:
                    element = next(it, _DONE)
                    if element is _DONE:
                        return
                    row.append(element)
                yield _nest.pack(self.structure, row)
        finally:
            for it in iterators:
                it.close()

    def cardinality(self):
        result = INFINITE
        for node in self.inputs:
            n = node.cardinality()
            if n == UNKNOWN:
                return UNKNOWN
            if n != INFINITE:
                result = n if result == INFINITE else min(result, n)
        return result

    def compute_spec(self):
        return _nest.pack(self.structure, [node.spec() for node in self.inputs])

    def chain(self):
        return [f"zip({', '.join('->'.join(n.chain()) for n in self.inputs)})"]


_DONE = object()


class Concatenate(Node):
    label = "concatenate"

    def __init__(self, first, second):
        self.inputs = (first, second)

    def elements(self):
        for node in self.inputs:
            with closing(node.elements()) as it:
                yield from it

    def cardinality(self):
        a, b = (node.cardinality() for node in self.inputs)
        if UNKNOWN in (a, b):
            return UNKNOWN
        return INFINITE if INFINITE in (a, b) else a + b

    def chain(self):
        a, b = ("->".join(n.chain()) for n in self.inputs)
        return [f"concatenate({a}, {b})"]


class Enumerate(Node):
    label = "enumerate"

    def __init__(self, input_node, start: int):
        self.inputs = (input_node,)
        self.start = start

    def elements(self):
        with closing(self.inputs[0].elements()) as it:
            for i, element in enumerate(it, self.start):
                yield asarray(i, dtype=int64), element

    def cardinality(self):
        return self.inputs[0].cardinality()

    def compute_spec(self):
        return TensorSpec((), int64), self.inputs[0].spec()


class Cache(Node):
    """Keeps the elements of the first complete epoch in memory and replays them after.

    An epoch left early is not kept (tf.data drops a partial in-memory cache too). Elements
    are tensors, which never change, so replaying them shares nothing mutable; a shuffle above
    the cache still reshuffles every epoch, one below it is frozen at its first order.
    """

    label = "cache"

    def __init__(self, input_node):
        self.inputs = (input_node,)
        self._kept: list | None = None
        self._lock = threading.Lock()

    def elements(self):
        kept = self._kept
        if kept is not None:
            yield from kept
            return
        filling = []
        with closing(self.inputs[0].elements()) as it:
            for element in it:
                filling.append(element)
                yield element
        with self._lock:
            if self._kept is None:
                self._kept = filling

    def cardinality(self):
        return self.inputs[0].cardinality()
