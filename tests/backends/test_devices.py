"""Devices: names, equality with strings, the default device (context manager, priority,
``EAGERFLOW_DEVICE``) and explicit transfers between backends."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import eagerflow_core as ef

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
import plugin_harness as H  # noqa: E402

toy = H.import_toy()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for var in ("EAGERFLOW_BACKENDS", "EAGERFLOW_STRICT_PLUGINS", "EAGERFLOW_DEVICE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def two_toys():
    """Two toy backends, "toya" (priority 50) and "toyb" (priority 30), above any real one."""
    with H.registered(toya=toy.make_plugin("toya", priority=50),
                      toyb=toy.make_plugin("toyb", priority=30)):
        yield ef.device("toya"), ef.device("toyb")


# -- names and equality -----------------------------------------------------------------------

def test_device_names_and_string_equality():
    cpu = ef.device("cpu")
    assert (cpu.type, cpu.index, str(cpu), repr(cpu)) == ("cpu", 0, "cpu:0", "ef.Device('cpu:0')")
    assert cpu == "cpu" and "cpu" == cpu and cpu == "cpu:0" and cpu == "/CPU:0"
    assert cpu != "cpu:1" and cpu != "cuda" and "cuda:0" != cpu
    assert cpu != "not a device!" and cpu != 0 and cpu is not None
    assert ef.device("cpu:0") is cpu and ef.device(cpu) is cpu
    assert {cpu: 1}[ef.device("cpu")] == 1 and hash(cpu) == hash("cpu:0")


def test_devices_lists_the_available_ones():
    found = ef.devices()
    assert all(isinstance(d, ef.Device) for d in found)
    assert "cpu:0" in [str(d) for d in found]
    assert len({str(d) for d in found}) == len(found)


def _cuda_available() -> bool:
    return any(d.type == "cuda" for d in ef.devices())


def test_device_spec_must_be_a_name_or_a_device():
    with pytest.raises(ef.EagerflowError, match="int"):
        ef.device(3)
    if _cuda_available():  # the TensorFlow aliases name the cuda device
        assert ef.device("gpu") is ef.device("cuda:0") and ef.device("/GPU:0") == "cuda:0"
    else:
        with pytest.raises(ef.DeviceError, match="'cuda'"):
            ef.device("gpu")  # the alias names the cuda type, which no backend provides here


# -- the default device -----------------------------------------------------------------------

def test_default_device_without_toys_is_a_gpu_if_there_is_one():
    # cuda's priority (10) beats the CPU's (0): a GPU machine computes on the GPU by default.
    assert ef.default_device().type == ("cuda" if _cuda_available() else "cpu")


def test_with_device_sets_the_default_and_restores_it():
    outer = ef.default_device()
    with ef.device("cpu") as dev:
        assert dev == "cpu" and ef.default_device() is dev
        assert ef.zeros(2).device is dev and ef.asarray([1.0]).device is dev
    assert ef.default_device() is outer


def test_with_device_restores_after_an_exception(two_toys):
    toya, toyb = two_toys
    before = ef.default_device()
    with pytest.raises(KeyError):
        with toyb:
            assert ef.ones(1).device is toyb
            raise KeyError("boom")
    assert ef.default_device() is before


def test_with_device_nests(two_toys):
    toya, toyb = two_toys
    with ef.device("cpu"):
        assert ef.ones(1).device == "cpu"
        with ef.device("toyb"):
            assert ef.ones(1).device == "toyb:0"
            assert ef.full((2,), 3).device is toyb
        assert ef.ones(1).device == "cpu"


def test_with_device_is_per_thread(two_toys):
    toya, toyb = two_toys
    seen = []
    with toyb:
        t = threading.Thread(target=lambda: seen.append(ef.default_device()))
        t.start()
        t.join()
        assert ef.default_device() is toyb
    assert seen == [toya]  # the other thread sees the process default, not this block's


def test_default_device_is_the_highest_priority_available_backend(two_toys):
    toya, toyb = two_toys
    assert ef.default_device() is toya
    assert ef.ones(2).device is toya
    listed = [str(d) for d in ef.devices()]
    assert listed[:2] == ["toya:0", "toyb:0"] and "cpu:0" in listed  # by priority


def test_default_device_skips_an_unavailable_backend():
    absent = toy.make_plugin("absent", priority=100, available=False, reason="unplugged")
    with H.registered(absent=absent, toyb=toy.make_plugin("toyb", priority=30)):
        assert ef.default_device() == "toyb"
        assert "absent" not in [d.type for d in ef.devices()]


def test_a_backend_at_the_default_priority_does_not_become_the_default():
    before = str(ef.default_device())
    with H.registered(toy=toy.make_plugin()):  # priority 0, like NumPy's: ties go by name
        assert ef.default_device() == before


@pytest.mark.parametrize("env, expected", [("toy", "toy:0"), ("cpu", "cpu:0"), ("toy:0", "toy:0"),
                                           ("/CPU:0", "cpu:0")])
def test_eagerflow_device_overrides_the_default(tmp_path, env, expected):
    got = H.run_with_plugins(tmp_path, ["ef_toy"], """
        import json
        import eagerflow_core as ef
        print(json.dumps({"default": str(ef.default_device()), "zeros": str(ef.zeros(2).device)}))
    """, env={"EAGERFLOW_DEVICE": env})
    assert got == {"default": expected, "zeros": expected}


def test_eagerflow_device_naming_no_device_is_a_clear_error(tmp_path):
    got = H.run_with_plugins(tmp_path, [], """
        import json
        import eagerflow_core as ef
        try:
            ef.zeros(2)
            err = None
        except ef.DeviceError as exc:
            err = str(exc)
        print(json.dumps({"err": err}))
    """, env={"EAGERFLOW_DEVICE": "tpu:0"})
    assert got["err"] is not None and "'tpu:0'" in got["err"]


def test_with_device_beats_eagerflow_device(monkeypatch, two_toys):
    toya, toyb = two_toys
    monkeypatch.setenv("EAGERFLOW_DEVICE", "toyb")
    with ef.device("cpu"):
        assert ef.ones(1).device == "cpu"


# -- transfers ---------------------------------------------------------------------------------

TRANSFER_DTYPES = [ef.bool, ef.int8, ef.uint16, ef.int32, ef.int64, ef.float16, ef.float32,
                   ef.float64, ef.complex64, ef.complex128]


@pytest.mark.parametrize("dtype", TRANSFER_DTYPES, ids=str)
def test_to_across_backends_keeps_values_and_dtype(two_toys, dtype):
    toya, toyb = two_toys
    host = (np.arange(-3, 9).reshape(3, 4) % 7).astype(dtype.numpy)
    x = ef.asarray(host, device="cpu")
    for dev in (toya, toyb, "cpu", "toyb"):
        x = x.to(dev)
        assert x.device == dev and x.dtype is dtype and x.shape == (3, 4)
        np.testing.assert_array_equal(x.numpy(), host)


@pytest.mark.parametrize("dtype", [ef.bool, ef.int32, ef.float16, ef.float32, ef.complex64],
                         ids=str)
def test_to_and_from_every_available_device_keeps_values(dtype):
    # On a GPU machine this moves data between the CPU and each GPU, both ways.
    host = (np.arange(12).reshape(3, 4) % 5).astype(dtype.numpy)
    x = ef.asarray(host, device="cpu")
    for dev in ef.devices():
        y = x.to(dev)
        assert y.device == dev and y.dtype is dtype
        np.testing.assert_array_equal(y.numpy(), host)
        back = y.to("cpu")
        assert back.device == "cpu:0"
        np.testing.assert_array_equal(back.numpy(), host)


def test_to_the_same_device_is_the_tensor_itself(two_toys):
    toya, _ = two_toys
    x = ef.ones(2, device=toya)
    assert x.to(toya) is x and x.to("toya:0") is x and x.to_device(toya) is x


def test_to_device_spelling_moves_too(two_toys):
    _, toyb = two_toys
    y = ef.arange(4, device="cpu").to_device(toyb)
    assert y.device is toyb and y.tolist() == [0, 1, 2, 3]


def test_transfer_of_a_dtype_the_target_lacks(two_toys):
    toya, _ = two_toys
    x = ef.ones(2, dtype=ef.bfloat16, device="cpu")
    with pytest.raises(ef.DTypeError, match=r"to_device.*bfloat16.*ef\.astype"):
        x.to(toya)


def test_to_an_unknown_device():
    with pytest.raises(ef.DeviceError, match="'tpu'"):
        ef.ones(2).to("tpu")


def test_moved_tensor_does_not_share_writes(two_toys):
    # toy devices own their memory (from_host copies): the cpu original is untouched by the
    # move, and computing on the copy never changes it.
    toya, _ = two_toys
    x = ef.asarray([1.0, 2.0], device="cpu")
    y = ef.add(x.to(toya), 1.0)
    assert x.tolist() == [1.0, 2.0] and y.tolist() == [2.0, 3.0]
