"""TensorFlow's index ops: gather / gather_nd, scatter_nd and the tensor_scatter_nd writes,
the segment reductions, bincount and boolean_mask, with TensorFlow's names and semantics.

Indices follow TensorFlow on the CPU, not NumPy: an index is valid in ``[0, n)`` only (no
counting from the end), and one out of range raises OutOfRangeError naming the op, the index
and the valid range (the core checks, with two reductions and a host read, so every backend
reports it the same way; a GPU gather would wrap or clip silently). Ops whose output shape
depends on the values (``segment_*``, ``bincount``, ``boolean_mask``) read what they need on
the host before the op runs, so every op's shape rule gives the exact shape. Under
``ef.function`` the bounds checks wait for values (the NumPy kernels still raise for an
index past the end), and a value-dependent shape is a TracingError.

Every op here has a default implementation written in the core's own indexing ops
(``getitem``, ``setitem``, ``index_add``), so a backend without a kernel of its own (the
CUDA backend, a third-party plugin) still runs it; the NumPy backend has direct kernels.
Gradient rules follow each op: a gather's reverse rule adds the cotangent back where it was
read (``index_add``, TensorFlow's unsorted_segment_sum), a scatter's is a gather_nd, and
``segment_max`` splits the cotangent equally among the elements that tie for a segment's
maximum (as TensorFlow's ``_SegmentMinOrMaxGrad`` does).
"""

from __future__ import annotations

from .._dispatch import call
from .._dtypes import int64
from .._errors import DTypeError, InvalidArgumentError, ShapeError
from .._registry import F, OPS, defjvp, defop, defvjp
from .._tensor import Tensor
from . import _rules as R
from . import _tf_index_util as U
from ._define import public
from ._grad_util import linear


# -- keys: the ops as the core's getitem / setitem / index_add -------------------------------------

def _aranges(batch: tuple, trailing: int, dev) -> tuple:
    """Raw index arrays that select each position of the leading ``batch`` axes, shaped to
    broadcast against an index array of ``batch + (trailing more axes)``."""
    out = []
    for d, n in enumerate(batch):
        at = (1,) * d + (n,) + (1,) * (len(batch) - d - 1 + trailing)
        out.append(F.reshape(F.arange(n, dtype=int64, device=dev), at)._data)
    return tuple(out)


def _gather_key(indices: Tensor, axis: int, batch_dims: int, batch: tuple):
    """``params[key]`` is the gather, up to the permutation ``perm`` (None if none needed):
    with batch dims and ``axis > batch_dims`` NumPy puts the advanced block first."""
    b = batch_dims
    key = _aranges(batch, indices.ndim - b, indices._device) + (slice(None),) * (axis - b) + \
        (indices._data,)
    if b == 0 or axis == b:
        return key, None
    ni, npre = indices.ndim - b, axis - b
    first = list(range(b)) + list(range(b + ni, b + ni + npre)) + list(range(b, b + ni))
    return key, first


def _nd_key(indices: Tensor, batch_dims: int = 0) -> tuple:
    """The key of ``params[...]`` for gather_nd indices: one index array per last-axis column
    (after the batch aranges)."""
    b, k = batch_dims, indices.shape[-1]
    cols = tuple(U.getitem(indices, (Ellipsis, j))._data for j in range(k))
    return _aranges(indices.shape[:b], indices.ndim - 1 - b, indices._device) + cols


def _full_perm(perm, ndim):
    return tuple(perm) + tuple(range(len(perm), ndim))


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


# -- gather --------------------------------------------------------------------------------------

def _gather_shape(params, indices, *, axis, batch_dims):
    return tuple(params[:axis]) + tuple(indices[batch_dims:]) + tuple(params[axis + 1:])


def _gather_impl(params, indices, *, axis, batch_dims):
    key, perm = _gather_key(indices, axis, batch_dims, params.shape[:batch_dims])
    out = U.getitem(params, key)
    return out if perm is None else F.permute_dims(out, _full_perm(perm, out.ndim))


gather_op = defop("gather", family="tf_indexing", nin=2, dtype_rule=U.index_dtype,
                  shape_rule=_gather_shape, impl=_gather_impl)


