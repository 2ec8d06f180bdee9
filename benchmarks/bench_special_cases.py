"""What the NumPy backend's special-case corrections cost on ordinary (finite) inputs.

    python benchmarks/bench_special_cases.py [--quick] [--json PATH] [--stat min]

The NumPy backend corrects a few kernels where NumPy differs from the standard's special cases
(issue #8; ``backends/numpy_backend/eagerflow_numpy/_elementwise.py``): ``floor_divide`` at
infinities, complex ``expm1``, and the zero part of complex ``tanh``/``tan``. Each computes with
the ufunc, then looks for a non-finite input (or reads NumPy's "invalid" flag) and masks only
when one is there. This measures each corrected kernel against the uncorrected one (the ufunc,
quieted as before) on finite float32 / complex64 inputs of 4M elements and of shape (8,), and
the same through ``ef.<op>`` (the eager call, with the kernel table's entry swapped), where the
tiny case's fixed costs are what a user sees. The ``check`` column times the test for a
non-finite input alone (``_finite``; none for real inputs of the complex-only corrections): the
cost the correction adds by construction, steadier on a busy machine than a difference of two
timings.

Each time is the median (or ``--stat min``) over ``--repeat`` rounds of the mean time per call
of a loop lasting ``--min-time`` seconds; both kernels are timed in turn within each round.
Target: corrected / uncorrected <= 1.05.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

TARGET = 1.05


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short run: 3 rounds of ~20 ms loops")
    p.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    p.add_argument("--repeat", type=int, help="rounds per case (default 7, quick 3)")
    p.add_argument("--min-time", type=float,
                   help="seconds per timing loop (default 0.2, quick 0.05)")
    p.add_argument("--stat", choices=("median", "min"), default="median",
                   help="statistic over the rounds (min resists a busy machine)")
    args = p.parse_args(argv)
    args.repeat = args.repeat or (3 if args.quick else 7)
    args.min_time = args.min_time or (0.05 if args.quick else 0.2)
    return args


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"

import numpy as np
from eagerflow_numpy import _elementwise as K

import eagerflow_core as ef

# op -> (uncorrected kernel, as the table held it before, dtypes measured)
UNCORRECTED = {
    "floor_divide": (K._quiet(np.floor_divide), ("float32",)),
    "expm1": (K._quiet(np.expm1), ("float32", "complex64")),
    "tanh": (np.tanh, ("float32", "complex64")),
    "tan": (K._quiet(np.tan), ("float32", "complex64")),
}
SIZES = {"4M": 4_000_000, "tiny": 8}


def inputs(op, dtype, n):
    """Finite inputs: the common case the corrections must not slow down."""
    rng = np.random.default_rng(0)

    def draw(lo, hi):
        x = rng.uniform(lo, hi, n)
        if dtype == "complex64":
            x = x + 1j * rng.uniform(lo, hi, n)
        return x.astype(dtype)
    if op == "floor_divide":
        return draw(-100, 100), draw(0.5, 10)
    return (draw(-3, 3),)


def per_call(fn, args, min_time):
    """Mean seconds per call of a loop lasting at least ``min_time``."""
    fn(*args)
    n, elapsed = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn(*args)
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time:
            return elapsed / n
        n = max(n * 2, int(n * min_time / max(elapsed, 1e-9) * 1.2))


def swapped(op, kernel):
    """The eager call with ``kernel`` installed once (no swap inside the timed loop)."""
    dev = ef.device("cpu")
    fn = getattr(ef, op)

    class Installed:
        def __enter__(self):
            self.saved = dev.kernels[op]
            dev.kernels[op] = kernel

        def __exit__(self, *exc):
            dev.kernels[op] = self.saved
    return fn, Installed()


def run(args):
    stat = statistics.median if args.stat == "median" else min
    rows = []
    for op, (old, dtypes) in UNCORRECTED.items():
        new = K.KERNELS[op]
        for dtype in dtypes:
            for size_name, n in SIZES.items():
                host = inputs(op, dtype, n)
                with np.errstate(all="ignore"):
                    a, b = old(*host), new(*host)
                np.testing.assert_array_equal(a, b)  # finite inputs: nothing to correct
                levels = [("kernel", old, new, host)]
                if size_name == "tiny":  # the eager call: what a user of a tiny op sees
                    tensors = tuple(ef.asarray(h) for h in host)
                    levels.append(("ef." + op, old, new, tensors))
                for level, k_old, k_new, call_args in levels:
                    times = {"uncorrected": [], "corrected": []}
                    for _ in range(args.repeat):
                        for label, kernel in (("uncorrected", k_old), ("corrected", k_new)):
                            if level == "kernel":
                                fn, ctx = kernel, None
                            else:
                                fn, ctx = swapped(op, kernel)
                            if ctx is None:
                                times[label].append(per_call(fn, call_args, args.min_time))
                            else:
                                with ctx, np.errstate(all="ignore"):
                                    times[label].append(per_call(fn, call_args, args.min_time))
                    t_old, t_new = stat(times["uncorrected"]), stat(times["corrected"])
                    check = None
                    if level == "kernel" and (op == "floor_divide" or dtype == "complex64"):
                        probe = host[-1]  # the divisor, or the complex input
                        check = stat([per_call(K._finite, (probe,), args.min_time)
                                      for _ in range(args.repeat)])
                    rows.append({"op": op, "dtype": dtype, "size": size_name, "level": level,
                                 "uncorrected_s": t_old, "corrected_s": t_new,
                                 "ratio": t_new / t_old, "check_s": check, "rounds": times})
                    print(_line(rows[-1]), flush=True)
    return rows


def _fmt(seconds):
    return f"{seconds * 1e6:10.2f} us" if seconds < 1e-3 else f"{seconds * 1e3:10.2f} ms"


def _line(r):
    mark = "ok" if r["ratio"] <= TARGET else "MISSED"
    check = "" if r["check_s"] is None else (f"   check {_fmt(r['check_s']).strip()} = "
                                             f"{r['check_s'] / r['uncorrected_s']:.3f}")
    return (f"{r['op']:13s} {r['dtype']:10s} {r['size']:5s} {r['level']:16s}"
            f"{_fmt(r['uncorrected_s'])} {_fmt(r['corrected_s'])}   {r['ratio']:6.3f}  {mark:6s}"
            f"{check}")


def main():
    args = ARGS
    print(f"bench_special_cases: numpy {np.__version__}, python {platform.python_version()}, "
          f"{platform.machine()}; {args.stat} of {args.repeat} rounds, loops of "
          f">= {args.min_time} s; target corrected/uncorrected <= {TARGET}")
    print(f"{'op':13s} {'dtype':10s} {'size':5s} {'level':16s}{'uncorrected':>13s} "
          f"{'corrected':>13s}   ratio")
    rows = run(args)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"numpy": np.__version__, "stat": args.stat, "repeat": args.repeat,
                       "min_time": args.min_time, "rows": rows}, fh, indent=2)


if __name__ == "__main__":
    main()
