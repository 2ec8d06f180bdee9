"""Conv-sized FFTs in eagerflow (NumPy backend), against raw NumPy, raw SciPy and PyTorch (CPU)
measured in the same run.

    python benchmarks/bench_fft.py [--quick] [--json PATH] [--threads N]

Cases (float32 / complex64, the sizes of FFT convolutions and spectral layers):

    rfft2 / irfft2   a batch of 128 images 64x64, and of 16 images 256x256
    fft / ifft       one complex64 signal of 2**16 points
    conv fwd+bwd     y = irfft2(rfft2(x) * k) on 128 images 64x64, loss sum(y**2), and its
                     gradient in x (eagerflow's tape and fft gradient rules against autograd;
                     no NumPy/SciPy column: they have no gradients)

Times are medians over ``--repeat`` rounds of the mean time per call of a loop lasting at least
``--min-time`` seconds; the libraries take turns within each round, so a busy phase of a shared
machine slows them alike. Before timing, each case checks that every library computes the same
values. ``--threads N`` (default 1) gives each library N threads: ``torch.set_num_threads``
and ``scipy.fft``'s default ``workers`` (which eagerflow's NumPy backend also uses);
``numpy.fft`` is single-threaded whatever N.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys

import numpy as np
import scipy
import scipy.fft as sfft
from bench_dispatch import _calibrate, _fmt_time, _loop_time, limit_threads

import eagerflow_core as ef


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short run: 3 rounds of ~50 ms loops")
    p.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    p.add_argument("--threads", type=int, default=1, help="threads per library (default 1)")
    p.add_argument("--repeat", type=int, help="rounds per case (default 7, quick 3)")
    p.add_argument("--min-time", type=float, help="seconds per loop (default 0.2, quick 0.05)")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    args = p.parse_args(argv)
    if args.repeat is None:
        args.repeat = 3 if args.quick else 7
    if args.min_time is None:
        args.min_time = 0.05 if args.quick else 0.2
    return args


SIDES = ("eagerflow", "numpy", "scipy", "torch")


def _images(rng, batch, side):
    return rng.standard_normal((batch, side, side)).astype(np.float32)


def _spectra(rng, batch, side):
    shape = (batch, side, side // 2 + 1)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)


def _signal(rng, n):
    return (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)


def _conv_case(torch, batch, side):
    """The forward and backward pass of an FFT convolution with a fixed kernel spectrum."""
    rng = np.random.default_rng(1)
    x, k = _images(rng, batch, side), _spectra(rng, 1, side)[0]
    ek = ef.asarray(k)

    def ef_step(x):
        def loss(t):
            y = ef.fft.irfftn(ef.fft.rfftn(t, axes=(-2, -1)) * ek, s=(side, side), axes=(-2, -1))
            return ef.sum(y * y)
        return ef.grad(loss)(x)

    calls = {"eagerflow": (ef_step, ef.asarray(x))}
    if torch is not None:
        tk = torch.from_numpy(k)

        def torch_step(x):
            x = x.detach().requires_grad_(True)
            y = torch.fft.irfft2(torch.fft.rfft2(x) * tk, s=(side, side))
            (y * y).sum().backward()
            return x.grad
        calls["torch"] = (torch_step, torch.from_numpy(x))
    return calls


def cases(torch):
    """``(name, {side: (fn, input)})`` for every case."""
    rng = np.random.default_rng(0)
    out = []
    for batch, side in ((128, 64), (16, 256)):
        img, spec = _images(rng, batch, side), _spectra(rng, batch, side)
        out.append((f"rfft2 {batch}x{side}x{side}", {
            "eagerflow": (lambda x: ef.fft.rfftn(x, axes=(-2, -1)), ef.asarray(img)),
            "numpy": (np.fft.rfft2, img), "scipy": (sfft.rfft2, img),
            "torch": (torch.fft.rfft2, torch.from_numpy(img)) if torch else None}))
        s = (side, side)
        out.append((f"irfft2 {batch}x{side}x{side}", {
            "eagerflow": (lambda x, s=s: ef.fft.irfftn(x, s=s, axes=(-2, -1)), ef.asarray(spec)),
            "numpy": (lambda x, s=s: np.fft.irfft2(x, s=s), spec),
            "scipy": (lambda x, s=s: sfft.irfft2(x, s=s), spec),
            "torch": ((lambda x, s=s: torch.fft.irfft2(x, s=s), torch.from_numpy(spec))
                      if torch else None)}))
    sig = _signal(rng, 2**16)
    for name in ("fft", "ifft"):
        out.append((f"{name} 2^16 complex64", {
            "eagerflow": (getattr(ef.fft, name), ef.asarray(sig)),
            "numpy": (getattr(np.fft, name), sig), "scipy": (getattr(sfft, name), sig),
            "torch": (getattr(torch.fft, name), torch.from_numpy(sig)) if torch else None}))
    out.append(("conv fwd+bwd 128x64x64", _conv_case(torch, 128, 64)))
    return [(name, {k: v for k, v in calls.items() if v is not None}) for name, calls in out]


def _host(out):
    if isinstance(out, ef.Tensor):
        return out.numpy()
    if hasattr(out, "detach"):  # torch
        return out.detach().resolve_conj().numpy()
    return np.asarray(out)


def _check_agree(name, results):
    """Every library computes the same values (a benchmark of a wrong result means nothing)."""
    ref_name, ref = next(iter(results.items()))
    want = _host(ref).astype(np.complex128)
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    for side, out in results.items():
        got = _host(out)
        if got.dtype not in (np.float32, np.complex64):
            raise SystemExit(f"{name}: {side} computed in {got.dtype}, not single precision")
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-3, atol=1e-4 * scale):
            raise SystemExit(f"{name}: {side} disagrees with {ref_name}")


def run_case(name, calls, repeat, min_time):
    _check_agree(name, {side: fn(x) for side, (fn, x) in calls.items()})
    loops = {side: _calibrate(fn, (x,), lambda: None, min_time)
             for side, (fn, x) in calls.items()}
    rounds = {side: [] for side in calls}
    for _ in range(repeat):
        for side, (fn, x) in calls.items():
            rounds[side].append(_loop_time(fn, (x,), loops[side], lambda: None))
    return {"case": name, "seconds": {k: statistics.median(v) for k, v in rounds.items()},
            "rounds": rounds, "loops": loops}


def table(rows):
    head = ["case"] + list(SIDES) + ["ef/numpy", "ef/scipy", "ef/torch"]
    lines = []
    for row in rows:
        sec = row["seconds"]
        ef_s = sec.get("eagerflow")
        ratios = [f"{ef_s / sec[k]:.2f}" if k in sec else "-" for k in ("numpy", "scipy", "torch")]
        lines.append([row["case"]] + [_fmt_time(sec.get(k)) for k in SIDES] + ratios)
    widths = [max(len(str(r[i])) for r in [head] + lines) for i in range(len(head))]
    def fmt(r):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in lines])


def main(args):
    torch = None
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(args.threads)
        except ImportError:
            pass
    pools = limit_threads(args.threads)  # noqa: F841  (the limits hold while it lives)
    print(f"eagerflow {ef.__version__} (NumPy backend: scipy.fft), numpy {np.__version__}, "
          f"scipy {scipy.__version__}, torch {torch.__version__ if torch else '-'}; "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs, threads {args.threads}; "
          f"median of {args.repeat} rounds of >= {args.min_time} s loops")
    rows = []
    with sfft.set_workers(args.threads), ef.device("cpu"):
        for name, calls in cases(torch):
            rows.append(run_case(name, calls, args.repeat, args.min_time))
            print(f"  {name}: done", file=sys.stderr)
    print(table(rows))
    print("ratios > 1: eagerflow slower")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "repeat": args.repeat, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main(parse_args())
