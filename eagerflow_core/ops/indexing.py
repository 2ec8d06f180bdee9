"""Indexing: ``take``, ``take_along_axis``, and ``Tensor.__getitem__`` / ``__setitem__``.

A key is normalised once in the core: lists become index tensors on the indexed tensor's
device, Python ints are bounds-checked, bool masks are checked against the axes they cover,
and index tensors are bounds-checked here only on backends whose gathers do not check
(``Backend.checks_index_bounds``: a GPU gather would wrap or clip silently). The kernels then
get a tuple of ints, slices, None, Ellipsis and raw arrays, which every array library takes.

Each op is followed by its gradient rules. Keys reach the rules normalised (raw arrays), so
the rules call the ops directly with them: a gather's reverse rule adds the cotangent back
where it was read (``scatter_add``); every forward rule is the op applied to the tangents
(gathers and writes are linear in the values).
"""

from __future__ import annotations

import operator

import numpy as np

from .._dispatch import call
from .._state import hooks
from .._dtypes import bool_
from .._errors import (ArgumentTypeError, AxisError, DeviceError, DTypeError,
                       InvalidArgumentError, OutOfRangeError, ShapeError)
from .._registry import F, defjvp, defop, defvjp
from .._tensor import Tensor
from . import _rules as R
from ._define import helper, public
from ._grad_util import identity, linear

_KIND_RANK = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}
_SCALARS = (bool, int, float, complex)


def _as_tensor(x, op) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if hasattr(x, "_ef_tensor_"):
        return x._ef_tensor_()
    raise ArgumentTypeError(f"{op}: expected a Tensor, got {type(x).__name__}")


# -- bounds of integer index tensors -------------------------------------------------------------

def _out_of_range(op, axis, size, index):
    return OutOfRangeError(f"{op}: index {index} is out of range for axis {axis} of size {size} "
                           f"(valid indices are {-size}..{size - 1})" if size else
                           f"{op}: index {index} is out of range for axis {axis} of size 0 "
                           f"(the axis is empty)")


def _check_tensor_bounds(op, idx: Tensor, size: int, axis: int):
    """Raise OutOfRangeError if ``idx`` holds a value outside ``[-size, size)``.

    Runs only on backends whose kernels do not check (two reductions and a host read)."""
    if idx.size == 0:
        return
    dev = idx._device
    kmin, kmax = dev.kernels.get("min"), dev.kernels.get("max")
    if kmin is not None and kmax is not None:
        lo, hi = int(kmin(idx._data)), int(kmax(idx._data))
    else:
        host = dev.backend.backend.to_host(idx._data)
        lo, hi = int(host.min()), int(host.max())
    if lo < -size:
        raise _out_of_range(op, axis, size, lo)
    if hi >= size:
        raise _out_of_range(op, axis, size, hi)


def _axis(op, axis, ndim) -> int:
    try:
        return R.normalize_axis(operator.index(axis), ndim)
    except TypeError:
        raise ArgumentTypeError(f"{op}: axis must be an int, got {type(axis).__name__}") from None
    except AxisError as exc:
        raise AxisError(f"{op}: {exc}") from None


def _backend_checks(x: Tensor) -> bool:
    return x._device.backend.backend.checks_index_bounds


# -- keys ----------------------------------------------------------------------------------------

def _index(v, op, what):
    if v is None or type(v) is int:
        return v
    try:
        if isinstance(v, (bool, np.bool_)):
            raise TypeError
        return operator.index(v)
    except TypeError:
        raise ArgumentTypeError(f"{op}: slice {what} must be an int or None, got "
                                f"{type(v).__name__}") from None


def _slice(s: slice, op) -> slice:
    start, stop, step = (_index(s.start, op, "start"), _index(s.stop, op, "stop"),
                         _index(s.step, op, "step"))
    if step == 0:
        raise InvalidArgumentError(f"{op}: slice step cannot be zero")
    return s if (start, stop, step) == (s.start, s.stop, s.step) else slice(start, stop, step)


def _index_tensor(t: Tensor, x: Tensor, op) -> Tensor:
    if t._device is not x._device:
        raise DeviceError(f"{op}: the index tensor is on {t._device} but the indexed tensor is "
                          f"on {x._device}; move the index with .to('{x._device}')")
    if t._dtype.kind not in "iub":
        raise DTypeError(f"{op}: index tensors must have an integer or bool dtype, not "
                         f"{t._dtype}; cast with ef.astype(index, ef.int64)")
    return t


