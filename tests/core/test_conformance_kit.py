"""The conformance kit as a third-party backend author meets it (issue #9, item 10): error
checks that compare the error class and the op name, not NumPy's wording; the fast profile
with progress lines; the native-dtype check; array types given as abstract base classes."""

from __future__ import annotations

import abc
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core.plugins import ArrayAPIBackend, kernels_from_namespace
from eagerflow_core.testing import conformance
from eagerflow_core.testing.opdb import ErrorCase, OpInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
import plugin_harness as H  # noqa: E402


def _cholesky_in_other_words(x, upper=False):
    # Another library's wording of the same failure (JAX: "Matrix is not positive definite"
    # comes back as NaN, LAPACK-free kernels say it their way).
    if np.any(np.linalg.eigvalsh(x) <= 0):
        raise np.linalg.LinAlgError("the leading minor of order 2 is not > 0")
    return np.linalg.cholesky(x)


class Worded(ArrayAPIBackend):
    """A correct NumPy-based backend whose cholesky words its error differently."""

    name = device_type = "wordkit"
    priority, namespace, array_type = -100, np, np.ndarray

    def kernels(self):
        table = kernels_from_namespace(np)
        table["linalg.cholesky"] = _cholesky_in_other_words
        return table

    def coerce(self, raw):
        return np.asarray(raw)


KITS = (Worded,)


@pytest.fixture(scope="module", autouse=True)
def kits():
    # The harness puts the loader's and the default device's state back afterwards.
    with H.registered(**{cls.name: H.plugin_of(cls) for cls in KITS}):
        yield


def _only(report, check):
    found = [r for r in report.results if r.check == check]
    assert len(found) == 1, report.results
    return found[0]


# -- (b) errors: the class and the op name, not the reference backend's wording ----------------

def test_an_error_worded_by_another_backend_passes_the_error_check():
    report = conformance.run("wordkit", ops=["linalg.cholesky"], checks=("errors",))
    row = _only(report, "errors")
    assert row.status == "pass", row.message
    with pytest.raises(ef.InvalidArgumentError) as err:  # the user still learns what happened
        ef.linalg.cholesky(-ef.eye(2, device="wordkit"))
    assert str(err.value).startswith("linalg.cholesky: ")
    assert "the leading minor of order 2 is not > 0" in str(err.value)


def test_the_reference_backend_is_still_held_to_the_wording():
    case = ErrorCase((np.ones((2, 3), np.float32), np.ones((4,), np.float32)),
                     exc_type_name="ShapeError", match="no such words")
    info = OpInfo("add", ef.add, np.add, ("float32",), lambda dt: None, errors=(case,))
    assert _only(conformance.run("numpy", opdb={"add": info}, checks=("errors",)),
                 "errors").status == "fail"
    assert _only(conformance.run("wordkit", opdb={"add": info}, checks=("errors",)),
                 "errors").status == "pass"


def test_an_error_without_the_op_name_fails_on_any_backend():
    def nameless(x):
        raise ef.ShapeError("shapes do not fit")  # says nothing of which op
    case = ErrorCase((np.ones(2, np.float32),), exc_type_name="ShapeError")
    info = OpInfo("negative", nameless, np.negative, ("float32",), lambda dt: None,
                  errors=(case,))
    row = _only(conformance.run("wordkit", opdb={"negative": info}, checks=("errors",)),
                "errors")
    assert row.status == "fail"
    assert "does not start with the op's name ('negative': ...)" in row.message


# -- (a) the fast profile, progress lines without a terminal, caches released between ops -----

def test_the_fast_profile_draws_three_examples_and_reports_it():
    report = conformance.run("numpy", ops=["add"], dtypes=["float64"], profile="fast",
                             progress=False)
    assert report.ok and report.settings["max_examples"] == 3
    assert report.settings["profile"] == "fast"
    assert conformance.run("numpy", ops=["add"], dtypes=["int32"], profile="fast",
                           max_examples=1, progress=False).settings["max_examples"] == 1
    with pytest.raises(ef.InvalidArgumentError, match="unknown profile 'quick'; choose from "
                                                      "fast, full"):
        conformance.run("numpy", profile="quick")


