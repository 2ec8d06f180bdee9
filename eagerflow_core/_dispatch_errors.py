"""The errors of the op call path: every message names the op, the arguments' dtypes, shapes
and devices, and what would be valid. Kept apart from ``_dispatch.py`` so that the fast paths
read as the steps they take; these run only when something is wrong.
"""

from __future__ import annotations

import os

from ._dtypes import ALL_DTYPES, np
from ._errors import (ArgumentTypeError, DeviceError, DTypeError, EagerflowError,
                      InvalidArgumentError, KernelError, KernelNotFoundError, OutOfRangeError)
from ._tensor import Tensor

_SCALARS = (bool, int, float, complex)
_INT_BOUNDS = {d: (int(np.iinfo(d.numpy).min), int(np.iinfo(d.numpy).max))
               for d in ALL_DTYPES if d.kind in "iu"}


def describe(x) -> str:
    if isinstance(x, Tensor):
        return f"{x._dtype.name}{list(x.shape)} on {x._device}"
    if x is None:
        return "None"
    if isinstance(x, _SCALARS):
        return f"Python {type(x).__name__} {x!r}"
    if hasattr(x, "_ef_variable_"):
        return f"Variable {x.name!r} {x.dtype.name}{list(x.shape)} on {x.device}"
    return f"{type(x).__module__}.{type(x).__qualname__}"


def describe_all(args) -> str:
    return ", ".join(describe(a) for a in args)


def op_error(op, cls, message, args=()):
    """An eagerflow error of class ``cls`` whose message starts with the op name."""
    where = f" (got {describe_all(args)})" if args else ""
    return cls(f"{op.name}: {message}{where}")


def prefixed(op, exc, args):
    """``exc`` again, its message starting with the op name (dtype and shape rules raise
    messages without it)."""
    if str(exc).startswith(op.name + ":"):
        return exc
    return op_error(op, type(exc), str(exc), [a for a in args if isinstance(a, Tensor)])


def not_a_tensor(op, x):
    hint = ("wrap it with ef.asarray(...)" if isinstance(x, (list, tuple, np.ndarray))
            else "pass an eagerflow Tensor")
    return ArgumentTypeError(f"{op.name}: expected a Tensor, got {describe(x)}; {hint}")


def missing_kernel(op, dev, args):
    return op_error(op, KernelNotFoundError,
                    f"backend {dev.backend.name!r} (device {dev}) has no kernel for this op; "
                    f"move the inputs with .to(...) to a device whose backend has it "
                    f"(`eagerflow info` lists op coverage per backend), or allow a visible "
                    f"fallback with EAGERFLOW_FALLBACK=warn", args)


def device_mismatch(op, args):
    devs = sorted({str(a._device) for a in args if isinstance(a, Tensor)})
    return op_error(op, DeviceError,
                    f"inputs are on different devices ({', '.join(devs)}); eagerflow never moves "
                    f"data silently: move them to one device with x.to('{devs[0]}')", args)


def dtype_refused(op, dtype, args):
    return op_error(op, DTypeError, f"expects {op.accepts} input, not {dtype}", args)


def no_common_dtype(op, da, db, args):
    return op_error(op, DTypeError, f"no common dtype for {da} and {db}; cast one with "
                    f"ef.astype first", args)


def check_int_scalar(op, dtype, value, args):
    """A Python int must fit the dtype the kernel computes in (int8 / 1000 computes in
    float32, int8 + 1000 does not)."""
    lo, hi = _INT_BOUNDS[dtype]
    if not lo <= value <= hi:
        raise op_error(op, InvalidArgumentError,
                       f"the Python int {value} does not fit {dtype} (range {lo}..{hi}); "
                       f"cast the tensor first with ef.astype", args)


# A kernel's exception, once the core's own checks (devices, dtypes, shape rule) have passed,
# is mapped only where its class says something about the *values* the user gave: an index out
# of range, a value the math refuses (a singular matrix). A TypeError or NotImplementedError
# from a kernel is the backend's own limitation, not the user's dtype: a KernelError keeps the
# kernel's message and names the backend (issue #9).
_VALUE_ERRORS = ((IndexError, OutOfRangeError), (ValueError, InvalidArgumentError),
                 (ArithmeticError, InvalidArgumentError))


