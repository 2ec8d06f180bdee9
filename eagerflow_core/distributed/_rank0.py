"""Rank-0 helpers: one rank writes checkpoints and logs, the others wait or stay quiet.

They work before ``dist.init()`` too (as rank 0 of a world of one), so library code may call
them whether or not the script is distributed.
"""

from __future__ import annotations

import functools
import logging

from ._errors import DistributedError
from ._world import WORLD, broadcast_bytes


def rank() -> int:
    """This process's rank, 0..size()-1 (0 before ``dist.init()``).

    >>> from eagerflow_core import distributed as dist
    >>> dist.init(); dist.rank()
    0
    """
    return WORLD.rank


def size() -> int:
    """How many processes the world has (1 before ``dist.init()``)."""
    return WORLD.size


def local_rank() -> int:
    """This process's rank among the processes of its host: the GPU it should use
    (``ef.device(f"cuda:{dist.local_rank()}")``). 0 before ``dist.init()``."""
    return WORLD.local_rank


def local_size() -> int:
    """How many processes of the world run on this host (1 before ``dist.init()``)."""
    return WORLD.local_size


def is_initialized() -> bool:
    """Whether ``dist.init()`` has run (and ``dist.shutdown()`` has not since).

    >>> from eagerflow_core import distributed as dist
    >>> dist.init(); dist.is_initialized()
    True
    """
    return WORLD.initialized


def rank_zero_only(fn):
    """Decorate ``fn`` to run on rank 0 only; the other ranks get None.

    >>> from eagerflow_core import distributed as dist
    >>> @dist.rank_zero_only
    ... def report(step):
    ...     return f"step {step}"
    >>> report(3)
    'step 3'
    """
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        if WORLD.rank == 0:
            return fn(*args, **kwargs)
        return None
    return wrapped


def print0(*args, **kwargs) -> None:
    """``print`` on rank 0 only.

    >>> from eagerflow_core import distributed as dist
    >>> dist.print0("loss", 0.25)
    loss 0.25
    """
    if WORLD.rank == 0:
        print(*args, **kwargs)


class _RankAdapter(logging.LoggerAdapter):
    """Drops records off rank 0 (unless ``all_ranks``), and says which rank logged."""

    def __init__(self, logger, all_ranks):
        super().__init__(logger, {})
        self.all_ranks = all_ranks

    def isEnabledFor(self, level):
        return (self.all_ranks or WORLD.rank == 0) and self.logger.isEnabledFor(level)

    def process(self, msg, kwargs):
        if WORLD.size > 1:
            msg = f"[rank {WORLD.rank}/{WORLD.size}] {msg}"
        extra = dict(kwargs.get("extra") or {}, rank=WORLD.rank)
        return msg, dict(kwargs, extra=extra)


def get_logger(name: str = "eagerflow", *, all_ranks: bool = False) -> logging.LoggerAdapter:
    """The ``logging`` logger ``name``, logging on rank 0 only (every rank with
    ``all_ranks=True``); messages start with ``[rank r/n]`` in a world of several ranks and
    records carry ``record.rank``.

    >>> from eagerflow_core import distributed as dist
    >>> log = dist.get_logger("train"); log.isEnabledFor(50)
    True
    """
    return _RankAdapter(logging.getLogger(name), all_ranks)


def save_on_rank0(save, *args, **kwargs):
    """Call ``save.save(*args, **kwargs)`` (a checkpoint manager) or ``save(*args, **kwargs)``
    on rank 0 only; every rank returns when rank 0 is done (so none reads a half-written
    checkpoint), rank 0 with what ``save`` returned, the others with None. If rank 0's save
    raises, it re-raises there and the others raise a DistributedError that says so.

    >>> from eagerflow_core import distributed as dist
    >>> dist.save_on_rank0(lambda path: f"saved {path}", "ckpt-1")
    'saved ckpt-1'
    """
    fn = getattr(save, "save", save)
    if not callable(fn):
        raise TypeError(f"save_on_rank0: expected a callable or an object with .save(), got "
                        f"{type(save).__name__}")
    w = WORLD
    if not w.initialized or w.size == 1:
        return fn(*args, **kwargs)
    result = failure = message = None
    if w.rank == 0:
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            failure = exc
        message = b"" if failure is None else f"{type(failure).__name__}: {failure}".encode()
    # The broadcast is the barrier: the others wait here while rank 0 writes.
    status = broadcast_bytes(message, 0, "distributed.save_on_rank0")
    if failure is not None:
        raise failure
    if status:
        raise DistributedError(f"save_on_rank0: saving failed on rank 0 ({status.decode()})")
    return result
