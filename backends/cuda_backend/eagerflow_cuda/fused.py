"""Fused CUDA C kernels for training (``csrc/*.cu``) as functions on CuPy arrays.

``FUSED`` maps a name to a function; ``reference.py`` holds the same math with array operations.
The kernels store float32, float16 and bfloat16 (``ml_dtypes.bfloat16`` arrays, which CuPy 14
holds) and accumulate in float32; float64 inputs take the reference path with CuPy (the math is
the same), other integer or bool inputs are lifted to float32 first. Every function is
asynchronous: it queues kernels on CuPy's current stream and never waits for the GPU.

Row operations (softmax, cross-entropy, layer norm) work on the last axis of a C-contiguous
array; another ``axis`` costs a transpose (CuPy copies it to a contiguous buffer).

name -> signature (CuPy arrays in, CuPy arrays out):

- ``nn.softmax``: ``softmax(x, axis=-1) -> y``
- ``nn.softmax_grad``: ``softmax_grad(g, y, axis=-1) -> dx``
- ``nn.log_softmax``: ``log_softmax(x, axis=-1) -> y``
- ``nn.log_softmax_grad``: ``log_softmax_grad(g, y, axis=-1) -> dx``
- ``nn.sparse_softmax_cross_entropy_with_logits``: ``(labels, logits) -> loss``
- ``nn.sparse_softmax_cross_entropy_fwd``: ``(labels, logits) -> (loss, lse)``
- ``nn.sparse_softmax_cross_entropy_grad``: ``(g, labels, logits, lse=None) -> dlogits``
- ``nn.layer_norm``: ``layer_norm(x, gamma=None, beta=None, *, axis=-1, epsilon=1e-3) -> y``
- ``nn.layer_norm_fwd``: same arguments ``-> (y, mean, rstd)``
- ``nn.layer_norm_grad``: ``(g, x, mean, rstd, gamma=None, *, axis=-1) -> (dx, dgamma, dbeta)``
- ``nn.gelu`` / ``nn.gelu_grad``: ``gelu(x, approximate=True)`` /
  ``gelu_grad(g, x, approximate=True)``
- ``nn.silu`` / ``nn.silu_grad``: ``silu(x)`` / ``silu_grad(g, x)``
- ``nn.bias_act``: ``bias_act(x, bias=None, activation="relu") -> y``
- ``nn.bias_act_grad``: ``bias_act_grad(g, x, bias=None, activation="relu") -> (dx, dbias)``
- ``optimizers.adam``: ``adam_update(param, grad, m, v, *, lr, beta_1=0.9, beta_2=0.999,
  epsilon=1e-7, step, weight_decay=0.0) -> None``
- ``optimizers.adam_multi``: ``adam_update_multi(params, grads, ms, vs, *, same keywords) -> None``

Notes: ``lse`` (log-sum-exp per row), ``mean`` and ``rstd`` are float32 (float64 for float64
inputs), shaped like the rows (``x.shape`` without the normalised axes). A cross-entropy label
outside ``[0, classes)`` gives a NaN loss: a kernel cannot raise, so a caller that wants the
error checks labels itself. ``dgamma``/``dbeta`` are None when ``gamma`` is None (dbeta is
always computed: it does not depend on gamma). ``activation`` is one of ``none``/``linear``/None,
``relu``, ``gelu`` (the tanh form, like ``ef.nn.gelu``), ``gelu_tanh``, ``gelu_erf``, ``silu``
(``swish``); bias + activation is one pass after the matmul (CuPy's cuBLAS matmul has no
epilogue), and its backward computes ``dx`` and the bias gradient in one pass. Adam updates
``param``, ``m`` and ``v`` in place (Keras' Adam; ``weight_decay`` > 0 gives AdamW, decoupled as
Keras and PyTorch do); ``step`` is the 1-based count of updates including this one.
"""

from __future__ import annotations

import functools
import inspect
from typing import Callable

