"""Collectives on tensors: every rank calls the same function, in the same order.

Each call checks its arguments, picks the communicator of the tensor's device
(``_select.py``), optionally compares headers across ranks (check mode), starts the
communicator's operation and waits for it against the world's deadline. Results are new
tensors on the input's device; inputs are never written to.

``all_reduce``, ``all_gather``, ``reduce_scatter`` and ``broadcast`` are differentiable: each is
a composite that tapes record as one step, with a gradient rule made of collectives, so that
the gradient of the sum of every rank's loss reaches each rank's inputs (and differentiates
again). As in every SPMD system, all ranks must run the backward pass too.
"""

from __future__ import annotations

import numpy as np

from .. import _dispatch
from .._dtypes import int64
from .._errors import DTypeError, InvalidArgumentError, ShapeError
from .._tensor import Tensor, new_tensor
from ..autodiff.composite import composite
from ..ops.creation import zeros_like
from ..ops.manipulation import reshape
from . import _header
from ._errors import DistributedError
from ._select import _Named, communicator_for
from ._world import WORLD, mark_broken, require, test, wait

REDUCTIONS = ("sum", "mean", "max", "min")


def _tensor(what: str, x) -> Tensor:
    return _dispatch.as_tensor_arg(_Named(f"distributed.{what}"), x)


def _check_op(what: str, x: Tensor, op: str) -> None:
    if op not in REDUCTIONS:
        raise InvalidArgumentError(f"distributed.{what}: op={op!r}; use one of "
                                   f"{', '.join(map(repr, REDUCTIONS))}")
    kind = x.dtype.kind
    if kind == "c" and op in ("max", "min"):
        raise DTypeError(f"distributed.{what}: complex numbers have no order, so op={op!r} "
                         f"cannot reduce {x.dtype}")
    if kind == "b" and op in ("sum", "mean"):
        raise DTypeError(f"distributed.{what}: op={op!r} of a bool tensor; cast it first "
                         f"(ef.astype(x, ef.int32)), or use 'max' (any) / 'min' (all)")
    if op == "mean" and kind not in "fc":
        raise DTypeError(f"distributed.{what}: op='mean' needs a floating-point tensor, not "
                         f"{x.dtype}; use op='sum' and divide, or cast first")


def _check_root(what: str, root, size: int) -> int:
    if not isinstance(root, (int, np.integer)) or isinstance(root, bool) or \
            not 0 <= root < size:
        raise InvalidArgumentError(f"distributed.{what}: root={root!r} is not a rank of this "
                                   f"world (0..{size - 1})")
    return int(root)


def _split_axis0(what: str, x: Tensor, size: int) -> None:
    if x.ndim == 0 or x.shape[0] % size:
        raise ShapeError(f"distributed.{what}: axis 0 of a {x.dtype.name}{list(x.shape)} "
                         f"tensor cannot be split into {size} equal blocks (one per rank); "
                         f"its length must be a multiple of {size}")


class _What:
    """Names an operation in error messages; formatted only when one is raised (the common
    path of a small collective must not pay for an f-string of its shape)."""

    __slots__ = ("collective", "x", "device", "seq")

    def __init__(self, collective, x, device, seq):
        self.collective, self.x, self.device, self.seq = collective, x, device, seq

    def __str__(self):
        text = f"distributed.{self.collective}"
        if self.x is not None:
            text += f" of {self.x.dtype.name}{list(self.x.shape)} on {self.device}"
        return text + (f" (collective #{self.seq})" if self.seq else "")


class Pending:
    """A collective in flight; :meth:`wait` gives its result tensor."""

    __slots__ = ("_work", "_what", "_comm", "_dtype", "_device")

    def __init__(self, work, what, comm, dtype, device):
        self._work, self._what, self._comm = work, what, comm
        self._dtype, self._device = dtype, device

    def wait(self):
        raw = wait(self._work, self._what, self._comm.name)
        return None if raw is None else new_tensor(raw, self._dtype, self._device)

    def poll(self) -> None:
        """Let the engine progress (MPI's nonblocking collectives move inside ``Test``)."""
        test(self._work, self._what, self._comm.name)