def _key_part(k, x: Tensor, op):
    """One element of a key as an int, bool, slice, None, Ellipsis or index Tensor."""
    t = type(k)
    if t is int or t is bool or k is None or k is Ellipsis:
        return k
    if t is slice:
        return _slice(k, op)
    if isinstance(k, Tensor) or hasattr(k, "_ef_tensor_"):
        return _index_tensor(_as_tensor(k, op), x, op)
    if isinstance(k, np.bool_):
        return bool(k)
    if isinstance(k, np.integer):
        return int(k)
    if isinstance(k, (list, tuple, np.ndarray)):
        if isinstance(k, (list, tuple)) and len(k) == 0:
            return F.asarray(np.zeros(0, np.int64), device=x._device)  # x[[]] selects nothing
        return _index_tensor(F.asarray(k, device=x._device), x, op)
    raise ArgumentTypeError(
        f"{op}: cannot index with {type(k).__name__}; a key holds ints, slices, None, ..., "
        f"integer or bool tensors, and lists of ints or bools")


def _count_true(mask: Tensor) -> int:
    host = mask._device.backend.backend.to_host(mask._data)
    return int(np.count_nonzero(host))


def _prepare(x: Tensor, key, op, want_shape=False):
    """The kernel's key (a tuple) and, if ``want_shape``, the shape of ``x[key]``.

    Checks what the kernels would not check clearly: Python int bounds, the axes the key
    covers, bool mask shapes, index devices and dtypes, and (on backends that do not) the
    bounds of integer index tensors.
    """
    parts = key if type(key) is tuple else (key,)
    items = [_key_part(k, x, op) for k in parts]
    shape = x.shape
    out = _layout(shape, items, op, _count_true if want_shape else None)
    if not _backend_checks(x) and any(isinstance(k, Tensor) for k in items):
        axis = 0
        for k in items:
            if isinstance(k, Tensor) and k._dtype is not bool_:
                _check_tensor_bounds(op, k, shape[axis], axis)
            axis += _covers(k, len(shape), items)
    nkey = tuple(k._data if isinstance(k, Tensor) else k for k in items)
    return nkey, (out if want_shape else None)


def _is_mask(k) -> bool:
    if isinstance(k, Tensor):
        return k._dtype is bool_
    dtype = getattr(k, "dtype", None)  # a raw array of any backend, or a traced Sym
    kind = getattr(dtype, "kind", None)
    return kind == "b" if kind is not None else "bool" in str(dtype)  # torch.bool: no .kind


def _covers(k, ndim, items) -> int:
    """How many axes of the indexed tensor the key element ``k`` consumes."""
    if k is Ellipsis:
        return ndim - sum(_covers(j, ndim, items) for j in items if j is not Ellipsis)
    if k is None or type(k) is bool:
        return 0
    if type(k) is int or type(k) is slice:
        return 1
    return len(k.shape) if _is_mask(k) else 1


