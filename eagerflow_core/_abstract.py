"""Abstract evaluation: the shapes and dtypes an op call would give, from the op's rules alone,
without running a kernel (JAX's ``abstract_eval``; PyTorch's meta kernels).

An interpreter that has no values (the tracer of ``ef.function``) asks this for each op it
sees. The rules are the same ones the dispatcher uses: the elementwise dtype tables with weak
Python scalars, the promotion table, each op's dtype rule and shape rule. A size the rules
cannot know without the values (how many elements ``unique_values`` finds) is None.

>>> import eagerflow_core as ef
>>> from eagerflow_core._abstract import abstract_eval
>>> abstract_eval(ef.matmul.op, (ef.ones((2, 3)), ef.ones((3, 4))))
((2, 4), ef.float32)
>>> abstract_eval(ef.add.op, (ef.ones(3, dtype=ef.int8), 1.5))
((3,), ef.float32)
"""

from __future__ import annotations

from . import _dtypes
from . import _dispatch_errors as E
from ._dispatch import _SCALARS, _WEAK, as_tensor_arg
from ._errors import DTypeError, EagerflowError
from ._tensor import Tensor


def abstract_eval(op, inputs, params=None, device=None):
    """``(shape, dtype)`` of ``op(*inputs, **params)``; for an op with several results,
    ``(list of shapes, tuple of dtypes)``. Raises the eagerflow error the call would raise
    for bad shapes or dtypes (the op's own rules decide)."""
    params = params or {}
    if op.kind == "unary":
        x = _tensor(op, inputs[0])
        pair = op.table.get(x._dtype)
        if pair is None:
            raise E.dtype_refused(op, x._dtype, (x,))
        return tuple(x.shape), pair[1]
    if op.kind == "binary":
        return _binary(op, inputs[0], inputs[1])
    if op.dtype_rule is None:
        raise E.op_error(op, EagerflowError, "a composite has no dtype or shape rule; "
                         "evaluate its body instead")
    args = [x if x is None or type(x) in _SCALARS else _tensor(op, x) for x in inputs]
    try:
        if op.promote:
            args = _promoted(args)
        dtypes = [a._dtype if isinstance(a, Tensor) else None for a in args]
        out_dtype = op.dtype_rule(*dtypes, **params)
        shapes = [_shape_of(a) for a in args]
        if op.shape_rule is None:
            raise E.op_error(op, EagerflowError, "has no shape rule")
        if any(s is not None and None in s for s in shapes):
            shape = _with_unknown_sizes(op, shapes, params)
        else:
            shape = _rule(op, shapes, params)
    except EagerflowError as exc:
        raise E.prefixed(op, exc, [a for a in args if isinstance(a, Tensor)]) from None
    # A shape rule gives a tuple for one result, a list (or a tuple) of them for several.
    if type(out_dtype) is tuple or op.nout > 1 or isinstance(shape, list):
        shapes = [_as_shape(s) for s in shape]
        if type(out_dtype) is not tuple:
            out_dtype = (out_dtype,) * len(shapes)
        return shapes, out_dtype
    return _as_shape(shape), out_dtype


def _rule(op, shapes, params):
    return op.shape_rule(shapes, **params) if op.variadic else op.shape_rule(*shapes, **params)


def _with_unknown_sizes(op, shapes, params):
    """Sizes unknown until run time (``ef.function(reduce_retracing=True)``): the rule runs
    twice, with the unknown sizes set to 2 and to 3; a result size that differs between the
    two depends on them and is unknown (None), one that does not is known."""
    def probe(n):
        return _rule(op, [None if s is None else tuple(n if d is None else d for d in s)
                          for s in shapes], params)
    a, b = probe(2), probe(3)

    def merge(x, y):
        if isinstance(x, list) or (isinstance(x, tuple) and x and isinstance(x[0], tuple)):
            return [merge(p, q) for p, q in zip(x, y)]
        return tuple(p if p == q else None for p, q in zip(x, y))
    return merge(a, b)


def _tensor(op, x):
    return x if type(x) is Tensor else as_tensor_arg(op, x)


def _shape_of(a):
    if isinstance(a, Tensor):
        return tuple(a.shape)
    return None if a is None else ()


def _as_shape(s):
    return None if s is None else tuple(None if d is None else int(d) for d in s)


def _binary(op, a, b):
    ta, tb = type(a), type(b)
    if ta in _SCALARS and tb in _SCALARS:
        a = as_tensor_arg(op, a)
        ta = Tensor
    if ta is not Tensor and ta not in _SCALARS:
        a, ta = _tensor(op, a), Tensor
    if tb is not Tensor and tb not in _SCALARS:
        b, tb = _tensor(op, b), Tensor
    if ta is Tensor and tb is Tensor:
        dt = a._dtype if a._dtype is b._dtype else _dtypes._PROMOTION.get((a._dtype, b._dtype))
        if dt is None:
            raise E.no_common_dtype(op, a._dtype, b._dtype, (a, b))
        shape = _broadcast(op, a.shape, b.shape, (a, b))
    elif ta is Tensor:
        dt, shape = _WEAK[a._dtype, tb], tuple(a.shape)
    else:
        dt, shape = _WEAK[b._dtype, ta], tuple(b.shape)
    pair = op.table.get(dt)
    if pair is None:
        raise E.dtype_refused(op, dt, (a, b))
    return shape, pair[1]


def _broadcast(op, sa, sb, args):
    try:
        if None in sa or None in sb:
            return _with_unknown_sizes(op, [tuple(sa), tuple(sb)], {})
        return op.shape_rule(tuple(sa), tuple(sb))
    except EagerflowError as exc:
        raise E.prefixed(op, exc, args) from None


def _promoted(args):
    """The dtypes ``_dispatch._promote`` gives: tensors and scalars to one common dtype."""
    present = [a for a in args if isinstance(a, Tensor)]
    if not present:
        return args
    dt = present[0]._dtype
    for t in present[1:]:
        dt = _dtypes.promote_types(dt, t._dtype)
    for a in args:
        if type(a) in _SCALARS:
            dt = _dtypes.weak_promote(dt, a)
    out = []
    for a in args:
        if isinstance(a, Tensor) or type(a) in _SCALARS:
            out.append(_Abstract(a.shape if isinstance(a, Tensor) else (), dt))
        else:
            out.append(a)
    return out


class _Abstract(Tensor):
    """A stand-in with a shape and a dtype but no values (for the rules only)."""

    __slots__ = ("_shape",)

    def __init__(self, shape, dtype):
        self._shape = tuple(shape)
        self._dtype = dtype
        self._data = None
        self._device = None
        self._tid = 0

    @property
    def shape(self):
        return self._shape


__all__ = ["abstract_eval", "DTypeError"]
