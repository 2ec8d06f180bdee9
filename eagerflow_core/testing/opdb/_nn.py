"""Convolutions and pooling (the ``nn`` family of kernel ops) and their gradient ops, with
conv1d and depthwise_conv2d (conv2d underneath).

The references are written for clarity, independently of any kernel: a convolution is a sum
over the kernel taps of one ``einsum`` each on the explicitly padded input, its transposes add
the same terms back, and the "SAME" pads are computed from TensorFlow's formula again. Values
are drawn on the reductions' grid (multiples of 1/4; whole numbers for bfloat16), so every
product and partial sum is exact and any summation order gives the reference's answer. The
gradient samples of max pooling use distinct values (no ties, which would make the argmax and
its gradient ill-defined). Configurations mix NHWC and NCHW, strides, dilations, groups, and
SAME / VALID / explicit padding, in all of TensorFlow's spellings.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from hypothesis import strategies as st

import eagerflow_core as ef

from ..._dispatch import call
from ..._dtypes import float64
from ...ops import nn_conv, nn_pool
from ._base import ErrorCase, OpInfo, Sample, arrays, kinds, spread
from ._reductions import grid

FLOATS = kinds("f")
_F = np.float32


# -- references ------------------------------------------------------------------------------------

def _nhwc(x, fmt):
    return x if fmt in ("NHWC", None) else np.moveaxis(x, 1, -1)


def _back(y, fmt):
    return y if fmt in ("NHWC", None) else np.moveaxis(y, -1, 1)


def _spatial(seq, fmt, n=2):
    """The spatial entries of a per-axis spelling: all of them, or those of the input's axes
    (channels last or first) when there is one per axis of the input."""
    seq = list(seq)
    if len(seq) == n + 2:
        return seq[1:-1] if fmt.endswith("C") else seq[2:]
    return seq


def _ints(v, fmt, n=2):
    return tuple(_spatial(v, fmt, n)) if isinstance(v, (list, tuple)) else (v,) * n


def _pads(padding, sizes, ks, ss, ds, fmt):
    if isinstance(padding, str) and padding.upper() == "VALID":
        return [(0, 0)] * len(sizes)
    if isinstance(padding, str):  # "SAME", any case
        out = []
        for n, k, s, d in zip(sizes, ks, ss, ds):
            total = max(0, (-(-n // s) - 1) * s + (k - 1) * d + 1 - n)
            out.append((total // 2, total - total // 2))
        return out
    return [tuple(p) for p in _spatial(padding, fmt, len(sizes))]


def _taps(xp, ks, ss, ds, out):
    """``((i, j), slice of the padded NHWC input that tap (i, j) reads)`` for each tap."""
    for i in range(ks[0]):
        for j in range(ks[1]):
            yield (i, j), (slice(None),
                           slice(i * ds[0], i * ds[0] + (out[0] - 1) * ss[0] + 1, ss[0]),
                           slice(j * ds[1], j * ds[1] + (out[1] - 1) * ss[1] + 1, ss[1]))


def _geometry(xs, ws, strides, padding, dilations, fmt):
    """``(strides, dilations, pads, output size)`` of a convolution of NHWC shape ``xs`` with
    HWIO ``ws``, its arguments spelled for ``fmt``."""
    ss, ds = _ints(strides, fmt), _ints(1 if dilations is None else dilations, fmt)
    pads = _pads(padding, xs[1:3], ws[:2], ss, ds, fmt)
    out = tuple((n + lo + hi - (k - 1) * d - 1) // s + 1
                for n, (lo, hi), k, s, d in zip(xs[1:3], pads, ws[:2], ss, ds))
    return ss, ds, pads, out


def conv_ref(x, w, strides=1, padding="VALID", data_format="NHWC", dilations=None,
             groups=None):
    x = _nhwc(x, data_format)
    ss, ds, pads, out = _geometry(x.shape, w.shape, strides, padding, dilations, data_format)
    g = groups or x.shape[-1] // w.shape[2]
    xp = np.pad(x, [(0, 0), *pads, (0, 0)])
    n, cg, o = x.shape[0], w.shape[2], w.shape[3]
    y = np.zeros((n, *out, g, o // g))
    for (i, j), at in _taps(xp, w.shape[:2], ss, ds, out):
        patch = xp[at].reshape(n, *out, g, cg)
        y += np.einsum("nhwgc,cgo->nhwgo", patch, w[i, j].reshape(cg, g, o // g))
    return _back(y.reshape(n, *out, o), data_format)


def conv_input_ref(dy, w, input_shape, strides=1, padding="VALID", data_format="NHWC",
                   dilations=None, groups=None):
    xs = _nhwc(np.empty(input_shape), data_format).shape
    dy = _nhwc(dy, data_format)
    ss, ds, pads, out = _geometry(xs, w.shape, strides, padding, dilations, data_format)
    g = groups or xs[-1] // w.shape[2]
    cg, o = w.shape[2], w.shape[3]
    dxp = np.zeros((xs[0], xs[1] + sum(pads[0]), xs[2] + sum(pads[1]), g, cg))
    dyg = dy.reshape(*dy.shape[:3], g, o // g)
    for (i, j), at in _taps(dxp, w.shape[:2], ss, ds, out):
        dxp[at] += np.einsum("nhwgo,cgo->nhwgc", dyg, w[i, j].reshape(cg, g, o // g))
    dx = dxp.reshape(*dxp.shape[:3], -1)[:, pads[0][0]:pads[0][0] + xs[1],
                                         pads[1][0]:pads[1][0] + xs[2]]
    return _back(dx, data_format)


def conv_filter_ref(x, dy, filter_shape, strides=1, padding="VALID", data_format="NHWC",
                    dilations=None, groups=None):
    x, dy = _nhwc(x, data_format), _nhwc(dy, data_format)
    ss, ds, pads, out = _geometry(x.shape, filter_shape, strides, padding, dilations,
                                  data_format)
    g = groups or x.shape[-1] // filter_shape[2]
    cg, o = filter_shape[2], filter_shape[3]
    xp = np.pad(x, [(0, 0), *pads, (0, 0)])
    dyg = dy.reshape(*dy.shape[:3], g, o // g)
    dw = np.zeros(filter_shape)
    for (i, j), at in _taps(xp, filter_shape[:2], ss, ds, out):
        patch = xp[at].reshape(*dy.shape[:3], g, cg)
        dw[i, j] = np.einsum("nhwgc,nhwgo->cgo", patch, dyg).reshape(cg, o)
    return dw


def _pool_windows(x, ksize, strides, padding, data_format, value):
    """``(windows (taps, N, OH, OW, C), pads, output size)`` of ``x`` padded with ``value``."""
    fmt, x = data_format, _nhwc(x, data_format)
    ks = _ints(ksize, fmt)
    ss = ks if strides is None else _ints(strides, fmt)
    pads = _pads(padding, x.shape[1:3], ks, ss, (1, 1), fmt)
    out = tuple((n + lo + hi - k) // s + 1 for n, (lo, hi), k, s in zip(x.shape[1:3], pads, ks, ss))
    xp = np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=value)
    return np.stack([xp[at] for _, at in _taps(xp, ks, ss, (1, 1), out)]), pads, ks, ss, out


def max_pool_ref(x, ksize, strides=None, padding="VALID", data_format="NHWC"):
    win = _pool_windows(x, ksize, strides, padding, data_format, -np.inf)[0]
    return _back(win.max(axis=0), data_format)


def _scatter_taps(x, parts, pads, ks, ss, out, data_format):
    """Each tap's ``parts[t]`` added back at the input positions it read (then unpadded)."""
    xs = _nhwc(x, data_format).shape
    dxp = np.zeros((xs[0], xs[1] + sum(pads[0]), xs[2] + sum(pads[1]), xs[3]))
    for t, (_, at) in enumerate(_taps(dxp, ks, ss, (1, 1), out)):
        dxp[at] += parts[t]
    return _back(dxp[:, pads[0][0]:pads[0][0] + xs[1], pads[1][0]:pads[1][0] + xs[2]],
                 data_format)


