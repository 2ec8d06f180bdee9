"""Indexing on every backend: x[key], x[key] = v, take, take_along_axis.

Their values for keys mixing ints, slices, index arrays, lists, a bool mask, None and Ellipsis,
on every dtype, are checked from the op database by tests/backends/test_ops.py
(``eagerflow_core/testing/opdb/_indexing.py``); this file holds what the database does not say:
index dtypes, 0-d and empty cases, bounds, bad keys, devices, writes that rebind, casts, errors.
"""

from __future__ import annotations

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core._devices import Device
from eagerflow_core._tensor import new_tensor
from eagerflow_core.testing import assert_close


def to_ef_key(key):
    """The key with NumPy arrays as tensors on the current device (lists stay lists)."""
    parts = key if isinstance(key, tuple) else (key,)
    out = tuple(ef.asarray(k) if isinstance(k, np.ndarray) else k for k in parts)
    return out if isinstance(key, tuple) else out[0]


def test_getitem_examples(device):
    host = np.arange(24).reshape(2, 3, 4)
    x = ef.asarray(host)
    cases = [0, -1, (1, -1, 2), (slice(None), [0, 2]), ([1, 0], slice(None), [3, 0]),
             (0, [0, 2], slice(1, 3)), (Ellipsis, [1, 1]), (None, 1), (),
             host > 10, (1, host[1] % 2 == 0), ([True, False],), [[0, 1], [1, 0]],
             (slice(None), [[0], [2]], [1, 3]), ([0], None, [1]), (True,), (False, 0), []]
    for key in cases:
        assert_close(x[to_ef_key(key)], host[key], dtype=ef.int64, msg=f"key {key!r}: ")


def test_getitem_index_tensor_dtypes(device):
    host = np.arange(10.0)
    x = ef.asarray(host)
    for dt in (ef.int8, ef.int16, ef.int32, ef.int64, ef.uint8, ef.uint16, ef.uint32, ef.uint64):
        idx = ef.asarray([1, 7, 3], dtype=dt)
        assert_close(x[idx], host[[1, 7, 3]], dtype=ef.float64)
    assert_close(x[ef.asarray([-1, -10], dtype=ef.int8)], host[[-1, -10]], dtype=ef.float64)
    assert_close(x[ef.asarray(3)], host[3], dtype=ef.float64)  # 0-d integer index


def test_getitem_zero_d_and_empty(device):
    s = ef.asarray(np.float32(4.5))
    assert_close(s[()], np.float32(4.5), dtype=ef.float32)
    assert s[None].shape == (1,) and s[...].shape == ()
    e = ef.zeros((0, 3))
    assert e[:, 1].shape == (0,) and e[ef.asarray([], dtype=ef.int64)].shape == (0, 3)
    assert e[ef.zeros((0,), dtype=ef.bool)].shape == (0, 3)
    with pytest.raises(ef.OutOfRangeError, match="0-d tensor"):
        s[0]
    with pytest.raises(ef.OutOfRangeError, match="index 0 is out of range for axis 0 of size 0"):
        e[0]


def test_getitem_out_of_range(device):
    x = ef.reshape(ef.arange(12), (3, 4))
    with pytest.raises(ef.OutOfRangeError, match=r"index 3 is out of range for axis 0 of size 3"):
        x[3]
    with pytest.raises(IndexError, match=r"index -5 is out of range for axis 1 of size 4"):
        x[0, -5]
    with pytest.raises(ef.OutOfRangeError, match=r"index 4 .*axis 1 .*size 4"):
        x[:, ef.asarray([0, 4])]
    with pytest.raises(ef.OutOfRangeError, match=r"index -4 .*axis 0 .*size 3"):
        x[[-4]]
    with pytest.raises(ef.OutOfRangeError, match=r"too many indices .*shape \(3, 4\)"):
        x[0, 0, 0]
    assert_close(x[-3, -4], np.int64(0), dtype=ef.int64)  # negative indices count from the end


