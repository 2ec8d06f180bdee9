"""What distributed training costs in eagerflow: collectives against raw mpi4py, and a
data-parallel MLP step against one process, measured in the same run.

    python benchmarks/bench_distributed.py [--quick] [--json PATH] [--ranks N]

(a) all_reduce: ``dist.all_reduce`` of a float32 tensor (1 KB to 64 MB) on ``--ranks`` ranks
    (default 2), against raw mpi4py on NumPy arrays in the same processes: the blocking
    ``comm.Allreduce(send, recv)`` into a preallocated buffer, the way an mpi4py program
    writes it. Bandwidth is the algorithm bandwidth, bytes / time (nccl-tests' ``algbw``).
    Target: eagerflow >= 0.9x raw mpi4py from 1 MB up. The last columns time raw
    ``comm.Iallreduce(...).Wait()``, the call eagerflow makes underneath, and the ratio to it:
    what eagerflow itself adds.
(b) mlp: one SGD step of a 784-512-512-10 ReLU MLP (global batch 128, float32) with
    ``DistributedOptimizer``, on ``--ranks`` ranks (each a 1/N shard of the batch) against
    one process on the whole batch: the step time ratio and the speed-up.

The script launches itself under ``mpirun`` (Open MPI's ``--oversubscribe`` and
``--allow-run-as-root``). Each time is the median over ``--repeat`` rounds of the mean time
per call of a loop; within a round eagerflow and mpi4py take turns, so a busy phase of a
shared machine slows both alike. Before timing, both give the same values.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

SIZES = [1 << k for k in range(10, 27, 2)]  # 1 KB ... 64 MB
MLP = (784, 512, 512, 10)
BATCH = 128
TARGET_FROM = 1 << 20
TARGET = 0.9


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="3 rounds of short loops")
    p.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    p.add_argument("--ranks", type=int, default=2, help="ranks of the distributed runs")
    p.add_argument("--repeat", type=int, help="rounds per case (default 7, quick 3)")
    p.add_argument("--child", choices=("allreduce", "mlp"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.repeat = args.repeat or (3 if args.quick else 7)
    return args


# -- the ranks' side -------------------------------------------------------------------------

def _timed(fn, reps, comm):
    comm.Barrier()
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


def child_allreduce(args):
    import numpy as np
    from mpi4py import MPI

    import eagerflow_core as ef
    from eagerflow_core import distributed as dist
    dist.init()
    comm = MPI.COMM_WORLD.Dup()
    rows = []
    budget = (1 << 26 if args.quick else 1 << 28)  # bytes per timing loop
    for nbytes in SIZES:
        host = np.full(nbytes // 4, dist.rank() + 1.0, np.float32)
        recv = np.empty_like(host)
        x = ef.asarray(host)
        comm.Allreduce(host, recv)
        assert np.array_equal(dist.all_reduce(x).numpy(), recv), "eagerflow and mpi4py differ"
        reps = max(3, min(2000, budget // nbytes))

        def raw():
            comm.Allreduce([host, MPI.FLOAT], [recv, MPI.FLOAT], MPI.SUM)

        def raw_nonblocking():  # what eagerflow calls underneath, without eagerflow
            comm.Iallreduce([host, MPI.FLOAT], [recv, MPI.FLOAT], MPI.SUM).Wait()

        def eager():
            dist.all_reduce(x)

        cases = {"raw": raw, "raw_nonblocking": raw_nonblocking, "eagerflow": eager}
        times = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, fn in cases.items():
                times[name].append(_timed(fn, reps, comm))
        rows.append({"bytes": nbytes, "reps": reps, "times": times,
                     **{name: statistics.median(t) for name, t in times.items()}})
    if dist.rank() == 0:
        print("RESULT " + json.dumps(rows), flush=True)


def child_mlp(args):
    import numpy as np

    import eagerflow_core as ef
    from eagerflow_core import distributed as dist
    dist.init()
    rank, size = dist.rank(), dist.size()
    rng = np.random.default_rng(0)
    params = [ef.Variable(rng.normal(size=(a, b)).astype(np.float32) * np.sqrt(2 / a))
              for a, b in zip(MLP[:-1], MLP[1:])]
    params += [ef.Variable(np.zeros(b, np.float32)) for b in MLP[1:]]
    dist.broadcast_variables(params)
    x_all = rng.normal(size=(BATCH, MLP[0])).astype(np.float32)
    y_all = rng.integers(0, MLP[-1], BATCH)
    shard = slice(rank * BATCH // size, (rank + 1) * BATCH // size)
    x, y = ef.asarray(x_all[shard]), ef.asarray(y_all[shard])

    class SGD:
        def apply_gradients(self, grads_and_vars):
            for g, v in grads_and_vars:
                v.assign_sub(0.01 * g)

    opt = dist.DistributedOptimizer(SGD())
    n_layers = len(MLP) - 1

    def step():
        with ef.GradientTape() as tape:
            h = x
            for i in range(n_layers):
                h = ef.matmul(h, params[i]) + params[n_layers + i]
                if i < n_layers - 1:
                    h = ef.nn.relu(h)
            loss = ef.mean(ef.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
        opt.apply_gradients(zip(tape.gradient(loss, params), params))

    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    step()
    reps = 5 if args.quick else 20
    times = [_timed(step, reps, comm) for _ in range(args.repeat)]
    if rank == 0:
        print("RESULT " + json.dumps({"ranks": size, "times": times,
                                      "median": statistics.median(times)}), flush=True)


# -- the launcher's side ---------------------------------------------------------------------

def launch(args, child, ranks, *extra):
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        sys.exit("bench_distributed: mpirun not found (make bench installs Open MPI and mpi4py)")
    cmd = [mpirun, "-n", str(ranks), "--oversubscribe", "--allow-run-as-root", sys.executable,
           os.path.abspath(__file__), "--child", child, "--repeat", str(args.repeat), *extra]
    if args.quick:
        cmd.append("--quick")
    # One BLAS thread per rank (and for the single process, like against like): ranks that
    # each start a thread per core oversubscribe the machine.
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    sys.exit(f"bench_distributed: mpirun -n {ranks} failed ({proc.returncode}):\n"
             f"{proc.stdout}\n{proc.stderr}")


def _size(n):
    return f"{n >> 20} MB" if n >= 1 << 20 else f"{n >> 10} KB"


def _time(t):
    return f"{t * 1e3:8.2f} ms" if t >= 1e-3 else f"{t * 1e6:8.1f} us"


def main():
    args = parse_args()
    if args.child == "allreduce":
        return child_allreduce(args)
    if args.child == "mlp":
        return child_mlp(args)
    import eagerflow_core as ef
    print(f"eagerflow {ef.__version__}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"{args.ranks} ranks, median of {args.repeat} rounds")

    rows = launch(args, "allreduce", args.ranks)
    print(f"\n(a) all_reduce of float32, {args.ranks} ranks: algorithm bandwidth (bytes / time)")
    print(f"{'size':>7} {'eagerflow':>11} {'GB/s':>7} {'mpi4py':>11} {'GB/s':>7} "
          f"{'ratio':>6}  {'target':6} {'Iallreduce':>11} {'ratio':>6}")
    missed = []
    for row in rows:
        n, t_ef, t_raw = row["bytes"], row["eagerflow"], row["raw"]
        ratio = t_raw / t_ef  # bandwidth ratio
        row["ratio"] = ratio
        mark = ""
        if n >= TARGET_FROM:
            mark = "ok" if ratio >= TARGET else "MISSED"
            if ratio < TARGET:
                missed.append(_size(n))
        t_nb = row["raw_nonblocking"]
        print(f"{_size(n):>7} {_time(t_ef):>11} {n / t_ef / 1e9:7.2f} {_time(t_raw):>11} "
              f"{n / t_raw / 1e9:7.2f} {ratio:6.2f}  {mark:6} {_time(t_nb):>11} "
              f"{t_nb / t_ef:6.2f}")

    one = launch(args, "mlp", 1)
    many = launch(args, "mlp", args.ranks)
    print(f"\n(b) MLP {'-'.join(map(str, MLP))} SGD step, global batch {BATCH}:")
    print(f"  1 rank  (batch {BATCH}):          {_time(one['median'])}")
    print(f"  {args.ranks} ranks (batch {BATCH // args.ranks} each):      "
          f"{_time(many['median'])}   ratio {many['median'] / one['median']:.2f}, "
          f"speed-up {one['median'] / many['median']:.2f}x")
    if missed:
        print(f"\nall_reduce target (>= {TARGET}x raw mpi4py from 1 MB) missed at "
              f"{', '.join(missed)}; a shared machine is noisy: rerun before trusting it")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"allreduce": rows, "mlp": {"1": one, str(args.ranks): many}}, f, indent=1)


if __name__ == "__main__":
    main()
