"""Training steps built from ``ef.layers`` + ``ef.optimizers``, against the same models in
PyTorch 2.13 (CPU), measured in the same run (issue #7's "Must show").

    python benchmarks/bench_training.py [--quick] [--json PATH] [--threads N]
                                        [--cases mlp,cnn,memory,flat,digits]

(a) mlp:    one SGD step of a 784-512-512-10 ReLU MLP (``layers.Dense``), batch 128, float32,
            sparse softmax cross-entropy from logits (PyTorch: ``nn.Linear``,
            ``F.cross_entropy``, ``optim.SGD``; ``zero_grad`` / ``backward`` / ``step``).
(b) cnn:    one SGD step of a small CNN on 32x28x28x1: conv 3x3x16 SAME + ReLU, 2x2 max pool,
            conv 3x3x32 SAME + ReLU, 2x2 max pool, flatten, dense 10. eagerflow runs it
            channels-last (its default, TensorFlow's), PyTorch channels-first (its default):
            each the way its users write it.
(c) memory: peak resident memory of a process that trains the MLP for 50 steps, each library
            in a fresh child process (``ru_maxrss``), and the rise above the process after
            imports and data.
(d) flat:   a 10,000-step training loop (a 64-64-10 MLP, batch 32, Adam) in a child process:
            resident memory after 1,000 steps and after 10,000 (flat: no growth per step).
(e) digits: the digits demo's time per epoch (``docs/examples/train_digits.py --epochs 2``).

Targets (issue #7): MLP <= 1.0x PyTorch, CNN <= 1.5x PyTorch, peak RSS <= 0.5x PyTorch's.

Both libraries start from the same weights (eagerflow's Keras initialisers, copied into
PyTorch's modules) and the step is checked first: one step from the same start must give the
same loss and the same updated weights. Times are medians over ``--repeat`` rounds of the mean
time per step of a loop lasting at least ``--min-time`` seconds; the libraries take turns
within each round. Every library runs with ``--threads`` threads (default 1: like against
like).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short run: 3 rounds of ~50 ms loops")
    p.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    p.add_argument("--threads", type=int, default=1, help="threads of every library (default 1)")
    p.add_argument("--repeat", type=int, help="rounds per case (default 7, quick 3)")
    p.add_argument("--min-time", type=float, help="seconds per timing loop (default 0.3)")
    p.add_argument("--cases", default="mlp,cnn,memory,flat,digits", help="comma-separated cases")
    p.add_argument("--child", choices=("memory-ef", "memory-torch", "flat"),
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.repeat = args.repeat or (3 if args.quick else 7)
    args.min_time = args.min_time or (0.05 if args.quick else 0.3)
    return args


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:  # before NumPy and PyTorch start their thread pools
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import statistics  # noqa: E402

import numpy as np  # noqa: E402
from bench_autodiff import measure  # noqa: E402

import eagerflow_core as ef  # noqa: E402
from eagerflow_core import layers, losses, optimizers  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LR = 0.01


def per_step(fn):
    def loop(n):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - start) / n
    return loop


# -- the models ------------------------------------------------------------------------------

def mlp_data(seed=0, batch=128, features=784):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, features)).astype(np.float32),
            rng.integers(0, 10, batch).astype(np.int64))


def cnn_data(seed=3):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((32, 28, 28, 1)).astype(np.float32),
            rng.integers(0, 10, 32).astype(np.int64))


def ef_mlp(widths=(512, 512)):
    return layers.Sequential([*(layers.Dense(w, activation="relu") for w in widths),
                              layers.Dense(10)])


def ef_cnn():
    return layers.Sequential([
        layers.Conv2D(16, 3, padding="same", activation="relu"), layers.MaxPool2D(2),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPool2D(2),
        layers.Flatten(), layers.Dense(10)])


def ef_step(model, opt, x, y):
    """One training step, as the guide writes it."""
    def step():
        with ef.GradientTape() as tape:
            loss = ef.mean(losses.sparse_categorical_crossentropy(y, model(x), from_logits=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss
    return step


def torch_mlp(torch, ef_model):
    """The same MLP in PyTorch, with ``ef_model``'s weights (Dense kernels are (in, out))."""
    nn = torch.nn
    mods = []
    for layer in ef_model.layers:
        kernel, bias = (v.numpy() for v in layer.trainable_variables)
        lin = nn.Linear(*kernel.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(kernel.T.copy()))
            lin.bias.copy_(torch.from_numpy(bias))
        mods += [lin, nn.ReLU()]
    return nn.Sequential(*mods[:-1])


