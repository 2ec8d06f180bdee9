"""Kernels of the special functions, on ``scipy.special`` (NumPy has none of them).

The core computes float16 and bfloat16 in float32 (``real_floating_wide``), so these kernels
see float32 and float64 only; scipy's float32 loops evaluate in double and round once.
``polygamma`` is NaN where the order is not a non-negative integer (TensorFlow's rule; scipy
would evaluate a Hurwitz zeta there). Without scipy the backend still loads, and these
kernels say what to install.
"""

from __future__ import annotations

import numpy as np

try:
    from scipy import special as _sc
except ImportError:  # pragma: no cover - scipy is a declared dependency
    _sc = None

_NAMES = {"erf": "erf", "erfc": "erfc", "erfinv": "erfinv", "lgamma": "gammaln",
          "digamma": "psi", "igamma": "gammainc", "igammac": "gammaincc"}


def _polygamma(a, x, /):
    a, x = np.asarray(a), np.asarray(x)
    valid = (a >= 0) & (a == np.floor(a))
    with np.errstate(invalid="ignore"):
        out = _sc.polygamma(np.where(valid, a, 0), x)
    return np.where(valid, out, np.nan).astype(x.dtype, copy=False)


def _missing(name):
    def kernel(*args):
        raise ImportError(f"the NumPy backend computes {name} with scipy.special: pip install "
                          f"scipy")
    return kernel


if _sc is None:  # pragma: no cover
    KERNELS: dict = {name: _missing(name) for name in [*_NAMES, "polygamma"]}
else:
    KERNELS = {name: getattr(_sc, fn) for name, fn in _NAMES.items()}
    KERNELS["polygamma"] = _polygamma
