"""What gradients cost in eagerflow, against PyTorch (CPU) measured in the same run.

    python benchmarks/bench_autodiff.py [--quick] [--json PATH] [--threads N]

(a) mlp:    one SGD training step of a 784-512-512-10 ReLU MLP, batch 128, float32, softmax
            cross-entropy (class labels), ``GradientTape`` + ``Variable.assign_sub`` against
            autograd + ``torch.no_grad()`` ``sub_``.
(b) hvp:    one Hessian-vector product of ``f(x) = sum(tanh(W @ x))``, W 256x256 float32, every
            way each library offers; the ratio compares the fastest of each.
(c) record: a chain of 10 elementwise ops on shape (8,) float32, without and with a gradient
            tape watching the input (a new tape per chain, as a training step opens one;
            opening it is timed apart), against PyTorch without and with ``requires_grad``:
            the difference over 10 is the cost of recording one op.
(d) memory: peak resident memory of one MLP step, in a fresh subprocess per library (PyTorch's
            allocator is invisible to tracemalloc): the process's RSS high-water mark (Linux
            ``VmHWM``, reset through ``/proc/self/clear_refs`` after setup and a warm-up step)
            minus its RSS before the step; ``ru_maxrss`` where the reset is unavailable. Both
            children run with ``MALLOC_MMAP_THRESHOLD_=131072``, so that freed arrays leave
            the RSS.

Times are medians over ``--repeat`` rounds of the mean time per call of a loop lasting at
least ``--min-time`` seconds; the libraries take turns within each round. Before timing, each
case checks that the libraries agree on the values.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

SIZES = (784, 512, 512, 10)
BATCH = 128
LR = 0.01
HVP_N = 256


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short run: 3 rounds of ~50 ms loops")
    p.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for NumPy's BLAS and PyTorch (default 1: like against like)")
    p.add_argument("--repeat", type=int, help="rounds per case (default 7, quick 3)")
    p.add_argument("--min-time", type=float,
                   help="seconds per timing loop (default 0.2, quick 0.05)")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    p.add_argument("--memory-child", choices=("eagerflow", "torch"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.repeat = args.repeat or (3 if args.quick else 7)
    args.min_time = args.min_time or (0.05 if args.quick else 0.2)
    return args


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    # Before NumPy loads its BLAS: the pools read these once, at load time.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np
from bench_dispatch import _fmt_time, blas_summary, limit_threads

import eagerflow_core as ef
import eagerflow_core.nn as efnn


def _torch(threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


# -- (a) the MLP step ------------------------------------------------------------------------

def mlp_data(seed=0):
    """Weights (uniform, PyTorch's Linear default scale), zero biases, a batch and its labels."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in itertools.pairwise(SIZES):
        bound = 1.0 / np.sqrt(fan_in)
        params += [rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                   np.zeros(fan_out, np.float32)]
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    return params, x, y


def ef_mlp_step(host_params, x, y):
    params = [ef.Variable(p) for p in host_params]
    xs, ys = ef.asarray(x), ef.asarray(y)

    def step():
        with ef.GradientTape() as tape:
            h = xs
            for w, b in zip(params[:-2:2], params[1:-2:2]):
                h = efnn.relu(h @ w + b)
            logits = h @ params[-2] + params[-1]
            loss = ef.mean(efnn.sparse_softmax_cross_entropy_with_logits(ys, logits))
        grads = tape.gradient(loss, params)
        for p, g in zip(params, grads):
            p.assign_sub(LR * g)
        return loss
    return step, params


def torch_mlp_step(torch, host_params, x, y):
    params = [torch.tensor(p, requires_grad=True) for p in host_params]
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    cross_entropy = torch.nn.functional.cross_entropy

    def step():
        h = xs
        for w, b in zip(params[:-2:2], params[1:-2:2]):
            h = torch.relu(h @ w + b)
        logits = h @ params[-2] + params[-1]
        loss = cross_entropy(logits, ys)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.sub_(LR * p.grad)
                p.grad = None
        return loss
    return step, params


def check_mlp(torch):
    """One step from the same start: same loss, same updated weights."""
    host, x, y = mlp_data()
    ef_step, ef_params = ef_mlp_step(host, x, y)
    ef_loss = float(ef_step().item())
    if torch is None:
        return
    t_step, t_params = torch_mlp_step(torch, host, x, y)
    t_loss = float(t_step().item())
    _agree("mlp loss", ef_loss, t_loss)
    for i, (a, b) in enumerate(zip(ef_params, t_params)):
        _agree(f"mlp param {i} after one step", a.numpy(), b.detach().numpy())


# -- (b) Hessian-vector products ---------------------------------------------------------------

def hvp_data(seed=1):
    rng = np.random.default_rng(seed)
    w = (rng.standard_normal((HVP_N, HVP_N)) / np.sqrt(HVP_N)).astype(np.float32)
    x = rng.standard_normal(HVP_N).astype(np.float32)
    v = rng.standard_normal(HVP_N).astype(np.float32)
    return w, x, v


def hvp_reference(w, x, v):
    w, x, v = (a.astype(np.float64) for a in (w, x, v))
    t = np.tanh(w @ x)
    return w.T @ ((-2 * t * (1 - t * t)) * (w @ v))


def ef_hvps(w, x, v):
    W, X, V = ef.asarray(w), ef.asarray(x), ef.asarray(v)

    def f(x):
        return ef.sum(ef.tanh(W @ x))
    grad_f = ef.grad(f)
    return {
        "reverse-over-reverse: grad of <grad f, v>":
            lambda: ef.grad(lambda x: ef.sum(grad_f(x) * V))(X),
        "ef.jvp of ef.grad (forward over reverse)":
            lambda: ef.jvp(grad_f, (X,), (V,))[1],
    }


def torch_hvps(torch, w, x, v):
    W, X, V = (torch.from_numpy(a) for a in (w, x, v))

    def f(x):
        return torch.tanh(W @ x).sum()

    def double_backward():
        xg = X.detach().requires_grad_()
        (g,) = torch.autograd.grad(f(xg), xg, create_graph=True)
        (hv,) = torch.autograd.grad(g, xg, grad_outputs=V)
        return hv
    return {
        "double backward (autograd.grad, create_graph)": double_backward,
        "torch.autograd.functional.hvp": lambda: torch.autograd.functional.hvp(f, X, V)[1],
        "torch.func.jvp of torch.func.grad (forward-over-reverse)":
            lambda: torch.func.jvp(torch.func.grad(f), (X,), (V,))[1],
    }


# -- (c) recording cost on tiny tensors --------------------------------------------------------

def _chain(xp):
    """The ten elementwise ops of bench_dispatch's chain."""
    add, mul, sub, exp = xp.add, xp.multiply, xp.subtract, xp.exp
    tanh, mx, neg, sq, absf = xp.tanh, xp.maximum, xp.negative, xp.sqrt, xp.abs

    def run(x, y):
        t = mul(add(x, y), y)
        t = sq(absf(sub(t, x)))
        t = tanh(exp(add(t, 1.0)))
        return neg(mx(t, x))
    return run


def chain_data(seed=2):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.0, 1.0, 8).astype(np.float32) for _ in range(2)]


