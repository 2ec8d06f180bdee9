"""The op registry and the public namespace, against the Array API 2024.12 standard.

The standard's names are data, not a list kept here: ``tests/data/array_api_2024_12.json``
holds every function of the main namespace, the ``linalg`` and ``fft`` extensions, the
inspection methods, constants, dtypes and array attributes and methods, as the standard's pages
list them (the file names its source). Every one must exist, carrying its op where it is one;
and every registered op must be the standard's or one of eagerflow's own additions, which
``tests/data/eagerflow_additions.json`` lists by family or name, with the reason.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest

import eagerflow_core as ef
from eagerflow_core._dtypes import DType
from eagerflow_core._registry import OPS

DATA = Path(__file__).resolve().parents[1] / "data"
STANDARD = json.loads((DATA / "array_api_2024_12.json").read_text())
ADDITIONS = json.loads((DATA / "eagerflow_additions.json").read_text())

MAIN = [(section, name) for section, page in STANDARD["main"].items()
        for name in page["functions"]]
EXTENSIONS = [(space, name) for space, page in STANDARD["extensions"].items()
              for name in page["functions"]]
ARRAY_METHODS = STANDARD["array_object"]["methods"]

# ef.fft, the standard's fft extension, is issue #8 item 1: until it lands, its names fail here
# as expected (strict: once ef.fft exists they must pass).
PENDING = {"fft": pytest.mark.xfail(not hasattr(ef, "fft"), strict=True,
                                    reason="ef.fft is not there yet (issue #8 item 1)")}
# Standard functions that are helpers over an op of the same name rather than the op itself.
HELPER_OVER_OP = {"asarray": "ef.asarray converts host data itself and calls the asarray op "
                             "only to copy onto a device"}
# Ops reached through a Tensor method or operator (the standard's array methods).
TENSOR_METHOD_OPS = {"to_device": "to_device", "getitem": "__getitem__", "setitem": "__setitem__"}


def public_function(op_name):
    """The public function of a registered op: ``ef.<name>``, ``ef.<space>.<name>`` for
    ``"<space>.<name>"``, or its Tensor method."""
    if op_name in TENSOR_METHOD_OPS:
        return getattr(ef.Tensor, TENSOR_METHOD_OPS[op_name], None)
    space, _, short = op_name.rpartition(".")
    return getattr(getattr(ef, space, None) if space else ef, short, None)


def standard_op_names() -> set:
    """The registry names the standard's functions and array methods would have."""
    names = {name for _, name in MAIN}
    names |= {f"{space}.{name}" for space, name in EXTENSIONS}
    names |= {m.strip("_") for m in ARRAY_METHODS}  # __getitem__ -> getitem, to_device
    return names


def addition(op) -> str | None:
    """Why ``op`` is one of eagerflow's own (None: it is not listed)."""
    if op.internal:
        return "internal (used by gradient rules, no public function)"
    if op.family in ADDITIONS["families"]:
        return ADDITIONS["families"][op.family]
    for group in ADDITIONS["names"].values():
        if op.name in group["ops"]:
            return group["why"]
    return None


def _op_of(space, name):
    """The registered op a standard function is, if any: ``linalg.inv``, or ``matmul`` for
    ``linalg.matmul`` (the extension re-exports a main-namespace op)."""
    for candidate in ([f"{space}.{name}", name] if space else [name]):
        if candidate in OPS:
            return OPS[candidate]
    return None


def _check_function(fn, qualified, op):
    assert callable(fn), f"{qualified} (Array API 2024.12) is missing"
    if op is not None and op.name not in HELPER_OVER_OP:
        assert getattr(fn, "op", None) is op, f"{qualified} is not the public function of {op!r}"


# -- the standard's names exist -----------------------------------------------------------------

@pytest.mark.parametrize("section, name", MAIN, ids=[f"{s}:{n}" for s, n in MAIN])
def test_array_api_main_namespace(section, name):
    _check_function(getattr(ef, name, None), f"ef.{name} ({section})", _op_of("", name))
    assert name in ef.__all__


@pytest.mark.parametrize("space, name", [pytest.param(s, n, marks=PENDING.get(s, ()))
                                         for s, n in EXTENSIONS],
                         ids=[f"{s}.{n}" for s, n in EXTENSIONS])
def test_array_api_extensions(space, name):
    namespace = getattr(ef, space, None)
    assert namespace is not None, f"ef.{space} (Array API 2024.12 extension) is missing"
    _check_function(getattr(namespace, name, None), f"ef.{space}.{name}", _op_of(space, name))
    assert name in namespace.__all__


def test_inspection_constants_dtypes_and_version():
    info = ef.__array_namespace_info__()
    for method in STANDARD["inspection"]["methods"]:
        assert callable(getattr(info, method, None)), f"__array_namespace_info__().{method}"
    for name in STANDARD["constants"]["names"]:
        assert hasattr(ef, name), f"ef.{name} (constant)"
    assert ef.e == pytest.approx(2.718281828459045) and ef.pi == pytest.approx(3.141592653589793)
    assert ef.inf == float("inf") and ef.nan != ef.nan and ef.newaxis is None
    for name in STANDARD["data_types"]["names"] + ["float16", "bfloat16"]:
        dt = getattr(ef, name)
        assert type(dt) is DType and dt.name == name
    assert ef.bool is not bool
    assert STANDARD["version_attribute"] == ["__array_api_version__"]
    assert ef.__array_api_version__ == STANDARD["version"] == "2024.12"


