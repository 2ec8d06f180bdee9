"""Tensor headers: what the check mode compares across ranks, and what ``send``/``scatter``
tell receivers before the data.

A header is a small int64 array: the collective, its op and root, the sequence number of the
collective on this rank, then the dtype and shape of the tensor (``-1`` where they do not
apply). In check mode (``EAGERFLOW_DIST_CHECK=1`` or ``dist.init(check=True)``) every rank
all-gathers its header before each collective; if the rows differ, every rank raises the same
:class:`CollectiveMismatchError`, naming each rank's call, instead of corrupting results or
hanging inside MPI. The cost is one small all-gather per collective, so it is off by default.
"""

from __future__ import annotations

import numpy as np

from .._dtypes import ALL_DTYPES
from ._errors import CollectiveMismatchError

COLLECTIVES = ("all_reduce", "broadcast", "all_gather", "reduce_scatter", "gather", "scatter",
               "barrier", "send")
OPS = ("sum", "max", "min")
MAX_NDIM = 64  # NumPy's own limit
_FIXED = 6     # collective, op, root, seq, dtype, ndim
LENGTH = _FIXED + MAX_NDIM
_DTYPE_CODE = {d: i for i, d in enumerate(ALL_DTYPES)}


def encode(collective: str, *, op=None, root=None, seq=0, dtype=None, shape=None) -> np.ndarray:
    h = np.full(LENGTH, -1, np.int64)
    h[0] = COLLECTIVES.index(collective)
    h[1] = OPS.index(op) if op is not None else -1
    h[2] = root if root is not None else -1
    h[3] = seq
    if dtype is not None:
        if len(shape) > MAX_NDIM:
            raise ValueError(f"a tensor of {len(shape)} dimensions: at most {MAX_NDIM}")
        h[4] = _DTYPE_CODE[dtype]
        h[5] = len(shape)
        h[_FIXED:_FIXED + len(shape)] = shape
    return h


def decode(h) -> dict:
    """The fields of a header row (``dtype`` an ef.DType, ``shape`` a tuple, or None)."""
    h = [int(v) for v in h]
    ndim = h[5]
    return {"collective": COLLECTIVES[h[0]] if 0 <= h[0] < len(COLLECTIVES) else f"#{h[0]}",
            "op": OPS[h[1]] if h[1] >= 0 else None,
            "root": h[2] if h[2] >= 0 else None,
            "seq": h[3],
            "dtype": ALL_DTYPES[h[4]] if h[4] >= 0 else None,
            "shape": tuple(h[_FIXED:_FIXED + ndim]) if ndim >= 0 else None}


def describe(fields: dict) -> str:
    """``all_reduce(op=sum) float32[4, 3]`` (call #7)."""
    args = [f"{k}={fields[k]}" for k in ("op", "root") if fields[k] is not None]
    text = f"{fields['collective']}({', '.join(args)})"
    if fields["dtype"] is not None:
        text += f" {fields['dtype'].name}{list(fields['shape'])}"
    return f"{text} (collective #{fields['seq']})"


def compare(rows: np.ndarray, what: str) -> None:
    """Raise CollectiveMismatchError unless every rank's header row is the same."""
    if (rows == rows[0]).all():
        return
    fields = [decode(r) for r in rows]
    differ = [name for key, name in (("collective", "the collective"), ("seq", "how many "
              "collectives came before"), ("op", "the op"), ("root", "the root"),
              ("dtype", "the dtype"), ("shape", "the shape"))
              if len({str(f[key]) for f in fields}) > 1]
    groups: dict[str, list[int]] = {}
    for rank, f in enumerate(fields):
        groups.setdefault(describe(f), []).append(rank)
    calls = "; ".join(f"{'ranks' if len(r) > 1 else 'rank'} {', '.join(map(str, r))}: {text}"
                      for text, r in groups.items())
    raise CollectiveMismatchError(
        f"{what}: the ranks disagree on {' and '.join(differ)}: {calls}. Every rank must call "
        f"the same collectives in the same order, with tensors of one shape and dtype "
        f"(found by the check mode, EAGERFLOW_DIST_CHECK=1)")