def start(collective: str, x: Tensor | None, *, op=None, root=None, device=None, dtype=None,
          shape=None, peer=None, tag=0, check=True) -> Pending:
    """Start ``collective`` on ``x`` and return at once (the gradient buckets' way in)."""
    w = WORLD
    if not w.initialized or w.broken:
        require(f"distributed.{collective}")  # raises, saying why
    dev = x._device if x is not None else device
    comm = w.comms.get(dev) or communicator_for(dev)
    if check and w.check and w.size > 1:
        _exchange_headers(w, collective, x, op, root)
    seq = 0
    if collective not in ("send", "recv"):  # point-to-point calls are not collectives
        w.seq = seq = w.seq + 1
    what = _What(collective, x, dev, seq)
    raw = x._data if x is not None else None
    try:
        if collective in ("all_reduce", "reduce_scatter"):
            work = getattr(comm, collective)(raw, op)
        elif collective in ("broadcast", "gather"):
            work = getattr(comm, collective)(raw, root)
        elif collective == "all_gather":
            work = comm.all_gather(raw)
        elif collective == "scatter":
            work = comm.scatter(raw, root, shape, dtype)
        elif collective == "send":
            work = comm.send(raw, peer, tag)
        else:  # recv
            work = comm.recv(shape, dtype, peer, tag)
    except DistributedError:
        raise
    except Exception as exc:  # the engine failed to start it: its state is unknown now
        why = f"{what}: the {comm.name} communicator refused it: {type(exc).__name__}: {exc}"
        mark_broken(w, why)
        raise DistributedError(why) from exc
    return Pending(work, what, comm, dtype if dtype is not None else x._dtype, dev)


def _exchange_headers(w, collective, x, op, root) -> None:
    has_tensor = x is not None and collective != "scatter"
    mine = _header.encode(collective, op=op, root=root, seq=w.seq,
                          dtype=x._dtype if has_tensor else None,
                          shape=x.shape if has_tensor else None)
    what = f"distributed.{collective}"
    rows = wait(w.host.all_gather(mine), f"{what} (check-mode header)", w.host.name)
    _header.compare(rows.reshape(w.size, _header.LENGTH), what)


def _run(collective, x, **kw) -> Tensor:
    return start(collective, x, **kw).wait()


# -- differentiable collectives: composites with gradient rules made of collectives ----------

def _extreme_vjp(g_full, ans_full, x):
    """Gradient of a max/min over ranks: the summed cotangent goes where this rank's ``x``
    holds the extreme value, shared equally between ranks that tie (as ``ef.max`` does)."""
    from ..ops.creation import astype
    hit = astype(x == ans_full, g_full.dtype)
    return g_full * hit / _all_reduce(hit, op="sum")


def _all_reduce_vjp(g, ans, x, *, op):
    total = _all_reduce(g, op="sum")
    return total if op == "sum" else _extreme_vjp(total, ans, x)


@composite(vjp=_all_reduce_vjp, name="distributed.all_reduce")
def _all_reduce(x, *, op):
    return _run("all_reduce", x, op=op)


def _reduce_scatter_vjp(g, ans, x, *, op):
    total = _all_gather(g)
    return total if op == "sum" else _extreme_vjp(total, _all_gather(ans), x)


@composite(vjp=_reduce_scatter_vjp, name="distributed.reduce_scatter")
def _reduce_scatter(x, *, op):
    return _run("reduce_scatter", x, op=op)


@composite(vjp=lambda g, ans, x: reshape(_reduce_scatter(g, op="sum"), x.shape),
           name="distributed.all_gather")
def _all_gather(x):
    return _run("all_gather", x)


def _broadcast_vjp(g, ans, x, *, root):
    total = _all_reduce(g, op="sum")  # every rank's use of the root's value
    return total if require("distributed.broadcast").rank == root else zeros_like(total)


@composite(vjp=_broadcast_vjp, name="distributed.broadcast")
def _broadcast(x, *, root):
    return _run("broadcast", x, root=root)


def _gathered_shape(s, **params):
    return (WORLD.size * s[0],) + tuple(s[1:]) if s else (WORLD.size,)


