"""``ef.optimizers``: Keras' optimizers, updating Variables in place with fused kernels.

>>> import eagerflow_core as ef
>>> w = ef.Variable([3.0])
>>> opt = ef.optimizers.SGD(learning_rate=0.25)
>>> for _ in range(3):
...     _ = opt.minimize(lambda: ef.sum(w * w), [w])  # d/dw w**2 = 2w: w *= 0.5 each step
>>> w.numpy(), int(opt.iterations)
(array([0.375], dtype=float32), 3)
"""

from . import schedules
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .base import Optimizer
from .clipping import clip_by_global_norm, clip_by_norm, global_norm
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "schedules",
           "clip_by_global_norm", "clip_by_norm", "global_norm"]
