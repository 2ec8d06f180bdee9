"""Neural-network functions (TensorFlow's ``tf.nn`` names): activations, softmax and
cross-entropy losses.

Each is a composite (``eagerflow_core.autodiff.composite``): a stable forward pass written in
eagerflow ops, which gradient tapes record as one step with a hand-written rule (the rule of
softmax cross-entropy is ``softmax - labels``). The rules are eagerflow ops too, so
second-order gradients work.

>>> import eagerflow_core as ef
>>> ef.nn.relu(ef.constant([-1.0, 2.0]))
ef.Tensor([0., 2.], shape=(2,), dtype=float32, device='cpu:0')
"""

from .activations import gelu, relu, sigmoid, softplus
from .dropout import dropout
from .losses import softmax_cross_entropy_with_logits, sparse_softmax_cross_entropy_with_logits
from .softmax import log_softmax, logsumexp, softmax

__all__ = ["dropout", "gelu", "log_softmax", "logsumexp", "relu", "sigmoid", "softmax",
           "softmax_cross_entropy_with_logits", "softplus",
           "sparse_softmax_cross_entropy_with_logits"]
