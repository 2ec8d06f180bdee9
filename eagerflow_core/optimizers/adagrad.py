"""``ef.optimizers.Adagrad``, as Keras has it."""

from __future__ import annotations

from ..ops.elementwise import sqrt, square
from .base import Optimizer


def adagrad_update(param, acc, grad, *, lr, epsilon, decay=0.0):
    """One Adagrad step in eagerflow ops: the ``optim.adagrad`` kernel's specification and the
    path of devices without it."""
    if not isinstance(decay, (int, float)) or decay:  # a tensor in a traced step
        param = param * (1.0 - decay)
    acc = acc + square(grad)
    return param - grad / sqrt(acc + epsilon) * lr, acc


class Adagrad(Optimizer):
    """Adagrad (Keras' ``Adagrad``: ``initial_accumulator_value=0.1, epsilon=1e-7``):
    ``acc += grad**2`` and ``param -= lr * grad / sqrt(acc + epsilon)`` (epsilon inside the
    root; PyTorch adds its ``eps=1e-10`` outside and starts the accumulator at 0).

    >>> import eagerflow_core as ef
    >>> w = ef.Variable([1.0])
    >>> opt = ef.optimizers.Adagrad(learning_rate=0.5, initial_accumulator_value=0.0, epsilon=0.0)
    >>> _ = opt.apply_gradients([(ef.constant([3.0]), w)])
    >>> w.numpy()  # 1 - 0.5 * 3 / sqrt(9)
    array([0.5], dtype=float32)
    """

    _kernel = "optim.adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name="adagrad"):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _slot_specs(self):
        return [("accumulator", self.initial_accumulator_value)]

    def _update(self, var, grad, lr, step):
        self._run([var, *self._slots_for(var)], grad,
                  {"lr": lr, "epsilon": self.epsilon, "decay": self._decay(var, lr)},
                  adagrad_update)
