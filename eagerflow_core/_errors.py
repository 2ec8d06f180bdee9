"""eagerflow's exceptions.

Each one subclasses the built-in a Python user would catch (``ValueError``, ``TypeError``,
``IndexError``, ...), so ``except ValueError`` keeps working, and ``EagerflowError`` so that
``except ef.EagerflowError`` catches everything the framework raises on purpose.
"""

from __future__ import annotations


class EagerflowError(Exception):
    """Base class of every error eagerflow raises on purpose."""


class ShapeError(EagerflowError, ValueError):
    """Shapes that do not fit the op (broadcasting, matmul inner sizes, reshape sizes...)."""


class AxisError(EagerflowError, IndexError, ValueError):
    """An axis outside ``[-ndim, ndim)``, or repeated. Like NumPy's, both an IndexError and a ValueError."""


class DTypeError(EagerflowError, TypeError):
    """A dtype the op does not accept, or dtypes with no common type."""


class ArgumentTypeError(EagerflowError, TypeError):
    """A Python object of the wrong kind where a tensor (or a scalar) was expected."""


class InvalidArgumentError(EagerflowError, ValueError):
    """A parameter with a value the op cannot use."""


class OutOfRangeError(EagerflowError, IndexError):
    """An index past the end of an axis."""


class DeviceError(EagerflowError, ValueError):
    """Tensors on different devices in one op, or an unknown / unavailable device."""


class KernelNotFoundError(EagerflowError, NotImplementedError):
    """The backend of the inputs' device has no kernel for this op."""


class PluginError(EagerflowError, RuntimeError):
    """A backend plugin failed to load (raised only with ``EAGERFLOW_STRICT_PLUGINS=1``)."""


class KernelError(EagerflowError, RuntimeError):
    """A kernel failed for a reason the core's own checks did not predict."""


# A kernel's exception is re-raised as the eagerflow error of the same family, so that the
# built-in a user catches does not depend on which backend ran the op.
_BUILTIN_TO_EF = (
    (IndexError, OutOfRangeError),
    (TypeError, DTypeError),
    (ValueError, InvalidArgumentError),
    (ZeroDivisionError, InvalidArgumentError),
    (ArithmeticError, InvalidArgumentError),
    (NotImplementedError, KernelNotFoundError),
)


def error_class_for(exc: BaseException) -> type[EagerflowError]:
    """The eagerflow error class matching a backend exception's built-in family."""
    for builtin, ours in _BUILTIN_TO_EF:
        if isinstance(exc, builtin):
            return ours
    return KernelError
