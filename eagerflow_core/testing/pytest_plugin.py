"""The conformance kit as a pytest plugin (issue #4), registered through the ``pytest11`` entry
point and inert unless ``--eagerflow-backend`` is given:

    pytest --pyargs eagerflow_core.testing --eagerflow-backend=NAME [--eagerflow-strict]
           [--eagerflow-ops=add,exp] [--eagerflow-dtypes=float32] [--eagerflow-report=PATH]

Each (op, dtype) row of the conformance run is one test item, ``conformance.py::add[float32]``
(the error checks of an op are ``add[any]``); ``-k``, ``-x`` and the usual reporting apply. A
row the backend declares as a known failure is a strict xfail with the declared reason, so a
fix shows up as XPASS(strict); a missing kernel is a skip that says so. The coverage and
conformance percentages close the terminal summary, and ``--eagerflow-report`` writes the JSON
report. Without the option the plugin only adds its options: it loads no backend and collects
nothing (except, for ``pytest --pyargs eagerflow_core.testing`` itself, one skipped item that
says which option to pass).
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
_RUNNER = _HERE / "conformance.py"
_STATE = pytest.StashKey()
_HINT = ("pass --eagerflow-backend=NAME to run the eagerflow conformance kit on backend NAME "
         "(`eagerflow info` lists them)")


def pytest_addoption(parser):
    group = parser.getgroup("eagerflow", "eagerflow backend conformance (pytest --pyargs "
                                         "eagerflow_core.testing --eagerflow-backend=NAME)")
    group.addoption("--eagerflow-backend", metavar="NAME", default=None,
                    help="run the conformance kit on the backend plugin NAME (off unless given)")
    group.addoption("--eagerflow-strict", action="store_true", default=False,
                    help="fail an op whose checks fell back to another backend")
    group.addoption("--eagerflow-report", metavar="PATH", default=None,
                    help="write the conformance report as JSON to PATH")
    group.addoption("--eagerflow-ops", metavar="A,B", default=None,
                    help="only these ops (names or patterns such as 'linalg.*')")
    group.addoption("--eagerflow-dtypes", metavar="A,B", default=None,
                    help="only these dtypes")
    group.addoption("--eagerflow-max-examples", metavar="N", type=int, default=20,
                    help="hypothesis examples per check (default 20)")
    group.addoption("--eagerflow-known-failures", metavar="PATH", default=None,
                    help="a JSON list of extra known failures {op, dtype, check, reason}")


def _split(text):
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


class _State:
    def __init__(self, config):
        from .._errors import EagerflowError
        from . import conformance
        opt = config.getoption
        try:
            self.target = conformance.Target(
                opt("eagerflow_backend"), strict=opt("eagerflow_strict"),
                max_examples=opt("eagerflow_max_examples"),
                known_failures=opt("eagerflow_known_failures"))
            from .opdb import OPDB
            self.rows, skipped = conformance.plan(self.target, OPDB, _split(opt("eagerflow_ops")),
                                                  _split(opt("eagerflow_dtypes")))
        except (EagerflowError, ValueError, OSError) as exc:  # a usage problem: say it once
            raise pytest.UsageError(f"--eagerflow-backend: {exc}") from None
        self.report = conformance.Report(
            self.target.name, str(self.target.device), strict=self.target.strict,
            notes=self.target.notes, settings={"max_examples": self.target.max_examples,
                                               "seed": self.target.seed})
        self.report.results += skipped
        self.collected = False


def pytest_configure(config):
    if config.getoption("eagerflow_backend"):
        config.stash[_STATE] = _State(config)


def _named(config) -> bool:
    """Whether the command line names this package (``--pyargs eagerflow_core.testing``, or its
    folder), so that a run without ``--eagerflow-backend`` says how to ask for the kit."""
    for arg in config.args:
        head = str(arg).split("::")[0]
        if head == "eagerflow_core.testing":
            return True
        try:
            if Path(head).resolve() == _HERE:
                return True
        except OSError:
            continue
    return False


def pytest_collect_file(file_path, parent):
    if Path(file_path).resolve() != _RUNNER:
        return None
    config = parent.config
    state = config.stash.get(_STATE, None)
    if state is None and not _named(config):
        return None  # e.g. `pytest --doctest-modules eagerflow_core`: not asked for
    if state is not None:
        if state.collected:
            return None
        state.collected = True
    return ConformanceFile.from_parent(parent, path=Path(file_path))


class ConformanceFailure(AssertionError):
    """At least one check of a row failed (and was not declared a known failure)."""


class KnownFailure(AssertionError):
    """A row failed only in checks its backend declares as known failures."""


class ConformanceFile(pytest.File):
    def collect(self):
        state = self.config.stash.get(_STATE, None)
        if state is None:
            yield _Placeholder.from_parent(self, name="conformance")
            return
        for info, dtype in state.rows:
            item = ConformanceItem.from_parent(self, name=f"{info.name}[{dtype}]", info=info,
                                               dtype=dtype)
            known = [k for check in state.target.row_checks(info, dtype)
                     for k in state.target.known_for(info.name, dtype, check)]
            known = list({id(k): k for k in known}.values())
            if known:
                reason = "; ".join(k["reason"] + ("" if k["check"] == "*" else
                                                  f" ({k['check']} check)") for k in known)
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True,
                                                  raises=KnownFailure))
            yield item


class _Placeholder(pytest.Item):
    def runtest(self):
        pytest.skip(_HINT)

    def reportinfo(self):
        return self.path, None, "eagerflow conformance"


class ConformanceItem(pytest.Item):
    def __init__(self, *, info, dtype, **kwargs):
        super().__init__(**kwargs)
        self.info = info
        self.dtype = dtype

    def runtest(self):
        state = self.config.stash[_STATE]
        results = state.target.check_row(self.info, self.dtype)
        state.report.results += results
        failed = [r.message for r in results if r.status == "fail"]
        if failed:
            raise ConformanceFailure("\n".join(failed))
        missing = [r.message for r in results if r.status == "missing"]
        if missing:
            pytest.skip(f"missing kernel: {missing[0]}")
        known = [r.message for r in results if r.status == "known-failure"]
        if known:
            raise KnownFailure("\n".join(known))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, (ConformanceFailure, KnownFailure)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"eagerflow conformance {self.name}"


def pytest_sessionfinish(session):
    state = session.config.stash.get(_STATE, None)
    path = session.config.getoption("eagerflow_report")
    if state is not None and path:
        state.report.to_json(path)


def pytest_terminal_summary(terminalreporter, config):
    state = config.stash.get(_STATE, None)
    if state is None or not state.report.results:
        return
    terminalreporter.write_sep("=", "eagerflow conformance")
    for line in state.report.summary(details=False).splitlines():
        terminalreporter.write_line(line)
    path = config.getoption("eagerflow_report")
    if path:
        terminalreporter.write_line(f"JSON report: {path}")
