"""The math of every fused kernel of ``csrc/``, written with array operations.

Each function computes what its kernel computes, step for step: the same shift of a softmax
(the row max where finite, else 0), float32 accumulation for float16 and bfloat16 inputs, the
same saved statistics (log-sum-exp, mean, reciprocal standard deviation), the bias correction of
Adam folded into the step size. Only the order of additions differs (a kernel adds in a tree), so
results agree to a few units in the last place.

``xp`` is the array namespace (NumPy by default). The unit tests compare the kernels, run on the
CPU emulator, against these functions with NumPy, and these functions against PyTorch and
eagerflow's composites; on a GPU, ``fused.py`` calls them with CuPy for the dtypes the kernels
do not store (float64).

>>> import numpy as np
>>> from eagerflow_cuda import reference as ref
>>> ref.softmax(np.array([[0.0, np.log(3.0)]], np.float32))
array([[0.25, 0.75]], dtype=float32)
>>> loss, lse = ref.sparse_softmax_cross_entropy(np.array([1]), np.array([[0.0, 0.0]], np.float32))
>>> float(loss[0]), float(lse[0])
(0.6931471824645996, 0.6931471824645996)
"""

from __future__ import annotations

import functools
import math

import numpy as np

ACTIVATIONS = ("none", "relu", "gelu_tanh", "gelu_erf", "silu")
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_A = 0.044715


def _quiet(fn):
    """Rows of infinities give NaN and inf on purpose (as the kernels do): no NumPy warnings."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return fn(*args, **kwargs)
    return wrapper


def acc_dtype(dtype):
    """The accumulation dtype of the kernels: float32, or float64 for float64 inputs."""
    return np.float64 if np.dtype(dtype) == np.float64 else np.float32


def _acc(x):
    return x.astype(acc_dtype(x.dtype), copy=False)


# -- softmax and log_softmax -------------------------------------------------------------------

def _shift(a, xp):
    """The row max where finite, else 0 (and 0 for rows with no element), keeping the axis."""
    if a.shape[-1] == 0:
        return xp.zeros(a.shape[:-1] + (1,), dtype=a.dtype)
    m = xp.max(a, axis=-1, keepdims=True)
    return xp.where(xp.isfinite(m), m, a.dtype.type(0))


def _shifted(a, xp):
    return a - _shift(a, xp)


@_quiet
def softmax(x, *, xp=np):
    """Softmax over the last axis: ``exp(x - shift) * (1 / sum(exp(x - shift)))``."""
    z = _shifted(_acc(x), xp)
    e = xp.exp(z)
    return (e * (1 / xp.sum(e, axis=-1, keepdims=True))).astype(x.dtype)


@_quiet
def log_softmax(x, *, xp=np):
    """Log-softmax over the last axis: ``(x - shift) - log(sum(exp(x - shift)))``."""
    z = _shifted(_acc(x), xp)
    return (z - xp.log(xp.sum(xp.exp(z), axis=-1, keepdims=True))).astype(x.dtype)


@_quiet
def softmax_grad(g, y, *, xp=np):
    """The cotangent of softmax's input: ``y * (g - sum(g * y))``, from its output ``y``."""
    gf, yf = _acc(g), _acc(y)
    return (yf * (gf - xp.sum(gf * yf, axis=-1, keepdims=True))).astype(g.dtype)


@_quiet
def log_softmax_grad(g, y, *, xp=np):
    """The cotangent of log_softmax's input: ``g - exp(y) * sum(g)``, from its output ``y``."""
    gf, yf = _acc(g), _acc(y)
    return (gf - xp.exp(yf) * xp.sum(gf, axis=-1, keepdims=True)).astype(g.dtype)


# -- sparse softmax cross-entropy ---------------------------------------------------------------

@_quiet
def sparse_softmax_cross_entropy(labels, logits, *, xp=np):
    """``(loss, lse)``: ``loss = lse - logits[label]`` per row (NaN for a label outside
    ``[0, classes)``), ``lse = logsumexp(logits)`` in the accumulation dtype, for the backward."""
    a = _acc(logits)
    shift = _shift(a, xp)[..., 0]
    lse = shift + xp.log(xp.sum(xp.exp(a - shift[..., None]), axis=-1))
    n = logits.shape[-1]
    labels = labels.astype(np.int64)
    ok = (labels >= 0) & (labels < n)
    if n == 0:  # no class: every label is out of range
        return xp.full(lse.shape, np.nan, dtype=logits.dtype), lse
    picked = xp.take_along_axis(a, xp.where(ok, labels, 0)[..., None], axis=-1)[..., 0]
    loss = xp.where(ok, lse - picked, a.dtype.type(np.nan))
    return loss.astype(logits.dtype), lse


@_quiet
def sparse_softmax_cross_entropy_grad(g, labels, logits, lse, *, xp=np):
    """``g[:, None] * (exp(logits - lse) - one_hot(labels))``: the cotangent of the logits."""
    a = _acc(logits)
    p = xp.exp(a - lse[..., None].astype(a.dtype))
    onehot = xp.arange(logits.shape[-1]) == labels.astype(np.int64)[..., None]
    return (_acc(g)[..., None] * (p - onehot.astype(a.dtype))).astype(logits.dtype)


# -- layer normalisation ------------------------------------------------------------------------

def layer_norm(x, gamma=None, beta=None, epsilon=1e-3, *, xp=np):
    """``(y, mean, rstd)`` over the last axis: ``y = (x - mean) * rstd * gamma + beta`` with
    ``rstd = 1 / sqrt(var + epsilon)`` (biased variance); mean and rstd in the accumulation
    dtype."""
    a = _acc(x)
    mean = xp.mean(a, axis=-1)
    var = xp.mean(xp.square(a - mean[..., None]), axis=-1)
    rstd = 1 / xp.sqrt(var + a.dtype.type(epsilon))
    y = (a - mean[..., None]) * rstd[..., None]
    if gamma is not None:
        y = y * _acc(gamma)
    if beta is not None:
        y = y + _acc(beta)
    return y.astype(x.dtype), mean, rstd


