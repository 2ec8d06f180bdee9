"""``Dataset``: the public face of a pipeline. Sources and inspection live here; the
transformations are ``_transformations.Transformations``, which this class inherits.

A Dataset wraps one immutable node (``_node.py``); every method returns a new Dataset around a
new node, so a dataset can be shared, re-iterated and extended without changing it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .._dtypes import int64
from .._errors import ArgumentTypeError
from .._tensor import Tensor
from ..ops import asarray
from . import _nest
from ._combine import Zip
from ._generator import FromGenerator, FromTensors
from ._node import INFINITE, UNKNOWN, Node, closing
from ._sources import from_tensor_slices, range_node
from ._spec import TensorSpec
from ._transformations import Transformations


def _signature(output_types, output_shapes):
    """TF's older ``from_generator(gen, output_types, output_shapes)`` as a signature."""
    if output_types is None:
        return None
    if output_shapes is None:
        return _nest.map_structure(lambda t: TensorSpec(None, t), output_types)
    shapes = _nest.flatten_up_to(output_types, output_shapes, "Dataset.from_generator: "
                                 "output_shapes")
    return _nest.pack(output_types, [TensorSpec(s, t) for s, t in
                                     zip(shapes, _nest.flatten(output_types))])


class Dataset(Transformations):
    """An input pipeline (TensorFlow's ``tf.data.Dataset``): a source, then transformations.

    Iterate it with a plain ``for`` loop; each ``iter()`` is a new epoch. Elements are
    eagerflow tensors, or tuples and dicts of them, nested as the source was.

    >>> import numpy as np
    >>> from eagerflow_core import data
    >>> ds = data.Dataset.from_tensor_slices((np.arange(6.0), np.arange(6) % 2)).batch(4)
    >>> for x, y in ds:
    ...     print(x.tolist(), y.tolist())
    [0.0, 1.0, 2.0, 3.0] [0, 1, 0, 1]
    [4.0, 5.0] [0, 1]
    """

    __slots__ = ("_node",)

    def __init__(self, node):
        if not isinstance(node, Node):
            raise ArgumentTypeError(
                "Dataset is not made directly: start from Dataset.from_tensor_slices, "
                "from_tensors, from_generator or range")
        self._node = node

    # -- sources ---------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors) -> Dataset:
        """The slices of ``tensors`` along axis 0 as elements.

        ``tensors`` is a tensor, a NumPy array or a (nested) list, or a tuple/dict nesting
        them; every component must have the same first dimension. NumPy arrays stay on the
        host and are read (and copied) batch by batch.

        >>> from eagerflow_core import data
        >>> ds = data.Dataset.from_tensor_slices({"a": [1, 2, 3], "b": [[1.0], [2.0], [3.0]]})
        >>> [(int(e["a"]), e["b"].tolist()) for e in ds]
        [(1, [1.0]), (2, [2.0]), (3, [3.0])]
        """
        return Dataset(from_tensor_slices(tensors))

    @staticmethod
    def from_tensors(tensors) -> Dataset:
        """A dataset of one element, ``tensors`` (a tensor or a tuple/dict of them).

        >>> from eagerflow_core import data
        >>> [x.tolist() for x in data.Dataset.from_tensors([1, 2, 3])]
        [[1, 2, 3]]
        """
        return Dataset(FromTensors(tensors))

    @staticmethod
    def from_generator(generator: Callable, output_types=None, output_shapes=None,
                       args: tuple | None = None, output_signature=None) -> Dataset:
        """The elements a Python generator yields; ``generator(*args)`` is called anew for
        each epoch.

        ``output_signature`` (a nested structure of ``TensorSpec``) is checked against every
        element, and values are converted to its dtypes; without it, elements keep the
        structure and dtypes they are yielded with. ``output_types``/``output_shapes`` are
        TensorFlow's older way of giving the signature.

        >>> import eagerflow_core as ef
        >>> from eagerflow_core import data
        >>> def gen():
        ...     for i in range(3):
        ...         yield [1] * (i + 1), i
        >>> sig = (data.TensorSpec((None,), ef.int32), data.TensorSpec((), ef.int64))
        >>> ds = data.Dataset.from_generator(gen, output_signature=sig)
        >>> [(x.tolist(), int(y)) for x, y in ds]
        [([1], 0), ([1, 1], 1), ([1, 1, 1], 2)]
        """
        if output_signature is None:
            output_signature = _signature(output_types, output_shapes)
        return Dataset(FromGenerator(generator, args, output_signature))

    @staticmethod
    def range(*args: int, output_type=None) -> Dataset:
        """``range(stop)``, ``range(start, stop[, step])`` as int64 scalars (or
        ``output_type``).

        >>> from eagerflow_core import data
        >>> [int(x) for x in data.Dataset.range(1, 8, 3)]
        [1, 4, 7]
        """
        return Dataset(range_node(args, output_type))

    @staticmethod
    def zip(*args, datasets=None) -> Dataset:
        """Elements of several datasets side by side, nested as given: ``zip(a, b)``,
        ``zip((a, b))`` or ``zip({"x": a, "y": b})``. Stops with the shortest.

        >>> from eagerflow_core import data
        >>> a, b = data.Dataset.range(3), data.Dataset.range(10, 20)
        >>> [(int(x), int(y)) for x, y in data.Dataset.zip(a, b)]
        [(0, 10), (1, 11), (2, 12)]
        """
        structure = datasets if datasets is not None else (
            args[0] if len(args) == 1 else args)
        if not _nest.flatten(structure):
            raise ArgumentTypeError("Dataset.zip: give at least one dataset")
        for d in _nest.flatten(structure):
            if not isinstance(d, Dataset):
                raise ArgumentTypeError(f"Dataset.zip: expected datasets (possibly in tuples "
                                        f"and dicts), found {type(d).__name__}")
        return Dataset(Zip(_nest.map_structure(lambda d: d._node, structure)))

    # -- iteration -------------------------------------------------------------------------
    def __iter__(self) -> Iterator:
        return self._node.elements()

    def as_numpy_iterator(self) -> Iterator:
        """The elements with NumPy arrays for tensors (NumPy scalars for 0-d ones).

        >>> from eagerflow_core import data
        >>> [int(x) for x in data.Dataset.range(3).as_numpy_iterator()]
        [0, 1, 2]
        """
        with closing(self._node.elements()) as it:
            for element in it:
                yield _nest.map_structure(_to_numpy, element)

    # -- inspection ------------------------------------------------------------------------
    @property
    def element_spec(self):
        """A ``TensorSpec`` per component, nested as the elements are.

        Shapes follow the pipeline statically where they can (a batch dimension is ``None``
        unless ``drop_remainder``). After ``map`` (or a generator without a signature) the
        function runs once on the first element and its result gives the spec: an eager
        function has no trace to read shapes from.

        >>> from eagerflow_core import data
        >>> data.Dataset.range(10).batch(4).element_spec
        TensorSpec(shape=(None,), dtype=ef.int64, name=None)
        """
        return self._node.spec()

    def cardinality(self) -> Tensor:
        """The number of elements as a 0-d int64 tensor: ``INFINITE_CARDINALITY`` (-1) for an
        endless dataset, ``UNKNOWN_CARDINALITY`` (-2) where it cannot be known without
        running it (after ``filter``, say).

        >>> from eagerflow_core import data
        >>> int(data.Dataset.range(10).batch(4).cardinality())
        3
        >>> int(data.Dataset.range(10).repeat().cardinality()) == data.INFINITE_CARDINALITY
        True
        """
        return asarray(self._node.cardinality(), dtype=int64)

    def __len__(self) -> int:
        n = self._node.cardinality()
        if n == INFINITE:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return n

    def __bool__(self):
        return True  # a dataset is a pipeline, not a container: never falsy, even if empty

    def __repr__(self):
        n = self._node.cardinality()
        size = {INFINITE: "infinite", UNKNOWN: "unknown"}.get(n, str(n))
        return f"<Dataset {' -> '.join(self._node.chain())}, cardinality={size}>"


def _to_numpy(t):
    host = t.numpy()
    return host[()] if host.ndim == 0 else host

