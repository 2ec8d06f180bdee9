"""The window arguments of the convolution and pooling ops, as TensorFlow's ``tf.nn`` takes
them, turned into the one form every kernel receives.

A kernel never sees ``"SAME"``: the public function resolves the padding into explicit
``(before, after)`` pairs per spatial axis, so the rule lives once, here, and a backend only
pads. TensorFlow's SAME rule pads ``max(0, (ceil(n / s) - 1) * s + (k - 1) * d + 1 - n)`` in
total along an axis of size ``n`` (stride ``s``, window ``k``, dilation ``d``), the odd pixel at
the end; the output then has ``ceil(n / s)`` positions. Strides and dilations are tuples of one
positive int per spatial axis.

>>> window_ints(2, 2, "strides", "nn.conv2d", "NHWC")
(2, 2)
>>> window_ints([1, 3, 2, 1], 2, "strides", "nn.conv2d", "NHWC")
(3, 2)
>>> resolve_padding("SAME", (5, 4), (3, 3), (2, 1), (1, 1), "nn.conv2d", "NHWC")
((1, 1), (1, 1))
>>> resolve_padding("SAME", (4,), (2,), (1,), (1,), "nn.conv1d", "NWC")
((0, 1),)
"""

from __future__ import annotations

import operator

from .._dispatch import describe
from .._errors import ArgumentTypeError, InvalidArgumentError, ShapeError
from .._tensor import Tensor

#: The spatial axes of each data format (batch first, channels last or second).
SPATIAL_AXES = {"NWC": (1,), "NCW": (2,), "NHWC": (1, 2), "NCHW": (2, 3)}
#: The channel axis of each data format.
CHANNEL_AXIS = {"NWC": 2, "NCW": 1, "NHWC": 3, "NCHW": 1}
FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW")}
LAYOUT = {"NWC": "(batch, width, channels)", "NCW": "(batch, channels, width)",
          "NHWC": "(batch, height, width, channels)", "NCHW": "(batch, channels, height, width)"}


def data_format_of(data_format, n: int, who: str) -> str:
    """``data_format`` checked for ``n`` spatial axes (None means channels last)."""
    valid = FORMATS[n]
    if data_format is None:
        return valid[0]
    if data_format not in valid:
        raise InvalidArgumentError(f"{who}: data_format must be {valid[0]!r} (channels last, "
                                   f"the default) or {valid[1]!r} (channels first), got "
                                   f"{data_format!r}")
    return data_format


def tensor(x, who: str) -> Tensor:
    """``x`` as a Tensor (a Variable gives its value, watched as the dispatcher watches it)."""
    if isinstance(x, Tensor):
        return x
    if hasattr(x, "_ef_tensor_"):
        return x._ef_tensor_()
    raise ArgumentTypeError(f"{who}: expected a Tensor, got {describe(x)}; wrap it with "
                            f"ef.asarray(...)")


def checked(who: str, rule, *args, **params):
    """``rule(*args, **params)``, its ShapeError prefixed with the op's name."""
    try:
        return rule(*args, **params)
    except ShapeError as exc:
        raise ShapeError(f"{who}: {exc}") from None


def positive_int(v, name, who):
    try:
        if isinstance(v, bool):
            raise TypeError
        v = operator.index(v)
    except TypeError:
        raise InvalidArgumentError(f"{who}: {name} must hold ints, got {v!r}") from None
    if v < 1:
        raise InvalidArgumentError(f"{who}: {name} must be positive, got {v}")
    return v


def window_ints(value, n: int, name: str, who: str, data_format: str) -> tuple[int, ...]:
    """``strides``, ``dilations`` or ``ksize`` as one positive int per spatial axis.

    TensorFlow's forms: one int for every spatial axis, one int per spatial axis, or one per
    axis of the input (``[1, sh, sw, 1]`` for NHWC), whose batch and channel entries must be 1.
    """
    if isinstance(value, (list, tuple)):
        value = tuple(value)
        if len(value) == n + 2:
            spatial = SPATIAL_AXES[data_format]
            others = [value[i] for i in range(n + 2) if i not in spatial]
            if any(v != 1 for v in others):
                raise InvalidArgumentError(
                    f"{who}: {name}={list(value)} moves along the batch or channel axis; "
                    f"with one entry per axis of {data_format}, those entries must be 1")
            value = tuple(value[i] for i in spatial)
        if len(value) != n:
            raise InvalidArgumentError(f"{who}: {name} must be an int, {n} ints (one per spatial "
                                       f"axis) or {n + 2} (one per axis of the input), got "
                                       f"{list(value)}")
        return tuple(positive_int(v, name, who) for v in value)
    return (positive_int(value, name, who),) * n