def ef_chain_loops(x, y):
    chain, xs, ys = _chain(ef), ef.asarray(x), ef.asarray(y)

    def plain(n):
        start = time.perf_counter()
        for _ in range(n):
            chain(xs, ys)
        return (time.perf_counter() - start) / n

    def taped(n):
        # A tape per chain, as a training step opens one: a tape kept open over the whole
        # loop would grow to thousands of entries and time Python's garbage collector.
        start = time.perf_counter()
        for _ in range(n):
            with ef.GradientTape() as tape:
                tape.watch(xs)
                chain(xs, ys)
        return (time.perf_counter() - start) / n

    def open_tape(n):
        start = time.perf_counter()
        for _ in range(n):
            with ef.GradientTape() as tape:
                tape.watch(xs)
        return (time.perf_counter() - start) / n
    return plain, taped, open_tape, lambda: chain(xs, ys)


def torch_chain_loops(torch, x, y):
    chain = _chain(torch)
    xs, ys = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
    xg = xs.clone().requires_grad_()

    def plain(n):
        start = time.perf_counter()
        for _ in range(n):
            chain(xs, ys)
        return (time.perf_counter() - start) / n

    def taped(n):
        start = time.perf_counter()
        for _ in range(n):
            chain(xg, ys)
        return (time.perf_counter() - start) / n
    return plain, taped, lambda: chain(xs, ys)


# -- (e) the targets of issue #10: taped tiny ops, forward+backward, higher derivatives --------

