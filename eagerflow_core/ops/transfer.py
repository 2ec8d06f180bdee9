"""Moving tensors between devices: always explicit (``x.to("cuda")``), never silent.

``to_device`` is an op the core runs itself (its ``impl`` copies through host memory), so that
interpreters see it like any other: a tape records it, and its gradient moves the cotangent
back to where the input was.
"""

from __future__ import annotations

from .. import _convert
from .._devices import device as get_device
from .._dispatch import call
from .._errors import DTypeError
from .._registry import defjvp, defop, defvjp
from .._tensor import Tensor
from . import _rules as R


def _move(x, *, device):
    return _convert.move(x, device)


def _to_device_dtype(x, *, device):
    if x not in device.native:
        raise DTypeError(f"backend {device.backend.name!r} ({device}) has no {x}; cast first "
                           f"with ef.astype")
    return x


to_device_op = defop("to_device", family="transfer", nin=1, dtype_rule=_to_device_dtype,
                     shape_rule=R.same_shape, doc="Copy a tensor to another device.",
                     impl=_move)


def to_device(x: Tensor, dev) -> Tensor:
    """``x`` copied to device ``dev`` (itself if already there)."""
    if x._device is dev:
        return x
    return call(to_device_op, (x,), {"device": dev})


to_device_op.fn = to_device


def _to(self, device) -> Tensor:
    """This tensor on ``device`` (itself if already there).

    >>> import eagerflow_core as ef
    >>> ef.ones(2).to("cpu").device
    ef.Device('cpu:0')
    """
    return to_device(self, get_device(device))


def _to_device(self, device, /, *, stream=None) -> Tensor:
    """Array API spelling of :meth:`to`."""
    return self.to(device)


Tensor.to = _to
Tensor.to_device = _to_device

# The cotangent goes back to the input's device, the tangent goes along with the value:
# explicitly, like every transfer (issue #3).
defvjp(to_device_op, lambda g, ans, x, *, device: g.to(x._device))
defjvp(to_device_op, lambda t, ans, x, *, device: to_device(t, device))
