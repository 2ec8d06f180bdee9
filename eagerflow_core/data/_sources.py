"""Random-access sources: ``from_tensor_slices`` and ``range``.

A source is a set of columns (one per component) of the same length. A NumPy column stays a
host array: a batch of rows is one fancy index (a copy) and one ``asarray``, made on the
default device of the thread that iterates. A tensor column stays a tensor on its device and
is gathered with ``ef.take``. Single rows are copies too, so no element shares memory with
the caller's array. (As with ``torch.utils.data.TensorDataset``, a NumPy array is read while
iterating, not copied when the dataset is made: writing into it meanwhile changes what later
epochs see.)
"""

from __future__ import annotations

import numpy as np

from .._devices import default_device
from .._dtypes import as_dtype, int64
from .._errors import ArgumentTypeError, EagerflowError, InvalidArgumentError
from .._tensor import Tensor
from ..ops import asarray, take
from . import _nest
from ._node import CHUNK, Node, Plan
from ._spec import TensorSpec

_SHARES_HOST: dict = {}  # Device -> whether its tensors can take over host memory


def _adopt(host: np.ndarray) -> Tensor:
    """A tensor on the default device from ``host``, an array the pipeline has just made and
    nobody else holds. ``asarray`` copies host data by default (so that writing to a caller's
    array later cannot reach a tensor); this one has no other owner, so where the device keeps
    tensors in host memory the tensor takes it over (``copy=False``) and a batch is copied
    once, by the gather. On a device that cannot (a GPU), ``copy=False`` refuses, once per
    device, and the one copy to the device is made."""
    dev = default_device()
    if _SHARES_HOST.get(dev, True):
        try:
            t = asarray(host, copy=False)
        except InvalidArgumentError:
            _SHARES_HOST[dev] = False
        else:
            _SHARES_HOST[dev] = True
            return t
    return asarray(host)


def _rows(idx: np.ndarray):
    """The rows to gather: a slice where they are consecutive (unshuffled data), which reads
    memory in one sweep, else the index array itself."""
    n = len(idx)
    if n:
        lo, hi = int(idx[0]), int(idx[-1])
        if hi - lo == n - 1 and (n < 3 or bool((np.diff(idx) == 1).all())):
            return slice(lo, hi + 1)
    return idx


class _HostColumn:
    __slots__ = ("array",)

    def __init__(self, array: np.ndarray):
        self.array = array

    def get(self, i: int) -> Tensor:
        return _adopt(np.array(self.array[i]))  # a copy, also of a 0-d row

    def gather(self, rows) -> Tensor:
        part = self.array[rows]  # fancy indexing copies; a slice is a view: copy it
        return _adopt(part.copy() if type(rows) is slice else part)

    def spec(self) -> TensorSpec:
        return TensorSpec(self.array.shape[1:], self.array.dtype)


class _TensorColumn:
    __slots__ = ("tensor",)

    def __init__(self, tensor: Tensor):
        self.tensor = tensor

    def get(self, i: int) -> Tensor:
        return self.tensor[i]

    def gather(self, rows) -> Tensor:
        if type(rows) is slice:
            return self.tensor[rows]
        return take(self.tensor, asarray(rows, device=self.tensor.device), axis=0)

    def spec(self) -> TensorSpec:
        return TensorSpec(self.tensor.shape[1:], self.tensor.dtype)


class _RangeColumn:
    __slots__ = ("dtype", "start", "step")

    def __init__(self, start: int, step: int, dtype):
        self.start, self.step, self.dtype = start, step, dtype

    def get(self, i: int) -> Tensor:
        return asarray(self.start + i * self.step, dtype=self.dtype)

    def gather(self, rows) -> Tensor:
        idx = np.arange(rows.start, rows.stop) if type(rows) is slice else rows
        return asarray(self.start + idx * self.step, dtype=self.dtype)

    def spec(self) -> TensorSpec:
        return TensorSpec((), self.dtype)


