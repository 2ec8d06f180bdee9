"""Searching (argmax, argmin, count_nonzero, nonzero, searchsorted, where), sorting (sort,
argsort) and set ops (unique_*), on every backend.

Their values on every dtype are checked from the op database by tests/backends/test_ops.py
(``eagerflow_core/testing/opdb/_searching.py``: first occurrences, stable and descending sorts,
sorters); this file holds what the database does not say: result dtypes, NaN, ties, mixed
dtypes in ``where``, the result types of ``unique_*`` and the order of their values, errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core._dtypes import as_dtype
from eagerflow_core.testing import assert_close, reference
from eagerflow_core.testing import strategies as st_ef
from eagerflow_core.testing.opdb import OPDB

FLOATS = st_ef.dtype_list("real floating")

# The `device` fixture only enters `with device:` around the test: sharing it between
# hypothesis examples is what we want.
shared_device = settings(suppress_health_check=[*settings.default.suppress_health_check,
                                                HealthCheck.function_scoped_fixture])

# Result dtypes, written out independently of the core's rules: indices and counts are int64.
INDEX_RESULTS = {"argmax": {}, "argmin": {}, "count_nonzero": {}, "argsort": {},
                 "nonzero": {}, "searchsorted": {"x2": True}}


@pytest.mark.parametrize("name", sorted(INDEX_RESULTS))
def test_indices_and_counts_are_int64(device, name):
    fn = getattr(ef, name)
    for dt in map(as_dtype, OPDB[name].dtypes):
        x = ef.ones((3,), dtype=dt)
        outs = fn(x, x) if INDEX_RESULTS[name] else fn(x)
        for out in (outs if isinstance(outs, tuple) else (outs,)):
            assert out.dtype is ef.int64 and out.device == device, f"{name}({dt})"


@st.composite
def tensors(draw, dtypes, min_dims=0, max_dims=3, max_side=5, low=None, high=None,
            with_nan=False):
    """(dtype, host array); ``with_nan`` puts NaN in some places of real floating arrays."""
    dt = draw(st.sampled_from(dtypes))
    shape = draw(st_ef.shapes(min_dims=min_dims, max_dims=max_dims, max_side=max_side))
    host = draw(st_ef.arrays(dt, shape, low=low, high=high))
    if with_nan and dt.kind == "f":
        host = np.where(draw(st_ef.arrays(ef.bool, shape)), np.nan, host).astype(dt.numpy)
    return dt, host


# -- argmax, argmin, count_nonzero, nonzero, searchsorted ---------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_argmax_argmin_find_nan(device, dtype):
    x = ef.asarray(np.array([1.0, np.nan, 5.0, np.nan]).astype(dtype.numpy))
    assert int(ef.argmax(x)) == 1 and int(ef.argmin(x)) == 1


def test_argmax_argmin_errors(device):
    with pytest.raises(ef.ShapeError, match=r"^argmax: cannot search an empty axis .*\(0, 3\)"):
        ef.argmax(ef.zeros((0, 3)))
    with pytest.raises(ef.ShapeError, match=r"^argmin: .*empty.*axis=0"):
        ef.argmin(ef.zeros((0, 3)), axis=0)
    assert ef.argmin(ef.zeros((0, 3)), axis=1).shape == (0,)
    with pytest.raises(ef.AxisError, match=r"^argmax: axis must be an int or None"):
        ef.argmax(ef.zeros((2, 3)), axis=(0, 1))
    with pytest.raises(ef.AxisError, match=r"^argmin: axis 2 is out of range"):
        ef.argmin(ef.zeros((2, 3)), axis=2)
    with pytest.raises(ef.DTypeError, match=r"^argmax: .*real.*complex64"):
        ef.argmax(ef.asarray(np.array([1j], dtype=np.complex64)))


def test_nonzero_counts_complex_parts_and_refuses_0d(device):
    z = ef.asarray(np.array([0j, 1j, 0j, 2 + 0j], dtype=np.complex64))
    (idx,) = ef.nonzero(z)
    assert idx.tolist() == [1, 3]
    with pytest.raises(ef.ShapeError, match=r"^nonzero: .*0-d"):
        ef.nonzero(ef.asarray(1.0))


def test_searchsorted_scalars_mixed_dtypes_and_nan(device):
    x1 = ef.asarray(np.array([1, 2, 2, 5], dtype=np.int8))
    out = ef.searchsorted(x1, 2)
    assert out.shape == () and int(out) == 1
    assert int(ef.searchsorted(x1, 2.5, side="right")) == 3
    assert ef.searchsorted(x1, ef.asarray(np.array([[2.5], [9.0]]))).tolist() == [[3], [4]]
    # NaNs sort last, consistently with sort (bfloat16 too, whose NumPy compare misplaces NaN).
    for dt in FLOATS:
        f = ef.sort(ef.asarray(np.array([np.nan, 3.0, 1.0]).astype(dt.numpy)))
        assert ef.searchsorted(f, ef.asarray(np.array([2.0, np.nan]).astype(dt.numpy))
                               ).tolist() == [1, 2], dt


def test_searchsorted_errors(device):
    x1 = ef.asarray(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ef.ShapeError, match=r"^searchsorted: x1 must be 1-D.*\(2, 2\)"):
        ef.searchsorted(ef.zeros((2, 2)), x1)
    with pytest.raises(ef.InvalidArgumentError, match=r"^searchsorted: side must be .*'middle'"):
        ef.searchsorted(x1, x1, side="middle")
    with pytest.raises(ef.DTypeError, match=r"^searchsorted: sorter must hold integer.*float"):
        ef.searchsorted(x1, x1, sorter=ef.asarray(np.array([0.0, 1.0, 2.0])))
    with pytest.raises(ef.ShapeError, match=r"^searchsorted: sorter must have the shape of x1 "
                                            r"\(3,\), got \(2,\)"):
        ef.searchsorted(x1, x1, sorter=ef.asarray(np.array([0, 1])))
    with pytest.raises(ef.DTypeError, match=r"^searchsorted: .*complex"):
        ef.searchsorted(ef.asarray(np.array([1j])), ef.asarray(np.array([1j])))
    with pytest.raises(ef.DTypeError, match=r"^searchsorted: no common dtype for uint64 and int64"):
        ef.searchsorted(ef.asarray(np.array([1], dtype=np.uint64)),
                        ef.asarray(np.array([1], dtype=np.int64)))


# -- where -------------------------------------------------------------------------------------

@shared_device
@given(shapes=st_ef.broadcastable_shapes(3, min_dims=0, max_dims=3),
       d1=st_ef.dtypes("all"), d2=st_ef.dtypes("all"), data=st.data())
def test_where_broadcasts_and_promotes(device, shapes, d1, d2, data):
    cond = data.draw(st_ef.arrays(ef.bool, shapes[0]))
    a = data.draw(st_ef.arrays(d1, shapes[1]))
    b = data.draw(st_ef.arrays(d2, shapes[2]))
    try:
        want = ef.result_type(d1, d2)
    except ef.DTypeError:
        with pytest.raises(ef.DTypeError, match=r"^where: no common dtype"):
            ef.where(ef.asarray(cond), ef.asarray(a), ef.asarray(b))
        return
    out = ef.where(ef.asarray(cond), ef.asarray(a), ef.asarray(b))
    expected = np.where(cond, reference(a.astype(want.numpy)), reference(b.astype(want.numpy)))
    assert_close(out, expected, dtype=want)


@pytest.mark.parametrize("dtype, scalar, want", [
    ("int8", 3, "int8"), ("int8", 2.5, "float32"), ("float16", 2.5, "float16"),
    ("bool", True, "bool"), ("uint8", 1j, "complex64"), ("float64", 1j, "complex128")])
def test_where_python_scalars_are_weak(device, dtype, scalar, want):
    cond = ef.asarray(np.array([True, False]))
    x = ef.asarray(np.array([1, 0]).astype(getattr(ef, dtype).numpy))
    for out, picked in ((ef.where(cond, x, scalar), [1, scalar]),
                        (ef.where(cond, scalar, x), [scalar, 0])):
        assert_close(out, np.array(picked, dtype=np.complex128 if isinstance(scalar, complex)
                                   else np.float64), dtype=want)
    assert_close(ef.where(cond, 1.5, 2), np.array([1.5, 2.0]), dtype=ef.float32)


def test_where_errors(device):
    x = ef.zeros(3)
    with pytest.raises(ef.DTypeError, match=r"^where: condition must be a bool tensor, not "
                                            r"float32"):
        ef.where(x, x, x)
    with pytest.raises(ef.ShapeError, match=r"^where: shapes \(2,\) and \(3,\).*cannot be "
                                            r"broadcast"):
        ef.where(ef.asarray(np.array([True, False])), x, 0.0)
    # a list converts on x's device, weak to x's dtype (issue #8's implicit conversion)
    w = ef.where(ef.asarray(np.array([True])), [1.0], x)
    assert w.dtype is x.dtype and w.tolist() == [1.0] * x.shape[0]
    with pytest.raises(ef.ArgumentTypeError, match=r"^where: expected a Tensor"):
        ef.where(ef.asarray(np.array([True])), "1.0", x)
    with pytest.raises(ef.InvalidArgumentError, match=r"^where: the Python int 300 does not fit "
                                                      r"int8"):
        ef.where(ef.asarray(np.array([True])), ef.zeros(1, dtype=ef.int8), 300)
    with pytest.raises(ef.DTypeError, match=r"^where: no common dtype for uint64 and int8"):
        ef.where(ef.asarray(np.array([True])), ef.zeros(1, dtype=ef.uint64),
                 ef.zeros(1, dtype=ef.int8))


def test_where_scalar_condition_and_two_scalars(device):
    x = ef.asarray(np.array([1, 2], dtype=np.int16))
    assert_close(ef.where(True, x, 0), np.array([1, 2]), dtype=ef.int16)
    assert_close(ef.where(False, x, 0.5), np.array([0.5, 0.5]), dtype=ef.float32)
    cond = ef.asarray(np.array([[True], [False]]))
    out = ef.where(cond, 1, 2.5)
    assert_close(out, np.array([[1.0], [2.5]]), dtype=ef.float32)
    assert out.device == cond.device


# -- sort, argsort ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_sort_puts_nan_last_or_first_when_descending(device, dtype):
    x = ef.asarray(np.array([2.0, np.nan, -1.0, 0.5]).astype(dtype.numpy))
    assert_close(ef.sort(x), np.array([-1.0, 0.5, 2.0, np.nan]), dtype=dtype)
    assert_close(ef.sort(x, descending=True), np.array([np.nan, 2.0, 0.5, -1.0]), dtype=dtype)
    assert ef.argsort(x).tolist() == [2, 3, 0, 1]
    assert ef.argsort(x, descending=True).tolist() == [1, 0, 3, 2]


def test_descending_argsort_keeps_ties_in_order(device):
    x = ef.asarray(np.array([[1, 3, 1, 3, 2], [0, 0, 0, 0, 0]], dtype=np.uint8))
    assert ef.argsort(x, descending=True).tolist() == [[1, 3, 4, 0, 2], [0, 1, 2, 3, 4]]
    assert ef.argsort(x, axis=0, descending=True).tolist() == [[0, 0, 0, 0, 0],
                                                               [1, 1, 1, 1, 1]]


def test_unstable_sort_gives_the_stable_sorts_values(device):
    # stable=False may order ties differently (the database checks stable sorts), but the
    # values are the same, and argsort still indexes them
    host = np.array([[3, 1, 3, 2, 1], [0, 5, 5, 0, 5]], dtype=np.int16)
    x = ef.asarray(host)
    for descending in (False, True):
        want = np.sort(host, axis=-1)[:, ::-1] if descending else np.sort(host, axis=-1)
        got = ef.sort(x, descending=descending, stable=False)
        assert_close(got, want, dtype=ef.int16)
        idx = ef.argsort(x, descending=descending, stable=False).numpy()
        np.testing.assert_array_equal(np.take_along_axis(host, idx, axis=-1), want)


def test_sort_0d_and_errors(device):
    s = ef.asarray(np.float32(3.0))
    assert_close(ef.sort(s), np.array(3.0), dtype=ef.float32)
    assert_close(ef.argsort(s), np.array(0), dtype=ef.int64)
    with pytest.raises(ef.AxisError, match=r"^sort: axis 2 is out of range .*valid axes are "
                                           r"-2..1"):
        ef.sort(ef.zeros((2, 3)), axis=2)
    with pytest.raises(ef.AxisError, match=r"^argsort: axis -3 is out of range"):
        ef.argsort(ef.zeros((2, 3)), axis=-3)
    with pytest.raises(ef.DTypeError, match=r"^sort: .*real.*complex64"):
        ef.sort(ef.asarray(np.array([1j], dtype=np.complex64)))
    with pytest.raises(ef.DTypeError, match=r"^argsort: .*complex128"):
        ef.argsort(ef.asarray(np.array([1j])))


# -- unique_* ----------------------------------------------------------------------------------

def _unique_reference(ref):
    return np.unique(ref.reshape(-1), return_index=True, return_inverse=True,
                     return_counts=True, equal_nan=False)


@shared_device
@given(case=tensors(st_ef.dtype_list("all"), low=-3, high=3, with_nan=True))
def test_unique_functions_match_numpy(device, case):
    dt, host = case
    ref = reference(host)
    values, index, inverse, counts = _unique_reference(ref)
    x = ef.asarray(host)

    r = ef.unique_all(x)
    assert type(r).__name__ == "UniqueAllResult"
    assert r._fields == ("values", "indices", "inverse_indices", "counts")
    assert_close(r.values, values, dtype=dt)
    assert_close(r.indices, index, dtype=ef.int64)
    assert_close(r.inverse_indices, inverse.reshape(host.shape), dtype=ef.int64)
    assert_close(r.counts, counts, dtype=ef.int64)

    c = ef.unique_counts(x)
    assert type(c).__name__ == "UniqueCountsResult" and c._fields == ("values", "counts")
    assert_close(c.values, values, dtype=dt)
    assert_close(c.counts, counts, dtype=ef.int64)

    i = ef.unique_inverse(x)
    assert type(i).__name__ == "UniqueInverseResult"
    assert i._fields == ("values", "inverse_indices")
    assert_close(i.values, values, dtype=dt)
    assert_close(i.inverse_indices, inverse.reshape(host.shape), dtype=ef.int64)
    # values[inverse_indices] rebuilds the input (NaN is its own distinct value).
    rebuilt = reference(i.values)[i.inverse_indices.numpy()]
    np.testing.assert_array_equal(rebuilt, ref)

    assert_close(ef.unique_values(x), values, dtype=dt)


@pytest.mark.parametrize("dtype", ["int8", "uint16", "int64", "bfloat16", "float16"])
def test_unique_values_are_sorted(device, dtype):
    host = np.array([5, 3, 9, 3, 1, 5, 7] * 50).astype(getattr(ef, dtype).numpy)
    assert ef.unique_values(ef.asarray(host)).tolist() == [1, 3, 5, 7, 9]


def test_unique_nan_values_are_distinct(device):
    x = ef.asarray(np.array([np.nan, 1.0, np.nan], dtype=np.float32))
    r = ef.unique_counts(x)
    assert r.values.shape == (3,) and r.counts.tolist() == [1, 1, 1]
    assert np.isnan(r.values.numpy()[1:]).all()


def test_unique_of_0d_and_empty(device):
    r = ef.unique_inverse(ef.asarray(np.int32(4)))
    assert r.values.tolist() == [4] and r.inverse_indices.shape == ()
    a = ef.unique_all(ef.zeros((0, 2)))
    assert [t.shape for t in a] == [(0,), (0,), (0, 2), (0,)]


def test_set_ops_take_python_lists_and_refuse_strings(device):
    assert ef.unique_values([2, 1, 2]).tolist() == [1, 2]
    with pytest.raises(ef.ArgumentTypeError, match=r"^unique_values: expected a Tensor"):
        ef.unique_values("1, 2")
