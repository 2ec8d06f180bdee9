"""The ``eagerflow`` command: what is installed, and how much of eagerflow each backend covers.

    eagerflow info            backend plugins (status, reason) and op coverage per backend
    eagerflow info --json     the same, machine-readable
    eagerflow conformance --backend NAME   the conformance kit: op x dtype checks, a report
    eagerflow --version

Each subcommand is one entry of ``COMMANDS``: a function that adds its arguments to its parser
and a function that runs it and returns the exit status.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import warnings

ENV_VARS = ("EAGERFLOW_BACKENDS", "EAGERFLOW_DEVICE", "EAGERFLOW_STRICT_PLUGINS",
            "EAGERFLOW_FALLBACK", "EAGERFLOW_FALLBACK_DEVICE")


# -- eagerflow info ----------------------------------------------------------------------------

def coverage(rec, ops) -> dict | None:
    """How many of the registered ``ops`` the backend ``rec`` (a loaded plugin) has kernels for.

    Readies the backend first (its heavy initialisation); a backend that fails then is reported
    through its status and reason, with no coverage.
    """
    from ._errors import EagerflowError
    try:
        rec.ensure_ready()
    except EagerflowError:
        return None
    from ._registry import OPS
    # Ops the core runs itself (needs_kernel=False, e.g. to_device) are no backend's business.
    wanted = [name for name in ops if OPS[name].needs_kernel]
    missing = sorted(name for name in wanted if name not in rec.kernels)
    return {"kernels": len(wanted) - len(missing), "ops": len(wanted), "missing": missing}


def collect_info() -> dict:
    """Everything ``eagerflow info`` shows, as plain data (the ``--json`` output)."""
    import eagerflow_core as ef

    from ._registry import OPS
    from .plugins import PLUGIN_API_VERSION, loader

    # A plugin that fails to load is a row of the report; a warning besides would only repeat it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", loader.PluginWarning)
        records = loader.ensure_loaded()
    cover = {}
    for name, rec in records.items():
        if rec.status == "ok":
            cover[name] = coverage(rec, OPS)
    rows = []
    for info in ef.backends():  # after readying: statuses and kernel counts are final
        row = dataclasses.asdict(info)
        row["coverage"] = cover.get(info.name) if info.available else None
        rows.append(row)
    try:
        default, why = str(ef.default_device()), ""
    except ef.EagerflowError as exc:
        default, why = None, str(exc)
    return {
        "eagerflow_core": ef.__version__,
        "plugin_api_version": PLUGIN_API_VERSION,
        "array_api_version": ef.__array_api_version__,
        "python": sys.version.split()[0],
        "ops": len([name for name in OPS if OPS[name].needs_kernel]),
        "default_device": default,
        "default_device_error": why,
        "environment": {k: os.environ[k] for k in ENV_VARS if k in os.environ},
        "backends": rows,
    }


def format_info(data: dict) -> str:
    """``collect_info``'s data as the text ``eagerflow info`` prints."""
    lines = [(f"eagerflow-core {data['eagerflow_core']}  (plugin API {data['plugin_api_version']}, "
              f"Array API {data['array_api_version']}, Python {data['python']})")]
    env = data["environment"]
    lines.append("environment: " + (", ".join(f"{k}={v}" for k, v in env.items()) or
                                    "no EAGERFLOW_* variable set"))
    if data["default_device"]:
        lines.append(f"default device: {data['default_device']}")
    else:
        lines.append(f"default device: none ({data['default_device_error']})")
    lines += ["", "Backends:", _report_table(data["backends"])]
    lines += ["", f"Op coverage ({data['ops']} ops that need a backend kernel):"]
    covered = [b for b in data["backends"] if b["coverage"] is not None]
    if not covered:
        lines.append("no backend is available, so no coverage to show")
    for b in covered:
        c = b["coverage"]
        pct = 100.0 * c["kernels"] / c["ops"] if c["ops"] else 100.0
        lines.append(f"{b['name']} ({b['device_type']}): {c['kernels']}/{c['ops']} ops "
                     f"({pct:.0f}%)")
        if c["missing"]:
            lines.append("  missing: " + ", ".join(c["missing"]))
    return "\n".join(lines)