import numpy as np

from . import _launch as L
from . import reference as R

_MODE = {"softmax": np.int32(0), "log_softmax": np.int32(1)}
_ACT = {"none": 0, "linear": 0, None: 0, "relu": 1, "gelu": 2, "gelu_tanh": 2, "gelu_erf": 3,
        "silu": 4, "swish": 4}
_ACT_NAME = {0: "none", 1: "relu", 2: "gelu_tanh", 3: "gelu_erf", 4: "silu"}
_ADAM_PAIRS = {("f32", "f32"), ("f16", "f16"), ("f16", "f32"), ("bf16", "bf16"), ("bf16", "f32")}


def activation_code(activation) -> int:
    try:
        return _ACT[activation]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {activation!r}: use one of none, relu, gelu, "
                         f"gelu_tanh, gelu_erf, silu") from None


class Fused:
    """The launchers, on one runtime ``rt`` (``_runtime.CudaRuntime`` on a GPU)."""

    def __init__(self, rt):
        self.rt = rt
        self.xp = rt.xp

    # -- helpers ----------------------------------------------------------------------------
    def _floating(self, x):
        """``x`` itself if the kernels or the reference take its dtype, else as float32."""
        if L.tag(x.dtype) is None and x.dtype != np.float64:
            return x.astype(np.float32)
        return x

    def _rows(self, x, axis):
        """``x`` as a C-contiguous (rows, cols) array with ``axis`` (an int or a tuple) last,
        and a function that puts a (rows, cols) result back into ``x``'s layout."""
        xp = self.xp
        axes = tuple(a % x.ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
        lead = tuple(a for a in range(x.ndim) if a not in axes)
        moved = xp.transpose(x, lead + axes) if lead + axes != tuple(range(x.ndim)) else x
        lead_shape = tuple(x.shape[a] for a in lead)
        norm_shape = tuple(x.shape[a] for a in axes)
        rows = int(np.prod(lead_shape, dtype=np.int64))
        x2 = xp.ascontiguousarray(moved).reshape(rows, int(np.prod(norm_shape, dtype=np.int64)))
        inverse = tuple(int(i) for i in np.argsort(lead + axes))

        def back(y2):
            y = y2.reshape(moved.shape)
            return y if moved is x else xp.transpose(y, inverse)

        return x2, lead_shape, norm_shape, back

    def _ptr(self, a) -> int:
        return self.rt.data_ptr(a)

    def _launch_rows(self, source, prefix, row_arrays, args_before, extra, rows, cols, t):
        name, grid = L.row_kernel(prefix, rows, cols, row_arrays[0].itemsize,
                                  L.aligned(*(self._ptr(a) for a in row_arrays)), t)
        dims = (np.int64(rows), np.int64(cols)) if "_warp" in name else (np.int64(cols),)
        self.rt.function(source, name)(grid, (L.BLOCK,), (*args_before, *dims, *extra))

    # -- softmax / log_softmax ----------------------------------------------------------------
    def _softmax(self, x, axis, mode):
        x = self._floating(x)
        x2, _, _, back = self._rows(x, axis)
        t = L.tag(x.dtype)
        if t is None or x2.shape[1] == 0:
            return back(getattr(R, mode)(x2, xp=self.xp))
        y = self.xp.empty_like(x2)
        if x2.size:
            self._launch_rows("softmax.cu", "ef_softmax_fwd", (x2, y), (x2, y), (_MODE[mode],),
                              *x2.shape, t)
        return back(y)

    def softmax(self, x, axis=-1):
        return self._softmax(x, axis, "softmax")

    def log_softmax(self, x, axis=-1):
        return self._softmax(x, axis, "log_softmax")

    def _softmax_grad(self, g, y, axis, mode):
        g2, _, _, back = self._rows(g.astype(y.dtype, copy=False), axis)
        y2 = self._rows(y, axis)[0]
        t = L.tag(y.dtype)
        if t is None or y2.shape[1] == 0:
            return back(getattr(R, f"{mode}_grad")(g2, y2, xp=self.xp))
        dx = self.xp.empty_like(y2)
        if y2.size:
            self._launch_rows("softmax.cu", "ef_softmax_bwd", (g2, y2, dx), (g2, y2, dx),
                              (_MODE[mode],), *y2.shape, t)
        return back(dx)

    def softmax_grad(self, g, y, axis=-1):
        return self._softmax_grad(g, y, axis, "softmax")

    def log_softmax_grad(self, g, y, axis=-1):
        return self._softmax_grad(g, y, axis, "log_softmax")

    # -- sparse softmax cross-entropy -----------------------------------------------------------
    def sparse_softmax_cross_entropy_fwd(self, labels, logits):
        logits = self._floating(logits)
        x2, lead, _, _ = self._rows(logits, -1)
        lab = self.xp.ascontiguousarray(labels.reshape(-1).astype(np.int64, copy=False))
        t = L.tag(logits.dtype)
        rows, cols = x2.shape
        if t is None or cols == 0:
            loss, lse = R.sparse_softmax_cross_entropy(lab, x2, xp=self.xp)
            return loss.reshape(lead), lse.reshape(lead)
        loss = self.xp.empty(rows, dtype=logits.dtype)
        lse = self.xp.empty(rows, dtype=np.float32)
        if rows:
            self._launch_rows("softmax.cu", "ef_sparse_ce_fwd", (x2,), (x2, lab, loss, lse), (),
                              rows, cols, t)
        return loss.reshape(lead), lse.reshape(lead)

    def sparse_softmax_cross_entropy_with_logits(self, labels, logits):
        return self.sparse_softmax_cross_entropy_fwd(labels, logits)[0]

    def sparse_softmax_cross_entropy_grad(self, g, labels, logits, lse=None):
        logits = self._floating(logits)
        if lse is None:
            lse = self.sparse_softmax_cross_entropy_fwd(labels, logits)[1]
        x2, _, _, back = self._rows(logits, -1)
        rows, cols = x2.shape
        xp = self.xp
        lab = xp.ascontiguousarray(labels.reshape(-1).astype(np.int64, copy=False))
        gr = xp.ascontiguousarray(g.reshape(-1).astype(logits.dtype, copy=False))
        lse_r = xp.ascontiguousarray(lse.reshape(-1))
        t = L.tag(logits.dtype)
        if t is None:
            return back(R.sparse_softmax_cross_entropy_grad(gr, lab, x2, lse_r, xp=xp))
        dx = xp.empty_like(x2)
        if x2.size:
            lse_r = lse_r.astype(np.float32, copy=False)
            vec = L.vec_width(x2.itemsize)
            use_vec = cols % vec == 0 and L.aligned(self._ptr(x2), self._ptr(dx))
            per = vec if use_vec else 1
            name = f"ef_sparse_ce_bwd{'v' if use_vec else ''}_{t}"
            blocks = L.grid_stride_blocks(x2.size // per, self.rt.sm_count())
            self.rt.function("softmax.cu", name)(
                (blocks,), (L.BLOCK,), (gr, x2, lab, lse_r, dx, np.int64(rows), np.int64(cols)))
        return back(dx)

    # -- layer normalisation --------------------------------------------------------------------
    def _param(self, p, dtype, cols):
        if p is None:
            return None
        return self.xp.ascontiguousarray(p.reshape(cols).astype(dtype, copy=False))

    def layer_norm_fwd(self, x, gamma=None, beta=None, *, axis=-1, epsilon=1e-3):
        x = self._floating(x)
        x2, lead, _, back = self._rows(x, axis)
        rows, cols = x2.shape
        gm, bt = self._param(gamma, x.dtype, cols), self._param(beta, x.dtype, cols)
        t = L.tag(x.dtype)
        if t is None or cols == 0:
            y, mean, rstd = R.layer_norm(x2, gm, bt, epsilon, xp=self.xp)
            return back(y), mean.reshape(lead), rstd.reshape(lead)
        y = self.xp.empty_like(x2)
        mean = self.xp.empty(rows, dtype=np.float32)
        rstd = self.xp.empty(rows, dtype=np.float32)
        if rows:
            self._launch_rows("layer_norm.cu", "ef_ln_fwd", (x2, y), (x2, gm, bt, y, mean, rstd),
                              (np.float32(epsilon),), rows, cols, t)
        return back(y), mean.reshape(lead), rstd.reshape(lead)

    def layer_norm(self, x, gamma=None, beta=None, *, axis=-1, epsilon=1e-3):
        return self.layer_norm_fwd(x, gamma, beta, axis=axis, epsilon=epsilon)[0]

    def layer_norm_grad(self, g, x, mean, rstd, gamma=None, *, axis=-1):
        x = self._floating(x)
        x2, _, norm_shape, back = self._rows(x, axis)
        g2 = self._rows(g.astype(x.dtype, copy=False), axis)[0]
        rows, cols = x2.shape
        xp = self.xp
        gm = self._param(gamma, x.dtype, cols)
        mean_r = xp.ascontiguousarray(mean.reshape(-1))
        rstd_r = xp.ascontiguousarray(rstd.reshape(-1))
        t = L.tag(x.dtype)
        if t is None or rows == 0 or cols == 0:
            dx, dgamma, dbeta = R.layer_norm_grad(g2, x2, mean_r, rstd_r, gm, xp=xp)
        else:
            mean_r = mean_r.astype(np.float32, copy=False)
            rstd_r = rstd_r.astype(np.float32, copy=False)
            dx = xp.empty_like(x2)
            self._launch_rows("layer_norm.cu", "ef_ln_bwd", (g2, x2, dx),
                              (g2, x2, mean_r, rstd_r, gm, dx), (), rows, cols, t)
            (tiles, chunks), per_chunk = L.colsum_plan(rows, cols, self.rt.sm_count())
            pg = None if gamma is None else xp.empty((chunks, cols), dtype=np.float32)
            pb = xp.empty((chunks, cols), dtype=np.float32)
            self.rt.function("layer_norm.cu", f"ef_ln_bwd_params_{t}")(
                (tiles, chunks), (L.COL_TILE, L.COL_ROWS),
                (g2, x2, mean_r, rstd_r, pg, pb, np.int64(rows), np.int64(cols),
                 np.int64(per_chunk)))
            dgamma = None if pg is None else self._colsum_final("layer_norm.cu", "ef_ln_colsum",
                                                                 pg, x.dtype, t)
            dbeta = self._colsum_final("layer_norm.cu", "ef_ln_colsum", pb, x.dtype, t)
        if gamma is not None:
            dgamma = dgamma.reshape(gamma.shape).astype(gamma.dtype, copy=False)
        return back(dx), dgamma, dbeta.reshape(norm_shape)

    def _colsum_final(self, source, prefix, partial, dtype, t):
        chunks, cols = partial.shape
        out = self.xp.empty(cols, dtype=dtype)
        self.rt.function(source, f"{prefix}_{t}")(
            (L.cdiv(cols, L.BLOCK),), (L.BLOCK,), (partial, np.int32(chunks), np.int64(cols), out))
        return out

    # -- activations and the bias + activation epilogue ------------------------------------------
    def _bias_args(self, x, bias, activation):
        """(activation code, x lifted to a float dtype, dtype tag, cols, contiguous bias)."""
        code = activation_code(activation)
        x = self._floating(x)
        cols = x.shape[-1] if x.ndim else 1
        b = None if bias is None else self.xp.ascontiguousarray(
            bias.reshape(cols).astype(x.dtype, copy=False))
        return code, x, L.tag(x.dtype), cols, b

    def bias_act(self, x, bias=None, activation="relu"):
        code, x, t, cols, b = self._bias_args(x, bias, activation)
        xp = self.xp
        if t is None:
            return R.bias_act(x, b, _ACT_NAME[code], xp=xp)
        xc = xp.ascontiguousarray(x)
        y = xp.empty_like(xc)
        if xc.size:
            blocks = L.grid_stride_blocks(L.cdiv(xc.size, L.vec_width(xc.itemsize)),
                                          self.rt.sm_count())
            self.rt.function("activations.cu", f"ef_bias_act_fwd_{t}")(
                (blocks,), (L.BLOCK,),
                (xc, b, y, np.int64(xc.size), np.int64(cols), np.int32(code)))
        return y

    def bias_act_grad(self, g, x, bias=None, activation="relu"):
        code, x, t, cols, b = self._bias_args(x, bias, activation)
        xp = self.xp
        gc = xp.ascontiguousarray(g.astype(x.dtype, copy=False))
        if t is None:
            dz, db = R.bias_act_grad(gc, x, b, _ACT_NAME[code], xp=xp)
            return dz, None if db is None else db.reshape(bias.shape)
        xc = xp.ascontiguousarray(x)
        if b is None:
            if code == 0:
                return gc, None
            dz = xp.empty_like(xc)
            if xc.size:
                blocks = L.grid_stride_blocks(L.cdiv(xc.size, L.vec_width(xc.itemsize)),
                                              self.rt.sm_count())
                self.rt.function("activations.cu", f"ef_act_bwd_{t}")(
                    (blocks,), (L.BLOCK,),
                    (gc, xc, None, dz, np.int64(xc.size), np.int64(cols), np.int32(code)))
            return dz, None
        rows = xc.size // cols if cols else 0
        dz = gc if code == 0 else xp.empty_like(xc)
        (tiles, chunks), per_chunk = L.colsum_plan(rows, cols, self.rt.sm_count())
        partial = xp.empty((chunks, cols), dtype=np.float32)
        if cols:
            self.rt.function("activations.cu", f"ef_bias_act_bwd_{t}")(
                (tiles, chunks), (L.COL_TILE, L.COL_ROWS),
                (gc, xc, b, None if code == 0 else dz, partial, np.int64(rows), np.int64(cols),
                 np.int64(per_chunk), np.int32(code)))
        db = self._colsum_final("activations.cu", "ef_bias_colsum", partial, x.dtype, t)
        return dz, db.reshape(bias.shape).astype(bias.dtype, copy=False)

    def gelu(self, x, approximate=True):
        return self.bias_act(x, None, "gelu_tanh" if approximate else "gelu_erf")

    def gelu_grad(self, g, x, approximate=True):
        return self.bias_act_grad(g, x, None, "gelu_tanh" if approximate else "gelu_erf")[0]

    def silu(self, x):
        return self.bias_act(x, None, "silu")

    # -- the core's composites with a declared kernel name (eagerflow_core/nn) ----------------
    def nn_silu(self, x, *, beta=1.0):
        """``nn.silu``: ``x * sigmoid(beta * x)``; the fused kernel for beta 1 (TensorFlow's
        and Keras' default), one CuPy expression otherwise."""
        if beta == 1.0:
            return self.silu(x)
        x = self._floating(x)
        return x / (1 + self.xp.exp(-x * x.dtype.type(beta)))

    def nn_layer_norm(self, x, *, axes, epsilon):
        """``nn.layer_norm``: the normalisation over ``axes`` without scale or offset (the core
        applies those after it)."""
        return self.layer_norm(x, axis=tuple(axes), epsilon=epsilon)

    def silu_grad(self, g, x):
        return self.bias_act_grad(g, x, None, "silu")[0]

    # -- Adam / AdamW -----------------------------------------------------------------------
    def _adam_pair(self, param, grad, m, v):
        pair = (L.tag(param.dtype), L.tag(m.dtype))
        ok = (pair in _ADAM_PAIRS and grad.dtype == param.dtype and v.dtype == m.dtype
              and all(a.flags.c_contiguous and a.size == param.size for a in (param, grad, m, v)))
        return pair if ok else None

    def adam_update(self, param, grad, m, v, *, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                    step, weight_decay=0.0):
        self._adam_step(param, grad, m, v,
                        R.adam_hyper(lr, beta_1, beta_2, epsilon, step, weight_decay))

    def optim_adam(self, param, m, v, *rest, lr, beta_1, beta_2, epsilon, decay=0.0,
                   amsgrad=False):
        """The ``optim.adam`` kernel of the core's contract (``eagerflow_numpy/_optim.py``):
        ``(param, m, v, [v_hat], grad)``, ``lr`` already bias-corrected, ``decay = lr *
        weight_decay``; updates in place and returns the buffers. AMSGrad takes the array path
        (``_generic.optim_kernels``); so do dtypes and layouts the kernel does not take."""
        grad = rest[-1]
        if amsgrad or self._adam_pair(param, grad, m, v) is None:
            return self._adam_arrays(param, m, v, *rest, lr=lr, beta_1=beta_1, beta_2=beta_2,
                                     epsilon=epsilon, decay=decay, amsgrad=amsgrad)
        self._adam_step(param, grad, m, v, (lr, 1.0 - beta_1, 1.0 - beta_2, epsilon, decay))
        return param, m, v

    @functools.cached_property
    def _adam_arrays(self):
        from ._generic import optim_kernels
        return optim_kernels(self.xp)["optim.adam"]

    def _adam_step(self, param, grad, m, v, hyper):
        """One update with the five scalars of ``R.adam_hyper``, in place."""
        pair = self._adam_pair(param, grad, m, v)
        if pair is None:  # another dtype, or a non-contiguous view: the reference, written back
            g = grad.astype(param.dtype, copy=False)
            p, mm, vv = R.adam(param, g, m, v, *hyper, xp=self.xp)
            param[...], m[...], v[...] = p, mm, vv
            return
        if param.size:
            blocks = L.grid_stride_blocks(L.cdiv(param.size, L.ADAM_CHUNK), self.rt.sm_count(), 1)
            self.rt.function("adam.cu", f"ef_adam_{pair[0]}_{pair[1]}")(
                (blocks,), (L.BLOCK,),
                (param, grad, m, v, np.int64(param.size), *(np.float32(h) for h in hyper)))

    def adam_update_multi(self, params, grads, ms, vs, *, lr, beta_1=0.9, beta_2=0.999,
                          epsilon=1e-7, step, weight_decay=0.0):
        hyper = R.adam_hyper(lr, beta_1, beta_2, epsilon, step, weight_decay)
        groups: dict[tuple, list] = {}
        for quad in zip(params, grads, ms, vs, strict=True):
            pair = self._adam_pair(*quad)
            if pair is None or quad[0].size == 0:
                if quad[0].size:
                    self._adam_step(*quad, hyper)
                continue
            groups.setdefault(pair, []).append(quad)
        for pair, quads in groups.items():
            table = L.adam_table([[self._ptr(a) for a in q] for q in quads],
                                 [q[0].size for q in quads])
            total = int(table[-1])
            blocks = L.grid_stride_blocks(total, self.rt.sm_count(), 1)
            self.rt.function("adam.cu", f"ef_adam_multi_{pair[0]}_{pair[1]}")(
                (blocks,), (L.BLOCK,), (self.xp.asarray(table), np.int32(len(quads)),
                                        *(np.float32(h) for h in hyper)))

    # -- the tables ---------------------------------------------------------------------------
    def table(self) -> dict[str, Callable]:
        """``FUSED``'s names -> these launchers (the module docstring's signatures)."""
        return {name: getattr(self, method) for name, method in NAMES.items()}

    def core_table(self) -> dict[str, Callable]:
        """The launchers the core calls by kernel name, in the core's calling convention
        (``CORE_NAMES``): they go into the backend's kernel table."""
        return {name: getattr(self, method) for name, method in CORE_NAMES.items()}


#: FUSED's names and the Fused methods behind them.
NAMES = {
    "nn.softmax": "softmax",
    "nn.softmax_grad": "softmax_grad",
    "nn.log_softmax": "log_softmax",
    "nn.log_softmax_grad": "log_softmax_grad",
    "nn.sparse_softmax_cross_entropy_with_logits": "sparse_softmax_cross_entropy_with_logits",
    "nn.sparse_softmax_cross_entropy_fwd": "sparse_softmax_cross_entropy_fwd",
    "nn.sparse_softmax_cross_entropy_grad": "sparse_softmax_cross_entropy_grad",
    "nn.layer_norm": "layer_norm",
    "nn.layer_norm_fwd": "layer_norm_fwd",
    "nn.layer_norm_grad": "layer_norm_grad",
    "nn.gelu": "gelu",
    "nn.gelu_grad": "gelu_grad",
    "nn.silu": "silu",
    "nn.silu_grad": "silu_grad",
    "nn.bias_act": "bias_act",
    "nn.bias_act_grad": "bias_act_grad",
    "optimizers.adam": "adam_update",
    "optimizers.adam_multi": "adam_update_multi",
}

#: Kernel names the core calls -> the Fused methods that implement them with the core's
#: signature. The nn functions are composites (``eagerflow_core/nn``) with declared dtype and
#: shape rules: the dispatcher runs a device kernel of the composite's name instead of its body
#: (with a tape or without), as ``kernel(*tensor inputs, **params)``. The gradient rules of
#: softmax, log_softmax and the sparse cross-entropy are such composites too (with rules of
#: their own, so higher orders work); layer norm's and the activations' rules are plain
#: eagerflow ops, so their fused backward launchers are used directly (``FUSED``, the
#: benchmarks), not by the core. ``optim.adam`` is called by ``ef.optimizers.Adam``/``AdamW``
#: through ``update_in_place``.
CORE_NAMES = {
    "softmax": "softmax",                       # (x, *, axis)
    "log_softmax": "log_softmax",               # (x, *, axis)
    "softmax_grad": "softmax_grad",             # (g, y, *, axis): the rule of softmax
    "log_softmax_grad": "log_softmax_grad",     # (g, y, *, axis)
    "sparse_softmax_cross_entropy_with_logits":  # (labels, logits), labels checked
        "sparse_softmax_cross_entropy_with_logits",
    "sparse_softmax_cross_entropy_grad":        # (g, labels, logits): the rule for logits
        "sparse_softmax_cross_entropy_grad",
    "nn.layer_norm": "nn_layer_norm",           # (x, *, axes, epsilon)
    "gelu": "gelu",                             # (x): the tanh form
    "nn.silu": "nn_silu",                       # (features, *, beta)
    "optim.adam": "optim_adam",                 # (param, m, v, [v_hat], grad, *, lr, ...)
}

_DEFAULT: Fused | None = None


def default() -> Fused:
    """The launchers on CuPy's current device (created, and CuPy imported, on first use)."""
    global _DEFAULT
    if _DEFAULT is None:
        import cupy

        from ._runtime import CudaRuntime
        _DEFAULT = Fused(CudaRuntime(cupy))
    return _DEFAULT


def _lazy(method: str) -> Callable:
    unbound = getattr(Fused, method)

    @functools.wraps(unbound)
    def call(*args, **kwargs):
        return getattr(default(), method)(*args, **kwargs)

    sig = inspect.signature(unbound)
    call.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])  # no self
    return call


#: name -> function on CuPy arrays (see the table above). Importing this module imports no CuPy.
FUSED: dict[str, Callable] = {name: _lazy(method) for name, method in NAMES.items()}
