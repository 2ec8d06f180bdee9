"""TensorFlow's everyday array ops under TensorFlow's names and signatures (issue #8 item 3).

These three are ops with kernels of their own, because no composition of other ops is as fast:
``pad`` (REFLECT and SYMMETRIC gather mirrored elements; CONSTANT is one fill and one copy),
``einsum`` (a two-operand contraction runs as one batched matmul) and ``math.top_k`` (a
partial sort). The rest are compositions of existing ops, in ``tf_compose.py``. Other
families' ops are reached through ``F``, as gradient rules reach them.
"""

from __future__ import annotations

import functools
import operator
import string

from .._dispatch import call
from .._dtypes import default_index, int32
from .._errors import ArgumentTypeError, InvalidArgumentError, ShapeError
from .._registry import F, defjvp, defop, defvjp
from .._tensor import Tensor
from . import _rules as R
from ._define import public
from ._grad_util import cj
from ._tf_args import along as _along
from ._tf_args import as_tensor as _tensor
from ._tf_args import ints as _ints

# -- pad -----------------------------------------------------------------------------------------

_PAD_MODES = ("CONSTANT", "REFLECT", "SYMMETRIC")


def _pad_shape(x, *, paddings, mode="CONSTANT", constant_values=0):
    if len(paddings) != len(x):
        raise ShapeError(f"paddings has {len(paddings)} rows for a tensor of rank {len(x)}; "
                         f"give one [before, after] pair per axis")
    for axis, ((before, after), n) in enumerate(zip(paddings, x)):
        if before < 0 or after < 0:
            raise ShapeError(f"paddings must not be negative, got [{before}, {after}] for "
                             f"axis {axis}")
        # REFLECT mirrors around the edge element (which it does not repeat), SYMMETRIC
        # around the edge itself: at most n - 1 and n elements to mirror on each side.
        most = max(n - 1, 0) if mode == "REFLECT" else n
        if mode != "CONSTANT" and max(before, after) > most:
            raise ShapeError(f"{mode} padding of axis {axis} (size {n}) is at most {most} on "
                             f"each side, got [{before}, {after}]")
    return tuple(n + b + a for n, (b, a) in zip(x, paddings))


pad_op = defop("pad", family="tf_array", dtype_rule=R.same_dtype, shape_rule=_pad_shape)


def _paddings(paddings) -> tuple[tuple[int, int], ...]:
    rows = paddings.tolist() if hasattr(paddings, "tolist") else paddings
    if not isinstance(rows, (list, tuple)) or any(
            not isinstance(r, (list, tuple)) or len(r) != 2 for r in rows):
        raise ShapeError(f"pad: paddings must be a [rank, 2] list or tensor of ints, got "
                         f"{paddings!r}")
    return tuple(tuple(_ints(r, "pad: paddings")) for r in rows)


@public(pad_op)
def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None) -> Tensor:
    """``tensor`` padded by ``paddings[i] = [before, after]`` elements on each axis ``i``
    (TensorFlow's ``tf.pad``).

    ``mode`` is ``"CONSTANT"`` (``constant_values``, a scalar), ``"REFLECT"`` (mirrored
    around the edge element, which is not repeated: at most ``size - 1`` on a side) or
    ``"SYMMETRIC"`` (mirrored around the edge: at most ``size``), in any case. The gradient
    sums the mirrored elements back into the ones they copy.

    >>> import eagerflow_core as ef
    >>> x = ef.constant([[1, 2, 3]])
    >>> ef.pad(x, [[0, 0], [2, 2]], mode="REFLECT")
    ef.Tensor([[3, 2, 1, 2, 3, 2, 1]], shape=(1, 7), dtype=int64, device='cpu:0')
    >>> ef.pad(x, [[1, 0], [1, 1]], constant_values=9)
    ef.Tensor([[9, 9, 9, 9, 9],
               [9, 1, 2, 3, 9]], shape=(2, 5), dtype=int64, device='cpu:0')
    """
    x = _tensor("pad", tensor)
    rows = _paddings(paddings)
    mode_u = mode.upper() if isinstance(mode, str) else mode
    if mode_u not in _PAD_MODES:
        raise InvalidArgumentError(f"pad: mode must be one of {', '.join(_PAD_MODES)} (any "
                                   f"case), got {mode!r}")
    if hasattr(constant_values, "tolist"):  # a 0-d tensor or NumPy scalar
        if getattr(constant_values, "shape", ()) != ():
            raise ShapeError(f"pad: constant_values must be a scalar, got shape "
                             f"{tuple(constant_values.shape)}")
        constant_values = constant_values.tolist()
    if x.dtype.kind in "biu" and not isinstance(constant_values, int):
        raise InvalidArgumentError(f"pad: constant_values {constant_values!r} is not a value "
                                   f"of the tensor's dtype {x.dtype}")
    try:
        _pad_shape(tuple(x.shape), paddings=rows, mode=mode_u)
    except ShapeError as err:  # checked here: NumPy mirrors too-wide pads again and again
        raise ShapeError(f"pad: {err} (got {x.dtype}{list(x.shape)})") from None
    return call(pad_op, (x,), {"paddings": rows, "mode": mode_u,
                               "constant_values": constant_values})


