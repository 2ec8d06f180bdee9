"""``ef.optimizers.Adam`` and ``AdamW`` (Adam with decoupled weight decay), as Keras has them."""

from __future__ import annotations

import math

from .._errors import InvalidArgumentError
from ..ops.elementwise import maximum, sqrt, square
from .base import Optimizer


def adam_update(param, m, v, *rest, lr, beta_1, beta_2, epsilon, decay=0.0, amsgrad=False):
    """One Adam step in eagerflow ops: the ``optim.adam`` kernel's specification and the path
    of devices without it. ``lr`` has the bias correction folded in; ``rest`` is
    ``(v_hat, grad)`` with amsgrad, else ``(grad,)``."""
    grad = rest[-1]
    if not isinstance(decay, (int, float)) or decay:  # a tensor in a traced step
        param = param * (1.0 - decay)
    m = m + (grad - m) * (1.0 - beta_1)
    v = v + (square(grad) - v) * (1.0 - beta_2)
    second = maximum(rest[0], v) if amsgrad else v
    param = param - m / (sqrt(second) + epsilon) * lr
    return (param, m, v, second) if amsgrad else (param, m, v)


class Adam(Optimizer):
    """Adam (Keras' ``Adam``: ``beta_1=0.9, beta_2=0.999, epsilon=1e-7``): moving averages of
    the gradient ``m`` and of its square ``v``, and
    ``param -= lr_t * m / (sqrt(v) + epsilon)`` with ``lr_t = lr * sqrt(1 - beta_2**t) /
    (1 - beta_1**t)``: the bias correction is folded into the step size, so ``epsilon`` is
    added to the uncorrected ``sqrt(v)`` (PyTorch adds its ``eps=1e-8`` to the corrected one).
    ``amsgrad`` uses the running maximum of ``v``.

    >>> import eagerflow_core as ef
    >>> w = ef.Variable([1.0, -1.0], name="w")
    >>> opt = ef.optimizers.Adam(learning_rate=0.1)
    >>> _ = opt.apply_gradients([(ef.constant([0.5, -2.0]), w)])
    >>> w.numpy().round(5)  # the first step moves each weight by ~lr, whatever the gradient
    array([ 0.9, -0.9], dtype=float32)
    >>> [v.name for v in opt.variables]  # the step counter, the rate, then the slots
    ['iteration', 'learning_rate', 'w/momentum', 'w/velocity']
    """

    _kernel = "optim.adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name="adam"):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon, self.amsgrad = float(epsilon), bool(amsgrad)

    def _slot_specs(self):
        specs = [("momentum", 0.0), ("velocity", 0.0)]
        return specs + [("velocity_hat", 0.0)] if self.amsgrad else specs

    def _update(self, var, grad, lr, step):
        # step is a float32 tensor in a traced step (base.py): the same formula in ops.
        root = math.sqrt if isinstance(step, int) else sqrt
        alpha = lr * root(1 - self.beta_2 ** step) / (1 - self.beta_1 ** step)
        self._run([var, *self._slots_for(var)], grad,
                  {"lr": alpha, "beta_1": self.beta_1, "beta_2": self.beta_2,
                   "epsilon": self.epsilon, "decay": self._decay(var, lr),
                   "amsgrad": self.amsgrad}, adam_update)


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras' ``AdamW``, ``weight_decay=0.004``): before each
    update ``param -= lr * weight_decay * param``, outside the adaptive step (PyTorch's AdamW
    does the same)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name="adamw"):
        if weight_decay is None:
            raise InvalidArgumentError("AdamW: weight_decay must be a float, got None")
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
