"""The op registry and the public namespace: every op is complete, and the whole Array API
2024.12 namespace (main, ``linalg`` and ``fft``) is there.

Other families are still being written, so names missing today fail here on purpose: the
list below is the standard's, not what happens to exist.
"""

from __future__ import annotations

import pytest

import eagerflow_core as ef
from eagerflow_core._dtypes import DType
from eagerflow_core._registry import OPS

# -- the Array API 2024.12 main namespace, by the standard's sections -------------------------
ARRAY_API = {
    "creation": [
        "arange", "asarray", "empty", "empty_like", "eye", "from_dlpack", "full", "full_like",
        "linspace", "meshgrid", "ones", "ones_like", "tril", "triu", "zeros", "zeros_like"],
    "data type functions": ["astype", "can_cast", "finfo", "iinfo", "isdtype", "result_type"],
    "elementwise": [
        "abs", "acos", "acosh", "add", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_and",
        "bitwise_left_shift", "bitwise_invert", "bitwise_or", "bitwise_right_shift",
        "bitwise_xor", "ceil", "clip", "conj", "copysign", "cos", "cosh", "divide", "equal",
        "exp", "expm1", "floor", "floor_divide", "greater", "greater_equal", "hypot", "imag",
        "isfinite", "isinf", "isnan", "less", "less_equal", "log", "log1p", "log2", "log10",
        "logaddexp", "logical_and", "logical_not", "logical_or", "logical_xor", "maximum",
        "minimum", "multiply", "negative", "nextafter", "not_equal", "positive", "pow", "real",
        "reciprocal", "remainder", "round", "sign", "signbit", "sin", "sinh", "square", "sqrt",
        "subtract", "tan", "tanh", "trunc"],
    "indexing": ["take", "take_along_axis"],
    "inspection": ["__array_namespace_info__"],
    "linear algebra": ["matmul", "matrix_transpose", "tensordot", "vecdot"],
    "manipulation": [
        "broadcast_arrays", "broadcast_to", "concat", "expand_dims", "flip", "moveaxis",
        "permute_dims", "repeat", "reshape", "roll", "squeeze", "stack", "tile", "unstack"],
    "searching": ["argmax", "argmin", "count_nonzero", "nonzero", "searchsorted", "where"],
    "set": ["unique_all", "unique_counts", "unique_inverse", "unique_values"],
    "sorting": ["argsort", "sort"],
    "statistical": [
        "cumulative_prod", "cumulative_sum", "max", "mean", "min", "prod", "std", "sum", "var"],
    "utility": ["all", "any", "diff"],
}

LINALG = [
    "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm",
    "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv", "qr", "slogdet", "solve",
    "svd", "svdvals", "tensordot", "trace", "vecdot", "vector_norm"]

FFT = [
    "fft", "fftfreq", "fftn", "fftshift", "hfft", "ifft", "ifftn", "ifftshift", "ihfft", "irfft",
    "irfftn", "rfft", "rfftfreq", "rfftn"]

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64", "complex64", "complex128"]

MAIN = [(section, name) for section, names in ARRAY_API.items() for name in names]

# Ops that users reach through a Tensor method or operator rather than a function of ``ef``.
TENSOR_METHOD_OPS = {"to_device": "to_device", "getitem": "__getitem__", "setitem": "__setitem__"}


def public_function(op_name):
    if op_name in TENSOR_METHOD_OPS:
        return getattr(ef.Tensor, TENSOR_METHOD_OPS[op_name], None)
    space, _, short = op_name.rpartition(".")
    return getattr(getattr(ef, space) if space else ef, short, None)


# -- every registered op is complete ----------------------------------------------------------

@pytest.mark.parametrize("name", sorted(OPS))
def test_op_has_dtype_rule_doc_and_public_function(name):
    op = OPS[name]
    assert op.name == name and op.family
    assert op.dtype_rule is not None or op.table, f"{name}: no dtype rule and no dtype table"
    assert op.doc and op.doc.strip() == op.doc.splitlines()[0].strip(), f"{name}: no doc line"
    if op.internal:  # used by gradient rules (index_add): no public function by design
        assert public_function(name) is None, f"{name} is internal but public"
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


def test_registry_has_the_ops_every_family_builds_on():
    for name in ("add", "sum", "matmul", "reshape", "astype", "to_device"):
        assert name in OPS


# -- the standard's namespace -----------------------------------------------------------------

@pytest.mark.parametrize("section, name", MAIN, ids=[f"{s}:{n}" for s, n in MAIN])
def test_array_api_main_namespace(section, name):
    fn = getattr(ef, name, None)
    assert callable(fn), f"ef.{name} ({section} function of the Array API 2024.12) is missing"


@pytest.mark.parametrize("name", LINALG)
def test_array_api_linalg_extension(name):
    fn = getattr(ef.linalg, name, None)
    assert callable(fn), f"ef.linalg.{name} (Array API 2024.12 linalg extension) is missing"
    assert name in ef.linalg.__all__


@pytest.mark.parametrize("name", FFT)
def test_array_api_fft_extension(name):
    fn = getattr(ef.fft, name, None)
    assert callable(fn), f"ef.fft.{name} (Array API 2024.12 fft extension) is missing"
    assert name in ef.fft.__all__ and fn.op.name == f"fft.{name}"


@pytest.mark.parametrize("name", ["constant", "equal", "matmul", "asarray", "device", "devices",
                                  "backends", "Tensor"])
def test_framework_names(name):
    assert callable(getattr(ef, name, None)), f"ef.{name} is missing"


def test_constants_and_dtypes_of_the_standard():
    assert ef.__array_api_version__ == "2024.12"
    assert ef.e == pytest.approx(2.718281828459045) and ef.pi == pytest.approx(3.141592653589793)
    assert ef.inf == float("inf") and ef.nan != ef.nan and ef.newaxis is None
    for name in DTYPES + ["float16", "bfloat16"]:
        dt = getattr(ef, name)
        assert type(dt) is DType and dt.name == name
    assert ef.bool is not bool


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
