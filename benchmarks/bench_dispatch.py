"""Per-op cost of eagerflow against raw NumPy and PyTorch, measured in the same run.

    python benchmarks/bench_dispatch.py [--quick] [--json PATH] [--threads N] [--device cpu]

Tiny ops (shape (8,) float32, an 8x8 matmul, a chain of 10 elementwise ops) measure what
eagerflow adds to every call: dispatch, dtype rule, wrapping. Large ops (4M-element add and exp,
a 1024x1024 matmul) measure that nothing is added to the kernel itself. Each time is the median
(or ``--stat min``), over ``--repeat`` rounds, of the mean time per call of a loop long enough
to last ``--min-time`` seconds; the three libraries are measured in turn within each round, so
that a slow phase of the machine hits them alike.

Targets (see benchmarks/README.md): tiny ops no slower than PyTorch (eagerflow/PyTorch <= 1.0),
large ops within 5% of raw NumPy (eagerflow/NumPy <= 1.05). ``--check`` exits 1 if one is missed.

With ``--device cuda`` eagerflow runs on the GPU, raw CuPy stands in for NumPy, PyTorch runs on
``"cuda"``, and each timing loop ends with a device synchronisation.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

TINY_TARGET = 1.0    # eagerflow / PyTorch, tiny ops
LARGE_TARGET = 1.05  # eagerflow / raw NumPy, large ops


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short run: 3 rounds of ~20 ms loops")
    p.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for NumPy's BLAS and PyTorch (default 1: like against like)")
    p.add_argument("--repeat", type=int, help="rounds per case (default 7, quick 3)")
    p.add_argument("--min-time", type=float,
                   help="seconds per timing loop (default 0.1, quick 0.02)")
    p.add_argument("--device", default="cpu", help="eagerflow device: cpu (default) or cuda")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    p.add_argument("--stat", choices=("median", "min"), default="median",
                   help="statistic over the rounds shown and judged (min resists a busy machine)")
    p.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = p.parse_args(argv)
    args.repeat = args.repeat or (3 if args.quick else 7)
    args.min_time = args.min_time or (0.02 if args.quick else 0.1)
    return args


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    # Before NumPy loads its BLAS: the pools read these once, at load time.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

import eagerflow_core as ef  # noqa: E402

# -- the three sides -----------------------------------------------------------------------------

class Side:
    """One library under test: how to make its arrays, call its ops, and wait for its device."""

    def __init__(self, name, xp, asarray, sync=lambda: None, tolist=None):
        self.name = name
        self.xp = xp              # module with add, multiply, exp, sum, matmul, ...
        self.asarray = asarray    # host float32 NumPy array -> this side's array
        self.sync = sync
        self.tolist = tolist or (lambda a: np.asarray(a).tolist())


def eagerflow_side(device):
    dev = ef.device(device)
    # The execution contract: a no-op on the CPU, the device's own wait on a GPU.
    sync = (lambda: None) if dev.type == "cpu" else (lambda: ef.synchronize(dev))  # noqa: E731
    return Side("eagerflow", ef, lambda a: ef.asarray(a, device=dev), sync=sync,
                tolist=lambda t: t.tolist())


def raw_side(device):
    if device.startswith("cuda"):
        import cupy
        return Side("cupy", cupy, cupy.asarray, sync=cupy.cuda.Device().synchronize,
                    tolist=lambda a: cupy.asnumpy(a).tolist())
    return Side("numpy", np, lambda a: a)


def torch_side(device, threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    where = "cuda" if device.startswith("cuda") else "cpu"
    sync = torch.cuda.synchronize if where == "cuda" else (lambda: None)
    return Side("torch", torch, lambda a: torch.from_numpy(a.copy()).to(where), sync=sync,
                tolist=lambda t: t.cpu().tolist())


# -- the cases -------------------------------------------------------------------------------

def _chain(xp):
    """Ten elementwise ops, tensor-tensor and tensor-scalar, in one expression chain."""
    add, mul, sub, exp = xp.add, xp.multiply, xp.subtract, xp.exp
    tanh, mx, neg, sq = xp.tanh, xp.maximum, xp.negative, xp.sqrt
    absf = xp.abs

    def run(x, y):
        t = add(x, y)
        t = mul(t, y)
        t = sub(t, x)
        t = absf(t)
        t = sq(t)
        t = add(t, 1.0)
        t = exp(t)
        t = tanh(t)
        t = mx(t, x)
        return neg(t)
    return run


# (group, name, input shapes, op on a Side's namespace)
CASES = [
    ("tiny", "add (8,)", [(8,), (8,)], lambda xp: xp.add),
    ("tiny", "mul (8,)", [(8,), (8,)], lambda xp: xp.multiply),
    ("tiny", "exp (8,)", [(8,)], lambda xp: xp.exp),
    ("tiny", "sum (8,)", [(8,)], lambda xp: xp.sum),
    ("tiny", "matmul 8x8", [(8, 8), (8, 8)], lambda xp: xp.matmul),
    ("tiny", "chain of 10 (8,)", [(8,), (8,)], _chain),
    ("large", "add 4M", [(4 * 1024 * 1024,), (4 * 1024 * 1024,)], lambda xp: xp.add),
    ("large", "exp 4M", [(4 * 1024 * 1024,)], lambda xp: xp.exp),
    ("large", "matmul 1024x1024", [(1024, 1024), (1024, 1024)], lambda xp: xp.matmul),
]


def _loop_time(fn, args, number, sync):
    start = time.perf_counter()
    for _ in range(number):
        fn(*args)
    sync()
    return (time.perf_counter() - start) / number


def _calibrate(fn, args, sync, min_time):
    """Loop length (1, 2, 5, 10, 20, ...) whose run lasts at least ``min_time``."""
    number = 1
    while True:
        for step in (1, 2, 5):
            n = number * step
            if _loop_time(fn, args, n, sync) * n >= min_time:
                return n
        number *= 10


def run_case(case, sides, repeat, min_time, stat="median"):
    group, name, shapes, make = case
    rng = np.random.default_rng(0)
    host = [rng.uniform(-1.0, 1.0, s).astype(np.float32) for s in shapes]
    calls = []
    for side in sides:
        fn = make(side.xp)
        args = [side.asarray(h) for h in host]
        fn(*args)  # warm-up: first-use work (backend start, kernel compiles) is not per-op cost
        side.sync()
        calls.append((side, fn, args, _calibrate(fn, args, side.sync, min_time)))
    _check_agree(name, [(side, fn(*args)) for side, fn, args, _ in calls])
    times = {side.name: [] for side in sides}
    for _ in range(repeat):
        for side, fn, args, number in calls:
            times[side.name].append(_loop_time(fn, args, number, side.sync))
    return {"group": group, "case": name,
            "seconds": {k: (min(v) if stat == "min" else statistics.median(v))
                        for k, v in times.items()},
            "stat": stat, "rounds": times,
            "loops": {side.name: number for side, _, _, number in calls}}


def _check_agree(name, results):
    """All sides compute the same values: a benchmark of a wrong result means nothing."""
    ref_side, ref = results[0]
    want = np.asarray(ref_side.tolist(ref), dtype=np.float64)
    for side, out in results[1:]:
        got = np.asarray(side.tolist(out), dtype=np.float64)
        scale = max(1.0, float(np.abs(want).max(initial=0.0)))
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-4 * scale):
            raise SystemExit(f"{name}: {side.name} disagrees with {ref_side.name}")


# -- reporting ---------------------------------------------------------------------------------

def _fmt_time(s):
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def _ratio(a, b):
    return None if a is None or b is None else a / b


def verdicts(rows, raw_name):
    """Each row's target: (ratio name, ratio, limit, met)."""
    out = []
    for r in rows:
        sec = r["seconds"]
        if r["group"] == "tiny":
            ratio = _ratio(sec["eagerflow"], sec.get("torch"))
            met = None if ratio is None else ratio <= TINY_TARGET
            out.append(("ef/torch", ratio, TINY_TARGET, met))
        else:
            ratio = _ratio(sec["eagerflow"], sec[raw_name])
            out.append((f"ef/{raw_name}", ratio, LARGE_TARGET, ratio <= LARGE_TARGET))
    return out


