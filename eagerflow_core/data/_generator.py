"""Sources from Python objects: ``from_generator`` and ``from_tensors``."""

from __future__ import annotations

from .._errors import ArgumentTypeError, DTypeError, EagerflowError, ShapeError
from .._tensor import Tensor
from ..ops import asarray, astype
from . import _nest
from ._function import function_error, to_element
from ._node import Node
from ._spec import TensorSpec

WHAT = "Dataset.from_generator"

# A yielded value converts to the signature's dtype when nothing but precision could be lost:
# no fractional part dropped, no imaginary part, no number read as a bool (tf.data refuses a
# float where an int is declared, too).
_CONVERTS_TO = {"b": "b", "i": "iufc", "u": "iufc", "f": "fc", "c": "c"}


def _conform(x, spec: TensorSpec, index: int, path: str) -> Tensor:
    try:
        t = x if type(x) is Tensor else asarray(x)
    except EagerflowError as exc:
        raise type(exc)(f"{WHAT}: {_nest.at(index, path)}: {exc}") from None
    if t.dtype is not spec.dtype:
        if spec.dtype.kind not in _CONVERTS_TO[t.dtype.kind]:
            raise DTypeError(f"{WHAT}: {_nest.at(index, path)} has dtype {t.dtype}, "
                             f"which does not convert to {spec.dtype} as output_signature "
                             f"declares")
        t = astype(t, spec.dtype)
    if not spec.shape_compatible(t.shape):
        raise ShapeError(f"{WHAT}: {_nest.at(index, path)} has shape {t.shape}, "
                         f"not compatible with {spec.shape} as output_signature declares "
                         f"(None matches any size)")
    return t


class FromGenerator(Node):
    label = "from_generator"

    def __init__(self, generator, args, signature):
        if not callable(generator):
            raise ArgumentTypeError(
                f"{WHAT}: `generator` must be a callable that returns an iterator (e.g. the "
                f"generator function itself, not a call of it: each epoch calls it again), "
                f"got {type(generator).__name__}")
        if signature is not None:
            for s in _nest.flatten(signature):
                if not isinstance(s, TensorSpec):
                    raise ArgumentTypeError(f"{WHAT}: output_signature must be a (nested) "
                                            f"structure of TensorSpec, found {s!r}")
        self.generator, self.args, self.signature = generator, tuple(args or ()), signature

    def elements(self):
        try:
            it = iter(self.generator(*self.args))
        except Exception as exc:
            raise function_error(exc, WHAT, 0, "calling the generator raised",
                                 "(before element {})") from exc
        try:
            index = 0
            while True:
                try:
                    value = next(it)
                except StopIteration:
                    return
                except Exception as exc:
                    raise function_error(exc, WHAT, index, "the generator raised",
                                         "while producing element {} (counting from 0)") from exc
                yield self._element(value, index)
                index += 1
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    def _element(self, value, index):
        if self.signature is None:
            return to_element(value, WHAT, index, lists_are_structure=False)
        if value is None:
            raise ArgumentTypeError(f"{WHAT}: the generator yielded None as element {index}")
        what = f"{WHAT}: element {index}"
        leaves = _nest.flatten_up_to(self.signature, value, what)
        specs, names = _nest.flatten(self.signature), _nest.paths(self.signature)
        return _nest.pack(self.signature, [_conform(x, s, index, p)
                                           for x, s, p in zip(leaves, specs, names)])

    def compute_spec(self):
        if self.signature is not None:
            return self.signature
        return self.peek_spec()

    def chain(self):
        return [self.label]


class FromTensors(Node):
    """One element: the given structure of tensors."""

    label = "from_tensors"

    def __init__(self, tensors):
        self.element = to_element(tensors, "Dataset.from_tensors", 0, lists_are_structure=False)

    def elements(self):
        yield self.element

    def cardinality(self):
        return 1

    def compute_spec(self):
        return _nest.map_structure(TensorSpec.from_tensor, self.element)

    def chain(self):
        return [self.label]
