"""Convolution and pooling (eagerflow_cuda/conv.py) with NumPy standing in for CuPy: the im2col
and col2im index arithmetic against PyTorch 2.13 (CPU) and a direct loop over output pixels,
forward and backward, for SAME/VALID/explicit padding, strides, dilations, groups, NHWC and NCHW."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from eagerflow_cuda import conv

pytestmark = pytest.mark.cpu_only  # make gpu-check leaves it out
RNG = np.random.default_rng(7)


def _pads(h, w, kh, kw, s, d, padding):
    if padding == "VALID":
        return (0, 0), (0, 0)
    if padding == "SAME":
        return conv.same_padding(h, kh, s[0], d[0]), conv.same_padding(w, kw, s[1], d[1])
    return tuple(padding[0]), tuple(padding[1])


def _torch_conv(x, w, s, d, padding, groups):
    """Reference: torch.conv2d on NCHW after an explicit (possibly asymmetric) zero pad."""
    (pt, pb), (pl, pr) = _pads(x.shape[1], x.shape[2], w.shape[0], w.shape[1], s, d, padding)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    xin = F.pad(xt.permute(0, 3, 1, 2), (pl, pr, pt, pb))
    y = F.conv2d(xin, wt.permute(3, 2, 0, 1), stride=s, dilation=d, groups=groups)
    return xt, wt, y.permute(0, 2, 3, 1)


CASES = [  # (N, H, W, C), (KH, KW, O), strides, dilations, padding, groups
    ((2, 7, 6, 3), (3, 3, 4), (1, 1), (1, 1), "SAME", 1),
    ((2, 7, 6, 3), (3, 3, 4), (2, 2), (1, 1), "SAME", 1),
    ((1, 8, 9, 2), (2, 4, 5), (2, 3), (1, 1), "SAME", 1),   # even kernels: pad split unevenly
    ((2, 9, 9, 4), (3, 3, 6), (1, 2), (2, 1), "VALID", 2),
    ((1, 6, 7, 6), (3, 2, 6), (1, 1), (1, 2), "SAME", 3),   # depthwise-like, dilated
    ((2, 5, 5, 2), (3, 3, 2), (2, 1), (1, 1), ((1, 2), (0, 1)), 1),
    ((1, 4, 4, 1), (1, 1, 3), (1, 1), (1, 1), "VALID", 1),  # 1x1
    ((3, 5, 8, 4), (5, 3, 2), (3, 2), (1, 1), "VALID", 2),
]


@pytest.mark.parametrize("xs, ks, s, d, padding, groups", CASES)
def test_conv2d_forward_and_both_gradients_match_pytorch(xs, ks, s, d, padding, groups):
    x = RNG.standard_normal(xs)
    w = RNG.standard_normal((ks[0], ks[1], xs[3] // groups, ks[2]))
    kw = dict(strides=s, padding=padding, dilations=d, groups=groups)
    y = conv.conv2d(x, w, **kw)
    xt, wt, yt = _torch_conv(x, w, s, d, padding, groups)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = RNG.standard_normal(y.shape)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(conv.conv2d_grad_input(g, w, x.shape, **kw), xt.grad.numpy(),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(conv.conv2d_grad_filter(g, x, w.shape, **kw), wt.grad.numpy(),
                               rtol=1e-10, atol=1e-10)


def test_conv2d_nchw_is_the_transposed_nhwc():
    x = RNG.standard_normal((2, 3, 6, 5))
    w = RNG.standard_normal((3, 3, 3, 4))
    y = conv.conv2d(x, w, strides=2, padding="SAME", data_format="NCHW")
    want = conv.conv2d(np.moveaxis(x, 1, -1), w, strides=2, padding="SAME")
    np.testing.assert_allclose(y, np.moveaxis(want, -1, 1))
    g = RNG.standard_normal(y.shape)
    dx = conv.conv2d_grad_input(g, w, x.shape, strides=2, padding="SAME", data_format="NCHW")
    dx_nhwc = conv.conv2d_grad_input(np.moveaxis(g, 1, -1), w, (2, 6, 5, 3), strides=2,
                                     padding="SAME")
    np.testing.assert_allclose(dx, np.moveaxis(dx_nhwc, -1, 1))
    dw = conv.conv2d_grad_filter(g, x, w.shape, strides=2, padding="SAME", data_format="NCHW")
    np.testing.assert_allclose(dw, conv.conv2d_grad_filter(np.moveaxis(g, 1, -1),
                                                           np.moveaxis(x, 1, -1), w.shape,
                                                           strides=2, padding="SAME"))


@pytest.mark.parametrize("fmt", ["NWC", "NCW"])
@pytest.mark.parametrize("stride, dilation, padding, groups", [
    (1, 1, "SAME", 1), (2, 1, "VALID", 2), (3, 2, "SAME", 1), (1, 1, [(2, 1)], 1),
    (2, 1, [[0, 0], [1, 3], [0, 0]], 2)])
def test_conv1d_matches_pytorch(fmt, stride, dilation, padding, groups):
    n, width, c, k, o = 2, 11, 4, 3, 6
    x = RNG.standard_normal((n, width, c))
    w = RNG.standard_normal((k, c // groups, o))
    if padding == "SAME":
        pl, pr = conv.same_padding(width, k, stride, dilation)
    elif padding == "VALID":
        pl, pr = 0, 0
    else:
        pl, pr = padding[0] if len(padding) == 1 else padding[1]
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    yt = F.conv1d(F.pad(xt.permute(0, 2, 1), (pl, pr)), wt.permute(2, 1, 0), stride=stride,
                  dilation=dilation, groups=groups).permute(0, 2, 1)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, data_format=fmt)
    xin = x if fmt == "NWC" else np.moveaxis(x, -1, 1)
    y = conv.conv1d(xin, w, **kw)
    y_nwc = y if fmt == "NWC" else np.moveaxis(y, 1, -1)
    np.testing.assert_allclose(y_nwc, yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = RNG.standard_normal(yt.shape)
    yt.backward(torch.tensor(g))
    gin = g if fmt == "NWC" else np.moveaxis(g, -1, 1)
    dx = conv.conv1d_grad_input(gin, w, xin.shape, **kw)
    np.testing.assert_allclose(dx if fmt == "NWC" else np.moveaxis(dx, 1, -1), xt.grad.numpy(),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(conv.conv1d_grad_filter(gin, xin, w.shape, **kw), wt.grad.numpy(),
                               rtol=1e-10, atol=1e-10)


# -- pooling against a direct loop over output pixels (torch ops, so autograd gives gradients) --

def _loop_pool(x, ksize, strides, padding, kind):
    n, h, w, c = x.shape
    kh, kw = ksize
    sh, sw = strides
    (pt, pb), (pl, pr) = _pads(h, w, kh, kw, strides, (1, 1), padding)
    oh, ow = (h + pt + pb - kh) // sh + 1, (w + pl + pr - kw) // sw + 1
    out = torch.empty((n, oh, ow, c), dtype=x.dtype)
    rows = []
    for i in range(oh):
        cols = []
        for j in range(ow):
            r0, c0 = i * sh - pt, j * sw - pl
            win = x[:, max(r0, 0):min(r0 + kh, h), max(c0, 0):min(c0 + kw, w), :]
            flat = win.reshape(n, -1, c)
            if kind == "max":  # the first maximum, as TensorFlow and PyTorch route the gradient
                idx = flat.argmax(dim=1, keepdim=True)
                cols.append(torch.gather(flat, 1, idx)[:, 0])
            else:  # the mean of the real inputs only
                cols.append(flat.mean(dim=1))
        rows.append(torch.stack(cols, dim=1))
    out = torch.stack(rows, dim=1)
    return out


POOLS = [((2, 6, 7, 3), (2, 2), None, "VALID"), ((1, 7, 7, 2), (3, 3), (2, 2), "SAME"),
         ((2, 5, 6, 1), (2, 3), (1, 2), "SAME"), ((1, 8, 5, 2), (3, 2), (3, 1), "VALID"),
         ((1, 4, 4, 1), (2, 2), (1, 1), ((1, 0), (0, 1)))]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("xs, ksize, strides, padding", POOLS)
def test_pooling_and_its_gradient_match_a_direct_loop(kind, xs, ksize, strides, padding):
    x = RNG.standard_normal(xs)
    if kind == "max":
        x = np.round(x * 2) / 2  # ties inside windows: the first maximum takes the gradient
    xt = torch.tensor(x, requires_grad=True)
    yt = _loop_pool(xt, ksize, strides or ksize, padding, kind)
    fwd = conv.max_pool2d if kind == "max" else conv.avg_pool2d
    y = fwd(x, ksize, strides, padding)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = RNG.standard_normal(y.shape)
    yt.backward(torch.tensor(g))
    if kind == "max":
        dx = conv.max_pool2d_grad(g, x, ksize, strides, padding)
    else:
        dx = conv.avg_pool2d_grad(g, x.shape, ksize, strides, padding)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_pooling_in_nchw_and_in_float32_and_int():
    x = RNG.standard_normal((2, 3, 6, 6)).astype(np.float32)
    y = conv.max_pool2d(x, 2, data_format="NCHW")
    assert y.shape == (2, 3, 3, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(y, np.moveaxis(conv.max_pool2d(np.moveaxis(x, 1, -1), 2), -1, 1))
    a = conv.avg_pool2d(x, 3, 2, "SAME", data_format="NCHW")
    assert a.shape == (2, 3, 3, 3) and a.dtype == np.float32
    ints = np.arange(16, dtype=np.int32).reshape(1, 4, 4, 1)
    assert conv.max_pool2d(ints, 3, 1, "SAME")[0, 0, 0, 0] == 5  # padding is the lowest int


@pytest.mark.parametrize("n, k, s, d, want", [
    (5, 3, 2, 1, (1, 1)), (4, 3, 2, 1, (0, 1)), (7, 4, 1, 1, (1, 2)), (5, 3, 1, 2, (2, 2)),
    (6, 1, 3, 1, (0, 0)), (3, 5, 1, 1, (2, 2)), (10, 3, 4, 1, (0, 1))])
def test_same_padding_by_hand(n, k, s, d, want):
    # TensorFlow: out = ceil(n / s); pad = max((out - 1) * s + (k - 1) * d + 1 - n, 0),
    # the odd pixel after.
    assert conv.same_padding(n, k, s, d) == want


def test_bad_arguments_are_clear_errors():
    x = np.zeros((1, 4, 4, 4))
    with pytest.raises(ValueError, match="groups=3"):
        conv.conv2d(x, np.zeros((3, 3, 2, 6)), groups=3)
    with pytest.raises(ValueError, match="padding must be"):
        conv.conv2d(x, np.zeros((3, 3, 4, 2)), padding="FULL")
    with pytest.raises(ValueError, match="no output"):
        conv.conv2d(x, np.zeros((5, 5, 4, 2)))
    with pytest.raises(ValueError, match="strides"):
        conv.conv2d(x, np.zeros((3, 3, 4, 2)), strides=0)
    with pytest.raises(ValueError, match="batch and channel"):
        conv.conv2d(x, np.zeros((3, 3, 4, 2)), padding=[(1, 1), (1, 1), (1, 1), (0, 0)])
    with pytest.raises(ValueError, match="data_format"):
        conv.max_pool2d(x, 2, data_format="HWCN")
