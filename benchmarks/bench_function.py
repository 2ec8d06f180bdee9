"""What ``ef.function`` buys: traced replay against eager eagerflow, PyTorch eager,
``torch.compile`` and JAX ``jit``, measured in the same run (issue #11's "Must show").

    python benchmarks/bench_function.py [--quick] [--json PATH] [--threads N]
                                        [--cases chain,mlp,cnn,hvp] [--no-compile] [--no-jax]

(a) chain: a chain of 10 elementwise ops on shape (8,) float32 (bench_autodiff's), forward
           and backward: ``sum(chain(x, y))`` and its gradients in x and y.
(b) mlp:   one SGD training step of a 784-512-512-10 ReLU MLP, batch 128, float32, sparse
           softmax cross-entropy, written with plain ``ef.Variable``s, ``ef.matmul``,
           ``ef.nn.relu`` and ``assign_sub`` (PyTorch: autograd and ``sub_``; JAX: a jitted
           ``value_and_grad`` returning the new parameters, which it may overwrite in place).
(c) cnn:   one SGD step of a small CNN on 32x28x28x1 (NHWC): conv 3x3x16 SAME, ReLU, 2x2 max
           pool, conv 3x3x32 SAME, ReLU, 2x2 max pool, dense 10 (needs ``ef.nn.conv2d``).
(d) hvp:   a Hessian-vector product of ``f(x) = sum(tanh(W @ x))``, W 256x256 float32,
           forward over reverse (``ef.jvp(ef.grad(f))``, ``torch.func.jvp(torch.func.grad(f))``,
           ``jax.jvp(jax.grad(f))``); PyTorch eager also as double backward (``autograd.grad``
           with ``create_graph``), and the target is checked against its fastest way.

Targets (issue #11): chain ef.function <= 2x JAX jit; MLP and CNN ef.function faster than
PyTorch eager and <= 1.2x JAX jit; HVP ef.function <= PyTorch (eager).

Times are medians over ``--repeat`` rounds of the mean time per call of a loop lasting at least
``--min-time`` seconds; the implementations take turns within each round. Before timing, each
case checks that every implementation computes the same values (for a training step: the same
loss and the same updated parameters after one step from the same start). Every library runs
with ``--threads`` threads (default 1: like against like).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short run: 3 rounds of ~50 ms loops")
    p.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    p.add_argument("--threads", type=int, default=1, help="threads of every library (default 1)")
    p.add_argument("--repeat", type=int, help="rounds per case (default 7, quick 3)")
    p.add_argument("--min-time", type=float, help="seconds per timing loop (default 0.2)")
    p.add_argument("--cases", default="chain,mlp,cnn,hvp", help="comma-separated cases")
    p.add_argument("--no-compile", action="store_true",
                   help="leave torch.compile out (its first compile takes minutes on 2 cores)")
    p.add_argument("--no-jax", action="store_true", help="leave JAX out")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    args = p.parse_args(argv)
    args.repeat = args.repeat or (3 if args.quick else 7)
    args.min_time = args.min_time or (0.05 if args.quick else 0.2)
    return args


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    # Before NumPy, PyTorch and XLA load their thread pools: they read these once.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)
    if ARGS.threads == 1:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   " --xla_cpu_multi_thread_eigen=false"
                                   " intra_op_parallelism_threads=1").strip()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")

import itertools  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402

import numpy as np  # noqa: E402
from bench_autodiff import (LR, _agree, _chain, chain_data, hvp_data, hvp_reference,  # noqa: E402
                            measure, mlp_data)
from bench_dispatch import _fmt_time, blas_summary, limit_threads  # noqa: E402

import eagerflow_core as ef  # noqa: E402

IMPLS = ("ef eager", "ef.function", "torch eager", "torch.compile", "jax.jit")
CNN_SHAPE = (32, 28, 28, 1)


def per_call(fn):
    """A timing loop of ``fn``; the garbage earlier loops left (eager tapes make reference
    cycles) is collected before the clock starts, so no case pays for another's."""
    def loop(n):
        gc.collect()
        start = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - start) / n
    return loop


# -- libraries -------------------------------------------------------------------------------

def load_torch(args):
    if args.no_torch:
        return None
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(args.threads)
    return torch


def load_jax(args):
    if args.no_jax:
        return None
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_platforms", "cpu")
    return jax


def _host(x):
    if hasattr(x, "detach"):
        return x.detach().numpy()
    if hasattr(x, "numpy") and hasattr(x, "_dtype"):
        return x.numpy()
    return np.asarray(x)


