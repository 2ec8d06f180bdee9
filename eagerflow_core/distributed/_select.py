"""Which communicator serves a device: chosen once per device, on its first collective.

1. the device's backend plugin, if ``Backend.communicator(info)`` returns one (the CUDA
   backend's is NCCL through CuPy, when it can be used);
2. a world of one process: the identity (``SelfCommunicator``), whatever the device;
3. ``cpu``: MPI on the NumPy arrays themselves;
4. anything else (``cuda`` without NCCL, other plugins): MPI through host memory. That is a
   fallback like a missing kernel's (``eagerflow_core/_fallback.py``): refused under
   ``EAGERFLOW_FALLBACK=error`` (the default) with the reason, warned once under ``warn``,
   and counted under ``ef.fallback_stats()`` as ``("distributed.<collective>", backend,
   "numpy")`` in every mode that allows it.
"""

from __future__ import annotations

import warnings

from .. import _fallback
from ._errors import DistributedError
from ._world import WORLD, broadcast_bytes
from .protocol import CommInfo, Communicator


class _Named:
    """What ``_fallback.note`` needs of an op: its name."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


def comm_info(device) -> CommInfo:
    w = WORLD
    return CommInfo(rank=w.rank, size=w.size, local_rank=w.local_rank, local_size=w.local_size,
                    device=device, mpi_comm=w.comm,
                    broadcast_bytes=lambda data, root: broadcast_bytes(data, root,
                                                                       "communicator set-up"))


def communicator_for(device) -> Communicator:
    """The communicator of ``device`` (made on first use, then cached)."""
    w = WORLD
    comm = w.comms.get(device)
    if comm is None:
        comm = w.comms[device] = _choose(w, device)
    return comm


def _choose(w, device) -> Communicator:
    backend = device.backend.backend
    offer = getattr(backend, "communicator", None)
    plugin = offer(comm_info(device)) if offer is not None else None
    if plugin is not None:
        if not isinstance(plugin, Communicator):
            raise DistributedError(f"backend {device.backend.name!r}: communicator() returned "
                                   f"a {type(plugin).__name__}, not an eagerflow_core."
                                   f"distributed.protocol.Communicator")
        return plugin
    if w.size == 1:
        return w.host
    if device.type == "cpu":
        return w.host
    reason = f"backend {device.backend.name!r} offers no communicator for {device}"
    why_not = getattr(backend, "communicator_unavailable", None)
    if why_not is not None and why_not():  # the backend's own reason (CUDA: NCCL is missing)
        reason += f": {why_not()}"
    return _host_staged(w, device, reason)


def _host_staged(w, device, reason) -> Communicator:
    from ._local import HostStagedCommunicator
    if _fallback.policy() == "error":
        raise DistributedError(
            f"{reason}; EAGERFLOW_FALLBACK=error (the default) refuses to stage its tensors "
            f"through host memory over MPI. Allow it, counted in ef.fallback_stats(), with "
            f"EAGERFLOW_FALLBACK=warn (or silent), or move the tensors with .to('cpu')")
    host_device = _host_device()

    def note(collective: str) -> None:
        how = _fallback.policy()
        if how == "error":  # the policy changed since the communicator was made
            raise DistributedError(f"distributed.{collective} on {device}: {reason}; "
                                   f"EAGERFLOW_FALLBACK=error refuses the host-memory fallback")
        first = ("distributed", str(device)) not in _warned
        _warned.add(("distributed", str(device)))
        op = _Named(f"distributed.{collective}")
        _fallback.note(op, device, host_device, "silent")
        if how == "warn" and first:
            warnings.warn(f"eagerflow: {reason}; collectives on {device} are staged through "
                          f"host memory over MPI (copied there and back). ef.fallback_stats() "
                          f"counts each one", _fallback.FallbackWarning, stacklevel=5)

    return HostStagedCommunicator(w.host, device, note)


_warned: set = set()


def _host_device():
    from .._devices import device
    return device("cpu")
