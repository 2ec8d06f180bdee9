"""The core's import graph has no cycle (issue #10).

The layers read bottom-up: errors -> state -> dtypes -> plugins -> devices -> registry -> tensor
-> conversion -> dispatch and interpreters -> ops -> autodiff -> nn, layers, ... -> the public
face (``__init__.py``), the one module that imports everything. A module that needs something
above it receives it (a hook set at import of the upper module, ``_state.hooks``); it does not
import it, not even inside a function. Every import statement counts, function-level ones too.
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = "eagerflow_core"
# Above the face: they import ``eagerflow_core`` as users do.
ABOVE_THE_FACE = ("eagerflow_core.testing", "eagerflow_core.cli", "eagerflow_core.__main__")


def _modules() -> dict[str, pathlib.Path]:
    mods = {}
    for path in (ROOT / PACKAGE).rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        mods[name] = path
    return mods


def _targets(mod: str, path: pathlib.Path, node, mods) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    if node.level:
        parts = base.split(".")
        base = ".".join(parts[: len(parts) - (node.level - 1)])
        target = base + ("." + node.module if node.module else "")
    else:
        target = node.module or ""
    subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in mods]
    # `from . import x` names module x only; `from .m import f` needs m.
    return subs if len(subs) == len(node.names) else subs + [target]


def _runtime_nodes(tree):
    """Every node but those under ``if TYPE_CHECKING:`` (imports for type hints only)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                todo.extend(child.orelse)
                continue
            todo.append(child)


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    graph = {}
    for mod, path in mods.items():
        edges = set()
        for node in _runtime_nodes(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for t in _targets(mod, path, node, mods):
                    while t and t not in mods:
                        t = t.rpartition(".")[0]
                    if t and t != mod and t.startswith(PACKAGE):
                        edges.add(t)
            elif (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__"
                  and node.args and isinstance(node.args[0], ast.Constant)):
                edges.add(node.args[0].value)
        graph[mod] = edges
    return graph


def cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_core_import_graph_has_no_cycle():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_only_modules_above_the_face_import_the_face():
    graph = import_graph()
    offenders = sorted(m for m, edges in graph.items()
                       if PACKAGE in edges and m != PACKAGE and not m.startswith(ABOVE_THE_FACE))
    assert not offenders, f"modules below the face import eagerflow_core itself: {offenders}"


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