def _pad_vjp(g, ans, x, *, paddings, mode, constant_values):
    """The middle of ``g``, plus, for the mirrored modes, each pad flipped back onto the
    elements it copies (placed with a zero CONSTANT pad: the rule is in ops again)."""
    nd = len(paddings)
    for axis, (before, after) in enumerate(paddings):
        if before == after == 0:
            continue
        n = x.shape[axis]
        core = _along(g, axis, before, before + n)
        if mode != "CONSTANT":
            shift = 1 if mode == "REFLECT" else 0
            for start, stop, at in ((0, before, shift), (before + n, before + n + after,
                                                         n - shift - after)):
                if stop > start:
                    piece = F.flip(_along(g, axis, start, stop), axis=axis)
                    rows = tuple((at, n - at - (stop - start)) if i == axis else (0, 0)
                                 for i in range(nd))
                    core = core + pad(piece, rows)
        g = core
    return g


defvjp(pad, _pad_vjp)
defjvp(pad, lambda t, ans, x, *, paddings, mode, constant_values:
       call(pad_op, (t,), {"paddings": paddings, "mode": mode, "constant_values": 0}))


# -- einsum --------------------------------------------------------------------------------------

def _split_equation(equation: str) -> tuple[list[str], str]:
    inputs, _, out = equation.partition("->")
    return inputs.split(","), out


def _einsum_shape(shapes, *, equation):
    """Shape rule of the normalised equation (explicit output, no ellipsis, no spaces)."""
    inputs, out = _split_equation(equation)
    if len(inputs) != len(shapes):
        raise ShapeError(f"the equation {equation!r} names {len(inputs)} operand(s), got "
                         f"{len(shapes)}")
    size: dict[str, tuple[int, int]] = {}
    for k, (subs, shape) in enumerate(zip(inputs, shapes)):
        if len(subs) != len(shape):
            raise ShapeError(f"operand {k} has {len(shape)} dimension(s) but the equation "
                             f"{equation!r} gives it {len(subs)} subscript(s) ({subs!r})")
        for c, d in zip(subs, shape):
            seen = size.setdefault(c, (d, k))
            if seen[0] != d:
                raise ShapeError(f"subscript {c!r} has size {seen[0]} in operand {seen[1]} and "
                                 f"{d} in operand {k} (shapes {', '.join(map(str, shapes))})")
    return tuple(size[c][0] for c in out)


def _einsum_dtype(*dtypes, **params):
    return R.require(dtypes[0], "iufc", "a numeric (not bool)")  # promoted to one already


einsum_op = defop("einsum", family="tf_array", dtype_rule=_einsum_dtype,
                  shape_rule=_einsum_shape, promote=True, variadic=True)


