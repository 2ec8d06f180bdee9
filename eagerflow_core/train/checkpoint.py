"""``ef.train.Checkpoint``: save and restore an object graph by attribute path.

What is saved is every Variable reachable from the checkpoint's objects, keyed by the path of
attribute names, list indices and dict keys that reaches it first breadth first (its shortest
path, as TensorFlow does): ``model/layers/0/kernel``, ``optimizer/iterations``. An optimizer's
slots are keyed by the path of the variable they belong to, then the optimizer's:
``model/layers/0/kernel/.OPTIMIZER_SLOT/optimizer/momentum``, so they restore into another
optimizer instance whatever order it meets its variables in. Path components are escaped as in
TensorFlow (``.`` -> ``..``, ``/`` -> ``.S``).

Restoring matches the checkpoint's tree against the program's object graph. A value whose
object does not exist yet (a layer that builds its Variables on its first call, an optimizer
that makes its slots on its first step) is kept and assigned the moment that object appears:
the nearest existing Module holds it (``Module._ef_defer``) and hands it over when the
attribute is assigned; the optimizer holds a slot's value until it makes that slot.
"""

from __future__ import annotations

import os
import re
import time
from collections import deque

import numpy as np

from .._errors import ArgumentTypeError, DTypeError, InvalidArgumentError, ShapeError
from ..autodiff.variable import Variable
from ..module import _TRACKABLE, Module
from . import _io

SLOT = ".OPTIMIZER_SLOT"


def _escape(name: str) -> str:
    return name.replace(".", "..").replace("/", ".S")


def _unescape(name: str) -> str:
    return re.sub(r"\.(.)", lambda m: "/" if m.group(1) == "S" else m.group(1), name)


def _named_children(obj) -> list[tuple[str, object]]:
    """``(escaped name, child)`` for each Variable / Module / container directly in ``obj``."""
    if isinstance(obj, Module):
        items = obj._checkpoint_children()
    elif isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if isinstance(v, _TRACKABLE) and (isinstance(k, bool) or not isinstance(k, (str, int))):
                raise ArgumentTypeError(f"Checkpoint: a dict key must be a str or an int to be "
                                        f"part of a path; {k!r} holds a {type(v).__name__}")
            items.append((str(k), v))
    elif isinstance(obj, (list, tuple)):
        items = [(str(i), v) for i, v in enumerate(obj)]
    else:
        return []
    return [(_escape(k), v) for k, v in items if isinstance(v, _TRACKABLE)]


def _gather(root) -> dict[str, Variable]:
    """``{key: Variable}`` for everything ``root`` saves (breadth first: shortest paths)."""
    out, var_keys, optimizers = {}, {}, []
    seen = {id(root)}
    queue = deque([("", root)])
    while queue:
        prefix, obj = queue.popleft()
        if hasattr(obj, "_checkpoint_slots"):
            optimizers.append((prefix, obj))
        for name, child in _named_children(obj):
            if id(child) in seen:
                continue
            seen.add(id(child))
            key = f"{prefix}/{name}" if prefix else name
            if isinstance(child, Variable):
                out[key] = child
                var_keys[id(child)] = key
            else:
                queue.append((key, child))
    for prefix, opt in optimizers:
        for var, slot_name, slot in opt._checkpoint_slots():
            vkey = var_keys.get(id(var))
            if vkey is not None:  # a variable this checkpoint does not save: nor its slots
                out[f"{vkey}/{SLOT}/{prefix}/{_escape(slot_name)}"] = slot
    return out


# -- restoring ------------------------------------------------------------------------------

class _Node:
    """The checkpoint's values at and below one path, waiting for their object."""

    __slots__ = ("session", "path", "key", "children", "slots")

    def __init__(self, session, path):
        self.session, self.path, self.key = session, path, None
        self.children: dict[str, _Node] = {}
        self.slots: list[tuple[str, str, str]] = []  # (optimizer path, slot name, key)

    def _ef_bind(self, obj) -> bool:
        return self.session.bind(self, obj)


class _SlotNode:
    __slots__ = ("session", "key")

    def __init__(self, session, key):
        self.session, self.key = session, key

    def _ef_bind(self, slot: Variable) -> bool:
        self.session.assign(slot, self.key)
        return True


