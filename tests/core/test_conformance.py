"""The conformance kit (issue #4): its runner, report, JSON, CLI and pytest plugin, on NumPy and
on in-process backends with deliberately wrong kernels (exp off by 1e-3, sum ignoring keepdims,
add writing into its input), each of which must be caught with a message that names the op,
the dtype, the check and the minimal input hypothesis shrank to.

The runner's mechanics run on a small local op database (``MINI``), so that the minimal inputs
are known exactly; the real op database (``opdb.OPDB``) runs through the CLI and the plugin.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core import cli
from eagerflow_core.plugins import (
    ArrayAPIBackend,
    hookimpl,
    kernels_from_namespace,
    register_plugin,
    unregister_plugin,
)
from eagerflow_core.testing import conformance
from eagerflow_core.testing import strategies as st_ef
from eagerflow_core.testing.opdb import OPDB, ErrorCase, OpInfo, Sample

pytest_plugins = ["pytester"]

FLOATS = ("float32", "float64")


# -- a small op database with known minimal failing inputs --------------------------------------

def _unary(dtype):
    return st_ef.shapes(max_dims=2, max_side=3).flatmap(
        lambda s: st_ef.arrays(dtype, s, low=-3, high=3)).map(lambda a: Sample((a,)))


def _binary(dtype):
    return st_ef.broadcastable_shapes(2, max_dims=2, max_side=3).flatmap(
        lambda ss: st.tuples(*[st_ef.arrays(dtype, s, low=-3, high=3) for s in ss])).map(
        lambda ab: Sample(ab))


def _reduction(dtype):
    def with_params(a):
        axes = st.sampled_from([None] + list(range(a.ndim)))
        return st.builds(lambda ax, kd: Sample((a,), {"axis": ax, "keepdims": kd}),
                         axes, st.booleans())
    return st_ef.shapes(min_dims=1, max_dims=2, max_side=3).flatmap(
        lambda s: st_ef.arrays(dtype, s, low=-3, high=3)).flatmap(with_params)


_MISMATCH = ErrorCase((np.ones((2, 3), np.float32), np.ones((4,), np.float32)),
                      exc_type_name="ShapeError", match="add")

MINI = {
    "exp": OpInfo("exp", ef.exp, np.exp, FLOATS, _unary, differentiable=True),
    "add": OpInfo("add", ef.add, np.add, FLOATS + ("int32",), _binary, differentiable=True,
                  errors=(_MISMATCH,)),
    "multiply": OpInfo("multiply", ef.multiply, np.multiply, FLOATS, _binary),
    "sum": OpInfo("sum", ef.sum, lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
                  FLOATS, _reduction),
}


# -- in-process backends over NumPy ---------------------------------------------------------------

def _exp_off(x):
    return np.exp(x) + 1e-3


def _sum_without_keepdims(x, axis=None, dtype=None, keepdims=False):
    return np.sum(x, axis=axis, dtype=dtype)


def _add_in_place(x, y):
    out = np.add(x, y)
    if isinstance(x, np.ndarray) and x.size:
        x.flat[0] += 1  # the bug: the first input's memory is written
    return out


class Broken(ArrayAPIBackend):
    """A backend over NumPy whose exp, sum and add kernels are wrong."""

    name = device_type = "brokenkit"
    priority, namespace, array_type = -100, np, np.ndarray
    known: tuple = ()

    def native_dtypes(self):
        return {n: np.dtype(n) for n in ("bool", "int32", "int64", "float32", "float64")}

    def kernels(self):
        table = kernels_from_namespace(np)
        table.update(exp=_exp_off, sum=_sum_without_keepdims, add=_add_in_place)
        return table

    def coerce(self, raw):
        return np.asarray(raw)

    def known_failures(self):
        return list(self.known)


class Declared(Broken):
    """The same kernels, with the wrong exp declared (and a multiply that is in fact right)."""

    name = device_type = "declaredkit"
    known = ({"op": "exp", "dtype": "float32", "check": "values", "reason": "exp is approximate"},
             {"op": "multiply", "dtype": "*", "check": "*", "reason": "believed broken"})


class Sparse(Broken):
    """A correct backend that lacks ``exp`` and ``negative``."""

    name = device_type = "sparsekit"

    def kernels(self):
        table = kernels_from_namespace(np)
        del table["exp"], table["negative"]
        return table


class Unavailable(Broken):
    name = device_type = "offkit"

    def is_available(self):
        return False, "no such hardware here"


def _plugin(cls):
    class Plugin:
        @hookimpl
        def eagerflow_backend(self):
            return cls()
    return Plugin()


@pytest.fixture(scope="module", autouse=True)
def kits():
    for cls in (Broken, Declared, Sparse, Unavailable):
        register_plugin(_plugin(cls), cls.name)
    try:
        yield
    finally:
        for cls in (Broken, Declared, Sparse, Unavailable):
            unregister_plugin(cls.name)


def results(report, **where):
    return [r for r in report.results if all(getattr(r, k) == v for k, v in where.items())]


def status(report, op, dtype, check):
    found = results(report, op=op, dtype=dtype, check=check)
    assert len(found) == 1, (op, dtype, check, report.results)
    return found[0].status


# -- the runner on NumPy --------------------------------------------------------------------------

def test_numpy_passes_every_check_of_the_mini_database():
    report = conformance.run("numpy", opdb=MINI, max_examples=10)
    assert report.ok, report.summary()
    rows = report.rows()
    assert set(rows) == {(op, dt) for op, info in MINI.items() for dt in info.dtypes} | {
        ("add", "any")}
    assert set(rows.values()) == {"pass"}
    # Gradients run once per differentiable op, in float64; errors once per op that has cases.
    assert [(r.op, r.dtype) for r in results(report, check="grads")] == [
        ("exp", "float64"), ("add", "float64")]
    assert status(report, "add", "any", "errors") == "pass"
    assert report.stats()["coverage"] == 100.0 and report.stats()["conformance"] == 100.0


def test_numpy_passes_the_real_database_on_a_few_ops(tmp_path):
    path = tmp_path / "report.json"
    report = conformance.run("numpy", ops=["add", "negative", "sin", "maximum"],
                             dtypes=["float32", "int32", "float64"], max_examples=8,
                             json_path=path)
    assert report.ok, report.summary()
    data = json.loads(path.read_text())
    assert data["ok"] is True and data["backend"] == "numpy" and data["device"] == "cpu:0"
    assert {(row["op"], row["dtype"]) for row in data["table"]} >= {
        ("add", "float32"), ("add", "int32"), ("sin", "float64"), ("maximum", "int32")}
    assert all(row["status"] == "pass" for row in data["table"])
    assert {r["check"] for r in data["results"]} >= {"values", "mutation", "grads"}
    assert data == json.loads(report.to_json())


def test_summary_shows_coverage_conformance_and_failures():
    report = conformance.run("brokenkit", opdb=MINI, ops=["exp", "multiply"],
                             dtypes=["float32"], max_examples=10)
    text = report.summary()
    lines = text.splitlines()
    assert lines[0] == ("eagerflow conformance: backend 'brokenkit' on brokenkit:0 (strict off, "
                        "max_examples 10, seed 0)")
    assert lines[1].startswith("2 op/dtype rows: 1 pass, 1 fail, 0 missing")
    assert lines[2] == "coverage:    100.0% (2/2 rows have a kernel)"
    assert lines[3] == "conformance: 50.0% (1/2 covered rows pass every check)"
    assert "Failures (1):" in lines and lines[-1] == "FAILED"
    assert "  exp [float32] values: " in text
    assert not report.ok and "FAILED" in repr(report)


# -- the broken kernels are caught ------------------------------------------------------------------

def test_exp_off_by_1e3_is_caught_with_the_minimal_input():
    report = conformance.run("brokenkit", opdb=MINI, ops=["exp"], dtypes=["float32"],
                             max_examples=20)
    (fail,) = results(report, status="fail")
    assert (fail.op, fail.dtype, fail.check) == ("exp", "float32", "values")
    assert fail.message.startswith("exp [float32] values: ")
    assert "Not equal to tolerance" in fail.message
    # Hypothesis shrank to the smallest input: one zero (exp(0) = 1 came out as 1.001).
    assert fail.message.endswith("falsifying input: exp(array(0., dtype=float32))")
    assert status(report, "exp", "float32", "mutation") == "pass"


def test_sum_ignoring_keepdims_is_caught_as_a_shape_difference():
    report = conformance.run("brokenkit", opdb=MINI, ops=["sum"], dtypes=["float64"],
                             max_examples=20)
    fail = results(report, status="fail", check="values")[0]
    assert (fail.op, fail.dtype, fail.check) == ("sum", "float64", "values")
    # The kit runs with kernel checks on (issue #9): the shape rule catches the result at once.
    # The smallest input is empty: a one-element result that keepdims=True keeps 1-d.
    assert fail.message == (
        "sum [float64] values: raised KernelError: sum: the 'brokenkit' kernel returned a "
        "numpy.ndarray of shape (), dtype float64; the op's shape rule says (1,) for "
        "float64[0] on brokenkit:0\n"
        "    falsifying input: sum(array([], dtype=float64), axis=None, keepdims=True)")


def test_add_writing_into_its_input_is_caught_by_the_mutation_check():
    report = conformance.run("brokenkit", opdb=MINI, ops=["add"], dtypes=["float32", "int32"],
                             checks=("values", "mutation"), max_examples=20)
    for dt in ("float32", "int32"):
        assert status(report, "add", dt, "values") == "pass"  # the result itself is right
        assert status(report, "add", dt, "mutation") == "fail"
    fail = results(report, op="add", dtype="int32", check="mutation")[0]
    assert fail.message.startswith("add [int32] mutation: input 0 was changed in place: before "
                                   "array(0, dtype=int32), after array(1, dtype=int32)")
    assert fail.message.endswith(
        "falsifying input: add(array(0, dtype=int32), array(0, dtype=int32))")


def test_each_broken_kernel_is_caught_by_the_real_database():
    report = conformance.run("brokenkit", ops=["exp", "add", "multiply"], dtypes=["float32"],
                             max_examples=20)
    failed = {(r.op, r.dtype, r.check) for r in results(report, status="fail")}
    # exp off by 1e-3 also breaks the standard's special cases (exp(0) is 1 exactly)
    assert failed == {("exp", "float32", "values"), ("exp", "float32", "special"),
                      ("add", "float32", "mutation")}
    for r in results(report, status="fail"):
        assert r.message.startswith(f"{r.op} [float32] {r.check}: ")
        if r.check == "special":
            assert "\n    exp(0.0) [float32] = 1.0010000467300415, expected 1.0" in r.message
        else:
            assert f"falsifying input: {r.op}(array(" in r.message
    assert status(report, "multiply", "float32", "values") == "pass"


def test_sum_ignoring_keepdims_is_caught_by_the_real_database():
    assert "sum" in OPDB, "the op database must describe sum (issue #4)"
    report = conformance.run("brokenkit", ops=["sum"], dtypes=["float32"], max_examples=20)
    fail = results(report, status="fail", check="values")[0]
    assert (fail.check, fail.message.startswith("sum [float32] values: ")) == ("values", True)
    assert "falsifying input: sum(array(" in fail.message and "keepdims=True" in fail.message


# -- known failures, missing kernels, strict mode, errors -----------------------------------------

def test_known_failures_declared_by_the_backend_and_xpass():
    report = conformance.run("declaredkit", opdb=MINI, ops=["exp", "multiply"],
                             dtypes=["float32"], checks=("values",), max_examples=10)
    assert report.ok, report.summary()
    exp = results(report, op="exp", check="values")[0]
    assert exp.status == "known-failure"
    assert exp.message.startswith("known failure (exp is approximate): exp [float32] values: ")
    mul = results(report, op="multiply", check="values")[0]
    assert mul.status == "xpass"
    assert mul.message == "declared known failure passes: believed broken"
    assert report.stats()["counts"] == {"fail": 0, "missing": 0, "known-failure": 1,
                                        "xpass": 1, "pass": 0}
    assert "Unexpected passes (xpass) (1):" in report.summary()


def test_a_declaration_for_every_check_turns_only_failures_into_known_failures():
    report = conformance.run("brokenkit", opdb=MINI, ops=["exp"], dtypes=["float32"],
                             checks=("values", "mutation"), max_examples=10,
                             known_failures=[{"op": "exp", "reason": "approximate exp"}])
    assert report.ok
    assert status(report, "exp", "float32", "values") == "known-failure"
    assert status(report, "exp", "float32", "mutation") == "pass"  # not an xpass: exp still fails
    assert report.rows() == {("exp", "float32"): "known-failure"}


def test_known_failures_from_a_json_file(tmp_path):
    path = tmp_path / "known.json"
    path.write_text(json.dumps([{"op": "add", "check": "mutation", "reason": "issue 12"}]))
    report = conformance.run("brokenkit", opdb=MINI, ops=["add"], dtypes=["float32"],
                             checks=("values", "mutation"), known_failures=str(path),
                             max_examples=10)
    assert report.ok
    assert status(report, "add", "float32", "mutation") == "known-failure"
    with pytest.raises(ValueError, match="needs 'op' and 'reason'"):
        conformance.run("brokenkit", opdb=MINI, ops=["add"], known_failures=[{"op": "add"}])


def test_missing_kernels_and_unsupported_dtypes_count_against_coverage():
    report = conformance.run("sparsekit", opdb=MINI, ops=["exp", "multiply"],
                             dtypes=["float32"], max_examples=5)
    assert report.ok  # a missing kernel is a gap in coverage, not a wrong result
    assert status(report, "exp", "float32", "kernel") == "missing"
    assert status(report, "multiply", "float32", "values") == "pass"
    s = report.stats()
    assert (s["coverage"], s["conformance"]) == (50.0, 100.0)
    assert "missing kernels: exp" in report.summary()
    # bfloat16 is not one of this backend's dtypes: recorded, outside the coverage figures.
    info = OpInfo("multiply", ef.multiply, np.multiply, ("float32", "bfloat16"), _binary)
    report = conformance.run("sparsekit", opdb={"multiply": info}, max_examples=5)
    assert status(report, "multiply", "bfloat16", "dtype") == "skipped-unsupported-dtype"
    assert report.stats()["rows"] == 1


def test_strict_mode_fails_an_op_whose_checks_fell_back():
    # This "add" also negates twice, and sparsekit has no negative kernel: with a silent
    # fallback policy the values are right, but the work ran on the CPU backend.
    info = OpInfo("add", lambda x, y: ef.add(x, ef.negative(ef.negative(y))), np.add,
                  ("float32",), _binary)
    ef.set_fallback_policy("silent")
    try:
        lax = conformance.run("sparsekit", opdb={"add": info}, max_examples=5)
        strict = conformance.run("sparsekit", opdb={"add": info}, max_examples=5, strict=True)
    finally:
        ef.set_fallback_policy(None)
    assert lax.ok
    assert not strict.ok
    (fail,) = results(strict, status="fail")
    assert fail.check == "fallback"
    assert fail.message.startswith("add [float32] fallback (strict mode): negative from "
                                   "'sparsekit' to 'numpy' (")


def test_error_cases_must_raise_the_reference_error():
    quiet = OpInfo("add", ef.add, np.add, FLOATS, _binary,
                   errors=(ErrorCase((np.ones(2, np.float32), np.ones(2, np.float32)),
                                     exc_type_name="ShapeError"),))
    report = conformance.run("numpy", opdb={"add": quiet}, checks=("errors",))
    fail = results(report, check="errors")[0]
    assert fail.status == "fail" and fail.dtype == "any"
    assert fail.message == ("add [any] errors: add(array([1., 1.], dtype=float32), "
                            "array([1., 1.], dtype=float32)) did not raise; ShapeError expected")
    wrong = OpInfo("add", ef.add, np.add, FLOATS, _binary,
                   errors=(ErrorCase(_MISMATCH.args, exc_type_name="ShapeError",
                                     match="no such words"),))
    report = conformance.run("numpy", opdb={"add": wrong}, checks=("errors",))
    assert "does not match 'no such words'" in results(report, check="errors")[0].message


def test_unknown_or_unavailable_backend_and_bad_arguments_are_clear_errors():
    with pytest.raises(ef.DeviceError, match="no backend plugin is named 'nope'; installed: .*numpy"):
        conformance.run("nope")
    with pytest.raises(ef.DeviceError, match="'offkit'.*no such hardware here"):
        conformance.run("offkit")
    with pytest.raises(ef.InvalidArgumentError, match="no op in the op database matches 'nop'"):
        conformance.run("numpy", opdb=MINI, ops=["nop"])
    with pytest.raises(ef.InvalidArgumentError, match="unknown checks \\['speed'\\]"):
        conformance.run("numpy", opdb=MINI, checks=("speed",))


# -- the CLI ----------------------------------------------------------------------------------------

def test_cli_exit_status_summary_and_json(tmp_path, capsys):
    path = tmp_path / "out.json"
    code = cli.main(["conformance", "--backend", "numpy", "--ops", "add,multiply",
                     "--dtypes", "float32", "int32", "--max-examples", "5", "--json", str(path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("eagerflow conformance: backend 'numpy' on cpu:0 (strict off, "
                          "max_examples 5, seed 0)")
    assert "conformance: 100.0%" in out and out.rstrip().endswith("OK")
    assert json.loads(path.read_text())["ok"] is True

    code = cli.main(["conformance", "--backend", "brokenkit", "--ops", "exp", "--dtypes",
                     "float32", "--checks", "values", "--max-examples", "20"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Failures (1):\n  exp [float32] values: " in out and out.rstrip().endswith("FAILED")


def test_cli_unknown_backend(capsys):
    assert cli.main(["conformance", "--backend", "nope"]) == 1
    assert "eagerflow: error: conformance: no backend plugin is named 'nope'" in \
        capsys.readouterr().err


# -- the pytest plugin --------------------------------------------------------------------------------

def test_pytest_plugin_is_registered_and_inert_without_the_option():
    proc = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "eagerflow_core.testing",
                           "-q", "-rs", "-p", "no:cacheprovider"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 skipped" in proc.stdout
    assert "pass --eagerflow-backend=NAME" in proc.stdout


def test_pytest_plugin_runs_the_real_database_on_numpy(tmp_path):
    path = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "eagerflow_core.testing",
                           "--eagerflow-backend=numpy", "--eagerflow-ops=add,sin",
                           "--eagerflow-dtypes=float32,int16", "--eagerflow-max-examples=5",
                           f"--eagerflow-report={path}", "-v", "-p", "no:cacheprovider"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for item in ("add[float32]", "add[int16]", "add[any]", "sin[float32]", "sin[int16]"):
        assert f"conformance.py::{item} PASSED" in proc.stdout
    assert "conformance: 100.0%" in proc.stdout
    assert json.loads(path.read_text())["ok"] is True


def test_pytest_plugin_reports_broken_kernels_and_known_failures(pytester, tmp_path):
    known = tmp_path / "known.json"
    known.write_text(json.dumps([{"op": "exp", "dtype": "float32", "reason": "off by 1e-3"},
                                 {"op": "multiply", "reason": "wrongly declared"},
                                 {"op": "negative", "check": "grads", "reason": "float64 only"}]))
    result = pytester.runpytest_inprocess(
        "--pyargs", "eagerflow_core.testing", "--eagerflow-backend=brokenkit",
        "--eagerflow-ops=exp,add,multiply,negative", "--eagerflow-dtypes=float32",
        f"--eagerflow-known-failures={known}", "-v", "-rfxX", "-p", "no:cacheprovider")
    # negative[float32] runs no gradient check, so its declaration does not make it an xfail.
    outcomes = result.parseoutcomes()
    assert (outcomes["failed"], outcomes["xfailed"]) == (3, 1), result.stdout.str()
    result.stdout.fnmatch_lines(["*conformance.py::negative[[]float32[]] PASSED*"])
    result.stdout.fnmatch_lines([
        "*add [[]float32[]] mutation: input 0 was changed in place*",
        "*falsifying input: add(array(*",
        "*multiply[[]float32[]]*",
        "[[]XPASS(strict)[]] wrongly declared",
        "*conformance: *% (*covered rows pass every check)",
        "FAILED *add[[]float32[]] - add [[]float32[]] mutation*",
        "FAILED *multiply[[]float32[]]*",
        "XFAIL *exp[[]float32[]] - off by 1e-3",
    ])


def test_numpy_backend_passes_the_whole_kit():
    """Every op and dtype of the op database on the reference backend itself, strict (no
    fallback), fixed seed, few examples each: the kit and the NumPy kernels agree everywhere."""
    from eagerflow_core.testing import conformance
    report = conformance.run("numpy", max_examples=3, seed=0, strict=True, progress=False)
    assert report.ok, report.summary()
    stats = report.stats()
    assert stats["coverage"] == 100.0 and stats["conformance"] == 100.0, report.summary()