def _layout(shape, items, op, count=None):
    """The shape of ``x[key]`` for a tensor of ``shape`` and a normalised key (ints, slices,
    None, Ellipsis, bools, index arrays or tensors), following NumPy's rules: when the key
    holds an index array, ints count as advanced indices too, and the advanced indices'
    broadcast shape replaces them in place if they are adjacent, else it goes first. A bool
    mask's count is ``count(mask)``, or None (not known without the values) if ``count`` is
    None. Checks Python int bounds, the axes the key covers and mask shapes."""
    ndim = len(shape)
    covered, ellipses, advanced = 0, 0, False
    for k in items:
        if k is Ellipsis:
            ellipses += 1
        elif k is None:
            continue
        elif type(k) is bool:
            advanced = True
        elif type(k) is int or type(k) is slice:
            covered += 1
        else:
            advanced = True
            covered += len(k.shape) if _is_mask(k) else 1
    if ellipses > 1:
        raise InvalidArgumentError(f"{op}: a key may hold at most one ellipsis (...)")
    if covered > ndim:
        raise OutOfRangeError(f"{op}: too many indices for a tensor of shape {tuple(shape)}: "
                              f"the key indexes {covered} axes, the tensor has {ndim}")
    out: list = []        # dims of the result, without the advanced block
    adv_shapes = []       # shape of each advanced index
    adv_at = None         # where the advanced block goes in `out` if they are adjacent
    gap = split = False
    axis = 0
    for k in items:
        if k is Ellipsis:
            fill = ndim - covered
            out.extend(shape[axis:axis + fill])
            axis += fill
            gap = adv_at is not None  # even when it stands for no axis (NumPy's rule)
            continue
        if k is None:
            out.append(1)
            gap = adv_at is not None
            continue
        if type(k) is slice:
            out.append(len(range(*k.indices(shape[axis]))))
            axis += 1
            gap = adv_at is not None
            continue
        if type(k) is int:
            n = shape[axis]
            if not -n <= k < n:
                raise _out_of_range(op, axis, n, k)
            axis += 1
            if not advanced:
                continue  # a basic int index drops its axis
            s = ()
        elif type(k) is bool:
            s = (int(k),)
        elif _is_mask(k):
            kshape = tuple(k.shape)
            covers = tuple(shape[axis:axis + len(kshape)])
            if kshape != covers:
                axes = (f"axis {axis}" if len(kshape) == 1
                        else f"axes {axis}..{axis + len(kshape) - 1}")
                raise ShapeError(f"{op}: a bool mask of shape {kshape} must match the sizes "
                                 f"{covers} of the {axes} it covers (the tensor's shape is "
                                 f"{tuple(shape)})")
            s = (count(k) if count is not None else None,)
            axis += len(kshape)
        else:
            s = tuple(k.shape)
            axis += 1
        if adv_at is None:
            adv_at = len(out)
        elif gap:
            split = True
        adv_shapes.append(s)
    block = ()
    if len(adv_shapes) > 1 and all(None not in s for s in adv_shapes):
        try:
            block = R.broadcast_shapes(*adv_shapes)
        except ShapeError:
            raise ShapeError(f"{op}: the index tensors' shapes {', '.join(map(str, adv_shapes))} "
                             f"cannot be broadcast together") from None
    elif adv_shapes:
        block = adv_shapes[0]
    out.extend(shape[axis:])
    if adv_shapes:
        at = 0 if split else adv_at
        out[at:at] = block
    return tuple(out)


def _getitem_shape(shape, *, key):
    return _layout(tuple(shape), key, "getitem")


def _same_as_x(x, value, *, key):
    return tuple(x)


# -- getitem -------------------------------------------------------------------------------------

getitem_op = defop("getitem", family="indexing", dtype_rule=R.same_dtype, posparams=("key",),
                   shape_rule=_getitem_shape,
                   doc="x[key]: basic and advanced indexing (Tensor.__getitem__).")


def _getitem(self, key):
    """``x[key]``: basic (ints, slices, None, ...) and advanced (integer tensors, bool masks,
    lists) indexing, as NumPy defines it. Negative indices count from the end; an index past
    the end raises OutOfRangeError (an IndexError).

    >>> import eagerflow_core as ef
    >>> x = ef.reshape(ef.arange(6), (2, 3))
    >>> x[1, ::-1]
    ef.Tensor([5, 4, 3], shape=(3,), dtype=int64, device='cpu:0')
    >>> x[:, [0, 2]]
    ef.Tensor([[0, 2],
               [3, 5]], shape=(2, 2), dtype=int64, device='cpu:0')
    >>> x[x > 3]
    ef.Tensor([4, 5], shape=(2,), dtype=int64, device='cpu:0')
    """
    if type(key) is int:  # the common x[i]: skip the general key walk
        shape = self._data.shape
        if not shape:
            raise OutOfRangeError(f"getitem: a 0-d tensor has no axis to index with {key}; use "
                                  f"x[()] or x.item()")
        n = shape[0]
        if not -n <= key < n:
            raise _out_of_range("getitem", 0, n, key)
        return call(getitem_op, (self,), {"key": (key,)})
    if type(key) is slice and self._data.shape:
        return call(getitem_op, (self,), {"key": (_slice(key, "getitem"),)})
    nkey, _ = _prepare(self, key, "getitem")
    return call(getitem_op, (self,), {"key": nkey})