def torch_cnn(torch, ef_model):
    """The same CNN in PyTorch, channels-first. Conv kernels HWIO -> OIHW; the dense layer's
    rows are reordered from eagerflow's (H, W, C) flattening to PyTorch's (C, H, W)."""
    nn = torch.nn
    conv1, _, conv2, _, _, dense = ef_model.layers
    mods = []
    for conv in (conv1, conv2):
        k, b = (v.numpy() for v in conv.trainable_variables)
        c = nn.Conv2d(k.shape[2], k.shape[3], k.shape[0], padding="same")
        with torch.no_grad():
            c.weight.copy_(torch.from_numpy(k.transpose(3, 2, 0, 1).copy()))
            c.bias.copy_(torch.from_numpy(b))
        mods += [c, nn.ReLU(), nn.MaxPool2d(2)]
    k, b = (v.numpy() for v in dense.trainable_variables)
    k = k.reshape(7, 7, 32, 10).transpose(2, 0, 1, 3).reshape(-1, 10)
    lin = nn.Linear(k.shape[0], 10)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(k.T.copy()))
        lin.bias.copy_(torch.from_numpy(b))
    return nn.Sequential(*mods, nn.Flatten(), lin)


def torch_step(torch, model, x, y):
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    F = torch.nn.functional

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def check_first_step(name, ef_model, ef_loss, t_model, t_loss, cnn=False):
    """One step from the same weights: same loss, same updated weights."""
    a, b = float(ef_loss), float(t_loss)
    assert abs(a - b) <= 1e-4 * max(1.0, abs(b)), f"{name}: loss {a} vs PyTorch {b}"
    ef_w = ef_model.layers[0].trainable_variables[0].numpy()
    t_w = next(iter(t_model.parameters())).detach().numpy()
    t_w = t_w.transpose(2, 3, 1, 0) if cnn else t_w.T
    err = float(np.abs(ef_w - t_w).max())
    assert err <= 1e-5, f"{name}: first layer's weights differ by {err} after one step"


def run_step_case(name, torch, x, y, make_ef, make_torch, cnn=False, rows=None):
    ef.random.set_seed(0)
    model = make_ef()
    model(ef.asarray(x))  # build the weights (lazily, from the input's shape)
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy() if cnn else x) if torch else None
    t_model = make_torch(torch, model) if torch else None
    ex, ey = ef.asarray(x), ef.asarray(y)
    e_step = ef_step(model, optimizers.SGD(LR), ex, ey)
    loops = {"eagerflow": per_step(e_step)}
    if torch:
        t_step = torch_step(torch, t_model, xt, torch.from_numpy(y))
        check_first_step(name, model, e_step(), t_model, t_step(), cnn)
        loops["torch"] = per_step(t_step)
    rounds = measure(loops, ARGS.repeat, ARGS.min_time)
    med = {k: statistics.median(v) for k, v in rounds.items()}
    line = f"{name:4s}  eagerflow {med['eagerflow'] * 1e3:8.2f} ms/step"
    if "torch" in med:
        line += (f"   torch {med['torch'] * 1e3:8.2f} ms/step   ratio "
                 f"{med['eagerflow'] / med['torch']:.2f}x")
    print(line, flush=True)
    rows[name] = {k: v * 1e3 for k, v in med.items()}


