"""Dense, Flatten and Embedding (Keras' core layers)."""

from __future__ import annotations

import math
import numbers

from .. import initializers
from .._errors import ArgumentTypeError, InvalidArgumentError
from ..nn import embedding_lookup
from ..ops.linalg import matmul
from ..ops.manipulation import permute_dims, reshape
from . import _activations
from ._base import InputSpec, Layer


def positive_int(value, what: str, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InvalidArgumentError(f"{who}: {what} must be a positive int, got {value!r}")
    return int(value)


def data_format_of(data_format, who: str) -> str:
    """Keras' ``data_format``: ``"channels_last"`` (the default, NHWC) or
    ``"channels_first"``."""
    if data_format is None:
        return "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise InvalidArgumentError(f"{who}: data_format must be 'channels_last' or "
                                   f"'channels_first', got {data_format!r}")
    return data_format


class Dense(Layer):
    """A fully connected layer: ``activation(inputs @ kernel + bias)`` over the last axis.

    ``kernel`` has shape ``(input features, units)`` (Keras' layout; PyTorch's ``Linear``
    stores its transpose), made with ``kernel_initializer`` (``glorot_uniform``); ``bias`` has
    shape ``(units,)`` (``zeros``), absent with ``use_bias=False``. Inputs of any rank >= 2
    are accepted: the other axes are batch axes.

    >>> import eagerflow_core as ef
    >>> layer = ef.layers.Dense(4, activation="relu", name="hidden")
    >>> layer(ef.ones((2, 3))).shape, layer.kernel.shape, layer.bias.shape
    ((2, 4), (3, 4), (4,))
    >>> layer(ef.ones((2, 5)))
    Traceback (most recent call last):
        ...
    eagerflow_core._errors.ShapeError: Dense 'hidden': expected axis -1 of the input to have size 3 (it was built for input shape (2, 3)), got an input of shape (2, 5)
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = positive_int(units, "units", f"Dense {self.name!r}")
        self.activation = _activations.get(activation, f"Dense {self.name!r}")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, f"Dense {self.name!r}")
        self.bias_initializer = initializers.get(bias_initializer, f"Dense {self.name!r}")
        self.input_spec = InputSpec(min_ndim=2, hint=" (batch, ..., features)")

    def build(self, input_shape):
        n = input_shape[-1]
        self.kernel = self.add_weight("kernel", (n, self.units), self.kernel_initializer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: n})

    def call(self, inputs):
        y = matmul(inputs, self.kernel.read_value())
        if self.use_bias:
            y = y + self.bias.read_value()
        return y if self.activation is None else self.activation(y)


class Flatten(Layer):
    """Flattens every axis but the batch axis: ``(batch, d1, d2, ...) -> (batch, d1*d2*...)``.

    With ``data_format="channels_first"`` the channels axis is moved last first, so the
    features come out in the order a channels-last model would give (Keras' rule).

    >>> import eagerflow_core as ef
    >>> ef.layers.Flatten()(ef.ones((2, 3, 4))).shape
    (2, 12)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format_of(data_format, f"Flatten {self.name!r}")
        self.input_spec = InputSpec(min_ndim=1, hint=" (batch, ...)")

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim >= 3:
            inputs = permute_dims(inputs, (0, *range(2, inputs.ndim), 1))
        batch, features = inputs.shape[0], math.prod(inputs.shape[1:])
        # A batch size unknown while tracing (None) is left to reshape to infer.
        return reshape(inputs, (-1 if batch is None else batch, features))


class Embedding(Layer):
    """A lookup table of ``input_dim`` vectors of size ``output_dim``: integer ids of any
    shape become their rows (``embeddings`` has shape ``(input_dim, output_dim)``, Keras'
    default initialiser ``uniform``: in ``[-0.05, 0.05)``). An id outside
    ``[0, input_dim)`` raises OutOfRangeError.

    >>> import eagerflow_core as ef
    >>> emb = ef.layers.Embedding(10, 4)
    >>> emb(ef.constant([[1, 2, 3]])).shape, emb.embeddings.shape
    ((1, 3, 4), (10, 4))
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", **kwargs):
        super().__init__(**kwargs)
        who = f"Embedding {self.name!r}"
        self.input_dim = positive_int(input_dim, "input_dim", who)
        self.output_dim = positive_int(output_dim, "output_dim", who)
        self.embeddings_initializer = initializers.get(embeddings_initializer, who)

    def build(self, input_shape=None):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer)

    def call(self, inputs):
        if inputs.dtype.kind not in "iu":
            raise ArgumentTypeError(f"Embedding {self.name!r}: ids must be integers, got "
                                    f"{inputs.dtype} of shape {inputs.shape}")
        return embedding_lookup(self.embeddings.read_value(), inputs)


__all__ = ["Dense", "Embedding", "Flatten"]
