"""Compare eagerflow results with a NumPy float64 reference."""

from __future__ import annotations

import numpy as np

from .._dtypes import DType, as_dtype
from .._tensor import Tensor

#: (rtol, atol) per result dtype, for values computed in that dtype and compared with a
#: float64 reference. Loose for 16-bit floats (10 and 7 mantissa bits).
TOLERANCES: dict[str, tuple[float, float]] = {
    "bfloat16": (2e-2, 2e-2),
    "float16": (2e-3, 2e-3),
    "float32": (2e-5, 2e-6),
    "float64": (1e-12, 1e-13),
    "complex64": (2e-5, 2e-6),
    "complex128": (1e-12, 1e-13),
}


def reference(x) -> np.ndarray:
    """A float64 (or complex128, int, bool) host copy of a tensor or array, for computing the
    expected value with NumPy."""
    host = np.asarray(x.numpy() if isinstance(x, Tensor) else x)
    if host.dtype.kind == "f" or host.dtype.name == "bfloat16":
        return host.astype(np.float64)
    if host.dtype.kind == "c":
        return host.astype(np.complex128)
    return host


def assert_close(actual, expected, *, dtype=None, shape=None, rtol=None, atol=None,
                 scale=1.0, equal_nan=True, msg=""):
    """Assert a tensor's dtype, shape and values.

    ``expected`` is a NumPy array (usually computed in float64); ``dtype`` (if given) is the
    eagerflow dtype the result must have; tolerances default to ``TOLERANCES[dtype]`` times
    ``scale``; integer and bool results must match exactly.
    """
    assert isinstance(actual, Tensor), f"{msg}expected a Tensor, got {type(actual).__name__}"
    if dtype is not None:
        want = as_dtype(dtype)
        assert actual.dtype is want, f"{msg}dtype {actual.dtype} != expected {want}"
    expected = np.asarray(expected)
    want_shape = tuple(expected.shape) if shape is None else tuple(shape)
    assert actual.shape == want_shape, f"{msg}shape {actual.shape} != expected {want_shape}"
    got = reference(actual)
    kind: DType = actual.dtype
    if kind.kind in "fc":
        r, a = TOLERANCES[kind.name]
        r = (r if rtol is None else rtol) * scale
        a = (a if atol is None else atol) * scale
        exp = expected.astype(np.complex128 if kind.kind == "c" else np.float64)
        np.testing.assert_allclose(got, exp, rtol=r, atol=a, equal_nan=equal_nan,
                                   err_msg=f"{msg}values differ ({kind})")
    else:
        np.testing.assert_array_equal(got, expected, err_msg=f"{msg}values differ ({kind})")
