"""Pooling with TensorFlow's ``tf.nn`` API: max_pool2d and avg_pool2d.

Both are kernel ops over the windows of a 2-D input (NHWC or NCHW). As for convolutions, the
public functions resolve "SAME"/"VALID" into explicit pads before a kernel runs. Padded
positions never count: max pooling pads with -inf, and average pooling divides each window's
sum by the number of real input positions it covers (TensorFlow's SAME average).

Their gradients are kernel ops too, closed under differentiation as TensorFlow's are:
``nn.max_pool2d_grad(x, dy)`` sends each output's gradient to the first maximum of its window
(an argmax scatter), and ``nn.max_pool2d_grad_grad(x, h)`` reads ``h`` at those positions (the
transpose of that scatter); both are linear in their second input and locally constant in
``x``. ``nn.avg_pool2d_grad(dy)`` spreads each gradient over its window, and its own transpose
is the average pool again.
"""

from __future__ import annotations

from .._dispatch import call
from .._errors import ShapeError
from .._registry import defop
from .._tensor import Tensor
from . import _nn_args as A
from . import _rules as R
from ._define import public


def _float_dtype(*dtypes, **params):
    return R.require(dtypes[0], "f", "a real floating-point")


def pool_shape(xs, *, ksize, strides, padding, data_format):
    """The shape of a pooling's result."""
    n = len(ksize)
    A.require_rank(xs, n, "input", data_format)
    for axis, (k, (lo, hi)) in enumerate(zip(ksize, padding)):
        if lo >= k or hi >= k:
            raise ShapeError(f"padding {(lo, hi)} along spatial axis {axis} must be smaller "
                             f"than the window ({k}): a window of padding alone has nothing "
                             f"to pool")
    sizes = A.output_sizes(A.spatial(xs, data_format), ksize, strides, (1,) * n, padding,
                           "pooling")
    return A.with_spatial(xs, sizes, data_format)


def pool_params(who, xs, ksize, strides, padding, data_format):
    """The kernel params of a 2-D pooling, every shape checked."""
    fmt = A.data_format_of(data_format, 2, who)
    ksize = A.window_ints(ksize, 2, "ksize", who, fmt)
    strides = ksize if strides is None else A.window_ints(strides, 2, "strides", who, fmt)
    A.checked(who, A.require_rank, xs, 2, "input", fmt)
    pads = A.resolve_padding(padding, A.spatial(xs, fmt), ksize, strides, (1, 1), who, fmt)
    params = {"ksize": ksize, "strides": strides, "padding": pads, "data_format": fmt}
    A.checked(who, pool_shape, xs, **params)
    return params


def _check_dy(dys, xs, params):
    want = pool_shape(xs, **params)
    if tuple(dys) != want:
        raise ShapeError(f"the output gradient has shape {tuple(dys)}, but pooling an input of "
                         f"shape {tuple(xs)} gives {want}")


def _max_grad_shape(xs, dys, **params):
    _check_dy(dys, xs, params)
    return tuple(xs)


def _max_grad_grad_shape(xs, hs, **params):
    if tuple(hs) != tuple(xs):
        raise ShapeError(f"h has shape {tuple(hs)}; it must have the input's shape {tuple(xs)}")
    return pool_shape(xs, **params)


def _avg_grad_shape(dys, *, input_shape, **params):
    _check_dy(dys, input_shape, params)
    return tuple(input_shape)


def _pool(op, input, ksize, strides, padding, data_format):
    x = A.tensor(input, op.name)
    return call(op, (x,), pool_params(op.name, x.shape, ksize, strides, padding, data_format))


_WINDOW_ARGS = """
    ``input`` is NHWC ``(batch, height, width, channels)``, or NCHW with
    ``data_format="NCHW"``. ``ksize`` and ``strides`` (default: ``ksize``, windows side by
    side): an int, one per spatial axis, or TensorFlow's one per axis of the input
    (``[1, 2, 2, 1]``). ``padding``: ``"VALID"``, ``"SAME"`` (output size ``ceil(n /
    stride)``, TensorFlow's pads), or explicit ``(before, after)`` pairs per spatial axis,
    each smaller than the window."""

# -- max pooling -----------------------------------------------------------------------------------

max_pool2d_op = defop("nn.max_pool2d", family="nn", dtype_rule=_float_dtype,
                      shape_rule=pool_shape)


@public(max_pool2d_op, doc="""The maximum of each window of ``input``, TensorFlow's
    ``tf.nn.max_pool2d``; padded positions never win.
    """ + _WINDOW_ARGS + """

    Its gradient goes to the first maximum of each window (row by row).""", example="""
    >>> import eagerflow_core as ef
    >>> x = ef.reshape(ef.arange(16.0), (1, 4, 4, 1))
    >>> ef.nn.max_pool2d(x, 2)[0, :, :, 0]
    ef.Tensor([[ 5.,  7.],
               [13., 15.]], shape=(2, 2), dtype=float32, device='cpu:0')
    >>> ef.nn.max_pool2d(x, 3, strides=2, padding="SAME")[0, :, :, 0]
    ef.Tensor([[10., 11.],
               [14., 15.]], shape=(2, 2), dtype=float32, device='cpu:0')
    """)
