"""The conformance kit's runner (issue #4): check a backend op by op and dtype by dtype.

For every op of the op database (``opdb.OPDB``) and every dtype the op and the backend share,
the runner draws calls with hypothesis and checks, on the backend's device:

- ``values``: the result against the op's NumPy reference computed on float64 copies (per-op,
  per-dtype tolerances), and its dtype and shape against the same call on the reference
  backend ``"numpy"``;
- ``mutation``: the inputs hold the same bytes after the call as before;
- ``grads``: first- and second-order gradients against central differences (``check_grads``,
  float64 only, for differentiable ops);
- ``errors``: each bad call of the op raises the same eagerflow error class as on the reference
  backend, with a message that starts with the op's name; the wording after it is the
  backend's own (only the reference backend is held to the op database's ``match``). These
  calls fix their own dtypes: their dtype column reads ``any``;
- ``dtypes`` (once per run, a row only where it fails): each native dtype of the backend is
  what its arrays report, so the core's lookups by an array's dtype find it;
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
import gc
import re
import sys
import time
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
#: Settings by name. ``fast``: what a plugin author runs first - every op, dtype and check with
#: a few examples each (gradients: one), a few minutes for a whole backend; ``full``: the
#: default, 20 examples per check.
PROFILES = {"fast": {"max_examples": 3}, "full": {"max_examples": 20}}
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
            elif not str(exc).startswith(f"{info.name}: "):
                failures.append(f"{call} raised {expected} whose message {str(exc)!r} does not "
                                f"start with the op's name ({info.name!r}: ...)")
            elif case.match and self.name == REFERENCE and not re.search(case.match, str(exc)):
                # The wording is checked on the reference backend only (it is the op
                # database's record of eagerflow's messages there); another backend's kernel
                # says "not positive definite" its own way (issue #9).
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


# -- the backend's dtype table ---------------------------------------------------------------------

def native_dtype_failures(target) -> list[Result]:
    """A failing Result for each dtype whose native spelling does not find its way back: the
    core looks an array's ``.dtype`` up in the backend's ``native_dtypes()`` (``from_native``),
    and a namespace's scalar type (``jax.numpy.float32``, ``numpy.float32``) compares equal to
    the dtype object arrays carry but does not hash like it, so every lookup misses and the
    core guesses (gradients of gathers with repeated indices came out wrong, issue #9). Checked
    on a real array of each dtype; passing dtypes add no row."""
    dev = target.device
    rec = dev.backend
    out = []
    for dt, native in dev.native.items():
        try:
            raw = rec.backend.from_host(np.zeros(2, dtype=dt.numpy), dev.index)
            have = raw.dtype
        except Exception as exc:  # noqa: BLE001  (the finding)
            out.append(Result("native_dtypes", dt.name, "dtypes", "fail",
                              f"native_dtypes [{dt.name}]: from_host of a {dt.name} array "
                              f"{_raised(exc)}"))
            continue
        found = rec.from_native.get(have)
        if found is dt:
            continue
        why = (f"its arrays report {have!r}, which is not a key of native_dtypes() "
               f"(native_dtypes()[{dt.name!r}] is {native!r}, of type {type(native).__name__})"
               if found is None else f"its arrays report {have!r}, which native_dtypes() maps "
               f"to {found.name}")
        out.append(Result("native_dtypes", dt.name, "dtypes", "fail",
                          f"native_dtypes [{dt.name}]: backend {target.name!r}: {why}; the "
                          f"core's lookups by an array's dtype miss. Give the dtype objects "
                          f"arrays carry (xp.empty(0, dtype=native).dtype; ArrayAPIBackend "
                          f"does this)"))
    return out


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


def _bar(rows, progress):
    """A tqdm bar over ``rows`` where one is wanted and possible, else None."""
    if progress not in (None, "auto") or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(rows, desc="conformance", unit="row", leave=False)


class _Lines:
    """Progress as plain lines on stderr, flushed (a CI log, a pipe: no terminal needed): one
    per op family, and one at least every ``every`` ops, with the failures so far."""

    def __init__(self, backend: str, n_ops: int, every: int = 25, stream=None):
        self.backend, self.n_ops, self.every = backend, n_ops, every
        self.stream = stream or sys.stderr
        self.done = self.failed = self.since = 0
        self.start = self.mark = time.perf_counter()

    @staticmethod
    def _family(name):
        from .._registry import OPS
        op = OPS.get(name)
        return op.family if op is not None else name.split(".")[0]

    def op_done(self, name: str, results, next_name) -> None:
        self.done += 1
        self.since += 1
        self.failed += sum(r.status == "fail" for r in results)
        family = self._family(name)
        if next_name is None or self._family(next_name) != family or self.since >= self.every:
            now = time.perf_counter()
            print(f"conformance {self.backend}: {self.done}/{self.n_ops} ops, through "
                  f"{family} ({name}): {self.failed} failing so far "
                  f"[{now - self.mark:.1f} s, {now - self.start:.0f} s in all]",
                  file=self.stream, flush=True)
            self.since, self.mark = 0, now


def _release(target, name: str) -> None:
    """Between ops: what the op's checks left behind goes (its kernel-call plans, hypothesis'
    drawn data, the backend's cached memory), so a whole run's memory stays that of one op."""
    from .._registry import OPS
    op = OPS.get(name)
    if op is not None and op.plans:
        op.plans.clear()
    gc.collect()
    try:
        target.device.backend.backend.empty_cache(target.device.index)
    except Exception:  # noqa: BLE001  (a backend's cache is its own business)
        pass


def run(backend: str, *, ops=None, dtypes=None, checks=CHECKS, strict=False, max_examples=None,
        seed=0, known_failures=None, json_path=None, progress=None, opdb=None,
        profile="full") -> Report:
    """Check backend ``backend`` (a plugin name) against the reference; returns a Report.

    ``ops``: op names or patterns (``"linalg.*"``), default all of ``opdb`` (the kit's op
    database); ``dtypes``: dtype names to keep; ``known_failures``: extra declarations (a list
    of dicts or a JSON file path); ``profile``: ``"full"`` (20 examples per check) or
    ``"fast"`` (3; a plugin author's first run), which ``max_examples`` overrides;
    ``progress``: None for a tqdm bar on a terminal (if tqdm is installed), ``"lines"`` for
    progress lines on stderr, ``"auto"`` for the bar on a terminal and lines elsewhere,
    False for nothing.
    """
    if profile not in PROFILES:
        raise InvalidArgumentError(f"conformance: unknown profile {profile!r}; choose from "
                                   f"{', '.join(PROFILES)}")
    if max_examples is None:
        max_examples = PROFILES[profile]["max_examples"]
    if opdb is None:
        from .opdb import OPDB as opdb
    target = Target(backend, checks=checks, strict=strict, max_examples=max_examples, seed=seed,
                    known_failures=known_failures)
    settings = {"max_examples": max_examples, "seed": seed}
    if profile != "full":
        settings["profile"] = profile
    report = Report(backend, str(target.device), strict=strict, notes=target.notes,
                    settings=settings)
    rows, skipped = plan(target, opdb, ops, dtypes)
    report.results += native_dtype_failures(target) + skipped
    bar = _bar(rows, progress)
    lines = None
    if bar is None and progress in ("lines", "auto"):
        lines = _Lines(backend, len({info.name for info, _ in rows}))
    # Every kernel result is checked against the op's shape and dtype rules while the kit
    # runs (issue #9): a kernel that computes in float16 for float32 or returns (4, 4) for a
    # sum fails here, even though eager code would cast or trust it.
    set_kernel_checks(True)
    try:
        op_results: list = []
        for k, (info, dtype) in enumerate(rows if bar is None else bar):
            found = target.check_row(info, dtype)
            report.results += found
            op_results += found
            after = rows[k + 1][0].name if k + 1 < len(rows) else None
            if after != info.name:  # the op's last row
                _release(target, info.name)
                if lines is not None:
                    lines.op_done(info.name, op_results, after)
                op_results = []
    finally:
        set_kernel_checks(None)
    if json_path is not None:
        report.to_json(json_path)
    return report
