"""Gradients of the ops that move values without computing new ones (issue #3): manipulation,
indexing (including writes, and repeated indices that must accumulate), astype, meshgrid,
tril/triu and device transfers.

Each differentiable op is checked against central differences to second order in float64
(``check_grads``), and ``ef.grad``'s result must have its input's dtype and shape in float32
and float64. Where a rule has a trap (repeated indices, partial cotangents of multi-output
ops, broadcasting, mixed dtypes, writes on a tape), a test pins the exact values.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core._registry import OPS
from eagerflow_core.autodiff.tape import shadow
from eagerflow_core.testing import assert_close, check_grads
from eagerflow_core.testing import strategies as st_ef

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
import plugin_harness as H  # noqa: E402

FIXTURE_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
              HealthCheck.data_too_large]
FLOATS = st.sampled_from([ef.float32, ef.float64])
SHAPES = st_ef.shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
SECOND_ORDER = settings(suppress_health_check=FIXTURE_OK)


def host(shape, seed=0) -> np.ndarray:
    """Distinct, well-spread values (no ties, so nothing is at a kink)."""
    n = int(np.prod(shape, dtype=np.int64))
    return np.random.default_rng(seed).permutation(n).reshape(shape) * 0.37 - 1.1


def _total(y):
    """A scalar from one output or several (multi-output ops)."""
    if isinstance(y, (tuple, list)):
        return ef.sum(ef.stack([ef.sum(t) for t in y]))
    return ef.sum(y)


def check(f, *hosts, dtype):
    """Second-order gradient check of ``f`` (in float64), then ``ef.grad``'s dtype and shape
    for inputs of ``dtype``."""
    xs = [ef.asarray(h, dtype=dtype) for h in hosts]
    check_grads(f, xs, order=2)
    gs = ef.grad(lambda *a: _total(f(*a)), argnums=tuple(range(len(xs))))(*xs)
    for g, x in zip(gs, xs):
        assert g.dtype is x.dtype and g.shape == x.shape, (g.dtype, g.shape, x.dtype, x.shape)


def axes_of(ndim, min_size=0):
    """Distinct axes of an ``ndim``-dimensional tensor, some spelled negative."""
    return st.lists(st.integers(0, ndim - 1), min_size=min_size, max_size=ndim,
                    unique=True).flatmap(
        lambda axes: st.tuples(*[st.sampled_from([a, a - ndim]) for a in axes]))


# -- every differentiable op of these families has a rule ----------------------------------------

FAMILIES = ("manipulation", "indexing", "creation", "transfer")


def test_every_differentiable_op_has_a_gradient_rule():
    ops = [op for op in OPS.values() if op.family in FAMILIES]
    assert {"reshape", "getitem", "setitem", "index_add", "astype", "to_device"} <= \
        {op.name for op in ops}
    missing = [op.name for op in ops if op.differentiable and op.vjp is None]
    assert not missing, f"differentiable ops without a gradient rule: {missing}"


# -- reshaping and broadcasting ------------------------------------------------------------------

@given(shape=SHAPES, dtype=FLOATS, data=st.data())
@SECOND_ORDER
def test_reshape_expand_dims_squeeze(device, shape, dtype, data):
    new = data.draw(st.permutations(shape), "new shape")
    check(lambda x: ef.reshape(x, tuple(new)), host(shape), dtype=dtype)
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)), "axis")
    check(lambda x: ef.expand_dims(x, axis=axis), host(shape), dtype=dtype)
    ones = tuple(i for i, d in enumerate(shape) if d == 1)
    check(lambda x: ef.squeeze(x, axis=ones), host(shape), dtype=dtype)


@given(shapes=st_ef.broadcastable_shapes(2, min_dims=0, max_dims=3), dtype=FLOATS)
@SECOND_ORDER
def test_broadcast_to_and_broadcast_arrays(device, shapes, dtype):
    a, b = shapes
    target = (2,) + np.broadcast_shapes(a, b)
    check(lambda x: ef.broadcast_to(x, target), host(a), dtype=dtype)
    check(lambda x, y: ef.broadcast_arrays(x, y), host(a), host(b, 1), dtype=dtype)
    check(lambda x: ef.broadcast_arrays(x), host(a), dtype=dtype)  # a lone output


def test_broadcast_to_sums_the_stretched_axes(device):
    x = ef.constant([[1.0], [2.0]])
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.broadcast_to(x, (3, 2, 4))
    g = tape.gradient(y, x, output_gradients=ef.reshape(ef.arange(24.0), (3, 2, 4)))
    want = np.arange(24.0).reshape(3, 2, 4).sum(axis=(0, 2))[:, None]
    assert_close(g, want, dtype=ef.float32)


def test_broadcast_arrays_with_one_output_used(device):
    a, b = ef.constant([[1.0], [2.0]]), ef.constant([1.0, 2.0, 3.0])
    with ef.GradientTape() as tape:
        tape.watch([a, b])
        _, bb = ef.broadcast_arrays(a, b)
    ga, gb = tape.gradient(bb, [a, b])
    assert ga is None  # no cotangent reaches the first output
    assert_close(gb, np.full(3, 2.0), dtype=ef.float32)


# -- joining and splitting -----------------------------------------------------------------------

@given(shape=SHAPES, sizes=st.lists(st.integers(1, 3), min_size=1, max_size=3), dtype=FLOATS,
       data=st.data())
@SECOND_ORDER
def test_concat(device, shape, sizes, dtype, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1) | st.none(), "axis")
    ax = 0 if axis is None else axis % len(shape)
    hosts = [host(shape[:ax] + (n,) + shape[ax + 1:], seed=i) for i, n in enumerate(sizes)]
    check(lambda *xs: ef.concat(list(xs), axis=axis), *hosts, dtype=dtype)


@given(shape=SHAPES, n=st.integers(1, 3), dtype=FLOATS, data=st.data())
@SECOND_ORDER
def test_stack_and_unstack(device, shape, n, dtype, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)), "stack axis")
    check(lambda *xs: ef.stack(list(xs), axis=axis), *[host(shape, i) for i in range(n)],
          dtype=dtype)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), "unstack axis")
    check(lambda x: ef.unstack(x, axis=axis), host(shape), dtype=dtype)


def test_join_gradients_keep_each_input_dtype(device):
    a, b = ef.constant([1.0, 2.0], dtype=ef.float32), ef.constant([3.0, 4.0], dtype=ef.float64)
    for join in (ef.concat, ef.stack):
        with ef.GradientTape() as tape:
            tape.watch([a, b])
            y = join([a, b])
        assert y.dtype is ef.float64
        ga, gb = tape.gradient(y, [a, b], output_gradients=ef.reshape(
            ef.arange(4.0, dtype=ef.float64), y.shape))
        assert_close(ga, [0.0, 1.0], dtype=ef.float32)
        assert_close(gb, [2.0, 3.0], dtype=ef.float64)


def test_unstack_with_some_outputs_unused(device):
    x = ef.reshape(ef.arange(6.0), (2, 3))
    with ef.GradientTape() as tape:
        tape.watch(x)
        parts = ef.unstack(x, axis=1)
    g = tape.gradient(parts[1], x, output_gradients=ef.constant([5.0, 7.0]))
    assert_close(g, [[0.0, 5.0, 0.0], [0.0, 7.0, 0.0]], dtype=ef.float32)
    with ef.GradientTape() as tape:  # one output only: the engine hands the rule a lone tensor
        tape.watch(x)
        (row,) = ef.unstack(x[:1], axis=0)
    assert_close(tape.gradient(row, x), [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]], dtype=ef.float32)


# -- reordering ----------------------------------------------------------------------------------

@given(shape=SHAPES, dtype=FLOATS, data=st.data())
@SECOND_ORDER
def test_permute_dims_moveaxis_flip(device, shape, dtype, data):
    nd = len(shape)
    perm = data.draw(st.permutations(range(nd)), "perm")
    perm = tuple(a - nd if data.draw(st.booleans()) else a for a in perm)
    check(lambda x: ef.permute_dims(x, perm), host(shape), dtype=dtype)
    check(lambda x: ef.transpose(x), host(shape), dtype=dtype)
    src = data.draw(axes_of(nd, 1), "source")
    dst = data.draw(st.permutations(range(nd)).map(lambda p: tuple(p[:len(src)])), "dest")
    check(lambda x: ef.moveaxis(x, src, dst), host(shape), dtype=dtype)
    axis = data.draw(st.none() | axes_of(nd), "flip axis")
    check(lambda x: ef.flip(x, axis=axis), host(shape), dtype=dtype)


@given(shape=SHAPES, dtype=FLOATS, data=st.data())
@SECOND_ORDER
def test_roll(device, shape, dtype, data):
    nd = len(shape)
    shift = data.draw(st.integers(-5, 5), "shift")
    check(lambda x: ef.roll(x, shift), host(shape), dtype=dtype)
    axes = data.draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=3), "axes")
    shifts = data.draw(st.lists(st.integers(-5, 5), min_size=len(axes), max_size=len(axes)))
    check(lambda x: ef.roll(x, tuple(shifts), axis=tuple(axes)), host(shape), dtype=dtype)


# -- repeating -----------------------------------------------------------------------------------

@given(shape=SHAPES, dtype=FLOATS, data=st.data())
@SECOND_ORDER
def test_repeat_and_tile(device, shape, dtype, data):
    nd = len(shape)
    axis = data.draw(st.none() | st.integers(-nd, nd - 1), "axis")
    n = int(np.prod(shape)) if axis is None else shape[axis]
    count = data.draw(st.integers(0, 3), "count")
    check(lambda x: ef.repeat(x, count, axis=axis), host(shape), dtype=dtype)
    counts = ef.constant(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    check(lambda x: ef.repeat(x, counts, axis=axis), host(shape), dtype=dtype)
    reps = tuple(data.draw(st.lists(st.integers(1, 3), max_size=4), "repetitions"))
    check(lambda x: ef.tile(x, reps), host(shape), dtype=dtype)


def test_repeat_sums_the_copies(device):
    x = ef.constant([[1.0, 2.0], [3.0, 4.0]])
    with ef.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = ef.repeat(x, ef.constant([3, 0]), axis=1)
        z = ef.repeat(x, 2)
    g = tape.gradient(y, x, output_gradients=ef.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    assert_close(g, [[6.0, 0.0], [15.0, 0.0]], dtype=ef.float32)
    g = tape.gradient(z, x, output_gradients=ef.arange(8.0))
    assert_close(g, [[1.0, 5.0], [9.0, 13.0]], dtype=ef.float32)


# -- astype, meshgrid, triangles -----------------------------------------------------------------

@given(shape=SHAPES, dtype=FLOATS)
@SECOND_ORDER
def test_astype(device, shape, dtype):
    check(lambda x: ef.astype(x, ef.float64), host(shape), dtype=dtype)
    check(lambda x: ef.astype(x, ef.complex128), host(shape), dtype=dtype)


def test_astype_gradient_comes_back_in_the_input_dtype(device):
    x = ef.constant([1.5, -2.0], dtype=ef.float16)
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.astype(x, ef.complex64)
    g = tape.gradient(y, x, output_gradients=ef.constant([1 + 2j, 3 - 1j], dtype=ef.complex64))
    assert_close(g, [1.0, 3.0], dtype=ef.float16)  # the real part: x is real


def test_astype_to_an_integer_gives_no_gradient(device):
    x = ef.constant([1.5, -2.0])
    with ef.GradientTape(persistent=True) as tape:  # explain needs what gradient() saw
        tape.watch(x)
        y = ef.astype(ef.astype(x, ef.int32), ef.float32)
    assert tape.gradient(y, x) is None
    assert "int32" in tape.explain(y, x)


@given(n=st.integers(1, 3), sizes=st.lists(st.integers(1, 4), min_size=3, max_size=3),
       indexing=st.sampled_from(["xy", "ij"]), dtype=FLOATS)
@SECOND_ORDER
def test_meshgrid(device, n, sizes, indexing, dtype):
    hosts = [host((s,), i) for i, s in enumerate(sizes[:n])]
    check(lambda *xs: ef.meshgrid(*xs, indexing=indexing), *hosts, dtype=dtype)


def test_meshgrid_xy_swaps_the_first_two_axes(device):
    a, b = ef.constant([1.0, 2.0, 3.0]), ef.constant([10.0, 20.0])
    with ef.GradientTape() as tape:
        tape.watch([a, b])
        ga_grid, _ = ef.meshgrid(a, b)  # shape (2, 3)
    ga, gb = tape.gradient(ga_grid, [a, b],
                           output_gradients=ef.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    assert_close(ga, [5.0, 7.0, 9.0], dtype=ef.float32)
    assert gb is None


@given(shape=st_ef.shapes(min_dims=2, max_dims=3, min_side=1, max_side=4), k=st.integers(-3, 3),
       dtype=FLOATS)
@SECOND_ORDER
def test_tril_triu(device, shape, k, dtype):
    check(lambda x: ef.tril(x, k=k), host(shape), dtype=dtype)
    check(lambda x: ef.triu(x, k=k), host(shape), dtype=dtype)


# -- getitem, take, take_along_axis -------------------------------------------------------------

@st.composite
def keys(draw, shape, unique=False):
    """A key for ``shape``: ints, slices, index lists (of one length, so they broadcast; maybe
    repeating an index), ``None`` and ``...``."""
    n = draw(st.integers(1, 3))
    parts = []
    for side in shape:
        kind = draw(st.sampled_from(["int", "slice", "list", "all"]))
        if kind == "int":
            parts.append(draw(st.integers(-side, side - 1)))
        elif kind == "slice":
            parts.append(slice(draw(st.none() | st.integers(-side, side)),
                               draw(st.none() | st.integers(-side, side)),
                               draw(st.sampled_from([None, 1, 2, -1]))))
        elif kind == "list" and (not unique or n <= side):
            same = (lambda i, side=side: i % side) if unique else None  # -1 is side - 1
            parts.append(draw(st.lists(st.integers(-side, side - 1), min_size=n, max_size=n,
                                       unique_by=same)))
        else:
            parts.append(slice(None))
    if parts and draw(st.booleans()):
        parts = parts[:-1] + [Ellipsis] if draw(st.booleans()) else parts[:-1]
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), None)
    return tuple(parts)


@given(shape=SHAPES, dtype=FLOATS, data=st.data())
@SECOND_ORDER
def test_getitem(device, shape, dtype, data):
    key = data.draw(keys(shape), "key")
    check(lambda x: x[key], host(shape), dtype=dtype)


@given(shape=SHAPES, dtype=FLOATS, data=st.data())
@SECOND_ORDER
def test_getitem_bool_mask(device, shape, dtype, data):
    covers = data.draw(st.integers(1, len(shape)), "mask dims")
    mask = np.asarray(data.draw(st_ef.arrays(ef.bool, shape[:covers]), "mask"))
    check(lambda x: x[ef.asarray(mask)], host(shape), dtype=dtype)


def test_repeated_indices_accumulate(device):
    x = ef.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with ef.GradientTape(persistent=True) as tape:
        tape.watch(x)
        rows = x[[0, 0, 2]]
        cells = x[[0, 0, 1], [1, 1, 1]]
        taken = ef.take(x, ef.constant([1, 1, 1]), axis=1)
        along = ef.take_along_axis(x, ef.constant([[0, 0], [1, 0], [1, 1]]), axis=1)
    assert_close(tape.gradient(rows, x), [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]], dtype=ef.float32)
    assert_close(tape.gradient(cells, x), [[0.0, 2.0], [0.0, 1.0], [0.0, 0.0]], dtype=ef.float32)
    assert_close(tape.gradient(taken, x), [[0.0, 3.0], [0.0, 3.0], [0.0, 3.0]], dtype=ef.float32)
    assert_close(tape.gradient(along, x), [[2.0, 0.0], [1.0, 1.0], [0.0, 2.0]], dtype=ef.float32)


@given(shape=SHAPES, dtype=FLOATS, data=st.data())
@SECOND_ORDER
def test_take(device, shape, dtype, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), "axis")
    side = shape[axis]
    idx = ef.constant(data.draw(st.lists(st.integers(-side, side - 1), max_size=5), "indices"),
                      dtype=ef.int64)
    check(lambda x: ef.take(x, idx, axis=axis), host(shape), dtype=dtype)


@given(shape=SHAPES, dtype=FLOATS, data=st.data())
@SECOND_ORDER
def test_take_along_axis(device, shape, dtype, data):
    nd = len(shape)
    axis = data.draw(st.integers(-nd, nd - 1), "axis")
    ax = axis % nd
    # indices broadcast with x on the other axes: some of its sides are 1, some of x's too
    x_shape = tuple(d if i == ax or data.draw(st.booleans()) else 1 for i, d in enumerate(shape))
    i_shape = tuple(data.draw(st.integers(0, 4)) if i == ax else
                    (d if x_shape[i] == 1 or data.draw(st.booleans()) else 1)
                    for i, d in enumerate(shape))
    idx = np.asarray(data.draw(st_ef.arrays(ef.int64, i_shape, low=-x_shape[ax],
                                            high=x_shape[ax] - 1)))
    check(lambda x: ef.take_along_axis(x, ef.asarray(idx), axis=axis), host(x_shape),
          dtype=dtype)


@given(shape=SHAPES, data=st.data())
@SECOND_ORDER
def test_index_add_is_differentiable(device, shape, data):
    # The gradient of a gather is index_add (or a write into zeros): it is linear in the
    # cotangent, and its own gradient w.r.t. that cotangent is a gather again.
    key = data.draw(keys(shape), "key")
    x0 = ef.asarray(host(shape), dtype=ef.float64)

    def gather_vjp(ct):
        return ef.vjp(lambda x: x[key], x0)[1](ct)[0]
    check(gather_vjp, host(x0[key].shape, 3), dtype=ef.float64)


def test_index_add_directly(device):
    # The internal op on its own: linear in both inputs, repeated indices accumulate.
    from eagerflow_core._dispatch import call
    from eagerflow_core.ops.indexing import index_add_op
    key = (ef.constant([0, 0, 2])._data, slice(None))

    def add_rows(x, v):
        return call(index_add_op, (x, v), {"key": key})
    check(add_rows, host((3, 2)), host((3, 1), 1), dtype=ef.float64)
    out = add_rows(ef.zeros((3, 2)), ef.constant([[1.0], [2.0], [3.0]]))
    assert_close(out, [[3.0, 3.0], [0.0, 0.0], [3.0, 3.0]], dtype=ef.float32)


# -- setitem ---------------------------------------------------------------------------------------

@given(shape=SHAPES, dtype=FLOATS, data=st.data())
@SECOND_ORDER
def test_setitem(device, shape, dtype, data):
    key = data.draw(keys(shape, unique=True), "key")  # a repeated write keeps only one value
    target = np.empty(shape)[key].shape
    v_shape = target[data.draw(st.integers(0, len(target)), "dropped"):]
    v_shape = tuple(1 if data.draw(st.booleans()) else d for d in v_shape)

    def write(x, v):
        y = ef.reshape(x, x.shape)  # a new tensor: writing into x itself rebinds the argument
        y[key] = v
        return y
    check(write, host(shape), host(v_shape, 1), dtype=dtype)


def test_setitem_with_a_bool_mask_and_a_scalar(device):
    x = ef.constant([1.0, -2.0, 3.0, -4.0])
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.reshape(x, (4,))
        y[x < 0] = 0.0
    g = tape.gradient(y, x, output_gradients=ef.constant([1.0, 2.0, 3.0, 4.0]))
    assert_close(g, [1.0, 0.0, 3.0, 0.0], dtype=ef.float32)


def test_setitem_on_a_tape_keeps_the_original_value(device):
    # `x[0] = v` rebinds x to the new value; the tape keeps the value x had when watched.
    x, v = ef.constant([1.0, 2.0, 3.0]), ef.constant(5.0)
    ct = ef.constant([10.0, 20.0, 30.0])
    with ef.GradientTape(persistent=True) as tape:
        tape.watch([x, v])
        original = shadow(x)  # the watched value's tape identity, held past the write
        x[0] = v
        x[1:] = x[1:] * 2.0
    assert_close(x, [5.0, 4.0, 6.0], dtype=ef.float32)
    g_orig, g_v, g_new = tape.gradient(x, [original, v, x], output_gradients=ct)
    assert_close(g_orig, [0.0, 40.0, 60.0], dtype=ef.float32)
    assert_close(g_v, 10.0, dtype=ef.float32)
    assert_close(g_new, [10.0, 20.0, 30.0], dtype=ef.float32)  # x now stands for the new value


def test_setitem_into_an_argument_differentiates_the_argument(device):
    # f writes into its own argument: its gradient is still w.r.t. the value passed in.
    def f(x, v):
        x[0] = v
        return x
    x, v = ef.constant([1.0, 2.0, 3.0]), ef.constant(5.0)
    gx, gv = ef.vjp(f, x, v)[1](ef.constant([10.0, 20.0, 30.0]))
    assert_close(gx, [0.0, 20.0, 30.0], dtype=ef.float32)
    assert_close(gv, 10.0, dtype=ef.float32)


def test_setitem_into_a_variable_is_not_differentiated_through(device):
    # TensorFlow's semantics: a write into a Variable is an assignment, not an op on the
    # tape; the gradient w.r.t. the Variable comes from its reads (here, one after the write).
    w = ef.Variable([1.0, 2.0, 3.0])
    with ef.GradientTape() as tape:
        before = w * 1.0  # a read before the write
        w[0] = 5.0
        after = w * 1.0
    g = tape.gradient(after, w, output_gradients=ef.constant([1.0, 1.0, 1.0]))
    assert before.shape == (3,)
    assert_close(g, [1.0, 1.0, 1.0], dtype=ef.float32)


# -- transfers -------------------------------------------------------------------------------------

def test_to_device_sends_the_gradient_back():
    toy = H.import_toy()
    with H.registered(toygrad=toy.make_plugin("toygrad", priority=-10)):
        cpu, other = ef.device("cpu"), ef.device("toygrad")
        x = ef.asarray([1.0, 2.0, 3.0], device=cpu)
        with ef.GradientTape() as tape:
            tape.watch(x)
            y = x.to(other)
        assert y.device == other
        g = tape.gradient(y, x, output_gradients=ef.asarray([4.0, 5.0, 6.0], device=other))
        assert g.device == cpu
        assert_close(g, [4.0, 5.0, 6.0], dtype=ef.float32)
        check_grads(lambda t: t.to(other), [x], order=2)