def failure(op, exc, args, params, dev):
    """Turn a kernel's exception into a clear eagerflow error."""
    if isinstance(exc, EagerflowError):
        return exc
    tensors = [a for a in args if isinstance(a, Tensor)]
    if op.shape_rule is not None:
        shapes = [a.shape if isinstance(a, Tensor) else () for a in args]
        try:
            if op.variadic:
                op.shape_rule(shapes, **params)
            else:
                op.shape_rule(*shapes, **params)
        except EagerflowError as clear:
            return op_error(op, type(clear), str(clear), tensors)
        except Exception:  # noqa: BLE001  (a shape rule that cannot judge these params)
            pass
    for builtin, ours in _VALUE_ERRORS:
        if isinstance(exc, builtin):
            return op_error(op, ours, f"the {dev.backend.name!r} kernel raised "
                            f"{type(exc).__name__}: {exc}", tensors)
    return op_error(op, KernelError, f"the {dev.backend.name!r} kernel raised "
                    f"{type(exc).__name__}: {exc}", tensors)


# -- checking what kernels return (issue #9) ----------------------------------------------------

def _env_checks() -> bool:
    return os.environ.get("EAGERFLOW_CHECK_KERNELS", "").strip().lower() in ("1", "true", "yes", "on")


class _Checks:
    """``EAGERFLOW_CHECK_KERNELS=1`` (or :func:`set_kernel_checks`): every kernel result is
    checked against the op's shape rule and the dtype the core decided. Off, the fast paths
    trust shapes and cast a result of another dtype; a result that is not an array at all is
    an error either way."""

    on = _env_checks()


checks = _Checks()


def set_kernel_checks(on: bool | None) -> None:
    """Turn kernel result checks on or off for this process (None: back to
    ``EAGERFLOW_CHECK_KERNELS``). The conformance kit turns them on.

    >>> import eagerflow_core as ef
    >>> ef.set_kernel_checks(True); ef.set_kernel_checks(None)
    """
    checks.on = _env_checks() if on is None else bool(on)


def bad_result(op, dev, raw, why: str):
    return KernelError(f"{op.name}: the {dev.backend.name!r} kernel returned "
                       f"{_what(raw)}; {why}")


def _what(raw) -> str:
    if raw is None:
        return "None"
    shape = getattr(raw, "shape", None)
    dtype = getattr(raw, "dtype", None)
    if shape is not None:
        return f"a {type(raw).__module__}.{type(raw).__qualname__} of shape {tuple(shape)}, dtype {dtype}"
    return f"a {type(raw).__module__}.{type(raw).__qualname__} ({raw!r:.40})"


def check_result(op, dev, raw, dtype, args, params, index=None):
    """The kernel-check mode's test of one result: its dtype and its shape. A result of a
    wider dtype of the same kind (a float32 matmul of bfloat16 inputs) loses nothing and is
    cast back by the caller; a narrower one (float16 for float32) or another kind is an error."""
    native = dev.native[dtype]
    if raw.dtype != native:
        have = dev.backend.from_native.get(raw.dtype)
        if have is None or have.kind != dtype.kind or have.itemsize < dtype.itemsize:
            raise bad_result(op, dev, raw, f"the op's dtype rule says {dtype} ({native}); the "
                             f"kernel computed in another dtype")
    want = expected_shape(op, args, params)
    if want is None:
        return
    if index is not None and _several(want):
        want = want[index]
    if want is not None and tuple(raw.shape) != tuple(want) and not _unknown_dims(want, raw.shape):
        raise bad_result(op, dev, raw, f"the op's shape rule says {tuple(want)} for "
                         f"{describe_all([a for a in args if isinstance(a, Tensor)])}")


def _several(shape) -> bool:
    """A shape rule's answer for several results: a list, or a tuple of shapes."""
    return isinstance(shape, list) or (isinstance(shape, tuple) and bool(shape)
                                       and isinstance(shape[0], (tuple, list)))


def _unknown_dims(want, have) -> bool:
    """A shape rule says None for a size it cannot know without the values (unique)."""
    return (len(want) == len(have) and any(w is None for w in want)
            and all(w is None or w == h for w, h in zip(want, have)))


def expected_shape(op, args, params):
    """What the shape rule says, as a tuple, or a list (one per output); None if unknown."""
    if op.shape_rule is None:
        return None
    shapes = [a.shape if isinstance(a, Tensor) else None if a is None else () for a in args]
    try:
        got = op.shape_rule(shapes, **params) if op.variadic else op.shape_rule(*shapes, **params)
    except EagerflowError:
        return None
    return got
