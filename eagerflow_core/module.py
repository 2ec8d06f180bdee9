"""``ef.Module``: an object that owns Variables and other Modules (TensorFlow's ``tf.Module``).

A Module finds its state by walking its attributes when asked, as ``tf.Module`` does: every
Variable and Module held by an attribute, directly or inside (nested) lists, tuples and dicts,
belongs to it. Nothing has to be registered, so a list that grows after it was assigned, or a
Variable created on the first call (lazily built layers), is found all the same.

Order is deterministic: a Module's own Variables first, in attribute order (the order in which
the attributes were first assigned, then list order and dict insertion order), then each
sub-Module's, depth first in the order they were met (PyTorch's ``parameters()`` order; Keras'
``[kernel, bias]`` for a layer). An object reachable twice is listed once, where first met.

Checkpoints (``ef.train``) walk the same graph by attribute path through
``_checkpoint_children()``, and restore values into Variables that do not exist yet through
the deferred-restore hook: ``_ef_defer(name, node)`` parks a value (or a subtree of values)
under an attribute name, and the moment that attribute is assigned, or the Module is walked
with it present, the Module hands the new value to ``node._ef_bind(value)``.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict

from .autodiff.variable import Variable

_uids: defaultdict[str, int] = defaultdict(int)
_uid_lock = threading.Lock()
_CONTAINERS = (list, tuple, dict)


def _snake_case(name: str) -> str:
    """Keras' ``to_snake_case``: ``BatchNormalization`` -> ``batch_normalization``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _unique_name(base: str) -> str:
    """``base``, then ``base_1``, ``base_2``... (Keras' automatic layer names)."""
    with _uid_lock:
        n = _uids[base]
        _uids[base] += 1
    return base if n == 0 else f"{base}_{n}"


