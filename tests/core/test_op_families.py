"""The op families do not import each other (issue #10).

Each family file in ``eagerflow_core/ops`` defines its ops and their gradient rules; a rule or
a public function that needs another family's op reaches it through ``_registry.F`` (by name,
when it runs), so that no family depends on another at import time, not even inside a
function. Shared helpers live in the ``_``-prefixed modules, which import no family either.
"""

from __future__ import annotations

import ast
import pathlib

OPS_DIR = pathlib.Path(__file__).resolve().parents[2] / "eagerflow_core" / "ops"
FAMILIES = {p.stem for p in OPS_DIR.glob("*.py")
            if not p.stem.startswith("_") and p.stem != "operators"}


def _imported_families(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module is None:  # from . import x, y
                found |= {a.name for a in node.names}
            else:  # from .x import f
                found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.startswith("eagerflow_core.ops."):
            found.add(node.module.split(".")[2])
    return found & FAMILIES


def test_the_families_are_found():
    assert {"elementwise", "statistical", "manipulation", "linalg"} <= FAMILIES


def test_no_op_module_imports_a_family():
    offenders = {p.stem: sorted(_imported_families(p)) for p in OPS_DIR.glob("*.py")
                 if p.stem != "__init__" and _imported_families(p)}
    assert not offenders, f"op modules importing op families (use _registry.F): {offenders}"