@public(gather_op)
def gather(params, indices, axis=0, batch_dims=0) -> Tensor:
    """Slices of ``params`` along ``axis`` at ``indices`` (TensorFlow's ``tf.gather``): the
    result has shape ``params.shape[:axis] + indices.shape[batch_dims:] +
    params.shape[axis+1:]``. With ``batch_dims=b`` the first ``b`` axes of ``params`` and
    ``indices`` are batch axes, gathered one batch element at a time. Indices must lie in
    ``[0, params.shape[axis])`` (no counting from the end); others raise OutOfRangeError.

    >>> import eagerflow_core as ef
    >>> table = ef.constant([[0.0, 1.0], [10.0, 11.0], [20.0, 21.0]])
    >>> ef.gather(table, [2, 0, 2])
    ef.Tensor([[20., 21.],
               [ 0.,  1.],
               [20., 21.]], shape=(3, 2), dtype=float32, device='cpu:0')
    >>> ef.gather(table, ef.constant([[1], [0], [1]]), axis=1, batch_dims=1)
    ef.Tensor([[ 1.],
               [10.],
               [21.]], shape=(3, 1), dtype=float32, device='cpu:0')
    """
    params = U.tensor_arg(params, "gather", "params")
    indices = U.indices_arg(indices, "gather", "indices", params)
    if params.ndim == 0:
        raise ShapeError("gather: params must have at least 1 dimension, got a 0-d tensor")
    b = U.batch_dims_arg("gather", batch_dims, indices, params)
    axis = U.axis_arg("gather", axis, params.ndim)
    if axis < b:
        raise InvalidArgumentError(f"gather: axis ({axis}) must be at least batch_dims ({b})")
    U.check_range("gather", "index", indices, params.shape[axis],
                 f"axis {axis} of params of shape {params.shape}")
    return call(gather_op, (params, indices), {"axis": axis, "batch_dims": b})


def _gather_vjp(g, ans, params, indices, *, axis, batch_dims):
    if batch_dims == 0:
        # TensorFlow's rule: an unsorted_segment_sum of the cotangent, with the indices'
        # axes first, into params.shape[axis] segments, then that axis moved back in place
        ni = indices.ndim
        to_front = tuple(range(axis, axis + ni)) + tuple(range(axis)) + \
            tuple(range(axis + ni, g.ndim))
        if to_front != tuple(range(g.ndim)):
            g = F.permute_dims(g, to_front)
        out = call(OPS["unsorted_segment_sum"], (g, indices),
                   {"num_segments": params.shape[axis]})
        if axis:
            out = F.permute_dims(out, tuple(range(1, axis + 1)) + (0,) +
                                 tuple(range(axis + 1, out.ndim)))
        return out
    key, perm = _gather_key(indices, axis, batch_dims, params.shape[:batch_dims])
    if perm is not None:
        g = F.permute_dims(g, _inverse(_full_perm(perm, g.ndim)))
    return F.scatter_add(params.shape, g, key)


defvjp(gather_op, _gather_vjp, None)
defjvp(gather_op, linear(gather_op), None)


# -- gather_nd -----------------------------------------------------------------------------------

def _gather_nd_shape(params, indices, *, batch_dims):
    return tuple(indices[:-1]) + tuple(params[batch_dims + indices[-1]:])


def _gather_nd_impl(params, indices, *, batch_dims):
    return U.getitem(params, _nd_key(indices, batch_dims))


gather_nd_op = defop("gather_nd", family="tf_indexing", nin=2, dtype_rule=U.index_dtype,
                     shape_rule=_gather_nd_shape, impl=_gather_nd_impl)


def _nd_indices(op, indices: Tensor, shape: tuple, first: int, what: str):
    if indices.ndim == 0:
        raise ShapeError(f"{op}: indices must have at least 1 dimension (the last one holds "
                         f"the index of each element or slice), got a 0-d tensor")
    k = indices.shape[-1]
    if k == 0:
        raise ShapeError(f"{op}: indices.shape[-1] must be at least 1 (the number of "
                         f"coordinates of each index), got indices of shape {indices.shape}")
    if k > len(shape) - first:
        raise ShapeError(f"{op}: indices.shape[-1] = {k} must be at most the rank of {what} "
                         f"{tuple(shape)} (less batch_dims={first})")
    U.check_nd(op, indices, shape, first, what)


