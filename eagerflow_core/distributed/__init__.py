"""Data-parallel training across processes and machines, on MPI (mpi4py) and NCCL (CuPy).

eagerflow runs on the distributed engines clusters already have, never one of its own: MPI
for processes and hosts (``mpirun``, ``srun``), NCCL for GPU-to-GPU collectives. Launch the same
script once per rank::

    mpirun -n 4 python train.py

and in it::

    import eagerflow_core as ef
    from eagerflow_core import distributed as dist

    dist.init()                                      # reads the mpirun / srun environment
    ds = ds.shard(dist.size(), dist.rank())
    opt = dist.DistributedOptimizer(optimizer)       # averages gradients across ranks
    dist.broadcast_variables(model.variables, root=0)  # the same start everywhere
    ...
    dist.save_on_rank0(manager)                      # one rank writes, the others wait

Collectives on tensors (``all_reduce``, ``broadcast``, ``all_gather``, ``reduce_scatter``,
``gather``, ``scatter``, ``send``/``recv``, ``barrier``) go through a communicator chosen per
device type: MPI for ``cpu`` tensors (raw buffers, no pickling, no copy of contiguous
inputs), NCCL for ``cuda`` tensors, a backend plugin's own (``Backend.communicator``), else MPI
through host memory as a counted fallback. A peer that dies makes the others raise
``DistributedTimeoutError`` within ``EAGERFLOW_DIST_TIMEOUT`` seconds (default 600);
``EAGERFLOW_DIST_CHECK=1`` checks that every rank calls the same collective with the same
shapes and dtypes. Without mpi4py and outside a launcher, ``init()`` makes a world of one
process, so the same script runs anywhere. Importing this package never imports mpi4py.

>>> import eagerflow_core as ef
>>> from eagerflow_core import distributed as dist
>>> dist.init()
>>> dist.rank(), dist.size()
(0, 1)
>>> dist.all_reduce(ef.constant([1.0, 2.0]), op="sum")
ef.Tensor([1., 2.], shape=(2,), dtype=float32, device='cpu:0')
"""

from __future__ import annotations

from . import _world
from ._buckets import DEFAULT_BUCKET_BYTES, Bucketer
from ._errors import CollectiveMismatchError, DistributedError, DistributedTimeoutError
from ._rank0 import (get_logger, is_initialized, local_rank, local_size, print0, rank,
                     rank_zero_only, save_on_rank0, size)
from .collectives import (all_gather, all_reduce, barrier, broadcast, gather, recv,
                          reduce_scatter, scatter, send)
from .optimizer import DistributedOptimizer, broadcast_variables, grouped_all_reduce
from .protocol import CommInfo, Communicator, CompletedWork, Work


def init(*, timeout: float | None = None, check: bool | None = None) -> None:
    """Join the world this process was launched into (``mpirun``, ``mpiexec``, ``srun``).

    ``timeout``: seconds a collective may wait before raising ``DistributedTimeoutError``
    (default ``EAGERFLOW_DIST_TIMEOUT``, else 600). ``check``: compare shapes, dtypes and
    collectives across ranks before each collective (default ``EAGERFLOW_DIST_CHECK``). Calling
    it again only updates these two. Without mpi4py and outside a launcher, the world is this
    one process.

    >>> from eagerflow_core import distributed as dist
    >>> dist.init(timeout=30); dist.size()
    1
    """
    _world.init(timeout=timeout, check=check)


def shutdown() -> None:
    """Release the communicators (NCCL's included); ``init()`` may join again later."""
    _world.shutdown()


def communicator(device=None) -> Communicator:
    """The communicator that collectives on ``device`` (default: the default device) use;
    its ``name`` says which (``"mpi"``, ``"nccl"``, ``"self"``, ...).

    >>> from eagerflow_core import distributed as dist
    >>> dist.init(); dist.communicator("cpu").name
    'self'
    """
    from .._devices import device as as_device
    from ._select import communicator_for
    _world.require("distributed.communicator")
    return communicator_for(as_device(device))


__all__ = [
    "init", "shutdown", "is_initialized", "rank", "size", "local_rank", "local_size",
    "barrier", "all_reduce", "broadcast", "all_gather", "reduce_scatter", "gather", "scatter",
    "send", "recv", "DistributedOptimizer", "broadcast_variables", "grouped_all_reduce",
    "Bucketer", "DEFAULT_BUCKET_BYTES", "rank_zero_only", "print0", "get_logger",
    "save_on_rank0", "communicator", "Communicator", "Work", "CompletedWork", "CommInfo",
    "DistributedError", "DistributedTimeoutError", "CollectiveMismatchError",
]
