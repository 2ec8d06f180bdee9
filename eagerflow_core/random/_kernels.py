"""The random kernels: stateless, counter-based draws that a backend implements.

Every random value eagerflow makes comes from one of these ops. Each is a pure function of its
parameters, so a backend can draw on its own device with no host round trip and no state:

=======================  =====================================  ================================
op (kernel name)         kernel call                            result
=======================  =====================================  ================================
``random.uniform``       ``k(key, counter, shape, dtype)``      uniform in ``[0, 1)``, ``dtype``
                                                                a native floating dtype
``random.normal``        ``k(key, counter, shape, dtype)``      standard normal, ``dtype``
``random.permutation``   ``k(key, counter, n)``                 a permutation of ``range(n)``,
                         (optional)                             int64
=======================  =====================================  ================================

``key`` and ``counter`` are Python ints in ``[0, 2**64)``. The same arguments must give the
same values; two different ``(key, counter)`` pairs must give independent streams, however
many values each draw uses (the NumPy backend gives each counter its own Philox substream).
A backend need not reproduce the NumPy backend's bits. A :class:`~eagerflow_core.random.
Generator` hands each draw a fresh counter.

A device whose backend lacks a random kernel draws on the fallback device (``cpu``) and moves
the result: random kernels are the one family where this is expected (the issue's "else values
are drawn on the CPU and moved"), so it happens even under the default ``error`` fallback
policy. It is never silent to the tools: each such draw is counted in ``ef.fallback_stats()``
and warned about once under ``EAGERFLOW_FALLBACK=warn``. ``random.permutation`` is optional:
without it a permutation is an argsort of uniform keys on the device.
"""

from __future__ import annotations

from .. import _dispatch, _fallback
from .._devices import default_device
from .._devices import device as get_device
from .._dtypes import DType, as_dtype, int64
from .._errors import ArgumentTypeError, DTypeError, KernelNotFoundError, ShapeError
from .._registry import defop
from .._tensor import Tensor
from ..ops.transfer import to_device

FLOATS = "float16, bfloat16, float32 or float64"


def _floating(*dtypes, dtype=None, **params) -> DType:
    if dtype.kind != "f":
        raise DTypeError(f"draws real floating-point values: dtype must be {FLOATS}, not {dtype}")
    return dtype


def _shape_param(*shapes, shape=(), **params) -> tuple[int, ...]:
    shape = tuple(shape)
    if any(d < 0 for d in shape):
        raise ShapeError(f"shape {shape} has a negative size")
    return shape


def _permutation_dtype(*dtypes, **params) -> DType:
    return int64


def _permutation_shape(*shapes, n=0, **params) -> tuple[int, ...]:
    return (n,)


# internal=True: no public function takes (key, counter); users draw through ef.random.
uniform_op = defop("random.uniform", family="random", nin=0, dtype_rule=_floating,
                   shape_rule=_shape_param, differentiable=False, internal=True,
                   posparams=("key", "counter", "shape", "dtype"),
                   doc="Uniform values in [0, 1): the stateless, counter-based kernel of "
                       "ef.random.")
normal_op = defop("random.normal", family="random", nin=0, dtype_rule=_floating,
                  shape_rule=_shape_param, differentiable=False, internal=True,
                  posparams=("key", "counter", "shape", "dtype"),
                  doc="Standard normal values: the stateless, counter-based kernel of ef.random.")
permutation_op = defop("random.permutation", family="random", nin=0,
                       dtype_rule=_permutation_dtype, shape_rule=_permutation_shape,
                       differentiable=False, internal=True, posparams=("key", "counter", "n"),
                       doc="A random permutation of range(n) (optional kernel of ef.random).")


# -- arguments ---------------------------------------------------------------------------------

def resolve_device(device):
    """``device`` (a name or a Device) as a Device; ``None`` is the default device."""
    return default_device() if device is None else get_device(device)


def shape_of(shape, who: str) -> tuple[int, ...]:
    """``shape`` (an int, a sequence of ints, or a 1-D integer tensor) as a tuple."""
    if isinstance(shape, Tensor):
        shape = shape.tolist()
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        out = tuple(_index(d) for d in shape)
    except (TypeError, AttributeError):
        raise ArgumentTypeError(f"{who}: shape must be an int or a sequence of ints, got "
                                f"{shape!r}") from None
    if any(d < 0 for d in out):
        raise ShapeError(f"{who}: shape {out} has a negative size")
    return out


def _index(d) -> int:
    if isinstance(d, bool):
        raise TypeError("a bool is not a size")
    return d.__index__()


def float_dtype(dtype, who: str) -> DType:
    dt = as_dtype(dtype, who)
    if dt.kind != "f":
        raise DTypeError(f"{who}: dtype must be {FLOATS}, not {dt}")
    return dt


# -- running a kernel ----------------------------------------------------------------------------

def run(op, params: dict, dev) -> Tensor:
    """Run the random kernel ``op`` on ``dev``, or on the fallback device and move the result
    (counted, see the module docstring)."""
    if op.name in dev.kernels:
        return _dispatch.call(op, (), params, device=dev)
    target = _fallback.fallback_device()
    if target is dev or op.name not in target.kernels:
        raise KernelNotFoundError(
            f"{op.name}: backend {dev.backend.name!r} (device {dev}) has no kernel for this "
            f"random draw, and neither has the fallback device {target} "
            f"(EAGERFLOW_FALLBACK_DEVICE); `eagerflow info` lists op coverage per backend")
    dtype = params.get("dtype")
    if dtype is not None and dtype not in dev.native:
        raise DTypeError(f"{op.name}: backend {dev.backend.name!r} ({dev}) has no {dtype}; "
                         f"draw another dtype and cast with ef.astype")
    out = _dispatch.call(op, (), params, device=target)
    _fallback.note(op, dev, target, "warn" if _fallback.policy() == "warn" else "silent")
    return to_device(out, dev)


def draw(op, key: int, counter: int, shape: tuple, dtype: DType, dev) -> Tensor:
    """``random.uniform`` or ``random.normal`` at ``(key, counter)``: ``shape`` values of
    ``dtype`` on ``dev``."""
    return run(op, {"key": key, "counter": counter, "shape": shape, "dtype": dtype}, dev)


def draw_permutation(key: int, counter: int, n: int, dev) -> Tensor:
    return run(permutation_op, {"key": key, "counter": counter, "n": n}, dev)
