"""TensorFlow's everyday array ops (issue #8 item 3): pad, split, einsum, range, fill, reverse,
the reduce_* spellings, squeeze without an axis, one-argument where, shape/rank/size, cumsum
and cumprod with exclusive/reverse, and the ef.math namespace with top_k.

References are NumPy and PyTorch 2.13 on the same inputs, or values worked out by hand from
TensorFlow's documentation; gradients are checked numerically to second order.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core.testing import assert_close, check_grads

RNG = np.random.default_rng(0)


def normal(*shape):
    return RNG.standard_normal(shape)


# -- pad -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["CONSTANT", "REFLECT", "SYMMETRIC", "reflect", "Symmetric"])
def test_pad_matches_numpy(device, mode):
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    rows = [[1, 0], [2, 2], [0, 3]]
    got = ef.pad(ef.asarray(x), rows, mode=mode)
    want = np.pad(x, rows, mode=mode.lower())
    assert got.dtype is ef.float32 and got.device == device
    np.testing.assert_array_equal(np.asarray(got), want)


def test_pad_hand_values_and_tensorflow_arguments(device):
    x = ef.constant([[1, 2, 3], [4, 5, 6]])
    # tf.pad's documented example
    assert ef.pad(x, ef.constant([[1, 1], [2, 2]]), "REFLECT").tolist() == [
        [6, 5, 4, 5, 6, 5, 4], [3, 2, 1, 2, 3, 2, 1], [6, 5, 4, 5, 6, 5, 4],
        [3, 2, 1, 2, 3, 2, 1]]
    assert ef.pad(x, [[1, 1], [2, 2]], "SYMMETRIC").tolist() == [
        [2, 1, 1, 2, 3, 3, 2], [2, 1, 1, 2, 3, 3, 2], [5, 4, 4, 5, 6, 6, 5],
        [5, 4, 4, 5, 6, 6, 5]]
    assert ef.pad(x, [[0, 0], [1, 0]], constant_values=ef.constant(-1)).tolist() == [
        [-1, 1, 2, 3], [-1, 4, 5, 6]]
    assert ef.pad(ef.constant([True]), [[1, 0]]).tolist() == [False, True]
    assert ef.pad(ef.ones((0, 2)), [[1, 1], [0, 0]]).shape == (2, 2)


@pytest.mark.parametrize("mode", ["CONSTANT", "REFLECT", "SYMMETRIC"])
def test_pad_gradient_sums_mirrored_copies(device, mode):
    x = ef.asarray(normal(3, 4))
    check_grads(lambda t: ef.pad(t, [[2, 1], [0, 3]], mode=mode), (x,), order=2)
    # by hand: each input element's gradient counts how often it appears in the output
    counts = ef.grad(lambda t: ef.sum(ef.pad(t, [[0, 0], [2, 2]], mode=mode)))(ef.ones((1, 4)))
    want = {"CONSTANT": [1, 1, 1, 1], "REFLECT": [1, 3, 3, 1], "SYMMETRIC": [2, 2, 2, 2]}[mode]
    assert counts.tolist() == [want]


def test_pad_errors_name_the_op(device):
    x = ef.ones((2, 3))
    with pytest.raises(ef.ShapeError, match=r"^pad: REFLECT padding of axis 1 \(size 3\) is at "
                                            r"most 2 on each side, got \[0, 3\]"):
        ef.pad(x, [[0, 0], [0, 3]], mode="REFLECT")
    with pytest.raises(ef.ShapeError, match=r"^pad: paddings has 1 rows for a tensor of rank 2"):
        ef.pad(x, [[1, 1]])
    with pytest.raises(ef.ShapeError, match=r"^pad: paddings must be a \[rank, 2\]"):
        ef.pad(x, [1, 1])
    with pytest.raises(ef.InvalidArgumentError, match=r"^pad: mode must be one of CONSTANT, "
                                                      r"REFLECT, SYMMETRIC"):
        ef.pad(x, [[1, 1], [1, 1]], mode="wrap")
    with pytest.raises(ef.InvalidArgumentError, match=r"^pad: constant_values 0.5 is not a "
                                                      r"value of the tensor's dtype int64"):
        ef.pad(ef.constant([1]), [[1, 1]], constant_values=0.5)
    with pytest.raises(ef.ShapeError, match=r"^pad: constant_values must be a scalar"):
        ef.pad(x, [[1, 1], [1, 1]], constant_values=ef.ones(2))


# -- split ---------------------------------------------------------------------------------------

def test_split_by_count_and_sizes(device):
    x = ef.reshape(ef.arange(12), (3, 4))
    parts = ef.split(x, 2, axis=1)
    assert [p.tolist() for p in parts] == [[[0, 1], [4, 5], [8, 9]], [[2, 3], [6, 7], [10, 11]]]
    a, b, c = ef.split(x, [1, -1, 1], axis=-1)
    assert a.shape == (3, 1) and b.shape == (3, 2) and c.tolist() == [[3], [7], [11]]
    assert [p.shape for p in ef.split(x, ef.constant([2, 1]))] == [(2, 4), (1, 4)]
    assert [p.shape for p in ef.split(x, [0, 3])] == [(0, 4), (3, 4)]


def test_split_gradient_and_errors(device):
    check_grads(lambda t: ef.split(t, [1, 2], axis=0), (ef.asarray(normal(3, 2)),), order=2)
    x = ef.ones((5, 2))
    with pytest.raises(ef.ShapeError, match=r"^split: axis 0 of size 5 does not divide into 2 "
                                            r"equal parts"):
        ef.split(x, 2)
    with pytest.raises(ef.ShapeError, match=r"^split: sizes \[2, 2\] do not add up to 5"):
        ef.split(x, [2, 2])
    with pytest.raises(ef.InvalidArgumentError, match=r"^split: sizes \[-1, -1\] may hold one"):
        ef.split(x, [-1, -1])
    with pytest.raises(ef.AxisError):
        ef.split(x, 1, axis=2)


# -- einsum --------------------------------------------------------------------------------------

EQUATIONS = [("ij,jk->ik", [(3, 4), (4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
             ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]), ("ij,j->i", [(3, 4), (4,)]),
             ("i,i->", [(4,), (4,)]), ("i,j->ij", [(3,), (4,)]), ("ii->i", [(3, 3)]),
             ("ii", [(3, 3)]), ("ij->ji", [(2, 3)]), ("ij", [(2, 3)]), ("ji", [(2, 3)]),
             ("ijk->", [(2, 3, 4)]), ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
             ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 2)]), ("a,ab,b", [(2,), (2, 3), (3,)]),
             ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]), ("i...->...", [(3, 2, 2)]),
             ("ijk,jl->il", [(2, 3, 4), (3, 5)]), ("bi,bi->b", [(4, 3), (4, 3)]),
             ("ij,kj->ikj", [(2, 3), (4, 3)])]


@pytest.mark.parametrize("eq, shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum_matches_numpy_and_torch(device, eq, shapes):
    xs = [normal(*s) for s in shapes]
    got = ef.einsum(eq, *[ef.asarray(x) for x in xs])
    assert got.dtype is ef.float64
    assert_close(got, np.einsum(eq, *xs))
    assert_close(got, torch.einsum(eq, *[torch.as_tensor(x) for x in xs]).numpy())


@pytest.mark.parametrize("eq, shapes", EQUATIONS[:16], ids=[e for e, _ in EQUATIONS[:16]])
def test_einsum_gradients_to_second_order(device, eq, shapes):
    check_grads(lambda *t: ef.einsum(eq, *t), [ef.asarray(normal(*s)) for s in shapes], order=2)


def test_einsum_dtypes(device):
    a = ef.asarray(np.arange(6, dtype=np.int32).reshape(2, 3))
    b = ef.asarray(np.arange(12, dtype=np.int8).reshape(3, 4))
    got = ef.einsum("ij,jk->ik", a, b)  # promoted as in matmul
    assert got.dtype is ef.int32
    assert got.tolist() == (np.arange(6).reshape(2, 3) @ np.arange(12).reshape(3, 4)).tolist()
    h = ef.einsum("ij,jk->ik", ef.ones((2, 3), dtype=ef.bfloat16), ef.ones((3, 2), dtype=ef.bfloat16))
    assert h.dtype is ef.bfloat16 and h.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    c = normal(2, 3) + 1j * normal(2, 3)
    assert_close(ef.einsum("ij->j", ef.asarray(c)), c.sum(0))
    # a list is an operand (converted, as NumPy and TensorFlow do), not a list of operands
    assert ef.einsum("ij->ji", [[1, 2]]).tolist() == [[1], [2]]


@given(st.data())
def test_einsum_matmul_plan_agrees_with_numpy_einsum(data):
    """The NumPy kernel's matmul route (transposes, sums, one matmul) on random two-operand
    equations, against np.einsum's own loops."""
    letters = "abcde"
    size = {c: data.draw(st.integers(1, 3)) for c in letters}
    sa = "".join(data.draw(st.permutations(letters))[:data.draw(st.integers(0, 4))])
    sb = "".join(data.draw(st.permutations(letters))[:data.draw(st.integers(0, 4))])
    pool = sorted(set(sa + sb))
    out = "".join(data.draw(st.permutations(pool))[:data.draw(st.integers(0, len(pool)))])
    eq = f"{sa},{sb}->{out}"
    a, b = normal(*[size[c] for c in sa]), normal(*[size[c] for c in sb])
    assert_close(ef.einsum(eq, ef.asarray(a), ef.asarray(b)), np.einsum(eq, a, b))


