"""The nn family on ``torch.nn.functional``: conv2d and its two gradient ops, max and average
pooling and their gradient ops.

Where torch and eagerflow disagree: torch convolves and pools NCHW inputs with OIHW filters
(eagerflow's default is NHWC with HWIO filters: both are permuted views, no copy), and takes
only symmetric padding, while TensorFlow's SAME pads the odd pixel at the end (the input is
padded explicitly first, with -inf for max pooling, and torch runs with padding 0). The
average pool divides by the number of real positions per window, which torch's
``count_include_pad=False`` does not do for explicit pads: sums are divided by counts here.
16-bit floats are computed in float32 (the core casts the result back), as the LAPACK kernels
are, so the results do not depend on torch's half-precision accumulators.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

_HALF = (torch.float16, torch.bfloat16)


def _wide(t):
    return t.float() if t.dtype in _HALF else t


def _nchw(x, data_format):
    return _wide(x).permute(0, 3, 1, 2) if data_format == "NHWC" else _wide(x)


def _layout(y, data_format):
    return y.permute(0, 2, 3, 1) if data_format == "NHWC" else y


def _shape_nchw(shape, data_format):
    return (shape[0], shape[3], shape[1], shape[2]) if data_format == "NHWC" else tuple(shape)


def _pad(x, padding, value=0.0):
    """NCHW ``x`` padded explicitly (torch's own padding is symmetric only)."""
    (pt, pb), (pl, pr) = padding
    return F.pad(x, (pl, pr, pt, pb), value=value) if pt or pb or pl or pr else x


def _padded(shape, padding):
    (pt, pb), (pl, pr) = padding
    return (shape[0], shape[1], shape[2] + pt + pb, shape[3] + pl + pr)


def _crop(xp, padding, hw):
    (pt, _), (pl, _) = padding
    return xp[:, :, pt:pt + hw[0], pl:pl + hw[1]]


def _oihw(w):
    return _wide(w).permute(3, 2, 0, 1)


# -- convolution ---------------------------------------------------------------------------------

def _conv2d(x, w, /, *, strides, padding, dilations, groups, data_format):
    y = F.conv2d(_pad(_nchw(x, data_format), padding), _oihw(w), stride=strides,
                 dilation=dilations, groups=groups)
    return _layout(y, data_format)


def _conv2d_backprop_input(dy, w, /, *, input_shape, strides, padding, dilations, groups,
                           data_format):
    shape = _shape_nchw(input_shape, data_format)
    dxp = torch.nn.grad.conv2d_input(_padded(shape, padding), _oihw(w), _nchw(dy, data_format),
                                     stride=strides, dilation=dilations, groups=groups)
    return _layout(_crop(dxp, padding, shape[2:]), data_format)


def _conv2d_backprop_filter(x, dy, /, *, filter_shape, strides, padding, dilations, groups,
                            data_format):
    kh, kw, cg, o = filter_shape
    dw = torch.nn.grad.conv2d_weight(_pad(_nchw(x, data_format), padding), (o, cg, kh, kw),
                                     _nchw(dy, data_format), stride=strides, dilation=dilations,
                                     groups=groups)
    return dw.permute(2, 3, 1, 0)


# -- pooling -------------------------------------------------------------------------------------

def _max_pool2d(x, /, *, ksize, strides, padding, data_format):
    y = F.max_pool2d(_pad(_nchw(x, data_format), padding, -torch.inf), ksize, strides)
    return _layout(y, data_format)


def _argmax(x, ksize, strides, padding, data_format):
    """``(padded NCHW x, flat positions of each window's first maximum)``."""
    xp = _pad(_nchw(x, data_format), padding, -torch.inf)
    _, where = F.max_pool2d(xp, ksize, strides, return_indices=True)
    return xp, where


def _max_pool2d_grad(x, dy, /, *, ksize, strides, padding, data_format):
    xp, where = _argmax(x, ksize, strides, padding, data_format)
    dxp = torch.zeros_like(xp).flatten(2)
    dxp.scatter_add_(2, where.flatten(2), _nchw(dy, data_format).flatten(2))
    return _layout(_crop(dxp.view_as(xp), padding, _nchw(x, data_format).shape[2:]),
                   data_format)


def _max_pool2d_grad_grad(x, h, /, *, ksize, strides, padding, data_format):
    _, where = _argmax(x, ksize, strides, padding, data_format)
    hp = _pad(_nchw(h, data_format), padding)
    return _layout(hp.flatten(2).gather(2, where.flatten(2)).view_as(where), data_format)


def _counts(hw, ksize, strides, padding, like):
    """How many real positions each window covers, ``(OH, OW)``."""
    ones = _pad(torch.ones((1, 1) + tuple(hw), dtype=like.dtype), padding)
    return F.avg_pool2d(ones, ksize, strides, divisor_override=1)[0, 0]


def _avg_pool2d(x, /, *, ksize, strides, padding, data_format):
    xc = _nchw(x, data_format)
    sums = F.avg_pool2d(_pad(xc, padding), ksize, strides, divisor_override=1)
    return _layout(sums / _counts(xc.shape[2:], ksize, strides, padding, sums), data_format)


def _avg_pool2d_grad(dy, /, *, input_shape, ksize, strides, padding, data_format):
    shape = _shape_nchw(input_shape, data_format)
    dyc = _nchw(dy, data_format)
    share = dyc / _counts(shape[2:], ksize, strides, padding, dyc)
    # The transpose of a window sum: torch's own avg_pool2d backward with a divisor of 1.
    template = torch.empty(_padded(shape, padding), dtype=share.dtype)
    dxp = torch.ops.aten.avg_pool2d_backward(share.contiguous(), template, list(ksize),
                                             list(strides), [0, 0], False, True, 1)
    return _layout(_crop(dxp, padding, shape[2:]), data_format)


KERNELS = {
    "nn.conv2d": _conv2d,
    "nn.conv2d_backprop_input": _conv2d_backprop_input,
    "nn.conv2d_backprop_filter": _conv2d_backprop_filter,
    "nn.max_pool2d": _max_pool2d,
    "nn.max_pool2d_grad": _max_pool2d_grad,
    "nn.max_pool2d_grad_grad": _max_pool2d_grad_grad,
    "nn.avg_pool2d": _avg_pool2d,
    "nn.avg_pool2d_grad": _avg_pool2d_grad,
}
