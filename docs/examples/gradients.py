"""Gradients in one page: tapes, ef.grad to any order, custom gradients, a training loop,
where() without NaN, and why a gradient is None.

Run it with `make demo` (after eager_basics.py) or `.venv/bin/python docs/examples/gradients.py`.
See docs/gradients.md for the whole story.
"""

import warnings

import numpy as np

import eagerflow_core as ef

# -- issue #3's examples ---------------------------------------------------------------------
w = ef.Variable(ef.ones((3, 2)))
x = ef.constant([[1.0, 2.0, 3.0]])
with ef.GradientTape() as tape:                      # trainable Variables are watched when read
    loss = ef.sum(ef.tanh(x @ w))
dw, = tape.gradient(loss, [w])
print("dw shape:", dw.shape)


def f(x):
    return x ** 3


d4 = ef.grad(ef.grad(ef.grad(ef.grad(ef.tanh))))     # the 4th derivative of tanh
print("d4 tanh at 0.5:", round(float(d4(ef.constant(0.5))), 4))
print("grad x**3 at 2:", ef.grad(f)(ef.constant(2.0)))  # 12.0

with ef.GradientTape() as outer:                     # nested tapes: second derivative
    outer.watch(x)
    with ef.GradientTape() as inner:
        inner.watch(x)
        y = ef.sum(x ** 3)
    g = inner.gradient(y, x)                         # 3x**2, recorded by outer
h = outer.gradient(g, x)                             # 6x
print("6x:", h)


@ef.custom_gradient
def log1pexp(x):
    e = ef.exp(x)

    def grad(dy):
        return dy * (1 - 1 / (1 + e))
    return ef.log(1 + e), grad


with warnings.catch_warnings():                      # exp(100.0) overflows float32, on purpose
    warnings.simplefilter("ignore", RuntimeWarning)
    print("log1pexp'(100):", ef.grad(log1pexp)(ef.constant(100.0)))                   # 1.0
    print("naive        :", ef.grad(lambda x: ef.log(1 + ef.exp(x)))(ef.constant(100.0)))  # nan

# -- a tiny model trained with Variables -------------------------------------------------------
# Fit y = sin(3x) on [-1, 1] with a 1-16-1 tanh network and plain gradient descent.
rng = np.random.default_rng(0)
xs = ef.constant(np.linspace(-1.0, 1.0, 64).reshape(64, 1))
ys = ef.sin(3 * xs)
params = {
    "w1": ef.Variable(rng.normal(0.0, 1.0, (1, 16)), dtype=ef.float32, name="w1"),
    "b1": ef.Variable(ef.zeros(16), name="b1"),
    "w2": ef.Variable(rng.normal(0.0, 0.25, (16, 1)), dtype=ef.float32, name="w2"),
    "b2": ef.Variable(ef.zeros(1), name="b2"),
}


def model(x):
    return ef.tanh(x @ params["w1"] + params["b1"]) @ params["w2"] + params["b2"]


losses = []
for step in range(501):
    with ef.GradientTape() as tape:
        loss = ef.mean((model(xs) - ys) ** 2)
    grads = tape.gradient(loss, params)              # a dict in, a dict out
    for name, var in params.items():
        var.assign_sub(0.3 * grads[name])            # in place: nothing else holds the old value
    losses.append(float(loss))
    if step % 100 == 0:
        print(f"step {step:3d}  loss {float(loss):.4f}")
print("loss went down:", losses[-1] < losses[0] / 10)

# -- where() without NaN -----------------------------------------------------------------------
# sqrt's derivative is inf at 0 and NaN below it; where() never uses those values, so their
# gradient is exactly 0. PyTorch, JAX and TensorFlow give nan, nan, 0.25 here.
x = ef.constant([-1.0, 0.0, 4.0])
with warnings.catch_warnings():                      # sqrt(-1) in the unselected branch
    warnings.simplefilter("ignore", RuntimeWarning)
    safe_sqrt = ef.grad(lambda x: ef.sum(ef.where(x > 0, ef.sqrt(x), 0.0)))(x)
print("grad of where(x > 0, sqrt(x), 0):", safe_sqrt)

# -- why is my gradient None? ------------------------------------------------------------------
a = ef.constant([1.0, 2.0])
with ef.GradientTape() as tape:                      # a is a plain tensor, never watched
    b = ef.sum(a * a)
why = tape.explain(b, a)                             # ask before gradient() frees the tape
print("gradient:", tape.gradient(b, a))
print("because", why)