def _scattered_shape(s, **params):
    if not s or s[0] % WORLD.size:
        raise ShapeError(f"distributed.reduce_scatter: axis 0 of shape {list(s)} cannot be "
                         f"split into {WORLD.size} equal blocks")
    return (s[0] // WORLD.size,) + tuple(s[1:])


# Dtype and shape rules, so that an interpreter can infer results without running a collective.
for _f, _shape in ((_all_reduce, lambda s, **p: tuple(s)), (_broadcast, lambda s, **p: tuple(s)),
                   (_all_gather, _gathered_shape), (_reduce_scatter, _scattered_shape)):
    _f.op.dtype_rule = lambda d, **p: d
    _f.op.shape_rule = _shape


# -- the public functions -----------------------------------------------------------------

def all_reduce(x, op: str = "sum") -> Tensor:
    """``x`` reduced element-wise over every rank (``op``: sum, mean, max or min); every rank
    gets the result. Differentiable: the gradient of the sum of the ranks' losses is the
    all-reduce of their cotangents (for max/min, routed to the ranks holding the extreme).

    >>> import eagerflow_core as ef
    >>> from eagerflow_core import distributed as dist
    >>> dist.init()                       # outside mpirun: a world of one process
    >>> dist.all_reduce(ef.constant([1.0, 2.0]), op="mean")
    ef.Tensor([1., 2.], shape=(2,), dtype=float32, device='cpu:0')
    """
    x = _tensor("all_reduce", x)
    _check_op("all_reduce", x, op)
    if op != "mean":
        return _all_reduce(x, op=op)
    size = require("distributed.all_reduce").size
    total = _all_reduce(x, op="sum")
    return total if size == 1 else total / size


def broadcast(x, root: int = 0) -> Tensor:
    """Rank ``root``'s ``x`` on every rank (every rank passes a tensor of the same shape and
    dtype; the root gets its own back). Differentiable: the root receives the sum of every
    rank's cotangent, the others zero.

    >>> import eagerflow_core as ef
    >>> from eagerflow_core import distributed as dist
    >>> dist.init(); dist.broadcast(ef.constant([3, 4]), root=0)
    ef.Tensor([3, 4], shape=(2,), dtype=int64, device='cpu:0')
    """
    x = _tensor("broadcast", x)
    root = _check_root("broadcast", root, require("distributed.broadcast").size)
    return _broadcast(x, root=root)


def all_gather(x) -> Tensor:
    """Every rank's ``x``, concatenated along axis 0 in rank order (a scalar counts as shape
    ``(1,)``), on every rank. All ranks pass the same shape. Differentiable: each rank's input
    gets its block of the reduce-scattered cotangents.

    >>> import eagerflow_core as ef
    >>> from eagerflow_core import distributed as dist
    >>> dist.init(); dist.all_gather(ef.constant([[1, 2]])).shape
    (1, 2)
    """
    return _all_gather(_tensor("all_gather", x))


def reduce_scatter(x, op: str = "sum") -> Tensor:
    """``x`` reduced over the ranks, then split into ``size()`` equal blocks along axis 0:
    rank ``r`` gets block ``r`` (the first half of an all-reduce, as ring algorithms do it).
    Differentiable for every op.

    >>> import eagerflow_core as ef
    >>> from eagerflow_core import distributed as dist
    >>> dist.init(); dist.reduce_scatter(ef.constant([1.0, 2.0]))
    ef.Tensor([1., 2.], shape=(2,), dtype=float32, device='cpu:0')
    """
    x = _tensor("reduce_scatter", x)
    _check_op("reduce_scatter", x, op)
    size = require("distributed.reduce_scatter").size
    _split_axis0("reduce_scatter", x, size)
    if op != "mean":
        return _reduce_scatter(x, op=op)
    part = _reduce_scatter(x, op="sum")
    return part if size == 1 else part / size


def gather(x, root: int = 0) -> Tensor | None:
    """Every rank's ``x`` concatenated along axis 0 on rank ``root``; None on the others.
    Not differentiable (the other ranks hold no result to continue from).

    >>> import eagerflow_core as ef
    >>> from eagerflow_core import distributed as dist
    >>> dist.init(); dist.gather(ef.constant([5, 6]), root=0)
    ef.Tensor([5, 6], shape=(2,), dtype=int64, device='cpu:0')
    """
    x = _tensor("gather", x)
    root = _check_root("gather", root, require("distributed.gather").size)
    return _run("gather", x, root=root)


def scatter(x=None, root: int = 0, *, device=None) -> Tensor:
    """Rank ``root``'s ``x`` split into ``size()`` equal blocks along axis 0: rank ``r`` gets
    block ``r``. Only the root passes ``x``; the others may pass None and get their block on
    ``device`` (default: the default device). Not differentiable.

    >>> import eagerflow_core as ef
    >>> from eagerflow_core import distributed as dist
    >>> dist.init(); dist.scatter(ef.constant([[1, 2], [3, 4]]), root=0).shape
    (2, 2)
    """
    from .._devices import device as as_device
    w = require("distributed.scatter")
    root = _check_root("scatter", root, w.size)
    if w.rank == root:
        x = _tensor("scatter", x)
        _split_axis0("scatter", x, w.size)
    else:
        x = None
    if w.check and w.size > 1:
        _exchange_headers(w, "scatter", x, None, root)
    # The receivers learn the block's dtype and shape from the root.
    head = _header.encode("scatter", root=root, dtype=x._dtype if x is not None else None,
                          shape=((x.shape[0] // w.size,) + x.shape[1:]) if x is not None
                          else None)
    head = wait(w.host.broadcast(head, root), "distributed.scatter (header)", w.host.name)
    fields = _header.decode(head)
    dev = x.device if x is not None else as_device(device)
    return _run("scatter", x, root=root, device=dev, dtype=fields["dtype"],
                shape=fields["shape"], check=False)


def send(x, dest: int, tag: int = 0) -> None:
    """Send ``x`` to rank ``dest``, which calls :func:`recv` with the same ``tag``. The shape
    and dtype travel first (a small message), so the receiver needs to know neither.
    Returns when the data has left this rank's buffer (not necessarily arrived)."""
    x = _tensor("send", x)
    w = require("distributed.send")
    dest = _check_root("send", dest, w.size)
    tag = _check_tag("send", tag)
    head = _header.encode("send", dtype=x._dtype, shape=x.shape)
    wait(w.host.send(head, dest, tag), f"distributed.send to rank {dest} (header)",
         w.host.name)
    _run("send", x, peer=dest, tag=tag, check=False)


def recv(source: int, tag: int = 0, *, device=None) -> Tensor:
    """The tensor rank ``source`` sent with :func:`send` and this ``tag``, on ``device``
    (default: the default device).

    >>> import eagerflow_core as ef
    >>> from eagerflow_core import distributed as dist
    >>> dist.init(); dist.send(ef.constant([1.5]), dest=0)   # to itself, in a world of one
    >>> dist.recv(source=0)
    ef.Tensor([1.5], shape=(1,), dtype=float32, device='cpu:0')
    """
    from .._devices import device as as_device
    w = require("distributed.recv")
    source = _check_root("recv", source, w.size)
    tag = _check_tag("recv", tag)
    head = wait(w.host.recv((_header.LENGTH,), int64, source, tag),
                f"distributed.recv from rank {source} (header)", w.host.name)
    fields = _header.decode(head)
    return _run("recv", None, device=as_device(device), dtype=fields["dtype"],
                shape=fields["shape"], peer=source, tag=tag, check=False)


_TAG_MAX = 32767  # the least MPI_TAG_UB an MPI library may have


def _check_tag(what: str, tag) -> int:
    if not isinstance(tag, (int, np.integer)) or isinstance(tag, bool) or \
            not 0 <= tag <= _TAG_MAX:
        raise InvalidArgumentError(f"distributed.{what}: tag={tag!r}; use an int in "
                                   f"0..{_TAG_MAX}")
    return int(tag)


def barrier() -> None:
    """Wait until every rank has called ``barrier()`` (bounded by the timeout).

    >>> from eagerflow_core import distributed as dist
    >>> dist.init(); dist.barrier()
    """
    w = require("distributed.barrier")
    if w.size == 1:
        return
    if w.check:
        _exchange_headers(w, "barrier", None, None, None)
    w.seq += 1
    wait(w.host.barrier(), f"distributed.barrier (collective #{w.seq})", w.host.name)
