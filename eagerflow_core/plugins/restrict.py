"""Kernels that take only some dtypes (``Backend.kernel_dtypes``): each is wrapped once, when
the backend's table is compiled, so that an input of a dtype the kernel lacks is computed in
the nearest wider dtype of its kind and the result cast back. Ops without a declaration keep
their kernel as is: the restriction costs nothing where there is none.
"""

from __future__ import annotations

from .._dtypes import as_dtype
from .._errors import KernelNotFoundError


def restrict(table: dict, declared: dict, native: dict, from_native: dict, backend: str) -> dict:
    """``table`` with the kernels of ``declared`` ops wrapped (a new dict)."""
    out = dict(table)
    astype = table.get("astype")
    for name, dtypes in declared.items():
        kern = out.get(name)
        if kern is None or astype is None:
            continue
        allowed = {as_dtype(d) for d in dtypes} & set(native)
        out[name] = _wrapped(name, kern, allowed, native, from_native, astype, backend)
    return out


def _wider(dt, allowed):
    """The narrowest allowed dtype of ``dt``'s kind at least as wide (float16 -> float32)."""
    options = sorted((d for d in allowed if d.kind == dt.kind and d.itemsize >= dt.itemsize),
                     key=lambda d: d.itemsize)
    return options[0] if options else None


def _wrapped(name, kern, allowed, native, from_native, astype, backend):
    takes = ", ".join(sorted(d.name for d in allowed)) or "no dtype"

    def kernel(*args, **params):
        casts = {}  # native dtype given -> native dtype computed in
        fixed = []
        for a in args:
            dt = from_native.get(getattr(a, "dtype", None))
            if dt is not None and dt not in allowed:
                wide = _wider(dt, allowed)
                if wide is None:
                    raise KernelNotFoundError(
                        f"{name}: backend {backend!r}'s kernel takes {takes}, not {dt}, and no "
                        f"wider {dt.kind!r}-kind dtype; cast the input first (ef.astype)")
                casts[native[dt]] = native[wide]
                a = astype(a, native[wide])
            fixed.append(a)
        if not casts:
            return kern(*args, **params)
        if params.get("dtype") in casts:
            params = {**params, "dtype": casts[params["dtype"]]}
        back = {v: k for k, v in casts.items()}
        result = kern(*fixed, **params)
        if isinstance(result, (tuple, list)):
            parts = [_back(r, back, astype) for r in result]
            return type(result)(*parts) if hasattr(result, "_fields") else type(result)(parts)
        return _back(result, back, astype)
    kernel.__name__ = getattr(kern, "__name__", name)
    kernel.__wrapped__ = kern
    return kernel


def _back(raw, back, astype):
    want = back.get(getattr(raw, "dtype", None))
    return raw if want is None else astype(raw, want)
