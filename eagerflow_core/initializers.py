"""``ef.initializers``: Keras' weight initialisers, drawn from ``ef.random``.

An initialiser is called with a shape (and a dtype, a device) and returns a tensor. Layers take
one by name (``"glorot_uniform"``), as an instance, or as any callable ``f(shape, dtype)``.

Seeds follow Keras 3: an initialiser made with ``seed=`` gives the same values at every call
(its draws come from ``ef.random.Generator(seed)``, made afresh per call); without a seed it
draws from ``ef.random``'s global generator, so ``ef.random.set_seed`` makes a whole model's
initial weights reproducible.

Fans (Keras' ``compute_fans``): a 2-D shape ``(in, out)`` has ``fan_in = in`` and
``fan_out = out``; a convolution kernel ``(*window, in, out)`` multiplies both by the window's
size; a 1-D shape has both fans equal to its size, a scalar 1.

>>> import eagerflow_core as ef
>>> w = ef.initializers.GlorotUniform(seed=0)((784, 10))
>>> limit = (6 / (784 + 10)) ** 0.5
>>> bool(ef.all(ef.abs(w) <= limit)), w.dtype
(True, ef.float32)
>>> ef.initializers.get("zeros")((2,))
ef.Tensor([0., 0.], shape=(2,), dtype=float32, device='cpu:0')
"""

from __future__ import annotations

import math
import numbers

from ._dtypes import as_dtype, float32
from ._errors import ArgumentTypeError, InvalidArgumentError
from ._tensor import Tensor
from .ops.creation import asarray, astype, full, ones, zeros
from .random import Generator
from .random import normal as _global_normal
from .random import truncated_normal as _global_truncated_normal
from .random import uniform as _global_uniform

# The standard deviation of a unit normal truncated to two standard deviations: Keras divides
# by it so that a truncated draw has the variance it asks for.
_TRUNCATED_STDDEV = 0.87962566103423978


def compute_fans(shape) -> tuple[float, float]:
    """``(fan_in, fan_out)`` of a weight of this shape (Keras' rule, module docstring).

    >>> import eagerflow_core as ef
    >>> ef.initializers.compute_fans((3, 3, 16, 32))
    (144, 288)
    """
    shape = tuple(int(d) for d in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _shape(shape, who: str) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        shape = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"{who}: shape must be a tuple of ints, got {shape!r}") from None
    if any(d < 0 for d in shape):
        raise InvalidArgumentError(f"{who}: shape {shape} has a negative size")
    return shape


def _float_dtype(dtype, who: str):
    dt = float32 if dtype is None else as_dtype(dtype)
    if dt.kind != "f":
        raise ArgumentTypeError(f"{who}: draws floating-point values; dtype {dt} is not a real "
                                f"floating dtype (float16, bfloat16, float32 or float64)")
    return dt


def _check_seed(seed, who: str):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ArgumentTypeError(f"{who}: seed must be an int or None, got {seed!r}")
    return None if seed is None else int(seed)


class Initializer:
    """Base class: subclasses define ``__call__(shape, dtype=None, device=None)``.

    ``get_config()`` returns the constructor's arguments, and ``from_config(config)`` rebuilds
    the initialiser from them (Keras' serialisation protocol).
    """

    def __call__(self, shape, dtype=None, device=None) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define __call__")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"ef.initializers.{type(self).__name__}({args})"