def test_progress_lines_go_to_stderr_one_per_family_with_failures_so_far(capsys):
    from eagerflow_core._registry import OPS
    ops = ["add", "negative", "sum", "prod", "reshape"]  # three families
    report = conformance.run("numpy", ops=ops, dtypes=["float32"], profile="fast",
                             progress="lines")
    err = capsys.readouterr().err.strip().splitlines()
    assert report.ok
    families = [OPS[n].family for n in ops]
    assert len(err) == len(dict.fromkeys(families))  # one line per family, in order
    assert err[0].startswith(f"conformance numpy: 2/5 ops, through {families[0]} (negative): "
                             "0 failing so far [")
    assert err[1].startswith("conformance numpy: 4/5 ops, through statistical (prod): ")
    assert err[-1].startswith("conformance numpy: 5/5 ops, through manipulation (reshape)")


def test_each_ops_plans_are_released_after_its_checks():
    from eagerflow_core._registry import OPS
    conformance.run("numpy", ops=["linalg.det"], dtypes=["float32"], profile="fast",
                    progress=False)
    assert not OPS["linalg.det"].plans


def test_the_cli_fast_profile_prints_progress_lines_into_a_pipe():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "eagerflow_core.cli", "conformance",
                           "--backend", "numpy", "--profile", "fast", "--ops", "add", "exp",
                           "--dtypes", "float32"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "conformance numpy: 2/2 ops, through elementwise (exp): 0 failing so far" in done.stderr
    assert "max_examples 3" in done.stdout and "profile fast" in done.stdout


# -- (c) native dtypes that arrays do not report fail loudly ---------------------------------

class ScalarTyped(Worded):
    """Native dtypes spelt as scalar types (``getattr(xp, name)``, as JAX's namespace gives
    them) and not normalised: equal to the arrays' dtypes, but not the same dict keys."""

    name = device_type = "scalarkit"

    def native_dtypes(self):
        return {n: getattr(np, n) for n in ("bool", "int32", "int64", "float32", "float64")}


KITS += (ScalarTyped,)


def test_native_dtypes_given_as_scalar_types_fail_the_dtype_check():
    report = conformance.run("scalarkit", ops=["add"], dtypes=["float32"], profile="fast",
                             progress=False)
    bad = [r for r in report.results if r.check == "dtypes"]
    assert not report.ok
    assert sorted(r.dtype for r in bad) == ["bool", "float32", "float64", "int32", "int64"]
    f32 = next(r for r in bad if r.dtype == "float32")
    assert f32.status == "fail" and f32.op == "native_dtypes"
    assert ("native_dtypes [float32]: backend 'scalarkit': its arrays report dtype('float32'), "
            "which is not a key of native_dtypes() (native_dtypes()['float32'] is <class "
            "'numpy.float32'>, of type type)") in f32.message
    assert "ArrayAPIBackend does this" in f32.message
    assert "native_dtypes [float32]" in report.summary()


def test_the_kits_normalised_dtypes_pass_and_add_no_row():
    report = conformance.run("wordkit", ops=["add"], dtypes=["float32"], profile="fast",
                             progress=False)
    assert report.ok and not [r for r in report.results if r.check == "dtypes"]


# -- (d) array_type given as an abstract base class ------------------------------------------

class _ArrayBase(abc.ABC):
    """An abstract array class, as jax.Array is to jaxlib's ArrayImpl."""


_ArrayBase.register(np.ndarray)


class AbstractTyped(Worded):
    """array_type = an abstract base of the arrays: every result used to be coerced."""

    name = device_type = "abckit"
    array_type = _ArrayBase
    coerced = 0

    def coerce(self, raw):
        AbstractTyped.coerced += 1
        return np.asarray(raw)


KITS += (AbstractTyped,)


def test_an_abstract_array_type_is_accepted_and_warned_about_once():
    with pytest.warns(ef.PluginWarning, match=r"backend 'abckit' declares array_type "
                                              r".*_ArrayBase, a base class of its arrays "
                                              r"\(numpy.ndarray\): every op result takes the "
                                              r"slow path; set array_type = ndarray"):
        x = ef.ones(3, device="abckit")
    AbstractTyped.coerced = 0
    y = ef.exp(x) + x * 2.0
    assert AbstractTyped.coerced == 0  # the subclass is taken as it is, not converted
    z = ef.sum(y)  # NumPy's sum gives a scalar: that one is coerced, as on any backend
    np.testing.assert_allclose(z.numpy(), 3 * (np.e + 2), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ef.ones(2, device="abckit")  # once, at load


def test_a_concrete_array_type_is_not_warned_about():
    from eagerflow_core.plugins.loader import _check_array_type
    with warnings.catch_warnings():
        warnings.simplefilter("error", ef.PluginWarning)
        _check_array_type("wordkit", Worded())
    with pytest.warns(ef.PluginWarning, match="'abckit' declares array_type"):
        _check_array_type("abckit", AbstractTyped())
