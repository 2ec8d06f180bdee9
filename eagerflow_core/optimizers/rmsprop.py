"""``ef.optimizers.RMSprop``, as Keras has it."""

from __future__ import annotations

from ..ops.elementwise import sqrt, square
from .base import Optimizer


def rmsprop_update(param, v, *rest, lr, rho, momentum=0.0, epsilon, centered=False, decay=0.0):
    """One RMSprop step in eagerflow ops: the ``optim.rmsprop`` kernel's specification and the
    path of devices without it. ``rest`` is ``([mom], [mg], grad)``: the momentum buffer when
    ``momentum > 0``, the mean gradient when ``centered``."""
    grad = rest[-1]
    if not isinstance(decay, (int, float)) or decay:  # a tensor in a traced step
        param = param * (1.0 - decay)
    v = v * rho + square(grad) * (1.0 - rho)
    mg = None
    if centered:
        mg = rest[-2] * rho + grad * (1.0 - rho)
        den = (v - square(mg)) + epsilon
    else:
        den = v + epsilon
    inc = grad / sqrt(den) * lr
    mom = None
    if momentum > 0:
        mom = rest[0] * momentum + inc
        param = param - mom
    else:
        param = param - inc
    return (param, v) + tuple(x for x in (mom, mg) if x is not None)


class RMSprop(Optimizer):
    """RMSprop (Keras' ``RMSprop``: ``rho=0.9, epsilon=1e-7``): ``v = rho * v + (1 - rho) *
    grad**2`` and ``param -= lr * grad / sqrt(v + epsilon)`` (epsilon inside the root; PyTorch
    adds it outside). ``centered`` divides by the estimated variance ``v - mean(grad)**2``
    instead; ``momentum`` accumulates the steps.

    >>> import eagerflow_core as ef
    >>> w = ef.Variable([1.0])
    >>> _ = ef.optimizers.RMSprop(learning_rate=0.01, rho=0.75).apply_gradients(
    ...     [(ef.constant([2.0]), w)])
    >>> w.numpy()  # 1 - 0.01 * 2 / sqrt(0.25 * 4)
    array([0.98], dtype=float32)
    """

    _kernel = "optim.rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name="rmsprop"):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        self.rho, self.momentum = float(rho), float(momentum)
        self.epsilon, self.centered = float(epsilon), bool(centered)

    def _slot_specs(self):
        return ([("velocity", 0.0)] + [("momentum", 0.0)] * (self.momentum > 0)
                + [("average_gradient", 0.0)] * self.centered)

    def _update(self, var, grad, lr, step):
        self._run([var, *self._slots_for(var)], grad,
                  {"lr": lr, "rho": self.rho, "momentum": self.momentum,
                   "epsilon": self.epsilon, "centered": self.centered,
                   "decay": self._decay(var, lr)}, rmsprop_update)
