"""The ``eagerflow`` command: ``info`` (text and JSON), ``--version``, and its console script.

In-process tests register small plugins of their own with ``register_plugin``, so they do not
depend on which backends are installed: ``tiny`` has two kernels, ``broken`` fails to load.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core import cli
from eagerflow_core._registry import OPS
from eagerflow_core.plugins import (
    ArrayAPIBackend,
    hookimpl,
    register_plugin,
    reload_plugins,
    unregister_plugin,
)


class Tiny(ArrayAPIBackend):
    name, device_type, version, priority, namespace = "tiny", "tiny", "9.9", -100, np

    def kernels(self):
        return {"add": np.add, "multiply": np.multiply}


class TinyPlugin:
    @hookimpl
    def eagerflow_backend(self):
        return Tiny()


class BrokenPlugin:
    @hookimpl
    def eagerflow_backend(self):
        raise RuntimeError("no driver found")


@pytest.fixture
def plugins():
    """Register ``tiny`` and ``broken`` for one test, then forget them."""
    register_plugin(TinyPlugin(), "tiny")
    register_plugin(BrokenPlugin(), "broken")
    try:
        yield
    finally:
        unregister_plugin("broken")
        unregister_plugin("tiny")


def run(argv, capsys):
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def kernel_ops():
    return sorted(name for name in OPS if OPS[name].needs_kernel)


def test_info_lists_each_plugin_with_status_and_reason(plugins, capsys):
    status, out, err = run(["info"], capsys)
    assert status == 0, err
    lines = out.splitlines()
    tiny = next(line for line in lines if line.startswith("tiny "))
    assert "9.9" in tiny and " ok " in tiny
    broken = next(line for line in lines if line.startswith("broken "))
    assert "failed" in broken
    assert "eagerflow_backend() raised RuntimeError: no driver found" in broken
    assert "PluginWarning" not in err  # the failure is a row of the report, not a warning too


def test_info_shows_op_coverage_and_missing_ops(plugins, capsys):
    status, out, _ = run(["info"], capsys)
    assert status == 0
    n = len(kernel_ops())
    assert f"Op coverage ({n} ops that need a backend kernel)" in out
    assert f"tiny (tiny): 2/{n} ops" in out
    missing = out.split(f"tiny (tiny): 2/{n} ops", 1)[1].splitlines()[1]
    assert missing.startswith("  missing: ")
    listed = missing.removeprefix("  missing: ").split(", ")
    assert listed == [name for name in kernel_ops() if name not in ("add", "multiply")]
    assert "broken (" not in out  # a failed plugin has no coverage line


def test_info_json_is_machine_readable(plugins, capsys):
    status, out, _ = run(["info", "--json"], capsys)
    assert status == 0
    data = json.loads(out)
    assert data["eagerflow_core"] == ef.__version__
    assert data["ops"] == len(kernel_ops())
    rows = {row["name"]: row for row in data["backends"]}
    assert rows["tiny"]["status"] == "ok"
    assert rows["tiny"]["device_type"] == "tiny"
    assert rows["tiny"]["coverage"]["kernels"] == 2
    assert "subtract" in rows["tiny"]["coverage"]["missing"]
    assert rows["broken"]["status"] == "failed"
    assert rows["broken"]["coverage"] is None
    assert "no driver found" in rows["broken"]["reason"]
    # Every plugin ef.backends() knows is in the report, and nothing else.
    assert sorted(rows) == sorted(b.name for b in ef.backends())


def test_info_shows_the_allow_list(plugins, capsys, monkeypatch):
    monkeypatch.setenv("EAGERFLOW_BACKENDS", "tiny")
    reload_plugins()
    try:
        status, out, _ = run(["info", "--json"], capsys)
    finally:
        monkeypatch.delenv("EAGERFLOW_BACKENDS")
        reload_plugins()
    assert status == 0
    data = json.loads(out)
    assert data["environment"] == {"EAGERFLOW_BACKENDS": "tiny"}
    rows = {row["name"]: row for row in data["backends"]}
    assert rows["broken"]["status"] == "disabled"
    assert "not in EAGERFLOW_BACKENDS=tiny" in rows["broken"]["reason"]
    assert data["default_device"] == "tiny:0"  # the only backend left


def test_strict_plugins_turns_a_failure_into_an_error(plugins, capsys, monkeypatch):
    monkeypatch.setenv("EAGERFLOW_STRICT_PLUGINS", "1")
    reload_plugins()
    try:
        status, out, err = run(["info"], capsys)
    finally:
        monkeypatch.delenv("EAGERFLOW_STRICT_PLUGINS")
        reload_plugins()
    assert status == 1
    assert out == ""
    assert err.startswith("eagerflow: error: ")
    assert "'broken'" in err and "EAGERFLOW_STRICT_PLUGINS" in err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"eagerflow-core {ef.__version__} (plugin API 1)"


def test_no_command_prints_usage(capsys):
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert "usage: eagerflow" in err and "info" in err


def test_unknown_command_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_console_script_is_declared():
    scripts = {ep.name: ep.value for ep in metadata.entry_points(group="console_scripts")}
    assert scripts.get("eagerflow") == "eagerflow_core.cli:main"


def test_info_in_a_subprocess():
    proc = subprocess.run([sys.executable, "-m", "eagerflow_core.cli", "info", "--json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["eagerflow_core"] == ef.__version__
    installed = {ep.name for ep in metadata.entry_points(group="eagerflow.backends")}
    assert {row["name"] for row in data["backends"]} == installed
    for row in data["backends"]:
        if row["status"] == "ok":
            assert row["coverage"]["ops"] == data["ops"]
        else:
            assert row["reason"], row  # every backend that is not usable says why