def max_pool2d(input, ksize, strides=None, padding="VALID", data_format="NHWC") -> Tensor:
    return _pool(max_pool2d_op, input, ksize, strides, padding, data_format)


max_pool2d_grad_op = defop(
    "nn.max_pool2d_grad", family="nn", nin=2, dtype_rule=_float_dtype, shape_rule=_max_grad_shape,
    promote=True, internal=True,
    doc="The gradient of nn.max_pool2d: dy scattered to the first maximum of each window of x.")
max_pool2d_grad_grad_op = defop(
    "nn.max_pool2d_grad_grad", family="nn", nin=2, dtype_rule=_float_dtype,
    shape_rule=_max_grad_grad_shape,
    promote=True, internal=True,
    doc="The gradient of nn.max_pool2d_grad: h read at the first maximum of each window of x.")

# -- average pooling -------------------------------------------------------------------------------

avg_pool2d_op = defop("nn.avg_pool2d", family="nn", dtype_rule=_float_dtype,
                      shape_rule=pool_shape)


@public(avg_pool2d_op, doc="""The mean of each window of ``input``, TensorFlow's
    ``tf.nn.avg_pool2d``; padded positions are not counted.
    """ + _WINDOW_ARGS, example="""
    >>> import eagerflow_core as ef
    >>> x = ef.reshape(ef.arange(9.0), (1, 3, 3, 1))
    >>> ef.nn.avg_pool2d(x, 2, strides=2, padding="SAME")[0, :, :, 0]
    ef.Tensor([[2. , 3.5],
               [6.5, 8. ]], shape=(2, 2), dtype=float32, device='cpu:0')
    """)
def avg_pool2d(input, ksize, strides=None, padding="VALID", data_format="NHWC") -> Tensor:
    return _pool(avg_pool2d_op, input, ksize, strides, padding, data_format)


avg_pool2d_grad_op = defop(
    "nn.avg_pool2d_grad", family="nn", dtype_rule=_float_dtype, shape_rule=_avg_grad_shape,
    internal=True,
    doc="The gradient of nn.avg_pool2d: each dy divided by its window's count, added back over "
        "the window.")

__all__ = ["avg_pool2d", "max_pool2d"]


# -- gradients -------------------------------------------------------------------------------------
# Max pooling is locally constant in which position wins, so the gradient ops have no rule for x
# (zero away from ties); in their second input they are linear, each the transpose of the other.
from .._registry import defjvp, defvjp  # noqa: E402


def _max_pool_vjp(g, ans, x, **p):
    return call(max_pool2d_grad_op, (x, g), p)


def _max_pool_grad_dy_vjp(h, ans, x, dy, **p):
    return call(max_pool2d_grad_grad_op, (x, h), p)


def _max_pool_grad_grad_h_vjp(g, ans, x, h, **p):
    return call(max_pool2d_grad_op, (x, g), p)


def _avg_pool_vjp(g, ans, x, **p):
    return call(avg_pool2d_grad_op, (g,), {"input_shape": x.shape, **p})


def _avg_pool_grad_vjp(h, ans, dy, *, input_shape, **p):
    return call(avg_pool2d_op, (h,), p)


defvjp(max_pool2d_op, _max_pool_vjp)
defvjp(max_pool2d_grad_op, None, _max_pool_grad_dy_vjp)
defvjp(max_pool2d_grad_grad_op, None, _max_pool_grad_grad_h_vjp)
defvjp(avg_pool2d_op, _avg_pool_vjp)
defvjp(avg_pool2d_grad_op, _avg_pool_grad_vjp)

# Forward mode: the tangent of a max pool is the input's tangent at each window's first maximum
# (max_pool2d_grad_grad's gather); the other ops are linear in the input that moves.
defjvp(max_pool2d_op, lambda t, ans, x, **p: call(max_pool2d_grad_grad_op, (x, t), p))
defjvp(max_pool2d_grad_op, None, lambda t, ans, x, dy, **p: call(max_pool2d_grad_op, (x, t), p))
defjvp(max_pool2d_grad_grad_op, None,
       lambda t, ans, x, h, **p: call(max_pool2d_grad_grad_op, (x, t), p))
defjvp(avg_pool2d_op, lambda t, ans, x, **p: call(avg_pool2d_op, (t,), p))
defjvp(avg_pool2d_grad_op, lambda t, ans, dy, **p: call(avg_pool2d_grad_op, (t,), p))
