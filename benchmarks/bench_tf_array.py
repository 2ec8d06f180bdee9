"""TensorFlow's array ops in eagerflow (NumPy backend) against NumPy and PyTorch (CPU), measured
in the same run. Section ``einsum`` (float32):

    python benchmarks/bench_tf_array.py [--quick] [--json PATH] [--threads N]

    ij,jk->ik          512x512 @ 512x512 (a matmul spelled as einsum)
    bij,bjk->bik       64 batches of 128x128 @ 128x128
    bhqd,bhkd->bhqk    attention scores: 8 batches, 8 heads, 128 queries and keys, d = 64
    ij,jk->ik small    16x16 @ 16x16 (the cost of a call, not of the arithmetic)
    bij,bjk fwd+bwd    the batched case and its gradient in both operands (eagerflow's tape
                       and einsum rule against autograd; NumPy has no gradients)

NumPy runs ``np.einsum`` twice: as called by default (``optimize=False``: its own loops) and
with ``optimize=True`` (it may route through BLAS ``tensordot``). Times are medians over
``--repeat`` rounds of the mean time per call of a loop lasting at least ``--min-time``
seconds; the libraries take turns within each round, so a busy phase of a shared machine slows
them alike. Each case first checks that every library computes the same values.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys

if __name__ == "__main__":
    # BLAS reads its thread count when it loads, and without threadpoolctl (limit_threads)
    # OpenBLAS would start a thread per core of the host on a shared machine: set it first.
    _n = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, _n)

import numpy as np
from bench_dispatch import _calibrate, _fmt_time, _loop_time, limit_threads

import eagerflow_core as ef

SIDES = ("eagerflow", "numpy", "numpy-opt", "torch")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short run: 3 rounds of ~50 ms loops")
    p.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    p.add_argument("--threads", type=int, default=1, help="threads per library (default 1)")
    p.add_argument("--repeat", type=int, help="rounds per case (default 7, quick 3)")
    p.add_argument("--min-time", type=float, help="seconds per loop (default 0.2, quick 0.05)")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    args = p.parse_args(argv)
    args.repeat = args.repeat or (3 if args.quick else 7)
    args.min_time = args.min_time or (0.05 if args.quick else 0.2)
    return args


def _einsum_case(torch, eq, shapes, rng):
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    calls = {"eagerflow": (lambda *t: ef.einsum(eq, *t), [ef.asarray(x) for x in xs]),
             "numpy": (lambda *a: np.einsum(eq, *a), xs),
             "numpy-opt": (lambda *a: np.einsum(eq, *a, optimize=True), xs)}
    if torch is not None:
        calls["torch"] = (lambda *t: torch.einsum(eq, *t), [torch.from_numpy(x) for x in xs])
    return calls


def _grad_case(torch, rng):
    eq, shapes = "bij,bjk->bik", [(64, 128, 128), (64, 128, 128)]
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]

    def ef_step(a, b):
        return ef.grad(lambda p, q: ef.sum(ef.einsum(eq, p, q)), argnums=(0, 1))(a, b)
    calls = {"eagerflow": (ef_step, [ef.asarray(x) for x in xs])}
    if torch is not None:
        def torch_step(a, b):
            a, b = a.detach().requires_grad_(True), b.detach().requires_grad_(True)
            torch.einsum(eq, a, b).sum().backward()
            return a.grad, b.grad
        calls["torch"] = (torch_step, [torch.from_numpy(x) for x in xs])
    return calls


def einsum_cases(torch):
    rng = np.random.default_rng(0)
    return [
        ("einsum ij,jk->ik 512", _einsum_case(torch, "ij,jk->ik", [(512, 512)] * 2, rng)),
        ("einsum bij,bjk->bik 64x128", _einsum_case(torch, "bij,bjk->bik",
                                                    [(64, 128, 128)] * 2, rng)),
        ("einsum bhqd,bhkd->bhqk", _einsum_case(torch, "bhqd,bhkd->bhqk",
                                                [(8, 8, 128, 64)] * 2, rng)),
        ("einsum ij,jk->ik 16", _einsum_case(torch, "ij,jk->ik", [(16, 16)] * 2, rng)),
        ("einsum bij,bjk fwd+bwd", _grad_case(torch, rng)),
    ]


def _host(out):
    if isinstance(out, (tuple, list)):
        return np.concatenate([_host(o).ravel() for o in out])
    if isinstance(out, ef.Tensor):
        return out.numpy()
    if hasattr(out, "detach"):
        return out.detach().numpy()
    return np.asarray(out)


def run_case(name, calls, repeat, min_time):
    results = {side: _host(fn(*xs)) for side, (fn, xs) in calls.items()}
    want = next(iter(results.values())).astype(np.float64)
    for side, got in results.items():
        if got.dtype != np.float32 or not np.allclose(got, want, rtol=1e-3,
                                                      atol=1e-3 * np.abs(want).max()):
            raise SystemExit(f"{name}: {side} disagrees (dtype {got.dtype})")
    loops = {side: _calibrate(fn, xs, lambda: None, min_time) for side, (fn, xs) in calls.items()}
    rounds = {side: [] for side in calls}
    for _ in range(repeat):
        for side, (fn, xs) in calls.items():
            rounds[side].append(_loop_time(fn, xs, loops[side], lambda: None))
    return {"case": name, "seconds": {k: statistics.median(v) for k, v in rounds.items()},
            "rounds": rounds, "loops": loops}


def table(rows):
    ratio_of = ("numpy", "numpy-opt", "torch")
    out = [f"{'case':<28}" + "".join(f"{h:>11}" for h in SIDES)
           + "".join(f"{'ef/' + k:>14}" for k in ratio_of)]
    for row in rows:
        sec = row["seconds"]
        out.append(f"{row['case']:<28}" + "".join(f"{_fmt_time(sec.get(k)):>11}" for k in SIDES)
                   + "".join(f"{sec['eagerflow'] / sec[k]:>14.2f}" if k in sec else f"{'-':>14}"
                             for k in ratio_of))
    return "\n".join(out)


def _torch(args):
    """PyTorch with ``args.threads`` threads, or None (left out, or not installed)."""
    if args.no_torch:
        return None
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(args.threads)
    return torch


def main(args):
    torch = _torch(args)
    pools = limit_threads(args.threads)  # noqa: F841  (the limits hold while it lives)
    print(f"eagerflow {ef.__version__} (NumPy backend), numpy {np.__version__}, torch "
          f"{torch.__version__ if torch else '-'}; Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, threads {args.threads}; median of {args.repeat} rounds of "
          f">= {args.min_time} s loops")
    rows = []
    with ef.device("cpu"):
        for name, calls in einsum_cases(torch):
            rows.append(run_case(name, calls, args.repeat, args.min_time))
            print(f"  {name}: done", file=sys.stderr)
    print(table(rows))
    print("ratios > 1: eagerflow slower")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "repeat": args.repeat, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main(parse_args())
