"""Indexing on every backend: x[key], x[key] = v, take, take_along_axis, against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import eagerflow_core as ef
from eagerflow_core._devices import Device
from eagerflow_core._tensor import new_tensor
from eagerflow_core.testing import assert_close
from eagerflow_core.testing import strategies as st_ef

DTYPES = [ef.float32, ef.float64, ef.float16, ef.bfloat16, ef.int8, ef.int64, ef.uint8,
          ef.bool, ef.complex64]
# The `device` fixture is function-scoped but holds no per-example state, so sharing it across
# the examples of one test is safe (tests/conftest.py's profiles do not suppress this check yet).
FIXTURE_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
              HealthCheck.data_too_large]
SCALAR_FOR_KIND = {"b": True, "i": 5, "u": 5, "f": 2.5, "c": 1 + 2j}


def host_array(shape, dtype: ef.DType) -> np.ndarray:
    """Distinct-ish values so that a wrong position shows up as a wrong value."""
    vals = np.arange(int(np.prod(shape, dtype=np.int64))) % 97
    if dtype.kind == "b":
        vals = vals % 2
    return vals.astype(dtype.numpy).reshape(shape)


def to_ef_key(key):
    """The key with NumPy arrays as tensors on the current device (lists stay lists)."""
    parts = key if isinstance(key, tuple) else (key,)
    out = tuple(ef.asarray(k) if isinstance(k, np.ndarray) else k for k in parts)
    return out if isinstance(key, tuple) else out[0]


@st.composite
def advanced_keys(draw, shape, unique=False):
    """Keys mixing ints, slices, integer arrays, lists, one bool mask, None and Ellipsis.

    ``unique``: at most one integer array, with distinct elements (so a write is well defined
    whatever order a backend writes in)."""
    ndim = len(shape)
    parts, arrays = [], []
    axis, mask_count = 0, None
    while axis < ndim:
        kinds = ["int", "slice", "full", "array", "list"]
        if mask_count is None:
            kinds.append("mask")
        if unique and arrays:
            kinds = [k for k in kinds if k not in ("array", "list")]
        kind = draw(st.sampled_from(kinds))
        n = shape[axis]
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
            axis += 1
        elif kind in ("slice", "full"):
            parts.append(slice(None) if kind == "full" else
                         slice(draw(st.none() | st.integers(-n - 1, n + 1)),
                               draw(st.none() | st.integers(-n - 1, n + 1)),
                               draw(st.none() | st.sampled_from([1, 2, -1, -2]))))
            axis += 1
        elif kind == "mask":
            k = draw(st.integers(1, min(2, ndim - axis)))
            mask = draw(hnp.arrays(np.bool_, shape[axis:axis + k]))
            mask_count = int(mask.sum())
            parts.append(mask)
            axis += k
        else:
            arrays.append((len(parts), kind, n))
            parts.append(None)  # filled below, once the common index shape is known
            axis += 1
    if arrays:
        if unique:
            ishape = None
        elif mask_count is not None:
            ishape = draw(st.sampled_from([(mask_count,), (1,)]))
        else:
            ishape = draw(st_ef.shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
        for pos, kind, n in arrays:
            if unique:
                perm = draw(st.permutations(range(n)))
                if mask_count is None:
                    size = draw(st.integers(0, n))
                else:  # as long as the mask's selection, or 1 (broadcast against it)
                    size = mask_count if mask_count <= n else 1
                arr = np.asarray(perm[:size], dtype=np.int64)
            else:
                arr = draw(hnp.arrays(np.int64, ishape, elements=st.integers(-n, n - 1)))
            parts[pos] = arr.tolist() if kind == "list" and arr.ndim == 1 else arr
    # An ellipsis stands for a run (maybe empty) of full slices; else drop trailing ones.
    full = [isinstance(p, slice) and p == slice(None) for p in parts]
    if draw(st.booleans()):
        i = draw(st.integers(0, len(parts)))
        j = i
        while j < len(parts) and full[j] and draw(st.booleans()):
            j += 1
        parts[i:j] = [Ellipsis]
    else:
        while parts and full[len(parts) - 1] and draw(st.booleans()):
            full.pop()
            parts.pop()
    for _ in range(draw(st.integers(0, 2))):  # None, and rarely a Python bool (a 0-d mask)
        extra = draw(st.sampled_from([None] if unique else [None, None, None, True, False]))
        parts.insert(draw(st.integers(0, len(parts))), extra)
    return tuple(parts) if len(parts) != 1 or draw(st.booleans()) else parts[0]


# -- getitem -------------------------------------------------------------------------------------

@given(data=st.data(), shape=st_ef.shapes(min_dims=0, max_dims=4), dtype=st.sampled_from(DTYPES))
@settings(suppress_health_check=FIXTURE_OK)
def test_basic_getitem_matches_numpy(device, data, shape, dtype):
    host = host_array(shape, dtype)
    key = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True), "key")
    x = ef.asarray(host)
    assert_close(x[key], host[key], dtype=dtype)


@given(data=st.data(), shape=st_ef.shapes(min_dims=1, max_dims=4, min_side=1, max_side=4),
       dtype=st.sampled_from(DTYPES))
@settings(suppress_health_check=FIXTURE_OK, max_examples=60)
def test_advanced_getitem_matches_numpy(device, data, shape, dtype):
    host = host_array(shape, dtype)
    key = data.draw(advanced_keys(shape), "key")
    try:
        expected = host[key]
    except IndexError:  # index arrays that do not broadcast together: both must refuse
        with pytest.raises((ef.ShapeError, ef.OutOfRangeError)):
            ef.asarray(host)[to_ef_key(key)]
        return
    assert_close(ef.asarray(host)[to_ef_key(key)], expected, dtype=dtype)


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


# -- setitem -------------------------------------------------------------------------------------

@given(data=st.data(), shape=st_ef.shapes(min_dims=0, max_dims=4), dtype=st.sampled_from(DTYPES))
@settings(suppress_health_check=FIXTURE_OK)
def test_basic_setitem_matches_numpy(device, data, shape, dtype):
    host = host_array(shape, dtype)
    key = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True), "key")
    target = host[key].shape
    if data.draw(st.booleans(), "scalar value"):
        value = SCALAR_FOR_KIND[dtype.kind]
        ef_value = value
    else:  # a tensor of a broadcastable shape: some leading axes dropped, some sizes 1
        drop = data.draw(st.integers(0, len(target)), "drop")
        vshape = tuple(d if data.draw(st.booleans()) else 1 for d in target[drop:])
        value = (np.arange(int(np.prod(vshape))) + 50).astype(dtype.numpy).reshape(vshape)
        ef_value = ef.asarray(value)
    x = ef.asarray(host)
    x_id = id(x)
    x[key] = ef_value
    expected = host.copy()
    expected[key] = value
    assert id(x) == x_id
    assert_close(x, expected, dtype=dtype)


@given(data=st.data(), shape=st_ef.shapes(min_dims=1, max_dims=4, min_side=1, max_side=4),
       dtype=st.sampled_from(DTYPES))
@settings(suppress_health_check=FIXTURE_OK, max_examples=60)
def test_advanced_setitem_matches_numpy(device, data, shape, dtype):
    host = host_array(shape, dtype)
    key = data.draw(advanced_keys(shape, unique=True), "key")
    target = host[key].shape
    value = (np.arange(int(np.prod(target))) + 50).astype(dtype.numpy).reshape(target)
    x = ef.asarray(host)
    x[to_ef_key(key)] = ef.asarray(value)  # the exact indexed shape: tests the core's shape walk
    expected = host.copy()
    expected[key] = value
    assert_close(x, expected, dtype=dtype)
    x[to_ef_key(key)] = SCALAR_FOR_KIND[dtype.kind]
    expected[key] = SCALAR_FOR_KIND[dtype.kind]
    assert_close(x, expected, dtype=dtype)


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


# -- take, take_along_axis -----------------------------------------------------------------------

@given(data=st.data(), shape=st_ef.shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
       dtype=st.sampled_from(DTYPES), idx_dtype=st.sampled_from([ef.int64, ef.int32, ef.uint8]))
@settings(suppress_health_check=FIXTURE_OK)
def test_take_matches_numpy(device, data, shape, dtype, idx_dtype):
    host = host_array(shape, dtype)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), "axis")
    n = shape[axis]
    lo = 0 if idx_dtype.kind == "u" else -n
    idx = data.draw(hnp.arrays(np.int64, data.draw(st.integers(0, 5)),
                               elements=st.integers(lo, n - 1)), "indices")
    got = ef.take(ef.asarray(host), ef.asarray(idx, dtype=idx_dtype), axis=axis)
    assert_close(got, np.take(host, idx, axis=axis), dtype=dtype)
    if len(shape) == 1:
        got = ef.take(ef.asarray(host), ef.asarray(idx, dtype=idx_dtype))
        assert_close(got, np.take(host, idx), dtype=dtype)


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


@given(data=st.data(), shape=st_ef.shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
       dtype=st.sampled_from(DTYPES))
@settings(suppress_health_check=FIXTURE_OK)
def test_take_along_axis_matches_numpy(device, data, shape, dtype):
    host = host_array(shape, dtype)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), "axis")
    n = shape[axis]
    # the other axes either match or are 1 (broadcast); the indexed axis has any length
    ishape = tuple(data.draw(st.integers(0, 4)) if i == axis % len(shape) else
                   data.draw(st.sampled_from([d, 1])) for i, d in enumerate(shape))
    idx = data.draw(hnp.arrays(np.int64, ishape, elements=st.integers(-n, n - 1)), "indices")
    got = ef.take_along_axis(ef.asarray(host), ef.asarray(idx), axis=axis)
    assert_close(got, np.take_along_axis(host, idx, axis=axis), dtype=dtype)


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
