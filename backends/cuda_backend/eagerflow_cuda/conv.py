"""Convolution and pooling on the GPU: im2col with strided views, then cuBLAS (``matmul``).

CuPy 14 removed its cuDNN bindings (``cupy.cudnn`` is gone; see docs/guide/cuda.md), so these
functions gather every filter window into a matrix with one strided copy and multiply it with
the filters through ``xp.matmul`` (cuBLAS on CuPy). The backward passes scatter the columns back
with one strided add per filter tap (KH * KW adds, never a loop over pixels). Everything here is
array code on the namespace of its input: NumPy runs it too, which is how the tests check the
index arithmetic on a machine without a GPU.

TensorFlow's conventions: NHWC inputs with HWIO filters (``data_format="NCHW"`` is accepted and
transposed), ``padding`` "SAME" (output ``ceil(n / stride)``, the odd padding pixel at the end),
"VALID", or explicit ``((top, bottom), (left, right))`` (or TF's four pairs with zero batch and
channel pads); ``strides`` and ``dilations`` an int or a pair; ``groups`` splits input and
output channels into contiguous groups (filters of shape ``(KH, KW, C // groups, O)``). Average
pooling with SAME padding divides by the number of real (unpadded) elements in each window, as
TensorFlow does; max pooling sends the gradient to the first maximum of each window.

The functions below take arrays and return arrays; ``KERNELS`` (at the end) wraps them under
the core's op names (``nn.conv2d``, ``nn.conv2d_backprop_input``, ``nn.conv2d_backprop_filter``,
``nn.max_pool2d``, ``nn.max_pool2d_grad``, ``nn.max_pool2d_grad_grad``, ``nn.avg_pool2d``,
``nn.avg_pool2d_grad``) with the core's signatures, which the backend's kernel table holds:

- ``conv2d(x, filters, *, strides=1, padding="VALID", dilations=1, groups=1,
  data_format="NHWC")``
- ``conv2d_grad_input(g, filters, input_shape, *, same keywords)``
- ``conv2d_grad_filter(g, x, filter_shape, *, same keywords)``
- ``conv1d``, ``conv1d_grad_input``, ``conv1d_grad_filter``: the same with one spatial axis:
  ``x`` (N, W, C), filters (KW, C // groups, O), keywords ``stride``, ``padding``,
  ``dilation``, ``groups``, ``data_format="NWC"`` (or ``"NCW"``)
- ``max_pool2d(x, ksize, strides=None, padding="VALID", data_format="NHWC")``
- ``max_pool2d_grad(g, x, ksize, strides=None, padding="VALID", ...)``
- ``max_pool2d_grad_grad(x, h, ksize, strides=None, padding="VALID", ...)``
- ``avg_pool2d(x, ksize, strides=None, padding="VALID", data_format="NHWC")``
- ``avg_pool2d_grad(g, input_shape, ksize, strides=None, ...)``

``strides=None`` in pooling means the window size (TensorFlow's default in Keras layers).

>>> import numpy as np
>>> from eagerflow_cuda import conv
>>> conv.same_padding(5, k=3, stride=2, dilation=1)  # out = ceil(5 / 2) = 3, pad 2 = 1 + 1
(1, 1)
>>> conv.same_padding(4, k=3, stride=2, dilation=1)  # out 2, pad 1: the extra pixel at the end
(0, 1)
>>> x = np.arange(16.0).reshape(1, 4, 4, 1)
>>> conv.max_pool2d(x, 2)[0, :, :, 0]
array([[ 5.,  7.],
       [13., 15.]])
"""

from __future__ import annotations

import sys

import numpy as np


def _xp(a):
    cp = sys.modules.get("cupy")
    return cp if cp is not None and isinstance(a, cp.ndarray) else np


def _pair(v, what: str) -> tuple[int, int]:
    vals = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(vals) != 2 or not all(isinstance(i, (int, np.integer)) and i >= 1 for i in vals):
        raise ValueError(f"{what} must be a positive int or a pair of them, got {v!r}")
    return int(vals[0]), int(vals[1])