defvjp(getitem_op, lambda g, ans, x, *, key: scatter_add(x.shape, g, key))
defjvp(getitem_op, linear(getitem_op))


# -- setitem -------------------------------------------------------------------------------------

def _setitem_dtype(x, value, *, key):
    return x


setitem_op = defop("setitem", family="indexing", nin=2, dtype_rule=_setitem_dtype,
                   scalar_inputs=True, shape_rule=_same_as_x,
                   doc="A copy of x with value written at key (Tensor.__setitem__ rebinds x).")


def _refuse_kind(have, want, what):
    if _KIND_RANK[have] > _KIND_RANK[want.kind]:
        raise DTypeError(f"setitem: cannot write {what} into a tensor of dtype {want} without "
                         f"losing information; cast explicitly first (ef.astype(value, "
                         f"ef.{want}))")


def _value(self: Tensor, value):
    """The value to write: a tensor of ``self``'s dtype and device, or a checked Python scalar."""
    dt = self._dtype
    if isinstance(value, np.generic):
        value = value.item()
    if type(value) in _SCALARS:
        kind = {bool: "b", int: "i", float: "f", complex: "c"}[type(value)]
        _refuse_kind(kind, dt, f"a Python {type(value).__name__}")
        if kind == "i" and dt.kind in "iu":
            info = np.iinfo(dt.numpy)
            if not info.min <= value <= info.max:
                raise InvalidArgumentError(f"setitem: the Python int {value} does not fit {dt} "
                                           f"(range {info.min}..{info.max})")
        return value
    if isinstance(value, Tensor) or hasattr(value, "_ef_tensor_"):
        v = _as_tensor(value, "setitem")
    elif isinstance(value, (list, tuple, np.ndarray)):
        v = F.asarray(value, device=self._device)
    else:
        raise ArgumentTypeError(f"setitem: the value must be a tensor or a Python scalar, got "
                                f"{type(value).__name__}")
    if v._device is not self._device:
        raise DeviceError(f"setitem: the value is on {v._device} but the tensor is on "
                          f"{self._device}; move it with .to('{self._device}')")
    _refuse_kind(v._dtype.kind, dt, f"a {v._dtype} value")
    return v if v._dtype is dt else F.astype(v, dt)


def _setitem(self, key, value):
    """``x[key] = value``: ``x`` now holds a copy of its old values with ``value`` written at
    ``key`` (any key ``x[key]`` takes).

    Tensors are values: the write makes a new array, O(x.size), and rebinds ``x`` to it, so
    every other tensor (a slice ``v = x[1:]`` taken before, a value saved for gradients) keeps
    the old values. For bulk or repeated updates, build the result in one op instead:
    ``ef.where(mask, new, x)``. ``value`` is cast to ``x``'s dtype, but a value of a higher kind
    (a float into an integer tensor, a complex into a real one) raises DTypeError; a tensor
    value must broadcast to the shape of ``x[key]``.

    >>> import eagerflow_core as ef
    >>> x = ef.zeros((2, 3), dtype=ef.int32)
    >>> row = x[1]
    >>> x[1, 1:] = 7
    >>> x
    ef.Tensor([[0, 0, 0],
               [0, 7, 7]], shape=(2, 3), dtype=int32, device='cpu:0')
    >>> row
    ef.Tensor([0, 0, 0], shape=(3,), dtype=int32, device='cpu:0')
    """
    v = _value(self, value)
    tensor_value = isinstance(v, Tensor) and v.ndim > 0
    nkey, target = _prepare(self, key, "setitem", want_shape=tensor_value)
    if tensor_value:
        vs = v.shape
        if len(vs) > len(target) or any(a not in (1, b) for a, b in zip(vs[::-1], target[::-1])):
            raise ShapeError(f"setitem: a value of shape {vs} cannot be broadcast to the indexed "
                             f"shape {target} (x[key] of a tensor of shape {self.shape}); "
                             f"reshape the value first")
    out = call(setitem_op, (self, v), {"key": nkey})
    if self._tid and hooks.rebind is not None:
        hooks.rebind(self)  # records holding `self` keep its old value
    self._data = out._data
    # `x` now stands for the new value: on a gradient tape it takes the result's identity
    # (the tape's record keeps a shadow of the old value); off a tape it drops the old one.
    self._tid = out._tid  # 0 (no identity) unless a tape recorded the write


