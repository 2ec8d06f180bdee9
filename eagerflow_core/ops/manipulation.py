"""Manipulation ops: reshaping, joining, splitting, reordering axes.

Shape rules here run only when a kernel fails (to explain why); where NumPy would accept an
argument the standard forbids, the public function checks it first, from shapes alone.

Each op is followed by its gradient rules, in eagerflow ops: ``defvjp`` (the engine sums a
cotangent over the axes its input was broadcast along and casts it to the input's dtype, so
broadcast_to's rule is g itself) and ``defjvp`` (these ops are linear: the op applied to the
tangent).
"""

from __future__ import annotations

import operator

from .._dispatch import as_tensor_arg, call
from .._errors import ArgumentTypeError, DTypeError, InvalidArgumentError, ShapeError
from .._registry import F, defjvp, defop, defvjp
from .._tensor import Tensor
from . import _rules as R
from ._define import public
from ._grad_util import identity, linear, outputs


def _prod(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _int_tuple(value, what) -> tuple[int, ...]:
    """An int or a sequence of ints as a tuple of Python ints (bools refused)."""
    items = value if isinstance(value, (tuple, list)) else (value,)
    try:
        if any(isinstance(v, bool) for v in items):
            raise TypeError
        return tuple(operator.index(v) for v in items)
    except TypeError:
        raise ArgumentTypeError(f"{what} must be an int or a tuple of ints, got {value!r}") from None


def _tensor_list(arrays, op):
    if not isinstance(arrays, (list, tuple)):
        raise ArgumentTypeError(f"{op}: expects a list or tuple of tensors, got "
                                f"{type(arrays).__name__}")
    if not arrays:
        raise InvalidArgumentError(f"{op}: needs at least one tensor")
    return arrays


def _fmt(shapes):
    return ", ".join(str(tuple(s)) for s in shapes)


# -- reshape, broadcast --------------------------------------------------------------------------

def _reshape_rule(x, *, shape, copy=None):
    size = _prod(x)
    unknown = [i for i, d in enumerate(shape) if d == -1]
    if len(unknown) > 1 or any(d < -1 for d in shape):
        raise ShapeError(f"shape {tuple(shape)} may hold at most one -1 and no other negative size")
    known = _prod(d for d in shape if d != -1)
    if (unknown and (known == 0 or size % known)) or (not unknown and known != size):
        raise ShapeError(f"cannot reshape a tensor of shape {tuple(x)} ({size} elements) "
                         f"into shape {tuple(shape)}")
    return tuple(size // known if d == -1 else d for d in shape)


reshape_op = defop("reshape", family="manipulation", dtype_rule=R.same_dtype,
                   shape_rule=_reshape_rule)


@public(reshape_op)
def reshape(x, /, shape, *, copy=None) -> Tensor:
    """``x`` with a new shape holding the same elements (one size may be -1).

    >>> import eagerflow_core as ef
    >>> ef.reshape(ef.arange(6), (2, -1))
    ef.Tensor([[0, 1, 2],
               [3, 4, 5]], shape=(2, 3), dtype=int64, device='cpu:0')
    """
    shape = tuple(int(d) for d in ((shape,) if isinstance(shape, int) else shape))
    params = {"shape": shape} if copy is None else {"shape": shape, "copy": copy}
    return call(reshape_op, (x,), params)


def _reshaped(g, ans, x, **params):
    return reshape(g, x.shape)


defvjp(reshape, _reshaped)
defjvp(reshape, linear(reshape_op))


def _broadcast_to_rule(x, *, shape):
    if len(shape) < len(x):
        raise ShapeError(f"cannot broadcast shape {tuple(x)} to {tuple(shape)}: the target has "
                         f"fewer dimensions")
    out = R.broadcast_shapes(x, shape)
    if out != tuple(shape):
        raise ShapeError(f"cannot broadcast shape {tuple(x)} to {tuple(shape)}")
    return out


broadcast_to_op = defop("broadcast_to", family="manipulation", dtype_rule=R.same_dtype,
                        shape_rule=_broadcast_to_rule)


@public(broadcast_to_op)
def broadcast_to(x, /, shape) -> Tensor:
    """``x`` broadcast to ``shape`` (sizes of 1 stretch; new axes are added in front).

    >>> import eagerflow_core as ef
    >>> ef.broadcast_to(ef.constant([1, 2]), (2, 2))
    ef.Tensor([[1, 2],
               [1, 2]], shape=(2, 2), dtype=int64, device='cpu:0')
    """
    return call(broadcast_to_op, (x,), {"shape": R.as_shape(shape, "broadcast_to")})


defvjp(broadcast_to, identity)
defjvp(broadcast_to, linear(broadcast_to_op))


def _broadcast_arrays_dtype(*dtypes):
    return tuple(dtypes)


def _broadcast_arrays_rule(*shapes):
    out = R.broadcast_shapes(*shapes)
    return [out] * len(shapes)


# Not variadic: the kernel is called as the standard spells it, broadcast_arrays(*arrays).
broadcast_arrays_op = defop("broadcast_arrays", family="manipulation",
                            dtype_rule=_broadcast_arrays_dtype, shape_rule=_broadcast_arrays_rule)


@public(broadcast_arrays_op)
def broadcast_arrays(*arrays) -> list[Tensor]:
    """The tensors broadcast against each other to one shape (each keeps its dtype).

    >>> import eagerflow_core as ef
    >>> a, b = ef.broadcast_arrays(ef.constant([[1], [2]]), ef.constant([0.5, 1.5, 2.5]))
    >>> a.shape, b.shape, b.dtype
    ((2, 3), (2, 3), ef.float32)
    """
    return list(call(broadcast_arrays_op, arrays))


def _broadcast_arrays_jvp(tangents, ans, *xs):
    return tuple(None if t is None else broadcast_to(t, a.shape)
                 for t, a in zip(tangents, outputs(None, ans)[1]))


defvjp(broadcast_arrays, all_inputs=lambda g, ans, *xs: outputs(g, ans)[0])
defjvp(broadcast_arrays, all_inputs=_broadcast_arrays_jvp)


# -- joining ------------------------------------------------------------------------------------

def _join_dtype(*dtypes, **params):
    return dtypes[0]  # the inputs are promoted to one dtype before this runs


def _concat_rule(shapes, *, axis=0):
    if axis is None:
        return (sum(_prod(s) for s in shapes),)
    nd = len(shapes[0])
    if nd == 0:
        raise ShapeError("0-d tensors cannot be joined along an axis; use ef.stack, or axis=None")
    if any(len(s) != nd for s in shapes):
        raise ShapeError(f"all tensors must have the same number of dimensions, got shapes "
                         f"{_fmt(shapes)}")
    ax = R.normalize_axis(axis, nd)
    for i in range(nd):
        if i != ax and len({s[i] for s in shapes}) > 1:
            raise ShapeError(f"shapes {_fmt(shapes)} differ at axis {i}; only the joined axis "
                             f"{ax} may differ")
    return shapes[0][:ax] + (sum(s[ax] for s in shapes),) + shapes[0][ax + 1:]


concat_op = defop("concat", family="manipulation", dtype_rule=_join_dtype,
                  shape_rule=_concat_rule, promote=True, variadic=True)


@public(concat_op)
def concat(arrays, /, *, axis=0) -> Tensor:
    """The tensors joined along an existing ``axis`` (``axis=None`` flattens them first).

    Mixed dtypes promote to their common dtype.

    >>> import eagerflow_core as ef
    >>> ef.concat([ef.constant([[1, 2]]), ef.constant([[3, 4]])], axis=1)
    ef.Tensor([[1, 2, 3, 4]], shape=(1, 4), dtype=int64, device='cpu:0')
    """
    return call(concat_op, _tensor_list(arrays, "concat"), {"axis": axis})


def _concat_vjp(g, ans, *xs, axis=0):
    ax = 0 if axis is None else R.normalize_axis(axis, g.ndim)
    parts, start = [], 0
    for x in xs:
        n = x.size if axis is None else x.shape[ax]
        part = g[(slice(None),) * ax + (slice(start, start + n),)]
        parts.append(reshape(part, x.shape) if axis is None else part)
        start += n
    return tuple(parts)


def _filled(tangents, xs):
    """The input tangents, zeros for inputs without one (a join needs every piece)."""
    return [F.zeros_like(x) if t is None else t for t, x in zip(tangents, xs)]


defvjp(concat, all_inputs=_concat_vjp)
defjvp(concat, all_inputs=lambda ts, ans, *xs, axis=0: concat(_filled(ts, xs), axis=axis))


def _stack_rule(shapes, *, axis=0):
    if len({tuple(s) for s in shapes}) > 1:
        raise ShapeError(f"all tensors must have the same shape, got shapes {_fmt(shapes)}")
    ax = R.normalize_axis(axis, len(shapes[0]) + 1)
    s = tuple(shapes[0])
    return s[:ax] + (len(shapes),) + s[ax:]


stack_op = defop("stack", family="manipulation", dtype_rule=_join_dtype, shape_rule=_stack_rule,
                 promote=True, variadic=True)


@public(stack_op)
def stack(arrays, /, *, axis=0) -> Tensor:
    """Tensors of one shape joined along a new ``axis``; mixed dtypes promote.

    >>> import eagerflow_core as ef
    >>> ef.stack([ef.constant([1, 2]), ef.constant([3, 4])], axis=1)
    ef.Tensor([[1, 3],
               [2, 4]], shape=(2, 2), dtype=int64, device='cpu:0')
    """
    return call(stack_op, _tensor_list(arrays, "stack"), {"axis": axis})


defvjp(stack, all_inputs=lambda g, ans, *xs, axis=0: unstack(g, axis=axis))
defjvp(stack, all_inputs=lambda ts, ans, *xs, axis=0: stack(_filled(ts, xs), axis=axis))


def _unstack_rule(x, *, axis=0):
    if not x:
        raise ShapeError("cannot unstack a 0-d tensor")
    ax = R.normalize_axis(axis, len(x))
    return [tuple(x[:ax]) + tuple(x[ax + 1:])] * x[ax]


unstack_op = defop("unstack", family="manipulation", dtype_rule=R.same_dtype,
                   shape_rule=_unstack_rule)


@public(unstack_op)
def unstack(x, /, *, axis=0) -> tuple[Tensor, ...]:
    """The slices of ``x`` along ``axis``, as a tuple (the inverse of :func:`stack`).

    >>> import eagerflow_core as ef
    >>> a, b = ef.unstack(ef.constant([[1, 2], [3, 4]]), axis=1)
    >>> a
    ef.Tensor([1, 3], shape=(2,), dtype=int64, device='cpu:0')
    """
    return tuple(call(unstack_op, (x,), {"axis": operator.index(axis)}))


def _unstack_vjp(g, ans, x, *, axis=0):
    g, ans = outputs(g, ans)
    return stack([F.zeros_like(a) if gi is None else gi for gi, a in zip(g, ans)], axis=axis)


defvjp(unstack, _unstack_vjp)
defjvp(unstack, linear(unstack_op))


# -- adding and removing axes -------------------------------------------------------------------

def _expand_dims_rule(x, *, axis=0):
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out_nd = len(x) + len(axes)
    new = R.normalize_axes(axes, out_nd)
    rest = iter(x)
    return tuple(1 if i in new else next(rest) for i in range(out_nd))


expand_dims_op = defop("expand_dims", family="manipulation", dtype_rule=R.same_dtype,
                       shape_rule=_expand_dims_rule)


@public(expand_dims_op)
def expand_dims(x, /, axis=0) -> Tensor:
    """``x`` with new axes of size 1 at ``axis`` (an int or a tuple), positions counted in the
    result; a negative axis counts from the result's end.

    >>> import eagerflow_core as ef
    >>> ef.expand_dims(ef.ones((2, 3)), axis=(0, -1)).shape
    (1, 2, 3, 1)
    """
    axis = axis if isinstance(axis, int) else _int_tuple(axis, "expand_dims: axis")
    return call(expand_dims_op, (x,), {"axis": axis})


defvjp(expand_dims, _reshaped)
defjvp(expand_dims, linear(expand_dims_op))


def _squeeze_rule(x, *, axis):
    axes = R.normalize_axes(axis, len(x))
    for a in axes:
        if x[a] != 1:
            raise ShapeError(f"cannot squeeze axis {a} of shape {tuple(x)}: its size is {x[a]}, "
                             f"not 1")
    return tuple(d for i, d in enumerate(x) if i not in axes)


squeeze_op = defop("squeeze", family="manipulation", dtype_rule=R.same_dtype,
                   shape_rule=_squeeze_rule)


@public(squeeze_op)
def squeeze(x, /, axis=None) -> Tensor:
    """``x`` without the size-1 axes ``axis`` (an int or a tuple, as in the standard). Without
    ``axis``, every size-1 axis goes (TensorFlow's ``tf.squeeze(x)``).

    >>> import eagerflow_core as ef
    >>> ef.squeeze(ef.ones((1, 3, 1)), axis=(0, 2)).shape
    (3,)
    >>> ef.squeeze(ef.ones((1, 3, 1))).shape
    (3,)
    """
    if axis is None:
        if not hasattr(x, "shape"):
            x = as_tensor_arg(squeeze_op, x)
        axis = tuple(i for i, d in enumerate(x.shape) if d == 1)
    axis = axis if isinstance(axis, int) else _int_tuple(axis, "squeeze: axis")
    return call(squeeze_op, (x,), {"axis": axis})


defvjp(squeeze, _reshaped)
defjvp(squeeze, linear(squeeze_op))


# -- reordering ---------------------------------------------------------------------------------

def _permute_dims_rule(x, *, axes):
    if sorted(R.normalize_axis(a, len(x)) for a in axes) != list(range(len(x))) \
            or len(axes) != len(x):
        raise ShapeError(f"axes {tuple(axes)} is not a permutation of the {len(x)} axes of shape "
                         f"{tuple(x)}; give each of 0..{len(x) - 1} once")
    return tuple(x[a] for a in axes)


permute_dims_op = defop("permute_dims", family="manipulation", dtype_rule=R.same_dtype,
                        shape_rule=_permute_dims_rule)


@public(permute_dims_op)
def permute_dims(x, /, axes) -> Tensor:
    """``x`` with its axes reordered: axis ``i`` of the result is axis ``axes[i]`` of ``x``.

    >>> import eagerflow_core as ef
    >>> ef.permute_dims(ef.ones((2, 3, 4)), (2, 0, 1)).shape
    (4, 2, 3)
    """
    return call(permute_dims_op, (x,), {"axes": _int_tuple(axes, "permute_dims: axes")})


def _permute_dims_vjp(g, ans, x, *, axes):
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a % len(axes)] = i
    return permute_dims(g, tuple(inverse))


defvjp(permute_dims, _permute_dims_vjp)
defjvp(permute_dims, linear(permute_dims_op))


def transpose(x, perm=None) -> Tensor:
    """TensorFlow's spelling of :func:`permute_dims`; ``perm=None`` reverses the axes.

    >>> import eagerflow_core as ef
    >>> ef.transpose(ef.ones((2, 3, 4))).shape
    (4, 3, 2)
    """
    if perm is None:
        if not isinstance(x, Tensor):  # a Variable counts as its value (issue #7)
            if not hasattr(x, "_ef_tensor_"):
                raise ArgumentTypeError(f"transpose: expected a Tensor, got {type(x).__name__}")
            x = x._ef_tensor_()
        perm = tuple(range(x.ndim - 1, -1, -1))
    return permute_dims(x, perm)


def _moveaxis_rule(x, *, source, destination):
    src = R.normalize_axes(source, len(x))
    dst = R.normalize_axes(destination, len(x))
    if len(src) != len(dst):
        raise ShapeError(f"source {source} and destination {destination} must name as many axes")
    order = [a for a in range(len(x)) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return tuple(x[a] for a in order)


moveaxis_op = defop("moveaxis", family="manipulation", dtype_rule=R.same_dtype,
                    shape_rule=_moveaxis_rule, posparams=("source", "destination"))


@public(moveaxis_op)
def moveaxis(x, source, destination, /) -> Tensor:
    """``x`` with axes ``source`` moved to positions ``destination`` (ints or tuples of ints);
    the other axes keep their order.

    >>> import eagerflow_core as ef
    >>> ef.moveaxis(ef.ones((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    source = source if isinstance(source, int) else _int_tuple(source, "moveaxis: source")
    destination = destination if isinstance(destination, int) else \
        _int_tuple(destination, "moveaxis: destination")
    return call(moveaxis_op, (x,), {"source": source, "destination": destination})


defvjp(moveaxis, lambda g, ans, x, *, source, destination: moveaxis(g, destination, source))
defjvp(moveaxis, linear(moveaxis_op))


def _flip_rule(x, *, axis=None):
    R.normalize_axes(axis, len(x))
    return tuple(x)


flip_op = defop("flip", family="manipulation", dtype_rule=R.same_dtype, shape_rule=_flip_rule)


@public(flip_op)
def flip(x, /, *, axis=None) -> Tensor:
    """``x`` with the order of elements reversed along ``axis`` (all axes by default).

    >>> import eagerflow_core as ef
    >>> ef.flip(ef.constant([[1, 2], [3, 4]]), axis=1)
    ef.Tensor([[2, 1],
               [4, 3]], shape=(2, 2), dtype=int64, device='cpu:0')
    """
    if axis is not None and not isinstance(axis, int):
        axis = _int_tuple(axis, "flip: axis")
    return call(flip_op, (x,), {"axis": axis})


defvjp(flip, lambda g, ans, x, *, axis=None: flip(g, axis=axis))
defjvp(flip, linear(flip_op))


def _roll_rule(x, *, shift, axis=None):
    if axis is not None:
        axes = R.normalize_axes(axis, len(x)) if isinstance(axis, int) else \
            tuple(R.normalize_axis(a, len(x)) for a in axis)
        if not isinstance(shift, int) and len(shift) != len(axes):
            raise ShapeError(f"shift {shift} and axis {axis} must have the same length")
    return tuple(x)


roll_op = defop("roll", family="manipulation", dtype_rule=R.same_dtype, shape_rule=_roll_rule)


@public(roll_op)
def roll(x, /, shift, *, axis=None) -> Tensor:
    """``x`` with elements shifted ``shift`` places along ``axis``, wrapping around; with
    ``axis=None`` the flattened tensor is rolled and the shape restored. ``shift`` and ``axis``
    may be tuples of the same length (an axis may repeat: its shifts add up).

    >>> import eagerflow_core as ef
    >>> ef.roll(ef.constant([1, 2, 3, 4]), 1)
    ef.Tensor([4, 1, 2, 3], shape=(4,), dtype=int64, device='cpu:0')
    """
    shift = shift if isinstance(shift, int) and not isinstance(shift, bool) else \
        _int_tuple(shift, "roll: shift")
    if axis is not None and not isinstance(axis, int):
        axis = _int_tuple(axis, "roll: axis")
    if isinstance(shift, tuple) and (axis is None or isinstance(axis, int)
                                     or len(axis) != len(shift)):
        raise InvalidArgumentError(f"roll: a tuple shift {shift} needs a tuple axis of the same "
                                   f"length, got axis={axis}")
    if isinstance(axis, tuple) and isinstance(shift, int):
        shift = (shift,) * len(axis)
    return call(roll_op, (x,), {"shift": shift, "axis": axis})


def _roll_vjp(g, ans, x, *, shift, axis=None):
    back = -shift if isinstance(shift, int) else tuple(-s for s in shift)
    return roll(g, back, axis=axis)


defvjp(roll, _roll_vjp)
defjvp(roll, linear(roll_op))


# -- repeating ----------------------------------------------------------------------------------

def _repeat_dtype(x, repeats, *, axis=None):
    if repeats is not None and repeats.kind not in "iu":
        raise DTypeError(f"repeats must be an integer tensor, not {repeats}")
    return x


def _repeat_rule(x, repeats, *, axis=None):
    n = _prod(x) if axis is None else x[R.normalize_axis(axis, len(x))]
    if len(repeats) > 1 or (repeats and repeats[0] not in (1, n)):
        where = "the flattened tensor" if axis is None else f"axis {axis}"
        raise ShapeError(f"repeats of shape {tuple(repeats)} must be 1-D of size 1 or {n} (the "
                         f"size of {where} of shape {tuple(x)})")
    # The result's size along the repeated axis depends on the values of repeats.
    if axis is None:
        return (None,)
    ax = R.normalize_axis(axis, len(x))
    return tuple(x[:ax]) + (None,) + tuple(x[ax + 1:])


repeat_op = defop("repeat", family="manipulation", nin=2, dtype_rule=_repeat_dtype,
                  shape_rule=_repeat_rule, scalar_inputs=True)


@public(repeat_op)
def repeat(x, repeats, /, *, axis=None) -> Tensor:
    """Each element of ``x`` repeated ``repeats`` times along ``axis`` (``x`` flattened if
    ``axis=None``). ``repeats`` is an int or a 1-D integer tensor of one count per element.

    >>> import eagerflow_core as ef
    >>> ef.repeat(ef.constant([1, 2, 3]), ef.constant([2, 0, 1]))
    ef.Tensor([1, 1, 3], shape=(3,), dtype=int64, device='cpu:0')
    """
    if not isinstance(repeats, Tensor) and not hasattr(repeats, "_ef_tensor_"):
        if isinstance(repeats, bool):
            raise ArgumentTypeError("repeat: repeats must be an int or an integer tensor, not bool")
        try:
            repeats = operator.index(repeats)
        except TypeError:
            raise ArgumentTypeError(f"repeat: repeats must be an int or an integer tensor, got "
                                    f"{type(repeats).__name__}") from None
        if repeats < 0:
            raise InvalidArgumentError(f"repeat: repeats must not be negative, got {repeats}")
    if axis is not None:
        axis = operator.index(axis)
    return call(repeat_op, (x, repeats), {"axis": axis})


def _repeat_vjp(g, ans, x, repeats, *, axis=None):
    shape = (x.size,) if axis is None else x.shape
    ax = 0 if axis is None else R.normalize_axis(axis, x.ndim)
    if isinstance(repeats, int):  # each element's copies sit side by side: sum them
        split = shape[:ax] + (shape[ax], repeats) + shape[ax + 1:]
        return reshape(F.sum(reshape(g, split), axis=ax + 1), x.shape)
    # Per-element counts: add each output position into the element it copies.
    owner = repeat(F.arange(shape[ax], device=g.device), repeats)
    key = (slice(None),) * ax + (owner._data,)
    return reshape(F.scatter_add(shape, g, key), x.shape)


defvjp(repeat, _repeat_vjp, None)
defjvp(repeat, linear(repeat_op), None)


def _tile_rule(x, *, repetitions):
    if any(r < 0 for r in repetitions):
        raise InvalidArgumentError(f"repetitions {tuple(repetitions)} must not be negative")
    nd = max(len(x), len(repetitions))
    xs = (1,) * (nd - len(x)) + tuple(x)
    rs = (1,) * (nd - len(repetitions)) + tuple(repetitions)
    return tuple(a * b for a, b in zip(xs, rs))


tile_op = defop("tile", family="manipulation", dtype_rule=R.same_dtype, shape_rule=_tile_rule,
                posparams=("repetitions",))


@public(tile_op)
def tile(x, repetitions, /) -> Tensor:
    """``x`` repeated ``repetitions[i]`` times along each axis ``i`` (the shorter of the shape
    and ``repetitions`` is padded with leading 1s).

    >>> import eagerflow_core as ef
    >>> ef.tile(ef.constant([1, 2]), (2, 2))
    ef.Tensor([[1, 2, 1, 2],
               [1, 2, 1, 2]], shape=(2, 4), dtype=int64, device='cpu:0')
    """
    reps = _int_tuple(repetitions, "tile: repetitions")
    if any(r < 0 for r in reps):
        raise InvalidArgumentError(f"tile: repetitions {reps} must not be negative")
    return call(tile_op, (x,), {"repetitions": reps})


def _tile_vjp(g, ans, x, *, repetitions):
    nd = max(x.ndim, len(repetitions))
    xs = (1,) * (nd - x.ndim) + x.shape
    rs = (1,) * (nd - len(repetitions)) + tuple(repetitions)
    split = tuple(d for pair in zip(rs, xs) for d in pair)  # (r0, s0, r1, s1, ...)
    return reshape(F.sum(reshape(g, split), axis=tuple(range(0, 2 * nd, 2))), x.shape)


defvjp(tile, _tile_vjp)
defjvp(tile, linear(tile_op))


__all__ = ["reshape", "broadcast_to", "broadcast_arrays", "concat", "stack", "unstack",
           "expand_dims", "squeeze", "permute_dims", "transpose", "moveaxis", "flip", "roll",
           "repeat", "tile"]

