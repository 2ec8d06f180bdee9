"""batch, padded_batch and unbatch.

``batch`` over an index plan (a source and order-only steps, ``_node.py``) gathers each batch
with one indexing per component; over anything else it stacks the elements, after checking
that they agree (a clear error names the element and the component that differ).
"""

from __future__ import annotations

import itertools

import numpy as np

from .._errors import DTypeError, InvalidArgumentError, ShapeError
from ..ops import full, stack
from . import _nest
from ._node import INFINITE, UNKNOWN, Node, closing
from ._spec import TensorSpec, as_shape


def _cut(chunks, size: int, drop_remainder: bool):
    """Index arrays of ``size`` from a stream of index chunks of any length."""
    parts, have = [], 0
    for chunk in chunks:
        while len(chunk):
            need = size - have
            parts.append(chunk[:need])
            have += min(need, len(chunk))
            chunk = chunk[need:]
            if have == size:
                yield parts[0] if len(parts) == 1 else np.concatenate(parts)
                parts, have = [], 0
    if have and not drop_remainder:
        yield np.concatenate(parts)


def _groups(elements, size: int, drop_remainder: bool):
    """``(index of the first element, list of elements)`` for each batch."""
    start = 0
    while True:
        group = list(itertools.islice(elements, size))
        if not group or (drop_remainder and len(group) < size):
            return
        yield start, group
        start += len(group)


def _columns(group, first: int, what: str):
    """The elements' leaves by component, checking that every element nests alike."""
    template = group[0]
    n = len(template) if type(template) is tuple else -1
    if n > 0 and all(type(e) is tuple and len(e) == n and not any(
            isinstance(x, (tuple, dict)) for x in e) for e in group):
        return template, [list(c) for c in zip(*group)], _nest.paths(template)  # flat tuples
    columns = [[x] for x in _nest.flatten(template)]
    for k, element in enumerate(group[1:], 1):
        if not _nest.same_structure(template, element):
            raise InvalidArgumentError(
                f"{what}: element {first + k} has the structure {_nest.describe(element)} but "
                f"element {first} has {_nest.describe(template)}")
        for column, x in zip(columns, _nest.flatten(element)):
            column.append(x)
    return template, columns, _nest.paths(template)


def stack_group(group, first: int, what: str = "Dataset.batch"):
    template, columns, names = _columns(group, first, what)
    out = []
    for column, name in zip(columns, names):
        shape, dtype = column[0].shape, column[0].dtype
        for k, x in enumerate(column):
            if x.dtype is not dtype:
                raise DTypeError(f"{what}: {_nest.at(first + k, name)} has dtype "
                                 f"{x.dtype} but element {first} has {dtype}")
            if x.shape != shape:
                raise ShapeError(
                    f"{what}: {_nest.at(first + k, name)} has shape {x.shape} but "
                    f"element {first} has {shape}; a batch stacks elements of one shape: use "
                    f"padded_batch to pad them to a common shape")
        out.append(stack(column, axis=0))
    return _nest.pack(template, out)


def _batched_spec(spec, batch_dim):
    return _nest.map_structure(
        lambda s: TensorSpec(None if s.shape is None else (batch_dim,) + s.shape, s.dtype), spec)


class Batch(Node):
    label = "batch"

    def __init__(self, input_node, batch_size: int, drop_remainder: bool):
        self.inputs = (input_node,)
        self.batch_size, self.drop_remainder = batch_size, bool(drop_remainder)

    def elements(self):
        plan = self.inputs[0].plan()
        if plan is not None:
            return self._gather(plan)
        return self._stack()

    def _gather(self, plan):
        gather = plan.source.gather
        with closing(plan.chunks()) as chunks:
            for idx in _cut(chunks, self.batch_size, self.drop_remainder):
                yield gather(idx)

    def _stack(self):
        with closing(self.inputs[0].elements()) as it:
            for first, group in _groups(it, self.batch_size, self.drop_remainder):
                yield stack_group(group, first)

    def cardinality(self):
        n = self.inputs[0].cardinality()
        if n < 0:
            return n
        return n // self.batch_size if self.drop_remainder else -(-n // self.batch_size)

    def compute_spec(self):
        return _batched_spec(self.inputs[0].spec(), self.batch_size if self.drop_remainder
                             else None)