class _Restore:
    """One ``restore`` call: the values read, what has been used, and the matching logic."""

    def __init__(self, root, path: str, values: dict, dtypes: dict):
        self.root, self.path, self.values, self.dtypes = root, path, values, dtypes
        self.keys, self.consumed, self.matched = set(values), set(), set()
        self.tree = _Node(self, "")
        for key in values:
            var_path, _, slot = key.partition(f"/{SLOT}/")
            node = self.tree
            for part in var_path.split("/"):
                if part not in node.children:
                    node.children[part] = _Node(self, f"{node.path}/{part}".lstrip("/"))
                node = node.children[part]
            if slot:
                opt_path, _, slot_name = slot.rpartition("/")
                node.slots.append((opt_path, slot_name, key))
            else:
                node.key = key

    def bind(self, node: _Node, obj) -> bool:
        """Restore ``node``'s values into ``obj``; park on the nearest Module what has no
        object yet. True when nothing below ``node`` is left waiting here."""
        if isinstance(obj, Variable):
            if node.children:
                raise ArgumentTypeError(f"restore {self.path!r}: the checkpoint has objects "
                                        f"under {node.path!r}; the program has a Variable there")
            if node.key is not None:
                self.assign(obj, node.key)
                node.key = None
            node.slots = [s for s in node.slots if not self._bind_slot(obj, s)]
            return not node.slots
        if not isinstance(obj, _TRACKABLE):
            return False  # a placeholder (None): wait for the real object
        if node.key is not None:
            raise ArgumentTypeError(f"restore {self.path!r}: the checkpoint has a Variable at "
                                    f"{node.path!r}; the program has a {type(obj).__name__} "
                                    f"there")
        kids = dict(_named_children(obj))
        for name, child in list(node.children.items()):
            done = name in kids and self.bind(child, kids[name])
            if not done and isinstance(obj, Module):
                obj._ef_defer(name, child)  # restored when that attribute appears
                done = True
            if done:
                del node.children[name]
        return not node.children

    def _bind_slot(self, var: Variable, entry) -> bool:
        opt_path, slot_name, key = entry
        opt = self.root
        for part in opt_path.split("/"):
            opt = dict(_named_children(opt)).get(part)
        if not hasattr(opt, "_ef_defer_slot"):
            return False
        opt._ef_defer_slot(var, _unescape(slot_name), _SlotNode(self, key))
        return True

    def assign(self, var: Variable, key: str) -> None:
        value, saved = self.values[key], self.dtypes[key]
        if value.shape != var.shape or saved != var.dtype.name:
            cls = ShapeError if value.shape != var.shape else DTypeError
            raise cls(f"restore {self.path!r}: the value saved at {key!r} has shape "
                      f"{value.shape} and dtype {saved}, but Variable {var.name!r} there has "
                      f"shape {var.shape} and dtype {var.dtype.name}")
        var.assign(value)
        del self.values[key]  # held only while it waits
        self.consumed.add(key)
        self.matched.add(id(var))


class CheckpointLoadStatus:
    """What ``Checkpoint.restore`` returns: checks of how well the checkpoint matched.

    Values whose objects do not exist yet are restored when they are made; these checks look
    at the moment they are called (after resolving what can be resolved)."""

    def __init__(self, session: _Restore | None):
        self._session = session

    def _check(self, what: str) -> _Restore:
        if self._session is None:
            raise AssertionError(f"{what}: no checkpoint was given (save_path=None); nothing "
                                 f"is being restored")
        _ = self._session.root.variables  # a walk hands parked values to new objects
        return self._session

    def assert_consumed(self) -> "CheckpointLoadStatus":
        """Every value of the checkpoint was restored, and every object matched a value."""
        s = self._check("assert_consumed")
        left = sorted(s.keys - s.consumed)
        if left:
            raise AssertionError(
                f"assert_consumed: {len(left)} value(s) of checkpoint {s.path!r} were not "
                f"restored (their objects do not exist yet: build the model or run an "
                f"optimizer step first, or call expect_partial()): {_some(left)}")
        return self.assert_existing_objects_matched()

    def assert_existing_objects_matched(self) -> "CheckpointLoadStatus":
        """Every Variable that exists now got a value from the checkpoint."""
        s = self._check("assert_existing_objects_matched")
        unmatched = [k for k, v in _gather(s.root).items() if id(v) not in s.matched]
        if unmatched:
            raise AssertionError(f"assert_existing_objects_matched: {len(unmatched)} "
                                 f"Variable(s) have no value in checkpoint {s.path!r}: "
                                 f"{_some(unmatched)}")
        return self

    def assert_nontrivial_match(self) -> "CheckpointLoadStatus":
        """Something besides the save counter was restored."""
        s = self._check("assert_nontrivial_match")
        if not s.consumed - {"save_counter"}:
            raise AssertionError(f"assert_nontrivial_match: nothing in checkpoint {s.path!r} "
                                 f"matched the objects being restored")
        return self

    def expect_partial(self) -> "CheckpointLoadStatus":
        """Say that values left unused are expected (eagerflow does not warn about them)."""
        return self


def _some(keys: list[str], n: int = 8) -> str:
    return ", ".join(map(repr, keys[:n])) + (f" and {len(keys) - n} more" if len(keys) > n else "")