def same_padding(n: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's SAME padding of one axis: output ``ceil(n / stride)``, the padding split in
    two with the extra pixel after."""
    out = -(-n // stride)
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - n, 0)
    return total // 2, total - total // 2


def _paddings(spatial, ksize, strides, dilations, padding) -> list[tuple[int, int]]:
    if isinstance(padding, str):
        mode = padding.upper()
        if mode == "VALID":
            return [(0, 0)] * len(spatial)
        if mode == "SAME":
            return [same_padding(n, k, s, d)
                    for n, k, s, d in zip(spatial, ksize, strides, dilations)]
        raise ValueError(f"padding must be 'SAME', 'VALID' or explicit pairs, got {padding!r}")
    pads = [tuple(int(v) for v in p) for p in padding]
    if len(pads) == len(spatial) + 2:  # TF's form: a pair for every axis, zero for batch/channels
        if pads[0] != (0, 0) or pads[-1] != (0, 0):
            raise ValueError(f"explicit padding of the batch and channel axes must be 0: {padding}")
        pads = pads[1:-1]
    if len(pads) != len(spatial) or any(len(p) != 2 or min(p) < 0 for p in pads):
        raise ValueError(f"explicit padding needs one (before, after) pair of non-negative ints "
                         f"per spatial axis, got {padding!r}")
    return pads


def _out_size(n, k, s, d, pad) -> int:
    out = (n + pad[0] + pad[1] - ((k - 1) * d + 1)) // s + 1
    if out < 1:
        raise ValueError(f"the window ({k} taps, dilation {d}) is larger than the padded input "
                         f"({n} + {pad[0]} + {pad[1]}): no output")
    return out


class _Geometry:
    """Everything the 2-D kernels need about one convolution or pooling window."""

    def __init__(self, shape, ksize, strides, dilations, padding):
        self.n, self.h, self.w, self.c = shape
        self.kh, self.kw = ksize
        self.sh, self.sw = strides
        self.dh, self.dw = dilations
        (self.pt, self.pb), (self.pl, self.pr) = _paddings((self.h, self.w), ksize, strides,
                                                           dilations, padding)
        self.oh = _out_size(self.h, self.kh, self.sh, self.dh, (self.pt, self.pb))
        self.ow = _out_size(self.w, self.kw, self.sw, self.dw, (self.pl, self.pr))

    def pad(self, x, value=0):
        xp = _xp(x)
        if not (self.pt or self.pb or self.pl or self.pr):
            return x
        return xp.pad(x, ((0, 0), (self.pt, self.pb), (self.pl, self.pr), (0, 0)),
                      constant_values=value)

    def padded_zeros(self, like, c=None):
        return _xp(like).zeros((self.n, self.h + self.pt + self.pb, self.w + self.pl + self.pr,
                                self.c if c is None else c), dtype=like.dtype)

    def crop(self, xpad):
        return xpad[:, self.pt:self.pt + self.h, self.pl:self.pl + self.w, :]

    def windows(self, xpad):
        """A (N, OH, OW, KH, KW, C) strided view of the windows of a padded NHWC array."""
        xp = _xp(xpad)
        s_n, s_h, s_w, s_c = xpad.strides
        return xp.lib.stride_tricks.as_strided(
            xpad, shape=(self.n, self.oh, self.ow, self.kh, self.kw, xpad.shape[3]),
            strides=(s_n, s_h * self.sh, s_w * self.sw, s_h * self.dh, s_w * self.dw, s_c))

    def tap(self, kh, kw):
        """The (rows, cols) slices of the padded input that filter tap (kh, kw) reads."""
        r0, c0 = kh * self.dh, kw * self.dw
        return (slice(r0, r0 + (self.oh - 1) * self.sh + 1, self.sh),
                slice(c0, c0 + (self.ow - 1) * self.sw + 1, self.sw))


def _to_nhwc(x, data_format):
    if data_format in ("NHWC", "channels_last"):
        return x
    if data_format in ("NCHW", "channels_first"):
        return _xp(x).moveaxis(x, 1, -1)
    raise ValueError(f"data_format must be NHWC or NCHW, got {data_format!r}")


def _from_nhwc(y, data_format):
    return y if data_format in ("NHWC", "channels_last") else _xp(y).moveaxis(y, -1, 1)


def _conv_geometry(x_shape, filter_shape, strides, padding, dilations, groups):
    kh, kw, cg, o = filter_shape
    c = x_shape[3]
    if groups < 1 or c % groups or o % groups or cg * groups != c:
        raise ValueError(f"conv2d: input channels {c} and filters {tuple(filter_shape)} do not "
                         f"match groups={groups} (filters must be (KH, KW, C // groups, O) with "
                         f"C and O divisible by groups)")
    return _Geometry(x_shape, (kh, kw), _pair(strides, "strides"), _pair(dilations, "dilations"),
                     padding)


def _im2col(x, geo):
    """The (N * OH * OW, KH * KW * C) matrix of windows (one copy)."""
    return geo.windows(geo.pad(x)).reshape(geo.n * geo.oh * geo.ow, -1)


def _grouped(cols, geo, groups):
    """(M, KH*KW*C) -> (groups, M, KH*KW*C/groups)."""
    m = cols.shape[0]
    xp = _xp(cols)
    return xp.transpose(cols.reshape(m, geo.kh * geo.kw, groups, -1), (2, 0, 1, 3)).reshape(
        groups, m, -1)


def conv2d(x, filters, *, strides=1, padding="VALID", dilations=1, groups=1, data_format="NHWC"):
    """2-D convolution (TensorFlow's cross-correlation): (N, H, W, C) * (KH, KW, C // groups, O)
    -> (N, OH, OW, O)."""
    xp = _xp(x)
    x = _to_nhwc(x, data_format)
    geo = _conv_geometry(x.shape, filters.shape, strides, padding, dilations, groups)
    cols = _im2col(x, geo)
    o = filters.shape[3]
    if groups == 1:
        out = xp.matmul(cols, filters.reshape(-1, o))
    else:
        w = xp.transpose(filters.reshape(-1, groups, o // groups), (1, 0, 2))
        out = xp.transpose(xp.matmul(_grouped(cols, geo, groups), w), (1, 0, 2)).reshape(-1, o)
    return _from_nhwc(out.reshape(geo.n, geo.oh, geo.ow, o), data_format)


def conv2d_grad_input(g, filters, input_shape, *, strides=1, padding="VALID", dilations=1,
                      groups=1, data_format="NHWC"):
    """The cotangent of conv2d's input ``x`` of shape ``input_shape``, from the output's ``g``."""
    xp = _xp(g)
    shape = tuple(input_shape)
    if data_format in ("NCHW", "channels_first"):
        shape = (shape[0], shape[2], shape[3], shape[1])
    g = _to_nhwc(g, data_format)
    geo = _conv_geometry(shape, filters.shape, strides, padding, dilations, groups)
    o = filters.shape[3]
    g2 = g.reshape(-1, o)
    if groups == 1:
        dcols = xp.matmul(g2, filters.reshape(-1, o).T)
    else:
        w = xp.transpose(filters.reshape(-1, groups, o // groups), (1, 2, 0))  # (G, O/G, K*Cg)
        gg = xp.transpose(g2.reshape(-1, groups, o // groups), (1, 0, 2))       # (G, M, O/G)
        per_group = xp.matmul(gg, w).reshape(groups, g2.shape[0], geo.kh * geo.kw, -1)
        dcols = xp.transpose(per_group, (1, 2, 0, 3))
    dcols = dcols.reshape(geo.n, geo.oh, geo.ow, geo.kh, geo.kw, geo.c)
    dx = geo.padded_zeros(dcols)
    for kh in range(geo.kh):
        for kw in range(geo.kw):
            rows, cols = geo.tap(kh, kw)
            dx[:, rows, cols, :] += dcols[:, :, :, kh, kw, :]
    return _from_nhwc(geo.crop(dx), data_format)


def conv2d_grad_filter(g, x, filter_shape, *, strides=1, padding="VALID", dilations=1, groups=1,
                       data_format="NHWC"):
    """The cotangent of conv2d's filters (shape ``filter_shape``), from the output's ``g``."""
    xp = _xp(x)
    x, g = _to_nhwc(x, data_format), _to_nhwc(g, data_format)
    geo = _conv_geometry(x.shape, filter_shape, strides, padding, dilations, groups)
    o = filter_shape[3]
    cols = _im2col(x, geo)
    g2 = g.reshape(-1, o)
    if groups == 1:
        return xp.matmul(cols.T, g2).reshape(filter_shape)
    gg = xp.transpose(g2.reshape(-1, groups, o // groups), (1, 0, 2))          # (G, M, O/G)
    dw = xp.matmul(xp.transpose(_grouped(cols, geo, groups), (0, 2, 1)), gg)     # (G, K*Cg, O/G)
    return xp.transpose(dw, (1, 0, 2)).reshape(filter_shape)


# -- 1-D convolution: the 2-D one with a height of 1 ----------------------------------------------

def _conv1d_args(data_format, stride, dilation, padding):
    if data_format not in ("NWC", "NCW", "channels_last", "channels_first"):
        raise ValueError(f"data_format must be NWC or NCW, got {data_format!r}")
    fmt = "NHWC" if data_format in ("NWC", "channels_last") else "NCHW"
    strides = (1, _one(stride, "stride"))
    dilations = (1, _one(dilation, "dilation"))
    if isinstance(padding, str):
        return fmt, strides, dilations, padding
    pairs = [tuple(padding)] if isinstance(padding[0], (int, np.integer)) else \
        [tuple(p) for p in padding]
    if len(pairs) == 3:  # TF's form: batch, width, channels
        if pairs[0] != (0, 0) or pairs[2] != (0, 0):
            raise ValueError(f"explicit padding of the batch and channel axes must be 0: {padding}")
        pairs = pairs[1:2]
    if len(pairs) != 1:
        raise ValueError(f"conv1d: explicit padding is one (left, right) pair, got {padding!r}")
    return fmt, strides, dilations, [(0, 0), pairs[0]]


def _one(v, what: str) -> int:
    vals = (v,) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(vals) != 1 or not isinstance(vals[0], (int, np.integer)) or vals[0] < 1:
        raise ValueError(f"{what} must be a positive int, got {v!r}")
    return int(vals[0])


def _lift(a, fmt):
    return a[:, None] if fmt == "NHWC" else a[:, :, None]


def _drop(a, fmt):
    return a[:, 0] if fmt == "NHWC" else a[:, :, 0]


def conv1d(x, filters, *, stride=1, padding="VALID", dilation=1, groups=1, data_format="NWC"):
    """1-D convolution: (N, W, C) * (KW, C // groups, O) -> (N, OW, O)."""
    fmt, s, d, pad = _conv1d_args(data_format, stride, dilation, padding)
    y = conv2d(_lift(x, fmt), filters[None], strides=s, padding=pad, dilations=d, groups=groups,
               data_format=fmt)
    return _drop(y, fmt)


def conv1d_grad_input(g, filters, input_shape, *, stride=1, padding="VALID", dilation=1, groups=1,
                      data_format="NWC"):
    fmt, s, d, pad = _conv1d_args(data_format, stride, dilation, padding)
    n, a, b = input_shape
    shape = (n, 1, a, b) if fmt == "NHWC" else (n, a, 1, b)
    dx = conv2d_grad_input(_lift(g, fmt), filters[None], shape, strides=s, padding=pad,
                           dilations=d, groups=groups, data_format=fmt)
    return _drop(dx, fmt)


def conv1d_grad_filter(g, x, filter_shape, *, stride=1, padding="VALID", dilation=1, groups=1,
                       data_format="NWC"):
    fmt, s, d, pad = _conv1d_args(data_format, stride, dilation, padding)
    dw = conv2d_grad_filter(_lift(g, fmt), _lift(x, fmt), (1, *filter_shape), strides=s,
                            padding=pad, dilations=d, groups=groups, data_format=fmt)
    return dw[0]


# -- pooling ------------------------------------------------------------------------------------

def _pool_geometry(shape, ksize, strides, padding):
    ksize = _pair(ksize, "ksize")
    return _Geometry(shape, ksize, ksize if strides is None else _pair(strides, "strides"),
                     (1, 1), padding)


def _lowest(dtype):
    dtype = np.dtype(dtype)
    return -np.inf if dtype.kind == "f" or dtype.name == "bfloat16" else np.iinfo(dtype).min


def max_pool2d(x, ksize, strides=None, padding="VALID", data_format="NHWC"):
    """The max of each window (padding never wins: it is the dtype's lowest value)."""
    x = _to_nhwc(x, data_format)
    geo = _pool_geometry(x.shape, ksize, strides, padding)
    win = geo.windows(geo.pad(x, _lowest(x.dtype)))
    return _from_nhwc(win.max(axis=(3, 4)), data_format)


def max_pool2d_grad(g, x, ksize, strides=None, padding="VALID", data_format="NHWC"):
    """The cotangent of max_pool2d's input: each window's ``g`` goes to its first maximum."""
    xp = _xp(x)
    x, g = _to_nhwc(x, data_format), _to_nhwc(g, data_format)
    geo = _pool_geometry(x.shape, ksize, strides, padding)
    win = geo.windows(geo.pad(x, _lowest(x.dtype)))
    first = xp.argmax(win.reshape(geo.n, geo.oh, geo.ow, geo.kh * geo.kw, geo.c), axis=3)
    dx = geo.padded_zeros(g)
    zero = xp.zeros((), dtype=g.dtype)
    for k in range(geo.kh * geo.kw):
        rows, cols = geo.tap(*divmod(k, geo.kw))
        dx[:, rows, cols, :] += xp.where(first == k, g, zero)
    return _from_nhwc(geo.crop(dx), data_format)


def _window_counts(geo, dtype, xp):
    """(1, OH, OW, 1): how many real (unpadded) inputs each window holds."""
    ones = xp.ones((1, geo.h, geo.w, 1), dtype=dtype)
    geo1 = _Geometry((1, geo.h, geo.w, 1), (geo.kh, geo.kw), (geo.sh, geo.sw), (1, 1),
                     ((geo.pt, geo.pb), (geo.pl, geo.pr)))
    return geo1.windows(geo1.pad(ones)).sum(axis=(3, 4))


def avg_pool2d(x, ksize, strides=None, padding="VALID", data_format="NHWC"):
    """The mean of each window over its real inputs (SAME padding is not counted, as in TF)."""
    xp = _xp(x)
    x = _to_nhwc(x, data_format)
    geo = _pool_geometry(x.shape, ksize, strides, padding)
    sums = geo.windows(geo.pad(x)).sum(axis=(3, 4))
    return _from_nhwc((sums / _window_counts(geo, x.dtype, xp)).astype(x.dtype), data_format)


def avg_pool2d_grad(g, input_shape, ksize, strides=None, padding="VALID", data_format="NHWC"):
    """The cotangent of avg_pool2d's input (shape ``input_shape``) from the output's ``g``."""
    xp = _xp(g)
    shape = tuple(input_shape)
    if data_format in ("NCHW", "channels_first"):
        shape = (shape[0], shape[2], shape[3], shape[1])
    g = _to_nhwc(g, data_format)
    geo = _pool_geometry(shape, ksize, strides, padding)
    share = (g / _window_counts(geo, g.dtype, xp)).astype(g.dtype)
    dx = geo.padded_zeros(g)
    for kh in range(geo.kh):
        for kw in range(geo.kw):
            rows, cols = geo.tap(kh, kw)
            dx[:, rows, cols, :] += share
    return _from_nhwc(geo.crop(dx), data_format)


def max_pool2d_grad_grad(x, h, ksize, strides=None, padding="VALID", data_format="NHWC"):
    """The gradient of max_pool2d_grad with respect to its ``g``: each window of ``h`` read at
    the window's first maximum of ``x`` (shape of the pooled output)."""
    xp = _xp(x)
    x, h = _to_nhwc(x, data_format), _to_nhwc(h, data_format)
    geo = _pool_geometry(x.shape, ksize, strides, padding)
    shape = (geo.n, geo.oh, geo.ow, geo.kh * geo.kw, geo.c)
    first = xp.argmax(geo.windows(geo.pad(x, _lowest(x.dtype))).reshape(shape), axis=3)
    hwin = geo.windows(geo.pad(h)).reshape(shape)
    out = xp.take_along_axis(hwin, first[:, :, :, None, :], axis=3)[:, :, :, 0, :]
    return _from_nhwc(out, data_format)


# -- the kernel table: the core's op names and calling convention ------------------------------
# The core calls kernel(*tensor inputs, **params) with every shape checked, SAME resolved into
# explicit pads ((top, bottom), (left, right)), strides/dilations/ksize as pairs and
# data_format "NHWC" or "NCHW" (eagerflow_core/ops/nn_conv.py, nn_pool.py); the NumPy backend's
# eagerflow_numpy/_nn.py has the same signatures.

def _k_conv2d(x, filters, /, *, strides, padding, dilations, groups, data_format):
    return conv2d(x, filters, strides=strides, padding=padding, dilations=dilations,
                  groups=groups, data_format=data_format)


def _k_conv2d_backprop_input(dy, filters, /, *, input_shape, strides, padding, dilations, groups,
                             data_format):
    return conv2d_grad_input(dy, filters, input_shape, strides=strides, padding=padding,
                             dilations=dilations, groups=groups, data_format=data_format)


def _k_conv2d_backprop_filter(x, dy, /, *, filter_shape, strides, padding, dilations, groups,
                              data_format):
    return conv2d_grad_filter(dy, x, filter_shape, strides=strides, padding=padding,
                              dilations=dilations, groups=groups, data_format=data_format)


def _k_max_pool2d(x, /, *, ksize, strides, padding, data_format):
    return max_pool2d(x, ksize, strides, padding, data_format)


def _k_max_pool2d_grad(x, dy, /, *, ksize, strides, padding, data_format):
    return max_pool2d_grad(dy, x, ksize, strides, padding, data_format)


def _k_max_pool2d_grad_grad(x, h, /, *, ksize, strides, padding, data_format):
    return max_pool2d_grad_grad(x, h, ksize, strides, padding, data_format)


def _k_avg_pool2d(x, /, *, ksize, strides, padding, data_format):
    return avg_pool2d(x, ksize, strides, padding, data_format)


def _k_avg_pool2d_grad(dy, /, *, input_shape, ksize, strides, padding, data_format):
    return avg_pool2d_grad(dy, input_shape, ksize, strides, padding, data_format)


#: core op name -> kernel, in the core's calling convention (the backend's table takes these).
KERNELS = {
    "nn.conv2d": _k_conv2d,
    "nn.conv2d_backprop_input": _k_conv2d_backprop_input,
    "nn.conv2d_backprop_filter": _k_conv2d_backprop_filter,
    "nn.max_pool2d": _k_max_pool2d,
    "nn.max_pool2d_grad": _k_max_pool2d_grad,
    "nn.max_pool2d_grad_grad": _k_max_pool2d_grad_grad,
    "nn.avg_pool2d": _k_avg_pool2d,
    "nn.avg_pool2d_grad": _k_avg_pool2d_grad,
}
