"""The op registry: one ``OpDef`` per op, defined once in ``eagerflow_core/ops``.

An OpDef holds what the core knows about an op: its name, its dtype rule, its shape rule, and
(filled by the autodiff module) its gradient rules. It holds no kernel: kernels live in each
backend's table under the op's name.
"""

from __future__ import annotations

from typing import Callable

from ._dtypes import ALL_DTYPES, DType

#: Every op, by name ("add", "sum", "linalg.inv", ...).
OPS: dict[str, "OpDef"] = {}


class OpDef:
    """One op. Families build these with :func:`defop`, :func:`unary_op` or :func:`binary_op`.

    ``table`` (elementwise ops only) maps an input dtype (after promotion) to a pair
    ``(compute_dtype, result_dtype)``: inputs are cast to ``compute_dtype`` before the kernel runs
    and the kernel's result is the ``result_dtype``. The table is precomputed, so the dispatch
    fast path does one dict lookup for the dtype rule.
    """

    __slots__ = ("name", "family", "kind", "nin", "dtype_rule", "shape_rule", "promote",
                 "scalar_inputs", "table", "accepts", "doc", "differentiable", "vjp", "jvp",
                 "variadic", "nout", "posparams", "needs_kernel", "rule_cache", "internal", "__weakref__")

    def __init__(self, name, *, family, kind="general", nin=1, dtype_rule=None, shape_rule=None,
                 promote=False, scalar_inputs=False, table=None, accepts="", doc="",
                 differentiable=True, variadic=False, nout=1, posparams=(), needs_kernel=True,
                 internal=False):
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
        self.vjp = None                   # set by defvjp: one rule per input, or one for all
        self.jvp = None
        self.variadic = variadic
        self.nout = nout
        self.posparams = posparams        # params the standard makes positional-only, in order
        self.needs_kernel = needs_kernel  # False: the core runs it itself (to_device)
        self.rule_cache = {}              # dtype -> result dtype, for param-free binary ops
        self.internal = internal          # used by gradient rules; no public function

    def __repr__(self):
        return f"<op {self.name}>"


def _register(op: OpDef) -> OpDef:
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} is defined twice")
    OPS[op.name] = op
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
          internal=False) -> OpDef:
    """Define a general (non-elementwise) op and register it.

    The kernel is called as the Array API standard spells the function: tensor inputs first
    (one list of them if ``variadic``), then the ``posparams`` positionally, then the other
    params as keywords.
    """
    return _register(OpDef(name, family=family, nin=nin, dtype_rule=dtype_rule,
                           shape_rule=shape_rule, promote=promote, scalar_inputs=scalar_inputs,
                           doc=doc, differentiable=differentiable, variadic=variadic, nout=nout,
                           posparams=posparams, needs_kernel=needs_kernel, internal=internal))


def def_elementwise(name: str, *, family: str, nin: int, rule, accepts: str, doc: str = "",
                    differentiable=True, shape_rule=None) -> OpDef:
    """Define a unary (nin=1) or binary (nin=2) elementwise op from a dtype rule."""
    return _register(OpDef(name, family=family, kind="unary" if nin == 1 else "binary", nin=nin,
                           table=elementwise_table(rule), accepts=accepts, doc=doc,
                           differentiable=differentiable, shape_rule=shape_rule))


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
    op = getattr(fn_or_op, "op", fn_or_op)
    if all_inputs is not None:
        op.vjp = ("all", all_inputs)
    else:
        op.vjp = ("each", rules)
