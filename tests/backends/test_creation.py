"""Creation ops on every backend: from Python data, NumPy arrays and DLPack, from nothing, the
``*_like`` family, grids and triangles, and dtype conversion.

The values of zeros, ones, empty, full, arange, linspace, eye, asarray, astype, meshgrid, tril
and triu on every dtype are checked from the op database by tests/backends/test_ops.py
(``eagerflow_core/testing/opdb/_creation.py``); this file holds what the database does not say:
the dtypes asked for and the default ones, every cast pair, mixed dtypes, copies, DLPack, errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core.testing import assert_close
from eagerflow_core.testing import strategies as st_ef

# The `device` fixture holds no per-example state, so sharing it across examples is safe
# (tests/conftest.py's profiles do not suppress this check yet).
FIXTURE_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
              HealthCheck.data_too_large]
DTYPES = [ef.bool, ef.int8, ef.int16, ef.int32, ef.int64, ef.uint8, ef.uint16, ef.uint32,
          ef.uint64, ef.float16, ef.bfloat16, ef.float32, ef.float64, ef.complex64, ef.complex128]


def host_array(shape, dtype: ef.DType) -> np.ndarray:
    vals = np.arange(int(np.prod(shape, dtype=np.int64))) % 50
    if dtype.kind == "b":
        vals = vals % 2
    elif dtype.kind == "i":
        vals = vals - 20
    return vals.astype(dtype.numpy).reshape(shape)


def shares_host_memory(device) -> bool:
    return device.backend.backend.dlpack_device_type == 1


# -- from Python data and NumPy arrays ------------------------------------------------------------

def test_asarray_python_defaults(device):
    cases = [(1.5, ef.float32), (3, ef.int64), (True, ef.bool), (1 + 2j, ef.complex64),
             ([1, 2], ef.int64), ([1, 2.5], ef.float32), ([[True, False]], ef.bool),
             ([[1], [2]], ef.int64), ([], ef.float32)]
    for value, dtype in cases:
        t = ef.asarray(value)
        assert t.device == device
        assert_close(t, np.asarray(value), dtype=dtype, msg=f"{value!r}: ")


@given(shape=st_ef.shapes(max_dims=3), dtype=st.sampled_from(DTYPES))
@settings(suppress_health_check=FIXTURE_OK)
def test_asarray_and_constant_keep_numpy_dtypes(device, shape, dtype):
    host = host_array(shape, dtype)
    for make in (ef.asarray, ef.constant):
        t = make(host)
        assert t.device == device
        assert_close(t, host, dtype=dtype)
    assert ef.asarray(np.zeros(shape)).dtype is ef.float64  # NumPy arrays keep their dtype
    assert ef.asarray(np.float64(2.0)).dtype is ef.float64            # and NumPy scalars too


def test_asarray_dtype_and_device_arguments(device):
    t = ef.asarray([1, 2], dtype=ef.uint8, device=device)
    assert_close(t, np.array([1, 2]), dtype=ef.uint8)
    assert ef.asarray([1, 2], dtype="float64").dtype is ef.float64
    f = ef.asarray(t, dtype=ef.float32)  # from a tensor: a cast
    assert_close(f, np.array([1.0, 2.0]), dtype=ef.float32)
    assert ef.asarray(t) is t            # tensors are immutable: no copy needed


def test_asarray_copy_semantics(device):
    src = np.arange(4.0)
    owned = ef.asarray(src)  # a tensor owns its memory unless sharing is asked for (issue #9)
    assert not np.shares_memory(owned.numpy(), src)
    src[0] = 100.0
    assert owned.numpy()[0] == 0.0
    copied = ef.asarray(src, copy=True)
    assert not np.shares_memory(copied.numpy(), src)
    if shares_host_memory(device):
        assert np.shares_memory(ef.asarray(src, copy=False).numpy(), src)
    else:
        with pytest.raises(ef.InvalidArgumentError, match="copy=False, but moving host memory"):
            ef.asarray(src, copy=False)
    with pytest.raises(ef.InvalidArgumentError, match="asarray: copy=False, but converting "
                                                      "float64 to float32 copies"):
        ef.asarray(src, dtype=ef.float32, copy=False)
    with pytest.raises(ValueError, match="asarray: copy=False, but making a tensor from a list"):
        ef.asarray([1.0, 2.0], copy=False)
    with pytest.raises(ef.InvalidArgumentError, match="changing the dtype copies"):
        ef.asarray(copied, dtype=ef.float32, copy=False)
    assert ef.asarray(copied, copy=False) is copied


def test_constant_copies_and_shapes(device):
    src = np.arange(6.0)
    c = ef.constant(src)
    src[0] = 100.0
    assert_close(c, np.arange(6.0), dtype=ef.float64)  # a later write to src does not show
    assert_close(ef.constant(2, shape=(2, 2)), np.full((2, 2), 2), dtype=ef.int64)
    assert_close(ef.constant([1, 2, 3, 4], shape=(2, 2)), np.arange(1, 5).reshape(2, 2),
                 dtype=ef.int64)
    assert_close(ef.constant([1, 2], dtype=ef.float64), np.array([1.0, 2.0]), dtype=ef.float64)
    with pytest.raises(ef.ShapeError, match=r"constant: a value of 3 elements cannot fill "
                                            r"shape \(2, 2\)"):
        ef.constant([1, 2, 3], shape=(2, 2))


def test_asarray_errors(device):
    with pytest.raises(ef.InvalidArgumentError, match="asarray: cannot make a tensor from list"):
        ef.asarray([[1, 2], [3]])
    with pytest.raises(ef.ArgumentTypeError, match="asarray: cannot make a tensor from str"):
        ef.asarray("abc")
    with pytest.raises(ef.ArgumentTypeError):
        ef.asarray(None)


def test_requested_and_default_dtypes(device):
    for dt in DTYPES:
        made = [ef.zeros((2,), dtype=dt), ef.ones(2, dtype=dt), ef.empty((2, 1), dtype=dt),
                ef.full((2,), 1, dtype=dt), ef.eye(2, dtype=dt)]
        if dt.kind != "b":
            made.append(ef.arange(3, dtype=dt))
        if dt.kind in "fc":
            made.append(ef.linspace(0, 1, 3, dtype=dt))
        for t in made:
            assert t.dtype is dt and t.device == device, dt
    defaults = {ef.int64: [ef.arange(3), ef.arange(1, 5, 2)],
                ef.float32: [ef.arange(0.5), ef.arange(0, 1, 0.25), ef.linspace(0, 1, 3),
                             ef.eye(2), ef.zeros(2), ef.ones(2), ef.empty(2)],
                ef.complex64: [ef.linspace(0, 1j, 3)]}
    for dt, made in defaults.items():
        assert all(t.dtype is dt for t in made), dt


def test_creation_defaults(device):
    assert ef.zeros((2,)).dtype is ef.float32 and ef.ones(3).shape == (3,)
    assert ef.zeros(()).shape == () and ef.zeros(0).shape == (0,)
    for value, dtype in ((1.5, ef.float32), (2, ef.int64), (False, ef.bool), (1j, ef.complex64)):
        assert_close(ef.full((2,), value), np.full((2,), value), dtype=dtype)
    with pytest.raises(ef.InvalidArgumentError, match="full: fill_value 300 does not fit int8"):
        ef.full((2,), 300, dtype=ef.int8)
    with pytest.raises(ef.ArgumentTypeError, match="full: fill_value must be a Python scalar"):
        ef.full((2,), "a")
    with pytest.raises(ef.ShapeError, match=r"zeros: shape \(2, -1\) has a negative size"):
        ef.zeros((2, -1))
    with pytest.raises(ef.ArgumentTypeError, match="ones: shape must be an int or a sequence"):
        ef.ones(2.5)


def test_arange_floats_and_errors(device):
    assert_close(ef.arange(0, 1, 0.25), np.arange(0, 1, 0.25), dtype=ef.float32)
    assert_close(ef.arange(2.0), np.arange(2.0), dtype=ef.float32)
    assert_close(ef.arange(5, 0, -2, dtype=ef.float64), np.arange(5, 0, -2), dtype=ef.float64)
    with pytest.raises(ef.InvalidArgumentError, match="arange: step must not be zero"):
        ef.arange(0, 5, 0)


def test_linspace_complex_and_errors(device):
    assert_close(ef.linspace(0, 1j, 3), np.linspace(0, 1j, 3), dtype=ef.complex64)
    with pytest.raises(ef.InvalidArgumentError, match="linspace: num must be a non-negative int"):
        ef.linspace(0, 1, -1)


def test_eye_errors(device):
    with pytest.raises(ef.InvalidArgumentError, match="eye: n_rows must be a non-negative int"):
        ef.eye(-1)
    with pytest.raises(ef.InvalidArgumentError, match="eye: n_cols"):
        ef.eye(2, 1.5)


def test_like_family(device):
    x = ef.asarray(np.arange(6, dtype=np.int16).reshape(2, 3))
    for fn, value in ((ef.zeros_like, 0), (ef.ones_like, 1)):
        out = fn(x)
        assert out.device == x.device
        assert_close(out, np.full((2, 3), value), dtype=ef.int16)
        assert_close(fn(x, dtype=ef.float64), np.full((2, 3), value), dtype=ef.float64)
    assert_close(ef.full_like(x, 4), np.full((2, 3), 4), dtype=ef.int16)
    assert_close(ef.full_like(x, 0.5, dtype=ef.float32), np.full((2, 3), 0.5), dtype=ef.float32)
    e = ef.empty_like(x)
    assert e.shape == (2, 3) and e.dtype is ef.int16
    z = ef.zeros_like([1, 2])  # a list converts as ef.asarray would (issue #8)
    assert z.dtype is ef.asarray([1, 2]).dtype and z.tolist() == [0, 0]
    with pytest.raises(ef.ArgumentTypeError, match="zeros: expected a Tensor"):
        ef.zeros_like("12")


# -- grids and triangles --------------------------------------------------------------------------

@given(lengths=st.lists(st.integers(0, 4), min_size=1, max_size=3),
       dts=st.lists(st.sampled_from([ef.int8, ef.int64, ef.float32, ef.float64, ef.bfloat16]),
                    min_size=3, max_size=3),
       indexing=st.sampled_from(["xy", "ij"]))
@settings(suppress_health_check=FIXTURE_OK)
def test_meshgrid(device, lengths, dts, indexing):
    hosts = [host_array((n,), d) for n, d in zip(lengths, dts)]
    want = ef.result_type(*dts[:len(lengths)])
    got = ef.meshgrid(*[ef.asarray(h) for h in hosts], indexing=indexing)
    expected = np.meshgrid(*[h.astype(want.numpy) for h in hosts], indexing=indexing)
    assert isinstance(got, list) and len(got) == len(lengths)
    for g, e in zip(got, expected):
        assert_close(g, e, dtype=want)


def test_meshgrid_errors_and_edge_cases(device):
    assert ef.meshgrid() == []
    with pytest.raises(ef.ShapeError, match=r"meshgrid: every input must be 1-D; input 1 has "
                                            r"shape \(2, 2\)"):
        ef.meshgrid(ef.ones(3), ef.ones((2, 2)))
    with pytest.raises(ef.InvalidArgumentError, match="meshgrid: indexing must be 'xy' or 'ij'"):
        ef.meshgrid(ef.ones(3), indexing="yx")


def test_tril_triu_errors(device):
    with pytest.raises(ef.ShapeError, match=r"tril: needs a tensor of at least 2 dimensions .*"
                                            r"shape \(3,\)"):
        ef.tril(ef.ones(3))
    with pytest.raises(ef.ShapeError, match="triu: needs a tensor of at least 2"):
        ef.triu(ef.asarray(1.0))
    with pytest.raises(ef.ArgumentTypeError, match="triu: k must be an int"):
        ef.triu(ef.ones((2, 2)), k=0.5)


# -- conversion -----------------------------------------------------------------------------------

@given(shape=st_ef.shapes(max_dims=3), src=st.sampled_from(DTYPES), dst=st.sampled_from(DTYPES))
@settings(suppress_health_check=FIXTURE_OK)
def test_astype(device, shape, src, dst):
    host = host_array(shape, src)
    x = ef.asarray(host)
    if src.kind == "c" and dst.kind != "c":
        with pytest.raises(ef.DTypeError, match="astype: casting .* would drop the imaginary"):
            ef.astype(x, dst)
        return
    assert_close(ef.astype(x, dst), host.astype(dst.numpy), dtype=dst)
    assert_close(x.astype(dst), host.astype(dst.numpy), dtype=dst)


def test_astype_copy_flag_and_cast_alias(device):
    x = ef.ones((2,))
    assert ef.astype(x, ef.float32, copy=False) is x
    y = ef.astype(x, ef.float32)
    assert y is not x and y.dtype is ef.float32
    assert_close(ef.cast(ef.asarray([1.7, -1.7]), ef.int32), np.array([1, -1]), dtype=ef.int32)
    with pytest.raises(ef.DTypeError):
        ef.astype(x, "not-a-dtype")


def test_from_dlpack(device):
    src = np.arange(4, dtype=np.int32)
    t = ef.from_dlpack(src)
    assert t.device == ef.device("cpu") and np.shares_memory(t.numpy(), src)
    assert_close(t, src, dtype=ef.int32)
    moved = ef.from_dlpack(src, device=device)
    assert moved.device == device
    assert_close(moved, src, dtype=ef.int32)
    back = ef.from_dlpack(moved)  # a tensor is a DLPack producer too
    assert back.device == device
    assert_close(back, src, dtype=ef.int32)
    with pytest.raises(ef.ArgumentTypeError, match="from_dlpack: list has no __dlpack__"):
        ef.from_dlpack([1, 2])