def max_pool_grad_ref(x, dy, ksize, strides=None, padding="VALID", data_format="NHWC"):
    win, pads, ks, ss, out = _pool_windows(x, ksize, strides, padding, data_format, -np.inf)
    first = np.argmax(win, axis=0)  # the first maximum, in row-major tap order
    dy = _nhwc(dy, data_format)
    parts = [np.where(first == t, dy, 0.0) for t in range(len(win))]
    return _scatter_taps(x, parts, pads, ks, ss, out, data_format)


def max_pool_grad_grad_ref(x, h, ksize, strides=None, padding="VALID", data_format="NHWC"):
    win = _pool_windows(x, ksize, strides, padding, data_format, -np.inf)[0]
    hwin = _pool_windows(h, ksize, strides, padding, data_format, 0.0)[0]
    first = np.argmax(win, axis=0)
    return _back(np.take_along_axis(hwin, first[None], axis=0)[0], data_format)


def avg_pool_ref(x, ksize, strides=None, padding="VALID", data_format="NHWC"):
    win = _pool_windows(x, ksize, strides, padding, data_format, 0.0)[0]
    ones = _pool_windows(np.ones_like(x), ksize, strides, padding, data_format, 0.0)[0]
    return _back(win.sum(axis=0) / ones.sum(axis=0), data_format)


