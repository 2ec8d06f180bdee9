"""Plugin loading: a broken plugin never breaks eagerflow, and no hook runs on the op path.

Two ways in: in-process with ``register_plugin`` (fast; the plugin objects come from
``tests/plugins``), and real ``eagerflow.backends`` entry points of throwaway distributions
``tests/plugins/<dist>`` in a fresh interpreter (see ``plugin_harness``), which is the only way
to test a plugin whose import fails, two distributions with one plugin name, and what
``import eagerflow_core`` itself does.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core.plugins import Backend, hookimpl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
import plugin_harness as H  # noqa: E402

toy = H.import_toy()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for var in ("EAGERFLOW_BACKENDS", "EAGERFLOW_STRICT_PLUGINS", "EAGERFLOW_DEVICE"):
        monkeypatch.delenv(var, raising=False)


def rows():
    return {r.name: r for r in ef.backends()}


def numpy_still_works():
    out = ef.add(ef.constant([1.0, 2.0], device="cpu"), 1.0)
    assert out.device == "cpu" and out.tolist() == [2.0, 3.0]


# -- in-process: each way a plugin can be broken ----------------------------------------------

class NoHook:
    """A plugin object that implements no hook at all."""


class BadSignature:
    @hookimpl
    def eagerflow_backend(self, device):  # the spec takes no argument
        raise AssertionError("never called")


class DashedDeviceType:
    @hookimpl
    def eagerflow_backend(self):
        b = toy.ToyBackend()
        b.device_type = "my-gpu"
        return b


BROKEN = [  # (plugin object, words the reason must contain)
    (H.import_plugin_module("ef_hook_raises"),
     r"eagerflow_backend\(\) raised RuntimeError: the toy driver exploded"),
    (H.import_plugin_module("ef_not_backend"), r"returned dict, not an eagerflow Backend"),
    (H.import_plugin_module("ef_bad_api"), r"API version 99.*speaks version 1"),
    (H.import_plugin_module("ef_cpu_clash"), r"device type 'cpu' is already taken by plugin 'numpy'"),
    (NoHook(), r"implements no eagerflow_backend hook"),
    (BadSignature(), r"invalid plugin.*device"),
    (DashedDeviceType(), r"device_type 'my-gpu' is not a plain name"),
]


@pytest.mark.parametrize("plugin, reason", BROKEN,
                         ids=[getattr(p, "__name__", type(p).__name__) for p, _ in BROKEN])
def test_broken_plugin_in_process_is_listed_failed_and_warned(plugin, reason):
    with H.registered(broken=plugin):
        with pytest.warns(ef.PluginWarning, match=r"(?s)plugin 'broken' was not loaded: .*" + reason):
            table = rows()
        assert table["broken"].status == "failed"
        assert not table["broken"].available
        assert table["numpy"].status == "ok"
        numpy_still_works()
        assert "broken" in repr(ef.backends())  # the printed table names it too


def test_in_process_plugin_reusing_a_plugin_name_fails():
    with H.registered(numpy=toy.make_plugin("toy2")):
        with pytest.warns(ef.PluginWarning, match=r"plugin name 'numpy' is already taken by entry point"):
            report = ef.backends()
        statuses = sorted(r.status for r in report if r.name == "numpy")
        assert statuses == ["failed", "ok"]
        numpy_still_works()
        with pytest.raises(ef.DeviceError, match="unknown device 'toy2'"):
            ef.device("toy2")


def test_strict_plugins_turns_a_failure_into_plugin_error(monkeypatch):
    monkeypatch.setenv("EAGERFLOW_STRICT_PLUGINS", "1")
    with H.registered(broken=H.import_plugin_module("ef_hook_raises")):
        with pytest.raises(ef.PluginError, match=r"'broken'.*the toy driver exploded.*STRICT"):
            ef.backends()
    assert isinstance(ef.PluginError("x"), RuntimeError)


def test_allow_list_disables_the_other_plugins(monkeypatch):
    monkeypatch.setenv("EAGERFLOW_BACKENDS", "numpy")
    toy.CALLS.clear()
    with H.registered(toy=toy.make_plugin(), broken=H.import_plugin_module("ef_hook_raises")):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ef.PluginWarning)  # disabled is not a failure
            table = rows()
        for name in ("toy", "broken"):
            assert table[name].status == "disabled"
            assert "EAGERFLOW_BACKENDS=numpy" in table[name].reason
        assert toy.CALLS["hook", "toy"] == 0  # a disabled plugin is not even asked
        with pytest.raises(ef.DeviceError, match="device 'toy': backend plugin 'toy' would provide it, but it is disabled"):
            ef.device("toy")
        numpy_still_works()


def test_unavailable_backend_is_listed_with_its_reason_and_refused():
    with H.registered(absent=H.import_plugin_module("ef_unavailable")):
        row = rows()["absent"]
        assert (row.status, row.reason) == ("unavailable", "no toy accelerator is plugged in")
        assert row.device_type == "absent" and not row.available
        with pytest.raises(ef.DeviceError, match=r"'absent'.*no toy accelerator is plugged in"):
            ef.device("absent")
        with pytest.raises(ef.DeviceError, match="no toy accelerator"):
            ef.zeros(2, device="absent")
        assert all(d.type != "absent" for d in ef.devices())
        numpy_still_works()


def test_initialize_failure_is_a_device_error_and_recorded():
    class Fragile(toy.ToyBackend):
        def initialize(self):
            raise OSError("driver library libtoy.so not found")

    class FragilePlugin:
        @hookimpl
        def eagerflow_backend(self):
            return Fragile(device_type="fragile")

    with H.registered(fragile=FragilePlugin()):
        with pytest.raises(ef.DeviceError, match=r"'fragile' failed to initialise.*libtoy\.so"):
            ef.device("fragile")
        row = rows()["fragile"]
        assert row.status == "failed" and "OSError: driver library libtoy.so" in row.reason
        numpy_still_works()


# -- in-process: a working toy backend --------------------------------------------------------

def test_toy_backend_registers_a_device_that_computes():
    with H.registered(toy=toy.make_plugin()):
        assert rows()["toy"].status == "ok"
        assert ef.device("toy") in ef.devices()
        a = ef.asarray([1.0, 2.0], device="toy")
        b = ef.asarray([10.0, 20.0], device="toy")
        out = ef.add(a, b)
        assert out.device == "toy:0" and out.dtype == ef.float32
        assert out.tolist() == [11.0, 22.0]
        assert rows()["toy"].num_kernels == len(ef.device("toy").kernels) > 0  # known once used


def test_heavy_init_is_lazy_and_no_hook_runs_per_op():
    toy.CALLS.clear()
    with H.registered(lazy=toy.make_plugin("lazy", priority=-1)):
        assert rows()["lazy"].status == "ok"
        assert toy.CALLS["hook", "lazy"] == 1
        assert toy.CALLS["initialize", "lazy"] == 0 and toy.CALLS["kernels", "lazy"] == 0
        assert rows()["lazy"].num_kernels is None
        ef.ones(3)  # work on the default (cpu) device does not wake the lazy backend
        assert toy.CALLS["initialize", "lazy"] == 0
        x = ef.ones(3, device="lazy")
        assert toy.CALLS["initialize", "lazy"] == 1 and toy.CALLS["kernels", "lazy"] == 1
        before = dict(toy.CALLS)
        for _ in range(300):
            x = ef.add(x, 1.0)
            x = ef.subtract(x, 0.5)
        ef.sum(x)
        ef.matmul(ef.reshape(x, (1, 3)), ef.reshape(x, (3, 1)))
        assert dict(toy.CALLS) == before  # hook, initialize, kernels, is_available: none again
        assert x.tolist() == [151.0, 151.0, 151.0]


# -- real entry points, in a fresh interpreter ------------------------------------------------

PROBE = """
import json, sys, warnings
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import eagerflow_core as ef
    imported_plugins = sorted(m for m in sys.modules if m.startswith("ef_"))
    table = {r.name: [r.status, r.reason] for r in ef.backends()}
    try:
        x = ef.constant([1.0, 2.0], device="cpu")
        values, default = ef.add(x, 1.0).tolist(), str(ef.default_device())
    except Exception as exc:
        values, default = f"{type(exc).__name__}: {exc}", None
