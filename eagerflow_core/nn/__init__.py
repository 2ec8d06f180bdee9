"""Neural-network functions (TensorFlow's ``tf.nn`` names): activations, softmax, losses,
convolutions, pooling, normalisation, one-hot and embeddings.

Convolutions and pooling are kernel ops (family ``nn``, defined in ``ops/nn_conv.py`` and
``ops/nn_pool.py``): every backend implements them, and their gradients are kernel ops too.
The rest are composites (``eagerflow_core.autodiff.composite``): a stable forward pass written
in eagerflow ops, which gradient tapes record as one step with a hand-written rule (the rule
of softmax cross-entropy is ``softmax - labels``). The rules are eagerflow ops too, so
second-order gradients work.

>>> import eagerflow_core as ef
>>> ef.nn.relu(ef.constant([-1.0, 2.0]))
ef.Tensor([0., 2.], shape=(2,), dtype=float32, device='cpu:0')
"""

from ..ops.nn_conv import conv1d, conv2d, depthwise_conv2d
from ..ops.nn_pool import avg_pool2d, max_pool2d
from .activations import gelu, relu, sigmoid, softplus
from .dropout import dropout
from .embedding import embedding_lookup, one_hot
from .logistic import sigmoid_cross_entropy_with_logits, silu, swish
from .losses import softmax_cross_entropy_with_logits, sparse_softmax_cross_entropy_with_logits
from .normalization import batch_norm, batch_normalization, layer_norm, moments
from .softmax import log_softmax, logsumexp, softmax

__all__ = ["avg_pool2d", "batch_norm", "batch_normalization", "conv1d", "conv2d",
           "depthwise_conv2d", "dropout", "embedding_lookup", "gelu", "layer_norm", "log_softmax",
           "logsumexp", "max_pool2d", "moments", "one_hot", "relu", "sigmoid",
           "sigmoid_cross_entropy_with_logits", "silu", "softmax",
           "softmax_cross_entropy_with_logits", "softplus",
           "sparse_softmax_cross_entropy_with_logits", "swish"]