def avg_pool_grad_ref(dy, input_shape, ksize, strides=None, padding="VALID",
                      data_format="NHWC"):
    ones = np.ones(input_shape)
    win, pads, ks, ss, out = _pool_windows(ones, ksize, strides, padding, data_format, 0.0)
    share = _nhwc(dy, data_format) / win.sum(axis=0)
    return _scatter_taps(ones, [share] * len(win), pads, ks, ss, out, data_format)


# -- samples -------------------------------------------------------------------------------------

def _values(draw, dtype, shape, grad, label):
    return draw(arrays(float64, shape) if grad else grid(dtype, shape), label=label)


def _spell_ints(draw, values, fmt):
    """One of TensorFlow's spellings of per-axis ints: an int, a tuple, or one per axis."""
    how = draw(st.sampled_from(["int", "tuple", "full"]), label="spelling")
    if how == "int" and len(set(values)) == 1:
        return values[0]
    if how == "full":
        return [1, *values, 1] if fmt.endswith("C") else [1, 1, *values]
    return tuple(values)


def _spell_padding(draw, pairs, fmt):
    if draw(st.booleans(), label="full padding"):
        return [(0, 0), *pairs, (0, 0)] if fmt.endswith("C") else [(0, 0), (0, 0), *pairs]
    return [list(p) for p in pairs]


@st.composite
def conv_config(draw, n=2, grad=False, groups=None):
    """``(x shape, filter shape, kwargs)`` of a valid convolution with ``n`` spatial axes."""
    fmt = draw(st.sampled_from(["NHWC", "NCHW"] if n == 2 else ["NWC", "NCW"]), label="format")
    g = groups or draw(st.integers(1, 2), label="groups")
    cg, og = draw(st.integers(1, 2), label="cg"), draw(st.integers(1, 2), label="og")
    ks = [draw(st.integers(1, 3), label="k") for _ in range(n)]
    ss = [draw(st.integers(1, 2), label="stride") for _ in range(n)]
    ds = [draw(st.integers(1, 2), label="dilation") for _ in range(n)]
    how = draw(st.sampled_from(["SAME", "VALID", "explicit"]), label="padding")
    pairs = [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(n)]
    sizes = []
    for k, d, (lo, hi) in zip(ks, ds, pairs if how == "explicit" else [(0, 0)] * n):
        low = 1 if how == "SAME" else max(1, (k - 1) * d + 1 - lo - hi)
        sizes.append(draw(st.integers(low, low + (2 if grad else 3)), label="size"))
    batch = draw(st.integers(1, 2), label="batch")
    xs = (batch, *sizes, g * cg) if fmt.endswith("C") else (batch, g * cg, *sizes)
    ws = (*ks, cg, g * og)
    padding = (draw(st.sampled_from([how, how.lower()])) if how != "explicit"
               else _spell_padding(draw, pairs, fmt))
    kwargs = {"strides": _spell_ints(draw, ss, fmt), "padding": padding, "data_format": fmt,
              "dilations": _spell_ints(draw, ds, fmt),
              "groups": g if groups or draw(st.booleans(), label="explicit groups") else None}
    return xs, ws, kwargs


@st.composite
def _conv2d_samples(draw, dtype, grad=False):
    xs, ws, kw = draw(conv_config(grad=grad))
    return Sample((_values(draw, dtype, xs, grad, "x"), _values(draw, dtype, ws, grad, "w")), kw)


