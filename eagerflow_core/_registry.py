"""The op registry: one ``OpDef`` per op, defined once in ``eagerflow_core/ops``.

An OpDef holds what the core knows about an op: its name, its dtype rule, its shape rule, its
gradient rules (reverse mode ``vjp``, forward mode ``jvp``) and, for ops the core can compute
from other ops, a default implementation (``impl``). It holds no kernel: kernels live in each
backend's table under the op's name.

Gradient rules call other ops through :data:`F`, the registry's view of the public functions
by name, bound when a rule runs: a family file never imports another family to write a rule,
so the op families import nothing of each other and the import graph has no cycle.
"""

from __future__ import annotations

import inspect
from typing import Callable

from ._dtypes import ALL_DTYPES, DType

#: Every op, by name ("add", "sum", "linalg.inv", ...).
OPS: dict[str, "OpDef"] = {}


class OpDef:
    """One op. Families build these with :func:`defop` or the elementwise builders.

    ``table`` (elementwise ops only) maps an input dtype (after promotion) to a pair
    ``(compute_dtype, result_dtype)``: inputs are cast to ``compute_dtype`` before the kernel runs
    and the kernel's result is the ``result_dtype``. The table is precomputed, so the dispatch
    fast path does one dict lookup for the dtype rule. General ops keep a *plan* per (device,
    dtype, params) in ``plans``: the kernel, its params as it takes them, the result dtype
    (``_dispatch._call_uniform``).
    """

    __slots__ = ("name", "family", "kind", "nin", "dtype_rule", "shape_rule", "promote",
                 "scalar_inputs", "table", "accepts", "doc", "differentiable", "vjp", "jvp",
                 "variadic", "nout", "posparams", "needs_kernel", "plans", "dtype_params",
                 "internal", "impl", "fn", "registered", "trace", "__weakref__")

    def __init__(self, name, *, family, kind="general", nin=1, dtype_rule=None, shape_rule=None,
                 promote=False, scalar_inputs=False, table=None, accepts="", doc="",
                 differentiable=True, variadic=False, nout=1, posparams=(), needs_kernel=True,
                 internal=False, impl=None):
        self.name = name
        self.family = family
        self.kind = kind                  # "unary", "binary" (elementwise) or "general"
        self.nin = nin                    # tensor inputs (variadic: one sequence of tensors)
        self.dtype_rule = dtype_rule      # general ops: (*dtypes, **params) -> DType | tuple
        self.shape_rule = shape_rule      # (*shapes, **params) -> shape | tuple; raises ShapeError
        self.promote = promote            # general ops: cast tensor inputs to their common dtype
        self.scalar_inputs = scalar_inputs  # general ops: Python scalars allowed as tensor inputs
        self.table = table                # elementwise ops: {DType: (compute, result)}
        self.accepts = accepts            # words for error messages: "floating-point", ...
        self.doc = doc
        self.differentiable = differentiable
        self.vjp = None                   # set by defvjp: ("each", rules) or ("all", rule)
        self.jvp = None                   # set by defjvp: ("each", rules) or ("all", rule)
        self.variadic = variadic
        self.nout = nout
        self.posparams = posparams        # params the standard makes positional-only, in order
        self.needs_kernel = needs_kernel  # False: the core runs it itself (``impl``)
        # (device, dtype, params) -> kernel call plan. None for ops indexed by a key: True == 1
        # in a dict key, and x[True] is not x[1].
        self.plans = None if "key" in posparams or "key" in _keywords(dtype_rule) else {}
        self.dtype_params = _keywords(dtype_rule)
        self.internal = internal          # used by gradient rules; no public function
        self.impl = impl                  # impl(*inputs, **params): the op in other ops
        self.fn = None                    # the public function (set by ops/_define.py)
        self.registered = False
        self.trace = None                 # trace(tracer, inputs, params): how ef.function
        #                                   records it, when not as one kernel node

    def __repr__(self):
        return f"<op {self.name}>"


def _keywords(rule) -> tuple[str, ...]:
    """The keyword parameters a dtype rule reads (they key its memo)."""
    if rule is None:
        return ()
    try:
        sig = inspect.signature(rule)
    except (TypeError, ValueError):
        return ()
    return tuple(n for n, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY)


def register(op: OpDef) -> OpDef:
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} is defined twice")
    OPS[op.name] = op
    op.registered = True
    return op


def elementwise_table(rule: Callable[[DType], tuple[DType, DType] | None]) -> dict:
    """Precompute an elementwise dtype rule over every dtype; ``None`` means not accepted."""
    table = {}
    for dt in ALL_DTYPES:
        pair = rule(dt)
        if pair is not None:
            table[dt] = pair
    return table