def test_core_checks_index_tensor_bounds_when_backend_does_not(device, monkeypatch):
    """A backend whose gathers do not check bounds gets the core's check (min/max kernels)."""
    monkeypatch.setattr(device.backend.backend, "checks_index_bounds", False)
    x = ef.reshape(ef.arange(12), (3, 4))
    with pytest.raises(ef.OutOfRangeError,
                       match=r"getitem: index 7 is out of range for axis 1 of size 4"):
        x[0, ef.asarray([1, 7, 2])]
    with pytest.raises(ef.OutOfRangeError, match=r"getitem: index -4 is out of range for axis 0"):
        x[ef.asarray([-4, 0])]
    with pytest.raises(ef.OutOfRangeError, match=r"setitem: index 3 is out of range for axis 0"):
        x[[3]] = 1
    with pytest.raises(ef.OutOfRangeError, match=r"take: index 4 is out of range for axis 1"):
        ef.take(x, ef.asarray([4]), axis=1)
    with pytest.raises(ef.OutOfRangeError, match=r"take_along_axis: index -5 .*axis 1 of size 4"):
        ef.take_along_axis(x, ef.asarray([[-5], [0], [0]]), axis=1)
    assert_close(x[0, ef.asarray([-4, 3])], np.array([0, 3]), dtype=ef.int64)


def test_getitem_bad_keys(device):
    x = ef.ones((3, 4))
    with pytest.raises(ef.DTypeError, match="getitem: index tensors must have an integer or bool"):
        x[ef.asarray([0.0, 1.0])]
    with pytest.raises(ef.DTypeError, match="float32"):
        x[[0.5]]
    with pytest.raises(ef.ShapeError, match=r"bool mask of shape \(2,\) must match .*\(3,\)"):
        x[ef.asarray([True, False])]
    with pytest.raises(ef.InvalidArgumentError, match="step cannot be zero"):
        x[::0]
    with pytest.raises(ef.InvalidArgumentError, match="at most one ellipsis"):
        x[..., 0, ...]
    with pytest.raises(ef.ArgumentTypeError, match="cannot index with str"):
        x["a"]
    with pytest.raises(ef.ArgumentTypeError, match="slice start must be an int"):
        x[1.5:]


def test_index_tensor_on_another_device(device):
    # A second device of the same backend, made for the test without asking the backend for it.
    other = object.__new__(Device)
    other.type, other.index, other.backend = device.type, 1, device.backend
    other.kernels, other.native, other._name = device.kernels, device.native, f"{device.type}:1"
    idx = new_tensor(device.backend.backend.from_host(np.array([0, 1]), 0), ef.int64, other)
    x = ef.ones((3,))
    with pytest.raises(ef.DeviceError, match=r"index tensor is on .*:1 .*indexed tensor is on"):
        x[idx]
    with pytest.raises(ef.DeviceError):
        x[idx] = 0.0
    with pytest.raises(ef.DeviceError, match="take"):
        ef.take(x, idx)


def test_iteration_and_len(device):
    x = ef.reshape(ef.arange(6), (3, 2))
    rows = list(x)
    assert len(rows) == 3 and all(r.shape == (2,) for r in rows)
    assert_close(rows[2], np.array([4, 5]), dtype=ef.int64)


def test_setitem_keeps_earlier_values(device):
    x = ef.reshape(ef.arange(6, dtype=ef.float32), (2, 3))
    view = x[1:]          # a NumPy view on the NumPy backend
    full = x
    host_before = x.numpy().copy()
    x[1] = 9.0
    assert full is x      # the same Python object now holds the new value
    assert_close(view, host_before[1:], dtype=ef.float32)
    assert_close(x, np.array([[0, 1, 2], [9, 9, 9]]), dtype=ef.float32)
    y = x + 0
    x[0, 0] = -1.0
    assert_close(y, np.array([[0, 1, 2], [9, 9, 9]]), dtype=ef.float32)


def test_setitem_casts_value(device):
    x = ef.zeros((3,), dtype=ef.float32)
    x[0] = ef.asarray([7], dtype=ef.int64)[0]   # int into float: cast
    x[1] = True
    x[2] = ef.asarray(2.5, dtype=ef.float64)    # float64 into float32: cast
    assert_close(x, np.array([7.0, 1.0, 2.5]), dtype=ef.float32)
    i = ef.zeros((2,), dtype=ef.int8)
    i[:] = ef.asarray([1, 2], dtype=ef.int64)
    i[0] = -128
    assert_close(i, np.array([-128, 2]), dtype=ef.int8)
    c = ef.zeros((2,), dtype=ef.complex64)
    c[1] = 1 + 2j
    c[0] = 3.0
    assert_close(c, np.array([3, 1 + 2j]), dtype=ef.complex64)


