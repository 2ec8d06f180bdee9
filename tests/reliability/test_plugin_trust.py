"""Plugins that lie, hang or break (issue #9, item 6), through real dist-info entry points in
fresh interpreters (tests/plugins/plugin_harness.py)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import plugin_harness as H  # noqa: E402

REPORT = """
import json, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import eagerflow_core as ef
    rows = {r.name + ("" if r.status != "failed" or "taken" not in r.reason else
                      f" ({r.distribution})"): [r.status, r.reason, r.distribution]
            for r in ef.backends()}
    try:
        value = (ef.ones(2) + ef.ones(2)).tolist()
    except Exception as exc:
        value = f"{type(exc).__name__}: {exc}"
print(json.dumps({"rows": rows, "value": value,
                  "warnings": [str(w.message) for w in caught]}))
"""


def test_an_impostor_cannot_take_a_builtin_name(tmp_path):
    for env in ({}, {"EAGERFLOW_BACKENDS": "numpy"}):
        (tmp_path / str(len(env))).mkdir()
        got = H.run_with_plugins(tmp_path / str(len(env)), ["ef_impostor"], REPORT, env=env)
        assert got["value"] == [2.0, 2.0], env  # not [1337, 1337]
        assert got["rows"]["numpy"][0] == "ok"
        assert got["rows"]["numpy"][2].startswith("eagerflow-numpy ")
        impostor = got["rows"]["numpy (ef_impostor 6.6.6)"]
        assert impostor[0] == "failed"
        assert "plugin name 'numpy' is already taken by" in impostor[1]
        assert "eagerflow-numpy" in impostor[1]


def test_the_allow_list_may_name_distributions(tmp_path):
    got = H.run_with_plugins(tmp_path, ["ef_toy"], REPORT,
                             env={"EAGERFLOW_BACKENDS": "eagerflow-numpy"})
    assert got["rows"]["numpy"][0] == "ok"
    assert got["rows"]["toy"][0] == "disabled"
    assert got["rows"]["cuda"][0] == "disabled"
    (tmp_path / "b").mkdir()
    got = H.run_with_plugins(tmp_path / "b", ["ef_toy"], REPORT,
                             env={"EAGERFLOW_BACKENDS": "ef_toy,eagerflow_numpy"})
    assert got["rows"]["toy"][0] == "ok" and got["rows"]["numpy"][0] == "ok"


def test_a_hanging_import_is_warned_about_and_given_up_on(tmp_path):
    start = time.monotonic()
    got = H.run_with_plugins(tmp_path, ["ef_hangs"], REPORT,
                             env={"EAGERFLOW_PLUGIN_SLOW": "0.3", "EAGERFLOW_PLUGIN_TIMEOUT": "1.5"})
    assert time.monotonic() - start < 60
    assert got["value"] == [2.0, 2.0]  # the other plugins work
    status, reason, _ = got["rows"]["hangs"]
    assert status == "failed" and "did not finish within 1.5 s" in reason
    assert any("'hangs' (ef_hangs 0.1.0) is taking more than 0.3 s to import" in w
               for w in got["warnings"])


def test_strict_mode_refuses_every_use_not_only_the_first(tmp_path):
    code = """
import json
import eagerflow_core as ef
errors = []
for _ in range(3):
    try:
        ef.ones(2)
        errors.append(None)
    except ef.PluginError as exc:
        errors.append(str(exc))
print(json.dumps(errors))
"""
    got = H.run_with_plugins(tmp_path, ["ef_broken_import"], code,
                             env={"EAGERFLOW_STRICT_PLUGINS": "1"})
    assert len(got) == 3 and all(e and "broken_import" in e and "EAGERFLOW_STRICT_PLUGINS" in e
                                 for e in got)


def test_a_plugin_without_its_hook_is_named_with_its_module_and_file(tmp_path):
    got = H.run_with_plugins(tmp_path, ["ef_no_hook"], REPORT)
    status, reason, dist = got["rows"]["no_hook"]
    assert status == "failed" and dist == "ef_no_hook 0.1.0"
    assert "no eagerflow_backend hook" in reason and "ef_no_hook" in reason
    assert "ef_no_hook.py" in reason and "hookimpl" in reason


def test_a_device_of_a_failed_plugin_says_so(tmp_path):
    code = """
import json, warnings
warnings.simplefilter("ignore")
import eagerflow_core as ef
try:
    ef.ones(2, device="boom")
    print(json.dumps(None))
except ef.DeviceError as exc:
    print(json.dumps(str(exc)))
"""
    got = H.run_with_plugins(tmp_path, ["ef_broken_import:boom"], code)
    assert "backend plugin 'boom' would provide it, but it is failed: import failed" in got
