"""Moving tensors between devices: always explicit (``x.to("cuda")``), never silent."""

from __future__ import annotations

from .. import _dispatch
from .._errors import DTypeError
from .._registry import defop
from .._tensor import Tensor, new_tensor
from . import _rules as R

to_device_op = defop("to_device", family="transfer", nin=1, dtype_rule=R.same_dtype,
                     shape_rule=R.same_shape, doc="Copy a tensor to another device.",
                     needs_kernel=False)


def to_device(x: Tensor, dev) -> Tensor:
    """``x`` copied to device ``dev`` through host memory (itself if already there)."""
    if x._device is dev:
        return x
    if x._dtype not in dev.native:
        raise DTypeError(f"to_device: backend {dev.backend.name!r} ({dev}) has no {x._dtype}; "
                         f"cast first with ef.astype")
    host = x._device.backend.backend.to_host(x._data)
    out = new_tensor(dev.backend.backend.from_host(host, dev.index), x._dtype, dev)
    if _dispatch.state.tapes:
        _dispatch.record_hook(to_device_op, (x,), {"device": dev}, out)
    return out


# -- gradients -----------------------------------------------------------------------------------
# The cotangent goes back to the input's device: explicitly, like every transfer (issue #3).
from .._registry import defvjp  # noqa: E402

defvjp(to_device_op, lambda g, ans, x, *, device: g.to(x._device))