class Module:
    """A container of Variables and sub-Modules, found by walking its attributes.

    Subclass it and assign Variables, Modules, or lists/tuples/dicts of them as attributes;
    ``__call__`` is yours to write, with any Python control flow.

    >>> import eagerflow_core as ef
    >>> class Affine(ef.Module):
    ...     def __init__(self, n, name=None):
    ...         super().__init__(name=name)
    ...         self.w = ef.Variable(ef.ones((n, n)), name="w")
    ...         self.b = ef.Variable(ef.zeros((n,)), name="b")
    ...         self.calls = ef.Variable(0, trainable=False, name="calls")
    ...     def __call__(self, x):
    ...         self.calls.assign_add(1)
    ...         return x @ self.w + self.b
    >>> class Net(ef.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.blocks = [Affine(2, name="first"), Affine(2, name="second")]
    ...     def __call__(self, x, depth=2):
    ...         for block in self.blocks[:depth]:
    ...             x = block(x)
    ...         return x
    >>> net = Net()
    >>> net(ef.ones((1, 2)))
    ef.Tensor([[4., 4.]], shape=(1, 2), dtype=float32, device='cpu:0')
    >>> [v.name for v in net.trainable_variables]
    ['w', 'b', 'w', 'b']
    >>> len(net.non_trainable_variables), [m.name for m in net.submodules]
    (2, ['first', 'second'])
    """

    def __init__(self, name: str | None = None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Module name must be a str, got {type(name).__name__}")
        object.__setattr__(self, "_ef_name",
                           name if name is not None else _unique_name(
                               _snake_case(type(self).__name__)))

    # -- identity ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The Module's name: given, or the class name in snake case made unique (``dense``,
        ``dense_1``...), as Keras names layers."""
        name = self.__dict__.get("_ef_name")
        if name is None:  # a subclass that did not call super().__init__()
            name = _unique_name(_snake_case(type(self).__name__))
            object.__setattr__(self, "_ef_name", name)
        return name

    @name.setter
    def name(self, value: str) -> None:
        object.__setattr__(self, "_ef_name", str(value))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"

    # -- what it owns --------------------------------------------------------------------------
    @property
    def variables(self) -> list[Variable]:
        """Every Variable of this Module and its sub-Modules, each once."""
        return _flatten(self)[0]

    @property
    def trainable_variables(self) -> list[Variable]:
        """The Variables that are trainable and not held by a Module whose ``trainable``
        attribute is False (Keras' frozen layers)."""
        return _flatten(self)[1]

    @property
    def non_trainable_variables(self) -> list[Variable]:
        """``variables`` minus ``trainable_variables``, in the same order."""
        every, trainable, _ = _flatten(self)
        chosen = {id(v) for v in trainable}
        return [v for v in every if id(v) not in chosen]

    @property
    def submodules(self) -> list["Module"]:
        """Every Module reachable from this one (not itself), each once, depth first."""
        return _flatten(self)[2]

    # -- the hooks walks and checkpoints use ---------------------------------------------------
    def _tracked_children(self) -> list[tuple[str, object]]:
        """``(attribute name, value)`` for each attribute holding a Variable, a Module or a
        container, in attribute order: what ``variables`` and ``submodules`` walk. Attributes
        whose names start with ``_ef_`` are the framework's own bookkeeping, never walked."""
        return [(k, v) for k, v in self.__dict__.items()
                if not k.startswith("_ef_") and isinstance(v, _TRACKABLE)]

    def _checkpoint_children(self) -> list[tuple[str, object]]:
        """What a checkpoint saves by attribute path; ``_tracked_children()`` unless a subclass
        saves some state another way (an optimizer's slots are keyed by their variable)."""
        return self._tracked_children()

    def _ef_defer(self, name: str, node) -> None:
        """Park restore data for attribute ``name``: ``node._ef_bind(value)`` is called with the
        attribute's value when it is assigned (or found by a walk), and the node is dropped when
        that call returns True (nothing left to restore below it)."""
        pending = self.__dict__.get("_ef_pending")
        if pending is None:
            pending = {}
            object.__setattr__(self, "_ef_pending", pending)
        pending[name] = node

    def _ef_resolve_deferred(self) -> None:
        """Hand each parked node the attribute it waits for, where that attribute now exists
        (a Variable appended to a list after the restore, say)."""
        pending = self.__dict__.get("_ef_pending")
        for name in [n for n in pending or () if n in self.__dict__]:
            self._ef_bind(name)

    def _ef_bind(self, name: str) -> None:
        pending = self.__dict__["_ef_pending"]
        node = pending.pop(name)
        if not node._ef_bind(self.__dict__[name]):
            pending.setdefault(name, node)  # something below it still waits

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        pending = self.__dict__.get("_ef_pending")
        if pending and name in pending:
            self._ef_bind(name)


_TRACKABLE = (Variable, Module, *_CONTAINERS)


def _children(obj):
    """The trackable objects directly inside a container (values of a dict, items of a list)."""
    items = obj.values() if isinstance(obj, dict) else obj
    return [x for x in items if isinstance(x, _TRACKABLE)]


def _flatten(root: Module):
    """``(variables, trainable variables, submodules)`` below ``root``, in the documented
    order; parked deferred restores are resolved on the way."""
    every, trainable, modules = [], [], []
    seen = {id(root)}

    def visit(module: Module, frozen: bool) -> None:
        if module.__dict__.get("_ef_pending"):
            module._ef_resolve_deferred()
        frozen = frozen or getattr(module, "trainable", True) is False
        found = []  # sub-Modules, in the order met
        stack = [v for _, v in reversed(module._tracked_children())]
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, Variable):
                every.append(obj)
                if obj.trainable and not frozen:
                    trainable.append(obj)
            elif isinstance(obj, Module):
                found.append(obj)
            else:
                stack.extend(reversed(_children(obj)))
        for sub in found:
            modules.append(sub)
            visit(sub, frozen)

    visit(root, False)
    return every, trainable, modules