@st.composite
def _backprop_samples(draw, dtype, grad=False, of="input"):
    """A gradient op's call: ``(dy, w)`` with the input's shape (``of="input"``), or ``(x, dy)``
    with the filters' shape."""
    xs, ws, kw = draw(conv_config(grad=grad))
    dy = _values(draw, dtype, conv_ref(np.zeros(xs), np.zeros(ws), **kw).shape, grad, "dy")
    if of == "input":
        return Sample((dy, _values(draw, dtype, ws, grad, "w")), {"input_shape": xs, **kw})
    return Sample((_values(draw, dtype, xs, grad, "x"), dy), {"filter_shape": ws, **kw})


def _backprop(op, tensors, xs, ws, extra, kw):
    """The internal op, its params resolved as conv2d's gradient rule gets them."""
    p = nn_conv.conv_params(op.name, tuple(xs), tuple(ws), kw["strides"], kw["padding"],
                            kw["data_format"], kw["dilations"], kw["groups"], 2)
    return call(op, tensors, {**extra, **p})


def _backprop_input(dy, w, input_shape, **kw):
    return _backprop(nn_conv.conv2d_backprop_input_op, (dy, w), input_shape, w.shape,
                     {"input_shape": tuple(input_shape)}, kw)


def _backprop_filter(x, dy, filter_shape, **kw):
    return _backprop(nn_conv.conv2d_backprop_filter_op, (x, dy), x.shape, filter_shape,
                     {"filter_shape": tuple(filter_shape)}, kw)


@st.composite
def _conv1d_samples(draw, dtype, grad=False):
    xs, ws, kw = draw(conv_config(n=1, grad=grad))
    kw["stride"] = kw.pop("strides")
    return Sample((_values(draw, dtype, xs, grad, "x"), _values(draw, dtype, ws, grad, "w")), kw)


def conv1d_ref(x, w, stride=1, padding="VALID", data_format="NWC", dilations=None,
               groups=None):
    """conv_ref over a height of 1."""
    fmt = data_format
    height, fmt2 = (1, "NHWC") if fmt == "NWC" else (2, "NCHW")
    pad2 = padding if isinstance(padding, str) else [(0, 0), *_spatial(padding, fmt, 1)]
    y = conv_ref(np.expand_dims(x, height), w[None], (1, *_ints(stride, fmt, 1)), pad2, fmt2,
                 (1, *_ints(1 if dilations is None else dilations, fmt, 1)), groups)
    return np.squeeze(y, height)


@st.composite
def _depthwise_samples(draw, dtype, grad=False):
    xs, ws, kw = draw(conv_config(grad=grad, groups=1))
    channels = xs[-1] if kw["data_format"] == "NHWC" else xs[1]
    ws = (*ws[:2], channels, draw(st.integers(1, 2), label="multiplier"))
    del kw["groups"]
    return Sample((_values(draw, dtype, xs, grad, "x"), _values(draw, dtype, ws, grad, "w")), kw)


def depthwise_ref(x, w, strides=1, padding="VALID", data_format=None, dilations=None):
    kh, kw, c, m = w.shape
    return conv_ref(x, w.reshape(kh, kw, 1, c * m), strides, padding, data_format or "NHWC",
                    dilations, groups=c)


# pooling ------------------------------------------------------------------------------------------

@st.composite
def pool_config(draw, grad=False):
    """``(x shape, kwargs)`` of a valid 2-D pooling."""
    fmt = draw(st.sampled_from(["NHWC", "NCHW"]), label="format")
    ks = [draw(st.integers(1, 3), label="k") for _ in range(2)]
    ss = [draw(st.integers(1, 3), label="stride") for _ in range(2)]
    how = draw(st.sampled_from(["SAME", "VALID", "explicit"]), label="padding")
    pairs = [(draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1))) for k in ks]
    sizes = []
    for k, (lo, hi) in zip(ks, pairs if how == "explicit" else [(0, 0)] * 2):
        low = 1 if how == "SAME" else max(1, k - lo - hi)
        sizes.append(draw(st.integers(low, low + (2 if grad else 3)), label="size"))
    batch, c = draw(st.integers(1, 2), label="batch"), draw(st.integers(1, 3), label="channels")
    xs = (batch, *sizes, c) if fmt == "NHWC" else (batch, c, *sizes)
    strides = None if draw(st.booleans(), label="default strides") else _spell_ints(draw, ss, fmt)
    padding = how if how != "explicit" else _spell_padding(draw, pairs, fmt)
    return xs, {"ksize": _spell_ints(draw, ks, fmt), "strides": strides, "padding": padding,
                "data_format": fmt}