def _ready(x):
    """Wait for an asynchronous (JAX) result; a no-op for the others."""
    block = getattr(x, "block_until_ready", None)
    return block() if block is not None else x


# -- (a) the chain, forward and backward ----------------------------------------------------------

def chain_impls(torch, jax):
    x, y = chain_data()
    out = {}
    chain = _chain(ef)
    xs, ys = ef.asarray(x), ef.asarray(y)

    def ef_step(x, y):
        with ef.GradientTape() as tape:
            tape.watch([x, y])
            loss = ef.sum(chain(x, y))
        gx, gy = tape.gradient(loss, [x, y])
        return loss, gx, gy
    traced = ef.function(ef_step)
    out["ef eager"] = lambda: ef_step(xs, ys)
    out["ef.function"] = lambda: traced(xs, ys)
    if torch is not None:
        tchain = _chain(torch)
        tx, ty = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())

        def t_loss(x, y):
            return tchain(x, y).sum()

        def t_step(loss_fn):
            def step():
                xg, yg = tx.requires_grad_(), ty.requires_grad_()
                loss = loss_fn(xg, yg)
                gx, gy = torch.autograd.grad(loss, (xg, yg))
                return loss, gx, gy
            return step
        out["torch eager"] = t_step(t_loss)
        out["torch.compile"] = ("compile", lambda: t_step(torch.compile(t_loss)))
    if jax is not None:
        jnp = jax.numpy
        jchain = _chain(jnp)
        jx, jy = jnp.asarray(x), jnp.asarray(y)
        step = jax.jit(jax.value_and_grad(lambda x, y: jnp.sum(jchain(x, y)), argnums=(0, 1)))

        def j_step():
            loss, (gx, gy) = step(jx, jy)
            return _ready(loss), gx, gy
        out["jax.jit"] = j_step
    return out, None


def check_same(name, results, reference):
    for impl, got in results.items():
        for i, (a, b) in enumerate(zip(got, reference)):
            _agree(f"{name} {impl} result {i}", _host(a), _host(b), rtol=1e-3, atol=1e-4)


# -- (b) the MLP step ---------------------------------------------------------------------------

def _ef_mlp_loss(params, x, y):
    h = x
    for w, b in zip(params[:-2:2], params[1:-2:2]):
        h = ef.nn.relu(ef.matmul(h, w) + b)
    logits = ef.matmul(h, params[-2]) + params[-1]
    return ef.mean(ef.nn.sparse_softmax_cross_entropy_with_logits(y, logits))


def ef_train_step(loss_fn, host_params, traced):
    params = [ef.Variable(p) for p in host_params]

    def step(x, y):
        with ef.GradientTape() as tape:
            loss = loss_fn(params, x, y)
        grads = tape.gradient(loss, params)
        for p, g in zip(params, grads):
            p.assign_sub(LR * g)
        return loss
    return (ef.function(step) if traced else step), params


def torch_train_step(torch, loss_fn, host_params, compiled):
    params = [torch.tensor(p, requires_grad=True) for p in host_params]
    forward = torch.compile(loss_fn) if compiled else loss_fn

    def step(x, y):
        loss = forward(params, x, y)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(LR * g)
        return loss
    return step, params