# -- memory (child processes) ------------------------------------------------------------------

def _rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mib():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind):
    x, y = mlp_data()
    if kind == "flat":
        xs, ys = mlp_data(batch=32, features=64)
        ef.random.set_seed(0)
        model = ef_mlp((64,))
        step = ef_step(model, optimizers.Adam(1e-3), ef.asarray(xs), ef.asarray(ys))
        marks = {}
        for i in range(1, 10_001):
            step()
            if i in (1_000, 10_000):
                marks[i] = _rss_mib()
        print(json.dumps(marks))
        return
    base = _rss_mib()
    if kind == "memory-ef":
        ef.random.set_seed(0)
        model = ef_mlp()
        step = ef_step(model, optimizers.SGD(LR), ef.asarray(x), ef.asarray(y))
    else:
        import torch
        torch.set_num_threads(ARGS.threads)
        model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                    torch.nn.Linear(512, 512), torch.nn.ReLU(),
                                    torch.nn.Linear(512, 10))
        step = torch_step(torch, model, torch.from_numpy(x), torch.from_numpy(y))
    for _ in range(50):
        step()
    print(json.dumps({"peak": _peak_mib(), "rise": _peak_mib() - base}))


def _run_child(kind):
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--threads",
                          str(ARGS.threads)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_memory(rows, have_torch):
    e = _run_child("memory-ef")
    line = f"peak RSS, MLP training  eagerflow {e['peak']:.0f} MiB (rise {e['rise']:.1f} MiB)"
    if have_torch:
        t = _run_child("memory-torch")
        line += (f"   torch {t['peak']:.0f} MiB (rise {t['rise']:.1f} MiB)   ratio "
                 f"{e['peak'] / t['peak']:.2f}x")
        rows["memory"] = {"eagerflow": e, "torch": t}
    else:
        rows["memory"] = {"eagerflow": e}
    print(line, flush=True)


def run_flat(rows):
    marks = _run_child("flat")
    a, b = marks["1000"], marks["10000"]
    print(f"10,000-step loop: RSS {a:.1f} MiB after 1,000 steps, {b:.1f} MiB after 10,000 "
          f"({(b - a) * 1024 / 9000:.3f} KiB per step)", flush=True)
    rows["flat"] = marks


def run_digits(rows):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(ARGS.threads)}
    out = subprocess.run([sys.executable, str(ROOT / "docs/examples/train_digits.py"),
                          "--epochs", "2", "--quiet", "--out", "/tmp/ef_bench_digits"],
                         capture_output=True, text=True, env=env)
    m = re.search(r"\(([\d.]+) s per epoch\)", out.stdout)
    if out.returncode or not m:
        print(f"digits demo: did not run ({(out.stderr or out.stdout).strip()[-200:]})")
        return
    print(f"digits demo: {float(m.group(1)):.2f} s per epoch", flush=True)
    rows["digits_s_per_epoch"] = float(m.group(1))


def main():
    if ARGS.child:
        return child(ARGS.child)
    try:
        import torch
        torch.set_num_threads(ARGS.threads)
    except ImportError:
        torch = None
        print("PyTorch is not installed: eagerflow alone (pip install torch==2.13.0)")
    cases = ARGS.cases.split(",")
    print(f"bench_training: {ARGS.threads} thread(s), medians of {ARGS.repeat} rounds; "
          f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else ""))
    rows = {}
    if "mlp" in cases:
        run_step_case("mlp", torch, *mlp_data(), ef_mlp, torch_mlp, rows=rows)
    if "cnn" in cases:
        run_step_case("cnn", torch, *cnn_data(), ef_cnn, torch_cnn, cnn=True, rows=rows)
    if "memory" in cases:
        run_memory(rows, torch is not None)
    if "flat" in cases:
        run_flat(rows)
    if "digits" in cases:
        run_digits(rows)
    if ARGS.json:
        Path(ARGS.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
