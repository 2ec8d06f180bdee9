"""Manipulation ops on every backend: the promotion of joining ops (inputs of mixed dtypes),
the errors for bad shapes and axes, and what else the op database does not say.

The values of every manipulation op on every dtype (one dtype per call) are checked from the op
database by tests/backends/test_ops.py (``eagerflow_core/testing/opdb/_manipulation.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core.testing import assert_close
from eagerflow_core.testing import strategies as st_ef

DTYPES = [ef.float32, ef.float64, ef.float16, ef.bfloat16, ef.int8, ef.int32, ef.int64,
          ef.uint8, ef.bool, ef.complex64, ef.complex128]
# The `device` fixture holds no per-example state, so sharing it across examples is safe
# (tests/conftest.py's profiles do not suppress this check yet).
FIXTURE_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
              HealthCheck.data_too_large]
dtypes = st.sampled_from(DTYPES)


def host_array(shape, dtype: ef.DType, offset=0) -> np.ndarray:
    vals = (np.arange(int(np.prod(shape, dtype=np.int64))) + offset) % 97
    if dtype.kind == "b":
        vals = vals % 2
    elif dtype.kind == "i":
        vals = vals - 40
    return vals.astype(dtype.numpy).reshape(shape)


# -- reshape, broadcast ---------------------------------------------------------------------------

def test_reshape_errors(device):
    with pytest.raises(ef.ShapeError, match=r"reshape: cannot reshape .*\(2, 3\) \(6 elements\) "
                                            r"into shape \(4,\)"):
        ef.reshape(ef.ones((2, 3)), (4,))


@given(shapes=st_ef.broadcastable_shapes(3, min_dims=0, max_dims=3, min_side=0),
       dts=st.lists(dtypes, min_size=3, max_size=3))
@settings(suppress_health_check=FIXTURE_OK)
def test_broadcast_arrays_and_broadcast_to(device, shapes, dts):
    hosts = [host_array(s, d) for s, d in zip(shapes, dts)]
    got = ef.broadcast_arrays(*[ef.asarray(h) for h in hosts])
    expected = np.broadcast_arrays(*hosts)
    assert isinstance(got, list) and len(got) == 3
    for g, e, d in zip(got, expected, dts):
        assert_close(g, e, dtype=d)  # each input keeps its dtype
    target = expected[0].shape
    assert_close(ef.broadcast_to(ef.asarray(hosts[1]), target),
                 np.broadcast_to(hosts[1], target), dtype=dts[1])


def test_broadcast_errors(device):
    with pytest.raises(ef.ShapeError, match=r"broadcast_arrays: shapes \(2, 3\) and \(4,\) "
                                            r"cannot be broadcast"):
        ef.broadcast_arrays(ef.ones((2, 3)), ef.ones((4,)))
    with pytest.raises(ef.ShapeError, match=r"broadcast_to: shapes \(3,\) and \(2, 2\) cannot "
                                            r"be broadcast"):
        ef.broadcast_to(ef.ones((3,)), (2, 2))
    with pytest.raises(ef.ShapeError, match="fewer dimensions"):
        ef.broadcast_to(ef.ones((1, 3)), (3,))
    assert ef.broadcast_arrays() == []
    assert ef.broadcast_arrays(ef.ones(2))[0].shape == (2,)


# -- joining --------------------------------------------------------------------------------------

@given(shape=st_ef.shapes(min_dims=1, max_dims=3), n=st.integers(1, 3), data=st.data(),
       dts=st.lists(st.sampled_from([ef.int8, ef.int64, ef.uint8, ef.float16, ef.float32,
                                     ef.float64, ef.bool, ef.complex64]),
                    min_size=3, max_size=3))
@settings(suppress_health_check=FIXTURE_OK)
def test_concat(device, shape, n, data, dts):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), "axis")
    hosts = []
    for i in range(n):
        s = list(shape)
        s[axis] = data.draw(st.integers(0, 3), f"size {i}")
        hosts.append(host_array(tuple(s), dts[i], offset=7 * i))
    want = ef.result_type(*dts[:n])
    got = ef.concat([ef.asarray(h) for h in hosts], axis=axis)
    assert_close(got, np.concatenate([h.astype(want.numpy) for h in hosts], axis=axis),
                 dtype=want)
    flat = ef.concat(tuple(ef.asarray(h) for h in hosts), axis=None)
    assert_close(flat, np.concatenate([h.astype(want.numpy).ravel() for h in hosts]), dtype=want)


def test_concat_zero_d_with_axis_none(device):
    got = ef.concat([ef.asarray(1.0), ef.asarray([2.0, 3.0])], axis=None)
    assert_close(got, np.array([1.0, 2.0, 3.0]), dtype=ef.float32)


def test_concat_errors(device):
    a, b = ef.ones((2, 3)), ef.ones((2, 4))
    with pytest.raises(ef.ShapeError, match=r"concat: shapes \(2, 3\), \(2, 4\) differ at axis 1; "
                                            r"only the joined axis 0 may differ"):
        ef.concat([a, b])
    with pytest.raises(ef.ShapeError, match="same number of dimensions"):
        ef.concat([a, ef.ones(3)])
    with pytest.raises(ef.ShapeError, match="0-d tensors cannot be joined"):
        ef.concat([ef.asarray(1.0), ef.asarray(2.0)])
    with pytest.raises(ef.AxisError, match="concat: axis 2 is out of range"):
        ef.concat([a, a], axis=2)
    with pytest.raises(ef.InvalidArgumentError, match="concat: needs at least one tensor"):
        ef.concat([])
    with pytest.raises(ef.ArgumentTypeError, match="concat: expects a list or tuple"):
        ef.concat(a)
    assert ef.concat([a, [[1.0, 2.0, 3.0]]]).shape == (3, 3)  # a list converts (issue #8)
    with pytest.raises(ef.ArgumentTypeError, match="concat: expected a Tensor"):
        ef.concat([a, "row"])


@given(shape=st_ef.shapes(max_dims=3), n=st.integers(1, 3), data=st.data(),
       dts=st.lists(dtypes, min_size=3, max_size=3))
@settings(suppress_health_check=FIXTURE_OK)
def test_stack_and_unstack(device, shape, n, data, dts):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)), "axis")
    hosts = [host_array(shape, dts[i], offset=5 * i) for i in range(n)]
    want = ef.result_type(*dts[:n])
    got = ef.stack([ef.asarray(h) for h in hosts], axis=axis)
    expected = np.stack([h.astype(want.numpy) for h in hosts], axis=axis)
    assert_close(got, expected, dtype=want)
    parts = ef.unstack(got, axis=axis)
    assert isinstance(parts, tuple) and len(parts) == n
    for p, e in zip(parts, np.unstack(expected, axis=axis)):
        assert_close(p, e, dtype=want)


def test_stack_unstack_errors(device):
    with pytest.raises(ef.ShapeError, match=r"stack: all tensors must have the same shape, got "
                                            r"shapes \(2,\), \(3,\)"):
        ef.stack([ef.ones(2), ef.ones(3)])
    with pytest.raises(ef.AxisError, match="stack: axis 2 is out of range"):
        ef.stack([ef.ones(2), ef.ones(2)], axis=2)
    with pytest.raises(ef.ShapeError, match="unstack: cannot unstack a 0-d tensor"):
        ef.unstack(ef.asarray(1.0))
    with pytest.raises(ef.AxisError, match="unstack: axis 1 is out of range"):
        ef.unstack(ef.ones(3), axis=1)
    assert ef.unstack(ef.ones((0, 2))) == ()


# -- adding and removing axes ---------------------------------------------------------------------

def test_expand_dims_default_and_errors(device):
    assert ef.expand_dims(ef.ones((2, 3))).shape == (1, 2, 3)
    assert ef.expand_dims(ef.ones((2, 3)), axis=-1).shape == (2, 3, 1)
    with pytest.raises(ef.AxisError, match="expand_dims: axis 3 is out of range"):
        ef.expand_dims(ef.ones((2,)), axis=3)
    with pytest.raises(ef.AxisError, match="repeats an axis"):
        ef.expand_dims(ef.ones((2,)), axis=(0, 0))


def test_squeeze_errors(device):
    x = ef.ones((2, 3, 1))
    with pytest.raises(ef.ShapeError, match=r"squeeze: cannot squeeze axis 1 of shape \(2, 3, 1\)"
                                            r": its size is 3, not 1"):
        ef.squeeze(x, axis=1)
    with pytest.raises(ef.AxisError, match="squeeze: axis 3 is out of range"):
        ef.squeeze(x, 3)
    assert ef.squeeze(x, -1).shape == (2, 3)
    assert ef.squeeze(ef.ones((1,)), 0).shape == ()
    # The standard makes axis required; TensorFlow's tf.squeeze(x) drops every size-1 axis.
    assert ef.squeeze(x).shape == (2, 3) and ef.squeeze(ef.ones((1, 1))).shape == ()


# -- reordering -----------------------------------------------------------------------------------

def test_transpose_is_tensorflows_permute_dims(device):
    host = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    x = ef.asarray(host)
    assert_close(ef.transpose(x), host.T, dtype=ef.int16)  # no perm: all axes reversed
    assert_close(ef.transpose(x, perm=(1, 0, 2)), np.transpose(host, (1, 0, 2)), dtype=ef.int16)


def test_permute_dims_errors(device):
    with pytest.raises(ef.ShapeError, match=r"permute_dims: axes \(0, 0\) is not a permutation "
                                            r"of the 2 axes of shape \(2, 3\)"):
        ef.permute_dims(ef.ones((2, 3)), (0, 0))
    with pytest.raises((ef.ShapeError, ef.AxisError), match="permute_dims"):
        ef.permute_dims(ef.ones((2, 3)), (0,))
    with pytest.raises(ef.ArgumentTypeError, match="axes must be an int or a tuple of ints"):
        ef.permute_dims(ef.ones((2, 3)), (0.0, 1))


def test_moveaxis_errors(device):
    with pytest.raises(ef.ShapeError, match="moveaxis: source .* and destination .* as many"):
        ef.moveaxis(ef.ones((2, 3)), (0, 1), (0,))
    with pytest.raises(ef.AxisError, match="moveaxis: axis 2 is out of range"):
        ef.moveaxis(ef.ones((2, 3)), 2, 0)


def test_flip_errors(device):
    with pytest.raises(ef.AxisError, match="flip: axis 2 is out of range"):
        ef.flip(ef.ones((2, 3)), axis=2)


def test_roll_int_shift_with_tuple_axis_and_errors(device):
    host = np.arange(6).reshape(2, 3)
    assert_close(ef.roll(ef.asarray(host), 1, axis=(0, 1)), np.roll(host, 1, axis=(0, 1)),
                 dtype=ef.int64)
    with pytest.raises(ef.InvalidArgumentError, match=r"roll: a tuple shift \(1, 2\) needs a "
                                                      r"tuple axis of the same length"):
        ef.roll(ef.asarray(host), (1, 2), axis=0)
    with pytest.raises(ef.InvalidArgumentError, match="same length"):
        ef.roll(ef.asarray(host), (1, 2))
    with pytest.raises(ef.AxisError, match="roll: axis 2 is out of range"):
        ef.roll(ef.asarray(host), 1, axis=2)


# -- repeating ------------------------------------------------------------------------------------

@pytest.mark.parametrize("rdtype", [ef.int32, ef.uint8, ef.int64], ids=str)
def test_repeat_takes_repeats_of_any_integer_dtype(device, rdtype):
    host = np.array([[1.5, 2.5, 3.5], [4.5, 5.5, 6.5]], np.float32)
    reps = ef.asarray(np.array([2, 0, 1]), dtype=rdtype)
    assert_close(ef.repeat(ef.asarray(host), reps, axis=1),
                 np.repeat(host, [2, 0, 1], axis=1), dtype=ef.float32)


def test_repeat_errors(device):
    x = ef.ones((2, 3))
    with pytest.raises(ef.InvalidArgumentError, match="repeat: repeats must not be negative"):
        ef.repeat(x, -1)
    with pytest.raises(ef.DTypeError, match="repeat: repeats must be an integer tensor, not "
                                            "float32"):
        ef.repeat(x, ef.asarray([1.0, 2.0]), axis=0)
    with pytest.raises(ef.ShapeError, match=r"repeat: repeats of shape \(2,\) must be 1-D of size "
                                            r"1 or 3 \(the size of axis 1 of shape \(2, 3\)\)"):
        ef.repeat(x, ef.asarray([1, 2]), axis=1)
    with pytest.raises(ef.ShapeError, match="the flattened tensor"):
        ef.repeat(x, ef.asarray([1, 2]))
    with pytest.raises(ef.InvalidArgumentError, match="repeat"):
        ef.repeat(x, ef.asarray([1, -1]), axis=0)
    with pytest.raises(ef.ArgumentTypeError, match="repeats must be an int or an integer tensor"):
        ef.repeat(x, 1.5)
    with pytest.raises(ef.ArgumentTypeError, match="not bool"):
        ef.repeat(x, True)


def test_tile_errors(device):
    with pytest.raises(ef.InvalidArgumentError, match=r"tile: repetitions \(2, -1\) must not be "
                                                      r"negative"):
        ef.tile(ef.ones(2), (2, -1))
    with pytest.raises(ef.ArgumentTypeError, match="repetitions must be an int or a tuple"):
        ef.tile(ef.ones(2), "ab")
    assert ef.tile(ef.ones(2), 3).shape == (6,)


def test_views_stay_values(device):
    """Ops that return NumPy views (flip, broadcast_to, permute_dims) give tensors that a
    later write to the source (x[...] = v) does not change."""
    x = ef.reshape(ef.arange(6), (2, 3))
    outs = [ef.flip(x), ef.broadcast_to(x, (2, 2, 3)), ef.permute_dims(x, (1, 0)),
            ef.reshape(x, (6,)), ef.expand_dims(x, 0), ef.unstack(x)[0]]
    before = [o.numpy().copy() for o in outs]
    x[...] = 0
    for o, b in zip(outs, before):
        np.testing.assert_array_equal(o.numpy(), b)
