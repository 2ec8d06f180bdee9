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

Each kernel needs at most one temporary. Large contiguous parameters are updated block by
block (``_BLOCK`` elements at a time), so that the temporary and the block's operands stay in
cache: a step then reads each buffer once and writes it once, instead of streaming the
temporary through memory a dozen times. Every operation is correctly rounded elementwise, so
blocking changes no bit of the result. The temporary comes from a scratch buffer kept per
thread and dtype (threads update different Variables at once), as large as the largest block
seen: after the first step, an update allocates no array memory.
"""

from __future__ import annotations

import threading

import numpy as np

_BLOCK = 1 << 15  # elements: a block of each operand and the temporary fit in a 2 MB L2
_tls = threading.local()


def _scratch(dtype, size: int) -> np.ndarray:
    """A flat temporary of at least ``size`` elements, reused across calls on this thread."""
    bufs = _tls.__dict__.setdefault("bufs", {})
    buf = bufs.get(dtype)
    if buf is None or buf.size < size:
        buf = bufs[dtype] = np.empty(size, dtype)
    return buf


def release_scratch() -> None:
    """Free this thread's scratch buffers (they are made again on the next update)."""
    _tls.__dict__.pop("bufs", None)


def _blocks(*arrays):
    """Matching blocks of ``arrays`` (views), each followed by a temporary of its shape: the
    whole arrays at once when small or not all C-contiguous (a broadcast gradient)."""
    first = arrays[0]
    if first.size <= _BLOCK or not all(a.flags.c_contiguous for a in arrays):
        yield (*arrays, _scratch(first.dtype, first.size)[:first.size].reshape(first.shape))
        return
    flat = [a.reshape(-1) for a in arrays]
    t = _scratch(first.dtype, _BLOCK)
    n = first.size
    for i in range(0, n, _BLOCK):
        j = min(i + _BLOCK, n)
        yield (*(f[i:j] for f in flat), t[:j - i])


def _decay(param, decay):
    if decay:
        np.multiply(param, 1.0 - decay, out=param)


def sgd(param, *rest, lr, momentum=0.0, nesterov=False, decay=0.0):
    for p, *r, t in _blocks(param, *rest):
        _decay(p, decay)
        grad = r[-1]
        np.multiply(grad, lr, out=t)
        if momentum <= 0:
            np.subtract(p, t, out=p)
            continue
        buf = r[0]
        np.multiply(buf, momentum, out=buf)
        np.subtract(buf, t, out=buf)
        if nesterov:
            np.subtract(p, t, out=p)
            np.multiply(buf, momentum, out=t)
            np.add(p, t, out=p)
        else:
            np.add(p, buf, out=p)
    return param if momentum <= 0 else (param, rest[0])


def adam(param, m, v, *rest, lr, beta_1, beta_2, epsilon, decay=0.0, amsgrad=False):
    for p, m_, v_, *r, t in _blocks(param, m, v, *rest):
        _decay(p, decay)
        grad = r[-1]
        np.subtract(grad, m_, out=t)
        np.multiply(t, 1.0 - beta_1, out=t)
        np.add(m_, t, out=m_)
        np.square(grad, out=t)
        np.subtract(t, v_, out=t)
        np.multiply(t, 1.0 - beta_2, out=t)
        np.add(v_, t, out=v_)
        second = v_
        if amsgrad:
            second = r[0]
            np.maximum(second, v_, out=second)
        np.sqrt(second, out=t)
        np.add(t, epsilon, out=t)
        np.divide(m_, t, out=t)
        np.multiply(t, lr, out=t)
        np.subtract(p, t, out=p)
    return (param, m, v, rest[0]) if amsgrad else (param, m, v)


def rmsprop(param, v, *rest, lr, rho, momentum=0.0, epsilon, centered=False, decay=0.0):
    for p, v_, *r, t in _blocks(param, v, *rest):
        grad = r[-1]
        _decay(p, decay)
        np.multiply(v_, rho, out=v_)
        np.square(grad, out=t)
        np.multiply(t, 1.0 - rho, out=t)
        np.add(v_, t, out=v_)
        if centered:
            mg = r[-2]
            np.multiply(mg, rho, out=mg)
            np.multiply(grad, 1.0 - rho, out=t)
            np.add(mg, t, out=mg)
            np.square(mg, out=t)
            np.subtract(v_, t, out=t)
            np.add(t, epsilon, out=t)
        else:
            np.add(v_, epsilon, out=t)
        np.sqrt(t, out=t)
        np.divide(grad, t, out=t)
        np.multiply(t, lr, out=t)
        if momentum > 0:
            mom = r[0]
            np.multiply(mom, momentum, out=mom)
            np.add(mom, t, out=mom)
            np.subtract(p, mom, out=p)
        else:
            np.subtract(p, t, out=p)
    return (param, v, *rest[:-1])


def adagrad(param, acc, grad, *, lr, epsilon, decay=0.0):
    for p, a, g, t in _blocks(param, acc, grad):
        _decay(p, decay)
        np.square(g, out=t)
        np.add(a, t, out=a)
        np.add(a, epsilon, out=t)
        np.sqrt(t, out=t)
        np.divide(g, t, out=t)
        np.multiply(t, lr, out=t)
        np.subtract(p, t, out=p)
    return param, acc


KERNELS = {"optim.sgd": sgd, "optim.adam": adam, "optim.rmsprop": rmsprop,
           "optim.adagrad": adagrad}
