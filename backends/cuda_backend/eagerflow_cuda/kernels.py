"""The CuPy kernel table: the backend kit's table from ``cupy``, then the overrides.

CuPy implements the Array API standard's namespace, so the kit covers most ops by name. This
module adds the ops CuPy lacks (``_generic.py``: array code on the namespace, so CuPy's generic
kernels cover them), convolution and pooling (``conv.py``), what eagerflow does better on the
GPU (the fused float32 sums of ``csrc/``, the fused Adam update), the backend's extra kernels
(``random.*``, a device-aware ``from_dlpack``) and binds a table to one device on machines with
several.

Nothing here imports cupy: the namespace is passed in, which also lets the routing logic be
tested on a machine without a GPU (with NumPy standing in for CuPy).
"""

from __future__ import annotations

import numpy as np

from eagerflow_core.plugins import kernels_from_namespace

_F32 = np.dtype(np.float32)

#: The one-warp-per-row kernel wins when there are enough rows to fill the GPU, or when rows
#: are short enough that a warp finishes one quickly; otherwise cupy's segmented reduction
#: (a block per row) is faster.
ROWS_MIN = 256
COLS_MAX = 4096


def _astype(x, dtype, /, *, copy=True, device=None):
    return x.astype(dtype, copy=copy)


def _reduced_axes(axis, ndim):
    """``axis`` as a sorted tuple of non-negative axes, or None when it is not valid (then the
    fallback kernel raises, and the core turns that into a clear AxisError)."""
    if axis is None:
        return tuple(range(ndim))
    out = []
    for a in axis if isinstance(axis, tuple) else (axis,):
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            return None
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        return None
    return tuple(sorted(out))


def make_sum(fallback, fused):
    """The ``sum`` kernel: the fused kernels for float32 sums of C-contiguous arrays over all
    axes or over the last one, ``fallback`` (``cupy.sum``) for everything else."""

    def sum_(x, /, *, axis=None, dtype=None, keepdims=False):
        if (x.dtype == _F32 and (dtype is None or dtype == _F32) and x.size
                and x.flags.c_contiguous and fused.ready()):
            ndim = x.ndim
            axes = _reduced_axes(axis, ndim)
            if axes is not None and len(axes) == ndim:
                out = fused.sum_all(x)
                return out.reshape((1,) * ndim) if keepdims else out
            if axes is not None and axes == (ndim - 1,):
                cols = x.shape[-1]
                rows = x.size // cols
                if rows >= ROWS_MIN or cols <= COLS_MAX:
                    out = fused.sum_rows(x.reshape(rows, cols))
                    return out.reshape(x.shape[:-1] + ((1,) if keepdims else ()))
        return fallback(x, axis=axis, dtype=dtype, keepdims=keepdims)

    sum_.__name__ = "sum"
    return sum_


def build_table(cp, fused, extras=None, *, special=None, training=None) -> dict:
    """The kernel table over the namespace ``cp`` (cupy) with the fused sums ``fused``, then
    ``extras`` (name -> kernel) on top.

    Layers, lowest first: the backend kit's table of ``cp``'s functions by the core's op names;
    ``_generic``'s array code for the ops ``cp`` lacks (linalg extension functions,
    ``unstack``, ``vecdot``) and the optimizer updates ``optim.*``; the standard's signatures
    over CuPy functions that keep NumPy 1's (``_generic.compat_kernels``); TensorFlow's pad,
    einsum and top_k (``_generic.tf_kernels``); the linalg decompositions
    computing float16 in float32 (cuSOLVER has no float16); the special functions from
    ``special`` (``cupyx.scipy.special``) when given; convolution and pooling (``conv.KERNELS``);
    the fused training kernels of ``training`` (a ``fused.Fused``: ``optim.adam`` in one CUDA C
    kernel) when given; ``extras``. Every kernel takes the core's calling convention
    (``kernel(*raw inputs, *posparams, **params)``), as the NumPy backend's do.
    """
    from . import conv
    from ._generic import HALF_LIFTED, compat_kernels, generic_kernels, lift_half, tf_kernels

    table = kernels_from_namespace(cp)
    for name, fn in generic_kernels(cp, special).items():
        table.setdefault(name, fn)
    table.update(compat_kernels(cp))
    table.update(tf_kernels(cp))
    for name in HALF_LIFTED:
        if f"linalg.{name}" in table:
            table[f"linalg.{name}"] = lift_half(table[f"linalg.{name}"], name)
    table.update(conv.KERNELS)
    if training is not None:
        table.update(training.core_table())
    table["astype"] = _astype
    table["sum"] = make_sum(cp.sum, fused)
    table.update(extras or {})
    return table


def bind(table: dict, index: int, runtime) -> dict:
    """``table`` with every kernel run while device ``index`` is current.

    CuPy allocates results, and launches kernels, on the current device; CUDA keeps the current
    device per host thread, so switching it around a call is thread-safe. The switch costs two
    runtime calls, so single-GPU machines use the unbound table.
    """
    get_device, set_device = runtime.getDevice, runtime.setDevice

    def on_device(fn):
        def kernel(*args, **kwargs):
            prev = get_device()
            if prev == index:
                return fn(*args, **kwargs)
            set_device(index)
            try:
                return fn(*args, **kwargs)
            finally:
                set_device(prev)

        kernel.__name__ = getattr(fn, "__name__", "kernel")
        kernel.__wrapped__ = fn
        return kernel

    return {name: on_device(fn) for name, fn in table.items()}
