"""The conformance kit's results: one ``Result`` per op, dtype and check, the ``Report`` that
prints and saves them, and the known-failure declarations a backend makes."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass
class Result:
    """One check of one op on one dtype."""

    op: str
    dtype: str
    check: str     # one of CHECKS, or "kernel" (missing), "dtype" (unsupported), "fallback"
    status: str    # one of STATUSES
    message: str = ""



def _known_list(entries, source: str) -> list[dict]:
    out = []
    for e in entries or ():
        if not isinstance(e, dict) or "op" not in e or "reason" not in e:
            raise ValueError(f"conformance: a known failure from {source} needs 'op' and "
                             f"'reason' (and optional 'dtype', 'check'); got {e!r}")
        out.append({"op": e["op"], "dtype": e.get("dtype", "*"), "check": e.get("check", "*"),
                    "reason": e["reason"]})
    return out


def _load_known(spec) -> list[dict]:
    """Known failures given as a list of dicts or a path to a JSON file holding one."""
    if spec is None:
        return []
    if isinstance(spec, (str, bytes)) or hasattr(spec, "__fspath__"):
        with open(spec) as fh:
            return _known_list(json.load(fh), str(spec))
    return _known_list(spec, "the known_failures argument")


_ROW_ORDER = ("fail", "missing", "known-failure", "xpass", "pass")


class Report:
    """The outcome of a conformance run: ``results`` (one Result per op, dtype and check),
    ``summary()`` (the printed report), ``to_json()``, and ``ok`` (no unexpected failure)."""

    def __init__(self, backend: str, device: str, *, strict=False, settings=None, notes=()):
        self.backend = backend
        self.device = device
        self.strict = strict
        self.settings = dict(settings or {})
        self.notes = list(notes)
        self.results: list[Result] = []

    @property
    def ok(self) -> bool:
        return not any(r.status == "fail" for r in self.results)

    def rows(self) -> dict[tuple[str, str], str]:
        """One status per (op, dtype): its worst check, ``fail`` first."""
        out: dict = {}
        for r in self.results:
            if r.status == "skipped-unsupported-dtype":
                continue
            key = (r.op, r.dtype)
            old = out.get(key)
            if old is None or _ROW_ORDER.index(r.status) < _ROW_ORDER.index(old):
                out[key] = r.status
        return out

    def stats(self) -> dict:
        rows = self.rows()
        counts = {s: 0 for s in _ROW_ORDER}
        for status in rows.values():
            counts[status] += 1
        total = len(rows)
        covered = total - counts["missing"]
        return {"rows": total, "covered": covered,
                "conformant": counts["pass"] + counts["xpass"], "counts": counts,
                "skipped_unsupported_dtype": sum(r.status == "skipped-unsupported-dtype"
                                                 for r in self.results),
                "coverage": 100.0 * covered / total if total else 100.0,
                "conformance": (100.0 * (counts["pass"] + counts["xpass"]) / covered
                                if covered else 100.0)}

    def summary(self, details: bool = True) -> str:
        """The printed report: counts, coverage and conformance, then (``details``) every
        failure, known failure and xpass with its message."""
        s = self.stats()
        c = s["counts"]
        opts = ", ".join(f"{k} {v}" for k, v in self.settings.items())
        lines = [(f"eagerflow conformance: backend {self.backend!r} on {self.device} "
                  f"(strict {'on' if self.strict else 'off'}{', ' + opts if opts else ''})")]
        lines += [f"note: {n}" for n in self.notes]
        lines.append(f"{s['rows']} op/dtype rows: {c['pass']} pass, {c['fail']} fail, "
                     f"{c['missing']} missing, {c['known-failure']} known-failure, "
                     f"{c['xpass']} xpass; {s['skipped_unsupported_dtype']} skipped "
                     f"(dtype not on the backend)")
        lines.append(f"coverage:    {s['coverage']:.1f}% ({s['covered']}/{s['rows']} rows have a "
                     f"kernel)")
        lines.append(f"conformance: {s['conformance']:.1f}% ({s['conformant']}/{s['covered']} "
                     f"covered rows pass every check)")
        missing = sorted({r.op for r in self.results if r.status == "missing"})
        if missing:
            lines.append("missing kernels: " + ", ".join(missing))
        if not details:
            return "\n".join(lines + ["OK" if self.ok else "FAILED"])
        for title, status in (("Failures", "fail"), ("Known failures", "known-failure"),
                              ("Unexpected passes (xpass)", "xpass")):
            found = [r for r in self.results if r.status == status]
            if found:
                lines += ["", f"{title} ({len(found)}):"]
                lines += ["  " + (r.message or f"{r.op} [{r.dtype}] {r.check}") for r in found]
        lines += ["", "OK" if self.ok else "FAILED"]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"backend": self.backend, "device": self.device, "strict": self.strict,
                "settings": self.settings, "notes": self.notes, "ok": self.ok, **self.stats(),
                "table": [{"op": op, "dtype": dt, "status": st}
                          for (op, dt), st in self.rows().items()],
                "results": [asdict(r) for r in self.results]}

    def to_json(self, path=None) -> str:
        """The report as JSON text (also written to ``path`` if given)."""
        text = json.dumps(self.as_dict(), indent=2)
        if path is not None:
            with open(path, "w") as fh:
                fh.write(text + "\n")
        return text

    def __repr__(self):
        s = self.stats()
        return (f"<conformance Report {self.backend!r}: {'ok' if self.ok else 'FAILED'}, "
                f"coverage {s['coverage']:.1f}%, conformance {s['conformance']:.1f}%>")
