"""The NN kernel ops on the NumPy backend, against torch.nn.functional (CPU) in the same run.

    python benchmarks/bench_nn_ops.py [--quick] [--json PATH] [--threads N]

The layers of the small CNN of issue #7 (batch 32, 28x28x1 -> conv 3x3x16 SAME -> max pool 2
-> conv 3x3x32 SAME -> max pool 2), each timed forward and forward + backward (the gradients
of the input and, for convolutions, of the filters, given one output gradient), and the whole
stack forward + backward. eagerflow runs NHWC with HWIO filters (TensorFlow's layout, the
default), PyTorch NCHW with OIHW weights (its own default): each library in its native layout.
The issue's target for a CNN training step is at most 1.5x PyTorch.

Times are medians over ``--repeat`` rounds of the mean time per call of a loop lasting at
least ``--min-time`` seconds; the libraries take turns within each round. ``--clock cpu``
times this process's CPU time instead of the wall clock: both libraries run on one thread,
so on a machine busy with other work it measures the work each does, not the waiting. Before timing, each
case checks that the two libraries agree on the values and on the gradients.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short run: 3 rounds of ~50 ms loops")
    p.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for NumPy's BLAS and PyTorch (default 1: like against like)")
    p.add_argument("--repeat", type=int, help="rounds per case (default 7, quick 3)")
    p.add_argument("--min-time", type=float,
                   help="seconds per timing loop (default 0.2, quick 0.05)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall: time.perf_counter; cpu: this process's CPU time "
                        "(time.process_time), steadier on a machine shared with other work")
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
import time

from bench_autodiff import _agree, measure
from bench_dispatch import _fmt_time, blas_summary, limit_threads

import eagerflow_core as ef

BATCH = 32
# name: (input NHWC, filter HWIO or None for a 2x2 max pool)
LAYERS = {
    "conv1 3x3x1->16": ((BATCH, 28, 28, 1), (3, 3, 1, 16)),
    "pool1 2x2": ((BATCH, 28, 28, 16), None),
    "conv2 3x3x16->32": ((BATCH, 14, 14, 16), (3, 3, 16, 32)),
    "pool2 2x2": ((BATCH, 14, 14, 32), None),
}


def data(seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for name, (xs, ws) in LAYERS.items():
        x = rng.standard_normal(xs).astype(np.float32)
        w = None if ws is None else (rng.standard_normal(ws) / np.sqrt(np.prod(ws[:3]))).astype(
            np.float32)
        ys = (xs[0], xs[1], xs[2], ws[3]) if ws is not None else (xs[0], xs[1] // 2,
                                                                   xs[2] // 2, xs[3])
        out[name] = (x, w, rng.standard_normal(ys).astype(np.float32))
    return out


# -- eagerflow (NHWC) ------------------------------------------------------------------------------

def ef_layer(x, w):
    if w is None:
        return ef.nn.max_pool2d(x, 2)
    return ef.nn.conv2d(x, w, padding="SAME")


def ef_cases(host):
    cases = {}
    for name, (x, w, g) in host.items():
        X, W, G = ef.asarray(x), None if w is None else ef.asarray(w), ef.asarray(g)
        sources = [X] if W is None else [X, W]

        def fwd_bwd(X=X, W=W, G=G, sources=sources):
            with ef.GradientTape() as tape:
                tape.watch(sources)
                y = ef_layer(X, W)
            return [y] + tape.gradient(y, sources, output_gradients=G)
        cases[name] = (lambda X=X, W=W: [ef_layer(X, W)], fwd_bwd)
    return cases


def ef_cnn(host):
    x = ef.asarray(host["conv1 3x3x1->16"][0])
    w1, w2 = ef.asarray(host["conv1 3x3x1->16"][1]), ef.asarray(host["conv2 3x3x16->32"][1])

    def step():
        with ef.GradientTape() as tape:
            tape.watch([w1, w2])
            h = ef.nn.max_pool2d(ef.nn.relu(ef.nn.conv2d(x, w1, padding="SAME")), 2)
            y = ef.nn.max_pool2d(ef.nn.relu(ef.nn.conv2d(h, w2, padding="SAME")), 2)
            loss = ef.sum(y * y)
        return [loss] + tape.gradient(loss, [w1, w2])
    return step


# -- PyTorch (NCHW) --------------------------------------------------------------------------------

def torch_cases(torch, host):
    F = torch.nn.functional
    cases = {}
    for name, (x, w, g) in host.items():
        X = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
        W = None if w is None else torch.from_numpy(w).permute(3, 2, 0, 1).contiguous()
        G = torch.from_numpy(g).permute(0, 3, 1, 2).contiguous()

        def layer(X, W):
            return F.max_pool2d(X, 2) if W is None else F.conv2d(X, W, padding=1)

        def fwd(X=X, W=W):
            with torch.no_grad():
                return [layer(X, W)]

        def fwd_bwd(X=X, W=W, G=G):
            xs = [X.requires_grad_()] + ([] if W is None else [W.requires_grad_()])
            y = layer(*xs) if W is not None else layer(xs[0], None)
            return [y] + list(torch.autograd.grad(y, xs, grad_outputs=G))
        cases[name] = (fwd, fwd_bwd)
    return cases


def torch_cnn(torch, host):
    F = torch.nn.functional
    x = torch.from_numpy(host["conv1 3x3x1->16"][0]).permute(0, 3, 1, 2).contiguous()
    w1, w2 = (torch.from_numpy(host[n][1]).permute(3, 2, 0, 1).contiguous().requires_grad_()
              for n in ("conv1 3x3x1->16", "conv2 3x3x16->32"))

    def step():
        h = F.max_pool2d(torch.relu(F.conv2d(x, w1, padding=1)), 2)
        y = F.max_pool2d(torch.relu(F.conv2d(h, w2, padding=1)), 2)
        loss = (y * y).sum()
        return [loss] + list(torch.autograd.grad(loss, (w1, w2)))
    return step


def check(name, ef_out, torch_out):
    for i, (a, b) in enumerate(zip(ef_out, torch_out)):
        a = a.numpy()
        b = b.detach().numpy()
        if b.ndim == 4:
            b = b.transpose(2, 3, 1, 0) if b.shape[2:] == (3, 3) else b.transpose(0, 2, 3, 1)
        _agree(f"{name} output {i}", a, b, rtol=1e-4, atol=1e-4)


def per_call(fn, clock):
    def loop(n):
        start = clock()
        for _ in range(n):
            fn()
        return (clock() - start) / n
    return loop


# -- main ------------------------------------------------------------------------------------------

def main(args):
    import torch
    torch.set_num_threads(args.threads)
    limits = limit_threads(args.threads)  # noqa: F841  (held while main runs)
    host = data()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    efc, tc = ef_cases(host), torch_cases(torch, host)
    rows = []
    for name in LAYERS:
        for which, label in ((0, "forward"), (1, "forward+backward")):
            check(f"{name} {label}", efc[name][which](), tc[name][which]())
            times = measure({"eagerflow": per_call(efc[name][which], clock),
                             "torch": per_call(tc[name][which], clock)}, args.repeat,
                            args.min_time)
            rows.append((f"{name} {label}", times))
    ef_step, t_step = ef_cnn(host), torch_cnn(torch, host)
    check("cnn", ef_step(), t_step())
    rows.append(("cnn conv-pool-conv-pool forward+backward",
                 measure({"eagerflow": per_call(ef_step, clock),
                          "torch": per_call(t_step, clock)}, args.repeat, args.min_time)))

    print(f"eagerflow {ef.__version__} (NumPy {np.__version__}) vs torch {torch.__version__}; "
          f"python {platform.python_version()}, {args.threads} thread(s); medians of "
          f"{args.repeat} rounds, {args.clock} clock")
    for line in blas_summary():
        print("  " + line)
    print(f"{'case':<44} {'eagerflow':>10} {'torch':>10} {'ratio':>7}")
    out = []
    for name, times in rows:
        e, t = statistics.median(times["eagerflow"]), statistics.median(times["torch"])
        print(f"{name:<44} {_fmt_time(e):>10} {_fmt_time(t):>10} {e / t:>6.2f}x")
        out.append({"case": name, "eagerflow_s": e, "torch_s": t, "ratio": e / t,
                    "rounds": times})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "repeat": args.repeat, "clock": args.clock,
                       "results": out}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main(ARGS))
