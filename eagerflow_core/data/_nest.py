"""Nested structures of a dataset's elements: tuples (namedtuples too) and dicts of leaves.

As in ``tf.nest``: a tuple or a dict is structure, anything else is a leaf (a list is a leaf
that ``from_tensor_slices`` turns into one tensor). Dicts flatten in sorted key order, so two
dicts with the same keys flatten alike whatever their insertion order, and are rebuilt in the
template's own key order.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterator
from typing import Any

from .._errors import InvalidArgumentError


def _keys(d: dict) -> list:
    try:
        return sorted(d)
    except TypeError:  # keys of mixed types: insertion order is the only order there is
        return list(d)


def _rebuild(template, values: list):
    if isinstance(template, dict):
        by_key = dict(zip(_keys(template), values))
        return type(template)((k, by_key[k]) for k in template)
    if hasattr(template, "_fields"):  # a namedtuple keeps its type
        return type(template)(*values)
    return tuple(values)


def _children(s):
    return [s[k] for k in _keys(s)] if isinstance(s, dict) else list(s)


def flatten(s) -> list:
    """The leaves of ``s`` in a fixed order."""
    if isinstance(s, (tuple, dict)):
        out = []
        for child in _children(s):
            out.extend(flatten(child))
        return out
    return [s]


def pack(template, leaves) -> Any:
    """``leaves`` (in ``flatten`` order) arranged as ``template``."""
    return _pack(template, iter(leaves))


def packer(template) -> Callable[[list], Any]:
    """``pack`` for one template, as a function; the common flat shapes skip the walk."""
    if not isinstance(template, (tuple, dict)):
        return operator.itemgetter(0)
    if type(template) is tuple and not any(isinstance(c, (tuple, dict)) for c in template):
        return tuple
    return functools.partial(pack, template)


def _pack(template, it: Iterator):
    if isinstance(template, (tuple, dict)):
        return _rebuild(template, [_pack(c, it) for c in _children(template)])
    return next(it)


def map_structure(fn: Callable, s):
    """``s`` with ``fn`` applied to every leaf."""
    if isinstance(s, (tuple, dict)):
        return _rebuild(s, [map_structure(fn, c) for c in _children(s)])
    return fn(s)


def paths(s, prefix: str = "") -> list[str]:
    """A printable path for each leaf, in ``flatten`` order: ``[0]``, ``['image']``..."""
    if isinstance(s, (tuple, dict)):
        out = []
        keys = _keys(s) if isinstance(s, dict) else range(len(s))
        for k in keys:
            out.extend(paths(s[k], f"{prefix}[{k!r}]"))
        return out
    return [prefix]


def at(index: int, path: str) -> str:
    """Where a leaf is, for messages: ``element 3, component ['image']`` (or ``element 3``)."""
    return f"element {index}, component {path}" if path else f"element {index}"


def component(path: str) -> str:
    return f"component {path}" if path else "the tensor"


def same_structure(a, b) -> bool:
    """Whether ``a`` and ``b`` nest alike (leaves may differ)."""
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)) or _keys(a) != _keys(b):
            return False
    elif isinstance(a, tuple) or isinstance(b, tuple):
        if not (isinstance(a, tuple) and isinstance(b, tuple)) or len(a) != len(b):
            return False
    else:
        return True
    return all(same_structure(x, y) for x, y in zip(_children(a), _children(b)))


def describe(s) -> str:
    """The shape of a structure in words, leaves as ``*``: ``(*, {'a': *})``."""
    return repr(map_structure(lambda _: _Star(), s))


class _Star:
    def __repr__(self):
        return "*"


def flatten_up_to(template, s, what: str) -> list:
    """``s`` flattened as deep as ``template`` nests: ``s``'s parts under a leaf of
    ``template`` (a shape, say) stay whole. A list in ``s`` is a leaf, as everywhere here."""
    if isinstance(template, dict):
        if not isinstance(s, dict) or _keys(s) != _keys(template):
            raise _mismatch(template, s, what)
    elif isinstance(template, tuple):
        if not isinstance(s, tuple) or len(s) != len(template):
            raise _mismatch(template, s, what)
    else:
        return [s]
    out = []
    for t, c in zip(_children(template), _children(s)):
        out.extend(flatten_up_to(t, c, what))
    return out


def _mismatch(template, s, what):
    return InvalidArgumentError(f"{what}: {s!r} does not match the elements' structure "
                                f"{describe(template)}")
