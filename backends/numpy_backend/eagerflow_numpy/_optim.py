"""Fused optimizer updates: one kernel per optimizer family, writing in place.

``ef.optimizers`` calls these through ``eagerflow_core.autodiff.variable.update_in_place``,
which passes the Variables' buffers (that nothing else can see) first, then the gradient, then
the hyperparameters as keywords, and adopts what the kernel returns: one array per buffer, in
order. A backend without a kernel gets the same update computed with eagerflow ops (the
optimizers' functional path), so a kernel is an optimisation, never a requirement; it must give
the same values as that path (the tests compare the two trajectories, bit for bit on NumPy).

The signatures, for backend authors. ``param`` and every slot have the parameter's shape and
dtype; ``grad`` too. Optional slots are present exactly when the flag in brackets says so, and
``grad`` is always last. All hyperparameters are Python floats / bools.

``optim.sgd(param, [momentum_buf: momentum > 0], grad, *, lr, momentum, nesterov, decay)``
    Keras' SGD: ``param *= 1 - decay``; then without momentum ``param -= grad * lr``; with it
    ``buf = buf * momentum - grad * lr`` and ``param += buf`` (or, Nesterov,
    ``param = (param - grad * lr) + buf * momentum``).
``optim.adam(param, m, v, [v_hat: amsgrad], grad, *, lr, beta_1, beta_2, epsilon, decay, amsgrad)``
    Keras' Adam, bias correction folded into ``lr`` by the caller
    (``lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``); AdamW passes ``decay = lr * weight_decay``:
    ``param *= 1 - decay``; ``m += (grad - m) * (1 - beta_1)``;
    ``v += (grad**2 - v) * (1 - beta_2)``; (``v_hat = max(v_hat, v)``, used instead of ``v``);
    ``param -= m / (sqrt(v) + epsilon) * lr``.
``optim.rmsprop(param, v, [mom: momentum > 0], [mg: centered], grad, *, lr, rho, momentum,
epsilon, centered, decay)``
    Keras' RMSprop: ``param *= 1 - decay``; ``v = v * rho + grad**2 * (1 - rho)``; centered:
    ``mg = mg * rho + grad * (1 - rho)`` and ``den = (v - mg**2) + epsilon``, else
    ``den = v + epsilon``; ``inc = grad / sqrt(den) * lr``; with momentum
    ``mom = mom * momentum + inc`` and ``param -= mom``, else ``param -= inc``.
``optim.adagrad(param, acc, grad, *, lr, epsilon, decay)``
    Keras' Adagrad: ``param *= 1 - decay``; ``acc += grad**2``;
    ``param -= grad / sqrt(acc + epsilon) * lr``.

Each kernel needs at most one temporary the size of the parameter. It comes from a scratch
buffer kept per thread and dtype (threads update different Variables at once), grown to the
largest parameter seen and viewed at each one's shape: after the first step, an update
allocates no array memory.
"""

from __future__ import annotations

import threading

import numpy as np

_tls = threading.local()


def _scratch(like: np.ndarray) -> np.ndarray:
    """A temporary of ``like``'s shape and dtype, reused across calls on this thread."""
    bufs = _tls.__dict__.setdefault("bufs", {})
    buf = bufs.get(like.dtype)
    if buf is None or buf.size < like.size:
        buf = bufs[like.dtype] = np.empty(like.size, like.dtype)
    return buf[:like.size].reshape(like.shape)


def release_scratch() -> None:
    """Free this thread's scratch buffers (they are made again on the next update)."""
    _tls.__dict__.pop("bufs", None)


def _decay(param, decay):
    if decay:
        np.multiply(param, 1.0 - decay, out=param)


def sgd(param, *rest, lr, momentum=0.0, nesterov=False, decay=0.0):
    grad = rest[-1]
    _decay(param, decay)
    t = _scratch(param)
    np.multiply(grad, lr, out=t)
    if momentum <= 0:
        np.subtract(param, t, out=param)
        return param
    buf = rest[0]
    np.multiply(buf, momentum, out=buf)
    np.subtract(buf, t, out=buf)
    if nesterov:
        np.subtract(param, t, out=param)
        np.multiply(buf, momentum, out=t)
        np.add(param, t, out=param)
    else:
        np.add(param, buf, out=param)
    return param, buf


def adam(param, m, v, *rest, lr, beta_1, beta_2, epsilon, decay=0.0, amsgrad=False):
    grad = rest[-1]
    _decay(param, decay)
    t = _scratch(param)
    np.subtract(grad, m, out=t)
    np.multiply(t, 1.0 - beta_1, out=t)
    np.add(m, t, out=m)
    np.square(grad, out=t)
    np.subtract(t, v, out=t)
    np.multiply(t, 1.0 - beta_2, out=t)
    np.add(v, t, out=v)
    second = v
    if amsgrad:
        second = rest[0]
        np.maximum(second, v, out=second)
    np.sqrt(second, out=t)
    np.add(t, epsilon, out=t)
    np.divide(m, t, out=t)
    np.multiply(t, lr, out=t)
    np.subtract(param, t, out=param)
    return (param, m, v, second) if amsgrad else (param, m, v)


def rmsprop(param, v, *rest, lr, rho, momentum=0.0, epsilon, centered=False, decay=0.0):
    grad = rest[-1]
    mom = rest[0] if momentum > 0 else None
    mg = rest[-2] if centered else None
    _decay(param, decay)
    t = _scratch(param)
    np.multiply(v, rho, out=v)
    np.square(grad, out=t)
    np.multiply(t, 1.0 - rho, out=t)
    np.add(v, t, out=v)
    if centered:
        np.multiply(mg, rho, out=mg)
        np.multiply(grad, 1.0 - rho, out=t)
        np.add(mg, t, out=mg)
        np.square(mg, out=t)
        np.subtract(v, t, out=t)
        np.add(t, epsilon, out=t)
    else:
        np.add(v, epsilon, out=t)
    np.sqrt(t, out=t)
    np.divide(grad, t, out=t)
    np.multiply(t, lr, out=t)
    if mom is not None:
        np.multiply(mom, momentum, out=mom)
        np.add(mom, t, out=mom)
        np.subtract(param, mom, out=param)
    else:
        np.subtract(param, t, out=param)
    return (param, v) + tuple(x for x in (mom, mg) if x is not None)


def adagrad(param, acc, grad, *, lr, epsilon, decay=0.0):
    _decay(param, decay)
    t = _scratch(param)
    np.square(grad, out=t)
    np.add(acc, t, out=acc)
    np.add(acc, epsilon, out=t)
    np.sqrt(t, out=t)
    np.divide(grad, t, out=t)
    np.multiply(t, lr, out=t)
    np.subtract(param, t, out=param)
    return param, acc


KERNELS = {"optim.sgd": sgd, "optim.adam": adam, "optim.rmsprop": rmsprop,
           "optim.adagrad": adagrad}
