"""The NN ops of issue #7 on every backend: conv1d/conv2d/depthwise_conv2d, max and average
pooling, moments, batch_norm, layer_norm, silu, sigmoid cross-entropy, one_hot and
embedding_lookup.

Values are compared with two independent references on the same inputs: a plain NumPy float64
convolution and pooling written with explicit loops over every output pixel (below; slow, and
obviously right), and PyTorch 2.13's ``torch.nn.functional``. Error messages must name the op,
the shapes, and what would be valid.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core.testing import assert_close, reference

_CHECKS = [*settings().suppress_health_check, HealthCheck.function_scoped_fixture]
prop = settings(suppress_health_check=_CHECKS, max_examples=15)
FLOATS = [ef.float16, ef.bfloat16, ef.float32, ef.float64]


def host(rng, shape, dtype=ef.float32, low=-3.0, high=3.0):
    """Random values rounded to ``dtype``, as a float64 array (what the tensor holds)."""
    x = rng.uniform(low, high, size=shape).astype(dtype.numpy)
    return x, x.astype(np.float64)


# -- references with explicit loops (NHWC, HWIO) ---------------------------------------------------

def same_pads(n, k, s, d=1):
    """TensorFlow's SAME rule: total max(0, (ceil(n/s) - 1) s + (k - 1) d + 1 - n), the odd
    pixel at the end."""
    total = max(0, (math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n)
    return total // 2, total - total // 2


def loop_conv(x, w, strides=(1, 1), pads=((0, 0), (0, 0)), dilations=(1, 1), groups=1):
    n, h, wd, c = x.shape
    kh, kw, cg, o = w.shape
    og = o // groups
    (sh, sw), (dh, dw) = strides, dilations
    (pt, pb), (pl, pr) = pads
    oh = (h + pt + pb - (kh - 1) * dh - 1) // sh + 1
    ow = (wd + pl + pr - (kw - 1) * dw - 1) // sw + 1
    y = np.zeros((n, oh, ow, o))
    for b, i, j, oc in itertools.product(range(n), range(oh), range(ow), range(o)):
        g = oc // og
        total = 0.0
        for a, e, ci in itertools.product(range(kh), range(kw), range(cg)):
            r, q = i * sh + a * dh - pt, j * sw + e * dw - pl
            if 0 <= r < h and 0 <= q < wd:
                total += x[b, r, q, g * cg + ci] * w[a, e, ci, oc]
        y[b, i, j, oc] = total
    return y


def loop_pool(x, k, s, pads, how):
    n, h, wd, c = x.shape
    (pt, pb), (pl, pr) = pads
    oh, ow = (h + pt + pb - k[0]) // s[0] + 1, (wd + pl + pr - k[1]) // s[1] + 1
    y = np.zeros((n, oh, ow, c))
    for b, i, j, ch in itertools.product(range(n), range(oh), range(ow), range(c)):
        vals = [x[b, r, q, ch] for r in range(i * s[0] - pt, i * s[0] - pt + k[0])
                for q in range(j * s[1] - pl, j * s[1] - pl + k[1]) if 0 <= r < h and 0 <= q < wd]
        y[b, i, j, ch] = max(vals) if how == "max" else sum(vals) / len(vals)
    return y


def torch_pad_nchw(x, pads, value=0.0):
    (pt, pb), (pl, pr) = pads
    return F.pad(x, (pl, pr, pt, pb), value=value)


# -- conv2d ----------------------------------------------------------------------------------------

CONV_CASES = [  # (x shape NHWC, w shape HWIO, strides, padding, dilations, groups)
    ((2, 7, 6, 3), (3, 3, 3, 4), 1, "SAME", 1, None),
    ((2, 7, 6, 3), (3, 2, 3, 5), (2, 1), "SAME", 1, None),
    ((1, 8, 8, 2), (3, 3, 2, 2), 2, "VALID", (2, 1), None),
    ((1, 5, 6, 4), (2, 3, 2, 6), (1, 2), [(1, 0), (2, 1)], 1, 2),       # grouped
    ((2, 5, 5, 3), (3, 3, 1, 6), 1, "SAME", 2, 3),                      # depthwise x2
    ((1, 6, 6, 2), (1, 1, 2, 3), [1, 3, 2, 1], [[0, 0], [1, 1], [0, 2], [0, 0]], 1, None),
]


def _ints(v):
    return (v, v) if isinstance(v, int) else tuple(v[1:3] if len(v) == 4 else v)


def _case_pads(xs, ws, strides, padding, dilations):
    s, d = _ints(strides), _ints(dilations)
    if padding == "SAME":
        return s, d, tuple(same_pads(n, k, si, di) for n, k, si, di in zip(xs[1:3], ws[:2], s, d))
    if padding == "VALID":
        return s, d, ((0, 0), (0, 0))
    pairs = [tuple(p) for p in padding]
    return s, d, tuple(pairs[1:3] if len(pairs) == 4 else pairs)


@pytest.mark.parametrize("case", CONV_CASES, ids=[f"conv{i}" for i in range(len(CONV_CASES))])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_conv2d_against_loops_and_torch(device, case, data_format):
    xs, ws, strides, padding, dilations, groups = case
    rng = np.random.default_rng(0)
    x32, x64 = host(rng, xs)
    w32, w64 = host(rng, ws)
    s, d, pads = _case_pads(xs, ws, strides, padding, dilations)
    want = loop_conv(x64, w64, s, pads, d, groups or xs[-1] // ws[2])
    xin = x32 if data_format == "NHWC" else x32.transpose(0, 3, 1, 2)
    if isinstance(strides, list) and data_format == "NCHW":
        strides = [1, 1, *strides[1:3]]
    if isinstance(padding, list) and len(padding) == 4 and data_format == "NCHW":
        padding = [[0, 0], [0, 0], *padding[1:3]]
    y = ef.nn.conv2d(ef.asarray(xin), ef.asarray(w32), strides=strides, padding=padding,
                     data_format=data_format, dilations=dilations, groups=groups)
    got = y if data_format == "NHWC" else ef.permute_dims(y, (0, 2, 3, 1))
    assert y.device == device and y.dtype == ef.float32
    assert_close(got, want, rtol=1e-5, atol=1e-5)
    yt = F.conv2d(torch_pad_nchw(torch.tensor(x32).permute(0, 3, 1, 2), pads),
                  torch.tensor(w32).permute(3, 2, 0, 1), stride=s, dilation=d,
                  groups=groups or xs[-1] // ws[2])
    np.testing.assert_allclose(got.numpy(), yt.permute(0, 2, 3, 1).numpy(), rtol=1e-5, atol=1e-5)


def test_same_padding_puts_the_odd_pixel_at_the_end(device):
    # n=4, k=2, s=1: one pixel of padding in total, after the input (TensorFlow), so the last
    # output reads x[3] and the padding; the first reads x[0], x[1].
    x = ef.reshape(ef.constant([1.0, 2.0, 4.0, 8.0]), (1, 1, 4, 1))
    y = ef.nn.conv2d(x, ef.ones((1, 2, 1, 1)), padding="SAME")
    assert y.numpy().ravel().tolist() == [3.0, 6.0, 12.0, 8.0]
    # n=5, k=4, s=2: out 3, total (3 - 1) * 2 + 4 - 5 = 3: one before, two after
    x = ef.reshape(ef.arange(1.0, 6.0), (1, 1, 5, 1))
    y = ef.nn.conv2d(x, ef.ones((1, 4, 1, 1)), strides=2, padding="SAME")
    assert y.numpy().ravel().tolist() == [0 + 1 + 2 + 3, 2 + 3 + 4 + 5, 4 + 5]


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
def test_conv2d_dtypes_and_promotion(device, dtype):
    rng = np.random.default_rng(1)
    x, x64 = host(rng, (2, 5, 5, 3), dtype)
    w, w64 = host(rng, (3, 3, 3, 2), dtype)
    y = ef.nn.conv2d(ef.asarray(x), ef.asarray(w), padding="SAME")
    assert y.dtype is dtype
    want = loop_conv(x64, w64, pads=((1, 1), (1, 1)))
    scale = {"float16": 4, "bfloat16": 4}.get(dtype.name, 1)
    assert_close(y, want, scale=scale * 10)
    mixed = ef.nn.conv2d(ef.asarray(x), ef.asarray(w64), padding="SAME")
    assert mixed.dtype is ef.promote_types(dtype, ef.float64)


@prop
@given(data=st.data())
def test_conv1d_is_conv2d_over_a_height_of_one(device, data):
    n, width, c = data.draw(st.integers(1, 2)), data.draw(st.integers(3, 8)), data.draw(
        st.integers(1, 3))
    k, s, d = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)), data.draw(
        st.integers(1, 2))
    padding = data.draw(st.sampled_from(["SAME", "VALID"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    x32, x64 = host(rng, (n, width, c))
    w32, w64 = host(rng, (k, c, 2))
    if padding == "VALID" and (k - 1) * d + 1 > width:
        return
    y = ef.nn.conv1d(ef.asarray(x32), ef.asarray(w32), stride=s, padding=padding, dilations=d)
    pads = ((0, 0), same_pads(width, k, s, d) if padding == "SAME" else (0, 0))
    want = loop_conv(x64[:, None], w64[None], (1, s), pads, (1, d))[:, 0]
    assert_close(y, want, rtol=1e-5, atol=1e-5)
    yc = ef.nn.conv1d(ef.asarray(x32.transpose(0, 2, 1)), ef.asarray(w32), strides=s,
                      padding=padding, dilations=d, data_format="NCW")
    assert_close(ef.permute_dims(yc, (0, 2, 1)), want, rtol=1e-5, atol=1e-5)


def test_depthwise_conv2d_against_torch(device):
    rng = np.random.default_rng(2)
    x, _ = host(rng, (2, 6, 5, 3))
    w, _ = host(rng, (3, 3, 3, 2))  # (kh, kw, in_channels, multiplier)
    y = ef.nn.depthwise_conv2d(ef.asarray(x), ef.asarray(w), strides=[1, 2, 2, 1],
                               padding="SAME")
    pads = (same_pads(6, 3, 2), same_pads(5, 3, 2))
    # torch's depthwise weight is (C * M, 1, kh, kw), output channel c * M + m as TensorFlow's
    wt = torch.tensor(w).permute(2, 3, 0, 1).reshape(6, 1, 3, 3)
    yt = F.conv2d(torch_pad_nchw(torch.tensor(x).permute(0, 3, 1, 2), pads), wt, stride=2,
                  groups=3)
    np.testing.assert_allclose(y.numpy(), yt.permute(0, 2, 3, 1).numpy(), rtol=1e-5, atol=1e-5)


# -- pooling ---------------------------------------------------------------------------------------

POOL_CASES = [((2, 2), (2, 2), "VALID"), ((3, 3), (2, 2), "SAME"), ((2, 3), (1, 2), "SAME"),
              ((3, 2), (3, 1), "VALID"), ((3, 3), (1, 1), [(1, 1), (2, 0)])]


@pytest.mark.parametrize("k, s, padding", POOL_CASES)
@pytest.mark.parametrize("how", ["max", "avg"])
def test_pooling_against_loops_and_torch(device, how, k, s, padding):
    rng = np.random.default_rng(3)
    x32, x64 = host(rng, (2, 7, 6, 3))
    pads = (tuple(same_pads(7, k[0], s[0])), tuple(same_pads(6, k[1], s[1]))) \
        if padding == "SAME" else ((0, 0), (0, 0)) if padding == "VALID" else tuple(padding)
    fn = ef.nn.max_pool2d if how == "max" else ef.nn.avg_pool2d
    y = fn(ef.asarray(x32), k, s, padding)
    assert_close(y, loop_pool(x64, k, s, pads, how), rtol=1e-6, atol=1e-6)
    yc = fn(ef.asarray(x32.transpose(0, 3, 1, 2)), k, s, padding, data_format="NCHW")
    assert_close(ef.permute_dims(yc, (0, 2, 3, 1)), loop_pool(x64, k, s, pads, how),
                 rtol=1e-6, atol=1e-6)
    xt = torch.tensor(x32).permute(0, 3, 1, 2)
    if how == "max":
        yt = F.max_pool2d(torch_pad_nchw(xt, pads, -math.inf), k, s)
    else:  # padded positions not counted: window sums over window counts
        ones = torch_pad_nchw(torch.ones(1, 1, 7, 6), pads)
        yt = (F.avg_pool2d(torch_pad_nchw(xt, pads), k, s, divisor_override=1)
              / F.avg_pool2d(ones, k, s, divisor_override=1))
    np.testing.assert_allclose(y.numpy(), yt.permute(0, 2, 3, 1).numpy(), rtol=1e-6, atol=1e-6)


def test_pooling_defaults_and_tf_spellings(device):
    x = ef.reshape(ef.arange(32.0), (1, 4, 4, 2))
    a = ef.nn.max_pool2d(x, 2)  # strides default to the window, VALID
    b = ef.nn.max_pool2d(x, [1, 2, 2, 1], [1, 2, 2, 1], "valid")
    c = ef.nn.max_pool2d(x, (2, 2), 2, [[0, 0], [0, 0], [0, 0], [0, 0]])
    assert a.shape == (1, 2, 2, 2)
    assert a.tolist() == b.tolist() == c.tolist()
    assert ef.nn.avg_pool2d(ef.ones((1, 5, 5, 1)), 3, 2, "SAME").tolist() == \
        np.ones((1, 3, 3, 1)).tolist()  # SAME average of ones is 1 everywhere: pads not counted


# -- composites ------------------------------------------------------------------------------------

def test_moments_batch_norm_and_layer_norm_against_torch(device):
    rng = np.random.default_rng(4)
    x, x64 = host(rng, (4, 5, 5, 3))
    mean, var = ef.nn.moments(ef.asarray(x), axes=[0, 1, 2])
    assert mean.shape == var.shape == (3,)
    assert_close(mean, x64.mean(axis=(0, 1, 2)), rtol=1e-5, atol=1e-6)
    assert_close(var, x64.var(axis=(0, 1, 2)), rtol=1e-5, atol=1e-6)
    m_k, v_k = ef.nn.moments(ef.asarray(x), axes=[0, 1, 2], keepdims=True)
    assert m_k.shape == v_k.shape == (1, 1, 1, 3)
    gamma, _ = host(rng, (3,))
    beta, _ = host(rng, (3,))
    y = ef.nn.batch_norm(ef.asarray(x), mean, var, ef.asarray(beta), ef.asarray(gamma), 1e-3)
    yt = F.batch_norm(torch.tensor(x).permute(0, 3, 1, 2), None, None, torch.tensor(gamma),
                      torch.tensor(beta), training=True, eps=1e-3)
    np.testing.assert_allclose(y.numpy(), yt.permute(0, 2, 3, 1).numpy(), rtol=1e-4, atol=1e-5)
    ln = ef.nn.layer_norm(ef.asarray(x), axis=-1, scale=ef.asarray(gamma),
                          offset=ef.asarray(beta), epsilon=1e-5)
    lt = F.layer_norm(torch.tensor(x), (3,), torch.tensor(gamma), torch.tensor(beta), eps=1e-5)
    np.testing.assert_allclose(ln.numpy(), lt.numpy(), rtol=1e-4, atol=1e-5)
    # several axes, named in any order: the scale has their sizes in the order they have in x
    w3, _ = host(rng, (5, 3))
    ln2 = ef.nn.layer_norm(ef.asarray(x), axis=(3, -2, 1), scale=ef.asarray(w3), epsilon=1e-5)
    lt2 = F.layer_norm(torch.tensor(x), (5, 5, 3), torch.tensor(w3)[None].expand(5, 5, 3),
                       eps=1e-5)
    np.testing.assert_allclose(ln2.numpy(), lt2.numpy(), rtol=1e-4, atol=1e-5)
    w2, w2_64 = host(rng, (5, 4))
    y = ef.asarray(x[:, :, :4, :])  # (4, 5, 4, 3): the scale is laid along axes 1 and 2
    ln3 = ef.nn.layer_norm(y, axis=(2, 1), scale=ef.asarray(w2), epsilon=1e-5)
    y64 = x[:, :, :4, :].astype(np.float64)
    mu, var = y64.mean(axis=(1, 2), keepdims=True), y64.var(axis=(1, 2), keepdims=True)
    assert_close(ln3, (y64 - mu) / np.sqrt(var + 1e-5) * w2_64[None, :, :, None], rtol=1e-4,
                 atol=1e-5)


@pytest.mark.parametrize("dtype", [ef.float16, ef.bfloat16])
def test_half_precision_normalisation_is_computed_wide(device, dtype):
    # A large mean and a small spread: a float16 sum of squares would lose it all.
    rng = np.random.default_rng(5)
    x = (100 + rng.uniform(-1, 1, size=(8, 64))).astype(dtype.numpy)
    y = ef.nn.layer_norm(ef.asarray(x), epsilon=0.0)
    x64 = x.astype(np.float64)
    want = (x64 - x64.mean(-1, keepdims=True)) / x64.std(-1, keepdims=True)
    assert y.dtype is dtype
    assert_close(y, want, rtol=2e-2, atol=2e-2)
    mean, var = ef.nn.moments(ef.asarray(x), axes=[1])
    assert mean.dtype is var.dtype is dtype
    assert_close(var, x64.var(-1), rtol=5e-2, atol=1e-2)


def test_silu_and_sigmoid_cross_entropy_against_torch(device):
    rng = np.random.default_rng(6)
    x, _ = host(rng, (3, 4), low=-30, high=30)
    z, _ = host(rng, (3, 4), low=0, high=1)
    np.testing.assert_allclose(ef.nn.silu(ef.asarray(x)).numpy(), F.silu(torch.tensor(x)),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ef.nn.swish(ef.asarray(x), beta=2.0).numpy(),
                               torch.tensor(x) * torch.sigmoid(2 * torch.tensor(x)),
                               rtol=1e-6, atol=1e-6)
    got = ef.nn.sigmoid_cross_entropy_with_logits(labels=ef.asarray(z), logits=ef.asarray(x))
    want = F.binary_cross_entropy_with_logits(torch.tensor(x), torch.tensor(z), reduction="none")
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    big = ef.constant([1e4, -1e4])
    assert ef.nn.sigmoid_cross_entropy_with_logits(labels=ef.constant([0.0, 1.0]),
                                                   logits=big).tolist() == [1e4, 1e4]


def test_one_hot_and_embedding_lookup_against_torch(device):
    ids = ef.constant([[0, 3], [2, 2]])
    hot = ef.one_hot(ids, 4)
    assert hot.dtype is ef.float32 and ef.nn.one_hot is ef.one_hot
    np.testing.assert_array_equal(hot.numpy(), F.one_hot(torch.tensor([[0, 3], [2, 2]]), 4))
    assert ef.one_hot(ef.constant([5, -1]), 3).tolist() == [[0.0] * 3] * 2  # out of range: off
    assert ef.one_hot(ef.constant([1]), 2, on_value=True, off_value=False).dtype is ef.bool
    assert ef.one_hot(ef.constant([1]), 2, dtype=ef.int8).tolist() == [[0, 1]]
    table, _ = host(np.random.default_rng(7), (5, 3))
    got = ef.nn.embedding_lookup(ef.asarray(table), ids)
    want = F.embedding(torch.tensor([[0, 3], [2, 2]]), torch.tensor(table))
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    shards = [ef.asarray(table[:2]), ef.asarray(table[2:])]  # TensorFlow's "div" shards
    np.testing.assert_array_equal(ef.nn.embedding_lookup(shards, ids).numpy(), want.numpy())
    clipped = ef.nn.embedding_lookup(ef.asarray(table), ids, max_norm=1.0)
    want_clipped = F.embedding(torch.tensor([[0, 3], [2, 2]]), torch.tensor(table).clone(),
                               max_norm=1.0)
    np.testing.assert_allclose(clipped.numpy(), want_clipped.numpy(), rtol=1e-5, atol=1e-6)


def test_ops_take_variables(device):
    x = ef.Variable(ef.ones((1, 4, 4, 2)))
    w = ef.Variable(ef.ones((3, 3, 2, 1)))
    assert ef.nn.conv2d(x, w, padding="SAME").shape == (1, 4, 4, 1)
    assert ef.nn.max_pool2d(x, 2).shape == ef.nn.avg_pool2d(x, 2).shape == (1, 2, 2, 2)
    assert ef.nn.layer_norm(x).shape == x.shape
    assert ef.nn.embedding_lookup(ef.Variable(ef.ones((3, 2))), ef.constant([0, 2])).shape == (2, 2)


# -- errors ----------------------------------------------------------------------------------------

ERRORS = [
    (lambda: ef.nn.conv2d(ef.ones((4, 4, 2)), ef.ones((3, 3, 2, 1))), ef.ShapeError,
     r"^nn\.conv2d: input must be 4-D \(batch, height, width, channels\) for data_format "
     r"'NHWC', got shape \(4, 4, 2\)"),
    (lambda: ef.nn.conv2d(ef.ones((1, 4, 4, 2)), ef.ones((3, 3, 2))), ef.ShapeError,
     r"^nn\.conv2d: filters must be 4-D \(height, width, in_channels / groups, out_channels\), "
     r"got shape \(3, 3, 2\)"),
    (lambda: ef.nn.conv2d(ef.ones((1, 4, 4, 2)), ef.ones((3, 3, 3, 1))), ef.ShapeError,
     r"^nn\.conv2d: the input's 2 channels \(shape \(1, 4, 4, 2\), NHWC\) are not a multiple "
     r"of the filters' 3 input channels \(shape \(3, 3, 3, 1\)\)"),
    (lambda: ef.nn.conv2d(ef.ones((1, 2, 4, 4)), ef.ones((1, 1, 3, 1)), data_format="NCHW",
                          groups=1), ef.ShapeError,
     r"^nn\.conv2d: the input has 2 channels \(shape \(1, 2, 4, 4\), NCHW\) but filters of "
     r"shape \(1, 1, 3, 1\) take 3 per group, 3 for groups=1; filters must have shape "
     r"\(height, width, in_channels / groups, out_channels\)"),
    (lambda: ef.nn.conv2d(ef.ones((1, 4, 4, 3)), ef.ones((1, 1, 1, 4)), groups=2),
     ef.ShapeError, r"^nn\.conv2d: groups=2 does not divide the input's 3 channels \(input "
                    r"shape \(1, 4, 4, 3\), NHWC\); groups must divide both"),
    (lambda: ef.nn.conv2d(ef.ones((1, 4, 4, 2)), ef.ones((1, 1, 1, 3)), groups=2),
     ef.ShapeError, r"^nn\.conv2d: groups=2 does not divide the filters' 3 output channels"),
    (lambda: ef.nn.conv2d(ef.ones((1, 4, 4, 2)), ef.ones((1, 1, 2, 3)), padding="FULL"),
     ef.InvalidArgumentError,
     r"^nn\.conv2d: padding must be 'SAME', 'VALID', or explicit \(before, after\) pairs, one "
     r"per spatial axis \(2\) or one per axis of the input \(4\); got 'FULL'"),
    (lambda: ef.nn.conv2d(ef.ones((1, 2, 2, 1)), ef.ones((3, 3, 1, 1))), ef.ShapeError,
     r"^nn\.conv2d: the filter window spans 3 positions \(3\) along spatial axis 0, more than "
     r"the padded input has \(2 \+ 0 \+ 0\); use padding='SAME' or a smaller window"),
    (lambda: ef.nn.conv2d(ef.ones((1, 4, 4, 1), dtype=ef.int32), ef.ones((1, 1, 1, 1),
                                                                         dtype=ef.int32)),
     ef.DTypeError, r"^nn\.conv2d: expects a real floating-point input, not int32"),
    (lambda: ef.nn.conv1d(ef.ones((1, 4, 4, 1)), ef.ones((2, 1, 1))), ef.ShapeError,
     r"^nn\.conv1d: input must be 3-D \(batch, width, channels\)"),
    (lambda: ef.nn.conv1d(ef.ones((1, 4, 1)), ef.ones((2, 1, 1)), data_format="NHWC"),
     ef.InvalidArgumentError, r"^nn\.conv1d: data_format must be 'NWC' .* or 'NCW'"),
    (lambda: ef.nn.max_pool2d(ef.ones((4, 4, 2)), 2), ef.ShapeError,
     r"^nn\.max_pool2d: input must be 4-D"),
    (lambda: ef.nn.avg_pool2d(ef.ones((1, 4, 4, 2)), 2, padding="FULL"),
     ef.InvalidArgumentError, r"^nn\.avg_pool2d: padding must be 'SAME', 'VALID'"),
    (lambda: ef.nn.max_pool2d(ef.ones((1, 4, 4, 2)), 2, strides=[2, 2, 2]),
     ef.InvalidArgumentError, r"^nn\.max_pool2d: strides must be an int, 2 ints \(one per "
                              r"spatial axis\) or 4 \(one per axis of the input\), got \[2, 2, 2\]"),
    (lambda: ef.nn.avg_pool2d(ef.ones((1, 4, 4, 2)), 2, padding=[(2, 0), (0, 0)]),
     ef.ShapeError, r"^nn\.avg_pool2d: padding \(2, 0\) along spatial axis 0 must be smaller "
                    r"than the window \(2\)"),
    (lambda: ef.nn.layer_norm(ef.ones((2, 3)), scale=ef.ones(4)), ef.ShapeError,
     r"^nn\.layer_norm: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    (lambda: ef.nn.conv2d([[1.0]], ef.ones((1, 1, 1, 1))), ef.ArgumentTypeError,
     r"^nn\.conv2d: expected a Tensor, got builtins\.list; wrap it with ef\.asarray"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_name_the_op_the_shapes_and_what_is_valid(device, i):
    call, cls, match = ERRORS[i]
    with pytest.raises(cls, match=match):
        call()


def test_kernels_never_write_their_inputs(device):
    rng = np.random.default_rng(8)
    x, _ = host(rng, (2, 5, 5, 2))
    w, _ = host(rng, (3, 3, 2, 2))
    tx, tw = ef.asarray(x.copy()), ef.asarray(w.copy())
    with ef.GradientTape() as tape:
        tape.watch(tx)
        y = ef.nn.avg_pool2d(ef.nn.max_pool2d(ef.nn.conv2d(tx, tw, padding="SAME"), 2, 1), 2)
    tape.gradient(ef.sum(y), tx)
    np.testing.assert_array_equal(reference(tx), x.astype(np.float64))
    np.testing.assert_array_equal(reference(tw), w.astype(np.float64))