def test_einsum_errors_name_the_op(device):
    with pytest.raises(ef.ShapeError, match=r"^einsum: subscript 'j' has size 3 in operand 0 and "
                                            r"4 in operand 1"):
        ef.einsum("ij,jk->ik", ef.ones((2, 3)), ef.ones((4, 2)))
    with pytest.raises(ef.ShapeError, match=r"^einsum: operand 1 has 1 dimension\(s\) but the "
                                            r"equation"):
        ef.einsum("ij,jk->ik", ef.ones((2, 3)), ef.ones(3))
    with pytest.raises(ef.ShapeError, match=r"^einsum: the '\.\.\.' dimensions of shapes"):
        ef.einsum("...i,...i->...", ef.ones((2, 3)), ef.ones((4, 3)))
    with pytest.raises(ef.InvalidArgumentError, match=r"^einsum: invalid equation 'i\$j'"):
        ef.einsum("i$j", ef.ones((2, 3)))
    with pytest.raises(ef.InvalidArgumentError, match=r"^einsum: the output of 'ij->ii'"):
        ef.einsum("ij->ii", ef.ones((2, 3)))
    with pytest.raises(ef.DTypeError, match=r"^einsum: expects a numeric \(not bool\) input"):
        ef.einsum("ij->", ef.ones((2, 3), dtype=ef.bool))
    with pytest.raises(ef.ArgumentTypeError, match=r"^einsum: equation must be a string"):
        ef.einsum(3, ef.ones(2))


