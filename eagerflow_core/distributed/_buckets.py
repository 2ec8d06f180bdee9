"""Buckets: many small collectives packed into a few large ones.

Gradients of a model are many tensors, some tiny (biases); one all-reduce each would pay MPI's
latency per tensor. A :class:`Bucketer` packs them, in the order they arrive, into flat
buffers of about ``bucket_bytes`` per (device, dtype), starts a nonblocking collective as soon
as a bucket is full, and unpacks the results when :meth:`Bucketer.finish` is called (Horovod's
tensor fusion, PyTorch DDP's buckets). Because a bucket starts when it fills, gradients fed
while the backward pass is still running overlap their all-reduce with the rest of it.

Every rank must add the same tensors in the same order (the buckets then match); the check
mode (``EAGERFLOW_DIST_CHECK=1``) compares each bucket's shape across ranks.
"""

from __future__ import annotations

from .._errors import DTypeError, InvalidArgumentError
from ..ops.manipulation import concat, reshape
from . import collectives
from ._world import require

DEFAULT_BUCKET_BYTES = 25 * 2**20  # PyTorch DDP's default bucket cap


def check_bucket_bytes(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"bucket_bytes={value!r}: give a positive int (bytes per "
                                   f"bucket; default {DEFAULT_BUCKET_BYTES})")
    return value


class _Bucket:
    __slots__ = ("items", "nbytes")

    def __init__(self):
        self.items = []   # (key, tensor)
        self.nbytes = 0


class Bucketer:
    """Packs tensors into buckets and runs ``collective`` on each (``"all_reduce"`` with
    ``op`` sum/mean, or ``"broadcast"`` from ``root``).

    ``add(key, tensor)`` as the tensors become ready; ``finish()`` -> ``{key: result}``.

    >>> import eagerflow_core as ef
    >>> from eagerflow_core import distributed as dist
    >>> dist.init()
    >>> b = Bucketer("all_reduce", op="mean", bucket_bytes=64)
    >>> b.add("w", ef.ones((2, 2))); b.add("b", ef.zeros(3))
    >>> out = b.finish(); out["w"].shape, out["b"].shape
    ((2, 2), (3,))
    """

    def __init__(self, collective: str = "all_reduce", *, op: str = "mean", root: int = 0,
                 bucket_bytes: int = DEFAULT_BUCKET_BYTES):
        if collective not in ("all_reduce", "broadcast"):
            raise InvalidArgumentError(f"Bucketer: collective={collective!r}; use "
                                       f"'all_reduce' or 'broadcast'")
        if collective == "all_reduce" and op not in ("sum", "mean"):
            raise InvalidArgumentError(f"Bucketer: op={op!r}; use 'sum' or 'mean'")
        self._collective = collective
        self._op = op
        self._root = root
        self._cap = check_bucket_bytes(bucket_bytes)
        self._size = require(f"distributed.{collective}").size
        self._open: dict = {}      # (device, dtype) -> _Bucket
        self._pending: list = []   # (Pending, [(key, shape, size)])

    def add(self, key, tensor) -> None:
        """Queue ``tensor``; starts its bucket's collective once the bucket is full."""
        if self._collective == "all_reduce" and self._op == "mean" and \
                tensor.dtype.kind not in "fc":
            raise DTypeError(f"gradient {key!r}: averaging needs a floating-point tensor, "
                             f"not {tensor.dtype}")
        slot = (tensor.device, tensor.dtype)
        nbytes = tensor.size * tensor.dtype.itemsize
        bucket = self._open.get(slot)
        if bucket is not None and bucket.nbytes + nbytes > self._cap:
            self._flush(slot)  # keep buckets under the cap (a bigger tensor goes alone)
            bucket = None
        if bucket is None:
            bucket = self._open[slot] = _Bucket()
        bucket.items.append((key, tensor))
        bucket.nbytes += nbytes
        if bucket.nbytes >= self._cap:
            self._flush(slot)
        for pending, _ in self._pending:
            pending.poll()

    def _flush(self, slot) -> None:
        bucket = self._open.pop(slot)
        flats = [reshape(t, (-1,)) for _, t in bucket.items]
        flat = flats[0] if len(flats) == 1 else concat(flats)
        if self._collective == "all_reduce":
            pending = collectives.start("all_reduce", flat, op="sum")
        else:
            pending = collectives.start("broadcast", flat, root=self._root)
        self._pending.append((pending, [(k, t.shape, t.size) for k, t in bucket.items]))

    def finish(self) -> dict:
        """Start what is left, wait for every bucket, and unpack: ``{key: result}``."""
        for slot in list(self._open):
            self._flush(slot)
        out = {}
        for pending, layout in self._pending:
            flat = pending.wait()
            if self._collective == "all_reduce" and self._op == "mean" and self._size > 1:
                flat = flat / self._size
            offset = 0
            for key, shape, n in layout:
                out[key] = reshape(flat[offset:offset + n], shape)
                offset += n
        self._pending = []
        return out