def test_setitem_refuses_higher_kind_and_bad_shapes(device):
    i = ef.zeros((2, 3), dtype=ef.int32)
    with pytest.raises(ef.DTypeError, match=r"setitem: cannot write a Python float .*int32"
                                            r".*cast explicitly"):
        i[0] = 1.5
    with pytest.raises(ef.DTypeError, match=r"a float32 value .*int32"):
        i[0] = ef.ones((3,))
    with pytest.raises(ef.DTypeError, match="complex"):
        f = ef.zeros((2,))
        f[0] = 1j
    with pytest.raises(ef.DTypeError, match="Python int .*bool"):
        b = ef.zeros((2,), dtype=ef.bool)
        b[0] = 1
    with pytest.raises(ef.InvalidArgumentError, match="300 does not fit int8"):
        s = ef.zeros((2,), dtype=ef.int8)
        s[0] = 300
    with pytest.raises(ef.ShapeError, match=r"value of shape \(2,\) cannot be broadcast to the "
                                            r"indexed shape \(3,\)"):
        i[0] = ef.ones((2,), dtype=ef.int32)
    with pytest.raises(ef.ShapeError, match=r"\(1, 3\) .*indexed shape \(3,\)"):
        i[1] = ef.ones((1, 3), dtype=ef.int32)
    with pytest.raises(ef.ShapeError, match=r"\(4,\) .*indexed shape \(2,\)"):
        m = ef.asarray([[True, False, False], [False, True, False]])
        i[m] = ef.ones((4,), dtype=ef.int32)  # the value must fit the 2 selected elements
    with pytest.raises(ef.ArgumentTypeError, match="value must be a tensor or a Python scalar"):
        i[0] = "x"
    assert_close(i, np.zeros((2, 3)), dtype=ef.int32)  # failed writes changed nothing


def test_setitem_with_mask_and_lists(device):
    host = np.arange(12.0).reshape(3, 4)
    x = ef.asarray(host)
    x[x > 5] = 0.0
    host[host > 5] = 0.0
    x[[0, 2], 1] = ef.asarray([-1.0, -2.0], dtype=ef.float64)
    host[[0, 2], 1] = [-1.0, -2.0]
    x[1] = [5, 6, 7, 8]  # a list value becomes a tensor (int64 into float64: cast)
    host[1] = [5, 6, 7, 8]
    assert_close(x, host, dtype=ef.float64)


def test_take_errors(device):
    x = ef.ones((2, 3))
    i = ef.asarray([0, 1])
    with pytest.raises(ef.InvalidArgumentError, match=r"take: axis is required .*\(2, 3\)"):
        ef.take(x, i)
    with pytest.raises(ef.ShapeError, match=r"take: indices must be 1-D, got shape \(1, 2\)"):
        ef.take(x, ef.asarray([[0, 1]]), axis=0)
    with pytest.raises(ef.DTypeError, match="take: expects an integer indices tensor, not float32"):
        ef.take(x, ef.asarray([0.0]), axis=0)
    with pytest.raises(ef.AxisError, match="take: axis 2 is out of range"):
        ef.take(x, i, axis=2)
    with pytest.raises(ef.OutOfRangeError, match=r"index 3 .*axis 1 .*size 3"):
        ef.take(x, ef.asarray([3]), axis=1)
    with pytest.raises(ef.ShapeError, match="0-d"):
        ef.take(ef.asarray(1.0), i)
    assert ef.take(x, [0], axis=0).shape == (1,) + x.shape[1:]  # a list of indices converts
    with pytest.raises(ef.ArgumentTypeError, match="take: expected a Tensor, got str"):
        ef.take(x, "0", axis=0)


def test_take_along_axis_with_argsort_style_indices(device):
    host = np.array([[3.0, 1.0, 2.0], [0.5, 0.25, 1.0]])
    order = np.argsort(host, axis=-1)
    got = ef.take_along_axis(ef.asarray(host), ef.asarray(order))
    assert_close(got, np.sort(host, axis=-1), dtype=ef.float64)


def test_take_along_axis_errors(device):
    x = ef.ones((2, 3))
    with pytest.raises(ef.ShapeError, match=r"take_along_axis: x of shape \(2, 3\) and indices "
                                            r"of shape \(3,\) must have the same number"):
        ef.take_along_axis(x, ef.asarray([0, 1, 2]))
    with pytest.raises(ef.DTypeError, match="take_along_axis: expects an integer indices"):
        ef.take_along_axis(x, ef.ones((2, 1)))
    with pytest.raises(ef.AxisError, match="take_along_axis: axis -3"):
        ef.take_along_axis(x, ef.asarray([[0]]), axis=-3)
    with pytest.raises(ef.OutOfRangeError, match=r"index 3 .*axis 1 .*size 3"):
        ef.take_along_axis(x, ef.asarray([[3], [0]]), axis=1)
    with pytest.raises(ef.ShapeError, match=r"take_along_axis: .*\(2, 3\) .*\(3, 1\)"):
        ef.take_along_axis(x, ef.asarray([[0], [0], [0]]), axis=1)
