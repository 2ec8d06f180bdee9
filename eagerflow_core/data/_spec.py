"""``TensorSpec``: the shape and dtype of one component of a dataset's elements."""

from __future__ import annotations

from .._dtypes import DType, as_dtype
from .._errors import ArgumentTypeError, InvalidArgumentError


def as_shape(shape, what: str) -> tuple | None:
    """A shape as a tuple of ints and ``None`` (unknown size); ``None`` for an unknown rank."""
    if shape is None:
        return None
    if isinstance(shape, int):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ArgumentTypeError(f"{what}: a shape is a tuple of ints and None, got "
                                f"{type(shape).__name__}") from None
    out = []
    for d in dims:
        if d is None or (isinstance(d, int) and d == -1):
            out.append(None)
        elif isinstance(d, int) and not isinstance(d, bool) and d >= 0:
            out.append(int(d))
        else:
            raise InvalidArgumentError(f"{what}: {tuple(dims)} is not a shape: each size is an "
                                       f"int >= 0, or None (or -1) for a size not known")
    return tuple(out)


class TensorSpec:
    """The shape and dtype of a tensor (TensorFlow's ``tf.TensorSpec``).

    ``None`` in ``shape`` is a size that may vary; ``shape=None`` leaves even the rank open.

    >>> import eagerflow_core as ef
    >>> spec = ef.data.TensorSpec((None, 3), ef.float32)
    >>> spec
    TensorSpec(shape=(None, 3), dtype=ef.float32, name=None)
    >>> spec.is_compatible_with(ef.zeros((5, 3)))
    True
    """

    __slots__ = ("dtype", "name", "shape")

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = as_shape(shape, "TensorSpec")
        self.dtype: DType = as_dtype(dtype)
        self.name = name

    @classmethod
    def from_tensor(cls, tensor, name=None) -> TensorSpec:
        """The spec of ``tensor``: its exact shape and dtype."""
        return cls(tuple(tensor.shape), tensor.dtype, name)

    def shape_compatible(self, shape) -> bool:
        """Whether a concrete ``shape`` fits this spec's shape (``None`` matches any size)."""
        if self.shape is None:
            return True
        return len(shape) == len(self.shape) and all(
            want is None or want == got for want, got in zip(self.shape, shape))

    def is_compatible_with(self, other) -> bool:
        """Whether a tensor (or a spec with fixed sizes) fits this spec."""
        shape = other.shape
        if shape is None:
            return self.shape is None and other.dtype is self.dtype
        return other.dtype is self.dtype and self.shape_compatible(shape)

    def __eq__(self, other):
        if not isinstance(other, TensorSpec):
            return NotImplemented
        return (self.shape, self.dtype, self.name) == (other.shape, other.dtype, other.name)

    def __hash__(self):
        return hash((self.shape, self.dtype, self.name))

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype!r}, name={self.name!r})"