def _setitem_x_vjp(g, ans, x, value, *, key):
    return call(setitem_op, (g, 0), {"key": key})  # the written positions no longer depend on x


def _gathered_vjp(g, ans, x, values, *, key):
    # The written (or added) values land at x[key]: their gradient is g[key], which the engine
    # sums over the axes where a value was broadcast.
    return call(getitem_op, (g,), {"key": key})


def _setitem_jvp(tangents, ans, x, value, *, key):
    tx, tv = tangents
    return call(setitem_op, (F.zeros_like(x) if tx is None else tx, 0 if tv is None else tv),
                {"key": key})


defvjp(setitem_op, _setitem_x_vjp, _gathered_vjp)
defjvp(setitem_op, all_inputs=_setitem_jvp)


_getitem.op = getitem_op
_setitem.op = setitem_op
getitem_op.fn = _getitem
Tensor.__getitem__ = _getitem
Tensor.__setitem__ = _setitem


# -- take, take_along_axis -----------------------------------------------------------------------

def _take_dtype(x, indices, *, axis=None):
    if indices.kind not in "iu":
        raise DTypeError(f"expects an integer indices tensor, not {indices}")
    return x


def _take_rule(x, indices, *, axis=None):
    if len(indices) != 1:
        raise ShapeError(f"indices must be 1-D, got shape {tuple(indices)}")
    if axis is None:
        return tuple(indices)
    ax = R.normalize_axis(axis, len(x))
    return tuple(x[:ax]) + tuple(indices) + tuple(x[ax + 1:])


take_op = defop("take", family="indexing", nin=2, dtype_rule=_take_dtype, shape_rule=_take_rule)


@public(take_op)
def take(x, indices, /, *, axis=None) -> Tensor:
    """The elements of ``x`` at the 1-D integer ``indices`` along ``axis`` (negative indices
    count from the end). ``axis`` may be left out only for a 1-D ``x``.

    >>> import eagerflow_core as ef
    >>> x = ef.constant([[1, 2, 3], [4, 5, 6]])
    >>> ef.take(x, ef.constant([2, -3]), axis=1)
    ef.Tensor([[3, 1],
               [6, 4]], shape=(2, 2), dtype=int64, device='cpu:0')
    """
    x = _as_tensor(x, "take")
    indices = _as_tensor(indices, "take")
    if x.ndim == 0:
        raise ShapeError("take: x must have at least 1 dimension, got a 0-d tensor")
    if indices.ndim != 1:
        raise ShapeError(f"take: indices must be 1-D, got shape {indices.shape}; for other "
                         f"shapes use x[..., indices] or ef.take_along_axis")
    if axis is None and x.ndim > 1:
        raise InvalidArgumentError(f"take: axis is required for a tensor of shape {x.shape} "
                                   f"(more than 1 dimension); flatten it first with "
                                   f"ef.reshape(x, (-1,)) to index the elements")
    axis = _axis("take", 0 if axis is None else axis, x.ndim)
    if indices._dtype.kind in "iu" and not _backend_checks(x):
        _check_tensor_bounds("take", indices, x.shape[axis], axis)
    return call(take_op, (x, indices), {"axis": axis})


def _take_vjp(g, ans, x, indices, *, axis):
    return scatter_add(x.shape, g, _axis_key(axis, indices))


defvjp(take_op, _take_vjp, None)
defjvp(take_op, linear(take_op), None)


def _take_along_axis_rule(x, indices, *, axis=-1):
    if len(x) != len(indices) or not x:
        raise ShapeError(f"x of shape {tuple(x)} and indices of shape {tuple(indices)} must have "
                         f"the same number (at least 1) of dimensions")
    ax = R.normalize_axis(axis, len(x))
    try:
        rest = R.broadcast_shapes(x[:ax] + x[ax + 1:], indices[:ax] + indices[ax + 1:])
    except ShapeError:
        raise ShapeError(f"x of shape {tuple(x)} and indices of shape {tuple(indices)} must match "
                         f"(or be 1) on every axis but axis {ax}") from None
    return rest[:ax] + (indices[ax],) + rest[ax:]


take_along_axis_op = defop("take_along_axis", family="indexing", nin=2, dtype_rule=_take_dtype,
                           shape_rule=_take_along_axis_rule)


