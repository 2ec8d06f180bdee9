"""Statistical reductions (sum, prod, mean, min, max, var, std, cumulative_sum/prod), the
utility ops (all, any, diff) and the TensorFlow aliases, on every backend.

Their values on every dtype, axis and keepdims are checked from the op database by
tests/backends/test_ops.py (``eagerflow_core/testing/opdb/_reductions.py``); this file holds
what the database does not say: the result dtypes, written out independently of the core's
rules, explicit dtypes, accumulation precision, identities, NaN, errors and aliases.
"""

from __future__ import annotations

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core._dtypes import as_dtype
from eagerflow_core.testing import assert_close, reference
from eagerflow_core.testing import strategies as st_ef
from eagerflow_core.testing.opdb import OPDB

FLOATS = st_ef.dtype_list("real floating")


# -- result dtypes -----------------------------------------------------------------------------

def accumulation_dtype(dt):
    """The standard's sum/prod dtype, written out independently of the core's rule."""
    if dt.kind == "b" or (dt.kind == "i" and dt.itemsize < 8):
        return ef.int64
    if dt.kind == "u" and dt.itemsize < 8:
        return ef.uint64
    return dt


def float_result(dt):
    return dt if dt.kind in "fc" else ef.float32


RESULT = {"sum": accumulation_dtype, "prod": accumulation_dtype,
          "cumulative_sum": accumulation_dtype, "cumulative_prod": accumulation_dtype,
          "mean": float_result, "var": float_result, "std": float_result,
          "max": lambda dt: dt, "min": lambda dt: dt, "diff": lambda dt: dt,
          "all": lambda dt: ef.bool, "any": lambda dt: ef.bool}


@pytest.mark.parametrize("name", sorted(RESULT))
def test_result_dtypes(device, name):
    fn = getattr(ef, name)
    for dt in map(as_dtype, OPDB[name].dtypes):  # the dtypes the op takes
        out = fn(ef.ones((2, 3), dtype=dt), axis=-1)
        assert out.dtype is RESULT[name](dt) and out.device == device, f"{name}({dt})"


# -- sum, prod ---------------------------------------------------------------------------------

def test_sum_and_prod_take_an_explicit_dtype(device):
    x = ef.asarray(np.array([100, 100, 100], dtype=np.int8))
    assert_close(ef.sum(x, dtype=ef.int16), np.array(300), dtype=ef.int16)
    assert_close(ef.sum(x, dtype="float32"), np.array(300.0), dtype=ef.float32)
    assert_close(ef.prod(x, dtype=ef.int64), np.array(10**6), dtype=ef.int64)
    u = ef.asarray(np.array([200, 200], dtype=np.uint8))
    assert_close(ef.sum(u), np.array(400), dtype=ef.uint64)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_sums_accumulate_in_float32(device, dtype):
    # 1000 values of 0.1: accumulating in the 16-bit dtype itself drifts by whole units.
    host = np.full(1000, 0.1, dtype=getattr(ef, dtype).numpy)
    exact = reference(host).sum()
    assert_close(ef.sum(ef.asarray(host)), exact, dtype=dtype)
    assert_close(ef.cumulative_sum(ef.asarray(host))[-1:], np.array([exact]), dtype=dtype)


def test_empty_sum_and_prod_are_their_identities(device):
    x = ef.zeros((0, 3))
    assert_close(ef.sum(x), np.array(0.0), dtype=ef.float32)
    assert_close(ef.prod(x, axis=0), np.ones(3), dtype=ef.float32)
    assert_close(ef.prod(ef.zeros((2, 0), dtype=ef.int8), axis=1), np.ones(2), dtype=ef.int64)


# -- min, max ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_max_and_min_propagate_nan(device, dtype):
    host = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, -1.0]]).astype(dtype.numpy)
    x = ef.asarray(host)
    assert_close(ef.max(x, axis=1), np.array([np.nan, 5.0]), dtype=dtype)
    assert_close(ef.min(x, axis=1), np.array([np.nan, -1.0]), dtype=dtype)
    assert np.isnan(float(ef.max(x))) and np.isnan(float(ef.min(x)))


@pytest.mark.parametrize("fn, word", [(ef.max, "maximum"), (ef.min, "minimum")])
def test_max_and_min_of_nothing_raise_a_clear_error(device, fn, word):
    name = fn.__name__
    with pytest.raises(ef.ShapeError, match=rf"^{name}: .*{word} over axis 0 of shape \(0, 3\)"):
        fn(ef.zeros((0, 3)))
    with pytest.raises(ef.ShapeError, match=r"axis 1 of shape \(2, 0\).*no identity"):
        fn(ef.zeros((2, 0)), axis=-1, keepdims=True)
    # Empty results are fine when the reduced axes are not empty.
    assert_close(fn(ef.zeros((0, 3)), axis=1), np.zeros(0), dtype=ef.float32)