# -- top_k ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "float16"])
def test_top_k_matches_torch_on_distinct_values(device, dtype):
    x = RNG.permutation(60).reshape(3, 20).astype(dtype)
    for k in (0, 1, 4, 20):
        values, indices = ef.math.top_k(ef.asarray(x), k=k)
        tv, ti = torch.topk(torch.as_tensor(x.astype(np.float64)), k)
        assert values.dtype is getattr(ef, dtype) and indices.dtype is ef.int32
        np.testing.assert_array_equal(np.asarray(values).astype(np.float64), tv.numpy())
        np.testing.assert_array_equal(np.asarray(indices), ti.numpy())


def test_top_k_ties_take_the_lower_index_first(device):
    # the k-th value ties outside the k chosen: the partition path must still pick index order
    x = np.zeros((2, 50))
    x[0, [3, 40]] = 5.0
    x[1, 7] = -1.0
    r = ef.math.top_k(ef.asarray(x), k=3)
    assert r.indices.tolist() == [[3, 40, 0], [0, 1, 2]]
    assert r.values.tolist() == [[5.0, 5.0, 0.0], [0.0, 0.0, 0.0]]
    nan = ef.math.top_k(ef.constant([1.0, float("nan"), 3.0]), k=2)
    assert nan.indices.tolist() == [1, 2]  # NaN is the largest, as in a descending sort
    assert ef.math.top_k(ef.constant([2, 9, 4]), k=2, index_type=ef.int64).indices.dtype \
        is ef.int64


