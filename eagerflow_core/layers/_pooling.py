"""Pooling layers: MaxPool2D, AvgPool2D and the global poolings (Keras' names and aliases)."""

from __future__ import annotations

from ..nn import avg_pool2d, max_pool2d
from ..ops.statistical import max as ef_max
from ..ops.statistical import mean
from ._base import InputSpec, Layer
from ._conv import _NDIM_HINT, int_tuple, padding_of
from ._core import data_format_of


class _Pool2D(Layer):
    _pool = None

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        who = self._ef_who()
        self.pool_size = int_tuple(pool_size, 2, "pool_size", who)
        self.strides = self.pool_size if strides is None else int_tuple(strides, 2, "strides",
                                                                        who)
        self.padding = padding_of(padding, who)
        self.data_format = data_format_of(data_format, who)
        self.input_spec = InputSpec(ndim=4, hint=_NDIM_HINT[2, self.data_format])

    def call(self, inputs):
        return type(self)._pool(inputs, self.pool_size, strides=self.strides,
                                padding=self.padding.upper(),
                                data_format="NHWC" if self.data_format == "channels_last"
                                else "NCHW")


class MaxPool2D(_Pool2D):
    """The maximum of each ``pool_size`` window, windows ``strides`` apart (default: the
    pool size, side by side); ``padding`` ``"valid"`` or ``"same"``.

    >>> import eagerflow_core as ef
    >>> x = ef.reshape(ef.arange(16.0), (1, 4, 4, 1))
    >>> ef.layers.MaxPool2D(2)(x)[0, :, :, 0]
    ef.Tensor([[ 5.,  7.],
               [13., 15.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """

    _pool = staticmethod(max_pool2d)


class AvgPool2D(_Pool2D):
    """The mean of each ``pool_size`` window; with ``padding="same"`` the padded positions
    are not counted (TensorFlow's rule; PyTorch's ``count_include_pad=True`` differs).

    >>> import eagerflow_core as ef
    >>> x = ef.reshape(ef.arange(16.0), (1, 4, 4, 1))
    >>> ef.layers.AvgPool2D(2)(x)[0, :, :, 0]
    ef.Tensor([[ 2.5,  4.5],
               [10.5, 12.5]], shape=(2, 2), dtype=float32, device='cpu:0')
    """

    _pool = staticmethod(avg_pool2d)


class _GlobalPool2D(Layer):
    _reduce = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format_of(data_format, self._ef_who())
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=4, hint=_NDIM_HINT[2, self.data_format])

    def call(self, inputs):
        axes = (1, 2) if self.data_format == "channels_last" else (2, 3)
        return type(self)._reduce(inputs, axis=axes, keepdims=self.keepdims)


class GlobalAveragePooling2D(_GlobalPool2D):
    """The mean over height and width: ``(batch, h, w, c) -> (batch, c)`` (``(batch, 1, 1,
    c)`` with ``keepdims=True``).

    >>> import eagerflow_core as ef
    >>> ef.layers.GlobalAveragePooling2D()(ef.ones((2, 5, 5, 3))).shape
    (2, 3)
    """

    _reduce = staticmethod(mean)


class GlobalMaxPooling2D(_GlobalPool2D):
    """The maximum over height and width: ``(batch, h, w, c) -> (batch, c)``.

    >>> import eagerflow_core as ef
    >>> ef.layers.GlobalMaxPooling2D(keepdims=True)(ef.ones((2, 5, 5, 3))).shape
    (2, 1, 1, 3)
    """

    _reduce = staticmethod(ef_max)


MaxPooling2D, AveragePooling2D = MaxPool2D, AvgPool2D
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D

__all__ = ["AvgPool2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalAvgPool2D",
           "GlobalMaxPool2D", "GlobalMaxPooling2D", "MaxPool2D", "MaxPooling2D"]
