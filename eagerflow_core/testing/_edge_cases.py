"""The conformance kit's ``special`` check: an op's edge cases (``OpInfo.edge_cases``, the
standard's special-case tables in ``opdb/_special_cases.py``) on one dtype and device, compared
exactly.

>>> import eagerflow_core as ef
>>> from eagerflow_core.testing.opdb import OPDB
>>> edge_case_failures(OPDB["floor_divide"], "float64", ef.device("cpu"))
[]
"""

from __future__ import annotations

import math

import numpy as np

from .._dtypes import as_dtype
from ._compare import TOLERANCES, reference

#: The published text of each function's table.
SPEC_URL = "https://data-apis.org/array-api/2024.12/API_specification/generated/array_api.{}.html"


def cases_for(info, dtype: str) -> tuple:
    """The edge cases of ``info`` that run on ``dtype``: real ones on real floating dtypes,
    complex ones on complex dtypes, none on integer and bool dtypes."""
    kind = as_dtype(dtype).kind
    if kind not in "fc":
        return ()
    return tuple(c for c in getattr(info, "edge_cases", ()) if c.is_complex == (kind == "c"))


def edge_case_failures(info, dtype: str, device) -> list[str]:
    """One line per edge case of ``info`` on ``dtype`` that ``device`` gets wrong (empty if
    all hold): the call, what came out and what the standard says. All cases run in one call
    of the op, on 1-d arrays of ``dtype``."""
    from ..ops.creation import asarray
    chosen = cases_for(info, dtype)
    if not chosen:
        return []
    np_dtype = as_dtype(dtype).numpy
    columns = [np.array([c.args[i] for c in chosen], dtype=np_dtype)
               for i in range(len(chosen[0].args))]
    with device:
        try:
            out = info.fn(*[asarray(col, device=device) for col in columns])
        except Exception as exc:  # noqa: BLE001  (whatever the backend raised is the finding)
            return [f"{info.name}({dtype} edge cases) raised {type(exc).__name__}: {exc}"]
    if tuple(out.shape) != (len(chosen),):
        return [f"{info.name}({dtype} edge cases): shape {out.shape}, expected ({len(chosen)},)"]
    host = out.numpy()
    got, part_dtype = reference(host), host.real.dtype  # float32 for complex64 results
    tol = info.rtol.get(out.dtype.name, TOLERANCES.get(out.dtype.name, (0.0, 0.0)))
    failures = []
    for i, case in enumerate(chosen):
        g = got[i].item()
        if not any(_same(g, want, part_dtype, tol, case.nan_sign) for want in case.expected):
            args = ", ".join(_fmt(a) for a in case.args)
            wants = " or ".join(_fmt(w, case.nan_sign) for w in case.expected)
            failures.append(f"{info.name}({args}) [{dtype}] = {_fmt(g, case.nan_sign)}, "
                            f"expected {wants}")
    return failures


def _same(got, want, part_dtype, tol, nan_sign) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return isinstance(got, bool) and got == want
    got, want = complex(got), complex(want)
    return (_part(got.real, want.real, part_dtype, tol, nan_sign)
            and _part(got.imag, want.imag, part_dtype, tol, nan_sign))


def _part(got: float, want: float, part_dtype, tol, nan_sign) -> bool:
    """One real number: NaN matches NaN (and its sign bit, with ``nan_sign``); a short value
    that the dtype holds (zeros with their sign, infinities, 2.5: float16 has its bits too) must
    be exact; any other value (pi/2) is the standard's "implementation-dependent
    approximation": within the dtype's tolerance, on the same side of zero."""
    if math.isnan(want):
        return math.isnan(got) and (not nan_sign or _sign(got) == _sign(want))
    if math.isnan(got):
        return False
    if all(float(np.asarray(want, d)) == want for d in (part_dtype, np.float16)):
        return got == want and _sign(got) == _sign(want)
    rtol, atol = tol
    return abs(got - want) <= atol + rtol * abs(want) and _sign(got) == _sign(want)


def _sign(v: float) -> float:
    return math.copysign(1.0, v)


def _fmt(v, nan_sign=False) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, complex):
        im = v.imag
        sep = "-" if _sign(im) < 0 and not math.isnan(im) else "+"
        return f"{_fmt(v.real)} {sep} {_fmt(abs(im) if not math.isnan(im) else im)}j"
    if math.isnan(v):
        return "-nan" if nan_sign and _sign(v) < 0 else "nan"
    return repr(float(v))