def _pad_pair(pair, who):
    try:
        lo, hi = (operator.index(p) for p in pair)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{who}: explicit padding must be (before, after) pairs of "
                                   f"ints, got {pair!r}") from None
    if lo < 0 or hi < 0:
        raise InvalidArgumentError(f"{who}: padding must be >= 0, got {tuple(pair)}")
    return (lo, hi)


def resolve_padding(padding, sizes, ksizes, strides, dilations, who: str,
                    data_format: str) -> tuple[tuple[int, int], ...]:
    """Explicit ``(before, after)`` pads per spatial axis.

    ``padding`` is ``"SAME"`` or ``"VALID"`` (any case), or explicit pairs: one per spatial
    axis, or TensorFlow's one per axis of the input (``[[0, 0], [t, b], [l, r], [0, 0]]`` for
    NHWC), whose batch and channel pairs must be zeros.
    """
    n = len(sizes)
    if isinstance(padding, str):
        how = padding.upper()
        if how == "VALID":
            return ((0, 0),) * n
        if how == "SAME":
            pads = []
            for size, k, s, d in zip(sizes, ksizes, strides, dilations):
                out = -(-size // s)
                total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
    elif isinstance(padding, (list, tuple)):
        pairs = tuple(_pad_pair(p, who) for p in padding)
        if len(pairs) == n + 2:
            spatial = SPATIAL_AXES[data_format]
            if any(pairs[i] != (0, 0) for i in range(n + 2) if i not in spatial):
                raise InvalidArgumentError(f"{who}: padding {[list(p) for p in pairs]} pads the "
                                           f"batch or channel axis of {data_format}; those "
                                           f"pairs must be (0, 0)")
            pairs = tuple(pairs[i] for i in spatial)
        if len(pairs) == n:
            return pairs
    raise InvalidArgumentError(f"{who}: padding must be 'SAME', 'VALID', or explicit (before, "
                               f"after) pairs, one per spatial axis ({n}) or one per axis of "
                               f"the input ({n + 2}); got {padding!r}")


def output_sizes(sizes, ksizes, strides, dilations, padding, what: str) -> tuple[int, ...]:
    """The output's spatial sizes, or ShapeError when a window does not fit the padded input."""
    out = []
    for axis, (size, k, s, d, (lo, hi)) in enumerate(zip(sizes, ksizes, strides, dilations,
                                                         padding)):
        span = (k - 1) * d + 1
        if size + lo + hi < span:
            dil = f" with dilation {d}" if d != 1 else ""
            raise ShapeError(f"the {what} window spans {span} positions ({k}{dil}) along "
                             f"spatial axis {axis}, more than the padded input has ({size} + "
                             f"{lo} + {hi}); use padding='SAME' or a smaller window")
        out.append((size + lo + hi - span) // s + 1)
    return tuple(out)


def spatial(shape, data_format: str) -> tuple[int, ...]:
    return tuple(shape[a] for a in SPATIAL_AXES[data_format])


def with_spatial(shape, sizes, data_format: str, channels=None) -> tuple[int, ...]:
    """``shape`` with its spatial sizes (and channel count, if given) replaced."""
    out = list(shape)
    for a, s in zip(SPATIAL_AXES[data_format], sizes):
        out[a] = s
    if channels is not None:
        out[CHANNEL_AXIS[data_format]] = channels
    return tuple(out)


def require_rank(shape, n: int, name: str, data_format: str) -> None:
    if len(shape) != n + 2:
        raise ShapeError(f"{name} must be {n + 2}-D {LAYOUT[data_format]} for data_format "
                         f"{data_format!r}, got shape {tuple(shape)}")