class PaddedBatch(Batch):
    label = "padded_batch"

    def __init__(self, input_node, batch_size, padded_shapes, padding_values, drop_remainder):
        super().__init__(input_node, batch_size, drop_remainder)
        self.padded_shapes, self.padding_values = padded_shapes, padding_values

    def elements(self):
        return self._pad()

    def _targets(self, template):
        """Per component: the padded shape (None entries: the batch's largest) and value."""
        what = "Dataset.padded_batch"
        n = len(_nest.flatten(template))
        if self.padded_shapes is None:
            shapes = [None] * n
        else:
            shapes = [as_shape(s, f"{what}: padded_shapes") for s in
                      _nest.flatten_up_to(template, self.padded_shapes, f"{what}: padded_shapes")]
        if self.padding_values is None:
            values = [0] * n
        elif isinstance(self.padding_values, (tuple, dict)):
            values = _nest.flatten_up_to(template, self.padding_values,
                                         f"{what}: padding_values")
        else:
            values = [self.padding_values] * n  # one value for every component, as TF allows
        return shapes, values

    def _pad(self):
        what = "Dataset.padded_batch"
        targets = None
        with closing(self.inputs[0].elements()) as it:
            for first, group in _groups(it, self.batch_size, self.drop_remainder):
                template, columns, names = _columns(group, first, what)
                if targets is None:
                    targets = self._targets(template)
                out = [_pad_column(c, shape, value, name, first)
                       for c, shape, value, name in zip(columns, *targets, names)]
                yield _nest.pack(template, out)

    def compute_spec(self):
        spec = self.inputs[0].spec()
        leaves = _nest.flatten(spec)
        shapes, _ = self._targets(spec)
        batch_dim = self.batch_size if self.drop_remainder else None
        padded = []
        for s, want in zip(leaves, shapes):
            if want is None:  # padded to each batch's largest: no size is fixed
                want = None if s.shape is None else (None,) * len(s.shape)
            padded.append(TensorSpec(None if want is None else (batch_dim,) + want, s.dtype))
        return _nest.pack(spec, padded)


def _pad_column(column, padded_shape, value, name, first):
    what = "Dataset.padded_batch"
    rank = column[0].ndim
    dtype = column[0].dtype
    for k, x in enumerate(column):
        if x.ndim != rank or (padded_shape is not None and x.ndim != len(padded_shape)):
            want = rank if padded_shape is None else len(padded_shape)
            raise ShapeError(f"{what}: {_nest.at(first + k, name)} has shape "
                             f"{x.shape}, of rank {x.ndim}; expected rank {want}")
        if x.dtype is not dtype:
            raise DTypeError(f"{what}: {_nest.at(first + k, name)} has dtype "
                             f"{x.dtype} but element {first} has {dtype}")
    target = []
    for d in range(rank):
        largest = max(x.shape[d] for x in column)
        want = None if padded_shape is None else padded_shape[d]
        if want is not None and largest > want:
            k = next(k for k, x in enumerate(column) if x.shape[d] == largest)
            raise ShapeError(f"{what}: {_nest.at(first + k, name)} has size "
                             f"{largest} in dimension {d}, more than padded_shapes allows "
                             f"({want}; None pads to the batch's largest)")
        target.append(largest if want is None else want)
    target = tuple(target)
    if hasattr(value, "item"):
        value = value.item()
    padded = []
    for x in column:
        if x.shape != target:
            p = full(target, value, dtype=dtype)
            p[tuple(slice(0, s) for s in x.shape)] = x  # a functional update: p is rebound
            x = p
        padded.append(x)
    return stack(padded, axis=0)


class Unbatch(Node):
    label = "unbatch"

    def __init__(self, input_node):
        self.inputs = (input_node,)

    def elements(self):
        with closing(self.inputs[0].elements()) as it:
            for index, element in enumerate(it):
                leaves = _nest.flatten(element)
                sizes = {x.shape[0] if x.ndim else None for x in leaves}
                if len(sizes) != 1 or None in sizes:
                    shapes = ", ".join(f"{p or 'shape'} {x.shape}" for p, x in
                                       zip(_nest.paths(element), leaves))
                    raise ShapeError(f"Dataset.unbatch: element {index} cannot be split along "
                                     f"axis 0: its components must have rank >= 1 and one "
                                     f"first dimension ({shapes})")
                for i in range(sizes.pop()):
                    yield _nest.pack(element, [x[i] for x in leaves])

    def cardinality(self):
        n = self.inputs[0].cardinality()
        return INFINITE if n == INFINITE else (0 if n == 0 else UNKNOWN)

    def compute_spec(self):
        return _nest.map_structure(
            lambda s: TensorSpec(None if s.shape is None else s.shape[1:], s.dtype),
            self.inputs[0].spec())
