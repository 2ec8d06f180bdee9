"""What happens when a backend lacks a kernel: the fallback policy, its counters, and
``explain_dispatch``.

``EAGERFLOW_FALLBACK`` chooses: ``error`` (the default) raises a KernelNotFoundError naming the
op, backend and dtypes; ``warn`` runs the op on the fallback device (``EAGERFLOW_FALLBACK_DEVICE``,
default ``cpu``), moving the inputs there and the results back, and warns once per op;
``silent`` does the same without the warning. Every fallback is counted, so a user (or the
conformance kit's strict mode) can always tell which kernel ran: the silent CPU fallbacks that
MPS, DirectML and ONNX Runtime users keep reporting cannot happen unseen here.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections import Counter

from . import _convert
from ._dispatch_errors import missing_kernel
from ._errors import InvalidArgumentError
from ._tensor import Tensor

POLICIES = ("error", "warn", "silent")

_lock = threading.Lock()
_counts: Counter = Counter()   # (op, from_backend, to_backend) -> calls
_warned: set[str] = set()
_policy_override: str | None = None


class FallbackWarning(UserWarning):
    """An op ran on the fallback device because its backend has no kernel for it."""


def policy() -> str:
    """The fallback policy in force: ``set_fallback_policy``'s, else ``EAGERFLOW_FALLBACK``."""
    if _policy_override is not None:
        return _policy_override
    value = os.environ.get("EAGERFLOW_FALLBACK", "error").strip().lower() or "error"
    if value not in POLICIES:
        raise InvalidArgumentError(f"EAGERFLOW_FALLBACK={value!r}: use one of {', '.join(POLICIES)}")
    return value


def set_fallback_policy(value: str | None) -> None:
    """Set the policy for this process (``None`` goes back to ``EAGERFLOW_FALLBACK``).

    >>> import eagerflow_core as ef
    >>> ef.set_fallback_policy("warn"); ef.set_fallback_policy(None)
    """
    global _policy_override
    if value is not None and value not in POLICIES:
        raise InvalidArgumentError(f"fallback policy {value!r}: use one of {', '.join(POLICIES)}")
    _policy_override = value


def fallback_device():
    from ._devices import device
    return device(os.environ.get("EAGERFLOW_FALLBACK_DEVICE", "cpu"))


def run(op, dev, inputs, params, device, rerun):
    """``dev``'s backend has no kernel for ``op``: raise (policy "error"), or copy the tensor
    inputs to the fallback device, ``rerun(op, inputs, params, device)`` there, and copy the
    results back, counted (and warned once per op under "warn"). The copies are not ops: an
    interpreter above (a tape) saw the op itself, so gradients flow as for any op."""
    how = policy()
    tensors = [a for a in inputs if isinstance(a, Tensor)]
    if how == "error":
        raise missing_kernel(op, dev, tensors)
    target = fallback_device()
    if target is dev or op.name not in target.kernels:
        raise missing_kernel(op, dev, tensors)
    moved = [_convert.move(x, target) if isinstance(x, Tensor) else x for x in inputs]
    out = rerun(op, moved, params, None if tensors else target)
    note(op, dev, target, how)
    if isinstance(out, tuple):
        back = [_convert.move(o, dev) for o in out]
        return type(out)(*back) if hasattr(out, "_fields") else tuple(back)
    if isinstance(out, list):
        return [_convert.move(o, dev) for o in out]
    return _convert.move(out, dev)


def note(op, src, dst, how: str) -> None:
    with _lock:
        _counts[op.name, src.backend.name, dst.backend.name] += 1
        first = op.name not in _warned
        _warned.add(op.name)
    if how == "warn" and first:
        warnings.warn(f"eagerflow: backend {src.backend.name!r} has no kernel for {op.name!r}; "
                      f"it ran on {dst} instead (inputs copied there and back). "
                      f"EAGERFLOW_FALLBACK=error makes this an error; ef.fallback_stats() counts "
                      f"every fallback", FallbackWarning, stacklevel=4)


def fallback_stats() -> dict:
    """Every fallback so far: ``{(op, from_backend, to_backend): count}``.

    >>> import eagerflow_core as ef
    >>> ef.reset_fallback_stats(); ef.fallback_stats()
    {}
    """
    with _lock:
        return dict(_counts)


def reset_fallback_stats() -> None:
    """Zero the fallback counters (and warn again on the next fallback of each op)."""
    with _lock:
        _counts.clear()
        _warned.clear()


def explain_dispatch(op, *args, **params) -> str:
    """Say which backend and kernel a call ``op(*args, **params)`` would use, and why.

    >>> import eagerflow_core as ef
    >>> print(ef.explain_dispatch(ef.add, ef.ones(2), 1))
    add: inputs on cpu:0 -> backend 'numpy', kernel numpy.add; result dtype float32 (input float32, Python int is weak); policy 'error'
    """
    from . import _dtypes
    from ._devices import default_device
    from ._registry import OPS
    from ._tensor import Tensor
    opdef = OPS[op] if isinstance(op, str) else getattr(op, "op", op)
    tensors = [a for a in args if isinstance(a, Tensor)]
    devs = sorted({str(t.device) for t in tensors})
    if len(devs) > 1:
        return (f"{opdef.name}: inputs on {', '.join(devs)}: this call raises DeviceError "
                f"(eagerflow never moves data silently; use .to())")
    dev = tensors[0].device if tensors else default_device()
    where = f"inputs on {dev}" if tensors else f"no tensor inputs: default device {dev}"
    kern = dev.kernels.get(opdef.name)
    dtype_note = ""
    if tensors and opdef.table is not None:
        dt = tensors[0].dtype
        for t in tensors[1:]:
            dt = _dtypes.promote_types(dt, t.dtype)
        scalars = [type(a).__name__ for a in args if isinstance(a, (bool, int, float, complex))]
        for a in args:
            if isinstance(a, (bool, int, float, complex)):
                dt = _dtypes.weak_promote(dt, a)
        pair = opdef.table.get(dt)
        ins = ", ".join(t.dtype.name for t in tensors)
        weak = f", Python {' and '.join(scalars)} is weak" if scalars else ""
        dtype_note = (f"; result dtype {pair[1].name} (input {ins}{weak})" if pair else
                      f"; dtype {dt.name} is refused by {opdef.name} (DTypeError)")
    pol = policy()
    if kern is not None:
        name = f"{getattr(kern, '__module__', None) or '?'}.{getattr(kern, '__name__', repr(kern))}"
        return (f"{opdef.name}: {where} -> backend {dev.backend.name!r}, kernel {name}"
                f"{dtype_note}; policy {pol!r}")
    if not opdef.needs_kernel:
        return f"{opdef.name}: {where} -> run by the core itself (no backend kernel needed)"
    if pol == "error":
        return (f"{opdef.name}: {where} -> backend {dev.backend.name!r} has NO kernel; "
                f"EAGERFLOW_FALLBACK=error, so the call raises KernelNotFoundError")
    fb = fallback_device()
    has = opdef.name in fb.kernels
    return (f"{opdef.name}: {where} -> backend {dev.backend.name!r} has no kernel; policy "
            f"{pol!r}: it runs on {fb} ({fb.backend.name!r}) with inputs copied there and back"
            + ("" if has else f", but {fb.backend.name!r} lacks it too, so it raises"))