def test_max_min_refuse_complex_and_bad_axes(device):
    z = ef.asarray(np.array([1 + 2j]))
    with pytest.raises(ef.DTypeError, match=r"^max: .*real.*complex128"):
        ef.max(z)
    with pytest.raises(ef.AxisError, match=r"^min: axis 2 is out of range .* 2 dimension"):
        ef.min(ef.zeros((2, 3)), axis=2)
    with pytest.raises(ef.AxisError, match=r"^max: .*repeats"):
        ef.max(ef.zeros((2, 3)), axis=(0, -2))


# -- mean, var, std ----------------------------------------------------------------------------

def test_var_std_refuse_complex_and_negative_correction(device):
    z = ef.asarray(np.array([1 + 2j], dtype=np.complex64))
    with pytest.raises(ef.DTypeError, match=r"^var: .*real.*complex64"):
        ef.var(z)
    with pytest.raises(ef.DTypeError, match=r"^std: .*complex64"):
        ef.std(z)
    with pytest.raises(ef.InvalidArgumentError, match=r"^var: correction must be .*-1"):
        ef.var(ef.ones(3), correction=-1)
    with pytest.raises(ef.InvalidArgumentError, match=r"^std: correction .*'1'"):
        ef.std(ef.ones(3), correction="1")


def test_mean_of_complex_keeps_complex(device):
    host = np.array([1 + 1j, 3 - 1j], dtype=np.complex64)
    assert_close(ef.mean(ef.asarray(host)), np.array(2 + 0j), dtype=ef.complex64)


# -- cumulative_sum, cumulative_prod -----------------------------------------------------------

def test_cumulative_sum_takes_a_dtype(device):
    x = ef.asarray(np.array([100, 100], dtype=np.int8))
    assert_close(ef.cumulative_sum(x, dtype=ef.int16), np.array([100, 200]), dtype=ef.int16)
    assert_close(ef.cumulative_prod(x, dtype=ef.float64, include_initial=True),
                 np.array([1.0, 100.0, 1e4]), dtype=ef.float64)


def test_cumulative_errors_name_the_op_and_shape(device):
    with pytest.raises(ef.AxisError, match=r"^cumulative_sum: axis must be given .*\(2, 3\)"):
        ef.cumulative_sum(ef.zeros((2, 3)))
    with pytest.raises(ef.ShapeError, match=r"^cumulative_prod: .*0-d"):
        ef.cumulative_prod(ef.asarray(3.0))
    with pytest.raises(ef.ShapeError, match=r"^cumulative_sum: .*0-d"):
        ef.cumulative_sum(ef.asarray(3.0), axis=0)
    with pytest.raises(ef.AxisError, match=r"^cumulative_sum: axis 2 is out of range"):
        ef.cumulative_sum(ef.zeros((2, 3)), axis=2)


# -- reductions in general ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["sum", "prod", "mean", "max", "min", "var", "std", "all",
                                  "any", "count_nonzero"])
def test_reductions_of_a_0d_tensor_and_list_axes(device, name):
    fn = getattr(ef, name)
    x = ef.asarray(np.float32(2.5))
    out = fn(x)
    assert out.shape == () and out.device == device
    y = ef.asarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert fn(y, axis=[0, 1], keepdims=True).shape == (1, 1)


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "max", "min", "var", "std",
                                  "cumulative_sum", "all", "any"])
def test_reductions_take_python_lists_and_refuse_other_objects(device, name):
    # TensorFlow's tf.reduce_sum([1., 2.]) works, so does ef.sum([1., 2.]) (issue #8).
    want = getattr(ef, name)(ef.constant([1.0, 2.0]))
    got = getattr(ef, name)([1.0, 2.0])
    assert got.dtype == want.dtype and got.tolist() == want.tolist()
    with pytest.raises(ef.ArgumentTypeError, match=rf"^{name}: expected a Tensor.*builtins.str"):
        getattr(ef, name)("1.0, 2.0")


def test_tensorflow_aliases(device):
    host = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = ef.asarray(host)
    assert_close(ef.reduce_sum(x, axis=1), host.sum(1), dtype=ef.float32)
    assert_close(ef.reduce_mean(x, 0, True), host.mean(0, keepdims=True), dtype=ef.float32)
    assert_close(ef.reduce_max(x, axis=-1, keepdims=True), host.max(-1, keepdims=True),
                 dtype=ef.float32)
    assert_close(ef.reduce_min(x), host.min(), dtype=ef.float32)
    assert_close(ef.reduce_prod(x + 1, axis=0), (host + 1).prod(0), dtype=ef.float32)
    assert_close(ef.reduce_mean(ef.asarray(np.array([1, 2]))), np.array(1.5), dtype=ef.float32)


