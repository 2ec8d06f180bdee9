"""Activations by name (Keras' ``activation="relu"``) and the ``Activation`` layer."""

from __future__ import annotations

from .._errors import ArgumentTypeError, InvalidArgumentError
from ..nn import gelu, log_softmax, relu, sigmoid, silu, softmax, softplus
from ..ops.elementwise import expm1, maximum, minimum, tanh
from ..ops.searching import where
from ._base import Layer


def _softmax(x):
    return softmax(x, axis=-1)


def _log_softmax(x):
    return log_softmax(x, axis=-1)


def _relu6(x):
    return minimum(relu(x), 6.0)


def _leaky_relu(x):
    return maximum(x, 0.2 * x)  # Keras 3's negative_slope=0.2


def _elu(x):
    return where(x > 0, x, expm1(x))


# "gelu" is the tanh form, the one eagerflow has (ef.nn.gelu: no erf op yet); Keras' default is
# the erf form, within 1e-3 of it.
ACTIVATIONS = {
    "relu": relu, "relu6": _relu6, "leaky_relu": _leaky_relu, "elu": _elu,
    "sigmoid": sigmoid, "tanh": tanh, "softmax": _softmax, "log_softmax": _log_softmax,
    "softplus": softplus, "gelu": gelu, "silu": silu, "swish": silu, "linear": None,
}


def get(activation, who: str = "activation"):
    """The function for ``activation``: a name of ``ACTIVATIONS``, a callable, or None
    (``None`` and ``"linear"`` give None: no function to call)."""
    if activation is None:
        return None
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise InvalidArgumentError(f"{who}: unknown activation {activation!r}; valid names: "
                                       f"{', '.join(sorted(ACTIVATIONS))}, or any callable")
        return ACTIVATIONS[activation]
    if callable(activation):
        return activation
    raise ArgumentTypeError(f"{who}: activation must be a name or a callable, got "
                            f"{type(activation).__name__} {activation!r}")


def name_of(fn) -> str:
    """The name of an activation function, for ``get_config`` and ``repr``."""
    for name, known in ACTIVATIONS.items():
        if known is fn:
            return name
    return getattr(fn, "__name__", repr(fn))


class Activation(Layer):
    """Applies an activation function (a name or a callable) to its input.

    >>> import eagerflow_core as ef
    >>> ef.layers.Activation("relu")(ef.constant([-1.0, 2.0]))
    ef.Tensor([0., 2.], shape=(2,), dtype=float32, device='cpu:0')
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = get(activation, f"Activation {self.name!r}")

    def call(self, inputs):
        return inputs if self.activation is None else self.activation(inputs)


__all__ = ["ACTIVATIONS", "Activation", "get"]