print(json.dumps({"rows": table, "values": values, "default": default,
                  "imported_at_import": imported_plugins,
                  "warnings": [[w.category.__name__, str(w.message)] for w in caught]}))
"""

ENTRY_POINT_FAILURES = [  # (distribution, plugin name, words the reason must contain)
    ("ef_broken_import", "broken_import",
     "import failed: ModuleNotFoundError: No module named 'eagerflow_test_missing_dependency'"),
    ("ef_hook_raises", "hook_raises", "eagerflow_backend() raised RuntimeError: the toy driver exploded"),
    ("ef_not_backend", "not_backend", "eagerflow_backend() returned dict, not an eagerflow Backend"),
    ("ef_bad_api", "bad_api", "built for plugin API version 99"),
    ("ef_cpu_clash", "cpu_clash", "device type 'cpu' is already taken by plugin 'numpy'"),
]


@pytest.mark.parametrize("dist, name, reason", ENTRY_POINT_FAILURES, ids=[c[0] for c in ENTRY_POINT_FAILURES])
def test_broken_entry_point_plugin(tmp_path, dist, name, reason):
    got = H.run_with_plugins(tmp_path, [dist], PROBE)
    assert got["imported_at_import"] == []  # discovery waits for first use
    assert got["rows"][name][0] == "failed"
    assert reason in got["rows"][name][1]
    assert got["rows"]["numpy"] == ["ok", ""]
    assert got["values"] == [2.0, 3.0]
    assert got["default"] == str(ef.default_device())  # what it is without the broken plugin
    # The warning names the plugin and the distribution that provides it (issue #9).
    assert [w for w in got["warnings"] if f"plugin {name!r}" in w[1]] == [
        ["PluginWarning", f"eagerflow: backend plugin {name!r} ({dist} 0.1.0) was not loaded: "
                          f"{got['rows'][name][1]}"]]


@pytest.mark.parametrize("name", ["aaa_cpu", "zzz_cpu"])
def test_plugin_reusing_cpu_never_takes_it_from_numpy(tmp_path, name):
    # Whatever its name sorts like, a newcomer at the default priority must not evict the
    # NumPy backend from "cpu" (and with it every user's default device).
    got = H.run_with_plugins(tmp_path, [f"ef_cpu_clash:{name}"], PROBE)
    assert got["rows"]["numpy"] == ["ok", ""]
    assert got["rows"][name][0] == "failed" and "device type 'cpu'" in got["rows"][name][1]
    assert got["values"] == [2.0, 3.0]


def test_two_distributions_with_one_plugin_name(tmp_path):
    got = H.run_with_plugins(tmp_path, ["ef_toy", "ef_toy_dup"], """
        import json, warnings
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            import eagerflow_core as ef
            toy_rows = sorted([r.status, r.reason] for r in ef.backends() if r.name == "toy")
        print(json.dumps({"toy_rows": toy_rows, "cpu": ef.ones(1).tolist(),
                          "warnings": [str(w.message) for w in caught]}))
    """)
    # One of the two loads, the other is listed as failed and warned about: never silently lost.
    assert [status for status, _ in got["toy_rows"]] == ["failed", "ok"], got
    assert "plugin name 'toy' is already taken" in got["toy_rows"][0][1]
    assert any("plugin name 'toy' is already taken" in w for w in got["warnings"])
    assert got["cpu"] == [1.0]


def test_valid_entry_point_plugin_computes_on_its_device(tmp_path):
    got = H.run_with_plugins(tmp_path, ["ef_toy"], """
        import json
        import eagerflow_core as ef
        x = ef.asarray([1, 2, 3], device="toy")
        y = ef.add(x, ef.asarray([10, 20, 30], device="toy"))
        print(json.dumps({"devices": [str(d) for d in ef.devices()], "device": str(y.device),
                          "dtype": str(y.dtype), "values": y.tolist(),
                          "row": [(r.status, r.source) for r in ef.backends() if r.name == "toy"]}))
    """)
    assert "toy:0" in got["devices"] and "cpu:0" in got["devices"]
    assert (got["device"], got["dtype"], got["values"]) == ("toy:0", "int64", [11, 22, 33])
    assert got["row"] == [["ok", "entry point ef_toy"]]


def test_entry_point_plugin_init_is_lazy_and_hooks_run_once(tmp_path):
    got = H.run_with_plugins(tmp_path, ["ef_toy", "ef_hook_raises"], """
        import json, sys, warnings
        warnings.simplefilter("ignore")
        import eagerflow_core as ef
        after_import = "ef_toy" in sys.modules
        ef.backends()
        import ef_toy
        calls = lambda: {k[0]: v for k, v in ef_toy.CALLS.items()}
        after_backends = calls()
        ef.ones(2)
        after_cpu_work = calls()
        x = ef.zeros(4, device="toy")
        after_first_use = calls()
        for _ in range(1000):
            x = ef.add(x, 1)
        print(json.dumps({"after_import": after_import, "after_backends": after_backends,
                          "after_cpu_work": after_cpu_work, "after_first_use": after_first_use,
                          "after_ops": calls(), "x": x.tolist()}))
    """)
    assert got["after_import"] is False
    assert got["after_backends"].get("hook") == 1
    assert "initialize" not in got["after_backends"] and "kernels" not in got["after_backends"]
    assert "initialize" not in got["after_cpu_work"]
    assert got["after_first_use"]["initialize"] == 1 and got["after_first_use"]["kernels"] == 1
    assert got["after_ops"] == got["after_first_use"]  # 1000 ops: no hook, no re-init
    assert got["x"] == [1000.0] * 4


def test_allow_list_with_entry_points(tmp_path):
    got = H.run_with_plugins(tmp_path, ["ef_toy", "ef_broken_import"], PROBE,
                             env={"EAGERFLOW_BACKENDS": "numpy"})
    assert got["rows"]["toy"][0] == "disabled" and got["rows"]["broken_import"][0] == "disabled"
    assert "EAGERFLOW_BACKENDS=numpy" in got["rows"]["toy"][1]
    assert got["warnings"] == [] and got["values"] == [2.0, 3.0]


def test_allow_list_can_leave_only_a_third_party_backend(tmp_path):
    got = H.run_with_plugins(tmp_path, ["ef_toy"], """
        import json
        import eagerflow_core as ef
        print(json.dumps({"rows": {r.name: r.status for r in ef.backends()
                                   if r.name in ("numpy", "toy")},
                          "device": str(ef.ones(2).device)}))
    """, env={"EAGERFLOW_BACKENDS": "toy"})
    assert got == {"rows": {"numpy": "disabled", "toy": "ok"}, "device": "toy:0"}


def test_strict_plugins_with_entry_points(tmp_path):
    got = H.run_with_plugins(tmp_path, ["ef_broken_import"], """
        import json
        import eagerflow_core as ef  # import itself never fails
        try:
            ef.ones(2)
            err = None
        except ef.PluginError as exc:
            err = str(exc)
        print(json.dumps({"err": err}))
    """, env={"EAGERFLOW_STRICT_PLUGINS": "1"})
    assert got["err"] is not None
    assert "'broken_import'" in got["err"] and "No module named" in got["err"]


def test_strict_plugins_without_failures_changes_nothing(tmp_path):
    got = H.run_with_plugins(tmp_path, ["ef_toy"], PROBE, env={"EAGERFLOW_STRICT_PLUGINS": "1"})
    assert got["rows"]["toy"] == ["ok", ""] and got["values"] == [2.0, 3.0]


def test_unavailable_entry_point_plugin(tmp_path):
    got = H.run_with_plugins(tmp_path, ["ef_unavailable"], """
        import json
        import eagerflow_core as ef
        try:
            ef.device("absent")
            err = None
        except ef.DeviceError as exc:
            err = str(exc)
        row = [(r.status, r.reason) for r in ef.backends() if r.name == "unavailable"]
        print(json.dumps({"err": err, "row": row, "cpu": ef.ones(1).tolist()}))
    """)
    assert got["row"] == [["unavailable", "no toy accelerator is plugged in"]]
    assert "no toy accelerator is plugged in" in got["err"]
    assert got["cpu"] == [1.0]


def test_backend_base_class_defaults():
    b = Backend()
    assert b.is_available() == (True, "")
    assert b.device_count() == 1
    with pytest.raises(NotImplementedError):
        b.kernels()
    assert np.asarray(toy.ToyBackend().to_host(np.arange(3))).tolist() == [0, 1, 2]


# -- reloading --------------------------------------------------------------------------------

def test_tensors_made_before_a_reload_still_combine_with_new_ones():
    from eagerflow_core.plugins import reload_plugins
    old = ef.asarray([1.0, 2.0])
    with H.registered():
        reload_plugins()
        new = ef.asarray([10.0, 20.0])
        assert old.device == new.device  # both on "cpu:0"
        assert ef.add(old, new).tolist() == [11.0, 22.0]
        assert (old + 1.0).tolist() == [2.0, 3.0]  # and old tensors keep working alone


def test_reload_inside_a_with_device_block():
    from eagerflow_core.plugins import reload_plugins
    with H.registered():
        with ef.device("cpu"):
            reload_plugins()
            assert ef.ones(1).device == "cpu"
        assert ef.ones(1).device == "cpu"
