"""``ef.optimizers.SGD``: gradient descent with optional (Nesterov) momentum, as Keras has it."""

from __future__ import annotations

from .._errors import InvalidArgumentError
from .base import Optimizer


def sgd_update(param, *rest, lr, momentum=0.0, nesterov=False, decay=0.0):
    """One SGD step in eagerflow ops: the ``optim.sgd`` kernel's specification and the path of
    devices without it. ``rest`` is ``(momentum_buf, grad)`` with momentum, else ``(grad,)``."""
    grad = rest[-1]
    if not isinstance(decay, (int, float)) or decay:  # a tensor in a traced step
        param = param * (1.0 - decay)
    step = grad * lr
    if momentum <= 0:
        return param - step
    buf = rest[0] * momentum - step
    if nesterov:
        return (param - step) + buf * momentum, buf
    return param + buf, buf


class SGD(Optimizer):
    """Gradient descent (Keras' ``SGD``): ``param -= lr * grad``; with ``momentum`` the buffer
    ``m = momentum * m - lr * grad`` is added to the parameter, and with ``nesterov`` the
    parameter moves by ``momentum * m - lr * grad`` instead. (PyTorch keeps ``-m / lr``; for a
    constant learning rate the trajectories are the same.)

    >>> import eagerflow_core as ef
    >>> w = ef.Variable([1.0, 2.0])
    >>> opt = ef.optimizers.SGD(learning_rate=0.5, momentum=0.5)
    >>> for _ in range(2):
    ...     _ = opt.apply_gradients([(ef.constant([1.0, -1.0]), w)])
    >>> w.numpy()
    array([-0.25,  3.25], dtype=float32)
    """

    _kernel = "optim.sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="SGD"):
        if not 0 <= momentum <= 1:
            raise InvalidArgumentError(f"SGD: momentum must be a float in [0, 1], got {momentum!r}")
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _slot_specs(self):
        return [("momentum", 0.0)] if self.momentum > 0 else []

    def _update(self, var, grad, lr, step):
        self._run([var, *self._slots_for(var)], grad,
                  {"lr": lr, "momentum": self.momentum, "nesterov": self.nesterov,
                   "decay": self._decay(var, lr)}, sgd_update)
