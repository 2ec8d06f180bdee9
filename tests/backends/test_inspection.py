"""``ef.__array_namespace_info__()``: exactly what the Array API 2024.12 inspection API asks,
for every device (the default one, ``device=`` and ``with ef.device(...)``).
"""

from __future__ import annotations

import pytest

import eagerflow_core as ef

STANDARD = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
            "float32", "float64", "complex64", "complex128"]
KINDS = {"bool": ["bool"], "signed integer": ["int8", "int16", "int32", "int64"],
         "unsigned integer": ["uint8", "uint16", "uint32", "uint64"],
         "real floating": ["float32", "float64"], "complex floating": ["complex64", "complex128"]}
KINDS["integral"] = KINDS["signed integer"] + KINDS["unsigned integer"]
KINDS["numeric"] = KINDS["integral"] + KINDS["real floating"] + KINDS["complex floating"]


def native(device):
    return {d.name for d in device.native}


def test_capabilities_has_the_standards_keys(device):
    caps = ef.__array_namespace_info__().capabilities()
    assert set(caps) == {"boolean indexing", "data-dependent shapes", "max dimensions"}
    assert caps["boolean indexing"] is True and caps["data-dependent shapes"] is True
    limit = caps["max dimensions"]
    assert limit is None or (type(limit) is int and limit >= 1)
    assert limit == device.backend.backend.max_dimensions
    if limit is not None:  # the limit is real: that many dimensions work, one more may not
        assert ef.zeros((1,) * limit).ndim == limit


def test_capabilities_per_device_reads_the_kernel_table(device):
    info = ef.__array_namespace_info__()
    assert info.capabilities(device=device) == info.capabilities()
    assert info.capabilities(device=str(device)) == info.capabilities()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_dtypes_by_kind_are_the_standards(device, kind):
    info = ef.__array_namespace_info__()
    got = info.dtypes(kind=kind)
    assert list(got) == [n for n in KINDS[kind] if n in native(device)]
    assert all(got[name] is getattr(ef, name) for name in got)


def test_dtypes_hold_no_dtype_outside_the_standard(device):
    info = ef.__array_namespace_info__()
    every = info.dtypes()
    assert list(every) == [n for n in STANDARD if n in native(device)]
    assert "float16" not in every and "bfloat16" not in every  # eagerflow's, not the standard's
    both = info.dtypes(kind=("bool", "complex floating"))
    assert list(both) == [n for n in ["bool", "complex64", "complex128"] if n in native(device)]
    assert info.dtypes(device=device) == every


def test_default_dtypes_and_devices(device):
    info = ef.__array_namespace_info__()
    defaults = info.default_dtypes()
    assert defaults == {"real floating": ef.float32, "complex floating": ef.complex64,
                        "integral": ef.int64, "indexing": ef.int64}
    assert info.default_dtypes(device=device) == defaults
    assert info.default_device() is device  # the fixture made it the current device
    assert device in info.devices()
    for dev in info.devices():  # each one is a valid device= argument of creation functions
        assert ef.zeros(2, device=dev).device == dev


def test_bad_arguments_raise(device):
    info = ef.__array_namespace_info__()
    with pytest.raises(ef.InvalidArgumentError, match=r"^dtypes: unknown kind 'float'"):
        info.dtypes(kind="float")
    with pytest.raises(ef.InvalidArgumentError, match=r"kind must be a kind name"):
        info.dtypes(kind=["bool"])
    with pytest.raises(ef.DeviceError, match="unknown device 'nowhere'"):
        info.default_dtypes(device="nowhere")
    with pytest.raises(ef.DeviceError):
        info.capabilities(device="nowhere")
