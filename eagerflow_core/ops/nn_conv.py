"""Convolutions with TensorFlow's ``tf.nn`` API: conv1d, conv2d, depthwise_conv2d.

One kernel op computes them all: ``nn.conv2d`` (channels last or first, HWIO filters, strides,
explicit pads, dilations, groups). conv1d is conv2d over a height of 1, as TensorFlow computes
it, and depthwise_conv2d is conv2d with one group per input channel. The public functions
resolve "SAME"/"VALID" into explicit pads (``_nn_args``) and check every shape before a kernel
runs, so a backend only ever sees valid calls.

The gradients are two more kernel ops, the two transposes of the convolution (JAX's conv
transpose rules; TensorFlow's Conv2DBackpropInput / Conv2DBackpropFilter):
``nn.conv2d_backprop_input(dy, w)`` is ``J_x^T dy`` and ``nn.conv2d_backprop_filter(x, dy)`` is
``J_w^T dy``. All three are bilinear, and each one's gradients are the other two (see the rules
at the end of this file), so gradients of any order need no other op.
"""

from __future__ import annotations

from .._dispatch import call
from .._errors import ShapeError
from .._registry import F, defop
from .._tensor import Tensor
from . import _nn_args as A
from . import _rules as R
from ._define import public

_KERNEL = {1: "(width, in_channels / groups, out_channels)",
           2: "(height, width, in_channels / groups, out_channels)"}


def _float_dtype(*dtypes, **params):
    return R.require(dtypes[0], "f", "a real floating-point")


def conv_shape(xs, ws, *, strides, padding, dilations, groups, data_format):
    """The shape of a convolution's result (for ``len(strides)`` spatial axes)."""
    n = len(strides)
    A.require_rank(xs, n, "input", data_format)
    if len(ws) != n + 2:
        raise ShapeError(f"filters must be {n + 2}-D {_KERNEL[n]}, got shape {tuple(ws)}")
    channels = xs[A.CHANNEL_AXIS[data_format]]
    *ksizes, per_group, out = ws
    if any(k < 1 for k in ksizes):
        raise ShapeError(f"the filter's spatial sizes must be positive, got filters of shape "
                         f"{tuple(ws)}")
    if groups < 1 or channels % groups:
        raise ShapeError(f"groups={groups} does not divide the input's {channels} channels "
                         f"(input shape {tuple(xs)}, {data_format}); groups must divide both "
                         f"the input and the output channels")
    if per_group * groups != channels:
        raise ShapeError(f"the input has {channels} channels (shape {tuple(xs)}, {data_format}) "
                         f"but filters of shape {tuple(ws)} take {per_group} per group, "
                         f"{per_group * groups} for groups={groups}; filters must have shape "
                         f"{_KERNEL[n]}")
    if out % groups:
        raise ShapeError(f"groups={groups} does not divide the filters' {out} output channels "
                         f"(filters of shape {tuple(ws)})")
    sizes = A.output_sizes(A.spatial(xs, data_format), ksizes, strides, dilations, padding,
                           "filter")
    return A.with_spatial(xs, sizes, data_format, channels=out)


def conv_params(who, xs, ws, strides, padding, data_format, dilations, groups, n):
    """The kernel params of a convolution of ``n`` spatial axes, every shape checked."""
    fmt = A.data_format_of(data_format, n, who)
    strides = A.window_ints(strides, n, "strides", who, fmt)
    dilations = A.window_ints(1 if dilations is None else dilations, n, "dilations", who, fmt)
    A.checked(who, A.require_rank, xs, n, "input", fmt)
    if len(ws) != n + 2:
        raise ShapeError(f"{who}: filters must be {n + 2}-D {_KERNEL[n]}, got shape {tuple(ws)}")
    channels = xs[A.CHANNEL_AXIS[fmt]]
    if groups is None:  # TensorFlow infers the groups from the filters' input channels
        per_group = ws[n]
        if per_group < 1 or channels % per_group:
            raise ShapeError(f"{who}: the input's {channels} channels (shape {tuple(xs)}, {fmt}) "
                             f"are not a multiple of the filters' {per_group} input channels "
                             f"(shape {tuple(ws)}); filters must have shape {_KERNEL[n]}")
        groups = channels // per_group
    else:
        groups = A.positive_int(groups, "groups", who)
    pads = A.resolve_padding(padding, A.spatial(xs, fmt), ws[:n], strides, dilations, who, fmt)
    params = {"strides": strides, "padding": pads, "dilations": dilations, "groups": groups,
              "data_format": fmt}
    A.checked(who, conv_shape, xs, ws, **params)
    return params


conv2d_op = defop("nn.conv2d", family="nn", nin=2, dtype_rule=_float_dtype,
                  shape_rule=conv_shape, promote=True)


