"""The nodes a ``Dataset`` is a chain of, and the index plans that make batching fast.

A node knows how to run one epoch (``elements()``: a new generator per call, so each
``iter(ds)`` is a new epoch), its cardinality and its element spec. What a dataset means never
changes after construction; the state nodes keep only records what already happened: a
shuffle's epoch counter, a cache's first complete epoch, a spec once computed.

**Index plans.** Below a ``batch``, a chain made only of a random-access source
(``from_tensor_slices``, ``range``) and order-only steps (``shuffle``, ``repeat``, ``take``,
``skip``, ``shard``) does not need elements at all: it is a sequence of row indices into the
source. ``plan()`` returns that sequence, as a factory of int64 chunks, and ``batch`` then
gathers each batch with one indexing per component instead of stacking ``batch_size``
one-row tensors. The order-only steps mean the same on chunks of indices as on elements
(``_order.py``; the shuffle runs one algorithm with the same random draws on both), so a
pipeline gives the same order whichever path it takes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from .._errors import InvalidArgumentError
from . import _context, _nest
from ._spec import TensorSpec

INFINITE = -1
UNKNOWN = -2

CHUNK = 1 << 16  # indices per chunk of a source's plan


class Plan(NamedTuple):
    """One epoch of a random-access pipeline: ``chunks()`` yields int64 row indices of
    ``source`` (a new epoch per call)."""

    source: object  # _sources.SliceSource: .get(i), .gather(indices), .n
    chunks: Callable[[], Iterator[np.ndarray]]


@contextmanager
def closing(it):
    """Close a generator when the block ends, however it ends: its ``finally`` blocks (a
    prefetch thread's shutdown, a thread pool's) run now, not when the garbage collector
    gets to it."""
    try:
        yield it
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()


class Node:
    """A step of a pipeline. Subclasses set ``label`` and implement ``elements``."""

    label = "dataset"
    inputs: tuple = ()

    def elements(self) -> Iterator:
        raise NotImplementedError

    def plan(self) -> Plan | None:
        """The epoch as row indices of a random-access source, where it is one."""
        return None

    def cardinality(self) -> int:
        return UNKNOWN

    def spec(self):
        spec = self.__dict__.get("_spec")
        if spec is None:
            spec = self._spec = self.compute_spec()
        return spec

    def compute_spec(self):
        return self.inputs[0].spec()

    def peek_spec(self):
        """The spec of the first element, found by running the pipeline for one element.

        Eager functions have no trace to read shapes from; the first element is the next
        best. The peek does not count as an epoch of the shuffles below (``_context``).
        """
        with _context.peek(), closing(self.peek_elements()) as it:
            first = next(it, _EMPTY)
        if first is _EMPTY:
            raise InvalidArgumentError(
                f"element_spec: the {self.label} step produced no element to read the spec "
                f"from (its input is empty)")
        return _nest.map_structure(TensorSpec.from_tensor, first)

    def peek_elements(self) -> Iterator:
        """The elements, for ``peek_spec``: a step that runs ahead (a parallel map) gives a
        way that computes the first element only."""
        return self.elements()

    def chain(self) -> list[str]:
        """The labels of the steps from the source to this one."""
        steps = self.inputs[0].chain() if len(self.inputs) == 1 else []
        return steps + [self.label]


_EMPTY = object()


def int_arg(value, what: str) -> int:
    """``value`` as a Python int (a 0-d integer tensor or NumPy integer too, as TF accepts)."""
    if hasattr(value, "shape") and tuple(value.shape) == () and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidArgumentError(f"{what} must be an int, got {type(value).__name__}")
    return int(value)


def positive_int(value, what: str, *, allow=()) -> int:
    """``value`` as an int >= 1 (or one of ``allow``), else a clear error."""
    value = int_arg(value, what)
    if value < 1 and value not in allow:
        extra = "".join(f" or {a}" for a in allow)
        raise InvalidArgumentError(f"{what} must be >= 1{extra}, got {value}")
    return value


def count_arg(value, what: str) -> int:
    """A count that may be -1 (meaning "all" / "forever"), as TF's take/skip/repeat."""
    if value is None:
        return -1
    return positive_int(value, what, allow=(0, -1))