def _report_table(rows) -> str:
    """The table ``ef.backends()`` prints, rebuilt from the rows of ``collect_info``."""
    from .plugins.loader import BackendInfo, format_report
    if not rows:
        return "no backend plugin is installed (pip install eagerflow-numpy)"
    fields = {f.name for f in dataclasses.fields(BackendInfo)}
    return format_report([BackendInfo(**{k: v for k, v in r.items() if k in fields})
                          for r in rows])


def _info_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def run_info(args) -> int:
    data = collect_info()
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(format_info(data))
    return 0


# -- eagerflow conformance (issue #4) ------------------------------------------------------------

def _names(values) -> list[str] | None:
    """``--ops a,b c`` -> ``["a", "b", "c"]``."""
    if not values:
        return None
    return [n.strip() for v in values for n in v.split(",") if n.strip()]


def _conformance_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", required=True, metavar="NAME",
                        help="the backend plugin to check (a name from `eagerflow info`)")
    parser.add_argument("--ops", nargs="+", metavar="OP",
                        help="only these ops (names or patterns such as 'linalg.*'; commas ok)")
    parser.add_argument("--dtypes", nargs="+", metavar="DTYPE", help="only these dtypes")
    parser.add_argument("--checks", nargs="+", metavar="CHECK",
                        help="only these checks: values, grads, mutation, errors, special")
    parser.add_argument("--strict", action="store_true",
                        help="fail an op whose checks fell back to another backend")
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON to PATH")
    parser.add_argument("--known-failures", metavar="PATH",
                        help="a JSON list of extra known failures {op, dtype, check, reason}")
    parser.add_argument("--profile", choices=("fast", "full"), default="full",
                        help="fast: 3 examples per check, every op and dtype (a plugin "
                             "author's first run, a few minutes); full: 20 (the default)")
    parser.add_argument("--max-examples", type=int, default=None, metavar="N",
                        help="hypothesis examples per check (default: the profile's)")
    parser.add_argument("--progress", choices=("auto", "lines", "none"), default="auto",
                        help="auto: a bar on a terminal (with tqdm), lines on stderr elsewhere")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (default 0)")


def run_conformance(args) -> int:
    try:
        from .testing import conformance
    except ImportError as exc:  # hypothesis is a test dependency, not a core one
        print(f"eagerflow: error: the conformance kit needs hypothesis ({exc}); "
              f"pip install 'eagerflow-core[test]'", file=sys.stderr)
        return 1
    report = conformance.run(
        args.backend, ops=_names(args.ops), dtypes=_names(args.dtypes),
        checks=tuple(_names(args.checks) or conformance.CHECKS), strict=args.strict,
        max_examples=args.max_examples, seed=args.seed, known_failures=args.known_failures,
        json_path=args.json, profile=args.profile,
        progress=False if args.progress == "none" else args.progress)
    print(report.summary())
    return 0 if report.ok else 1


# -- the command -------------------------------------------------------------------------------

#: name -> (help, add arguments, run).
COMMANDS = {
    "info": ("show installed backends, their status and op coverage", _info_args, run_info),
    "conformance": ("check a backend op by op and dtype by dtype against the NumPy reference",
                    _conformance_args, run_conformance),
}


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .plugins import PLUGIN_API_VERSION
    parser = argparse.ArgumentParser(
        prog="eagerflow", description="eagerflow: eager tensors with plugin backends.")
    parser.add_argument("--version", action="version",
                        version=f"eagerflow-core {__version__} (plugin API {PLUGIN_API_VERSION})")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_args, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_args(p)
        p.set_defaults(run=run)
    return parser


def main(argv=None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    from ._errors import EagerflowError
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except EagerflowError as exc:  # e.g. a failed plugin under EAGERFLOW_STRICT_PLUGINS=1
        print(f"eagerflow: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