def _pool_x(draw, dtype, xs, grad, distinct):
    if grad and distinct:  # max pooling: no ties, no two values within a check's step
        return draw(spread(float64, xs), label="x")
    return _values(draw, dtype, xs, grad, "x")


@st.composite
def _pool_samples(draw, dtype, grad=False, distinct=False):
    xs, kw = draw(pool_config(grad=grad))
    return Sample((_pool_x(draw, dtype, xs, grad, distinct),), kw)


@st.composite
def _max_grad_samples(draw, dtype, grad=False, second=False):
    xs, kw = draw(pool_config(grad=grad))
    other = xs if second else max_pool_ref(np.zeros(xs), **kw).shape
    return Sample((_pool_x(draw, dtype, xs, grad, True),
                   _values(draw, dtype, other, grad, "h" if second else "dy")), kw)


@st.composite
def _avg_grad_samples(draw, dtype, grad=False):
    xs, kw = draw(pool_config(grad=grad))
    ys = avg_pool_ref(np.ones(xs), **kw).shape
    return Sample((_values(draw, dtype, ys, grad, "dy"),), {"input_shape": xs, **kw})


def _pool_op(op, who):
    def fn(*tensors, input_shape=None, ksize, strides=None, padding="VALID", data_format="NHWC"):
        shape = tuple(input_shape) if input_shape is not None else tensors[0].shape
        p = nn_pool.pool_params(who, shape, ksize, strides, padding, data_format)
        return call(op, tensors, p if input_shape is None else {"input_shape": shape, **p})
    fn.__name__ = who
    return fn


# -- the database ----------------------------------------------------------------------------------

_X4, _W4 = np.ones((1, 3, 3, 2), _F), np.ones((1, 1, 2, 4), _F)
_CONV_ERRORS = (
    ErrorCase((np.ones((3, 3, 2), _F), _W4), {}, "ShapeError",
              r"^nn\.conv2d: input must be 4-D \(batch, height, width, channels\)"),
    ErrorCase((_X4, np.ones((1, 2, 4), _F)), {}, "ShapeError", r"^nn\.conv2d: filters must be 4-D"),
    ErrorCase((_X4, np.ones((1, 1, 3, 4), _F)), {}, "ShapeError",
              r"^nn\.conv2d: the input's 2 channels .* not a multiple of the filters' 3"),
    ErrorCase((_X4, np.ones((1, 1, 1, 4), _F)), {"groups": 1}, "ShapeError",
              r"^nn\.conv2d: the input has 2 channels .* take 1 per group"),
    ErrorCase((np.ones((1, 3, 3, 3), _F), np.ones((1, 1, 1, 4), _F)), {"groups": 2}, "ShapeError",
              r"^nn\.conv2d: groups=2 does not divide the input's 3 channels"),
    ErrorCase((_X4, np.ones((1, 1, 1, 3), _F)), {"groups": 2}, "ShapeError",
              r"groups=2 does not divide the filters' 3 output channels"),
    ErrorCase((_X4, _W4), {"padding": "FULL"}, "InvalidArgumentError",
              r"^nn\.conv2d: padding must be 'SAME', 'VALID', or explicit"),
    ErrorCase((_X4, _W4), {"padding": [(1, 1), (0, 0), (0, 0), (0, 0)]}, "InvalidArgumentError",
              r"pads the batch or channel axis"),
    ErrorCase((_X4, np.ones((4, 1, 2, 4), _F)), {}, "ShapeError",
              r"^nn\.conv2d: the filter window spans 4 positions .* \(3 \+ 0 \+ 0\)"),
    ErrorCase((_X4, _W4), {"strides": 0}, "InvalidArgumentError", r"strides must be positive"),
    ErrorCase((_X4, _W4), {"data_format": "NWHC"}, "InvalidArgumentError", r"data_format must"),
    ErrorCase((np.ones((1, 3, 3, 2), np.int32), np.ones((1, 1, 2, 4), np.int32)), {},
              "DTypeError", r"^nn\.conv2d: expects a real floating-point input, not int32"),
)
_POOL_ERRORS = (
    ErrorCase((np.ones((3, 3, 2), _F), 2), {}, "ShapeError",
              r"^nn\.{op}: input must be 4-D \(batch, height, width, channels\)"),
    ErrorCase((_X4, 2), {"padding": "same "}, "InvalidArgumentError", r"padding must be 'SAME'"),
    ErrorCase((_X4, 2), {"padding": [(2, 0), (0, 0)]}, "ShapeError",
              r"^nn\.{op}: padding \(2, 0\) along spatial axis 0 must be smaller than the window"),
    ErrorCase((_X4, 4), {}, "ShapeError", r"^nn\.{op}: the pooling window spans 4 positions"),
    ErrorCase((_X4, [1, 2, 2, 2]), {}, "InvalidArgumentError", r"moves along the batch or chan"),
    ErrorCase((np.ones((1, 3, 3, 2), np.int64), 2), {}, "DTypeError",
              r"^nn\.{op}: expects a real floating-point input, not int64"),
)