@public(gather_nd_op)
def gather_nd(params, indices, batch_dims=0) -> Tensor:
    """Elements or slices of ``params`` at multi-dimensional ``indices`` (``tf.gather_nd``):
    the last axis of ``indices`` holds ``k`` coordinates into the first ``k`` axes of
    ``params`` (after ``batch_dims`` batch axes); the result has shape
    ``indices.shape[:-1] + params.shape[batch_dims + k:]``.

    >>> import eagerflow_core as ef
    >>> x = ef.constant([[1, 2], [3, 4]])
    >>> ef.gather_nd(x, [[1, 0], [0, 1]])
    ef.Tensor([3, 2], shape=(2,), dtype=int64, device='cpu:0')
    >>> ef.gather_nd(x, [[1]])
    ef.Tensor([[3, 4]], shape=(1, 2), dtype=int64, device='cpu:0')
    """
    params = U.tensor_arg(params, "gather_nd", "params")
    indices = U.indices_arg(indices, "gather_nd", "indices", params)
    b = U.batch_dims_arg("gather_nd", batch_dims, indices, params)
    if b and b >= indices.ndim:
        raise InvalidArgumentError(f"gather_nd: batch_dims ({b}) must be less than the rank of "
                                   f"indices ({indices.ndim})")
    _nd_indices("gather_nd", indices, params.shape, b, "params")
    return call(gather_nd_op, (params, indices), {"batch_dims": b})


def _gather_nd_vjp(g, ans, params, indices, *, batch_dims):
    return F.scatter_add(params.shape, g, _nd_key(indices, batch_dims))


defvjp(gather_nd_op, _gather_nd_vjp, None)
defjvp(gather_nd_op, linear(gather_nd_op), None)


# -- scatter_nd, tensor_scatter_nd_update / _add ---------------------------------------------------

def _updates_shape(op, indices: Tensor, updates: Tensor, shape: tuple):
    want = tuple(indices.shape[:-1]) + tuple(shape[indices.shape[-1]:])
    if tuple(updates.shape) != want:
        raise ShapeError(f"{op}: updates must have shape indices.shape[:-1] + "
                         f"shape[indices.shape[-1]:] = {want} (indices {indices.shape}, "
                         f"tensor shape {tuple(shape)}), got {updates.shape}")


def _scatter_args(op, tensor, indices, updates, shape):
    """Checked (indices, updates) for writing into a tensor of ``shape``."""
    indices = U.indices_arg(indices, op, "indices", updates)
    _nd_indices(op, indices, shape, 0, "the output" if tensor is None else "tensor")
    _updates_shape(op, indices, updates, shape)
    return indices


def _scatter_shape(indices, updates, *, shape):
    return tuple(shape)


def _scatter_dtype(idx, d, **params):
    R.require(d, "iufc", "a numeric")  # updates at a repeated index are summed
    return U.index_dtype(d, idx)


def _scatter_nd_impl(indices, updates, *, shape):
    base = F.zeros(shape, dtype=updates._dtype, device=updates._device)
    return call(OPS["index_add"], (base, updates), {"key": _nd_key(indices)})


scatter_nd_op = defop("scatter_nd", family="tf_indexing", nin=2, dtype_rule=_scatter_dtype,
                      shape_rule=_scatter_shape, impl=_scatter_nd_impl)


@public(scatter_nd_op)
def scatter_nd(indices, updates, shape) -> Tensor:
    """Zeros of ``shape`` with ``updates`` added at ``indices`` (``tf.scatter_nd``): the last
    axis of ``indices`` holds coordinates into the first ``indices.shape[-1]`` axes, and
    ``updates`` has shape ``indices.shape[:-1] + shape[indices.shape[-1]:]``. Updates at a
    repeated index are summed.

    >>> import eagerflow_core as ef
    >>> ef.scatter_nd([[1], [3], [1]], ef.constant([5.0, 6.0, 7.0]), [5])
    ef.Tensor([ 0., 12.,  0.,  6.,  0.], shape=(5,), dtype=float32, device='cpu:0')
    """
    updates = U.tensor_arg(updates, "scatter_nd", "updates",
                      indices if isinstance(indices, Tensor) else None)
    shape = tuple(U.int_arg(d, "scatter_nd", "shape") for d in
                  (shape.tolist() if isinstance(shape, Tensor) else shape))
    if any(d < 0 for d in shape):
        raise InvalidArgumentError(f"scatter_nd: shape {shape} has a negative dimension")
    indices = _scatter_args("scatter_nd", None, indices, updates, shape)
    return call(scatter_nd_op, (indices, updates), {"shape": shape})


defvjp(scatter_nd_op, None, lambda g, ans, indices, updates, *, shape: gather_nd(g, indices))
defjvp(scatter_nd_op, None, lambda t, ans, indices, updates, *, shape:
       call(scatter_nd_op, (indices, t), {"shape": shape}))


def _tensor_scatter_dtype(kinds):
    def rule(d, idx, u, **params):
        if u is not d:
            raise DTypeError(f"updates ({u}) must have the tensor's dtype ({d})")
        R.require(d, kinds, "a numeric" if kinds == "iufc" else "an")
        return U.index_dtype(d, idx)
    return rule