def ef_small(x, y):
    xs, ys = ef.asarray(x), ef.asarray(y)
    chain = _chain(ef)

    def taped_chain():
        with ef.GradientTape() as tape:
            tape.watch(xs)
            chain(xs, ys)

    def one_fwd_bwd():
        with ef.GradientTape() as tape:
            tape.watch(xs)
            out = ef.sum(ef.exp(xs))
        return tape.gradient(out, xs)

    def chain_fwd_bwd():
        with ef.GradientTape() as tape:
            tape.watch(xs)
            out = ef.sum(chain(xs, ys))
        return tape.gradient(out, xs)
    d4 = ef.grad(ef.grad(ef.grad(ef.grad(ef.tanh))))
    x0 = ef.constant(0.3)
    return {"taped chain": taped_chain, "exp fwd+bwd": one_fwd_bwd,
            "chain fwd+bwd": chain_fwd_bwd, "4th derivative of tanh": lambda: d4(x0),
            "tiny sum": lambda: ef.sum(xs)}


def torch_small(torch, x, y):
    xs, ys = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
    chain = _chain(torch)

    def taped_chain():
        chain(xs.requires_grad_(), ys)

    def one_fwd_bwd():
        xg = xs.detach().requires_grad_()
        return torch.autograd.grad(torch.exp(xg).sum(), xg)[0]

    def chain_fwd_bwd():
        xg = xs.detach().requires_grad_()
        return torch.autograd.grad(chain(xg, ys).sum(), xg)[0]

    def d4():
        x0 = torch.tensor(0.3, requires_grad=True)
        g = torch.tanh(x0)
        for _ in range(4):
            (g,) = torch.autograd.grad(g, x0, create_graph=True)
        return g
    plain = xs.detach()
    return {"taped chain": taped_chain, "exp fwd+bwd": one_fwd_bwd,
            "chain fwd+bwd": chain_fwd_bwd, "4th derivative of tanh": d4,
            "tiny sum": lambda: torch.sum(plain)}


# -- timing ------------------------------------------------------------------------------------

def per_call(fn):
    def loop(n):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - start) / n
    return loop


def calibrate(loop, min_time):
    """Loop length (1, 2, 5, 10, 20, ...) whose run lasts at least ``min_time``."""
    number = 1
    while True:
        for step in (1, 2, 5):
            n = number * step
            if loop(n) * n >= min_time:
                return n
        number *= 10


def measure(loops: dict, repeat, min_time):
    """``{name: loop}`` -> ``{name: [seconds per call, each round]}``, names taking turns."""
    for loop in loops.values():
        loop(1)  # warm-up
    counts = {name: calibrate(loop, min_time) for name, loop in loops.items()}
    rounds = {name: [] for name in loops}
    for _ in range(repeat):
        for name, loop in loops.items():
            rounds[name].append(loop(counts[name]))
    return rounds


def _agree(what, got, want, rtol=1e-4, atol=1e-5):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=atol * scale):
        raise SystemExit(f"{what}: the libraries disagree (max |diff| "
                         f"{np.abs(got - want).max(initial=0.0):.3g}); not timing a wrong result")


def _host(t):
    return t.detach().numpy() if hasattr(t, "detach") else t.numpy()


# -- (d) memory, in a child process ------------------------------------------------------------

def _proc_status():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    return out


def _maxrss():
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def memory_child(framework, threads):
    """Peak RSS of one MLP step after a warm-up step; prints one JSON line."""
    torch = _torch(threads) if framework == "torch" else None
    limiter = limit_threads(threads)  # noqa: F841
    host, x, y = mlp_data()
    step = (torch_mlp_step(torch, host, x, y) if torch else ef_mlp_step(host, x, y))[0]
    step()  # first-use work (thread pools, lazy imports) is not one step's memory
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        before = _proc_status()["VmRSS"]
        how = "VmHWM after clear_refs"
    except (OSError, KeyError):
        before, how = _maxrss(), "ru_maxrss (the warm-up step may hide part of the peak)"
    step()
    peak = _proc_status()["VmHWM"] if how.startswith("VmHWM") else _maxrss()
    out = {"framework": framework, "how": how, "rss_before": before, "peak": peak,
           "step_peak": peak - before}
    if framework == "eagerflow":
        out["tape_held_bytes"] = _ef_tape_bytes(host, x, y)
    print(json.dumps(out))


def _ef_tape_bytes(host, x, y):
    """What one step's tape holds for the backward pass (the forward run, not differentiated)."""
    params = [ef.Variable(p) for p in host]
    with ef.GradientTape() as tape:
        h = ef.asarray(x)
        for w, b in zip(params[:-2:2], params[1:-2:2]):
            h = efnn.relu(h @ w + b)
        logits = h @ params[-2] + params[-1]
        ef.mean(efnn.sparse_softmax_cross_entropy_with_logits(ef.asarray(y), logits))
    return tape.held_bytes()