def table(rows, raw_name):
    head = ["case", "eagerflow", raw_name, "torch", f"ef/{raw_name}", "ef/torch", "target"]
    lines = []
    for r, (rname, ratio, limit, met) in zip(rows, verdicts(rows, raw_name)):
        sec = r["seconds"]
        rn, rt = _ratio(sec["eagerflow"], sec[raw_name]), _ratio(sec["eagerflow"], sec.get("torch"))
        target = "-" if met is None else f"{rname} <= {limit:g}: {'ok' if met else 'MISSED'}"
        lines.append([f"{r['group']} {r['case']}", _fmt_time(sec["eagerflow"]),
                      _fmt_time(sec[raw_name]), _fmt_time(sec.get("torch")),
                      "-" if rn is None else f"{rn:.2f}x", "-" if rt is None else f"{rt:.2f}x",
                      target])
    widths = [max(len(x[i]) for x in [head] + lines) for i in range(len(head))]
    align = [str.ljust] + [str.rjust] * 5 + [str.ljust]
    fmt = lambda row: "  ".join(a(c, w) for a, c, w in zip(align, row, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(x) for x in lines])


def blas_summary():
    """One short line per thread pool (BLAS, OpenMP) loaded in this process."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["threadpoolctl not installed; BLAS details unknown"]
    out = []
    for p in threadpool_info():
        extra = ", ".join(str(p[k]) for k in ("architecture", "threading_layer") if p.get(k))
        out.append(f"{p['internal_api']} {p.get('version') or ''} ({p['prefix']}"
                   f"{', ' + extra if extra else ''}): {p['num_threads']} threads")
    return out


def limit_threads(n):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=n)  # keep the object: limits hold while it lives


def main(args):
    sides = [eagerflow_side(args.device), raw_side(args.device)]
    torch_ = None if args.no_torch else torch_side(args.device, args.threads)
    if torch_ is not None:
        sides.append(torch_)
    limiter = limit_threads(args.threads)  # noqa: F841  (after torch loaded its OpenMP)
    raw_name = sides[1].name

    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "eagerflow": ef.__version__}
    if torch_ is not None:
        versions["torch"] = torch_.xp.__version__
    if raw_name == "cupy":
        versions["cupy"] = sides[1].xp.__version__
    dev = ef.device(args.device)
    print(f"eagerflow dispatch benchmark: eagerflow on {dev}, threads={args.threads} "
          f"(torch.get_num_threads()={torch_.xp.get_num_threads() if torch_ else '-'}), "
          f"{args.stat} of {args.repeat} rounds, loops of >= {args.min_time:g} s")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items())
          + f"; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    for line in blas_summary():
        print("  " + line)
    if torch_ is None and not args.no_torch:
        print("PyTorch is not importable: its column stays empty")

    rows = []
    for case in CASES:
        rows.append(run_case(case, sides, args.repeat, args.min_time, args.stat))
        if sys.stderr.isatty():
            print(f"  measured {case[0]} {case[1]}", file=sys.stderr)
    print()
    print(table(rows, raw_name))

    marks = verdicts(rows, raw_name)
    tiny = [ratio for (r, (_, ratio, _, _)) in zip(rows, marks) if r["group"] == "tiny" and ratio]
    if tiny:
        gmean = math.exp(sum(math.log(x) for x in tiny) / len(tiny))
        print(f"\ntiny ops, geometric mean of ef/torch: {gmean:.2f}x (target <= {TINY_TARGET:g})")
    missed = [f"{r['group']} {r['case']}" for r, m in zip(rows, marks) if m[3] is False]
    print("targets: all met" if not missed else f"targets missed: {', '.join(missed)}")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": str(dev), "threads": args.threads, "repeat": args.repeat,
                   "stat": args.stat,
                       "min_time": args.min_time, "quick": args.quick, "versions": versions,
                       "blas": blas_summary(), "platform": platform.platform(),
                       "targets": {"tiny_ef_over_torch": TINY_TARGET,
                                   "large_ef_over_raw": LARGE_TARGET},
                       "results": [dict(r, target=dict(zip(("ratio", "value", "limit", "met"), m)))
                                   for r, m in zip(rows, marks)]}, f, indent=2)
        print(f"saved {args.json}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