class _Random(Initializer):
    """An initialiser that draws: holds the seed and picks the generator for each call."""

    def __init__(self, seed=None):
        self.seed = _check_seed(seed, type(self).__name__)

    def _draw(self, kind: str, shape, dtype, device, **params) -> Tensor:
        who = type(self).__name__
        shape, dt = _shape(shape, who), _float_dtype(dtype, who)
        if self.seed is not None:  # Keras 3: a seeded initialiser repeats its values
            gen = Generator(self.seed)
            return getattr(gen, kind)(shape, dtype=dt, device=device, **params)
        draw = {"normal": _global_normal, "uniform": _global_uniform,
                "truncated_normal": _global_truncated_normal}[kind]
        return draw(shape, dtype=dt, device=device, **params)

    def get_config(self) -> dict:
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros (Keras' default bias initialiser)."""

    def __call__(self, shape, dtype=None, device=None) -> Tensor:
        return zeros(_shape(shape, "Zeros"), dtype=as_dtype(dtype or float32), device=device)


class Ones(Initializer):
    """All ones (BatchNormalization's gamma and moving variance)."""

    def __call__(self, shape, dtype=None, device=None) -> Tensor:
        return ones(_shape(shape, "Ones"), dtype=as_dtype(dtype or float32), device=device)


class Constant(Initializer):
    """Every element ``value`` (a number), or a given array that has the requested shape.

    >>> import eagerflow_core as ef
    >>> ef.initializers.Constant(0.5)((2,))
    ef.Tensor([0.5, 0.5], shape=(2,), dtype=float32, device='cpu:0')
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None, device=None) -> Tensor:
        shape, dt = _shape(shape, "Constant"), as_dtype(dtype or float32)
        if isinstance(self.value, numbers.Number):
            return full(shape, self.value, dtype=dt, device=device)
        t = astype(asarray(self.value, device=device), dt)
        if t.shape != shape:
            raise InvalidArgumentError(f"Constant: the value has shape {t.shape}; the weight "
                                       f"asks for {shape}")
        return t

    def get_config(self) -> dict:
        value = self.value
        return {"value": value if isinstance(value, numbers.Number) else asarray(value).tolist()}


class RandomNormal(_Random):
    """Normal values with ``mean`` and ``stddev`` (Keras' defaults: 0 and 0.05)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype=None, device=None) -> Tensor:
        return self._draw("normal", shape, dtype, device, mean=self.mean, stddev=self.stddev)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(_Random):
    """Uniform values in ``[minval, maxval)`` (Keras' defaults: -0.05 and 0.05; also
    Embedding's default, as ``"uniform"``)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape, dtype=None, device=None) -> Tensor:
        return self._draw("uniform", shape, dtype, device, minval=self.minval, maxval=self.maxval)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class TruncatedNormal(_Random):
    """Normal values within two standard deviations of ``mean`` (``stddev`` is the
    un-truncated distribution's, as in Keras; defaults 0 and 0.05)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype=None, device=None) -> Tensor:
        return self._draw("truncated_normal", shape, dtype, device, mean=self.mean,
                          stddev=self.stddev)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class VarianceScaling(_Random):
    """Values whose variance is ``scale / n``, ``n`` the fan chosen by ``mode`` (``"fan_in"``,
    ``"fan_out"`` or ``"fan_avg"``), from ``distribution`` ``"truncated_normal"`` (its stddev
    corrected for the truncation, as Keras does), ``"untruncated_normal"`` or ``"uniform"``
    (limits ``+-sqrt(3 scale / n)``). The Glorot, He and LeCun initialisers are instances.

    >>> import eagerflow_core as ef
    >>> init = ef.initializers.VarianceScaling(2.0, "fan_in", "uniform", seed=1)
    >>> bool(ef.max(ef.abs(init((50, 20)))) <= (6 / 50) ** 0.5)
    True
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        who = type(self).__name__
        if not scale > 0:
            raise InvalidArgumentError(f"{who}: scale must be positive, got {scale!r}")
        if mode not in self._MODES:
            raise InvalidArgumentError(f"{who}: mode must be one of {self._MODES}, got {mode!r}")
        if distribution == "normal":  # Keras' older spelling
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise InvalidArgumentError(f"{who}: distribution must be one of "
                                       f"{self._DISTRIBUTIONS}, got {distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape, dtype=None, device=None) -> Tensor:
        fan_in, fan_out = compute_fans(_shape(shape, type(self).__name__))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return self._draw("uniform", shape, dtype, device, minval=-limit, maxval=limit)
        if self.distribution == "truncated_normal":
            return self._draw("truncated_normal", shape, dtype, device,
                              stddev=math.sqrt(variance) / _TRUNCATED_STDDEV)
        return self._draw("normal", shape, dtype, device, stddev=math.sqrt(variance))

    def get_config(self) -> dict:
        if type(self) is not VarianceScaling:  # the named subclasses take the seed only
            return super().get_config()
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


class GlorotUniform(VarianceScaling):
    """Uniform in ``+-sqrt(6 / (fan_in + fan_out))`` (Xavier; Keras' default kernel
    initialiser)."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "uniform", seed)


class GlorotNormal(VarianceScaling):
    """Truncated normal with stddev ``sqrt(2 / (fan_in + fan_out))``."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)


class HeNormal(VarianceScaling):
    """Truncated normal with stddev ``sqrt(2 / fan_in)`` (for ReLU networks)."""

    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)


class HeUniform(VarianceScaling):
    """Uniform in ``+-sqrt(6 / fan_in)``."""

    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "uniform", seed)


class LecunNormal(VarianceScaling):
    """Truncated normal with stddev ``sqrt(1 / fan_in)``."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed)


class LecunUniform(VarianceScaling):
    """Uniform in ``+-sqrt(3 / fan_in)``."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "uniform", seed)


_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_normal": RandomNormal, "random_uniform": RandomUniform, "uniform": RandomUniform,
    "normal": RandomNormal, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_normal": HeNormal, "he_uniform": HeUniform,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
}
_BY_CLASS = {cls.__name__: cls for cls in _BY_NAME.values()}


def get(identifier, who: str = "initializers.get"):
    """An initialiser from a name (``"glorot_uniform"``, ``"he_normal"``, or a class name such
    as ``"GlorotUniform"``), a ``{"class_name": ..., "config": {...}}`` dict, an instance, or
    any callable ``f(shape, dtype)``; ``None`` stays None.

    >>> import eagerflow_core as ef
    >>> ef.initializers.get("he_normal")
    ef.initializers.HeNormal(seed=None)
    >>> ef.initializers.get("glorot")
    Traceback (most recent call last):
        ...
    eagerflow_core._errors.InvalidArgumentError: initializers.get: unknown initializer 'glorot'; valid names: constant, glorot_normal, glorot_uniform, he_normal, he_uniform, lecun_normal, lecun_uniform, normal, ones, random_normal, random_uniform, truncated_normal, uniform, variance_scaling, zeros
    """
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or _BY_CLASS.get(identifier)
        if cls is None:
            raise InvalidArgumentError(f"{who}: unknown initializer {identifier!r}; valid names: "
                                       f"{', '.join(sorted(_BY_NAME))}")
        return cls()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _BY_CLASS.get(identifier["class_name"]) or _BY_NAME.get(identifier["class_name"])
        if cls is None:
            raise InvalidArgumentError(f"{who}: unknown initializer class "
                                       f"{identifier['class_name']!r}")
        return cls.from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise ArgumentTypeError(f"{who}: expected an initializer name, instance or callable, got "
                            f"{type(identifier).__name__} {identifier!r}")


__all__ = ["Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Initializer",
           "LecunNormal", "LecunUniform", "Ones", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "VarianceScaling", "Zeros", "compute_fans", "get"]