def measure_memory(frameworks, threads):
    here = os.path.abspath(__file__)
    out = {}
    for fw in frameworks:
        # A fixed mmap threshold: glibc then maps every array over 128 KiB on its own and
        # unmaps it when freed, in both libraries, so the RSS follows what is alive (its
        # default threshold grows after a free, and a freed array then stays resident).
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")
        proc = subprocess.run([sys.executable, here, "--memory-child", fw, "--threads",
                               str(threads)], capture_output=True, text=True, env=env,
                              check=False)
        if proc.returncode:
            raise SystemExit(f"memory child for {fw} failed:\n{proc.stderr}")
        out[fw] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


# -- reporting ---------------------------------------------------------------------------------

def _mb(n):
    return f"{n / 2**20:.1f} MiB"


def table(rows):
    head = ["case", "eagerflow", "torch", "ef/torch", "note"]
    lines = [[r["case"], r["ef"], r["torch"], r["ratio"], r.get("note", "")] for r in rows]
    widths = [max(len(x[i]) for x in [head] + lines) for i in range(len(head))]
    align = [str.ljust, str.rjust, str.rjust, str.rjust, str.ljust]
    fmt = lambda row: "  ".join(a(c, w) for a, c, w in zip(align, row, widths)).rstrip()
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(x) for x in lines])


def _stat(rounds):
    return statistics.median(rounds)


def _ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}x"


