"""Python operators on Tensor, each mapped to its op (``a + b`` is ``ef.add(a, b)``).

``x += y`` rebinds ``x`` to a new tensor (there is no ``__iadd__``): tensors are values, as in
TensorFlow and JAX, so other references to the old tensor and saved gradients stay correct.
"""

from __future__ import annotations

from .._dispatch import call, call_binary, call_unary
from .._errors import ShapeError
from .._registry import F as E
from .._tensor import Tensor

# The families are loaded before this module (ops/__init__.py): their functions are found by
# name through the registry, so this module imports none of them.
astype, matmul, matrix_transpose = E.astype, E.matmul, E.matrix_transpose


def _binary(op, reflected=False):
    if reflected:
        def method(self, other):
            return call_binary(op, other, self)
    else:
        def method(self, other):
            return call_binary(op, self, other)
    return method


def _unary(op):
    def method(self):
        return call_unary(op, self)
    return method


_BINARY = {
    "add": E.add, "sub": E.subtract, "mul": E.multiply, "truediv": E.divide,
    "floordiv": E.floor_divide, "mod": E.remainder, "pow": E.pow,
    "and": E.bitwise_and, "or": E.bitwise_or, "xor": E.bitwise_xor,
    "lshift": E.bitwise_left_shift, "rshift": E.bitwise_right_shift,
}
for _name, _fn in _BINARY.items():
    setattr(Tensor, f"__{_name}__", _binary(_fn.op))
    setattr(Tensor, f"__r{_name}__", _binary(_fn.op, reflected=True))

for _name, _fn in {"eq": E.equal, "ne": E.not_equal, "lt": E.less, "le": E.less_equal,
                   "gt": E.greater, "ge": E.greater_equal}.items():
    setattr(Tensor, f"__{_name}__", _binary(_fn.op))

for _name, _fn in {"neg": E.negative, "pos": E.positive, "abs": E.abs,
                   "invert": E.bitwise_invert}.items():
    setattr(Tensor, f"__{_name}__", _unary(_fn.op))


_MATMUL = matmul.op


def _matmul(self, other):
    return call(_MATMUL, (self, other))


def _rmatmul(self, other):
    return call(_MATMUL, (other, self))


Tensor.__matmul__ = _matmul
Tensor.__rmatmul__ = _rmatmul


def _T(self):
    if self.ndim != 2:
        raise ShapeError(f".T is for 2-D tensors (this one has shape {self.shape}); use .mT "
                         f"or ef.permute_dims for other ranks")
    return matrix_transpose(self)


def _mT(self):
    return matrix_transpose(self)


Tensor.T = property(_T, doc="Transpose of a 2-D tensor.")
Tensor.mT = property(_mT, doc="Transpose of the last two axes.")


def _astype(self, dtype, /, *, copy=True, device=None):
    """``ef.astype(self, dtype)``."""
    return astype(self, dtype, copy=copy, device=device)


Tensor.astype = _astype
