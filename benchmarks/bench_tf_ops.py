"""TensorFlow's gather / scatter ops in eagerflow (NumPy backend) against PyTorch (CPU) and raw
NumPy, measured in the same run.

    python benchmarks/bench_tf_ops.py [--quick] [--json PATH] [--threads N] [--clock cpu]

(the options of bench_nn_ops.py, whose parser this reuses)

Cases (float32, the sizes of an embedding layer's step):
  gather           ef.gather(table, idx): a 50,000 x 128 table, 4096 row indices; torch
                   index_select, NumPy np.take
  gather_grad      forward and gradient of that lookup: ef.grad through ef.gather (its rule
                   is an unsorted_segment_sum into the table's rows); torch autograd through
                   index_select; NumPy zeros + np.add.at (the gradient alone)
  scatter_add      ef.tensor_scatter_nd_add(table, idx[:, None], updates): a copy of the
                   table with 4096 rows added (repeats accumulate); torch clone().index_add_;
                   NumPy copy + np.add.at
  segment_sum      ef.unsorted_segment_sum(updates, idx, 50000); torch zeros.index_add_; NumPy
                   zeros + np.add.at
  segment_sum_few  ef.unsorted_segment_sum into 512 segments (many repeats); torch
                   zeros.index_add_; NumPy zeros + np.add.at
  sorted_segments  ef.segment_sum with 4096 sorted ids over 512 segments; torch
                   segment_reduce("sum", lengths); NumPy np.add.reduceat

Every case first checks that the three agree. Times are medians over ``--repeat`` rounds of
the mean time per call of a loop lasting at least ``--min-time`` s (bench_autodiff.measure);
the libraries take turns within each round. Ratios are eagerflow's time over the other's
(below 1: eagerflow faster).
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np
from bench_autodiff import _agree, measure
from bench_dispatch import limit_threads
from bench_nn_ops import parse_args, per_call  # the same options: --quick, --threads, --clock...

import eagerflow_core as ef

ROWS, DIM, BATCH, FEW = 50_000, 128, 4096, 512


def cases(torch):
    rng = np.random.default_rng(0)
    table = rng.standard_normal((ROWS, DIM)).astype(np.float32)
    idx = rng.integers(0, ROWS, BATCH)
    few = rng.integers(0, FEW, BATCH)
    sorted_few = np.sort(few)
    upd = rng.standard_normal((BATCH, DIM)).astype(np.float32)
    cot = rng.standard_normal((BATCH, DIM)).astype(np.float32)
    e_table, e_idx, e_upd, e_cot = (ef.asarray(a) for a in (table, idx, upd, cot))
    e_few, e_sorted = ef.asarray(few), ef.asarray(sorted_few)
    t_table, t_idx, t_upd, t_cot = (torch.from_numpy(a) for a in (table, idx, upd, cot))
    t_few = torch.from_numpy(few)
    t_lengths = torch.from_numpy(np.bincount(sorted_few, minlength=FEW))
    leaf = t_table.clone().requires_grad_(True)
    starts = np.searchsorted(sorted_few, np.arange(FEW))

    def np_add_at(out, rows, values):
        np.add.at(out, rows, values)
        return out

    def torch_gather_grad():
        leaf.grad = None
        torch.index_select(leaf, 0, t_idx).backward(t_cot)
        return leaf.grad

    def np_reduceat():
        out = np.add.reduceat(upd, np.minimum(starts, BATCH - 1), axis=0)
        out[np.bincount(sorted_few, minlength=FEW) == 0] = 0
        return out

    gather_grad = ef.grad(lambda t: ef.sum(ef.gather(t, e_idx) * e_cot))
    return {
        "gather": (lambda: ef.gather(e_table, e_idx),
                   lambda: torch.index_select(t_table, 0, t_idx),
                   lambda: np.take(table, idx, axis=0)),
        "gather_grad": (lambda: gather_grad(e_table), torch_gather_grad,
                        lambda: np_add_at(np.zeros_like(table), idx, cot)),
        "scatter_add": (lambda: ef.tensor_scatter_nd_add(e_table, e_idx[:, None], e_upd),
                        lambda: t_table.clone().index_add_(0, t_idx, t_upd),
                        lambda: np_add_at(table.copy(), idx, upd)),
        "segment_sum": (lambda: ef.unsorted_segment_sum(e_upd, e_idx, ROWS),
                        lambda: torch.zeros(ROWS, DIM).index_add_(0, t_idx, t_upd),
                        lambda: np_add_at(np.zeros((ROWS, DIM), np.float32), idx, upd)),
        "segment_sum_few": (lambda: ef.unsorted_segment_sum(e_upd, e_few, FEW),
                            lambda: torch.zeros(FEW, DIM).index_add_(0, t_few, t_upd),
                            lambda: np_add_at(np.zeros((FEW, DIM), np.float32), few, upd)),
        "sorted_segments": (lambda: ef.segment_sum(e_upd, e_sorted),
                            lambda: torch.segment_reduce(t_upd, "sum", lengths=t_lengths),
                            np_reduceat),
    }


def _host(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def main(args):
    import torch
    torch.set_num_threads(args.threads)
    limits = limit_threads(args.threads)  # noqa: F841  (held while main runs)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    table = cases(torch)
    print(f"bench_tf_ops: eagerflow {ef.__version__} (NumPy backend), NumPy {np.__version__}, "
          f"PyTorch {torch.__version__}; {args.threads} thread(s), {args.clock} clock, medians "
          f"of {args.repeat} rounds; on a shared machine compare the ratios, not the times")
    results = {}
    for name, fns in table.items():
        want = _host(fns[2]())
        for lib, fn in zip(("eagerflow", "torch"), fns[:2]):
            _agree(f"{name}: {lib} against NumPy", _host(fn()), want, rtol=1e-4, atol=1e-4)
        rounds = measure({lib: per_call(fn, clock)
                          for lib, fn in zip(("eagerflow", "torch", "numpy"), fns)},
                         args.repeat, args.min_time)
        med = {lib: statistics.median(v) for lib, v in rounds.items()}
        results[name] = {"median_s": med, "rounds_s": rounds,
                         "ef/torch": med["eagerflow"] / med["torch"],
                         "ef/numpy": med["eagerflow"] / med["numpy"]}
    print(f"{'case':<16}{'eagerflow':>12}{'torch':>12}{'numpy':>12}{'ef/torch':>10}"
          f"{'ef/numpy':>10}")
    for name, r in results.items():
        m = r["median_s"]
        print(f"{name:<16}" + "".join(f"{m[k] * 1e3:>10.3f}ms" for k in m)
              + f"{r['ef/torch']:>10.2f}{r['ef/numpy']:>10.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "repeat": args.repeat, "clock": args.clock,
                       "cases": results}, f, indent=1)
    return results


if __name__ == "__main__":
    sys.exit(0 if main(parse_args()) else 1)
