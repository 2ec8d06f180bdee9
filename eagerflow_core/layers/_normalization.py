"""BatchNormalization and LayerNormalization, with Keras' defaults and semantics."""

from __future__ import annotations

import numbers

from .. import initializers
from .._errors import AxisError, InvalidArgumentError
from ..autodiff import stop_gradient
from ..nn import batch_norm, layer_norm, moments
from ..ops.manipulation import reshape
from ._base import InputSpec, Layer


def _axes(axis, ndim: int, who: str, input_shape) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral) or not -ndim <= a < ndim:
            raise AxisError(f"{who}: axis {axis!r} is out of range for an input of shape "
                            f"{tuple(input_shape)}")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise AxisError(f"{who}: axis {axis!r} names an axis twice")
    return tuple(sorted(out))


class BatchNormalization(Layer):
    """Normalises each feature (the ``axis``, by default the last: channels-last) to mean 0
    and variance 1, then scales by ``gamma`` and shifts by ``beta`` (Keras' layer).

    In training (``training=True``) it normalises with the batch's mean and (biased) variance
    and moves the non-trainable ``moving_mean`` / ``moving_variance`` towards them:
    ``moving = moving * momentum + batch * (1 - momentum)`` (Keras' ``momentum=0.99``;
    PyTorch's ``momentum=0.01`` is the same rule, though PyTorch keeps the unbiased variance).
    Otherwise (``training`` False or None) it normalises with the moving statistics and
    changes nothing. A layer with ``trainable = False`` always runs in inference mode (Keras'
    rule for fine-tuning). ``epsilon=1e-3`` is added to the variance.

    >>> import eagerflow_core as ef
    >>> bn = ef.layers.BatchNormalization()
    >>> x = ef.constant([[0.0, 10.0], [2.0, 30.0]])
    >>> bn(x, training=True)
    ef.Tensor([[-0.9995004, -0.999995 ],
               [ 0.9995004,  0.999995 ]], shape=(2, 2), dtype=float32, device='cpu:0')
    >>> bn.moving_mean.numpy().round(4), bn.moving_variance.numpy().round(4)
    (array([0.01, 0.2 ], dtype=float32), array([1.  , 1.99], dtype=float32))
    >>> [w.name for w in bn.weights], [w.name for w in bn.trainable_weights]
    (['gamma', 'beta', 'moving_mean', 'moving_variance'], ['gamma', 'beta'])
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        who = self._ef_who()
        if not 0.0 <= momentum <= 1.0:
            raise InvalidArgumentError(f"{who}: momentum must be in [0, 1], got {momentum!r}")
        if not epsilon > 0:
            raise InvalidArgumentError(f"{who}: epsilon must be positive, got {epsilon!r}")
        if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
            raise InvalidArgumentError(f"{who}: axis must be an int, got {axis!r}")
        self.axis, self.momentum, self.epsilon = int(axis), float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer, who)
        self.gamma_initializer = initializers.get(gamma_initializer, who)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer, who)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer, who)

    def build(self, input_shape):
        ndim = len(input_shape)
        (axis,) = _axes(self.axis, ndim, self._ef_who(), input_shape)
        n = input_shape[axis]
        if self.scale:
            self.gamma = self.add_weight("gamma", (n,), self.gamma_initializer)
        if self.center:
            self.beta = self.add_weight("beta", (n,), self.beta_initializer)
        self.moving_mean = self.add_weight("moving_mean", (n,), self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", (n,),
                                               self.moving_variance_initializer, trainable=False)
        self._reduce_axes = tuple(a for a in range(ndim) if a != axis)
        # Parameters of shape (n,) broadcast against a channels-last input as they are; for
        # another axis they are laid along it.
        self._param_shape = None if axis == ndim - 1 else tuple(
            n if a == axis else 1 for a in range(ndim))
        self.input_spec = InputSpec(ndim=ndim, axes={axis: n})

    def _laid(self, t):
        return t if self._param_shape is None else reshape(t, self._param_shape)

    def call(self, inputs, training=None):
        gamma = self.gamma.read_value() if self.scale else None
        beta = self.beta.read_value() if self.center else None
        if training and self.trainable:
            mean, variance = moments(inputs, axes=self._reduce_axes)
            keep = 1.0 - self.momentum
            # moving -= (moving - batch) * (1 - momentum): in place where the backend can; the
            # statistics are constants to tapes (the update is not differentiated).
            self.moving_mean.assign_sub((self.moving_mean - stop_gradient(mean)) * keep)
            self.moving_variance.assign_sub((self.moving_variance - stop_gradient(variance))
                                            * keep)
        else:
            mean, variance = self.moving_mean.read_value(), self.moving_variance.read_value()
        return batch_norm(inputs, self._laid(mean), self._laid(variance),
                          None if beta is None else self._laid(beta),
                          None if gamma is None else self._laid(gamma),
                          variance_epsilon=self.epsilon)


class LayerNormalization(Layer):
    """Normalises each example over ``axis`` (by default the last; an int or a tuple) to mean
    0 and variance 1, then ``* gamma + beta`` (weights of the normalised axes' shape). The
    same in training and inference; ``epsilon=1e-3`` as in Keras.

    >>> import eagerflow_core as ef
    >>> ln = ef.layers.LayerNormalization(epsilon=0.0)
    >>> ln(ef.constant([[1.0, 3.0], [2.0, 6.0]]))
    ef.Tensor([[-1.,  1.],
               [-1.,  1.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        if not epsilon >= 0:
            raise InvalidArgumentError(f"{self._ef_who()}: epsilon must be >= 0, got "
                                       f"{epsilon!r}")
        self.axis, self.epsilon = axis, float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer, self._ef_who())
        self.gamma_initializer = initializers.get(gamma_initializer, self._ef_who())

    def build(self, input_shape):
        ndim = len(input_shape)
        self._axes = _axes(self.axis, ndim, self._ef_who(), input_shape)
        shape = tuple(input_shape[a] for a in self._axes)
        if self.scale:
            self.gamma = self.add_weight("gamma", shape, self.gamma_initializer)
        if self.center:
            self.beta = self.add_weight("beta", shape, self.beta_initializer)
        self.input_spec = InputSpec(ndim=ndim, axes={a: input_shape[a] for a in self._axes})

    def call(self, inputs):
        return layer_norm(inputs, axis=self._axes,
                          scale=self.gamma.read_value() if self.scale else None,
                          offset=self.beta.read_value() if self.center else None,
                          epsilon=self.epsilon)


__all__ = ["BatchNormalization", "LayerNormalization"]
