"""Tensor semantics on every device: printing, Python conversions, leaving eagerflow (NumPy,
DLPack), the Array API namespace, control flow on values, and immutability."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import eagerflow_core as ef


def host_copy(t):
    return np.array(t.numpy(), copy=True)


# -- printing ---------------------------------------------------------------------------------

def test_repr_shows_values_shape_dtype_device(device):
    x = ef.constant([[1.5, 2.0], [3.0, 4.0]])
    assert repr(x) == ("ef.Tensor([[1.5, 2. ],\n           [3. , 4. ]], shape=(2, 2), "
                       f"dtype=float32, device='{device}')")
    assert str(x) == repr(x)


@pytest.mark.parametrize("make, text", [
    (lambda: ef.constant(3.5), "ef.Tensor(3.5, shape=(), dtype=float32"),
    (lambda: ef.constant([1, 2, 3]), "ef.Tensor([1, 2, 3], shape=(3,), dtype=int64"),
    (lambda: ef.constant([True, False]), "ef.Tensor([ True, False], shape=(2,), dtype=bool"),
    (lambda: ef.zeros((0, 3)), "ef.Tensor([], shape=(0, 3), dtype=float32"),
    (lambda: ef.asarray([1, 2], dtype=ef.uint8), "ef.Tensor([1, 2], shape=(2,), dtype=uint8"),
    (lambda: ef.asarray([-1.0], dtype=ef.float64), "ef.Tensor([-1.], shape=(1,), dtype=float64"),
])
def test_repr_of_dtypes_and_ranks(device, make, text):
    x = make()
    assert repr(x) == f"{text}, device='{device}')"


def no_bfloat16(device):
    """True (after checking the error) where the backend declares no bfloat16."""
    if ef.bfloat16 in device.native:
        return False
    with pytest.raises(ef.DTypeError, match="bfloat16"):
        ef.asarray([1.0], dtype=ef.bfloat16)
    return True


def test_repr_of_bfloat16_shows_its_values(device):
    if no_bfloat16(device):
        return
    x = ef.asarray([1.5, -2.0], dtype=ef.bfloat16)
    assert repr(x) == f"ef.Tensor([ 1.5, -2. ], shape=(2,), dtype=bfloat16, device='{device}')"


def test_format_of_a_scalar_tensor(device):
    assert f"{ef.constant(2.5):.2f}" == "2.50"
    assert f"{ef.constant(7):>3}" == "  7"
    assert f"{ef.constant([1.0])}" == repr(ef.constant([1.0]))


# -- Python conversions -----------------------------------------------------------------------

def test_bool_of_one_element(device):
    assert bool(ef.constant(True)) is True
    assert bool(ef.constant([0.0])) is False
    assert bool(ef.constant([[3]])) is True


@pytest.mark.parametrize("shape", [(2,), (2, 2), (0,), (3, 0)])
def test_bool_of_many_elements_raises_with_a_hint(device, shape):
    x = ef.ones(shape)
    with pytest.raises(ValueError, match=r"ambiguous.*ef\.any\(x\) or ef\.all\(x\)") as info:
        bool(x)
    assert isinstance(info.value, ef.InvalidArgumentError)
    assert str(shape) in str(info.value)
    with pytest.raises(ValueError):
        if x:  # control flow is where users meet it
            pass


def test_int_float_complex(device):
    assert int(ef.constant(3.9)) == 3 and type(int(ef.constant(3.9))) is int
    assert int(ef.constant([-7])) == -7
    assert float(ef.constant(2)) == 2.0 and type(float(ef.constant(2))) is float
    assert complex(ef.asarray(1 + 2j)) == 1 + 2j
    for conv in (int, float):
        with pytest.raises(ef.EagerflowError, match=r"\(2,\)"):
            conv(ef.constant([1, 2]))


def test_index(device):
    i = ef.constant(1)
    assert operator.index(i) == 1 and [10, 20, 30][i] == 20
    assert list(range(ef.constant(3))) == [0, 1, 2]
    assert "abcd"[ef.asarray(2, dtype=ef.uint8)] == "c"
    with pytest.raises(TypeError, match="only integer tensors"):
        [1, 2][ef.constant(1.0)]
    with pytest.raises(TypeError):
        operator.index(ef.constant(True))  # a bool is no index, as in NumPy
    with pytest.raises(ef.EagerflowError):
        operator.index(ef.constant([1, 2]))


def test_len(device):
    assert len(ef.zeros((4, 2))) == 4 and len(ef.zeros((0, 5))) == 0
    with pytest.raises(TypeError, match="0-d"):
        len(ef.constant(1.0))


def test_iter_yields_sub_tensors(device):
    x = ef.constant([[1, 2], [3, 4], [5, 6]])
    rows = list(x)
    assert len(rows) == 3 and all(isinstance(r, ef.Tensor) for r in rows)
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4], [5, 6]]
    assert all(r.device == device and r.dtype == ef.int64 for r in rows)
    assert [int(v) for v in ef.constant([7, 8])] == [7, 8]
    assert list(ef.zeros((0, 2))) == []
    with pytest.raises(TypeError, match="0-d"):
        iter(ef.constant(1))


@pytest.mark.parametrize("value, dtype, expected, pytype", [
    (3, ef.int64, 3, int), (3, ef.uint8, 3, int), (2.5, ef.float32, 2.5, float),
    (2.5, ef.float16, 2.5, float), (True, ef.bool, True, bool), (1 - 1j, ef.complex64, 1 - 1j, complex),
    (0.1, ef.float64, 0.1, float),
])
def test_item(device, value, dtype, expected, pytype):
    got = ef.asarray([[value]], dtype=dtype).item()
    assert type(got) is pytype and got == expected


def test_item_of_bfloat16(device):
    if no_bfloat16(device):
        return
    got = ef.asarray(1.5, dtype=ef.bfloat16).item()
    assert type(got) is float and got == 1.5
    assert ef.asarray([1.5, 2.0], dtype=ef.bfloat16).tolist() == [1.5, 2.0]


def test_item_of_many_elements(device):
    with pytest.raises(ValueError, match=r"item.*\(2, 3\).*tolist"):
        ef.zeros((2, 3)).item()


def test_tolist(device):
    assert ef.constant([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert ef.constant(5).tolist() == 5
    assert ef.zeros((2, 0)).tolist() == [[], []]
    got = ef.constant([1.5, 2.5]).tolist()
    assert got == [1.5, 2.5] and all(type(v) is float for v in got)
    assert [type(v) for v in ef.constant([True, 1 == 0]).tolist()] == [bool, bool]


@given(st.lists(st.integers(-2**63, 2**63 - 1), min_size=1, max_size=8))
def test_tolist_round_trips_python_ints(values):
    assert ef.asarray(values).tolist() == values


# -- leaving eagerflow: NumPy -----------------------------------------------------------------

def test_numpy_gives_values_and_dtype(device):
    x = ef.asarray([[1, 2, 3]], dtype=ef.int16)
    host = x.numpy()
    assert isinstance(host, np.ndarray) and host.dtype == np.int16 and host.shape == (1, 3)
    np.testing.assert_array_equal(host, [[1, 2, 3]])


def _try_write(arr):
    try:
        arr[...] = 99
    except ValueError:  # read-only: the tensor's own memory is protected
        pass


@pytest.mark.parametrize("export", [
    lambda t: t.numpy(), lambda t: np.asarray(t), lambda t: t.__array__(),
    lambda t: np.asarray(t, dtype=t.dtype.numpy)])
def test_writing_to_an_export_never_changes_the_tensor(device, export):
    x = ef.asarray([1.0, 2.0, 3.0])
    before = host_copy(x)
    _try_write(export(x))
    np.testing.assert_array_equal(x.numpy(), before)
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_np_asarray_and_array(device):
    x = ef.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(np.asarray(x), [[1.0, 2.0], [3.0, 4.0]])
    assert np.asarray(x).dtype == np.float32
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    copied = np.array(x)
    copied[0, 0] = -1.0
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert float(np.sum(x)) == 10.0  # NumPy functions take tensors through __array__


# -- leaving eagerflow: DLPack (CPU memory) ---------------------------------------------------

def test_dlpack_device_of_a_cpu_tensor():
    assert ef.asarray([1.0], device="cpu").__dlpack_device__() == (1, 0)


@pytest.mark.parametrize("dtype", [ef.float32, ef.float64, ef.int8, ef.uint32, ef.bool,
                                   ef.complex128], ids=str)
def test_numpy_from_dlpack_of_a_tensor(dtype):
    x = ef.asarray(np.array([0, 1, 0, 1], dtype=dtype.numpy), device="cpu")
    host = np.from_dlpack(x)
    assert host.dtype == dtype.numpy
    np.testing.assert_array_equal(host, x.numpy())


def test_writing_to_a_dlpack_export_never_changes_the_tensor():
    x = ef.asarray([1.0, 2.0, 3.0], device="cpu")
    _try_write(np.from_dlpack(x))
    assert x.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint8, np.bool_,
                                   np.complex64], ids=lambda d: np.dtype(d).name)
def test_ef_from_dlpack_of_a_numpy_array(dtype):
    host = np.array([[0, 1], [1, 0]], dtype=dtype)
    x = ef.from_dlpack(host)
    assert x.device == "cpu" and x.dtype.numpy == np.dtype(dtype) and x.shape == (2, 2)
    np.testing.assert_array_equal(x.numpy(), host)


def test_dlpack_round_trip_both_ways():
    x = ef.asarray([[1.0, -2.0], [3.5, 0.0]], device="cpu")
    back = ef.from_dlpack(np.from_dlpack(x))
    assert back.dtype is ef.float32 and back.tolist() == x.tolist()
    host = np.arange(6, dtype=np.int16).reshape(2, 3)
    again = np.from_dlpack(ef.from_dlpack(host))
    assert again.dtype == np.int16
    np.testing.assert_array_equal(again, host)
    assert ef.from_dlpack(x).tolist() == x.tolist()  # a tensor is a DLPack producer too


def test_from_dlpack_onto_another_device(device):
    x = ef.from_dlpack(np.array([1.0, 2.0]), device=device)
    assert x.device == device and x.tolist() == [1.0, 2.0]


def test_from_dlpack_of_a_non_producer():
    with pytest.raises(TypeError, match="from_dlpack.*list"):
        ef.from_dlpack([1, 2])


# -- the Array API namespace ------------------------------------------------------------------

def test_array_namespace(device):
    x = ef.ones(2)
    assert x.__array_namespace__() is ef
    assert x.__array_namespace__(api_version="2024.12") is ef
    with pytest.raises(ValueError, match="2021.12"):
        x.__array_namespace__(api_version="2021.12")


def test_attributes(device):
    x = ef.zeros((2, 3, 4), dtype=ef.int32)
    assert (x.shape, x.ndim, x.size, x.dtype, x.device) == ((2, 3, 4), 3, 24, ef.int32, device)
    assert ef.constant(1.0).shape == () and ef.constant(1.0).size == 1


# -- Python control flow on values ------------------------------------------------------------

COLLATZ_12 = [12, 6, 3, 10, 5, 16, 8, 4, 2, 1]


def test_collatz_as_in_the_issue(device):
    a = ef.constant(12)
    seen = [int(a)]
    while not ef.equal(a, 1):
        if ef.equal(a % 2, 0):
            a = a / 2
        else:
            a = 3 * a + 1
        seen.append(int(a))
    assert seen == COLLATZ_12
    assert a.device == device


def test_collatz_with_operators(device):
    n = ef.constant(12)
    seen = [int(n)]
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        seen.append(int(n))
    assert seen == COLLATZ_12 and n.dtype is ef.int64


# -- tensors are values -----------------------------------------------------------------------

def test_tensors_are_unhashable(device):
    x = ef.ones(2)
    with pytest.raises(TypeError, match="unhashable"):
        hash(x)
    with pytest.raises(TypeError):
        {x: 1}
    with pytest.raises(TypeError):
        {ef.constant(1.0)}


def test_augmented_assignment_rebinds(device):
    x = ef.constant([1, 2, 3])
    other = x
    x += 1
    assert x is not other
    assert other.tolist() == [1, 2, 3] and x.tolist() == [2, 3, 4]
    x *= 2
    x -= other
    assert other.tolist() == [1, 2, 3] and x.tolist() == [3, 4, 5]


def test_augmented_assignment_may_change_the_dtype(device):
    x = ef.asarray([1, 2], dtype=ef.int8)
    keep = x
    x += 1
    assert x.dtype is ef.int8
    x /= 2
    assert x.dtype is ef.float32 and x.tolist() == [1.0, 1.5]
    assert keep.dtype is ef.int8 and keep.tolist() == [1, 2]


def test_a_tensor_has_no_writable_attributes(device):
    x = ef.ones(2)
    with pytest.raises(AttributeError):
        x.shape = (1, 2)
    with pytest.raises(AttributeError):
        x.dtype = ef.int8
    with pytest.raises(AttributeError):
        x.anything = 1


def test_asarray_of_a_tensor_shares_nothing_that_can_be_written(device):
    x = ef.asarray([1.0, 2.0])
    y = ef.asarray(x)
    z = ef.add(y, 1.0)
    assert x.tolist() == [1.0, 2.0] and z.tolist() == [2.0, 3.0]