def layer_norm_grad(g, x, mean, rstd, gamma=None, *, xp=np):
    """``(dx, dgamma, dbeta)``: ``dx = rstd * (dy - mean(dy) - xhat * mean(dy * xhat))`` with
    ``xhat = (x - mean) * rstd`` and ``dy = g * gamma``; ``dgamma = sum(g * xhat)`` and
    ``dbeta = sum(g)`` over every axis but the last."""
    gf = _acc(g)
    xhat = (_acc(x) - mean[..., None]) * rstd[..., None]
    dy = gf if gamma is None else gf * _acc(gamma)
    a = xp.mean(dy, axis=-1, keepdims=True)
    b = xp.mean(dy * xhat, axis=-1, keepdims=True)
    dx = rstd[..., None] * (dy - a - xhat * b)
    lead = tuple(range(x.ndim - 1))
    dgamma = xp.sum(gf * xhat, axis=lead).astype(x.dtype)
    dbeta = xp.sum(gf, axis=lead).astype(x.dtype)
    return dx.astype(x.dtype), dgamma, dbeta


# -- activations and the bias + activation epilogue ---------------------------------------------

def _erf(z, xp):
    if xp is np:
        return np.frompyfunc(math.erf, 1, 1)(z.astype(np.float64)).astype(z.dtype)
    from cupyx.scipy.special import erf  # the GPU fallback path
    return erf(z)


def _sigmoid(z, xp):
    return 1 / (1 + xp.exp(-z))


def act(z, activation, *, xp=np):
    """``activation`` (one of ACTIVATIONS) of ``z``, element-wise, in ``z``'s dtype."""
    if activation == "relu":
        return xp.where((z > 0) | xp.isnan(z), z, z.dtype.type(0))
    if activation == "gelu_tanh":
        return 0.5 * z * (1 + xp.tanh(_SQRT_2_OVER_PI * (z + _GELU_A * z * z * z)))
    if activation == "gelu_erf":
        return 0.5 * z * (1 + _erf(z * math.sqrt(0.5), xp))
    if activation == "silu":
        return z * _sigmoid(z, xp)
    return z


def act_grad(z, activation, *, xp=np):
    """``d activation(z) / dz``; relu's is 0 at 0."""
    if activation == "relu":
        return (z > 0).astype(z.dtype)
    if activation == "gelu_tanh":
        t = xp.tanh(_SQRT_2_OVER_PI * (z + _GELU_A * z * z * z))
        return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * _GELU_A * z * z)
    if activation == "gelu_erf":
        return (0.5 * (1 + _erf(z * math.sqrt(0.5), xp))
                + z * (1 / math.sqrt(2 * math.pi)) * xp.exp(-0.5 * z * z))
    if activation == "silu":
        s = _sigmoid(z, xp)
        return s * (1 + z * (1 - s))
    return xp.ones_like(z)


def bias_act(x, bias=None, activation="none", *, xp=np):
    """``activation(x + bias)``, the bias broadcast over the last axis (None: no bias)."""
    z = _acc(x) if bias is None else _acc(x) + _acc(bias)
    return act(z, activation, xp=xp).astype(x.dtype)


def bias_act_grad(g, x, bias=None, activation="none", *, xp=np):
    """``(dz, dbias)``: ``dz = g * act'(x + bias)`` rounded to x's dtype, and ``dbias`` the sum
    of that rounded ``dz`` over every axis but the last (None without a bias)."""
    z = _acc(x) if bias is None else _acc(x) + _acc(bias)
    dz = (_acc(g) * act_grad(z, activation, xp=xp)).astype(x.dtype)
    if bias is None:
        return dz, None
    dbias = xp.sum(_acc(dz), axis=tuple(range(x.ndim - 1))).astype(x.dtype)
    return dz, dbias


# -- Adam / AdamW -------------------------------------------------------------------------------

def adam_hyper(lr, beta_1, beta_2, epsilon, step, weight_decay=0.0):
    """The update's five scalars, computed in double: ``alpha = lr * sqrt(1 - beta_2**t)
    / (1 - beta_1**t)``, ``c1 = 1 - beta_1``, ``c2 = 1 - beta_2``, ``eps``, ``decay = lr * wd``.
    The kernels take them rounded to float32; :func:`adam` rounds them to its compute dtype."""
    if step < 1:
        raise ValueError(f"adam: step counts from 1 (the first update), got {step}")
    lr, b1, b2 = float(lr), float(beta_1), float(beta_2)
    alpha = lr * math.sqrt(1.0 - b2 ** step) / (1.0 - b1 ** step)
    return alpha, 1.0 - b1, 1.0 - b2, float(epsilon), lr * float(weight_decay)


def adam(param, grad, m, v, alpha, c1, c2, eps, decay, *, xp=np):
    """One Adam/AdamW step in float32 (float64 for float64 parameters); returns the new
    ``(param, m, v)`` in their own dtypes and leaves the inputs alone."""
    t = acc_dtype(param.dtype)
    alpha, c1, c2, eps, decay = (t(s) for s in (alpha, c1, c2, eps, decay))
    p, g, mf, vf = (a.astype(t) for a in (param, grad, m, v))
    p = p - p * decay
    mf = mf + (g - mf) * c1
    vf = vf + (g * g - vf) * c2
    p = p - mf * alpha / (xp.sqrt(vf) + eps)
    return p.astype(param.dtype), mf.astype(m.dtype), vf.astype(v.dtype)