@public(conv2d_op)
def conv2d(input, filters, strides=1, padding="VALID", data_format="NHWC", dilations=None,
           groups=None) -> Tensor:
    """2-D convolution (cross-correlation, as in every framework) of ``input`` with
    ``filters``, TensorFlow's ``tf.nn.conv2d``.

    ``input`` is NHWC ``(batch, height, width, channels)``, or NCHW with
    ``data_format="NCHW"``; ``filters`` are HWIO ``(height, width, in_channels / groups,
    out_channels)`` in both cases. ``strides`` and ``dilations``: an int, one per spatial axis,
    or TensorFlow's one per axis of the input (``[1, s, s, 1]``). ``padding``: ``"VALID"`` (no
    padding), ``"SAME"`` (output size ``ceil(n / stride)``; TensorFlow's pads, the odd pixel at
    the end), or explicit ``(before, after)`` pairs per spatial axis (or TensorFlow's
    ``[[0, 0], [t, b], [l, r], [0, 0]]``). ``groups`` splits the channels into groups that are
    convolved separately (``groups=channels``: depthwise); by default it is inferred from the
    filters' shape, as TensorFlow does.

    >>> import eagerflow_core as ef
    >>> x = ef.reshape(ef.arange(16.0), (1, 4, 4, 1))
    >>> ef.nn.conv2d(x, ef.ones((2, 2, 1, 1)), strides=2, padding="VALID")[0, :, :, 0]
    ef.Tensor([[10., 18.],
               [42., 50.]], shape=(2, 2), dtype=float32, device='cpu:0')
    >>> ef.nn.conv2d(x, ef.ones((3, 3, 1, 8)), padding="SAME").shape
    (1, 4, 4, 8)
    """
    x, w = A.tensor(input, "nn.conv2d"), A.tensor(filters, "nn.conv2d")
    params = conv_params("nn.conv2d", x.shape, w.shape, strides, padding, data_format,
                         dilations, groups, 2)
    return call(conv2d_op, (x, w), params)


def conv1d(input, filters, stride=1, padding="VALID", data_format="NWC", dilations=None,
           groups=None, *, strides=None) -> Tensor:
    """1-D convolution, TensorFlow's ``tf.nn.conv1d``: ``input`` is NWC ``(batch, width,
    channels)`` (or NCW), ``filters`` WIO ``(width, in_channels / groups, out_channels)``.

    ``stride`` (TensorFlow's name; ``strides=`` is accepted too), ``padding``, ``dilations``
    and ``groups`` as for :func:`conv2d`. It runs as conv2d over a height of 1, as TensorFlow
    computes it, so its gradients are conv2d's.

    >>> import eagerflow_core as ef
    >>> x = ef.reshape(ef.arange(5.0), (1, 5, 1))
    >>> ef.nn.conv1d(x, ef.reshape(ef.constant([1.0, -1.0]), (2, 1, 1)))[0, :, 0]
    ef.Tensor([-1., -1., -1., -1.], shape=(4,), dtype=float32, device='cpu:0')
    """
    who = "nn.conv1d"
    x, w = A.tensor(input, who), A.tensor(filters, who)
    p = conv_params(who, x.shape, w.shape, stride if strides is None else strides, padding,
                    data_format, dilations, groups, 1)
    height = 1 if p["data_format"] == "NWC" else 2
    params = {"strides": (1,) + p["strides"], "padding": ((0, 0),) + p["padding"],
              "dilations": (1,) + p["dilations"], "groups": p["groups"],
              "data_format": "NHWC" if p["data_format"] == "NWC" else "NCHW"}
    y = call(conv2d_op, (F.expand_dims(x, axis=height), F.expand_dims(w, axis=0)), params)
    return F.squeeze(y, axis=height)