def jax_train_step(jax, loss_fn, host_params):
    state = {"params": [jax.numpy.asarray(p) for p in host_params]}

    def update(params, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        return loss, [p - LR * g for p, g in zip(params, grads)]
    update = jax.jit(update, donate_argnums=0)

    def step(x, y):
        loss, state["params"] = update(state["params"], x, y)
        return _ready(loss)
    return step, state


def torch_mlp_loss(torch):
    def loss_fn(params, x, y):
        h = x
        for w, b in zip(params[:-2:2], params[1:-2:2]):
            h = torch.relu(h @ w + b)
        return torch.nn.functional.cross_entropy(h @ params[-2] + params[-1], y)
    return loss_fn


def jax_mlp_loss(jax):
    jnp = jax.numpy

    def loss_fn(params, x, y):
        h = x
        for w, b in zip(params[:-2:2], params[1:-2:2]):
            h = jax.nn.relu(h @ w + b)
        return _jax_xent(jax, h @ params[-2] + params[-1], y)
    return loss_fn


def _jax_xent(jax, logits, y):
    jnp = jax.numpy
    picked = jnp.take_along_axis(logits, y[:, None], axis=-1)[:, 0]
    return jnp.mean(jax.nn.logsumexp(logits, axis=-1) - picked)


def training_impls(torch, jax, host_params, x, y, ef_loss, torch_loss, jax_loss,
                   torch_layout=None, torch_x=None):
    """``{impl: builder}``: a builder makes fresh parameters and returns ``(step, params)``;
    PyTorch may take its own layout of the parameters and of ``x`` (NCHW)."""
    xs, ys = ef.asarray(x), ef.asarray(y)
    out = {
        "ef eager": lambda: _bind(ef_train_step(ef_loss, host_params, False), xs, ys),
        "ef.function": lambda: _bind(ef_train_step(ef_loss, host_params, True), xs, ys),
    }
    if torch is not None:
        t_params = host_params if torch_layout is None else torch_layout(host_params)
        tx = torch.from_numpy((x if torch_x is None else torch_x).copy())
        ty = torch.from_numpy(y.astype(np.int64))
        t_loss = torch_loss(torch)
        out["torch eager"] = lambda: _bind(torch_train_step(torch, t_loss, t_params, False), tx, ty)
        out["torch.compile"] = lambda: _bind(torch_train_step(torch, t_loss, t_params, True), tx,
                                             ty)
    if jax is not None:
        jx, jy = jax.numpy.asarray(x), jax.numpy.asarray(y.astype(np.int32))
        j_loss = jax_loss(jax)
        out["jax.jit"] = lambda: _bind(jax_train_step(jax, j_loss, host_params), jx, jy)
    return out


def _bind(made, x, y):
    step, params = made
    return (lambda: step(x, y)), params


def _params_host(params):
    if isinstance(params, dict):
        params = params["params"]
    return [_host(p) for p in params]


def check_training(name, builders, torch_layout_back=None):
    """One step of each implementation from the same start: same loss, same parameters."""
    got = {}
    for impl, build in builders.items():
        step, params = build()
        loss = float(_host(step()))
        host = _params_host(params)
        if impl.startswith("torch") and torch_layout_back is not None:
            host = torch_layout_back(host)
        got[impl] = (loss, host)
    ref_loss, ref_params = got["ef eager"]
    for impl, (loss, host) in got.items():
        _agree(f"{name} {impl} loss", loss, ref_loss)
        for i, (a, b) in enumerate(zip(host, ref_params)):
            _agree(f"{name} {impl} param {i} after one step", a, b)


# -- (c) the CNN step -----------------------------------------------------------------------------

def cnn_data(seed=3):
    rng = np.random.default_rng(seed)

    def uniform(shape, fan_in):
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)
    params = [uniform((3, 3, 1, 16), 9), np.zeros(16, np.float32),
              uniform((3, 3, 16, 32), 144), np.zeros(32, np.float32),
              uniform((7 * 7 * 32, 10), 7 * 7 * 32), np.zeros(10, np.float32)]
    x = rng.standard_normal(CNN_SHAPE).astype(np.float32)
    y = rng.integers(0, 10, CNN_SHAPE[0])
    return params, x, y


def _ef_cnn_loss(params, x, y):
    w1, b1, w2, b2, w3, b3 = params
    h = ef.nn.max_pool2d(ef.nn.relu(ef.nn.conv2d(x, w1, 1, "SAME") + b1), 2, 2)
    h = ef.nn.max_pool2d(ef.nn.relu(ef.nn.conv2d(h, w2, 1, "SAME") + b2), 2, 2)
    logits = ef.matmul(ef.reshape(h, (h.shape[0], -1)), w3) + b3
    return ef.mean(ef.nn.sparse_softmax_cross_entropy_with_logits(y, logits))


def torch_cnn_loss(torch):
    F = torch.nn.functional

    def loss_fn(params, x, y):  # x NCHW, filters OIHW; flattened in NHWC order like the others
        w1, b1, w2, b2, w3, b3 = params
        h = F.max_pool2d(torch.relu(F.conv2d(x, w1, b1, padding=1)), 2)
        h = F.max_pool2d(torch.relu(F.conv2d(h, w2, b2, padding=1)), 2)
        h = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)
        return F.cross_entropy(h @ w3 + b3, y)
    return loss_fn


def torch_cnn_layout(params):
    w1, b1, w2, b2, w3, b3 = params
    return [np.ascontiguousarray(w1.transpose(3, 2, 0, 1)), b1,
            np.ascontiguousarray(w2.transpose(3, 2, 0, 1)), b2, w3, b3]


def torch_cnn_layout_back(params):
    w1, b1, w2, b2, w3, b3 = params
    return [w1.transpose(2, 3, 1, 0), b1, w2.transpose(2, 3, 1, 0), b2, w3, b3]


