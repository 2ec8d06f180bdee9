"""NumPy overrides for the linalg ops (the kit's table covers the rest).

NumPy's LAPACK routines take no float16 (TypeError) and turn bfloat16 into float64: these
kernels compute 16-bit floats in float32, and the core casts the result back to the dtype it
decided. Several results come back as plain tuples (the core wraps each element). A singular
matrix keeps NumPy's LinAlgError (a ValueError) with a message that says what to do.
"""

from __future__ import annotations

import functools

import ml_dtypes
import numpy as np

_HALF = frozenset({np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)})
_F32 = np.dtype(np.float32)
# The standard's default rtol of pinv and matrix_rank is max(m, n) * eps of the input's dtype:
# computing in float32 must not silently tighten it to float32's eps.
_EPS = {np.dtype(np.float16): float(np.finfo(np.float16).eps),
        np.dtype(ml_dtypes.bfloat16): float(ml_dtypes.finfo(ml_dtypes.bfloat16).eps)}
_RTOL_OPS = ("matrix_rank", "pinv")

# Hints added to NumPy's LinAlgError messages, by op.
_HINTS = {
    "inv": "no inverse exists (for one matrix of the stack at least); ef.linalg.pinv gives "
           "the pseudo-inverse",
    "solve": "x1 has no inverse (one matrix of the stack at least), so there is no unique "
             "solution; ef.linalg.pinv(x1) @ x2 gives the least-squares one",
    "cholesky": "x must be symmetric (Hermitian) positive-definite (every matrix of the stack)",
    "matrix_power": "a negative power needs the inverse, which does not exist",
}


def _half_to_f32(a):
    return a.astype(_F32) if isinstance(a, np.ndarray) and a.dtype in _HALF else a


def _kernel(name):
    """np.linalg.<name>, computing 16-bit floats in float32 and returning tuples, not
    NumPy's namedtuples (the dispatcher wraps each element of a plain tuple)."""
    fn = getattr(np.linalg, name)
    hint = _HINTS.get(name)
    has_rtol = name in _RTOL_OPS

    @functools.wraps(fn)
    def kernel(*args, **kwargs):
        if has_rtol:
            x = args[0]
            rtol = kwargs.get("rtol")
            if rtol is None and x.dtype in _EPS:
                rtol = max(x.shape[-2:], default=0) * _EPS[x.dtype]
            kwargs["rtol"] = _half_to_f32(rtol)
        args = [_half_to_f32(a) for a in args]
        try:
            out = fn(*args, **kwargs)
        except np.linalg.LinAlgError as exc:
            if hint is None:
                raise
            raise np.linalg.LinAlgError(f"{exc}: {hint}") from None
        return tuple(out) if isinstance(out, tuple) else out
    return kernel


_NAMES = ("cholesky", "det", "eigh", "eigvalsh", "inv", "matrix_norm", "matrix_power",
          "matrix_rank", "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "vector_norm")

KERNELS: dict = {f"linalg.{name}": _kernel(name) for name in _NAMES}