def _same_as_tensor(tensor, indices, updates):
    return tuple(tensor)


def _tensor_scatter_impl(op_name):
    def impl(tensor, indices, updates):
        return call(OPS[op_name], (tensor, updates), {"key": _nd_key(indices)})
    return impl


tensor_scatter_nd_update_op = defop(
    "tensor_scatter_nd_update", family="tf_indexing", nin=3,
    dtype_rule=_tensor_scatter_dtype("biufc"),
    shape_rule=_same_as_tensor, impl=_tensor_scatter_impl("setitem"))
tensor_scatter_nd_add_op = defop(
    "tensor_scatter_nd_add", family="tf_indexing", nin=3,
    dtype_rule=_tensor_scatter_dtype("iufc"),
    shape_rule=_same_as_tensor, impl=_tensor_scatter_impl("index_add"))


def _tensor_scatter(op, tensor, indices, updates) -> Tensor:
    tensor = U.tensor_arg(tensor, op.name, "tensor")
    updates = U.tensor_arg(updates, op.name, "updates", tensor)
    if updates._dtype is not tensor._dtype:
        raise DTypeError(f"{op.name}: updates ({updates._dtype}) must have the tensor's dtype "
                         f"({tensor._dtype}); cast with ef.astype(updates, ef.{tensor._dtype})")
    indices = _scatter_args(op.name, tensor, indices, updates, tensor.shape)
    return call(op, (tensor, indices, updates), {})


@public(tensor_scatter_nd_update_op)
def tensor_scatter_nd_update(tensor, indices, updates) -> Tensor:
    """A copy of ``tensor`` with ``updates`` written at ``indices``
    (``tf.tensor_scatter_nd_update``; indices and updates as for ``scatter_nd``). Where an
    index repeats, which update lands is not specified (the NumPy backend keeps the last),
    as in TensorFlow; the gradient then reaches every update written there.

    >>> import eagerflow_core as ef
    >>> ef.tensor_scatter_nd_update(ef.zeros((2, 3)), [[1, 2], [0, 0]], ef.constant([7.0, 8.0]))
    ef.Tensor([[8., 0., 0.],
               [0., 0., 7.]], shape=(2, 3), dtype=float32, device='cpu:0')
    """
    return _tensor_scatter(tensor_scatter_nd_update_op, tensor, indices, updates)


def _update_tensor_vjp(g, ans, tensor, indices, updates):
    # the written positions no longer depend on tensor
    return call(tensor_scatter_nd_update_op, (g, indices, F.zeros_like(updates)), {})


defvjp(tensor_scatter_nd_update_op, _update_tensor_vjp, None,
       lambda g, ans, tensor, indices, updates: gather_nd(g, indices))


def _update_jvp(tangents, ans, tensor, indices, updates):
    tt, _, tu = tangents
    return call(tensor_scatter_nd_update_op, (F.zeros_like(tensor) if tt is None else tt, indices,
                                              F.zeros_like(updates) if tu is None else tu), {})


defjvp(tensor_scatter_nd_update_op, all_inputs=_update_jvp)


@public(tensor_scatter_nd_add_op)
def tensor_scatter_nd_add(tensor, indices, updates) -> Tensor:
    """A copy of ``tensor`` with ``updates`` added at ``indices``
    (``tf.tensor_scatter_nd_add``; indices and updates as for ``scatter_nd``); updates at a
    repeated index all add up.

    >>> import eagerflow_core as ef
    >>> ef.tensor_scatter_nd_add(ef.ones((4,)), [[0], [2], [0]], ef.constant([1.0, 2.0, 3.0]))
    ef.Tensor([5., 1., 3., 1.], shape=(4,), dtype=float32, device='cpu:0')
    """
    return _tensor_scatter(tensor_scatter_nd_add_op, tensor, indices, updates)


def _add_jvp(tangents, ans, tensor, indices, updates):
    tt, _, tu = tangents
    if tu is None:
        return tt
    return call(tensor_scatter_nd_add_op, (F.zeros_like(tensor) if tt is None else tt, indices,
                                           tu), {})


defvjp(tensor_scatter_nd_add_op, lambda g, ans, tensor, indices, updates: g, None,
       lambda g, ans, tensor, indices, updates: gather_nd(g, indices))
defjvp(tensor_scatter_nd_add_op, all_inputs=_add_jvp)


__all__ = ["gather", "gather_nd", "scatter_nd", "tensor_scatter_nd_update", "tensor_scatter_nd_add"]