# -- all, any, diff ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "complex64"])
def test_all_any_count_nan_inf_and_imaginary_parts_as_true(device, dtype):
    values = [np.nan, -np.inf] if dtype != "complex64" else [1j, -2j]
    x = ef.asarray(np.array(values).astype(getattr(ef, dtype).numpy))
    assert bool(ef.all(x)) and bool(ef.any(x))
    empty = ef.zeros((0,), dtype=dtype)
    assert bool(ef.all(empty)) is True and bool(ef.any(empty)) is False


def test_diff_scalars_promote_weakly_and_stand_for_one_slice(device):
    x = ef.asarray(np.array([[1, 2], [4, 8]], dtype=np.int8))
    assert_close(ef.diff(x, axis=0, prepend=0), np.array([[1, 2], [3, 6]]), dtype=ef.int8)
    assert_close(ef.diff(x, append=0.5), np.array([[1, -1.5], [4, -7.5]]), dtype=ef.float32)
    assert_close(ef.diff(x, prepend=ef.asarray(np.int8(1))), np.array([[0, 1], [3, 4]]),
                 dtype=ef.int8)
    assert_close(ef.diff(x, prepend=ef.zeros((2, 1), dtype=ef.int16)),
                 np.array([[1, 1], [4, 4]]), dtype=ef.int16)


def test_diff_errors(device):
    x = ef.zeros((2, 3))
    with pytest.raises(ef.ShapeError, match=r"^diff: prepend of shape \(3, 1\) does not fit "
                                            r"x of shape \(2, 3\).*\(2, k\)"):
        ef.diff(x, prepend=ef.zeros((3, 1)))
    with pytest.raises(ef.ShapeError, match=r"^diff: append of shape \(3,\)"):
        ef.diff(x, axis=0, append=ef.zeros(3))
    with pytest.raises(ef.ShapeError, match=r"^diff: .*0-d"):
        ef.diff(ef.asarray(1.0))
    with pytest.raises(ef.InvalidArgumentError, match=r"^diff: n must be a non-negative int"):
        ef.diff(x, n=-1)
    with pytest.raises(ef.DTypeError, match=r"^diff: .*not bool"):
        ef.diff(ef.asarray(np.array([True, False])))
    for kw in ({}, {"prepend": 0.0}):
        with pytest.raises(ef.AxisError, match=r"^diff: axis 2 is out of range"):
            ef.diff(x, axis=2, **kw)
    assert ef.diff(x, n=5).shape == (2, 0)


def test_variables_are_reduced_like_their_values(device):
    # A Variable is not a Tensor subclass: the public functions must still see its dtype
    # (int8 sums accumulate in int64) and shape (the empty-max check).
    v = ef.Variable(ef.asarray(np.array([100, 100, 100], dtype=np.int8)))
    assert_close(ef.sum(v), np.array(300), dtype=ef.int64)
    assert_close(ef.cumulative_sum(v), np.array([100, 200, 300]), dtype=ef.int64)
    assert_close(ef.mean(v), np.array(100.0), dtype=ef.float32)
    with pytest.raises(ef.ShapeError, match=r"^max: .*\(0,\)"):
        ef.max(ef.Variable(ef.zeros(0)))


def test_the_full_sum_fast_path_follows_the_kernel_table(device, monkeypatch):
    # ef.sum(x) over every axis keeps a plan per (device, dtype); a changed kernel (a
    # monkeypatch, a reloaded plugin) and a kernel returning a scalar still give the right tensor.
    x = ef.ones(4, dtype=ef.float32)
    assert float(ef.sum(x)) == 4.0 and float(ef.sum(x)) == 4.0  # the plan is made and used
    calls = []
    kernel = device.kernels["sum"]

    def spy(raw, **kwargs):
        calls.append(kwargs)
        out = kernel(raw, **kwargs)
        return out[()] if hasattr(out, "shape") and out.shape == () else out  # a scalar
    monkeypatch.setitem(device.kernels, "sum", spy)
    got = ef.sum(x)
    assert calls and got.shape == () and got.dtype is ef.float32 and float(got) == 4.0
    with ef.GradientTape() as tape:  # under a tape the call goes through the interpreter
        tape.watch(x)
        y = ef.sum(x * 2.0)
    assert tape.gradient(y, x).tolist() == [2.0] * 4