def _pool_errors(op):
    return tuple(ErrorCase(c.args, c.kwargs, c.exc_type_name, c.match.replace("{op}", op))
                 for c in _POOL_ERRORS)


def _info(name, fn, ref, samples, errors=(), note="", kernels=()):
    return OpInfo(name=name, fn=fn, ref=ref, dtypes=FLOATS, samples=samples, kernels=kernels,
                  differentiable=True, grad_samples=partial(samples, grad=True), errors=errors,
                  note=note)


_INTERNAL = "internal (no public function): a gradient rule's op, called as the rule calls it"

INFOS = [
    _info("nn.conv2d", ef.nn.conv2d, conv_ref, _conv2d_samples, _CONV_ERRORS),
    _info("nn.conv2d_backprop_input", _backprop_input, conv_input_ref,
          partial(_backprop_samples, of="input"), note=_INTERNAL),
    _info("nn.conv2d_backprop_filter", _backprop_filter, conv_filter_ref,
          partial(_backprop_samples, of="filter"), note=_INTERNAL),
    _info("nn.conv1d", ef.nn.conv1d, conv1d_ref, _conv1d_samples,
          (ErrorCase((np.ones((1, 4, 4, 1), _F), np.ones((2, 1, 1), _F)), {}, "ShapeError",
                     r"^nn\.conv1d: input must be 3-D \(batch, width, channels\)"),),
          note="conv2d over a height of 1: no kernel of its own", kernels=("nn.conv2d",)),
    _info("nn.depthwise_conv2d", ef.nn.depthwise_conv2d, depthwise_ref, _depthwise_samples,
          (ErrorCase((_X4, np.ones((1, 1, 3, 2), _F)), {}, "ShapeError",
                     r"^nn\.depthwise_conv2d: filter must have shape .* in_channels = 2"),),
          note="conv2d with one group per channel: no kernel of its own",
          kernels=("nn.conv2d",)),
    _info("nn.max_pool2d", ef.nn.max_pool2d, max_pool_ref,
          partial(_pool_samples, distinct=True), _pool_errors("max_pool2d")),
    _info("nn.max_pool2d_grad", _pool_op(nn_pool.max_pool2d_grad_op, "nn.max_pool2d_grad"),
          max_pool_grad_ref, _max_grad_samples, note=_INTERNAL),
    _info("nn.max_pool2d_grad_grad", _pool_op(nn_pool.max_pool2d_grad_grad_op,
                                              "nn.max_pool2d_grad_grad"),
          max_pool_grad_grad_ref, partial(_max_grad_samples, second=True), note=_INTERNAL),
    _info("nn.avg_pool2d", ef.nn.avg_pool2d, avg_pool_ref, _pool_samples,
          _pool_errors("avg_pool2d")),
    _info("nn.avg_pool2d_grad", _pool_op(nn_pool.avg_pool2d_grad_op, "nn.avg_pool2d_grad"),
          avg_pool_grad_ref, _avg_grad_samples, note=_INTERNAL),
]
