"""``make gpu-check``: everything that needs a GPU, in order, on a lent GPU machine.

    python -m eagerflow_cuda.gpu_check [--python PY] [--quick] [--dry-run] [--only STEP ...]

Run from the repository root after the packages are installed (the Makefile installs them with
``pip install --no-deps -e``: the GPU machine has no network). The steps:

1. ``build``: the csrc compile check (NVRTC required; nvcc where present);
2. ``info``: ``eagerflow info`` (the cuda backend must be listed ``ok``);
3. ``tests``: the backend's tests and the cross-backend suite with ``EAGERFLOW_REQUIRE_GPU=1``
   (no GPU: the run stops at once; a skip is a failure), less the ``cpu_only`` ones;
4. ``conformance``: the conformance kit on ``cuda``, strict (an op that fell back fails);
5. ``doctests``: the docstring and guide examples with ``EAGERFLOW_DEVICE=cpu`` (they print
   ``device='cpu:0'``);
6. ``bench``: ``benchmarks/bench_cuda.py`` against PyTorch CUDA.

Each step runs in its own process with a time limit; all steps run even if one fails, then a
table of outcomes and times is printed and the exit status is 1 if any step failed. The limits
add up to under 8 minutes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field


@dataclass
class Step:
    name: str
    argv: list[str]
    limit_s: int
    env: dict[str, str] = field(default_factory=dict)


def steps(python: str, quick: bool = False) -> list[Step]:
    examples = "3" if quick else "8"
    return [
        Step("build", [python, "-m", "eagerflow_cuda.build", "--check", "--require-nvrtc"], 90),
        Step("info", [python, "-m", "eagerflow_core.cli", "info"], 30),
        Step("tests", [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m",
                       "not cpu_only", "backends/cuda_backend/tests", "tests/backends"], 150,
             env={"EAGERFLOW_REQUIRE_GPU": "1"}),
        Step("conformance", [python, "-m", "eagerflow_core.cli", "conformance", "--backend",
                             "cuda", "--strict", "--max-examples", examples], 90,
             env={"EAGERFLOW_REQUIRE_GPU": "1"}),
        Step("doctests", [python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "--doctest-modules", "eagerflow_core",
                          "backends/numpy_backend/eagerflow_numpy",
                          "backends/cuda_backend/eagerflow_cuda", "--doctest-glob=*.md", "docs",
                          "--ignore=docs/examples"], 45, env={"EAGERFLOW_DEVICE": "cpu"}),
        Step("bench", [python, "benchmarks/bench_cuda.py"] + (["--quick"] if quick else []), 75),
    ]


def run(step: Step) -> tuple[str, float, str]:
    """(outcome, seconds, output tail) of one step: ok, FAILED (exit n), TIMED OUT."""
    env = {**os.environ, **step.env}
    start = time.monotonic()
    try:
        proc = subprocess.run(step.argv, env=env, capture_output=True, text=True,
                              timeout=step.limit_s)
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) \
            else (exc.stdout or "")
        return f"TIMED OUT after {step.limit_s} s", time.monotonic() - start, out
    took = time.monotonic() - start
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        return f"FAILED (exit {proc.returncode})", took, out
    if step.name == "info" and not cuda_listed_ok(out):
        return "FAILED (the cuda backend is not listed ok)", took, out
    return "ok", took, out


def cuda_listed_ok(info: str) -> bool:
    """Whether ``eagerflow info`` lists the cuda backend with status ``ok``."""
    for line in info.splitlines():
        cols = line.split()
        if cols[:2] == ["cuda", "cuda"]:
            return "ok" in cols[2:] and "unavailable" not in cols
    return False


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m eagerflow_cuda.gpu_check",
                                description=__doc__.split("\n")[0])
    p.add_argument("--python", default=sys.executable, help="the interpreter of every step")
    p.add_argument("--quick", action="store_true", help="fewer examples, a shorter benchmark")
    p.add_argument("--only", nargs="+", metavar="STEP", help="run only these steps")
    p.add_argument("--dry-run", action="store_true", help="print the steps, run nothing")
    args = p.parse_args(argv)
    todo = [s for s in steps(args.python, args.quick) if not args.only or s.name in args.only]
    if args.dry_run:
        for s in todo:
            env = " ".join(f"{k}={v}" for k, v in s.env.items())
            print(f"{s.name:12s} <= {s.limit_s:3d} s  {env + ' ' if env else ''}{' '.join(s.argv)}")
        print(f"time limits add up to {sum(s.limit_s for s in todo)} s")
        return 0
    results = []
    for s in todo:
        print(f"== {s.name}: {' '.join(s.argv)}", flush=True)
        outcome, took, out = run(s)
        print(out.rstrip()[-6000:] if outcome != "ok" or s.name in ("info", "bench") else
              "\n".join(out.rstrip().splitlines()[-3:]), flush=True)
        results.append((s.name, outcome, took))
    print("\n== gpu-check summary")
    for name, outcome, took in results:
        print(f"{name:12s} {outcome:32s} {took:7.1f} s")
    print(f"{'total':12s} {'':32s} {sum(t for _, _, t in results):7.1f} s")
    return 0 if all(o == "ok" for _, o, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