@given(st.integers(1, 40), st.integers(0, 3), st.data())
def test_top_k_partition_path_equals_a_stable_sort(n, distinct, data):
    x = np.asarray(data.draw(st.lists(st.integers(-distinct, distinct), min_size=n,
                                      max_size=n)), np.float32).reshape(1, n)
    k = data.draw(st.integers(0, n))
    want = (n - 1 - np.argsort(x[:, ::-1], kind="stable")[:, ::-1])[:, :k]
    assert ef.math.top_k(ef.asarray(x), k=k).indices.tolist() == want.tolist()


def test_top_k_gradient_and_errors(device):
    x = ef.asarray(RNG.permutation(12).reshape(3, 4) * 0.5)
    check_grads(lambda t: ef.math.top_k(t, k=2).values, (x,), order=2)
    g = ef.grad(lambda t: ef.sum(ef.math.top_k(t, k=1)[0]))(ef.constant([1.0, 3.0, 2.0]))
    assert g.tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(ef.ShapeError, match=r"^math.top_k: k = 5 must be in 0..4"):
        ef.math.top_k(ef.ones(4), k=5)
    with pytest.raises(ef.ShapeError, match=r"^math.top_k: the input must have at least 1"):
        ef.math.top_k(ef.constant(1.0))
    with pytest.raises(ef.DTypeError, match=r"^math.top_k: .*complex64"):
        ef.math.top_k(ef.ones(3, dtype=ef.complex64))
    with pytest.raises(ef.ArgumentTypeError, match=r"^math.top_k: k must be an int"):
        ef.math.top_k(ef.ones(3), k=1.0)


# -- the compositions ----------------------------------------------------------------------------

def test_range_fill_reverse(device):
    assert ef.range(5).tolist() == [0, 1, 2, 3, 4] and ef.range(5).dtype is ef.int64
    assert ef.range(1, 2, 0.25).tolist() == [1.0, 1.25, 1.5, 1.75]
    assert ef.range(10, 4, -3).tolist() == [10, 7]
    assert ef.range(ef.constant(3), dtype=ef.float64).dtype is ef.float64
    with pytest.raises(ef.InvalidArgumentError, match="^range: delta must not be 0"):
        ef.range(0, 3, 0)
    assert ef.fill([2, 2], 1.5).tolist() == [[1.5, 1.5], [1.5, 1.5]]
    assert ef.fill(ef.constant([3]), True).dtype is ef.bool
    v = ef.constant(2.0, dtype=ef.float64)
    assert ef.grad(lambda t: ef.sum(ef.fill([2, 3], t)))(v).tolist() == 6.0
    with pytest.raises(ef.ShapeError, match=r"^fill: value must be a scalar"):
        ef.fill([2], ef.ones(2))
    x = ef.reshape(ef.arange(6), (2, 3))
    assert ef.reverse(x, [0, 1]).tolist() == [[5, 4, 3], [2, 1, 0]]
    assert ef.reverse(x, ef.constant([-1])).tolist() == [[2, 1, 0], [5, 4, 3]]


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumsum_and_cumprod_flags(device, exclusive, reverse):
    x = np.array([[1, 2, 3], [4, 5, 6]], np.int32)

    def ref(fn, start, axis):
        y = np.flip(x, axis) if reverse else x
        out = fn(y, axis=axis)
        if exclusive:
            pad = [(0, 0)] * 2
            pad[axis] = (1, 0)
            out = np.pad(out, pad, constant_values=start)[(slice(None),) * axis + (slice(0, -1),)]
        return np.flip(out, axis) if reverse else out
    for axis in (0, 1):
        got = ef.cumsum(ef.asarray(x), axis=axis, exclusive=exclusive, reverse=reverse)
        assert got.dtype is ef.int32  # TensorFlow keeps the dtype
        assert got.tolist() == ref(np.cumsum, 0, axis).tolist()
        got = ef.math.cumprod(ef.asarray(x), axis, exclusive, reverse)
        assert got.tolist() == ref(np.cumprod, 1, axis).tolist()
    check_grads(lambda t: ef.cumsum(t, 1, exclusive, reverse), (ef.asarray(normal(2, 3)),))


