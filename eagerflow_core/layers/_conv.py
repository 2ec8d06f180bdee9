"""Conv1D and Conv2D (Keras' convolution layers) on ``ef.nn.conv1d`` / ``ef.nn.conv2d``."""

from __future__ import annotations

import numbers

from .. import initializers
from .._errors import InvalidArgumentError, ShapeError
from ..nn import conv1d, conv2d
from ..ops.manipulation import reshape
from . import _activations
from ._base import InputSpec, Layer
from ._core import data_format_of, positive_int


def int_tuple(value, n: int, what: str, who: str) -> tuple[int, ...]:
    """An int or ``n`` positive ints, as a tuple of ``n`` (Keras' ``standardize_tuple``)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,) * n
    try:
        out = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        out = ()
    if len(out) != n or any(v < 1 for v in out) or \
            any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in value):
        raise InvalidArgumentError(f"{who}: {what} must be a positive int or a tuple of {n} "
                                   f"positive ints, got {value!r}")
    return out


def padding_of(padding, who: str, allowed=("valid", "same")) -> str:
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in allowed:
        raise InvalidArgumentError(f"{who}: padding must be one of {allowed}, got {padding!r}")
    return p


_NDIM_HINT = {
    (1, "channels_last"): " (batch, steps, channels)",
    (1, "channels_first"): " (batch, channels, steps)",
    (2, "channels_last"): " (batch, height, width, channels)",
    (2, "channels_first"): " (batch, channels, height, width)",
}


class _Conv(Layer):
    """What Conv1D and Conv2D share: arguments, the kernel and bias, the bias addition."""

    rank = 0

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        who = self._ef_who()
        n = self.rank
        self.filters = positive_int(filters, "filters", who)
        self.kernel_size = int_tuple(kernel_size, n, "kernel_size", who)
        self.strides = int_tuple(strides, n, "strides", who)
        self.dilation_rate = int_tuple(dilation_rate, n, "dilation_rate", who)
        self.groups = positive_int(groups, "groups", who)
        allowed = ("valid", "same", "causal") if n == 1 else ("valid", "same")
        self.padding = padding_of(padding, who, allowed)
        self.data_format = data_format_of(data_format, who)
        self.activation = _activations.get(activation, who)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, who)
        self.bias_initializer = initializers.get(bias_initializer, who)
        if self.filters % self.groups:
            raise InvalidArgumentError(f"{who}: filters ({self.filters}) must be a multiple of "
                                       f"groups ({self.groups})")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise InvalidArgumentError(f"{who}: strides > 1 cannot be combined with "
                                       f"dilation_rate > 1 (got strides={self.strides}, "
                                       f"dilation_rate={self.dilation_rate}), as in Keras")
        self._channel_axis = -1 if self.data_format == "channels_last" else 1
        self.input_spec = InputSpec(ndim=n + 2, hint=_NDIM_HINT[n, self.data_format])

    def build(self, input_shape):
        channels = input_shape[self._channel_axis]
        if channels % self.groups:
            raise ShapeError(f"{self._ef_who()}: the input's {channels} channels (shape "
                             f"{tuple(input_shape)}, {self.data_format}) are not a multiple "
                             f"of groups={self.groups}")
        shape = (*self.kernel_size, channels // self.groups, self.filters)
        self.kernel = self.add_weight("kernel", shape, self.kernel_initializer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels},
                                    hint=_NDIM_HINT[self.rank, self.data_format])

    def _finish(self, y):
        if self.use_bias:
            b = self.bias.read_value()
            if self.data_format == "channels_first":
                b = reshape(b, (self.filters,) + (1,) * self.rank)
            y = y + b
        return y if self.activation is None else self.activation(y)


class Conv2D(_Conv):
    """2-D convolution: ``filters`` kernels of ``kernel_size`` slide over the height and width
    of NHWC inputs (NCHW with ``data_format="channels_first"``).

    The kernel has Keras' HWIO layout ``(height, width, in_channels / groups, filters)``
    (PyTorch's ``Conv2d`` stores OIHW); ``padding`` ``"valid"`` or ``"same"`` (TensorFlow's
    padding: the odd pixel at the end); ``strides``, ``dilation_rate`` (not both above 1) and
    ``groups`` as in Keras.

    >>> import eagerflow_core as ef
    >>> conv = ef.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")
    >>> conv(ef.ones((2, 28, 28, 1))).shape, conv.kernel.shape
    ((2, 28, 28, 8), (3, 3, 1, 8))
    >>> conv(ef.ones((28, 28, 1)))
    Traceback (most recent call last):
        ...
    eagerflow_core._errors.ShapeError: Conv2D 'conv': expected an input with ndim=4 (batch, height, width, channels), got ndim=3: shape (28, 28, 1)
    """

    rank = 2

    def call(self, inputs):
        y = conv2d(inputs, self.kernel.read_value(), strides=self.strides,
                   padding=self.padding.upper(),
                   data_format="NHWC" if self.data_format == "channels_last" else "NCHW",
                   dilations=self.dilation_rate, groups=self.groups)
        return self._finish(y)


class Conv1D(_Conv):
    """1-D convolution over the steps of ``(batch, steps, channels)`` inputs (``(batch,
    channels, steps)`` with ``channels_first``); kernel ``(width, in_channels / groups,
    filters)``. ``padding="causal"`` pads only the start, so output step ``t`` sees inputs up
    to ``t`` (WaveNet's convolutions).

    >>> import eagerflow_core as ef
    >>> ef.layers.Conv1D(4, 3, padding="causal")(ef.ones((2, 10, 3))).shape
    (2, 10, 4)
    """

    rank = 1

    def call(self, inputs):
        padding = self.padding.upper()
        if padding == "CAUSAL":
            padding = [((self.kernel_size[0] - 1) * self.dilation_rate[0], 0)]
        y = conv1d(inputs, self.kernel.read_value(), stride=self.strides, padding=padding,
                   data_format="NWC" if self.data_format == "channels_last" else "NCW",
                   dilations=self.dilation_rate, groups=self.groups)
        return self._finish(y)


Convolution1D, Convolution2D = Conv1D, Conv2D

__all__ = ["Conv1D", "Conv2D", "Convolution1D", "Convolution2D"]
