"""Dropout (TensorFlow's ``tf.nn.dropout``): one tape step whose rule is ``g * mask / (1 - rate)``.

The keep mask is drawn first (``ef.random``: it is a constant to tapes) and passed to the
composite as a bool tensor of ``noise_shape``; the tape keeps that mask (one byte per element)
rather than any float intermediate, and the rule multiplies by it again.
"""

from __future__ import annotations

import numbers

from .._errors import ArgumentTypeError, InvalidArgumentError, ShapeError
from .._tensor import Tensor
from ..autodiff.composite import composite
from ..ops.creation import astype
from ..random import Generator, get_global_generator
from ._common import as_float

_WHO = "nn.dropout"  # what the user called: ef.nn.dropout


def _dropout_vjp(g, ans, x, keep, *, scale):
    return g * (astype(keep, g.dtype) * scale)


@composite(vjp=(_dropout_vjp, None), name="nn.dropout")
def _apply(x, keep, *, scale):
    # TensorFlow's x * scale * cast(keep): a NaN or inf that is dropped stays NaN (0 * inf).
    return x * (astype(keep, x.dtype) * scale)


def _rate(rate) -> float:
    if isinstance(rate, Tensor) or hasattr(rate, "_ef_tensor_"):
        if getattr(rate, "ndim", 0) != 0:
            raise ShapeError(f"{_WHO}: rate must be a scalar, got a tensor of shape {rate.shape}")
        rate = rate.item()
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise ArgumentTypeError(f"{_WHO}: rate must be a float in [0, 1), got "
                                f"{type(rate).__name__} {rate!r}")
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise InvalidArgumentError(f"{_WHO}: rate must be in [0, 1) (the probability of dropping "
                                   f"each element), got {rate}")
    return rate


def _noise_shape(noise_shape, shape) -> tuple[int, ...]:
    if noise_shape is None:
        return tuple(shape)
    if isinstance(noise_shape, Tensor):
        noise_shape = noise_shape.tolist()
    dims = list(noise_shape)
    ok = len(dims) == len(shape)
    out = []
    for d, n in zip(dims, shape):
        d = n if d is None else int(d)
        ok = ok and d in (1, n)
        out.append(d)
    if not ok:
        raise ShapeError(f"{_WHO}: noise_shape {tuple(dims)} does not fit x of shape {shape}: it "
                         f"must have x's rank, each size equal to x's or 1 (None takes x's)")
    return tuple(out)


def dropout(x, rate, noise_shape=None, seed=None, *, generator=None) -> Tensor:
    """Zero each element of ``x`` with probability ``rate`` and scale the kept ones by
    ``1 / (1 - rate)``, so the expected value is unchanged (TensorFlow's ``tf.nn.dropout``).

    ``noise_shape`` (x's rank; each size x's or 1, ``None`` for x's) shares one keep/drop
    decision along the axes of size 1. ``seed`` makes the mask a function of the seed and the
    shape alone (stateless: the same seed gives the same mask on every call); without it the
    mask comes from ``generator``, else from the global generator (``ef.random.set_seed``).
    ``rate=0`` returns ``x`` itself. The gradient is ``g * mask / (1 - rate)``.

    >>> import eagerflow_core as ef
    >>> x = ef.ones((2, 4))
    >>> ef.nn.dropout(x, 0.5, seed=1)
    ef.Tensor([[0., 0., 2., 0.],
               [0., 2., 2., 2.]], shape=(2, 4), dtype=float32, device='cpu:0')
    >>> ef.grad(lambda x: ef.sum(ef.nn.dropout(x, 0.5, seed=1)))(x)
    ef.Tensor([[0., 0., 2., 0.],
               [0., 2., 2., 2.]], shape=(2, 4), dtype=float32, device='cpu:0')
    """
    rate = _rate(rate)
    x = as_float(x, _WHO)
    if rate == 0.0:
        return x  # nothing is dropped (TensorFlow returns x as well)
    shape = _noise_shape(noise_shape, x.shape)
    if seed is not None:
        if generator is not None:
            raise InvalidArgumentError(f"{_WHO}: give a seed or a generator, not both")
        gen = Generator(seed)
    else:
        gen = get_global_generator() if generator is None else generator
    # float32 draws (64-bit for float64 x) whatever x's dtype: a float16 draw would round
    # the keep probability to a multiple of 2**-11.
    u = gen.uniform(shape, dtype=x.dtype if x.dtype.name == "float64" else "float32",
                    device=x.device)
    return _apply(x, u >= rate, scale=1.0 / (1.0 - rate))


__all__ = ["dropout"]