def depthwise_conv2d(input, filter, strides=1, padding="VALID", data_format=None,
                     dilations=None) -> Tensor:
    """Depthwise 2-D convolution, TensorFlow's ``tf.nn.depthwise_conv2d``: each input channel
    is convolved with its own ``channel_multiplier`` filters.

    ``filter`` has shape ``(height, width, in_channels, channel_multiplier)``; the result has
    ``in_channels * channel_multiplier`` channels, channel ``c * channel_multiplier + m``
    coming from input channel ``c``. It is :func:`conv2d` with ``groups=in_channels``.

    >>> import eagerflow_core as ef
    >>> x = ef.ones((1, 3, 3, 2))
    >>> w = ef.reshape(ef.constant([1.0, 10.0]), (1, 1, 2, 1))
    >>> ef.nn.depthwise_conv2d(x, w, strides=1, padding="VALID")[0, 0, 0]
    ef.Tensor([ 1., 10.], shape=(2,), dtype=float32, device='cpu:0')
    """
    who = "nn.depthwise_conv2d"
    x, w = A.tensor(input, who), A.tensor(filter, who)
    fmt = A.data_format_of(data_format, 2, who)
    A.checked(who, A.require_rank, x.shape, 2, "input", fmt)
    if w.ndim != 4 or w.shape[2] != x.shape[A.CHANNEL_AXIS[fmt]]:
        raise ShapeError(f"{who}: filter must have shape (height, width, in_channels, "
                         f"channel_multiplier) with in_channels = "
                         f"{x.shape[A.CHANNEL_AXIS[fmt]]} (input shape {x.shape}, {fmt}), got "
                         f"{w.shape}")
    kh, kw, c, m = w.shape
    w = F.reshape(w, (kh, kw, 1, c * m))
    params = conv_params(who, x.shape, w.shape, strides, padding, fmt, dilations, c, 2)
    return call(conv2d_op, (x, w), params)


# -- the two transposes (internal: gradient rules call them) --------------------------------------

def _check_dy(dys, xs, ws, params):
    want = conv_shape(xs, ws, **params)
    if tuple(dys) != want:
        raise ShapeError(f"the output gradient has shape {tuple(dys)}, but convolving an input "
                         f"of shape {tuple(xs)} with filters of shape {tuple(ws)} gives {want}")


def _backprop_input_shape(dys, ws, *, input_shape, **params):
    _check_dy(dys, input_shape, ws, params)
    return tuple(input_shape)


def _backprop_filter_shape(xs, dys, *, filter_shape, **params):
    _check_dy(dys, xs, filter_shape, params)
    return tuple(filter_shape)


conv2d_backprop_input_op = defop(
    "nn.conv2d_backprop_input", family="nn", nin=2, dtype_rule=_float_dtype,
    shape_rule=_backprop_input_shape, promote=True, internal=True,
    doc="The gradient of nn.conv2d for its input: dy convolved back through the filters "
        "(a transposed convolution), of the input's shape.")
conv2d_backprop_filter_op = defop(
    "nn.conv2d_backprop_filter", family="nn", nin=2, dtype_rule=_float_dtype,
    shape_rule=_backprop_filter_shape, promote=True, internal=True,
    doc="The gradient of nn.conv2d for its filters: the input's windows times dy, of the "
        "filters' shape.")

__all__ = ["conv1d", "conv2d", "depthwise_conv2d"]


# -- gradients -------------------------------------------------------------------------------------
# y = conv(x, w) is bilinear. Its transposes are backprop_input(dy, w) = J_x^T dy and
# backprop_filter(x, dy) = J_w^T dy, bilinear too, and <h, backprop_input(dy, w)> =
# <conv(h, w), dy> = <backprop_filter(h, dy), w> (and likewise for backprop_filter): each op's
# gradients are the other two ops, the closed set JAX's conv transpose rules use.
from .._registry import defjvp, defvjp  # noqa: E402


def _conv_x_vjp(g, ans, x, w, **p):
    return call(conv2d_backprop_input_op, (g, w), {"input_shape": x.shape, **p})


def _conv_w_vjp(g, ans, x, w, **p):
    return call(conv2d_backprop_filter_op, (x, g), {"filter_shape": w.shape, **p})


def _backprop_input_dy_vjp(h, ans, dy, w, *, input_shape, **p):
    return call(conv2d_op, (h, w), p)


def _backprop_input_w_vjp(h, ans, dy, w, *, input_shape, **p):
    return call(conv2d_backprop_filter_op, (h, dy), {"filter_shape": w.shape, **p})


def _backprop_filter_x_vjp(h, ans, x, dy, *, filter_shape, **p):
    return call(conv2d_backprop_input_op, (dy, h), {"input_shape": x.shape, **p})


def _backprop_filter_dy_vjp(h, ans, x, dy, *, filter_shape, **p):
    return call(conv2d_op, (x, h), p)


defvjp(conv2d_op, _conv_x_vjp, _conv_w_vjp)
defvjp(conv2d_backprop_input_op, _backprop_input_dy_vjp, _backprop_input_w_vjp)
defvjp(conv2d_backprop_filter_op, _backprop_filter_x_vjp, _backprop_filter_dy_vjp)


# Forward mode: a bilinear op's tangent is the op applied with one input's tangent in its place.
def _bilinear_jvp(op, first):
    def rule(t, ans, a, b, **p):
        return call(op, (t, b) if first else (a, t), p)
    return rule


for _op in (conv2d_op, conv2d_backprop_input_op, conv2d_backprop_filter_op):
    defjvp(_op, _bilinear_jvp(_op, True), _bilinear_jvp(_op, False))