def _column(leaf, path: str):
    """One component of ``from_tensor_slices``' input as a column."""
    what = f"Dataset.from_tensor_slices: {_nest.component(path)}"
    try:
        if isinstance(leaf, np.ndarray):
            asarray(leaf[:0] if leaf.ndim else leaf)  # an unsupported dtype fails here, early
            col = _HostColumn(leaf)
        elif type(leaf) is Tensor or hasattr(leaf, "_ef_tensor_") or (
                hasattr(leaf, "__dlpack__") and not isinstance(leaf, np.generic)):
            col = _TensorColumn(asarray(leaf))
        elif isinstance(leaf, (list, int, float, complex, np.generic)):
            col = _HostColumn(np.asarray(asarray(leaf).numpy()))
        else:
            raise ArgumentTypeError(
                f"{what} is a {type(leaf).__name__}; give tensors, NumPy arrays or (nested) "
                f"lists, possibly inside tuples and dicts")
    except EagerflowError as exc:
        if str(exc).startswith(what):
            raise
        raise type(exc)(f"{what}: {exc}") from None
    shape = col.tensor.shape if isinstance(col, _TensorColumn) else col.array.shape
    if not shape:
        raise InvalidArgumentError(
            f"{what} is a scalar (shape ()): from_tensor_slices slices every component along "
            f"axis 0; use Dataset.from_tensors for a single element")
    return col, shape[0]


class SliceSource:
    """Columns of equal length; ``get(i)`` is element ``i``, ``gather(idx)`` a batch."""

    def __init__(self, template, columns: list, n: int):
        self.template, self.columns, self.n = template, columns, n
        self._pack = _nest.packer(template)

    def get(self, i: int):
        return self._pack([c.get(i) for c in self.columns])

    def gather(self, idx: np.ndarray):
        rows = _rows(idx)
        return self._pack([c.gather(rows) for c in self.columns])

    def index_chunks(self):
        for start in range(0, self.n, CHUNK):
            yield np.arange(start, min(start + CHUNK, self.n), dtype=np.int64)

    def spec(self):
        return _nest.pack(self.template, [c.spec() for c in self.columns])


class SourceNode(Node):
    """A dataset read straight from a ``SliceSource``."""

    def __init__(self, source: SliceSource, label: str):
        self.source, self.label = source, label

    def elements(self):
        get = self.source.get
        for i in range(self.source.n):
            yield get(i)

    def plan(self):
        return Plan(self.source, self.source.index_chunks)

    def cardinality(self):
        return self.source.n

    def compute_spec(self):
        return self.source.spec()

    def chain(self):
        return [self.label]


def from_tensor_slices(tensors) -> SourceNode:
    if isinstance(tensors, (tuple, dict)) and not _nest.flatten(tensors):
        raise InvalidArgumentError("Dataset.from_tensor_slices: the structure has no component")
    leaves, names = _nest.flatten(tensors), _nest.paths(tensors)
    columns, sizes = zip(*(_column(leaf, p) for leaf, p in zip(leaves, names)))
    if len(set(sizes)) > 1:
        listed = ", ".join(f"{p} has {s}" for p, s in zip(names, sizes))
        raise InvalidArgumentError(
            f"Dataset.from_tensor_slices: the components have different sizes along axis 0 "
            f"({listed}); every component must have the same first dimension")
    return SourceNode(SliceSource(tensors, list(columns), sizes[0]), "from_tensor_slices")


def range_node(args, output_type) -> SourceNode:
    if not 1 <= len(args) <= 3:
        raise InvalidArgumentError(f"Dataset.range takes 1 to 3 arguments (start, stop, step), "
                                   f"got {len(args)}")
    for a in args:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise InvalidArgumentError(f"Dataset.range: arguments must be ints, got {a!r}")
    if len(args) == 3 and int(args[2]) == 0:
        raise InvalidArgumentError("Dataset.range: step must not be zero")
    r = range(*(int(a) for a in args))
    dtype = as_dtype(output_type) if output_type is not None else int64
    return SourceNode(SliceSource(0, [_RangeColumn(r.start, r.step, dtype)], len(r)), "range")