def _normalise(equation, shapes) -> tuple[str, list[tuple | None]]:
    """The equation with an explicit output and the ellipsis spelled as letters, and for each
    operand the shape it must be broadcast to (None when it already has it): ``...`` dims
    broadcast as in NumPy, named ones must agree."""
    if not isinstance(equation, str):
        raise ArgumentTypeError(f"einsum: equation must be a string, got {type(equation).__name__}")
    eq = equation.replace(" ", "")
    if eq.count("->") > 1 or any(not (c.isalpha() or c in ",.->") for c in eq):
        raise InvalidArgumentError(f"einsum: invalid equation {equation!r}: use letters, ',', "
                                   f"'...' and one '->'")
    lhs, arrow, out = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise InvalidArgumentError(f"einsum: the equation {equation!r} names {len(inputs)} "
                                   f"operand(s), got {len(shapes)}")
    for subs in inputs + [out]:
        if subs.replace("...", "").count(".") or subs.count("...") > 1:
            raise InvalidArgumentError(f"einsum: invalid equation {equation!r}: '.' only as "
                                       f"one '...' per operand")
    fresh = [c for c in string.ascii_letters if c not in eq]
    ell_nd = [len(s) - (len(subs) - 3) if "..." in subs else 0
              for subs, s in zip(inputs, shapes)]
    if any(n < 0 for n in ell_nd):
        k = next(i for i, n in enumerate(ell_nd) if n < 0)
        raise ShapeError(f"einsum: operand {k} has {len(shapes[k])} dimension(s), fewer than "
                         f"the {len(inputs[k]) - 3} subscripts of {inputs[k]!r}")
    nell = max(ell_nd, default=0)
    ell = "".join(fresh[:nell])
    ell_shape = [list(s[_ell_start(subs):_ell_start(subs) + n]) if "..." in subs else []
                 for subs, s, n in zip(inputs, shapes, ell_nd)]
    full = [1] * nell  # the broadcast shape of the '...' dims
    for dims in ell_shape:
        for i, d in enumerate(dims, nell - len(dims)):
            if full[i] != d and 1 not in (full[i], d):
                raise ShapeError(f"einsum: the '...' dimensions of shapes "
                                 f"{', '.join(map(str, shapes))} do not broadcast")
            if d != 1:
                full[i] = d
    targets = []
    for subs, s, dims in zip(inputs, shapes, ell_shape):
        want = full[nell - len(dims):]
        if "..." in subs and list(dims) != want:
            i = _ell_start(subs)
            targets.append(tuple(s[:i]) + tuple(want) + tuple(s[i + len(dims):]))
        else:
            targets.append(None)
    inputs = [subs.replace("...", ell[nell - n:]) for subs, n in zip(inputs, ell_nd)]
    if not arrow:  # implicit output: '...' first, then the letters used once, sorted
        letters = "".join(inputs)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                   and c not in ell))
    else:  # an output without '...' sums over those dims
        out = out.replace("...", ell)
        if len(set(out)) != len(out) or any(c not in "".join(inputs) for c in out):
            raise InvalidArgumentError(f"einsum: the output of {equation!r} must name distinct "
                                       f"subscripts of the inputs")
    return ",".join(inputs) + "->" + out, targets


@functools.lru_cache(maxsize=1024)
def _prepare(equation, shapes) -> tuple[str, tuple]:
    """``_normalise``d and checked against the shapes, once per (equation, shapes): a repeated
    einsum costs one dict lookup here (errors are not cached, so they raise every time)."""
    eq, targets = _normalise(equation, shapes)
    try:
        _einsum_shape([t or s for t, s in zip(targets, shapes)], equation=eq)
    except ShapeError as err:
        raise ShapeError(f"einsum: {err}") from None
    return eq, tuple(targets)


def _ell_start(subs: str) -> int:
    return subs.index("...")


@public(einsum_op)
def einsum(equation, *inputs, **kwargs) -> Tensor:
    """Einstein summation (``tf.einsum``, ``numpy.einsum``): ``"bij,bjk->bik"`` is a batched
    matmul, ``"ii->i"`` a diagonal, ``"ij->"`` a sum; without ``->`` the output is the
    subscripts used once, sorted. ``...`` stands for broadcast dimensions.

    One op with a kernel: a two-operand contraction runs as one (batched) matmul, more operands
    in the order ``numpy.einsum_path`` finds; the gradient of each operand is an einsum of the
    output's cotangent with the other operands.

    >>> import eagerflow_core as ef
    >>> a, b = ef.ones((2, 3)), ef.ones((3, 4))
    >>> ef.einsum("ij,jk->ik", a, b).shape
    (2, 4)
    >>> ef.einsum("ii", ef.constant([[1.0, 2.0], [3.0, 4.0]]))
    ef.Tensor(5., shape=(), dtype=float32, device='cpu:0')
    """
    bad = set(kwargs) - {"name", "optimize"}
    if bad:
        raise ArgumentTypeError(f"einsum: unexpected keyword argument(s) {sorted(bad)}")
    if not inputs:
        raise InvalidArgumentError("einsum: needs at least one operand")
    xs = [_tensor("einsum", x) for x in inputs]
    eq, targets = _prepare(equation, tuple(tuple(x.shape) for x in xs))
    xs = [x if t is None else F.broadcast_to(x, t) for x, t in zip(xs, targets)]
    return call(einsum_op, xs, {"equation": eq})