# -- the checkpoint -------------------------------------------------------------------------

class Checkpoint(Module):
    """Groups objects (Modules, Variables, lists and dicts of them) to save and restore.

    >>> import os, tempfile
    >>> import eagerflow_core as ef
    >>> w = ef.Variable([1.0, 2.0])
    >>> ckpt = ef.train.Checkpoint(weights=[w], step=ef.Variable(7))
    >>> path = ckpt.save(os.path.join(tempfile.mkdtemp(), "run"))
    >>> os.path.basename(path)
    'run-1'
    >>> _ = w.assign([0.0, 0.0])
    >>> ckpt.restore(path).assert_consumed().__class__.__name__
    'CheckpointLoadStatus'
    >>> w.numpy()
    array([1., 2.], dtype=float32)
    """

    def __init__(self, **objects):
        super().__init__(name="checkpoint")
        for key, obj in objects.items():
            if key == "save_counter" or key.startswith("_ef_") or hasattr(type(self), key):
                raise InvalidArgumentError(f"Checkpoint: {key!r} is a name Checkpoint uses "
                                           f"itself; give that object another name")
            if not isinstance(obj, _TRACKABLE):
                raise ArgumentTypeError(f"Checkpoint: {key}= must be an ef.Module, an "
                                        f"ef.Variable, or a list/tuple/dict of them; got "
                                        f"{type(obj).__name__}")
            setattr(self, key, obj)
        from .._dtypes import int64
        from ..ops.creation import constant
        self.save_counter = Variable(constant(0, dtype=int64), trainable=False,
                                     name="save_counter")

    def _next_number(self) -> int:
        self.save_counter.assign_add(1)
        return int(self.save_counter)

    def write(self, file_prefix) -> str:
        """Save to ``file_prefix`` (stored in ``file_prefix + ".npz"``), atomically; neither
        numbered nor recorded in the state file. Returns the prefix."""
        prefix = _io.prefix_of(os.fspath(file_prefix))
        values, dtypes = {}, {}
        for key, var in _gather(self).items():
            host = var.numpy()
            if host.dtype.isbuiltin != 1:  # bfloat16: float32 holds it exactly, no pickle
                host = host.astype(np.float32)
            values[key], dtypes[key] = host, var.dtype.name
        _io.write_values(_io.data_path(prefix), values, dtypes)
        return prefix

    def save(self, file_prefix) -> str:
        """Save to ``file_prefix-N`` (N counts this checkpoint's saves, ``save_counter``, which
        is saved too) and record it as the latest in the directory's ``checkpoint`` file.
        Returns the path to pass to ``restore``."""
        path = self.write(f"{os.fspath(file_prefix)}-{self._next_number()}")
        directory = os.path.dirname(path)
        state = _io.read_state(directory) or {}
        earlier = [_io.resolve(directory, p) for p in state.get("all_model_checkpoint_paths", [])]
        every = [p for p in earlier if os.path.normpath(p) != os.path.normpath(path)
                 and os.path.isfile(_io.data_path(p))] + [path]
        stamps = dict(zip(earlier, state.get("all_model_checkpoint_timestamps", [])))
        stamps[path] = time.time()
        _io.write_state(directory, path, every, [stamps.get(p, stamps[path]) for p in every])
        return path

    def restore(self, save_path) -> CheckpointLoadStatus:
        """Restore the values saved at ``save_path`` (what ``save`` returned, or
        ``latest_checkpoint(directory)``; None restores nothing). Values for objects that do
        not exist yet are restored when they are made. Raises on a shape or dtype mismatch,
        naming the path, both shapes and both dtypes."""
        if save_path is None:
            return CheckpointLoadStatus(None)
        save_path = os.fspath(save_path)
        if os.path.isdir(save_path):
            raise InvalidArgumentError(f"restore: {save_path!r} is a directory; pass a "
                                       f"checkpoint path, e.g. ef.train.latest_checkpoint("
                                       f"{save_path!r})")
        prefix = _io.prefix_of(save_path)
        values, dtypes = _io.read_values(_io.data_path(prefix))
        session = _Restore(self, prefix, values, dtypes)
        session.bind(session.tree, self)
        return CheckpointLoadStatus(session)

    read = restore


def latest_checkpoint(checkpoint_dir, latest_filename=None) -> str | None:
    """The path of the newest checkpoint recorded in ``checkpoint_dir``, or None.

    >>> import tempfile
    >>> import eagerflow_core as ef
    >>> ef.train.latest_checkpoint(tempfile.mkdtemp()) is None
    True
    """
    directory = os.fspath(checkpoint_dir)
    state = _io.read_state(directory, latest_filename)
    if state is None:
        return None
    path = _io.resolve(directory, state["model_checkpoint_path"])
    return path if os.path.isfile(_io.data_path(path)) else None
