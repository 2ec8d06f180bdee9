"""Calling the user's functions on elements, and turning what they return into elements.

An exception raised inside a ``map``/``filter`` function (or a ``from_generator`` generator)
reaches the user as an eagerflow error naming the transformation and the element's index in
its input stream (counted from 0, in this epoch), with the original exception chained as
``__cause__`` (a tf.data pain point is errors that lose which element failed). The class keeps
the built-in family, so ``except ValueError`` still catches a ValueError raised in ``map``.
"""

from __future__ import annotations

import numpy as np

from .._errors import ArgumentTypeError, EagerflowError, KernelError, error_class_for
from .._tensor import Tensor
from ..ops import asarray
from . import _nest


class DatasetFunctionError(EagerflowError, RuntimeError):
    """A function given to a dataset raised an exception outside the built-in families
    eagerflow maps (ValueError, TypeError, IndexError, ...); the original is ``__cause__``."""


def function_error(exc: Exception, what: str, index: int, doing: str = "the function raised",
                   where: str = "on element {} (counting from 0) of its input"):
    """The error to raise for ``exc``, raised by the user's code on element ``index``."""
    cls = type(exc) if isinstance(exc, EagerflowError) else error_class_for(exc)
    if cls is KernelError:
        cls = DatasetFunctionError
    detail = str(exc) or "(no message)"
    message = (f"{what}: {doing} {type(exc).__name__} {where.format(index)}: {detail}")
    try:
        err = cls(message)
    except Exception:  # noqa: BLE001  (an EagerflowError subclass with its own constructor)
        err = DatasetFunctionError(message)
    err.element_index = index
    return err


def call(fn, element, what: str, index: int):
    """``fn`` on one element; a tuple is unpacked into arguments, as tf.data does."""
    try:
        if type(element) is tuple:
            return fn(*element)
        return fn(element)
    except Exception as exc:
        raise function_error(exc, what, index) from exc


def _leaf_tensor(x, what: str, index: int, path: str) -> Tensor:
    if type(x) is Tensor:
        return x
    if x is None or isinstance(x, (str, bytes)):
        raise ArgumentTypeError(
            f"{what}: {_nest.at(index, path)} is a {type(x).__name__}; a dataset "
            f"holds tensors (or NumPy arrays and Python numbers, converted to tensors)")
    try:
        return asarray(x)
    except EagerflowError as exc:
        raise type(exc)(f"{what}: {_nest.at(index, path)}: {exc}") from None


def _lists_to_tuples(s):
    # tf.data turns a list returned by a map function into a tuple (a list of tensors is
    # structure there, not one tensor).
    if isinstance(s, list):
        return tuple(_lists_to_tuples(x) for x in s)
    if isinstance(s, tuple) and not hasattr(s, "_fields"):
        return tuple(_lists_to_tuples(x) for x in s)
    if isinstance(s, dict):
        return type(s)((k, _lists_to_tuples(v)) for k, v in s.items())
    return s


def to_element(value, what: str, index: int, lists_are_structure: bool = True):
    """What a function returned, as an element: its leaves become tensors. A list is a
    tuple for a map function's result, one tensor for a generator's or from_tensors'."""
    if value is None:
        raise ArgumentTypeError(f"{what}: got None for element {index}; give a tensor or a "
                                f"tuple/dict of tensors")
    if type(value) is Tensor or (type(value) is tuple and all(type(x) is Tensor for x in value)):
        return value  # the common case, checked without walking the structure
    s = _lists_to_tuples(value) if lists_are_structure else value
    leaves = _nest.flatten(s)
    if all(type(x) is Tensor for x in leaves):
        return s
    names = _nest.paths(s)
    return _nest.pack(s, [_leaf_tensor(x, what, index, p) for x, p in zip(leaves, names)])


def predicate_value(result, index: int) -> bool:
    """A filter predicate's answer as a Python bool; it must be one boolean."""
    if isinstance(result, (bool, np.bool_)):
        return bool(result)
    shape = getattr(result, "shape", None)
    dtype = getattr(result, "dtype", None)
    if shape is not None and tuple(shape) == () and str(dtype) == "bool":
        return bool(result)
    got = (f"a tensor of shape {tuple(shape)} and dtype {dtype}" if shape is not None
           else type(result).__name__)
    raise ArgumentTypeError(f"Dataset.filter: the predicate must return one boolean (a Python "
                            f"bool or a 0-d bool tensor) for each element, got {got} for "
                            f"element {index}")
