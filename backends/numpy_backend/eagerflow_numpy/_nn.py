"""NumPy kernels of the nn family: conv2d and its two gradient ops, max and average pooling
and their gradients.

No loop ever runs over pixels. A convolution is im2col + BLAS: an ``as_strided`` view of the
padded input holds every window without copying, ``(groups, N, OH, OW, KH, KW, C/groups)``;
reshaping it to a matrix copies it once, and one matmul with the filter (one batched matmul
over the groups) gives the output. The input gradient is the output gradient times the filter,
added back window by window (col2im): one strided add per kernel tap, KH*KW NumPy calls. The
filter gradient is the im2col matrix, transposed, times the output gradient. Pooling reads the
same window view tap by tap: KH*KW vectorised maximum / add calls over the whole batch, and the
max-pool gradients find each window's first maximum the same way.

The core has checked every shape and resolved "SAME" into explicit pads before a kernel runs.
Channels-first inputs are read through a transposed view (the window view's strides absorb
it), and results go back to the caller's layout as a view. 16-bit floats are computed in
float32 (NumPy has no float16 BLAS, and a float16 accumulator loses digits): the core casts the
result back.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
from numpy.lib.stride_tricks import as_strided

_F32 = np.dtype(np.float32)
_HALF = frozenset({np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)})


def _compute(a):
    return a.astype(_F32) if a.dtype in _HALF else a


def _nhwc(x, data_format):
    return x if data_format == "NHWC" else x.transpose(0, 2, 3, 1)


def _layout(y, data_format):
    return y if data_format == "NHWC" else y.transpose(0, 3, 1, 2)


def _shape_nhwc(shape, data_format):
    return tuple(shape) if data_format == "NHWC" else (shape[0], shape[2], shape[3], shape[1])


def _pad(x, padding, value=0.0):
    """NHWC ``x`` padded with ``value`` (``x`` itself when there is nothing to pad)."""
    (pt, pb), (pl, pr) = padding
    if not (pt or pb or pl or pr):
        return x
    n, h, w, c = x.shape
    shape = (n, h + pt + pb, w + pl + pr, c)
    out = np.zeros(shape, x.dtype) if value == 0 else np.full(shape, value, x.dtype)
    out[:, pt:pt + h, pl:pl + w] = x
    return out


def _out_size(size, k, s, d):
    return (size - (k - 1) * d - 1) // s + 1


def _windows(xp, ksize, strides, dilations, groups=1):
    """The windows of the padded NHWC ``xp`` as a view: ``(groups, N, OH, OW, KH, KW, Cg)``."""
    n, hp, wp, c = xp.shape
    (kh, kw), (sh, sw), (dh, dw) = ksize, strides, dilations
    oh, ow = _out_size(hp, kh, sh, dh), _out_size(wp, kw, sw, dw)
    s0, s1, s2, s3 = xp.strides
    cg = c // groups
    return as_strided(xp, (groups, n, oh, ow, kh, kw, cg),
                      (s3 * cg, s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3), writeable=False)


def _tap(i, j, out_hw, strides, dilations):
    """The slice of the padded input that kernel tap ``(i, j)`` reads for every output."""
    (oh, ow), (sh, sw), (dh, dw) = out_hw, strides, dilations
    return (slice(None), slice(i * dh, i * dh + (oh - 1) * sh + 1, sh),
            slice(j * dw, j * dw + (ow - 1) * sw + 1, sw))


def _crop(xp, padding, hw):
    (pt, _), (pl, _) = padding
    return xp[:, pt:pt + hw[0], pl:pl + hw[1]]


# -- convolution ---------------------------------------------------------------------------------

def _im2col(x, fshape, strides, padding, dilations, groups, data_format):
    """``(cols, (N, OH, OW))``: ``cols`` of shape ``(groups, N*OH*OW, KH*KW*Cg)``, one copy.

    Reshaping the window view copies it with an innermost run of KW*Cg contiguous values (Cg
    when dilated): long enough, except for one input channel (a grayscale image), where
    copying tap by tap runs along whole rows instead."""
    kh, kw, cg, _ = fshape
    win = _windows(_pad(_nhwc(_compute(x), data_format), padding), (kh, kw), strides, dilations,
                   groups)
    _, n, oh, ow = win.shape[:4]
    if cg * groups == 1 and ow > kw:
        cols = np.empty(win.shape, win.dtype)
        for i in range(kh):
            for j in range(kw):
                cols[:, :, :, :, i, j] = win[:, :, :, :, i, j]
    else:
        cols = win
    return cols.reshape(groups, n * oh * ow, kh * kw * cg), (n, oh, ow)


def _filter_matrix(w, groups):
    """HWIO filters as ``(groups, KH*KW*Cg, O/groups)``: output channel o is in group o // Og."""
    kh, kw, cg, o = w.shape
    return w.reshape(kh * kw * cg, groups, o // groups).transpose(1, 0, 2)


def _grouped(dy, groups):
    """An NHWC output (gradient) as ``(groups, N*OH*OW, O/groups)``."""
    o = dy.shape[-1]
    return dy.reshape(-1, groups, o // groups).transpose(1, 0, 2)


def _conv2d(x, w, /, *, strides, padding, dilations, groups, data_format):
    w = _compute(w)
    cols, (n, oh, ow) = _im2col(x, w.shape, strides, padding, dilations, groups, data_format)
    o = w.shape[-1]
    if groups == 1:
        y = cols[0] @ w.reshape(-1, o)
    else:
        y = (cols @ _filter_matrix(w, groups)).transpose(1, 0, 2).reshape(n * oh * ow, o)
    return _layout(y.reshape(n, oh, ow, o), data_format)


def _backprop_input_as_conv(dy, w, hw, padding, dilations, groups):
    """The input gradient of a stride-1 convolution, as a VALID convolution of ``dy`` (shifted
    into a zero border as wide as the window's extent, less the input's padding) with the
    flipped filter, input and output channels swapped: dx[p] = sum_t dy[p + pad - t d] W[t]^T.
    One im2col and one GEMM, like the forward pass."""
    kh, kw, cg, o = w.shape
    n, oh, ow, _ = dy.shape
    ext = ((kh - 1) * dilations[0], (kw - 1) * dilations[1])
    z = np.zeros((n, hw[0] + ext[0], hw[1] + ext[1], o), dy.dtype)
    src, dst = [slice(None)], [slice(None)]
    for size, out, e, (before, _) in zip(hw, (oh, ow), ext, padding):
        off = e - before  # dy row q lands on row q + off of z
        q0, q1 = max(0, -off), min(out, size + e - off)
        src.append(slice(q0, max(q0, q1)))
        dst.append(slice(q0 + off, max(q0, q1) + off))
    z[tuple(dst)] = dy[tuple(src)]
    flipped = w[::-1, ::-1].reshape(kh, kw, cg, groups, o // groups).transpose(0, 1, 4, 3, 2)
    return _conv2d(z, flipped.reshape(kh, kw, o // groups, groups * cg), strides=(1, 1),
                   padding=((0, 0), (0, 0)), dilations=dilations, groups=groups,
                   data_format="NHWC")


def _conv2d_backprop_input(dy, w, /, *, input_shape, strides, padding, dilations, groups,
                           data_format):
    w = _compute(w)
    dy = _nhwc(_compute(dy), data_format)
    n, h, wd, c = _shape_nhwc(input_shape, data_format)
    kh, kw, cg, o = w.shape
    _, oh, ow, _ = dy.shape
    if strides == (1, 1) and cg > 1 and dy.size and w.size:
        # col2im's adds would run Cg values at a time: a convolution is faster
        return _layout(_backprop_input_as_conv(dy, w, (h, wd), padding, dilations, groups),
                       data_format)
    (pt, pb), (pl, pr) = padding
    dxp = np.zeros((n, h + pt + pb, wd + pl + pr, groups, cg), dy.dtype)
    if dy.size and w.size:
        # The columns' gradient, (groups, N, OH, OW, KH, KW, Cg), added back tap by tap.
        if groups == 1:
            dcols = dy.reshape(-1, o) @ w.reshape(-1, o).T
        else:
            dcols = _grouped(dy, groups) @ _filter_matrix(w, groups).transpose(0, 2, 1)
        dcols = dcols.reshape(groups, n, oh, ow, kh, kw, cg)
        for i in range(kh):
            for j in range(kw):
                dxp[_tap(i, j, (oh, ow), strides, dilations)] += \
                    dcols[:, :, :, :, i, j].transpose(1, 2, 3, 0, 4)
    dx = _crop(dxp.reshape(dxp.shape[:3] + (c,)), padding, (h, wd))
    return _layout(dx, data_format)


def _conv2d_backprop_filter(x, dy, /, *, filter_shape, strides, padding, dilations, groups,
                            data_format):
    cols, _ = _im2col(x, filter_shape, strides, padding, dilations, groups, data_format)
    dy = _nhwc(_compute(dy), data_format)
    kh, kw, cg, o = filter_shape
    if groups == 1:
        return (cols[0].T @ dy.reshape(-1, o)).reshape(filter_shape)
    dw = cols.transpose(0, 2, 1) @ _grouped(dy, groups)  # (groups, KH*KW*Cg, Og)
    return dw.transpose(1, 0, 2).reshape(filter_shape)


# -- pooling -------------------------------------------------------------------------------------

def _pool_windows(x, ksize, strides, padding, data_format, value):
    """``(windows (N, OH, OW, KH, KW, C), padded NHWC shape)`` of ``x`` padded with ``value``."""
    xp = _pad(_nhwc(_compute(x), data_format), padding, value)
    return _windows(xp, ksize, strides, (1, 1))[0], xp.shape


def _max_pool2d(x, /, *, ksize, strides, padding, data_format):
    win, _ = _pool_windows(x, ksize, strides, padding, data_format, -np.inf)
    out = win[:, :, :, 0, 0].copy()
    for i in range(ksize[0]):
        for j in range(ksize[1]):
            if i or j:
                np.maximum(out, win[:, :, :, i, j], out=out)
    return _layout(out, data_format)


def _first_max(win, ksize):
    """Yield, tap by tap, ``(i, j, hit)``: where tap (i, j) holds its window's first maximum
    (bool, ``(N, OH, OW, C)``). A tie goes to the earlier tap, row by row (TensorFlow's and
    PyTorch's choice). Compares and logical ops only: a masked copy (np.where, copyto with
    where=) on such random masks is ten times slower."""
    taps = [(i, j, win[:, :, :, i, j]) for i in range(ksize[0]) for j in range(ksize[1])]
    top = taps[0][2].copy()
    for _, _, v in taps[1:]:
        np.maximum(top, v, out=top)
    taken = np.zeros(top.shape, np.bool_)
    for i, j, v in taps:
        hit = np.equal(v, top)
        np.greater(hit, taken, out=hit)  # hit and not taken: only the first maximum
        taken |= hit
        yield i, j, hit


def _max_pool2d_grad(x, dy, /, *, ksize, strides, padding, data_format):
    win, padded = _pool_windows(x, ksize, strides, padding, data_format, -np.inf)
    dy = _nhwc(_compute(dy), data_format)
    dxp = np.zeros(padded, dy.dtype)
    apart = strides[0] >= ksize[0] and strides[1] >= ksize[1]
    for i, j, hit in _first_max(win, ksize):
        at = dxp[_tap(i, j, dy.shape[1:3], strides, (1, 1))]
        if apart:  # windows side by side: each position is written once, no add needed
            np.multiply(dy, hit, out=at)
        else:
            at += dy * hit
    return _layout(_crop(dxp, padding, _nhwc(x, data_format).shape[1:3]), data_format)


def _max_pool2d_grad_grad(x, h, /, *, ksize, strides, padding, data_format):
    win, _ = _pool_windows(x, ksize, strides, padding, data_format, -np.inf)
    hwin, _ = _pool_windows(h, ksize, strides, padding, data_format, 0.0)
    out = np.zeros(win.shape[:3] + win.shape[5:], hwin.dtype)
    for i, j, hit in _first_max(win, ksize):
        out += hwin[:, :, :, i, j] * hit
    return _layout(out, data_format)


def _counts(size, k, s, pad, out):
    """How many real (unpadded) positions each window along one axis covers."""
    start = np.arange(out) * s - pad
    return np.minimum(start + k, size) - np.maximum(start, 0)


def _window_counts(hw, ksize, strides, padding, out_hw):
    ch = _counts(hw[0], ksize[0], strides[0], padding[0][0], out_hw[0])
    cw = _counts(hw[1], ksize[1], strides[1], padding[1][0], out_hw[1])
    return (ch[:, None] * cw[None, :])[:, :, None]  # (OH, OW, 1): broadcasts over N and C


def _avg_pool2d(x, /, *, ksize, strides, padding, data_format):
    win, _ = _pool_windows(x, ksize, strides, padding, data_format, 0.0)
    out = win[:, :, :, 0, 0].copy()
    for i in range(ksize[0]):
        for j in range(ksize[1]):
            if i or j:
                out += win[:, :, :, i, j]
    hw = _nhwc(x, data_format).shape[1:3]
    out /= _window_counts(hw, ksize, strides, padding, out.shape[1:3]).astype(out.dtype)
    return _layout(out, data_format)


def _avg_pool2d_grad(dy, /, *, input_shape, ksize, strides, padding, data_format):
    dy = _nhwc(_compute(dy), data_format)
    n, h, w, c = _shape_nhwc(input_shape, data_format)
    share = dy / _window_counts((h, w), ksize, strides, padding, dy.shape[1:3]).astype(dy.dtype)
    (pt, pb), (pl, pr) = padding
    dxp = np.zeros((n, h + pt + pb, w + pl + pr, c), dy.dtype)
    for i in range(ksize[0]):
        for j in range(ksize[1]):
            dxp[_tap(i, j, dy.shape[1:3], strides, (1, 1))] += share
    return _layout(_crop(dxp, padding, (h, w)), data_format)


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
