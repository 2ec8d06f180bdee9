"""eagerflow's CUDA backend against PyTorch CUDA, measured in the same run on the same GPU.

    python benchmarks/bench_cuda.py [--quick] [--json PATH] [--no-torch]

1. **tiny ops**: per-call time of add, exp, sum on shape (8,) and a 10-op chain: what eagerflow
   adds to a kernel launch (wall clock, device synchronised at the end of each loop); raw CuPy
   and PyTorch alongside.
2. **matmul 4096 x 4096**: float32 with TF32 off, and with TF32 on (CuPy reads ``CUPY_TF32``
   once, so that row runs in a child process), as TFLOP/s.
3. **fused kernels** (``eagerflow_cuda.fused.FUSED``) against PyTorch's own kernels for the
   same work: softmax and log-softmax forward/backward, sparse cross-entropy forward + backward,
   layer norm forward/backward, GELU and SiLU forward/backward, bias + ReLU and its bias gradient,
   Adam on one tensor and on 100 tensors (PyTorch ``fused=True`` / ``foreach=True``). GPU time
   by CUDA events; the ratio eagerflow/PyTorch (target: <= 1.0).
4. **training steps**: an MLP (784-512-512-10, batch 128) and a small CNN built from
   ``ef.layers`` and ``ef.optimizers.Adam`` (the fused Adam kernel; softmax cross-entropy
   through the fused kernel under the tape), against the same models in PyTorch eager (target:
   MLP <= 1.2x PyTorch eager). A step that fails is reported and the script exits 1.
5. **bandwidth**: large elementwise ops as a share of the measured device-to-device copy
   bandwidth (target: >= 80%).

Every case first checks that eagerflow and PyTorch agree on the values. Times are medians over
rounds. Without a usable GPU the script says so and exits 0: nothing is measured on a CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np


@dataclass
class Case:
    """One fused-kernel comparison: two callables doing the same work on prepared inputs."""

    name: str
    ours: object    # () -> array or tuple of arrays
    theirs: object  # () -> torch tensor or tuple
    tol: float = 2e-3


def _np(a):
    if a is None:
        return None
    if hasattr(a, "detach"):
        return a.detach().float().cpu().numpy() if a.dtype.is_floating_point else \
            a.detach().cpu().numpy()
    return np.asarray(a.get() if hasattr(a, "get") else a).astype(np.float32)


def agree(case: Case) -> str | None:
    """None if both sides give the same values, else what differs."""
    ours, theirs = case.ours(), case.theirs()
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a is None or b is None:
            continue
        a, b = _np(a), _np(b)
        scale = max(1.0, float(np.abs(b).max(initial=0.0)))
        if a.shape != b.shape or not np.allclose(a, b, rtol=case.tol, atol=case.tol * scale):
            return f"output {i}: max difference {float(np.abs(a - b).max())}"
    return None


def fused_cases(xp, F, torch, dev, scale: float = 1.0) -> list[Case]:
    """The fused kernels and PyTorch's equivalents on inputs of ``scale`` times the default
    sizes. ``xp`` is CuPy (NumPy in the tests), ``F`` the ``eagerflow_cuda.fused.Fused``
    launchers, ``dev`` the torch device."""
    rng = np.random.default_rng(0)
    aten = torch.ops.aten

    def both(shape, dtype=np.float32, s=1.0):
        h = (rng.standard_normal(shape) * s).astype(dtype)
        return xp.asarray(h), torch.tensor(h.astype(np.float32), device=dev).to(
            getattr(torch, np.dtype(dtype).name))

    rows, cols = max(8, int(8192 * scale)), max(8, int(1024 * scale))
    cases = []
    for dt in (np.float32, np.float16):
        x, xt = both((rows, cols), dt, 3.0)
        g, gt = both((rows, cols), dt)
        y, yt = F.softmax(x), torch.softmax(xt, -1)
        ly, lyt = F.log_softmax(x), torch.log_softmax(xt, -1)
        tdt = xt.dtype
        tag = np.dtype(dt).name
        cases += [
            Case(f"softmax fwd {rows}x{cols} {tag}", lambda x=x: F.softmax(x),
                 lambda xt=xt: torch.softmax(xt, -1)),
            Case(f"softmax bwd {rows}x{cols} {tag}", lambda g=g, y=y: F.softmax_grad(g, y),
                 lambda gt=gt, yt=yt, d=tdt: torch._softmax_backward_data(gt, yt, -1, d)),
            Case(f"log_softmax fwd {rows}x{cols} {tag}", lambda x=x: F.log_softmax(x),
                 lambda xt=xt: torch.log_softmax(xt, -1)),
            Case(f"log_softmax bwd {rows}x{cols} {tag}",
                 lambda g=g, ly=ly: F.log_softmax_grad(g, ly),
                 lambda gt=gt, lyt=lyt, d=tdt: torch._log_softmax_backward_data(gt, lyt, -1, d)),
        ]
        gamma, gammat = both((cols,), dt)
        beta, betat = both((cols,), dt)
        _, mean, rstd = F.layer_norm_fwd(x, gamma, beta, epsilon=1e-5)
        _, tmean, trstd = aten.native_layer_norm(xt, [cols], gammat, betat, 1e-5)
        cases += [
            Case(f"layer_norm fwd {rows}x{cols} {tag}",
                 lambda x=x, gm=gamma, bt=beta: F.layer_norm(x, gm, bt, epsilon=1e-5),
                 lambda xt=xt, gm=gammat, bt=betat: aten.native_layer_norm(
                     xt, [cols], gm, bt, 1e-5)[0], tol=1e-2),
            Case(f"layer_norm bwd {rows}x{cols} {tag}",
                 lambda g=g, x=x, m=mean, r=rstd, gm=gamma: F.layer_norm_grad(g, x, m, r, gm),
                 lambda gt=gt, xt=xt, m=tmean, r=trstd, gm=gammat, bt=betat:
                 aten.native_layer_norm_backward(gt, xt, [cols], m, r, gm, bt,
                                                 [True, True, True]), tol=2e-2),
        ]
    n = max(64, int(16 * 2**20 * scale))
    a, at = both((n // 1024, 1024), s=3.0)
    ga, gat = both((n // 1024, 1024))
    b, bt = both((1024,))
    cases += [
        Case("gelu(tanh) fwd 16M", lambda: F.gelu(a), lambda: torch.nn.functional.gelu(
            at, approximate="tanh")),
        Case("gelu(tanh) bwd 16M", lambda: F.gelu_grad(ga, a),
             lambda: aten.gelu_backward(gat, at, approximate="tanh")),
        Case("silu fwd 16M", lambda: F.silu(a), lambda: torch.nn.functional.silu(at)),
        Case("silu bwd 16M", lambda: F.silu_grad(ga, a), lambda: aten.silu_backward(gat, at)),
        Case("bias+relu fwd 16M", lambda: F.bias_act(a, b, "relu"),
             lambda: torch.relu(at + bt)),
        Case("bias+relu bwd (dx, dbias) 16M", lambda: F.bias_act_grad(ga, a, b, "relu"),
             lambda: _relu_bias_grad(torch, gat, at, bt), tol=1e-2),
    ]
    crow, ccol = max(8, int(4096 * scale)), max(8, int(32000 * scale))
    logits, logitst = both((crow, ccol), s=2.0)
    labels = rng.integers(0, ccol, crow)
    lab, labt = xp.asarray(labels), torch.tensor(labels, device=dev)
    gl, glt = both((crow,))
    cases.append(Case(f"sparse CE fwd+bwd {crow}x{ccol}",
                      lambda: _ce_ours(F, lab, logits, gl),
                      lambda: _ce_torch(torch, labt, logitst, glt), tol=1e-2))
    cases += _adam_cases(xp, F, torch, dev, scale, rng)
    return cases


def _relu_bias_grad(torch, g, x, b):
    dz = torch.ops.aten.threshold_backward(g, x + b, 0)
    return dz, dz.sum(0)


def _ce_ours(F, labels, logits, g):
    loss, lse = F.sparse_softmax_cross_entropy_fwd(labels, logits)
    return loss, F.sparse_softmax_cross_entropy_grad(g, labels, logits, lse)


def _ce_torch(torch, labels, logits, g):
    aten = torch.ops.aten
    logp = aten._log_softmax(logits, 1, False)
    loss, _ = aten.nll_loss_forward(logp, labels, None, 0, -100)
    total = torch.zeros((), device=logits.device)
    dlogp = aten.nll_loss_backward(g, logp, labels, None, 0, -100, total)
    return loss, aten._log_softmax_backward_data(dlogp, logp, 1, logits.dtype)


def _adam_cases(xp, F, torch, dev, scale, rng):
    hyper = dict(lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.0)
    out = []
    for label, sizes in (("Adam 1 x 16M", [max(64, int(16 * 2**20 * scale))]),
                         ("Adam 100 x 160k", [max(64, int(160_000 * scale))] * 100)):
        hosts = [rng.standard_normal(s).astype(np.float32) for s in sizes]
        ours = [[xp.asarray(h), xp.asarray(h * 0.1), xp.zeros_like(xp.asarray(h)),
                 xp.zeros_like(xp.asarray(h))] for h in hosts]
        params = [torch.tensor(h, device=dev, requires_grad=True) for h in hosts]
        for p, h in zip(params, hosts):
            p.grad = torch.tensor(h * 0.1, device=dev)
        kind = {"fused": True} if (len(sizes) == 1 and dev != "cpu") else {"foreach": True}
        opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-7, **kind)
        step = {"n": 0}

        def run_ours(ours=ours, step=step):
            step["n"] += 1
            if len(ours) == 1:
                F.adam_update(*ours[0], step=step["n"], **hyper)
            else:
                F.adam_update_multi(*zip(*ours), step=step["n"], **hyper)
            return ours[0][0]

        def run_theirs(opt=opt, params=params):
            with torch.no_grad():
                opt.step()
            return params[0]

        # Keras and PyTorch place epsilon differently; with equal steps they stay within 1e-4
        out.append(Case(label, run_ours, run_theirs, tol=1e-3))
    return out


# -- timing --------------------------------------------------------------------------------------

def gpu_time(cp, fn, number: int, rounds: int) -> float:
    """Median seconds per call of ``fn`` by CUDA events on the legacy default stream (which
    CuPy and PyTorch both use here)."""
    start, end = cp.cuda.Event(), cp.cuda.Event()
    fn()
    times = []
    for _ in range(rounds):
        start.record()
        for _ in range(number):
            fn()
        end.record()
        end.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, end) / 1e3 / number)
    return statistics.median(times)


def wall_time(fn, sync, number: int, rounds: int) -> float:
    fn()
    sync()
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        sync()
        times.append((time.perf_counter() - t) / number)
    return statistics.median(times)


def _row(name, ours, theirs=None, extra=""):
    ratio = f"{ours / theirs:6.2f}x" if theirs else "     -"
    t = f"{theirs * 1e6:10.1f}" if theirs else " " * 10
    print(f"{name:42s} {ours * 1e6:10.1f} {t}  {ratio}  {extra}")


def bench_tiny(ef, cp, torch, rounds):
    print(f"\n{'tiny ops (us per call)':42s} {'eagerflow':>10s} {'torch':>10s}   ratio  (cupy)")
    x = ef.ones(8, dtype=ef.float32, device="cuda")
    y = ef.ones(8, dtype=ef.float32, device="cuda")
    xc, yc = cp.ones(8, cp.float32), cp.ones(8, cp.float32)
    xt = torch.ones(8, device="cuda") if torch else None
    sync = cp.cuda.Device().synchronize

    def chain(mod, a, b):
        t = mod.add(a, b)
        for _ in range(9):
            t = mod.multiply(t, b)
        return t

    out = {}
    for name, ours, raw, theirs in (
            ("add (8,)", lambda: ef.add(x, y), lambda: cp.add(xc, yc),
             (lambda: torch.add(xt, xt)) if torch else None),
            ("exp (8,)", lambda: ef.exp(x), lambda: cp.exp(xc),
             (lambda: torch.exp(xt)) if torch else None),
            ("sum (8,)", lambda: ef.sum(x), lambda: cp.sum(xc),
             (lambda: torch.sum(xt)) if torch else None),
            ("chain of 10 (8,)", lambda: chain(ef, x, y), lambda: chain(cp, xc, yc),
             (lambda: chain(torch, xt, xt)) if torch else None)):
        o = wall_time(ours, sync, 2000, rounds)
        t = wall_time(theirs, sync, 2000, rounds) if theirs else None
        r = wall_time(raw, sync, 2000, rounds)
        _row(name, o, t, f"({r * 1e6:.1f})")
        out[name] = {"eagerflow": o, "torch": t, "cupy": r}
    return out


def bench_matmul(ef, cp, torch, rounds, tf32: bool):
    n = 4096
    a = ef.asarray(np.random.default_rng(0).standard_normal((n, n)).astype(np.float32),
                   device="cuda")
    flop = 2 * n ** 3
    ours = gpu_time(cp, lambda: ef.matmul(a, a), 5, rounds)
    theirs = None
    if torch:
        torch.backends.cuda.matmul.allow_tf32 = tf32
        at = torch.from_dlpack(a)
        theirs = gpu_time(cp, lambda: torch.matmul(at, at), 5, rounds)
    return {"eagerflow_tflops": flop / ours / 1e12,
            "torch_tflops": flop / theirs / 1e12 if theirs else None}


def bench_fused(cp, torch, fused, rounds, scale):
    print(f"\n{'fused kernels (us, GPU time)':42s} {'eagerflow':>10s} {'torch':>10s}   ratio")
    out = {}
    for case in fused_cases(cp, fused, torch, "cuda", scale):
        why = agree(case)
        if why:
            print(f"{case.name:42s} DISAGREES with PyTorch: {why}")
            out[case.name] = {"error": why}
            continue
        o = gpu_time(cp, case.ours, 10, rounds)
        t = gpu_time(cp, case.theirs, 10, rounds)
        _row(case.name, o, t)
        out[case.name] = {"eagerflow": o, "torch": t}
    return out


def bench_bandwidth(ef, cp, rounds, quick):
    n = (64 if quick else 256) * 2**20 // 4  # float32 elements: 64 or 256 MiB per array
    src, dst = cp.ones(n, cp.float32), cp.empty(n, cp.float32)
    copy = gpu_time(cp, lambda: cp.cuda.runtime.memcpyAsync(
        dst.data.ptr, src.data.ptr, 4 * n, cp.cuda.runtime.memcpyDeviceToDevice, 0), 10, rounds)
    copy_bw = 2 * 4 * n / copy
    print(f"\nbandwidth: device-to-device copy {copy_bw / 1e12:.2f} TB/s "
          f"({n * 4 / 2**20:.0f} MiB)")
    a = ef.ones(n, dtype=ef.float32, device="cuda")
    b = ef.ones(n, dtype=ef.float32, device="cuda")
    out = {"copy_TBps": copy_bw / 1e12}
    from eagerflow_cuda.fused import FUSED
    bias = cp.ones(1024, cp.float32)
    a2 = a.raw.reshape(-1, 1024)
    for name, fn, arrays in (("add", lambda: ef.add(a, b), 3), ("exp", lambda: ef.exp(a), 2),
                             ("multiply by 2", lambda: a * 2.0, 2),
                             ("bias+relu (fused)", lambda: FUSED["nn.bias_act"](a2, bias), 2)):
        t = gpu_time(cp, fn, 10, rounds)
        share = arrays * 4 * n / t / copy_bw
        print(f"  {name:20s} {arrays * 4 * n / t / 1e12:6.2f} TB/s = {share:6.1%} of copy "
              f"(target 80%)")
        out[name] = share
    return out


def bench_training(ef, torch, rounds):
    """Training steps with ef.layers + ef.optimizers.Adam against PyTorch eager, same models.
    A step that raises is reported as FAILED (and makes the script exit 1)."""
    print("\ntraining steps (us per step, wall clock)")
    rng = np.random.default_rng(0)
    out = {}
    for name, (shape, build, build_torch) in TRAINING.items():
        x = rng.standard_normal(shape).astype(np.float32)
        y = rng.integers(0, 10, shape[0])
        try:
            ours = _ef_step_time(ef, build(ef.layers), x, y, rounds)
        except Exception as exc:  # report it and keep benchmarking; main() exits 1
            print(f"  {name}: FAILED ({type(exc).__name__}: {exc})")
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        theirs = _torch_step_time(torch, build_torch(torch.nn), x, y, rounds) if torch else None
        _row(name, ours, theirs)
        out[name] = {"eagerflow": ours, "torch": theirs}
    return out


def _mlp(layers):
    return layers.Sequential([layers.Dense(512, activation="relu"),
                              layers.Dense(512, activation="relu"), layers.Dense(10)])


def _cnn(layers):
    return layers.Sequential([layers.Conv2D(16, 3, activation="relu"), layers.MaxPool2D(2),
                              layers.Conv2D(32, 3, activation="relu"), layers.MaxPool2D(2),
                              layers.Flatten(), layers.Dense(10)])


def _mlp_torch(nn):
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def _cnn_torch(nn):
    return nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 5 * 5, 10))


def ef_step(ef, model, x, y, device="cuda"):
    """One training step of ``model`` (ef.layers) with ef.optimizers.Adam on ``device``, as a
    function that returns the loss (a Tensor: reading it would synchronise)."""
    xs, ys = ef.asarray(x, device=device), ef.asarray(y, device=device)
    opt = ef.optimizers.Adam(1e-3)

    def step():
        with ef.GradientTape() as tape:
            loss = ef.mean(ef.losses.sparse_categorical_crossentropy(ys, model(xs),
                                                                     from_logits=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return step


def torch_step(torch, model, x, y, device="cuda"):
    """The same step in PyTorch eager (NCHW images), returning the loss."""
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    xt = torch.tensor(x if x.ndim == 2 else np.moveaxis(x, -1, 1), device=device)
    yt = torch.tensor(y, device=device)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return step


def _ef_step_time(ef, model, x, y, rounds):
    backend = ef.device("cuda").backend.backend
    return wall_time(ef_step(ef, model, x, y), lambda: backend.synchronize(0), 20, rounds)


def _torch_step_time(torch, model, x, y, rounds):
    return wall_time(torch_step(torch, model, x, y), torch.cuda.synchronize, 20, rounds)


#: name -> (input shape (NHWC images), the ef.layers model, the same model in torch.nn)
TRAINING = {
    "MLP 784-512-512-10 step (target 1.2x)": ((128, 784), _mlp, _mlp_torch),
    "CNN conv16-pool-conv32-pool-dense10 step": ((32, 28, 28, 1), _cnn, _cnn_torch),
}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller inputs, fewer rounds")
    p.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    p.add_argument("--tf32-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    from eagerflow_cuda import CupyBackend
    ok, why = CupyBackend().is_available()
    if not ok:
        print(f"bench_cuda: no usable CUDA device here ({why}); nothing measured. "
              f"Run it on a GPU machine: make gpu-check.")
        return 0
    import cupy as cp

    import eagerflow_core as ef
    torch = None
    if not args.no_torch:
        try:
            import torch
            torch = torch if torch.cuda.is_available() else None
        except ImportError:
            torch = None
    rounds = 3 if args.quick else 7
    if args.tf32_child:
        print(json.dumps(bench_matmul(ef, cp, torch, rounds, tf32=True)))
        return 0
    dev = cp.cuda.Device()
    print(f"bench_cuda: {cp.cuda.runtime.getDeviceProperties(dev.id)['name'].decode()}, "
          f"cupy {cp.__version__}, torch {torch.__version__ if torch else 'absent'}")
    results = {"tiny": bench_tiny(ef, cp, torch, rounds)}
    fp32 = bench_matmul(ef, cp, torch, rounds, tf32=False)
    child = subprocess.run([sys.executable, __file__, "--tf32-child"] +
                           (["--quick"] if args.quick else []) +
                           (["--no-torch"] if torch is None else []),
                           env={**os.environ, "CUPY_TF32": "1"}, capture_output=True, text=True)
    tf32 = json.loads(child.stdout.strip().splitlines()[-1]) if child.returncode == 0 else {}
    print(f"\nmatmul 4096x4096 TFLOP/s   eagerflow {fp32['eagerflow_tflops']:7.1f}   torch "
          f"{fp32['torch_tflops'] or float('nan'):7.1f}   (float32, TF32 off)")
    if tf32:
        print(f"matmul 4096x4096 TFLOP/s   eagerflow {tf32['eagerflow_tflops']:7.1f}   torch "
              f"{tf32['torch_tflops'] or float('nan'):7.1f}   (TF32)")
    results["matmul"] = {"fp32": fp32, "tf32": tf32}
    backend = ef.device("cuda").backend.backend
    if torch:
        results["fused"] = bench_fused(cp, torch, backend.fused, rounds,
                                       0.25 if args.quick else 1.0)
    results["bandwidth"] = bench_bandwidth(ef, cp, rounds, args.quick)
    results["training"] = bench_training(ef, torch, rounds)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2, default=str)
    return 1 if any("error" in r for r in results["training"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