def defop(name: str, *, family: str, nin: int = 1, dtype_rule, shape_rule=None, promote=False,
          scalar_inputs=False, doc: str = "", differentiable=True, variadic=False,
          nout: int = 1, posparams: tuple[str, ...] = (), needs_kernel=True,
          internal=False, impl=None) -> OpDef:
    """Define a general (non-elementwise) op and register it.

    The kernel is called as the Array API standard spells the function: tensor inputs first
    (one list of them if ``variadic``), then the ``posparams`` positionally, then the other
    params as keywords. An op with ``impl`` needs no kernel: a backend without one runs
    ``impl(*inputs, **params)`` (written in other ops); a backend with one (a fused kernel)
    runs that instead.
    """
    return register(OpDef(name, family=family, nin=nin, dtype_rule=dtype_rule,
                          shape_rule=shape_rule, promote=promote, scalar_inputs=scalar_inputs,
                          doc=doc, differentiable=differentiable, variadic=variadic, nout=nout,
                          posparams=posparams, needs_kernel=needs_kernel and impl is None,
                          internal=internal, impl=impl))


def def_elementwise(name: str, *, family: str, nin: int, rule, accepts: str, doc: str = "",
                    differentiable=True, shape_rule=None) -> OpDef:
    """Define a unary (nin=1) or binary (nin=2) elementwise op from a dtype rule."""
    return register(OpDef(name, family=family, kind="unary" if nin == 1 else "binary", nin=nin,
                          table=elementwise_table(rule), accepts=accepts, doc=doc,
                          differentiable=differentiable, shape_rule=shape_rule))


def _rules(rules, all_inputs):
    return ("all", all_inputs) if all_inputs is not None else ("each", tuple(rules))


def defvjp(fn_or_op, *rules, all_inputs=None) -> None:
    """Give an op its reverse-mode gradient rules, written in eagerflow ops.

    ``rules`` holds one rule per tensor input, ``rule(g, ans, *inputs, **params) -> gradient``
    (None where that input gets no gradient); the engine calls only the rules of inputs that
    lead to a source. ``all_inputs=rule`` instead gives one rule returning a tuple, for ops
    whose input gradients share work. Because rules are eagerflow ops, every backend gets
    them, and they are differentiable again (higher order for free).

    >>> import eagerflow_core as ef
    >>> ef.exp.op.vjp is not None
    True
    """
    getattr(fn_or_op, "op", fn_or_op).vjp = _rules(rules, all_inputs)


def defjvp(fn_or_op, *rules, all_inputs=None) -> None:
    """Give an op its forward-mode rules, written in eagerflow ops.

    ``rules`` holds one rule per tensor input, ``rule(t, ans, *inputs, **params) -> the
    output's tangent for the input tangent t`` (None where the input has no effect); the
    engine sums the contributions of the inputs that carry a tangent. ``all_inputs=rule``
    instead gets ``rule(tangents, ans, *inputs, **params)`` with None for inputs without one.
    An op without a JVP rule is differentiated forward by transposing its VJP (two reverse
    passes over that one op).

    >>> import eagerflow_core as ef
    >>> ef.exp.op.jvp is not None
    True
    """
    getattr(fn_or_op, "op", fn_or_op).jvp = _rules(rules, all_inputs)


class Masked:
    """A cotangent that is structurally zero where ``mask`` is False (made by ``where``'s rule).

    Elementwise gradient rules applied to it keep those positions at exactly zero instead of
    multiplying the zero by a local derivative that may be inf or NaN there: the gradient of
    ``ef.where(x > 0, ef.sqrt(x), 0.0)`` at ``x = 0`` is 0, not NaN (pytorch#52248, jax#1052),
    without the double-``where`` trick. The function does not depend on the unselected branch
    at those positions, so zero is the exact answer, not an approximation.
    """

    __slots__ = ("value", "mask")

    def __init__(self, value, mask):
        self.value = value
        self.mask = mask


class _Functions:
    """``F.exp``, ``F.sum``, ``F.linalg.inv``...: the public functions of registered ops (and
    the helpers ``ops/_define.py`` exposes, such as ``zeros_like``), looked up by name when a
    rule runs and cached."""

    def __init__(self, prefix=""):
        self._prefix = prefix

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        full = self._prefix + name
        fn = HELPERS.get(full)
        if fn is None:
            op = OPS.get(full)
            fn = op.fn if op is not None else None
        if fn is None:
            if any(k.startswith(full + ".") for k in OPS):
                fn = _Functions(full + ".")
            else:
                raise AttributeError(f"no op or helper named {full!r}")
        setattr(self, name, fn)
        return fn


#: Public functions by name for gradient rules (see the module docstring).
F = _Functions()
#: Functions that are not ops but rules use (``zeros_like``, ``ones_like``...), by name.
HELPERS: dict[str, Callable] = {}