@pytest.mark.parametrize("name", STANDARD["array_object"]["attributes"] + ARRAY_METHODS)
def test_array_object_attributes_and_methods(name):
    assert hasattr(ef.Tensor, name), f"ef.Tensor.{name} (Array API 2024.12 array object)"


# -- every registered op is the standard's or eagerflow's own -----------------------------------

@pytest.mark.parametrize("name", sorted(OPS))
def test_registered_op_is_the_standards_or_an_addition(name):
    if name in standard_op_names():
        return
    assert addition(OPS[name]) is not None, (
        f"op {name!r} (family {OPS[name].family!r}) is neither in the Array API 2024.12 "
        f"standard (tests/data/array_api_2024_12.json) nor one of eagerflow's own additions: "
        f"list it (or its family) in tests/data/eagerflow_additions.json, with the reason")


def test_additions_name_registered_ops():
    for group, entry in ADDITIONS["names"].items():
        assert entry["ops"] == sorted(entry["ops"]), f"{group}: keep the list sorted"
        stale = [n for n in entry["ops"] if n not in OPS]
        assert not stale, f"eagerflow_additions.json, {group}: {stale} are not registered ops"
        clash = [n for n in entry["ops"] if n in standard_op_names()]
        assert not clash, f"eagerflow_additions.json, {group}: {clash} are the standard's"
    assert all(isinstance(why, str) and why for why in ADDITIONS["families"].values())


def test_the_standard_file_is_complete():
    # a few anchors of each page, so that a broken file cannot pass quietly
    sections = {page: len(STANDARD["main"][page]["functions"]) for page in STANDARD["main"]}
    assert sections["elementwise"] == 67 and sections["creation"] == 16
    assert sum(sections.values()) == 134
    assert len(STANDARD["extensions"]["linalg"]["functions"]) == 23
    assert len(STANDARD["extensions"]["fft"]["functions"]) == 14
    assert "__getitem__" in ARRAY_METHODS and "mT" in STANDARD["array_object"]["attributes"]
    for page in [*STANDARD["main"].values(), *STANDARD["extensions"].values()]:
        assert fnmatch.fnmatch(page["url"], "https://data-apis.org/array-api/2024.12/*.html")


# -- every registered op is complete --------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(OPS))
def test_op_has_dtype_rule_doc_and_public_function(name):
    op = OPS[name]
    assert op.name == name and op.family
    assert op.dtype_rule is not None or op.table, f"{name}: no dtype rule and no dtype table"
    assert op.doc and op.doc.strip() == op.doc.splitlines()[0].strip(), f"{name}: no doc line"
    if op.internal:  # used by gradient rules (index_add), or kernels that ef.random draws
        # through: no public function is the op itself (ef.random.normal wraps random.normal)
        assert getattr(public_function(name), "op", None) is not op, f"{name} is internal"
        return
    fn = public_function(name)
    assert callable(fn), f"{name}: no public function ef.{name}"
    op_of_fn = getattr(fn, "op", op)
    assert op_of_fn is op, f"ef.{name} is the public function of {op_of_fn!r}, not of {op!r}"


@pytest.mark.parametrize("name", sorted(n for n in OPS if OPS[n].table))
def test_elementwise_table_is_well_formed(name):
    table = OPS[name].table
    for dt, (compute, result) in table.items():
        assert type(dt) is DType and type(compute) is DType and type(result) is DType
    assert OPS[name].kind in ("unary", "binary") and OPS[name].nin in (1, 2)


def test_an_op_cannot_be_defined_twice():
    from eagerflow_core._registry import defop
    with pytest.raises(ValueError, match="'add' is defined twice"):
        defop("add", family="elementwise", dtype_rule=lambda d: d)
    assert OPS["add"] is ef.add.op


@pytest.mark.parametrize("name", ["constant", "equal", "matmul", "asarray", "device", "devices",
                                  "backends", "Tensor"])
def test_framework_names(name):
    assert callable(getattr(ef, name, None)), f"ef.{name} is missing"


def test_public_all_is_importable():
    missing = [n for n in ef.__all__ if not hasattr(ef, n)]
    assert missing == []
    assert len(ef.__all__) == len(set(ef.__all__)), "a name is exported twice"


def test_public_functions_carry_a_doctest_example():
    # Every public function of a registered op documents itself with a runnable example.
    lacking = [name for name in sorted(OPS) if name not in TENSOR_METHOD_OPS
               and callable(public_function(name))
               and ">>> " not in (public_function(name).__doc__ or "")]
    # Elementwise one-liners share their family's examples; general ops must each have one.
    general = [n for n in lacking if OPS[n].kind == "general"]
    assert general == [], f"general ops without a doctest example: {general}"