def test_tensorflow_documented_cumsum_values(device):
    x = ef.constant([2, 4, 6, 8])
    assert ef.cumsum(x).tolist() == [2, 6, 12, 20]
    assert ef.cumsum(x, exclusive=True).tolist() == [0, 2, 6, 12]
    assert ef.cumsum(x, reverse=True).tolist() == [20, 18, 14, 8]
    assert ef.cumsum(x, exclusive=True, reverse=True).tolist() == [18, 14, 8, 0]


def test_shape_rank_size_are_int32_tensors(device):
    x = ef.ones((2, 0, 3))
    assert ef.shape(x).tolist() == [2, 0, 3] and ef.shape(x).dtype is ef.int32
    assert ef.rank(x).tolist() == 3 and ef.size(x).tolist() == 0
    assert ef.size(ef.ones((4, 5)), out_type=ef.int64).dtype is ef.int64
    assert ef.shape(ef.constant(1.0)).shape == (0,) and ef.shape([[1, 2]]).tolist() == [1, 2]
    assert ef.shape(x).device == device


def test_squeeze_without_axis_and_one_argument_where(device):
    assert ef.squeeze(ef.ones((1, 2, 1, 3, 1))).shape == (2, 3)
    assert ef.squeeze(ef.ones((2, 3))).shape == (2, 3)
    assert ef.squeeze(ef.ones((1, 2, 1)), 0).shape == (2, 1)  # the standard's form still works
    c = RNG.random((3, 4, 2)) < 0.4
    got = ef.where(ef.asarray(c))
    assert got.dtype is ef.int64 and got.tolist() == np.argwhere(c).tolist()
    assert ef.where(ef.constant([0.0, 2.0, 0.0, -1.0])).tolist() == [[1], [3]]
    assert ef.where(ef.constant(True)).shape == (1, 0)
    assert ef.where(ef.zeros((2, 2), dtype=ef.bool)).shape == (0, 2)
    with pytest.raises(ef.ArgumentTypeError, match=r"^where: give both x1 and x2, or neither"):
        ef.where(ef.constant([True]), ef.ones(1))


def test_reduce_spellings(device):
    x = normal(3, 4)
    t = ef.asarray(x)
    b = ef.asarray(x > 0)
    assert ef.reduce_any(b, axis=[0, 1]).tolist() == bool((x > 0).any())
    assert ef.reduce_all(b, 1, keepdims=True).tolist() == (x > 0).all(1, keepdims=True).tolist()
    assert_close(ef.reduce_logsumexp(t, axis=1), np.log(np.exp(x).sum(1)))
    assert_close(ef.math.reduce_logsumexp(t, [0, 1], keepdims=True),
                 np.log(np.exp(x).sum(keepdims=True)))
    assert_close(ef.math.reduce_std(t, 0), x.std(0))
    assert_close(ef.math.reduce_variance(t), x.var())
    assert_close(ef.math.reduce_euclidean_norm(t, 1), np.sqrt((x * x).sum(1)))
    assert_close(ef.reduce_sum(t, [0]), x.sum(0))
    assert ef.math.reduce_max is ef.reduce_max and ef.math.reduce_mean is ef.reduce_mean


# -- ef.math -------------------------------------------------------------------------------------

TF_MATH = ["add", "subtract", "multiply", "divide", "truediv", "floordiv", "floormod", "mod",
           "pow", "exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "square", "abs", "sign",
           "negative", "reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh",
           "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "softplus", "erf", "erfc",
           "erfinv", "lgamma", "digamma", "igamma", "igammac", "polygamma", "top_k",
           "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
           "reduce_any", "reduce_all", "reduce_logsumexp", "reduce_std", "reduce_variance",
           "reduce_euclidean_norm", "argmax", "argmin", "maximum", "minimum", "log_softmax",
           "softmax", "l2_normalize", "count_nonzero", "cumsum", "cumprod", "equal", "not_equal",
           "greater", "greater_equal", "less", "less_equal", "logical_and", "logical_or",
           "logical_xor", "logical_not", "is_nan", "is_inf", "is_finite", "floor", "ceil",
           "round", "squared_difference", "xlogy", "divide_no_nan", "add_n", "real", "imag",
           "conj"]