def jax_cnn_loss(jax):
    lax = jax.lax

    def conv(x, w):
        return lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))

    def pool(x):
        return lax.reduce_window(x, -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

    def loss_fn(params, x, y):
        w1, b1, w2, b2, w3, b3 = params
        h = pool(jax.nn.relu(conv(x, w1) + b1))
        h = pool(jax.nn.relu(conv(h, w2) + b2))
        return _jax_xent(jax, h.reshape(h.shape[0], -1) @ w3 + b3, y)
    return loss_fn


# -- (d) the Hessian-vector product -----------------------------------------------------------------

def hvp_impls(torch, jax):
    w, x, v = hvp_data()
    W, X, V = ef.asarray(w), ef.asarray(x), ef.asarray(v)

    def f(x):
        return ef.sum(ef.tanh(ef.matmul(W, x)))
    grad_f = ef.grad(f)

    def ef_hvp(x, v):
        return ef.jvp(grad_f, (x,), (v,))[1]
    traced = ef.function(ef_hvp)
    out = {"ef eager": lambda: ef_hvp(X, V), "ef.function": lambda: traced(X, V)}
    if torch is not None:
        tW, tX, tV = (torch.from_numpy(a) for a in (w, x, v))

        def tf(x):
            return torch.tanh(tW @ x).sum()

        def t_hvp(x, v):
            return torch.func.jvp(torch.func.grad(tf), (x,), (v,))[1]

        def double_backward():
            xg = tX.detach().requires_grad_()
            (g,) = torch.autograd.grad(tf(xg), xg, create_graph=True)
            return torch.autograd.grad(g, xg, grad_outputs=tV)[0]
        out["torch eager"] = lambda: t_hvp(tX, tV)
        out["torch eager (double backward)"] = double_backward  # its fastest way here
        out["torch.compile"] = ("compile", lambda: _bound(torch.compile(t_hvp), tX, tV))
    if jax is not None:
        jnp = jax.numpy
        jW, jX, jV = (jnp.asarray(a) for a in (w, x, v))

        def jf(x):
            return jnp.sum(jnp.tanh(jW @ x))
        j_hvp = jax.jit(lambda x, v: jax.jvp(jax.grad(jf), (x,), (v,))[1])
        out["jax.jit"] = lambda: _ready(j_hvp(jX, jV))
    return out, hvp_reference(w, x, v)


def _bound(fn, *args):
    return lambda: fn(*args)


# -- running the cases ----------------------------------------------------------------------------

def _compiled(impls, args):
    """Build the torch.compile entries (their first call compiles: minutes on 2 cores), or
    drop them; a failure is reported, not fatal."""
    notes = {}
    for impl, entry in list(impls.items()):
        if isinstance(entry, tuple) and entry[0] == "compile":
            if args.no_compile:
                del impls[impl]
                notes[impl] = "left out (--no-compile)"
                continue
            try:
                start = time.perf_counter()
                fn = entry[1]()
                fn()
                impls[impl] = fn
                notes[impl] = f"first call (compiling) {time.perf_counter() - start:.0f} s"
            except Exception as e:  # noqa: BLE001  (torch.compile may fail: no compiler...)
                del impls[impl]
                notes[impl] = f"failed: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
    return notes


def run_functional(name, impls, reference, args):
    notes = _compiled(impls, args)
    for impl, fn in impls.items():
        got = fn()
        got = got if isinstance(got, tuple) else (got,)
        want = reference if reference is not None else impls_ref(impls)
        want = want if isinstance(want, tuple) else (want,)
        for i, (a, b) in enumerate(zip(got, want)):
            _agree(f"{name} {impl} result {i}", _host(a), _host(b), rtol=1e-3, atol=1e-4)
    got = measure({k: per_call(warm(fn)) for k, fn in impls.items()}, args.repeat,
                  args.min_time)
    return got, notes


def impls_ref(impls):
    out = impls["ef eager"]()
    return out


def run_training(name, builders, args, layout_back=None):
    notes = {}
    if args.no_compile:
        builders.pop("torch.compile", None)
        notes["torch.compile"] = "left out (--no-compile)"
    elif "torch.compile" in builders:
        try:
            start = time.perf_counter()
            step, _ = builders["torch.compile"]()
            step()
            notes["torch.compile"] = f"first call (compiling) {time.perf_counter() - start:.0f} s"
        except Exception as e:  # noqa: BLE001
            builders.pop("torch.compile")
            notes["torch.compile"] = f"failed: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
    check_training(name, builders, layout_back)
    loops = {impl: per_call(warm(build()[0])) for impl, build in builders.items()}
    return measure(loops, args.repeat, args.min_time), notes


WARMUP = 10


def warm(fn):
    """``fn`` after ``WARMUP`` calls: ef.function compiles its fused groups at the third call
    and torch.compile / jit at the first; the loop length is calibrated on steady calls."""
    for _ in range(WARMUP):
        fn()
    return fn


# -- reporting ---------------------------------------------------------------------------------

TARGETS = {  # case -> (reference impl, at most this many times its time)
    "chain": [("jax.jit", 2.0)],
    "mlp": [("torch eager", 1.0), ("jax.jit", 1.2)],
    "cnn": [("torch eager", 1.0), ("jax.jit", 1.2)],
    "hvp": [("torch eager", 1.0)],
}

TITLES = {
    "chain": "(a) chain of 10 elementwise ops (8,), forward + backward",
    "mlp": "(b) MLP SGD step 784-512-512-10, batch 128",
    "cnn": "(c) CNN SGD step 32x28x28x1, conv16-pool-conv32-pool-dense10",
    "hvp": "(d) Hessian-vector product, W 256x256, forward over reverse",
}


def report(case, rounds, notes):
    med = {impl: statistics.median(r) for impl, r in rounds.items()}
    traced = med.get("ef.function")
    lines = [TITLES[case]]
    for impl in list(IMPLS) + [k for k in med if k not in IMPLS]:
        if impl not in med and impl not in notes:
            continue
        t = med.get(impl)
        ratio = f"{traced / t:6.2f}x" if t and traced else "       "
        lines.append(f"  {impl:<30} {_fmt_time(t):>10}  ef.function/this {ratio}  "
                     f"{notes.get(impl, '')}".rstrip())
    verdicts = []
    for ref, limit in TARGETS[case]:
        ways = [t for impl, t in med.items() if impl == ref or impl.startswith(ref + " (")]
        if ways and traced:
            r = traced / min(ways)  # against the fastest way that library offers
            verdicts.append(f"ef.function/{ref} = {r:.2f} (target <= {limit:g}): "
                            f"{'ok' if r <= limit else 'MISSED'}")
    lines += ["  " + v for v in verdicts]
    return "\n".join(lines), {"median_s": med, "verdicts": verdicts, "notes": notes}


def main(args):
    torch, jax = load_torch(args), load_jax(args)
    limiter = limit_threads(args.threads)  # noqa: F841  (after torch loaded its OpenMP)
    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "eagerflow": ef.__version__, "torch": getattr(torch, "__version__", "-"),
                "jax": getattr(jax, "__version__", "-")}
    print(f"eagerflow ef.function benchmark: threads={args.threads}, median of {args.repeat} "
          f"rounds, loops of >= {args.min_time:g} s; cpus={os.cpu_count()} (shared machines: "
          f"expect noise)")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    for line in blas_summary():
        print("  " + line)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    results = {}
    for case in cases:
        print(f"\n.. {case}", flush=True)
        if case == "chain":
            impls, ref = chain_impls(torch, jax)
            rounds, notes = run_functional(case, impls, ref, args)
        elif case == "hvp":
            impls, ref = hvp_impls(torch, jax)
            rounds, notes = run_functional(case, impls, ref, args)
        elif case == "mlp":
            host, x, y = mlp_data()
            builders = training_impls(torch, jax, host, x, y, _ef_mlp_loss, torch_mlp_loss,
                                      jax_mlp_loss)
            rounds, notes = run_training(case, builders, args)
        elif case == "cnn":
            if not hasattr(ef.nn, "conv2d"):
                print(f"{TITLES[case]}\n  needs ef.nn.conv2d and ef.nn.max_pool2d, which this "
                      f"eagerflow does not have yet: not measured")
                results[case] = {"skipped": "needs ef.nn.conv2d"}
                continue
            host, x, y = cnn_data()
            builders = training_impls(torch, jax, host, x, y, _ef_cnn_loss, torch_cnn_loss,
                                      jax_cnn_loss, torch_layout=torch_cnn_layout,
                                      torch_x=np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
            rounds, notes = run_training(case, builders, args, torch_cnn_layout_back)
        else:
            raise SystemExit(f"unknown case {case!r}; cases are chain, mlp, cnn, hvp")
        text, results[case] = report(case, rounds, notes)
        results[case]["rounds"] = rounds
        print(text, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "repeat": args.repeat, "min_time": args.min_time,
                       "versions": versions, "platform": platform.platform(),
                       "results": results}, f, indent=2, default=str)
        print(f"saved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
