"""What an input pipeline costs per epoch: ef.data against a hand-written NumPy loop and
PyTorch's DataLoader, over the same arrays, measured in the same run.

    python benchmarks/bench_data.py [--quick] [--json PATH] [--threads N] [--rows N]

The data: ``--rows`` (default 60000) float32 images of 28x28 and int64 labels, in host memory.
One epoch of batches of 128, shuffled:

numpy       ``perm = rng.permutation(n)``, then ``images[idx], labels[idx]`` per batch
numpy+ef    the same loop, each batch then made a tensor with ``ef.asarray(copy=False)``
            (the batch is fresh memory): the least a pipeline handing out eagerflow tensors
            can cost
torch       ``DataLoader(TensorDataset(images, labels), batch_size=128, shuffle=True,
            num_workers=0)`` (the arrays shared with ``torch.from_numpy``)
eagerflow   ``Dataset.from_tensor_slices((images, labels)).shuffle(B, seed=0).batch(128)``
            with ``.prefetch(2)`` (the headline row) and without; B = the number of rows (a
            full shuffle, as the other two) and B = 1000 (the bounded buffer of the issue's
            example)

Group "+ work": the same epochs where the loop also does a 128x784 @ 784x256 matmul per batch
(each library's own matmul), so that prefetching has something to overlap with.

Group "stacking": ``.map(lambda x, y: (x, y))`` before ``batch`` takes eagerflow off the
gathering path (elements are made one by one and stacked). It runs over the first tenth of the
rows only; its ratio column compares with numpy on the same rows.

Times are medians over ``--repeat`` rounds of one epoch each, the cases taking turns within a
round. Before timing, every case is checked to give each row exactly once, with its label.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

BATCH = 128


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    p.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for BLAS and PyTorch (default 1: like against like)")
    p.add_argument("--repeat", type=int, help="rounds (default 7, quick 3)")
    p.add_argument("--rows", type=int, default=60000, help="images in the dataset")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    args = p.parse_args(argv)
    args.repeat = args.repeat or (3 if args.quick else 7)
    return args


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np
from bench_dispatch import _fmt_time, blas_summary, limit_threads

import eagerflow_core as ef
from eagerflow_core import data


def make_data(rows):
    rng = np.random.default_rng(0)
    images = rng.random((rows, 28, 28), dtype=np.float32)
    labels = np.arange(rows, dtype=np.int64)  # the row number: lets the check see every row
    images[:, 0, 0] = labels  # ...and that an image arrives with its own label
    return images, labels


# -- the epochs: each returns the batches it made (for the check) only when asked ----------

def adopt(batch):
    """A tensor taking over a fresh host array; a device that cannot (a GPU) gets a copy."""
    try:
        return ef.asarray(batch, copy=False)
    except ef.InvalidArgumentError:
        return ef.asarray(batch)


def numpy_epoch(images, labels, work=None, keep=False, wrap=None):
    rng = np.random.default_rng()
    perm = rng.permutation(len(labels))
    out = []
    for start in range(0, len(perm), BATCH):
        idx = perm[start:start + BATCH]
        x, y = images[idx], labels[idx]
        if wrap is not None:
            x, y = wrap(x), wrap(y)
            x, y = x.numpy(), y.numpy()  # (free on the CPU: a view) for the same work below
        if work is not None:
            x.reshape(len(idx), -1) @ work
        if keep:
            out.append((x[:, 0, 0].astype(np.int64), y))
    return out


def torch_epoch(loader, work=None, keep=False):
    out = []
    for x, y in loader:
        if work is not None:
            x.reshape(x.shape[0], -1) @ work
        if keep:
            out.append((x[:, 0, 0].numpy().astype(np.int64), y.numpy()))
    return out


def ef_epoch(ds, work=None, keep=False):
    out = []
    for x, y in ds:
        if work is not None:
            ef.matmul(ef.reshape(x, (x.shape[0], -1)), work)
        if keep:
            out.append((x.numpy()[:, 0, 0].astype(np.int64), y.numpy()))
    return out


def check(name, batches, rows):
    xs = np.concatenate([b[0] for b in batches])
    ys = np.concatenate([b[1] for b in batches])
    if not (np.array_equal(xs, ys) and np.array_equal(np.sort(ys), np.arange(rows))):
        raise SystemExit(f"{name}: an epoch did not give every row once with its label")
    if all(len(b[1]) == BATCH for b in batches[:-1]) is False:
        raise SystemExit(f"{name}: batches of the wrong size")


def build_cases(images, labels, torch):
    rows = len(labels)
    D = data.Dataset
    src = D.from_tensor_slices((images, labels))
    cases = {
        "numpy": lambda **kw: numpy_epoch(images, labels, **kw),
        "numpy+ef.asarray": lambda **kw: numpy_epoch(images, labels, wrap=adopt, **kw),
        "ef shuffle(n).batch.prefetch(2)": lambda **kw: ef_epoch(
            src.shuffle(rows, seed=0).batch(BATCH).prefetch(2), **kw),
        "ef shuffle(n).batch": lambda **kw: ef_epoch(src.shuffle(rows, seed=0).batch(BATCH),
                                                     **kw),
        "ef shuffle(1000).batch.prefetch(2)": lambda **kw: ef_epoch(
            src.shuffle(1000, seed=0).batch(BATCH).prefetch(2), **kw),
    }
    if torch is not None:
        tds = torch.utils.data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
        loader = torch.utils.data.DataLoader(tds, batch_size=BATCH, shuffle=True, num_workers=0)
        cases["torch DataLoader"] = lambda **kw: torch_epoch(loader, **kw)
    return cases


def time_round(cases, work_for):
    times = {}
    for name, epoch in cases.items():
        work = work_for(name)
        t0 = time.perf_counter()
        epoch(work=work)
        times[name] = time.perf_counter() - t0
    return times


def measure(cases, repeat, work_for=lambda name: None):
    rounds = [time_round(cases, work_for) for _ in range(repeat)]
    return {name: statistics.median(r[name] for r in rounds) for name in cases}, rounds


def print_group(title, med, base="numpy"):
    print(f"\n{title}")
    print(f"  {'case':36s} {'epoch':>10s} {'/ numpy':>8s} {'/ torch':>8s}")
    torch_t = med.get("torch DataLoader")
    for name, t in med.items():
        vs_torch = f"{t / torch_t:8.2f}" if torch_t else f"{'-':>8s}"
        print(f"  {name:36s} {_fmt_time(t):>10s} {t / med[base]:8.2f} {vs_torch}")


def main(args):
    torch = None
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(args.threads)
        except ImportError:
            print("PyTorch not installed (pip install torch==2.13.0): its row stays empty")
    limiter = limit_threads(args.threads)  # noqa: F841  (the limits hold while it lives)

    images, labels = make_data(args.rows)
    cases = build_cases(images, labels, torch)
    for name, epoch in cases.items():
        check(name, epoch(keep=True), args.rows)

    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "eagerflow": ef.__version__, "torch": torch.__version__ if torch else None}
    print(f"ef.data epoch benchmark: {args.rows} images 28x28 float32 + int64 labels, batch "
          f"{BATCH}, median of {args.repeat} epochs per case, threads={args.threads}, "
          f"eagerflow tensors on {ef.default_device()}")
    print("  " + ", ".join(f"{k} {v}" for k, v in versions.items() if v))
    for line in blas_summary():
        print("  " + line)

    med, rounds = measure(cases, args.repeat)
    print_group("one epoch", med)

    rng = np.random.default_rng(1)
    w = rng.random((784, 256), dtype=np.float32)
    works = {"numpy": w, "ef": ef.asarray(w), "torch": torch.from_numpy(w) if torch else None}
    work_for = lambda name: works[name.split()[0].split("+")[0]]
    med_work, rounds_work = measure(cases, args.repeat, work_for)
    print_group("one epoch + a 128x784 @ 784x256 matmul per batch", med_work)

    tenth = max(args.rows // 10, BATCH)
    small_x, small_y = images[:tenth], labels[:tenth]
    stacking = {
        "numpy": lambda **kw: numpy_epoch(small_x, small_y, **kw),
        "ef map->shuffle(n).batch (stacking)": lambda **kw: ef_epoch(
            data.Dataset.from_tensor_slices((small_x, small_y)).map(lambda x, y: (x, y))
            .shuffle(tenth, seed=0).batch(BATCH), **kw),
    }
    check("stacking", stacking["ef map->shuffle(n).batch (stacking)"](keep=True), tenth)
    med_stack, rounds_stack = measure(stacking, max(3, args.repeat // 2))
    print_group(f"the element path, over the first {tenth} rows", med_stack)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"versions": versions, "rows": args.rows, "batch": BATCH,
                       "threads": args.threads, "epoch": med, "epoch_rounds": rounds,
                       "with_work": med_work, "with_work_rounds": rounds_work,
                       "stacking": med_stack, "stacking_rounds": rounds_stack}, f, indent=1)
        print(f"\nsaved {args.json}")


if __name__ == "__main__":
    sys.exit(main(ARGS))