def test_math_namespace_holds_tensorflows_names():
    missing = [n for n in TF_MATH if not callable(getattr(ef.math, n, None))]
    assert not missing, f"ef.math lacks {missing}"
    assert set(TF_MATH) <= set(ef.math.__all__)
    assert ef.math.truediv is ef.divide and ef.math.is_nan is ef.isnan
    assert ef.math.erf is ef.erf and ef.math.sigmoid is ef.nn.sigmoid


def test_math_segment_ops_are_read_lazily():
    """ef.math.segment_sum and bincount are ef's own once ops/tf_indexing.py defines them."""
    for name in ("segment_sum", "unsorted_segment_sum", "bincount"):
        if hasattr(ef, name):
            assert getattr(ef.math, name) is getattr(ef, name)
        else:
            with pytest.raises(AttributeError, match=rf"ef.math.{name}: this build"):
                getattr(ef.math, name)
    with pytest.raises(AttributeError):
        ef.math.no_such_op  # noqa: B018


def test_math_compositions_values_and_gradients(device):
    x, y = ef.constant([0.0, 2.0, 3.0], dtype=ef.float64), ef.constant([0.0, 4.0, 0.0],
                                                                         dtype=ef.float64)
    assert ef.math.xlogy(x, y).tolist()[:2] == [0.0, 2.0 * np.log(4.0)]
    assert ef.math.divide_no_nan(x, y).tolist() == [0.0, 0.5, 0.0]
    gx, gy = ef.grad(lambda a, b: ef.sum(ef.math.xlogy(a, b)), argnums=(0, 1))(x, y)
    assert gx.tolist()[0] == 0.0 and gy.tolist()[0] == 0.0  # no 0 * inf at x == 0
    gx, gy = ef.grad(lambda a, b: ef.sum(ef.math.divide_no_nan(a, b)), argnums=(0, 1))(x, y)
    assert gx.tolist() == [0.0, 0.25, 0.0] and gy.tolist() == [0.0, -2.0 / 16, 0.0]
    v = normal(3, 4)
    assert_close(ef.math.l2_normalize(ef.asarray(v), axis=1),
                 v / np.sqrt((v * v).sum(1, keepdims=True)))
    check_grads(lambda t: ef.math.l2_normalize(t, 1), (ef.asarray(v),))
    assert_close(ef.math.squared_difference(ef.asarray(v), 1.0), (v - 1) ** 2)
    assert_close(ef.math.rsqrt(ef.asarray(np.abs(v) + 1)), 1 / np.sqrt(np.abs(v) + 1))
    m = ef.constant([[1, 5], [7, 2]])
    assert ef.math.argmax(m).tolist() == [1, 0] and ef.math.argmin(m, 1).tolist() == [0, 1]
    assert ef.math.argmax(m, output_type=ef.int32).dtype is ef.int32
    assert ef.math.count_nonzero(ef.constant([[0, 1], [2, 3]])).tolist() == 3
    assert_close(ef.math.softmax(ef.asarray(v)), np.exp(v) / np.exp(v).sum(-1, keepdims=True))
    assert ef.math.add_n([ef.ones(2), ef.ones(2)]).tolist() == [2.0, 2.0]
    with pytest.raises(ef.InvalidArgumentError, match="^math.add_n: needs at least one"):
        ef.math.add_n([])


def test_lists_convert_where_tensorflow_converts_them(device):
    assert ef.pad([[1, 2]], [[0, 0], [1, 0]]).tolist() == [[0, 1, 2]]
    assert [p.tolist() for p in ef.split([1, 2, 3, 4], 2)] == [[1, 2], [3, 4]]
    assert ef.reverse([1, 2], [0]).tolist() == [2, 1] and ef.cumsum([1, 2]).tolist() == [1, 3]
    assert ef.math.top_k([3, 1, 2], k=2).indices.tolist() == [0, 2]
    assert_close(ef.math.l2_normalize([3.0, 4.0]), np.array([0.6, 0.8], np.float32))
    assert ef.math.reduce_euclidean_norm([3.0, 4.0]).tolist() == 5.0
    with pytest.raises(ef.ArgumentTypeError, match=r"^math.l2_normalize: expected a Tensor"):
        ef.math.l2_normalize("3, 4")
