"""The conformance kit's runner (issue #4): check a backend op by op and dtype by dtype.

For every op of the op database (``opdb.OPDB``) and every dtype the op and the backend share,
the runner draws calls with hypothesis and checks, on the backend's device:

- ``values``: the result against the op's NumPy reference computed on float64 copies (per-op,
  per-dtype tolerances), and its dtype and shape against the same call on the reference
  backend ``"numpy"``;
- ``mutation``: the inputs hold the same bytes after the call as before;
- ``grads``: first- and second-order gradients against central differences (``check_grads``,
  float64 only, for differentiable ops);
- ``errors``: each bad call of the op raises the same eagerflow error as on the reference
  backend (these calls fix their own dtypes: their dtype column reads ``any``);
- ``special``: the standard's special cases of an elementwise op (``OpInfo.edge_cases``: its
  "Special cases" table, as ``opdb/_special_cases.py`` writes it down), compared exactly: NaN
  equals NaN, zeros have the stated sign; each case that differs is named with what came out.

A failure names the op, the dtype, the check and the minimal failing call hypothesis found.
Known failures are declared by the backend (``Backend.known_failures()``) or in a JSON file;
one that passes is reported as ``xpass``. In strict mode any fallback to another backend during
an op's checks is a failure. Run it with ``eagerflow conformance --backend NAME``, with
``pytest --pyargs eagerflow_core.testing --eagerflow-backend=NAME``, or from Python:

>>> from eagerflow_core.testing import conformance
>>> report = conformance.run("numpy", ops=["add"], dtypes=["int32"], max_examples=3)
>>> report.ok, [(r.check, r.status) for r in report.results]
(True, [('values', 'pass'), ('mutation', 'pass'), ('errors', 'pass')])
"""

from __future__ import annotations

import fnmatch
import re
import sys
import warnings

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hyp_seed
from hypothesis.reporting import with_reporter

from .._dispatch_errors import set_kernel_checks
from .._errors import DeviceError, EagerflowError, InvalidArgumentError
from ._edge_cases import SPEC_URL, cases_for, edge_case_failures
from ._report import Report, Result, _known_list, _load_known  # noqa: F401  (Result: API)

CHECKS = ("values", "grads", "mutation", "errors", "special")
STATUSES = ("pass", "fail", "missing", "known-failure", "xpass", "skipped-unsupported-dtype")
#: The backend every other one is compared with (dtypes, shapes, error classes).
REFERENCE = "numpy"
#: The dtype column of the ``errors`` check: bad calls fix their own dtypes.
ANY_DTYPE = "any"
_MAX_MESSAGE = 1500


class CheckFailure(AssertionError):
    """One check failed on one call; ``check`` says which."""

    def __init__(self, check: str, message: str):
        super().__init__(message)
        self.check = check


# -- finding the backend -----------------------------------------------------------------------

def backend_device(name: str):
    """The first device of the backend plugin ``name``; DeviceError says why there is none."""
    from .. import _devices
    from ..plugins import loader
    with warnings.catch_warnings():  # a plugin that failed to load is reported below, if asked
        warnings.simplefilter("ignore", loader.PluginWarning)
        records = loader.ensure_loaded()
    rec = records.get(name)
    if rec is None:
        known = ", ".join(sorted(records)) or "none"
        raise DeviceError(f"conformance: no backend plugin is named {name!r}; installed: {known} "
                          f"(`eagerflow info` shows them)")
    if rec.status != "ok":
        raise DeviceError(f"conformance: backend {name!r} cannot be tested: {rec.status}: "
                          f"{rec.reason}")
    return _devices.device(rec.device_type)


# -- calls: samples on a device ----------------------------------------------------------------

def _map_arrays(obj, fn):
    """``obj`` (args tuple, kwargs dict, nested lists) with every NumPy array replaced by
    ``fn(array)``, visiting the arrays in a fixed order."""
    if isinstance(obj, np.ndarray):
        return fn(obj)
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return tuple(_map_arrays(x, fn) for x in obj)
    if isinstance(obj, list):
        return [_map_arrays(x, fn) for x in obj]
    if isinstance(obj, dict):
        return {k: _map_arrays(v, fn) for k, v in obj.items()}
    return obj


def _arrays(sample) -> list[np.ndarray]:
    found = []
    _map_arrays((sample.args, sample.kwargs), found.append)
    return found


def _on_device(sample, dev):
    """``(args, kwargs, tensors)``: the sample with its arrays copied to ``dev``."""
    from ..ops.creation import asarray
    tensors = []

    def convert(a):
        tensors.append(asarray(a, device=dev, copy=True))
        return tensors[-1]
    args, kwargs = _map_arrays((sample.args, sample.kwargs), convert)
    return args, kwargs, tensors


