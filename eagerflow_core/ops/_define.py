"""Builders that turn an op definition into the public function users call.

Each op is declared once, in one short block of its family file::

    exp = unary("exp", R.floating, "Exponential e**x, element-wise.")

The builder registers the OpDef and returns a plain function whose ``.op`` attribute is that
OpDef; the Tensor operators and the autodiff rules find the op through it.
"""

from __future__ import annotations

import inspect
from typing import Callable

from .. import _dispatch
from .._registry import HELPERS, def_elementwise
from . import _rules as R

SPEC = "https://data-apis.org/array-api/2024.12/API_specification/generated/array_api.{}.html"


def _finish(fn, name, op, doc, example):
    fn.__name__ = fn.__qualname__ = name.rpartition(".")[2]
    # doctest collects a function only from the module its __module__ names.
    # (Extension ops are named "<extension>.<name>": "linalg.inv" lives in eagerflow_core.linalg.)
    space = name.rpartition(".")[0]
    fn.__module__ = f"eagerflow_core.{space}" if space else "eagerflow_core"
    text = inspect.cleandoc(doc)
    if example:
        text += "\n\n" + inspect.cleandoc(example)
    fn.__doc__ = text
    fn.op = op
    op.fn = fn
    op.doc = text.splitlines()[0] if text else ""
    return fn


def unary(name: str, rule, doc: str, *, example: str = "", differentiable=True,
          family="elementwise") -> Callable:
    """Define a one-input elementwise op and return its public function ``f(x, /)``."""
    op = def_elementwise(name, family=family, nin=1, rule=rule, accepts=R.ACCEPTS[rule],
                         doc=doc, differentiable=differentiable, shape_rule=R.same_shape)
    call = _dispatch.call_unary

    def fn(x, /):
        return call(op, x)
    return _finish(fn, name, op, doc, example)


def binary(name: str, rule, doc: str, *, example: str = "", differentiable=True,
           family="elementwise") -> Callable:
    """Define a two-input broadcasting elementwise op and return ``f(x1, x2, /)``.

    Either input may be a Python scalar, which is weak: it takes the tensor's dtype.
    """
    op = def_elementwise(name, family=family, nin=2, rule=rule, accepts=R.ACCEPTS[rule],
                         doc=doc, differentiable=differentiable, shape_rule=R.broadcast_rule)
    call = _dispatch.call_binary

    def fn(x1, x2, /):
        return call(op, x1, x2)
    return _finish(fn, name, op, doc, example)


def public(op, doc: str = "", example: str = ""):
    """Decorator for a general op's public function: sets its name, docs and ``.op``."""
    def deco(fn):
        return _finish(fn, op.name, op, doc or fn.__doc__ or op.doc, example)
    return deco


def helper(fn):
    """Expose a public function that is not an op (``zeros_like``) to gradient rules, as
    ``F.<name>`` (see ``_registry.F``)."""
    HELPERS[fn.__name__] = fn
    return fn
