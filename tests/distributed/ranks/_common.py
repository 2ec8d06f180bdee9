"""Shared by the per-rank scripts: deterministic per-rank data every rank can recompute, and
small assertion helpers whose failures name the rank."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/distributed: fake_cupy

import eagerflow_core as ef  # noqa: E402

FLOAT_TOL = {"float16": 2e-3, "bfloat16": 2e-2, "float32": 1e-5, "float64": 1e-12,
             "complex64": 1e-5, "complex128": 1e-12}


def data(rank: int, shape, dtype: str, seed: int = 0) -> np.ndarray:
    """Rank ``rank``'s input: the same array on every rank that asks."""
    rng = np.random.default_rng([seed, rank, len(shape)] + list(shape))
    np_dtype = ef.bfloat16.numpy if dtype == "bfloat16" else np.dtype(dtype)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -50), min(info.max, 50), shape).astype(np_dtype)
    if dtype.startswith("complex"):
        return (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(np_dtype)
    values = np.round(rng.normal(size=shape) * 4) / 4  # exact in every float format
    return values.astype(np_dtype)


def check_equal(rank, what, got, want, dtype: str) -> None:
    got = np.asarray(got)
    want = np.asarray(want)
    if got.shape != want.shape:
        raise AssertionError(f"rank {rank}: {what}: shape {got.shape}, expected {want.shape}")
    if dtype in FLOAT_TOL:
        ok = np.allclose(got.astype(np.complex128), want.astype(np.complex128),
                         rtol=FLOAT_TOL[dtype], atol=FLOAT_TOL[dtype])
    else:
        ok = np.array_equal(got, want)
    if not ok:
        raise AssertionError(f"rank {rank}: {what} ({dtype}):\n got  {got!r}\n want {want!r}")


def expect_error(rank, what, cls, pattern, fn) -> str:
    """Run ``fn``; it must raise ``cls`` with ``pattern`` (a substring) in its message."""
    try:
        fn()
    except cls as exc:
        if pattern not in str(exc):
            raise AssertionError(f"rank {rank}: {what}: {cls.__name__} without {pattern!r}: "
                                 f"{exc}") from None
        return str(exc)
    raise AssertionError(f"rank {rank}: {what}: no {cls.__name__} raised")


def reduce_ref(arrs, op, dtype):
    """NumPy's reduction of the ranks' inputs ``arrs`` (16-bit floats in float32, like MPI)."""
    stack = np.stack(arrs)
    if dtype in ("float16", "bfloat16"):
        stack = stack.astype(np.float32)
    if op in ("sum", "mean"):
        out = stack.sum(axis=0, dtype=stack.dtype)
        if op == "mean":
            out = out / len(arrs)
    elif op == "max":
        out = stack.max(axis=0)
    else:
        out = stack.min(axis=0)
    return out.astype(arrs[0].dtype)


def gathered_ref(arrs):
    return np.concatenate([a.reshape(1) if a.ndim == 0 else a for a in arrs])