def main(args):
    torch = None if args.no_torch else _torch(args.threads)
    limiter = limit_threads(args.threads)  # noqa: F841  (after torch loaded its OpenMP)
    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "eagerflow": ef.__version__}
    if torch is not None:
        versions["torch"] = torch.__version__
    print(f"eagerflow autodiff benchmark: threads={args.threads} (torch.get_num_threads()="
          f"{torch.get_num_threads() if torch else '-'}), median of {args.repeat} rounds, "
          f"loops of >= {args.min_time:g} s")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    for line in blas_summary():
        print("  " + line)
    if torch is None and not args.no_torch:
        print("PyTorch is not importable: its column stays empty")
    rows, raw = [], {}

    # (a) MLP step
    check_mlp(torch)
    host, x, y = mlp_data()
    loops = {"ef": per_call(ef_mlp_step(host, x, y)[0])}
    if torch is not None:
        loops["torch"] = per_call(torch_mlp_step(torch, host, x, y)[0])
    got = raw["mlp"] = measure(loops, args.repeat, args.min_time)
    e, t = _stat(got["ef"]), _stat(got["torch"]) if torch else None
    rows.append({"case": "(a) MLP SGD step 784-512-512-10, batch 128", "ef": _fmt_time(e),
                 "torch": _fmt_time(t), "ratio": _ratio(e, t), "seconds": [e, t]})

    # (b) HVP
    w, xv, v = hvp_data()
    want = hvp_reference(w, xv, v)
    ef_ways = ef_hvps(w, xv, v)
    t_ways = torch_hvps(torch, w, xv, v) if torch else {}
    loops = {}
    for lib, ways in (("ef", ef_ways), ("torch", t_ways)):
        for name, fn in ways.items():
            _agree(f"hvp {lib}: {name}", _host(fn()), want, rtol=1e-3, atol=1e-4)
            loops[(lib, name)] = per_call(fn)
    got = measure(loops, args.repeat, args.min_time)
    raw["hvp"] = {f"{lib}: {name}": r for (lib, name), r in got.items()}
    med = {key: _stat(r) for key, r in got.items()}
    best = {lib: min((s, name) for (l2, name), s in med.items() if l2 == lib)
            for lib in ("ef", "torch") if any(k[0] == lib for k in med)}
    e, t = best["ef"][0], best["torch"][0] if "torch" in best else None
    rows.append({"case": "(b) Hessian-vector product, W 256x256", "ef": _fmt_time(e),
                 "torch": _fmt_time(t), "ratio": _ratio(e, t), "seconds": [e, t],
                 "note": "fastest way of each library"})
    for (lib, name), s in med.items():
        rows.append({"case": f"    {lib}: {name}", "ef": _fmt_time(s) if lib == "ef" else "",
                     "torch": _fmt_time(s) if lib == "torch" else "", "ratio": "",
                     "note": "fastest" if best[lib][1] == name else ""})

    # (c) recording cost
    cx, cy = chain_data()
    ef_plain, ef_taped, ef_open, ef_once = ef_chain_loops(cx, cy)
    loops = {"ef plain": ef_plain, "ef taped": ef_taped, "ef open": ef_open}
    if torch is not None:
        t_plain, t_taped, t_once = torch_chain_loops(torch, cx, cy)
        _agree("chain of 10", _host(ef_once()), _host(t_once()))
        loops.update({"torch plain": t_plain, "torch taped": t_taped})
    got = raw["record"] = measure(loops, args.repeat, args.min_time)
    med = {k: _stat(r) for k, r in got.items()}
    tp, tt = med.get("torch plain"), med.get("torch taped")
    rows.append({"case": "(c) chain of 10 ops (8,), no tape / no grad",
                 "ef": _fmt_time(med["ef plain"]), "torch": _fmt_time(tp),
                 "ratio": _ratio(med["ef plain"], tp)})
    rows.append({"case": "    same, tape watching x / requires_grad",
                 "ef": _fmt_time(med["ef taped"]), "torch": _fmt_time(tt),
                 "ratio": _ratio(med["ef taped"], tt), "note": "ef: a new tape per chain"})
    rows.append({"case": "    opening a tape and watching x", "ef": _fmt_time(med["ef open"]),
                 "torch": "", "ratio": ""})
    eo = (med["ef taped"] - med["ef open"] - med["ef plain"]) / 10
    to = None if tt is None else (tt - tp) / 10
    rows.append({"case": "    recording one op", "ef": _fmt_time(eo), "torch": _fmt_time(to),
                 "ratio": _ratio(eo, to), "note": "(taped - open - plain) / 10"})

    # (e) the targets of issue #10
    ef_cases = ef_small(cx, cy)
    _agree("4th derivative", _host(ef_cases["4th derivative of tanh"]()),
           _host(torch_small(torch, cx, cy)["4th derivative of tanh"]()) if torch else
           _host(ef_cases["4th derivative of tanh"]()))
    loops = {("ef", k): per_call(f) for k, f in ef_cases.items()}
    if torch is not None:
        loops.update({("torch", k): per_call(f) for k, f in torch_small(torch, cx, cy).items()})
    got = measure(loops, args.repeat, args.min_time)
    raw["targets"] = {f"{lib}: {k}": r for (lib, k), r in got.items()}
    med = {key: _stat(r) for key, r in got.items()}
    targets = {"taped chain": ("(e) recording: one taped op (chain of 10 / 10)", 10, 1.0),
               "exp fwd+bwd": ("    one tiny op forward+backward", 1, None),
               "chain fwd+bwd": ("    chain of 10 forward+backward", 1, 1.0),
               "4th derivative of tanh": ("    4th derivative of tanh", 1, None),
               "tiny sum": ("    tiny sum (8,), no tape", 1, 1.0)}
    for k, (label, per, target) in targets.items():
        e, t = med[("ef", k)] / per, (med[("torch", k)] / per if torch else None)
        note = "" if target is None or t is None else (
            f"target <= {target}: " + ("ok" if e / t <= target else "MISSED"))
        rows.append({"case": label, "ef": _fmt_time(e), "torch": _fmt_time(t),
                     "ratio": _ratio(e, t), "seconds": [e, t], "note": note})

    # (d) memory
    mem = raw["memory"] = measure_memory(["eagerflow"] + (["torch"] if torch else []),
                                         args.threads)
    me, mt = mem["eagerflow"], mem.get("torch")
    rows.append({"case": "(d) MLP step: peak RSS above RSS before it", "ef": _mb(me["step_peak"]),
                 "torch": _mb(mt["step_peak"]) if mt else "-",
                 "ratio": _ratio(me["step_peak"], mt["step_peak"] if mt else None),
                 "note": me["how"]})
    rows.append({"case": "    process peak RSS during the step", "ef": _mb(me["peak"]),
                 "torch": _mb(mt["peak"]) if mt else "-",
                 "ratio": _ratio(me["peak"], mt["peak"] if mt else None),
                 "note": "includes the libraries themselves"})
    rows.append({"case": "    eagerflow tape holds for backward", "ef": _mb(me["tape_held_bytes"]),
                 "torch": "", "ratio": "", "note": "GradientTape.held_bytes()"})

    print()
    print(table(rows))
    print("\nratios > 1 mean eagerflow is slower (or uses more memory)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "repeat": args.repeat, "min_time": args.min_time,
                       "quick": args.quick, "versions": versions, "blas": blas_summary(),
                       "platform": platform.platform(), "rows": rows, "rounds": raw}, f,
                      indent=2, default=str)
        print(f"saved {args.json}")
    return 0


if __name__ == "__main__":
    if ARGS.memory_child:
        memory_child(ARGS.memory_child, ARGS.threads)
        sys.exit(0)
    sys.exit(main(ARGS))