def _einsum_to(target: str, shape, subs: list[str], operands):
    """An einsum of ``operands`` (subscripts ``subs``) shaped as an input with subscripts
    ``target``: letters only that input had are broadcast back, repeated ones (a diagonal)
    are written on the diagonal."""
    uniq = "".join(dict.fromkeys(target))
    have = set("".join(subs))
    kept = "".join(c for c in uniq if c in have)
    out = call(einsum_op, list(operands), {"equation": ",".join(subs) + "->" + kept})
    size = dict(zip(target, shape))
    if kept != uniq:
        out = F.reshape(out, tuple(size[c] if c in have else 1 for c in uniq))
        out = F.broadcast_to(out, tuple(size[c] for c in uniq))
    if uniq != target:
        fresh = iter(c for c in string.ascii_letters if c not in target)
        seen, named, pairs, eyes = set(), "", [], []
        for c in target:
            if c in seen:
                f = next(fresh)
                named += f
                pairs.append(c + f)
                eyes.append(F.eye(size[c], dtype=out.dtype, device=out.device))
            else:
                seen.add(c)
                named += c
        out = call(einsum_op, [out, *eyes], {"equation": ",".join([uniq, *pairs]) + "->" + named})
    return out


def _einsum_vjp(g, ans, *xs, equation):
    inputs, out = _split_equation(equation)
    grads = []
    for k, (subs, x) in enumerate(zip(inputs, xs)):
        others = [j for j in range(len(xs)) if j != k]
        grads.append(_einsum_to(subs, x.shape, [out] + [inputs[j] for j in others],
                                [g] + [cj(xs[j]) for j in others]))
    return tuple(grads)


def _einsum_jvp(ts, ans, *xs, equation):
    total = None
    for k, t in enumerate(ts):
        if t is not None:
            term = call(einsum_op, [t if j == k else x for j, x in enumerate(xs)],
                        {"equation": equation})
            total = term if total is None else total + term
    return total


defvjp(einsum, all_inputs=_einsum_vjp)
defjvp(einsum, all_inputs=_einsum_jvp)


# -- top_k ---------------------------------------------------------------------------------------

def _top_k_shape(x, *, k):
    if len(x) == 0:
        raise ShapeError("the input must have at least 1 dimension, got a 0-d tensor")
    if not 0 <= k <= x[-1]:
        raise ShapeError(f"k = {k} must be in 0..{x[-1]} (the size of the last axis of "
                         f"shape {tuple(x)})")
    return tuple(x[:-1]) + (k,)


def _top_k_dtype(x, *, k):
    R.require(x, "iuf", "a real numeric (not bool or complex)")
    return default_index


top_k_op = defop("math.top_k", family="tf_array", dtype_rule=_top_k_dtype,
                 shape_rule=_top_k_shape, differentiable=False)


class TopKV2(tuple):
    """``(values, indices)`` of :func:`top_k`, also by name (TensorFlow's ``TopKV2``)."""

    __slots__ = ()

    def __new__(cls, values, indices):
        return tuple.__new__(cls, (values, indices))

    values = property(operator.itemgetter(0))
    indices = property(operator.itemgetter(1))

    def __repr__(self):
        return f"TopKV2(values={self[0]!r}, indices={self[1]!r})"


@public(top_k_op)
def top_k(input, k=1, sorted=True, index_type=int32, name=None) -> TopKV2:
    """The ``k`` largest entries of the last axis and their indices (``tf.math.top_k``).

    Values come largest first (``sorted=False`` gives the same order); of equal values the
    lower index comes first. Indices are ``index_type`` (int32, as in TensorFlow). The
    gradient flows to the chosen entries (the values are gathered with ``take_along_axis``).

    >>> import eagerflow_core as ef
    >>> ef.math.top_k(ef.constant([1.0, 4.0, 2.0, 4.0]), k=2)
    TopKV2(values=ef.Tensor([4., 4.], shape=(2,), dtype=float32, device='cpu:0'), \
indices=ef.Tensor([1, 3], shape=(2,), dtype=int32, device='cpu:0'))
    """
    x = _tensor("math.top_k", input)
    if isinstance(k, bool) or not isinstance(k, int):
        if hasattr(k, "tolist") and getattr(k, "shape", None) == ():
            k = k.tolist()
        if isinstance(k, bool) or not isinstance(k, int):
            raise ArgumentTypeError(f"math.top_k: k must be an int, got {k!r}")
    try:  # checked here: a sort cut at k would not notice a k past the end
        _top_k_shape(tuple(x.shape), k=k)
    except ShapeError as err:
        raise ShapeError(f"math.top_k: {err}") from None
    indices = call(top_k_op, (x,), {"k": k})
    values = F.take_along_axis(x, indices, axis=-1)
    if index_type is not None and index_type is not default_index:
        indices = F.astype(indices, index_type)
    return TopKV2(values, indices)


__all__ = ["einsum", "pad"]