def format_call(name: str, sample) -> str:
    """``name(array([0.], dtype=float32), axis=0)``: a sample as the call it stands for."""
    with np.printoptions(threshold=40, edgeitems=3, precision=8):
        parts = [repr(a) for a in sample.args] + [f"{k}={v!r}" for k, v in sample.kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _outputs(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _same_bytes(before: np.ndarray, after: np.ndarray) -> bool:
    after = np.asarray(after)
    return (before.shape == after.shape and before.dtype == after.dtype
            and np.ascontiguousarray(before).tobytes() == np.ascontiguousarray(after).tobytes())


def _raised(exc: BaseException) -> str:
    return f"raised {type(exc).__name__}: {exc}"


# -- one sample: the values and mutation checks ---------------------------------------------------

def check_sample(info, sample, device, *, reference_device=None,
                 checks=("values", "mutation")) -> None:
    """Call op ``info`` on ``sample`` on ``device`` and check the result; raises
    :class:`CheckFailure` naming the check that failed. ``mutation``: the inputs keep their
    bytes; ``values``: the outputs are on ``device``, have the dtype and shape of the same call
    on ``reference_device`` (if given), and match ``info.ref`` at ``info``'s tolerances. The
    runner's per-sample body, and what the project's OPDB-driven tests call on every device."""
    before = [a.copy() for a in _arrays(sample)]
    args, kwargs, tensors = _on_device(sample, device)
    with device:
        try:
            out = info.fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001  (whatever the backend raised is the finding)
            raise CheckFailure(checks[0], _raised(exc)) from None
    if "mutation" in checks:
        for i, (b, t) in enumerate(zip(before, tensors)):
            after = t.numpy()
            if not _same_bytes(b, after):
                raise CheckFailure("mutation", f"input {i} was changed in place: before "
                                   f"{b!r}, after {after!r}")
    if "values" in checks:
        compare(info, sample, out, device, reference_device)


def compare(info, sample, out, device, reference_device=None) -> None:
    """The ``values`` check of one call's outputs ``out`` (see :func:`check_sample`)."""
    from ._compare import TOLERANCES, assert_close, reference
    outs = _outputs(out)
    for i, a in enumerate(outs):
        where = getattr(a, "device", device)
        if where != device:
            raise CheckFailure("values", f"output {i} is on {where}, not on {device}")
    if reference_device is not None:
        args, kwargs, _ = _on_device(sample, reference_device)
        with reference_device:
            try:
                want = _outputs(info.fn(*args, **kwargs))
            except Exception as exc:  # noqa: BLE001
                raise CheckFailure("values", f"the reference backend {REFERENCE!r} "
                                   f"{_raised(exc)}") from None
        if len(want) != len(outs):
            raise CheckFailure("values", f"{len(outs)} outputs, but {len(want)} on the "
                               f"reference backend {REFERENCE!r}")
        for i, (a, w) in enumerate(zip(outs, want)):
            got = (getattr(a, "dtype", type(a)), getattr(a, "shape", None))
            exp = (getattr(w, "dtype", type(w)), getattr(w, "shape", None))
            if got != exp:
                raise CheckFailure("values", f"output {i} has dtype {got[0]} and shape "
                                   f"{got[1]}, but dtype {exp[0]} and shape {exp[1]} on the "
                                   f"reference backend {REFERENCE!r}")
    if getattr(info, "check", None) is not None:  # random ops: properties, not values
        try:
            info.check(sample, out)
        except AssertionError as exc:
            raise CheckFailure("values", str(exc).strip()) from None
    if not getattr(info, "check_values", True):  # ef.empty: its values are arbitrary
        return
    args64, kwargs64 = _map_arrays((sample.args, sample.kwargs), reference)
    expected = _outputs(info.ref(*args64, **kwargs64))
    if len(expected) != len(outs):
        raise CheckFailure("values", f"{len(outs)} outputs, but the NumPy reference gives "
                           f"{len(expected)}")
    for i, (a, e) in enumerate(zip(outs, expected)):
        name = getattr(getattr(a, "dtype", None), "name", "")
        tol = info.rtol.get(name, TOLERANCES.get(name, (0.0, 0.0)))
        rtol, atol = tol if isinstance(tol, tuple) else (tol, TOLERANCES.get(name, (0, 0))[1])
        try:
            if hasattr(a, "numpy"):
                assert_close(a, np.asarray(e), rtol=rtol, atol=atol, msg=f"output {i}: ")
            else:
                np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=rtol, atol=atol)
        except AssertionError as exc:
            raise CheckFailure("values", str(exc).strip()) from None


# -- the checks ----------------------------------------------------------------------------------

class Target:
    """A backend under test, resolved once: its device, the reference device, the settings and
    the declared known failures. ``check_row`` runs every check of one (op, dtype) row."""

    def __init__(self, backend: str, *, checks=CHECKS, strict=False, max_examples=20, seed=0,
                 known_failures=None):
        unknown = sorted(set(checks) - set(CHECKS))
        if unknown:
            raise InvalidArgumentError(f"conformance: unknown checks {unknown}; choose from "
                                       f"{', '.join(CHECKS)}")
        self.name = backend
        self.device = backend_device(backend)
        self.reference = None
        self.notes: list[str] = []
        if backend != REFERENCE:
            try:
                self.reference = backend_device(REFERENCE)
            except EagerflowError as exc:  # values are still checked against NumPy's functions
                self.notes.append(f"reference backend {REFERENCE!r} unavailable ({exc}): dtype, "
                                  f"shape and error classes are checked against the op database")
        self.checks = tuple(checks)
        self.strict = strict
        self.max_examples = max_examples
        self.seed = seed
        self.native = {d.name for d in self.device.native}
        self.known = _known_list(self.device.backend.backend.known_failures(), "the backend")
        self.known += _load_known(known_failures)

    # -- known failures
    def known_for(self, op: str, dtype: str, check: str = "*") -> list[dict]:
        """The declared known failures matching (op, dtype, check); ``"*"`` matches anything."""
        return [k for k in self.known
                if fnmatch.fnmatchcase(op, k["op"]) and fnmatch.fnmatchcase(dtype, k["dtype"])
                and (check == "*" or fnmatch.fnmatchcase(check, k["check"]))]

    def _settle(self, results: list[Result]) -> list[Result]:
        """Apply the declarations: a declared check that fails is a known failure; a declared
        check that passes is an xpass, unless the same declaration still catches a failure in
        this row (``check: "*"`` covers every check of the row)."""
        declared = [(r, self.known_for(r.op, r.dtype, r.check)) for r in results]
        still_failing = []
        for r, known in declared:
            if known and r.status == "fail":
                r.status = "known-failure"
                r.message = f"known failure ({known[0]['reason']}): {r.message}"
                still_failing += [id(k) for k in known]
        for r, known in declared:
            if known and r.status == "pass" and not any(id(k) in still_failing for k in known):
                r.status = "xpass"
                r.message = f"declared known failure passes: {known[0]['reason']}"
        return results

    def row_checks(self, info, dtype: str) -> list[str]:
        """The checks a row runs (what a known failure of the row can be about)."""
        if dtype == ANY_DTYPE:
            return ["errors"]
        checks = [c for c in ("values", "mutation") if c in self.checks]
        if "grads" in self.checks and info.differentiable and dtype == "float64":
            checks.append("grads")
        if "special" in self.checks and cases_for(info, dtype):
            checks.append("special")
        return checks + (["fallback"] if self.strict else [])

    # -- rows
    def has_kernel(self, info) -> bool:
        # an op's own kernel, or every kernel its default implementation is built on
        kernels = self.device.kernels
        return info.name in kernels or bool(info.kernels) and all(k in kernels
                                                                  for k in info.kernels)

    def check_row(self, info, dtype: str) -> list[Result]:
        """Every check of op ``info`` on ``dtype`` (``ANY_DTYPE``: the error checks)."""
        import eagerflow_core as ef
        if not self.has_kernel(info):
            lacking = [k for k in info.kernels or (info.name,) if k not in self.device.kernels]
            return [Result(info.name, dtype, "kernel", "missing",
                           f"{info.name} [{dtype}]: backend {self.name!r} has no kernel for "
                           f"{', '.join(lacking)}")]
        ef.reset_fallback_stats()
        # Overflow in an edge case is the op's business: the values check judges the result.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            if dtype == ANY_DTYPE:
                results = [self._errors(info)] if "errors" in self.checks else []
            else:
                results = self._sample_checks(info, dtype)
                row = self.row_checks(info, dtype)
                if "grads" in row:
                    results.append(self._grads(info))
                if "special" in row:
                    results.append(self._special(info, dtype))
        fallbacks = ef.fallback_stats()
        if self.strict and fallbacks:
            ran = ", ".join(f"{op} from {a!r} to {b!r} ({n}x)" for (op, a, b), n in fallbacks.items())
            results.append(Result(info.name, dtype, "fallback", "fail",
                                  f"{info.name} [{dtype}] fallback (strict mode): {ran}"))
        return self._settle(results)

    def _property(self, info, dtype, strategy, body, checks, max_examples):
        """Run ``body(sample, checks)`` over hypothesis samples; returns ``{check: (status,
        message)}``. A failing check is recorded and the others run again without it, so one
        broken check does not hide another."""
        outcome = {}
        active = list(checks)
        while active:
            exc, sample, printed = self._hypothesis(strategy, body, tuple(active), max_examples)
            if exc is None:
                outcome.update((check, ("pass", "")) for check in active)
                break
            check = getattr(exc, "check", None)
            check = check if check in active else active[0]
            detail = str(exc) if isinstance(exc, CheckFailure) else _raised(exc)
            if sample is not None:
                where = "falsifying input: " + format_call(info.name, sample)
            else:  # hypothesis gave up before drawing (an unsatisfiable strategy, say)
                where = " ".join(str(p) for p in printed) or "hypothesis drew no input"
            message = f"{info.name} [{dtype}] {check}: {_clip(detail)}\n{where}"
            outcome[check] = ("fail", message.replace("\n", "\n    "))
            active.remove(check)
        return outcome

    def _hypothesis(self, strategy, body, checks, max_examples):
        """``(exception, minimal sample, reporter lines)`` of one hypothesis run (``None``s if
        it passed). After shrinking, hypothesis replays the minimal failing example last, so the
        last sample drawn is the one it reports as "Falsifying example"."""
        last = [None]

        def prop(sample):
            last[0] = sample
            body(sample, checks)
        test = settings(max_examples=max_examples, derandomize=True, database=None,
                        deadline=None, report_multiple_bugs=False, print_blob=False,
                        suppress_health_check=list(HealthCheck),
                        phases=[Phase.explicit, Phase.generate, Phase.shrink])(
            hyp_seed(self.seed)(given(sample=strategy)(prop)))
        printed: list = []
        try:
            with with_reporter(printed.append):  # the report goes into the message instead
                test()
        except Exception as exc:  # noqa: BLE001  (whatever the backend raised is the finding)
            return exc, last[0], printed
        return None, None, printed

    def _sample_checks(self, info, dtype: str) -> list[Result]:
        from .._dtypes import as_dtype
        checks = [c for c in ("values", "mutation") if c in self.checks]
        if not checks:
            return []
        dev, ref_dev = self.device, self.reference

        def body(sample, active):
            check_sample(info, sample, dev, reference_device=ref_dev, checks=active)

        outcome = self._property(info, dtype, info.samples(as_dtype(dtype)), body, checks,
                                 self.max_examples)
        return [Result(info.name, dtype, c, *outcome[c]) for c in checks]

    def _grads(self, info) -> Result:
        from .._dtypes import float64
        from .gradcheck import check_grads
        dev = self.device

        def body(sample, active):
            _, _, tensors = _on_device(sample, dev)
            wrt = [i for i, t in enumerate(tensors) if t.dtype.kind in "fc"]
            if not wrt:
                return

            def f(*xs):  # the op as a function of its floating-point tensors only
                swap = dict(zip(wrt, xs))
                order = iter(range(len(tensors)))

                def pick(_array):
                    i = next(order)
                    return swap.get(i, tensors[i])
                a2, k2 = _map_arrays((sample.args, sample.kwargs), pick)
                return info.fn(*a2, **k2)
            f.__name__ = info.name
            with dev:
                try:
                    check_grads(f, [tensors[i] for i in wrt], order=2, name=info.name)
                except AssertionError as exc:
                    raise CheckFailure("grads", str(exc)) from None
                except Exception as exc:
                    raise CheckFailure("grads", _raised(exc)) from None

        strategy = (info.grad_samples or info.samples)(float64)
        outcome = self._property(info, "float64", strategy, body, ["grads"],
                                 max(1, self.max_examples // 2))
        return Result(info.name, "float64", "grads", *outcome["grads"])

    def _special(self, info, dtype: str) -> Result:
        failures = edge_case_failures(info, dtype, self.device)
        if not failures:
            return Result(info.name, dtype, "special", "pass")
        head = (f"{info.name} [{dtype}] special: {len(failures)} of "
                f"{len(cases_for(info, dtype))} special cases differ from the standard's table "
                f"({SPEC_URL.format(info.name)}):")
        return Result(info.name, dtype, "special", "fail",
                      _clip("\n    ".join([head, *failures])))

    def _errors(self, info) -> Result:
        failures, tried = [], 0
        for case in info.errors:
            call = format_call(info.name, case)
            try:
                args, kwargs, _ = _on_device(case, self.device)
            except EagerflowError:  # the case's dtypes are not this backend's
                continue
            tried += 1
            expected = case.exc_type_name
            if self.reference is not None:
                ref_exc = _raised_by(info, case, self.reference)
                expected = type(ref_exc).__name__ if ref_exc is not None else expected
            exc = _raised_by(info, case, self.device, args, kwargs)
            if exc is None:
                failures.append(f"{call} did not raise; {expected} expected")
            elif type(exc).__name__ != expected:
                failures.append(f"{call} {_raised(exc)}; {expected} expected")
            elif case.match and not re.search(case.match, str(exc)):
                failures.append(f"{call} raised {expected} whose message {str(exc)!r} does not "
                                f"match {case.match!r}")
        if failures:
            return Result(info.name, ANY_DTYPE, "errors", "fail",
                          f"{info.name} [{ANY_DTYPE}] errors: " + _clip("\n    ".join(failures)))
        note = "" if tried else "no error case runs on this backend's dtypes"
        return Result(info.name, ANY_DTYPE, "errors", "pass", note)


def _raised_by(info, case, dev, args=None, kwargs=None):
    if args is None:
        args, kwargs, _ = _on_device(case, dev)
    with dev:
        try:
            info.fn(*args, **kwargs)
        except Exception as exc:
            return exc
    return None


def _clip(text: str) -> str:
    text = re.sub(r"\n\s*\n", "\n", text.strip())
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + " ..."


# -- planning ------------------------------------------------------------------------------------

def plan(target: Target, opdb, ops=None, dtypes=None):
    """``(rows, skipped)``: the (OpInfo, dtype) rows to check, error rows (dtype ``any``) last
    for each op, and the Results of the dtypes the backend does not have."""
    from .._dtypes import as_dtype
    ops = [ops] if isinstance(ops, str) else ops
    dtypes = [dtypes] if isinstance(dtypes, str) else dtypes
    names = list(opdb)
    if ops:
        chosen = []
        for pattern in ops:
            hits = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
            if not hits:
                raise InvalidArgumentError(f"conformance: no op in the op database matches "
                                           f"{pattern!r}")
            chosen += [n for n in hits if n not in chosen]
        names = chosen
    wanted = None if not dtypes else {as_dtype(d).name for d in dtypes}
    rows, skipped = [], []
    for name in names:
        info = opdb[name]
        for dt in info.dtypes:
            dt = as_dtype(dt).name
            if wanted is not None and dt not in wanted:
                continue
            if dt not in target.native:
                skipped.append(Result(name, dt, "dtype", "skipped-unsupported-dtype",
                                      f"backend {target.name!r} has no {dt} dtype"))
            else:
                rows.append((info, dt))
        if info.errors and "errors" in target.checks:
            rows.append((info, ANY_DTYPE))
    return rows, skipped


def _progress(rows, progress):
    if progress is False:
        return rows
    try:
        from tqdm import tqdm
    except ImportError:
        return rows
    if progress is None and not sys.stderr.isatty():
        return rows
    return tqdm(rows, desc="conformance", unit="row", leave=False)


def run(backend: str, *, ops=None, dtypes=None, checks=CHECKS, strict=False, max_examples=20,
        seed=0, known_failures=None, json_path=None, progress=None, opdb=None) -> Report:
    """Check backend ``backend`` (a plugin name) against the reference; returns a Report.

    ``ops``: op names or patterns (``"linalg.*"``), default all of ``opdb`` (the kit's op
    database); ``dtypes``: dtype names to keep; ``known_failures``: extra declarations (a list
    of dicts or a JSON file path); ``progress``: a tqdm bar (None: if installed and on a
    terminal).
    """
    if opdb is None:
        from .opdb import OPDB as opdb
    target = Target(backend, checks=checks, strict=strict, max_examples=max_examples, seed=seed,
                    known_failures=known_failures)
    report = Report(backend, str(target.device), strict=strict, notes=target.notes,
                    settings={"max_examples": max_examples, "seed": seed})
    rows, skipped = plan(target, opdb, ops, dtypes)
    report.results += skipped
    # Every kernel result is checked against the op's shape and dtype rules while the kit
    # runs (issue #9): a kernel that computes in float16 for float32 or returns (4, 4) for a
    # sum fails here, even though eager code would cast or trust it.
    set_kernel_checks(True)
    try:
        for info, dtype in _progress(rows, progress):
            report.results += target.check_row(info, dtype)
    finally:
        set_kernel_checks(None)
    if json_path is not None:
        report.to_json(json_path)
    return report
