"""Data-parallel training: average the gradients, start every rank from the same values.

``DistributedOptimizer`` wraps any optimizer with a Keras ``apply_gradients(grads_and_vars)``:
the gradients are all-reduced (averaged) over the ranks in a few large buckets, then handed to
the wrapped optimizer, so every rank applies the same update and the replicas stay identical
(bit for bit: an MPI/NCCL all-reduce gives every rank the same result).
"""

from __future__ import annotations

from .._errors import ArgumentTypeError, InvalidArgumentError
from ._buckets import DEFAULT_BUCKET_BYTES, Bucketer, check_bucket_bytes
from ._world import require


def grouped_all_reduce(tensors, op: str = "mean", *, bucket_bytes: int = DEFAULT_BUCKET_BYTES):
    """All-reduce a list of tensors in buckets of about ``bucket_bytes``: the list of results,
    in order (None stays None). ``op`` is ``"mean"`` or ``"sum"``.

    >>> import eagerflow_core as ef
    >>> from eagerflow_core import distributed as dist
    >>> dist.init(); dist.grouped_all_reduce([ef.ones(2), None])
    [ef.Tensor([1., 1.], shape=(2,), dtype=float32, device='cpu:0'), None]
    """
    tensors = list(tensors)
    w = require("distributed.grouped_all_reduce")
    if w.size == 1:  # nothing to reduce: no copy
        check_bucket_bytes(bucket_bytes)
        return tensors
    bucketer = Bucketer("all_reduce", op=op, bucket_bytes=bucket_bytes)
    for i, t in enumerate(tensors):
        if t is not None:
            bucketer.add(i, _tensor(t, "grouped_all_reduce"))
    out = bucketer.finish()
    return [out.get(i) for i in range(len(tensors))]


def _tensor(t, what):
    from .._tensor import Tensor
    if hasattr(t, "_ef_tensor_"):
        return t._ef_tensor_()
    if not isinstance(t, Tensor):
        raise ArgumentTypeError(f"distributed.{what}: expected eagerflow tensors (or None), "
                                f"got {type(t).__name__}")
    return t


def broadcast_variables(variables, root: int = 0, *,
                        bucket_bytes: int = DEFAULT_BUCKET_BYTES) -> None:
    """Give every rank rank ``root``'s values of ``variables`` (a list, tuple or dict of
    ``ef.Variable``, nested): the same starting point everywhere, before training or after
    restoring a checkpoint on one rank.

    >>> import eagerflow_core as ef
    >>> from eagerflow_core import distributed as dist
    >>> dist.init(); w = ef.Variable([1.0, 2.0])
    >>> dist.broadcast_variables([w], root=0); w.numpy()
    array([1., 2.], dtype=float32)
    """
    from .collectives import _check_root
    w = require("distributed.broadcast_variables")
    root = _check_root("broadcast_variables", root, w.size)
    flat = _flatten(variables)
    for v in flat:
        if not hasattr(v, "_ef_variable_"):
            raise ArgumentTypeError(f"distributed.broadcast_variables: expected ef.Variable "
                                    f"objects, got {type(v).__name__}")
    if w.size == 1:
        return
    bucketer = Bucketer("broadcast", root=root, bucket_bytes=bucket_bytes)
    for i, v in enumerate(flat):
        bucketer.add(i, v.read_value())
    values = bucketer.finish()
    if w.rank != root:
        for i, v in enumerate(flat):
            v.assign(values[i])


def _flatten(tree) -> list:
    if isinstance(tree, dict):
        return [leaf for key in tree for leaf in _flatten(tree[key])]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _flatten(item)]
    return [tree]


class DistributedOptimizer:
    """``optimizer``, with its gradients averaged over every rank before each update.

    ``apply_gradients(grads_and_vars)`` all-reduces the gradients (a ``None`` gradient skips
    its variable, as in Keras) in buckets of about ``bucket_bytes`` (default 25 MiB, like
    PyTorch DDP; smaller buckets start sooner, larger ones pay MPI's latency fewer times), then
    calls the wrapped optimizer's. ``op="sum"`` sums instead of averaging. Every other
    attribute is the wrapped optimizer's (``opt.learning_rate``, ``opt.iterations``...).

    >>> import eagerflow_core as ef
    >>> from eagerflow_core import distributed as dist
    >>> class SGD:                        # any object with apply_gradients(grads_and_vars)
    ...     learning_rate = 0.5
    ...     def apply_gradients(self, grads_and_vars):
    ...         for g, v in grads_and_vars:
    ...             v.assign_sub(self.learning_rate * g)
    >>> dist.init(); w = ef.Variable([1.0, 2.0])
    >>> opt = dist.DistributedOptimizer(SGD(), bucket_bytes=1 << 20)
    >>> loss = opt.minimize(lambda: ef.sum(w * w), [w]); w.numpy(), opt.learning_rate
    (array([0., 0.], dtype=float32), 0.5)
    """

    def __init__(self, optimizer, *, bucket_bytes: int = DEFAULT_BUCKET_BYTES,
                 op: str = "mean"):
        if not callable(getattr(optimizer, "apply_gradients", None)):
            raise ArgumentTypeError(f"DistributedOptimizer wraps an optimizer with an "
                                    f"apply_gradients(grads_and_vars) method; "
                                    f"{type(optimizer).__name__} has none")
        if op not in ("mean", "sum"):
            raise InvalidArgumentError(f"DistributedOptimizer: op={op!r}; use 'mean' or 'sum'")
        self.__dict__["optimizer"] = optimizer
        self.__dict__["bucket_bytes"] = check_bucket_bytes(bucket_bytes)
        self.__dict__["op"] = op

    def reduce_gradients(self, grads_and_vars) -> list:
        """``[(reduced gradient, variable), ...]``: what ``apply_gradients`` hands on."""
        pairs = [tuple(p) for p in grads_and_vars]
        grads = grouped_all_reduce([g for g, _ in pairs], self.op,
                                   bucket_bytes=self.bucket_bytes)
        return [(g, v) for g, (_, v) in zip(grads, pairs)]

    def apply_gradients(self, grads_and_vars, *args, **kwargs):
        return self.optimizer.apply_gradients(self.reduce_gradients(grads_and_vars), *args,
                                              **kwargs)

    def minimize(self, loss, var_list, tape=None):
        """Keras' ``minimize``: ``loss`` is a callable (or a tensor computed under ``tape``);
        its gradients with respect to ``var_list`` are averaged and applied. Returns the loss."""
        from ..autodiff import GradientTape
        if callable(var_list):
            var_list = var_list()
        var_list = list(var_list)
        if tape is None:
            if not callable(loss):
                raise ArgumentTypeError("DistributedOptimizer.minimize: without a tape, loss "
                                        "must be a callable that computes it")
            with GradientTape() as tape:
                loss = loss()
        grads = tape.gradient(loss, var_list)
        self.apply_gradients(list(zip(grads, var_list)))
        return loss

    def __getattr__(self, name):
        return getattr(self.__dict__["optimizer"], name)

    def __setattr__(self, name, value):
        if name in self.__dict__:
            self.__dict__[name] = value
        else:
            setattr(self.__dict__["optimizer"], name, value)

    def __repr__(self):
        return (f"DistributedOptimizer({self.optimizer!r}, bucket_bytes={self.bucket_bytes}, "
                f"op={self.op!r})")
