"""TensorFlow's index ops on every backend: gather, gather_nd, scatter_nd,
tensor_scatter_nd_update/_add, segment_sum/mean/max, unsorted_segment_sum, bincount,
boolean_mask.

Their values on every dtype are checked from the op database by tests/backends/test_ops.py
(``eagerflow_core/testing/opdb/_tf_indexing.py``); this file holds TensorFlow's semantics as
hand-computed values (from TensorFlow's documentation), errors, gradients (first and second
order, segment_max's ties), the default implementations that backends without a kernel run,
and PyTorch 2.13 as a second reference for the same inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core._registry import OPS
from eagerflow_core.testing import assert_close

TF_OPS = ("gather", "gather_nd", "scatter_nd", "tensor_scatter_nd_update",
          "tensor_scatter_nd_add", "unsorted_segment_sum", "segment_sum", "segment_mean",
          "segment_max", "bincount", "boolean_mask")


@pytest.fixture(params=["kernels", "default"])
def way(request, device, monkeypatch):
    """Each device as it is, and with its kernels for these ops taken away: the ops then run
    their default implementations (what the CUDA backend and new plugins get)."""
    if request.param == "default":
        for name in TF_OPS:
            monkeypatch.delitem(device.kernels, name, raising=False)
            monkeypatch.setattr(OPS[name], "plans", {})  # plans made with the kernel
    return request.param


def values(t):
    return np.asarray(t.to("cpu")) if str(t.device) != "cpu:0" else np.asarray(t)


# -- TensorFlow's documented examples --------------------------------------------------------------

def test_gather_examples(device, way):
    params = ef.constant([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])
    assert values(ef.gather(params, [2, 0])).tolist() == [[8, 9, 10, 11], [0, 1, 2, 3]]
    assert values(ef.gather(params, [[2, 0], [1, 1]], axis=1)).tolist() == \
        [[[2, 0], [1, 1]], [[6, 4], [5, 5]], [[10, 8], [9, 9]]]
    assert values(ef.gather(params, ef.constant(3), axis=-1)).tolist() == [3, 7, 11]
    # batch_dims: one index row per batch element (tf.gather's documented example)
    out = ef.gather(params, [[0, 3], [1, 1], [2, 0]], axis=1, batch_dims=1)
    assert values(out).tolist() == [[0, 3], [5, 5], [10, 8]]
    x = ef.asarray(np.arange(24.0).reshape(2, 3, 4))
    idx = np.array([[0, 2], [1, 1]])
    out = ef.gather(x, idx, axis=2, batch_dims=1)  # axis past the batch dims: (2, 3, 2)
    want = np.stack([np.take(np.arange(24.0).reshape(2, 3, 4)[b], idx[b], axis=1)
                     for b in range(2)])
    assert out.shape == (2, 3, 2)
    assert_close(out, want, dtype=ef.float64)


def test_gather_nd_examples(device, way):
    x = ef.constant([[1.0, 2.0], [3.0, 4.0]])
    assert values(ef.gather_nd(x, [[0, 0], [1, 1]])).tolist() == [1.0, 4.0]
    assert values(ef.gather_nd(x, [[1], [0]])).tolist() == [[3.0, 4.0], [1.0, 2.0]]
    assert values(ef.gather_nd(x, [[[0, 1]], [[1, 0]]])).tolist() == [[2.0], [3.0]]
    b = ef.asarray(np.arange(8).reshape(2, 2, 2))
    out = ef.gather_nd(b, [[1], [0]], batch_dims=1)  # b[0][1], b[1][0]
    assert values(out).tolist() == [[2, 3], [4, 5]]


def test_scatter_nd_examples(device, way):
    out = ef.scatter_nd([[4], [3], [1], [7]], ef.constant([9, 10, 11, 12]), [8])
    assert values(out).tolist() == [0, 11, 0, 10, 9, 0, 0, 12]
    upd = ef.constant([[5, 5, 5, 5], [6, 6, 6, 6]])
    out = ef.scatter_nd([[0], [2]], upd, (4, 4))
    assert values(out).tolist() == [[5] * 4, [0] * 4, [6] * 4, [0] * 4]
    dup = ef.scatter_nd([[1], [1], [1]], ef.constant([1.0, 2.0, 4.0]), [3])
    assert values(dup).tolist() == [0.0, 7.0, 0.0]  # repeated indices sum


def test_tensor_scatter_nd_update_and_add(device, way):
    t = ef.constant([1, 2, 3, 4, 5, 6, 7, 8])
    idx = [[4], [3], [1], [7]]
    upd = ef.constant([9, 10, 11, 12])
    assert values(ef.tensor_scatter_nd_update(t, idx, upd)).tolist() == \
        [1, 11, 3, 10, 9, 6, 7, 12]
    assert values(ef.tensor_scatter_nd_add(t, idx, upd)).tolist() == \
        [1, 13, 3, 14, 14, 6, 7, 20]
    dup = ef.tensor_scatter_nd_add(t, [[0], [0]], ef.constant([5, 5]))
    assert values(dup)[0] == 11
    m = ef.zeros((2, 3))
    out = ef.tensor_scatter_nd_update(m, [[1]], ef.constant([[1.0, 2.0, 3.0]]))
    assert values(out).tolist() == [[0, 0, 0], [1, 2, 3]]
    assert values(t).tolist() == [1, 2, 3, 4, 5, 6, 7, 8]  # the input is not written


def test_segment_ops_examples(device, way):
    c = ef.constant([[1, 2, 3, 4], [4, 3, 2, 1], [5, 6, 7, 8]])
    assert values(ef.segment_sum(c, [0, 0, 1])).tolist() == [[5, 5, 5, 5], [5, 6, 7, 8]]
    assert values(ef.segment_max(c, [0, 0, 1])).tolist() == [[4, 3, 3, 4], [5, 6, 7, 8]]
    f = ef.astype(c, ef.float32)
    assert values(ef.segment_mean(f, [0, 0, 1])).tolist() == \
        [[2.5, 2.5, 2.5, 2.5], [5, 6, 7, 8]]
    # an id that does not occur gives a zero row (for max too, as TensorFlow's sorted kernel)
    gaps = ef.constant([3.0, -1.0, -2.0])
    assert values(ef.segment_sum(gaps, [0, 2, 2])).tolist() == [3.0, 0.0, -3.0]
    assert values(ef.segment_max(gaps, [0, 2, 2])).tolist() == [3.0, 0.0, -1.0]
    assert values(ef.segment_mean(gaps, [0, 2, 2])).tolist() == [3.0, 0.0, -1.5]
    assert ef.segment_sum(ef.zeros((0, 2)), ef.zeros((0,), dtype=ef.int64)).shape == (0, 2)


def test_unsorted_segment_sum(device, way):
    c = ef.constant([[1, 2, 3, 4], [5, 6, 7, 8], [4, 3, 2, 1]])
    assert values(ef.unsorted_segment_sum(c, [0, 1, 0], 2)).tolist() == \
        [[5, 5, 5, 5], [5, 6, 7, 8]]
    # negative ids are dropped; num_segments may exceed the ids
    out = ef.unsorted_segment_sum(ef.constant([1.0, 2.0, 3.0]), [-1, 3, 3], 5)
    assert values(out).tolist() == [0, 0, 0, 5, 0]
    # ids may have several dimensions: a prefix of data's shape
    data = np.arange(12.0).reshape(2, 3, 2)
    ids = np.array([[0, 1, 0], [2, 2, -1]])
    want = np.zeros((3, 2))
    for i in range(2):
        for j in range(3):
            if ids[i, j] >= 0:
                want[ids[i, j]] += data[i, j]
    assert_close(ef.unsorted_segment_sum(ef.asarray(data), ids, 3), want, dtype=ef.float64)


def test_bincount(device, way):
    arr = ef.constant([1, 1, 2, 3, 2, 4, 4, 5])
    assert values(ef.bincount(arr)).tolist() == [0, 2, 2, 1, 2, 1]
    assert ef.bincount(arr).dtype == ef.int32  # TensorFlow's default
    assert values(ef.bincount(arr, minlength=8)).tolist() == [0, 2, 2, 1, 2, 1, 0, 0]
    assert values(ef.bincount(arr, maxlength=3)).tolist() == [0, 2, 2]  # the rest dropped
    w = ef.constant([0.5, 0.5, 1.0, 2.0, 1.0, 0.25, 0.25, 3.0])
    out = ef.bincount(arr, weights=w, maxlength=5)
    assert out.dtype == ef.float32 and values(out).tolist() == [0, 1.0, 2.0, 2.0, 0.5]
    assert values(ef.bincount(arr, dtype=ef.int64)).dtype == np.int64
    assert ef.bincount(ef.zeros((0,), dtype=ef.int32)).shape == (0,)
    assert values(ef.bincount([[0, 2], [2, 2]])).tolist() == [1, 0, 3]  # any shape


def test_boolean_mask(device, way):
    t = ef.constant([0, 1, 2, 3])
    assert values(ef.boolean_mask(t, [True, False, True, False])).tolist() == [0, 2]
    x = ef.constant([[1, 2], [3, 4], [5, 6]])
    assert values(ef.boolean_mask(x, ef.constant([True, False, True]))).tolist() == \
        [[1, 2], [5, 6]]
    assert values(ef.boolean_mask(x, [False, True], axis=1)).tolist() == [[2], [4], [6]]
    m2 = np.array([[True, False], [False, False], [True, True]])
    assert values(ef.boolean_mask(x, m2)).tolist() == [1, 5, 6]
    assert ef.boolean_mask(x, [False] * 3).shape == (0, 2)


@pytest.mark.parametrize("distinct", [64, 60, 8, 1])
def test_scatter_adds_with_few_or_many_repeated_rows(device, way, distinct):
    # the NumPy kernel takes a different path for no, few and many repeats: same sums
    rng = np.random.default_rng(distinct)
    ids = rng.permutation(np.arange(64) % distinct)
    data = rng.integers(-5, 5, (64, 3)).astype(np.float64)
    want = np.zeros((64, 3))
    for i, s in enumerate(ids):
        want[s] += data[i]
    assert_close(ef.unsorted_segment_sum(ef.asarray(data), ids, 64), want, dtype=ef.float64)
    base = rng.integers(-5, 5, (64, 3)).astype(np.float64)
    got = ef.tensor_scatter_nd_add(ef.asarray(base), ids[:, None], ef.asarray(data))
    assert_close(got, base + want, dtype=ef.float64)
    got = ef.scatter_nd(np.stack([ids // 8, ids % 8], -1), ef.asarray(data), [8, 8, 3])
    assert_close(got, want.reshape(8, 8, 3), dtype=ef.float64)
    order = np.argsort(ids, kind="stable")
    sums = ef.segment_sum(ef.asarray(data[order]), ids[order])
    assert_close(sums, want[:distinct], dtype=ef.float64)


def test_under_ef_function(device):
    # fixed output shapes trace (the core's bounds checks wait for values); shapes that
    # depend on the values (segment counts, mask counts) are a clear TracingError
    x = ef.asarray(np.arange(12.0).reshape(4, 3))
    i = ef.constant([3, 0])

    def f(x, i):
        return (ef.gather(x, i), ef.gather_nd(x, i[:, None]),
                ef.tensor_scatter_nd_add(x, i[:, None], x[:2]),
                ef.unsorted_segment_sum(x[:2], i - 1, 4))

    for got, want in zip(ef.function(f)(x, i), f(x, i)):
        assert_close(got, values(want), dtype=ef.float64)
    with pytest.raises(ef.TracingError, match="traced tensor"):
        ef.function(lambda x: ef.boolean_mask(x, x[:, 0] > 3))(x)
    with pytest.raises(ef.TracingError, match="traced tensor"):
        ef.function(lambda x, i: ef.segment_sum(x[:2], i))(x, ef.constant([0, 1]))


# -- errors ----------------------------------------------------------------------------------------

def test_out_of_range_indices_name_the_op_the_index_and_the_range(device, way):
    x = ef.zeros((3, 2))
    with pytest.raises(ef.OutOfRangeError, match=r"^gather: index 3 is out of range for axis 0 "
                                                  r"of params of shape \(3, 2\) \(valid: 0..2\)"):
        ef.gather(x, [0, 3])
    with pytest.raises(ef.OutOfRangeError, match=r"^gather: index -1 .*valid: 0..1"):
        ef.gather(x, [-1], axis=1)  # no counting from the end, as in TensorFlow
    with pytest.raises(ef.OutOfRangeError, match=r"^gather_nd: index 2 in indices\[\.\.\., 1\]"):
        ef.gather_nd(x, [[0, 0], [1, 2]])
    with pytest.raises(ef.OutOfRangeError, match=r"^scatter_nd: index 5 .*axis 0"):
        ef.scatter_nd([[5]], ef.ones((1,)), [4])
    with pytest.raises(ef.OutOfRangeError, match=r"^tensor_scatter_nd_update: index -2"):
        ef.tensor_scatter_nd_update(x, [[-2]], ef.ones((1, 2)))
    with pytest.raises(ef.OutOfRangeError, match=r"^unsorted_segment_sum: segment id 4 .*"
                                                  r"num_segments=4 \(valid: 0..3\)"):
        ef.unsorted_segment_sum(x, [0, 4, 1], 4)
    with pytest.raises(ef.OutOfRangeError, match=r"^segment_sum: segment id -1"):
        ef.segment_sum(x, [-1, 0, 0])


def test_bad_arguments_are_clear_errors(device):
    x = ef.zeros((3, 2))
    with pytest.raises(ef.DTypeError, match=r"^gather: indices must have an integer dtype"):
        ef.gather(x, ef.constant([0.0]))
    with pytest.raises(ef.AxisError, match=r"^gather: axis 2 is out of range"):
        ef.gather(x, [0], axis=2)
    with pytest.raises(ef.ShapeError, match=r"first batch_dims=1 dimensions"):
        ef.gather(x, [[0], [1]], axis=1, batch_dims=1)
    with pytest.raises(ef.InvalidArgumentError, match=r"axis \(0\) must be at least batch_dims"):
        ef.gather(x, [[0], [1], [0]], axis=0, batch_dims=1)
    with pytest.raises(ef.ShapeError, match=r"indices.shape\[-1\] = 3 must be at most"):
        ef.gather_nd(x, [[0, 0, 0]])
    with pytest.raises(ef.ShapeError, match=r"at least 1"):
        ef.gather_nd(x, ef.zeros((2, 0), dtype=ef.int64))
    with pytest.raises(ef.ShapeError, match=r"^scatter_nd: updates must have shape .*\(2,\)"):
        ef.scatter_nd([[0], [1]], ef.ones((3,)), [4])
    with pytest.raises(ef.DTypeError, match=r"updates \(float64\) must have the tensor's dtype"):
        ef.tensor_scatter_nd_add(x, [[0]], ef.ones((1, 2), dtype=ef.float64))
    with pytest.raises(ef.InvalidArgumentError, match=r"must be sorted"):
        ef.segment_max(x, [1, 0, 1])
    with pytest.raises(ef.ShapeError, match=r"segment_ids must be 1-D"):
        ef.segment_sum(x, [[0, 0], [0, 1], [1, 1]])
    with pytest.raises(ef.ShapeError, match=r"must match the leading dimensions"):
        ef.unsorted_segment_sum(x, [0, 1], 2)
    with pytest.raises(ef.InvalidArgumentError, match=r"num_segments must be non-negative"):
        ef.unsorted_segment_sum(x, [0, 1, 0], -1)
    with pytest.raises(ef.DTypeError, match=r"expects a floating-point input"):
        ef.segment_mean(ef.ones((2,), dtype=ef.int32), [0, 0])
    with pytest.raises(ef.InvalidArgumentError, match=r"^bincount: arr must be non-negative"):
        ef.bincount([0, -3])
    with pytest.raises(ef.ShapeError, match=r"weights of shape \(1,\) must have arr's shape"):
        ef.bincount([0, 1], weights=ef.ones((1,)))
    with pytest.raises(ef.DTypeError, match=r"^boolean_mask: mask must be bool, not int64"):
        ef.boolean_mask(x, ef.constant([1, 0, 1]))
    with pytest.raises(ef.ShapeError, match=r"mask of shape \(2,\) must match the dimensions"):
        ef.boolean_mask(x, [True, False])
    with pytest.raises(ef.ShapeError, match=r"0-d mask"):
        ef.boolean_mask(x, ef.constant(True))
    with pytest.raises(ef.ArgumentTypeError, match=r"^gather: indices must be a tensor"):
        ef.gather(x, "0")


# -- gradients -----------------------------------------------------------------------------------

def _num_grad(f, x, eps=1e-6):
    """Central differences of the scalar f at the float64 array x."""
    g = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return g


GRAD_CASES = [
    ("gather", lambda p: ef.gather(p, [2, 0, 2], axis=1), (2, 3)),
    ("gather batch", lambda p: ef.gather(p, [[1, 1], [0, 2]], axis=2, batch_dims=1), (2, 2, 3)),
    ("gather_nd", lambda p: ef.gather_nd(p, [[1, 0], [1, 0], [0, 2]]), (2, 3)),
    ("scatter_nd", lambda u: ef.scatter_nd([[1], [1], [0]], u, [3, 2]), (3, 2)),
    ("tensor_scatter_nd_update", lambda t: ef.tensor_scatter_nd_update(
        t, [[0, 1]], ef.asarray(np.array([5.0]))), (2, 2)),
    ("tensor_scatter_nd_add", lambda t: ef.tensor_scatter_nd_add(
        t, [[0, 1], [0, 1]], ef.asarray(np.array([5.0, 1.0]))), (2, 2)),
    ("segment_sum", lambda d: ef.segment_sum(d, [0, 0, 2]), (3, 2)),
    ("segment_mean", lambda d: ef.segment_mean(d, [0, 0, 2]), (3, 2)),
    ("segment_max", lambda d: ef.segment_max(d, [0, 0, 1, 1]), (4,)),
    ("unsorted_segment_sum", lambda d: ef.unsorted_segment_sum(d, [2, -1, 0], 3), (3, 2)),
    ("bincount weights", lambda w: ef.bincount([3, 1, 1, 5], weights=w, maxlength=4), (4,)),
    ("boolean_mask", lambda x: ef.boolean_mask(x, [[True, False], [True, True]]), (2, 2)),
]


@pytest.mark.parametrize("name,fn,shape", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_first_and_second_order_gradients_match_differences(device, way, name, fn, shape):
    rng = np.random.default_rng(0)
    host = rng.permutation(np.arange(1.0, 1.0 + np.prod(shape))).reshape(shape) * 0.37
    weights = None

    def loss(x):
        y = fn(x)
        nonlocal weights
        if weights is None:
            weights = ef.asarray(rng.uniform(0.5, 1.5, y.shape))
        return ef.sum(ef.sin(y) * weights)  # nonlinear: the second order is not zero

    x = ef.asarray(host)
    loss(x)
    got = ef.grad(loss)(x)
    assert_close(got, _num_grad(lambda h: float(loss(ef.asarray(h))), host), dtype=ef.float64,
                 rtol=1e-6, atol=1e-7)
    # second order: d/dx of <grad(x), v>
    v = ef.asarray(rng.uniform(-1, 1, shape))
    hv = ef.grad(lambda x: ef.sum(ef.grad(loss)(x) * v))(x)
    want = _num_grad(lambda h: float(ef.sum(ef.grad(loss)(ef.asarray(h)) * v)), host, 1e-5)
    assert_close(hv, want, dtype=ef.float64, rtol=1e-5, atol=1e-6)


def test_segment_max_splits_the_gradient_among_ties(device, way):
    d = ef.constant([1.0, 3.0, 3.0, 2.0, 5.0])
    w = ef.constant([2.0, 7.0, 4.0])
    g = ef.grad(lambda d: ef.sum(ef.segment_max(d, [0, 0, 0, 2, 2]) * w))(d)
    assert values(g).tolist() == [0.0, 1.0, 1.0, 0.0, 4.0]  # 2 split over the two 3s


def test_index_inputs_have_no_gradient_rule():
    # indices, segment ids and masks are integers or bools: the rules of those inputs are
    # None, and the counting bincount is not differentiable at all
    index_input = {"gather": 1, "gather_nd": 1, "scatter_nd": 0, "tensor_scatter_nd_update": 1,
                   "tensor_scatter_nd_add": 1, "unsorted_segment_sum": 1, "segment_sum": 1,
                   "segment_mean": 1, "segment_max": 1, "boolean_mask": 1}
    for name, i in index_input.items():
        kind, rules = OPS[name].vjp
        assert kind == "each" and rules[i] is None, name
        assert sum(r is not None for r in rules) == OPS[name].nin - 1, name
    assert not OPS["bincount"].differentiable


# -- PyTorch 2.13 as a second reference ------------------------------------------------------------

def test_same_values_as_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    table = rng.standard_normal((50, 8)).astype(np.float32)
    idx = rng.integers(0, 50, 40)
    tt, ti = torch.from_numpy(table), torch.from_numpy(idx)
    assert_close(ef.gather(ef.asarray(table), idx), torch.index_select(tt, 0, ti).numpy(),
                 dtype=ef.float32)
    upd = rng.standard_normal((40, 8)).astype(np.float32)
    want = tt.clone().index_add_(0, ti, torch.from_numpy(upd)).numpy()
    got = ef.tensor_scatter_nd_add(ef.asarray(table), idx[:, None], ef.asarray(upd))
    assert_close(got, want, dtype=ef.float32)
    want = torch.zeros(50, 8).index_add_(0, ti, torch.from_numpy(upd)).numpy()
    assert_close(ef.unsorted_segment_sum(ef.asarray(upd), idx, 50), want, dtype=ef.float32)
    ids = np.sort(rng.integers(0, 10, 40))
    want = torch.zeros(10, 8).scatter_reduce_(
        0, torch.from_numpy(ids)[:, None].expand(40, 8), torch.from_numpy(upd), "amax",
        include_self=False).numpy()
    assert_close(ef.segment_max(ef.asarray(upd), ids), want, dtype=ef.float32)
    assert np.array_equal(values(ef.bincount(idx)),
                          torch.bincount(ti).numpy().astype(np.int32))