@public(take_along_axis_op)
def take_along_axis(x, indices, /, *, axis=-1) -> Tensor:
    """The elements of ``x`` at ``indices`` along ``axis``, one index per position of the
    other axes (``indices`` has as many dimensions as ``x`` and broadcasts with it on the
    other axes), as for the result of ``ef.argsort``.

    >>> import eagerflow_core as ef
    >>> x = ef.constant([[30, 10, 20], [5, 6, 4]])
    >>> ef.take_along_axis(x, ef.constant([[1], [2]]), axis=1)
    ef.Tensor([[10],
               [ 4]], shape=(2, 1), dtype=int64, device='cpu:0')
    """
    x = _as_tensor(x, "take_along_axis")
    indices = _as_tensor(indices, "take_along_axis")
    if x.ndim != indices.ndim or not x.ndim:
        raise ShapeError(f"take_along_axis: x of shape {x.shape} and indices of shape "
                         f"{indices.shape} must have the same number (at least 1) of dimensions")
    axis = _axis("take_along_axis", axis, x.ndim)
    if indices._dtype.kind in "iu" and not _backend_checks(x):
        _check_tensor_bounds("take_along_axis", indices, x.shape[axis], axis)
    return call(take_along_axis_op, (x, indices), {"axis": axis})


def _take_along_axis_vjp(g, ans, x, indices, *, axis):
    # Add g back at the positions it was read from, on the shape x and indices broadcast to
    # (every other axis indexed by its own arange); the engine then sums the axes where x was
    # broadcast against indices.
    shape = g.shape
    key = []
    for d, n in enumerate(shape):
        if d == axis:
            key.append(indices._data)
        else:
            at = (1,) * d + (n,) + (1,) * (len(shape) - d - 1)
            key.append(F.reshape(F.arange(n, device=g.device), at)._data)
    target = shape[:axis] + (x.shape[axis],) + shape[axis + 1:]
    return scatter_add(target, g, tuple(key))


defvjp(take_along_axis_op, _take_along_axis_vjp, None)
defjvp(take_along_axis_op, linear(take_along_axis_op), None)


__all__ = ["take", "take_along_axis"]


# -- index_add (internal: the gradient of a gather) ----------------------------------------------

def _index_add_dtype(x, values, *, key):
    return x  # the inputs are promoted to one dtype before this runs


index_add_op = defop("index_add", family="indexing", nin=2, dtype_rule=_index_add_dtype,
                     promote=True, internal=True, shape_rule=_same_as_x,
                     doc="A copy of x with values added at key; repeated indices accumulate.")


def _has_index_array(key, dev) -> bool:
    """Whether a normalised key holds an integer index array (which may repeat an index).
    The key holds raw arrays: their dtypes are the backend's, mapped back through the device."""
    for k in key:
        native = getattr(k, "dtype", None)
        if native is not None:
            # a traced key (ef.function) holds the index tensor's eagerflow dtype itself
            dt = native if hasattr(native, "kind") and hasattr(native, "inexact") else \
                dev.backend.from_native.get(native)
            if dt is not None and dt.kind in "iu":
                return True
    return False


@helper
def scatter_add(shape, values: Tensor, key) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at the normalised ``key``.

    ``x[[0, 0]]`` reads element 0 twice, so its gradient there is the sum of both cotangents:
    keys with integer arrays go through ``index_add``. Other keys (ints, slices, bool masks)
    reach each element at most once, so writing into zeros is the same sum, and ``setitem``
    is a kernel every backend has.
    """
    base = F.zeros(shape, dtype=values._dtype, device=values._device)
    op = index_add_op if _has_index_array(key, values._device) else setitem_op
    return call(op, (base, values), {"key": key})


def _index_add_jvp(tangents, ans, x, values, *, key):
    tx, tv = tangents
    if tv is None:
        return tx
    return call(index_add_op, (F.zeros_like(x) if tx is None else tx, tv), {"key": key})


defvjp(index_add_op, identity, _gathered_vjp)
defjvp(index_add_op, all_inputs=_index_add_jvp)


def _axis_key(axis, index: Tensor) -> tuple:
    """The normalised key of ``x[:, ..., :, index]`` with ``index`` on ``axis``."""
    return (slice(None),) * axis + (index._data,)

