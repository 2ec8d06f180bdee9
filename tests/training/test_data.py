"""ef.data: sources and transformations against plain-Python references, nested structures,
inspection (cardinality, len, element_spec) and error messages.

Ordering steps (shuffle, shard...) have their own file (test_data_order.py), threads theirs
(test_data_threads.py).
"""

from __future__ import annotations

import collections
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core import data
from eagerflow_core.data import Dataset


def py(element):
    """An element as plain Python: tensors become ``tolist()``, structure is kept."""
    if isinstance(element, dict):
        return {k: py(v) for k, v in element.items()}
    if isinstance(element, tuple):
        return type(element)(*map(py, element)) if hasattr(element, "_fields") else tuple(
            map(py, element))
    assert isinstance(element, ef.Tensor), type(element)
    return element.tolist()


def run(ds):
    return [py(e) for e in ds]


def generic(ds):
    """The same dataset through a map, which takes it off the batch-gathering fast path."""
    return ds.map(lambda *a: a[0] if len(a) == 1 else a)


# -- sources ---------------------------------------------------------------------------------

def test_from_tensor_slices_numpy_keeps_dtype_and_gives_tensors():
    x = np.arange(12, dtype=np.float64).reshape(4, 3)
    ds = Dataset.from_tensor_slices(x)
    elems = list(ds)
    assert all(type(e) is ef.Tensor for e in elems)
    assert [e.dtype for e in elems] == [ef.float64] * 4
    assert run(ds) == x.tolist()


def test_from_tensor_slices_python_lists_use_python_defaults():
    ds = Dataset.from_tensor_slices(([1.5, 2.5], [1, 2], [True, False]))
    a, b, c = next(iter(ds))
    assert (a.dtype, b.dtype, c.dtype) == (ef.float32, ef.int64, ef.bool)
    assert run(ds) == [(1.5, 1, True), (2.5, 2, False)]


def test_from_tensor_slices_tensor_and_variable():
    t = ef.asarray(np.arange(6).reshape(3, 2))
    v = ef.Variable(np.ones((3,), np.float32))
    assert run(Dataset.from_tensor_slices((t, v))) == [([0, 1], 1.0), ([2, 3], 1.0),
                                                       ([4, 5], 1.0)]


def test_nested_structures_round_trip():
    Point = collections.namedtuple("Point", "x y")
    src = {"img": np.arange(8).reshape(4, 2), "meta": (np.arange(4) * 10,
                                                      Point(np.arange(4.0), [1, 2, 3, 4]))}
    ds = Dataset.from_tensor_slices(src)
    out = run(ds)
    want = [{"img": [2 * i, 2 * i + 1], "meta": (10 * i, Point(float(i), i + 1))}
            for i in range(4)]
    assert out == want
    assert type(next(iter(ds))["meta"][1]) is Point
    # the same through batch (fast path and stacking path) and unbatch
    for d in (ds, generic(ds)):
        batches = run(d.batch(3))
        assert batches[0]["img"] == [[0, 1], [2, 3], [4, 5]]
        assert batches[1]["meta"][1] == Point([3.0], [4])
        assert run(d.batch(3).unbatch()) == want


def test_dict_keys_in_any_order_are_the_same_structure():
    gen = lambda: iter([{"a": 1, "b": 2}, {"b": 4, "a": 3}])
    assert run(Dataset.from_generator(gen).batch(2)) == [{"a": [1, 3], "b": [2, 4]}]


def test_source_rows_are_copies_not_views():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    ds = Dataset.from_tensor_slices(x)
    for e in itertools.chain(ds, ds.batch(3), ds.shuffle(10, seed=0).batch(4)):
        assert not np.shares_memory(e.numpy(), x)


def test_a_device_that_cannot_adopt_host_memory_gets_one_copy(monkeypatch):
    # On a GPU, asarray(copy=False) of host memory refuses; the pipeline then copies (once
    # per batch) and remembers the refusal for that device.
    from eagerflow_core.data import _sources

    calls = []

    def refusing(obj, *, copy=None, **kw):
        calls.append(copy)
        if copy is False:
            raise ef.InvalidArgumentError("asarray: copy=False, but moving host memory copies")
        return ef.asarray(obj, copy=copy, **kw)

    monkeypatch.setattr(_sources, "asarray", refusing)
    monkeypatch.setattr(_sources, "_SHARES_HOST", {})
    x = np.arange(12.0).reshape(6, 2)
    ds = Dataset.from_tensor_slices(x).batch(4)
    calls.clear()
    assert [b.tolist() for b in ds] == [x[:4].tolist(), x[4:].tolist()]
    assert calls == [False, None, None]
    assert list(_sources._SHARES_HOST.values()) == [False]


@pytest.mark.parametrize("bad, message", [
    ((np.zeros(3), np.zeros(4)), "different sizes along axis 0 ([0] has 3, [1] has 4)"),
    ({"a": np.zeros(2), "b": np.zeros(5)}, "['a'] has 2, ['b'] has 5"),
    ((np.zeros(3), 1.0), "component [1] is a scalar"),
    (np.float32(1.0), "is a scalar"),
    (("text", np.zeros(3)), "component [0] is a str"),
    ((), "the structure has no component"),
    ([["a"], ["b"]], "the tensor: asarray: NumPy dtype <U1 has no eagerflow equivalent"),
    ([[1, 2], [3]], "cannot make a tensor from list"),
])
def test_from_tensor_slices_errors(bad, message):
    with pytest.raises(ef.EagerflowError) as info:
        Dataset.from_tensor_slices(bad)
    assert message in str(info.value)
    assert str(info.value).startswith("Dataset.from_tensor_slices")


@pytest.mark.parametrize("args", [(5,), (0,), (2, 9), (9, 2), (2, 11, 3), (10, 0, -3)])
def test_range_matches_python(args):
    ds = Dataset.range(*args)
    assert run(ds) == list(range(*args))
    assert len(ds) == len(range(*args))
    assert run(ds.batch(2)) == [list(range(*args))[i:i + 2] for i in
                                range(0, len(range(*args)), 2)]


def test_range_output_type_and_errors():
    assert next(iter(Dataset.range(3, output_type=ef.int32))).dtype == ef.int32
    with pytest.raises(ef.InvalidArgumentError, match="step must not be zero"):
        Dataset.range(0, 5, 0)
    with pytest.raises(ef.InvalidArgumentError, match="must be ints"):
        Dataset.range(2.5)


def test_from_tensors_is_one_element():
    ds = Dataset.from_tensors((np.arange(3), [1.0, 2.0]))
    assert run(ds) == [([0, 1, 2], [1.0, 2.0])]
    assert len(ds) == 1
    assert run(ds.repeat(2).batch(2)) == [([[0, 1, 2]] * 2, [[1.0, 2.0]] * 2)]


def test_from_generator_calls_the_function_each_epoch_with_args():
    calls = []

    def gen(n, scale):
        calls.append(n)
        for i in range(n):
            yield i * scale, [i] * 2

    ds = Dataset.from_generator(gen, args=(3, 10))
    assert run(ds) == [(0, [0, 0]), (10, [1, 1]), (20, [2, 2])]
    assert run(ds) == run(ds)
    assert calls == [3, 3, 3]
    assert len(list(ds.batch(2))) == 2


def test_from_generator_signature_converts_and_checks():
    sig = {"x": data.TensorSpec((None, 2), ef.float32), "y": data.TensorSpec((), ef.int32)}
    good = lambda: iter([{"x": [[1, 2]], "y": 1}, {"x": np.ones((3, 2)), "y": np.int64(2)}])
    out = list(Dataset.from_generator(good, output_signature=sig))
    assert [e["x"].dtype for e in out] == [ef.float32] * 2
    assert [e["y"].dtype for e in out] == [ef.int32] * 2
    assert Dataset.from_generator(good, output_signature=sig).element_spec == sig

    bad_shape = lambda: iter([{"x": [[1, 2]], "y": 1}, {"x": [[1, 2, 3]], "y": 2}])
    with pytest.raises(ef.ShapeError, match=r"element 1, component \['x'\] has shape \(1, 3\), "
                                            r"not compatible with \(None, 2\)"):
        list(Dataset.from_generator(bad_shape, output_signature=sig))
    bad_dtype = lambda: iter([{"x": [[1, 2]], "y": 1.5}])
    with pytest.raises(ef.DTypeError, match=r"element 0, component \['y'\] has dtype float32, "
                                            r"which does not convert to int32"):
        list(Dataset.from_generator(bad_dtype, output_signature=sig))
    bad_structure = lambda: iter([([1, 2], 1)])
    with pytest.raises(ef.InvalidArgumentError, match="does not match the elements' structure"):
        list(Dataset.from_generator(bad_structure, output_signature=sig))


def test_from_generator_legacy_types_and_shapes():
    ds = Dataset.from_generator(lambda: iter([(1, [1.0, 2.0])]), (ef.int32, ef.float64),
                                ((), (2,)))
    assert ds.element_spec == (data.TensorSpec((), ef.int32), data.TensorSpec((2,), ef.float64))
    assert [tuple(t.dtype for t in e) for e in ds] == [(ef.int32, ef.float64)]


def test_from_generator_errors():
    with pytest.raises(ef.ArgumentTypeError, match="not a call of it"):
        Dataset.from_generator(i for i in range(3))

    def gen():
        yield 1
        yield 2
        raise KeyError("boom")

    with pytest.raises(data.DatasetFunctionError) as info:
        list(Dataset.from_generator(gen))
    assert "raised KeyError while producing element 2" in str(info.value)
    assert isinstance(info.value.__cause__, KeyError)
    assert info.value.element_index == 2


# -- map, filter, flat_map -----------------------------------------------------------------

@given(n=st.integers(0, 30), parallel=st.sampled_from([None, 1, 3, data.AUTOTUNE]))
def test_map_matches_python(n, parallel):
    ds = Dataset.range(n).map(lambda x: (x * x, x + 1.5), num_parallel_calls=parallel)
    assert run(ds) == [(i * i, i + 1.5) for i in range(n)]


def test_map_unpacks_tuples_but_not_dicts_or_namedtuples():
    Pair = collections.namedtuple("Pair", "a b")
    tup = Dataset.from_tensor_slices((np.arange(3), np.arange(3) * 2))
    assert run(tup.map(lambda a, b: a + b)) == [0, 3, 6]
    d = Dataset.from_tensor_slices({"a": np.arange(3), "b": np.arange(3)})
    assert run(d.map(lambda e: e["a"] * 10 + e["b"])) == [0, 11, 22]
    nt = Dataset.from_tensor_slices(Pair(np.arange(2), np.arange(2)))
    assert run(nt.map(lambda p: p.a - p.b)) == [0, 0]


def test_map_results_become_tensors_and_lists_tuples():
    ds = Dataset.range(2).map(lambda x: [int(x), np.float32(0.5), {"k": np.arange(2)}])
    out = list(ds)
    assert all(type(t) is ef.Tensor for t in (out[0][0], out[0][1], out[0][2]["k"]))
    assert run(ds) == [(0, 0.5, {"k": [0, 1]}), (1, 0.5, {"k": [0, 1]})]


@pytest.mark.parametrize("parallel", [None, 4])
def test_map_errors_name_the_element_and_chain_the_original(parallel):
    def f(x):
        if int(x) == 5:
            raise ValueError("five is bad")
        return x

    ds = Dataset.range(10).map(f, num_parallel_calls=parallel)
    seen = []
    with pytest.raises(ValueError) as info:  # the built-in family is kept
        for x in ds:
            seen.append(int(x))
    assert seen == [0, 1, 2, 3, 4]  # every element before the failing one arrives, in order
    err = info.value
    assert isinstance(err, ef.InvalidArgumentError)
    assert str(err) == ("Dataset.map: the function raised ValueError on element 5 (counting "
                        "from 0) of its input: five is bad")
    assert err.element_index == 5
    assert type(err.__cause__) is ValueError and str(err.__cause__) == "five is bad"


def test_map_error_index_counts_the_maps_own_input():
    def f(x):
        if int(x) == 7:
            raise RuntimeError("seven")
        return x

    ds = Dataset.range(20).filter(lambda x: x % 2 == 1).map(f)  # 1, 3, 5, 7: index 3
    with pytest.raises(data.DatasetFunctionError, match="RuntimeError on element 3 "):
        list(ds)


def test_map_keeps_eagerflow_error_classes():
    ds = Dataset.from_tensor_slices(np.ones((3, 2))).map(lambda x: ef.matmul(x, ef.ones((3, 3))))
    with pytest.raises(ef.ShapeError) as info:
        list(ds)
    assert "element 0" in str(info.value) and isinstance(info.value.__cause__, ef.ShapeError)


def test_map_returning_none_or_text_is_a_clear_error():
    with pytest.raises(ef.ArgumentTypeError, match="got None for element 0"):
        list(Dataset.range(2).map(lambda x: None))
    with pytest.raises(ef.ArgumentTypeError, match=r"element 0, component \[1\] is a str"):
        list(Dataset.range(2).map(lambda x: (x, "label")))


@given(n=st.integers(0, 40), k=st.integers(1, 5))
def test_filter_matches_python(n, k):
    assert run(Dataset.range(n).filter(lambda x: x % k == 0)) == [i for i in range(n)
                                                                  if i % k == 0]


def test_filter_predicate_must_be_one_boolean():
    assert run(Dataset.range(4).filter(lambda x: bool(x > 1))) == [2, 3]
    with pytest.raises(ef.ArgumentTypeError, match=r"got a tensor of shape \(2,\) and dtype "
                                                   r"bool for element 0"):
        list(Dataset.range(3).filter(lambda x: ef.stack([x > 0, x > 1])))
    with pytest.raises(ef.ArgumentTypeError, match="got int for element 0"):
        list(Dataset.range(3).filter(lambda x: 1))


    def pred(x):
        if int(x) == 2:
            raise TypeError("not this one")
        return True

    with pytest.raises(TypeError) as info:
        list(Dataset.range(5).filter(pred))
    assert str(info.value).startswith("Dataset.filter: the function raised TypeError on "
                                      "element 2")
    assert isinstance(info.value, ef.DTypeError) and info.value.element_index == 2


def test_interleave_as_tensorflow_documents_it():
    # The example of tf.data.Dataset.interleave's documentation, with its printed result.
    ds = Dataset.range(1, 6).interleave(lambda x: Dataset.from_tensors(x).repeat(6),
                                        cycle_length=2, block_length=4)
    assert run(ds) == [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 4, 4,
                       5, 5, 5, 5, 5, 5]
    # uneven inner lengths: an exhausted dataset's place goes to the next input's
    ragged = Dataset.range(4).interleave(lambda n: Dataset.range(int(n)).map(lambda i: n * 10 + i),
                                         cycle_length=2)
    assert run(ragged) == [10, 20, 21, 30, 31, 32]
    with pytest.raises(ef.InvalidArgumentError, match="cycle_length must be >= 1"):
        Dataset.range(2).interleave(lambda x: Dataset.range(1), cycle_length=0)


def test_flat_map_apply_reduce():
    ds = Dataset.range(4).flat_map(lambda n: Dataset.range(int(n)).map(lambda i: n * 10 + i))
    assert run(ds) == [10, 20, 21, 30, 31, 32]
    with pytest.raises(ef.ArgumentTypeError, match="must return a Dataset, got int"):
        list(Dataset.range(2).flat_map(lambda n: 3))
    assert run(Dataset.range(6).apply(lambda d: d.skip(2).take(2))) == [2, 3]
    assert py(Dataset.range(1, 5).reduce(1, lambda acc, x: acc * x)) == 24
    assert py(Dataset.range(0).reduce(7, lambda acc, x: acc + x)) == 7


# -- batching --------------------------------------------------------------------------------

def _chunks(seq, size, drop):
    out = [seq[i:i + size] for i in range(0, len(seq), size)]
    return [c for c in out if len(c) == size] if drop else out


@given(n=st.integers(0, 40), size=st.integers(1, 12), drop=st.booleans())
def test_batch_matches_python_on_both_paths(n, size, drop):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    ds = Dataset.from_tensor_slices((x, y))
    want = [(c, [r[0] // 2 for r in c]) for c in _chunks(x.astype(int).tolist(), size, drop)]
    want = [([[float(v) for v in r] for r in xs], ys) for xs, ys in want]
    for d in (ds, generic(ds), Dataset.from_tensor_slices((ef.asarray(x), ef.asarray(y)))):
        batched = d.batch(size, drop_remainder=drop)
        assert run(batched) == want
        assert len(batched) == len(want)


def test_batch_general_path_errors_name_the_elements():
    ragged = Dataset.from_generator(lambda: iter([[1, 2], [3, 4], [5]]))
    with pytest.raises(ef.ShapeError) as info:
        list(ragged.batch(3))
    assert str(info.value) == ("Dataset.batch: element 2 has shape (1,) but element 0 has (2,); "
                               "a batch stacks elements of one shape: use padded_batch to pad "
                               "them to a common shape")
    mixed = Dataset.from_generator(lambda: iter([(1, 2.0), (3, 4)]))
    with pytest.raises(ef.DTypeError, match=r"element 1, component \[1\] has dtype int64 but "
                                            r"element 0 has float32"):
        list(mixed.batch(2))
    shapes = Dataset.from_generator(lambda: iter([(1, 2), {"a": 1}]))
    with pytest.raises(ef.InvalidArgumentError, match=r"element 1 has the structure \{'a': \*\} "
                                                      r"but element 0 has \(\*, \*\)"):
        list(shapes.batch(2))


def _pad_reference(rows, shape, value):
    out = np.full((len(rows),) + shape, value)
    for i, r in enumerate(rows):
        r = np.asarray(r)
        out[(i,) + tuple(slice(0, s) for s in r.shape)] = r
    return out.tolist()


def test_padded_batch_against_numpy():
    rows = [np.arange(n * 2).reshape(n, 2) + n for n in (1, 3, 2, 4, 1)]
    gen = lambda: iter(rows)
    ds = Dataset.from_generator(gen)
    got = run(ds.padded_batch(2))
    assert got == [_pad_reference(rows[0:2], (3, 2), 0), _pad_reference(rows[2:4], (4, 2), 0),
                   _pad_reference(rows[4:], (1, 2), 0)]
    got = run(ds.padded_batch(3, padded_shapes=(5, None), padding_values=-1,
                              drop_remainder=True))
    assert got == [_pad_reference(rows[0:3], (5, 2), -1)]
    got = run(ds.padded_batch(2, padded_shapes=[-1, 3]))
    assert got[0] == _pad_reference(rows[0:2], (3, 3), 0)


def test_padded_batch_nested_values_and_specs():
    gen = lambda: iter([({"w": [1]}, [True]), ({"w": [2, 2, 2]}, [False, True])])
    ds = Dataset.from_generator(gen).padded_batch(
        2, padded_shapes=({"w": (4,)}, (None,)), padding_values=({"w": 9}, True))
    assert run(ds) == [({"w": [[1, 9, 9, 9], [2, 2, 2, 9]]}, [[True, True], [False, True]])]
    assert ds.element_spec == ({"w": data.TensorSpec((None, 4), ef.int64)},
                               data.TensorSpec((None, None), ef.bool))


def test_padded_batch_errors():
    gen = lambda: iter([[1, 2, 3], [1]])
    with pytest.raises(ef.ShapeError, match=r"element 0 has size 3 in dimension 0, more than "
                                            r"padded_shapes allows \(2"):
        list(Dataset.from_generator(gen).padded_batch(2, padded_shapes=(2,)))
    with pytest.raises(ef.ShapeError, match=r"element 1 has shape \(1, 1\), of rank 2; "
                                            r"expected rank 1"):
        list(Dataset.from_generator(lambda: iter([[1], [[1]]])).padded_batch(2))
    with pytest.raises(ef.InvalidArgumentError, match="padded_shapes: .* does not match"):
        list(Dataset.from_generator(lambda: iter([(1, 2)])).padded_batch(1, padded_shapes=((),)))


def test_unbatch_inverts_batch_and_checks_sizes():
    x = np.arange(14).reshape(7, 2)
    ds = Dataset.from_tensor_slices((x, x[:, 0]))
    assert run(ds.batch(3).unbatch()) == run(ds)
    bad = Dataset.from_tensors((np.zeros((2, 1)), np.zeros(3)))
    with pytest.raises(ef.ShapeError, match=r"element 0 cannot be split along axis 0"):
        list(bad.unbatch())


# -- combining -------------------------------------------------------------------------------

def test_zip_structures_and_shortest():
    a, b, c = Dataset.range(3), Dataset.range(10, 15), Dataset.range(20, 30)
    assert run(Dataset.zip(a, b)) == [(0, 10), (1, 11), (2, 12)]
    assert run(Dataset.zip((a, b))) == run(Dataset.zip(a, b))
    assert run(Dataset.zip(datasets={"x": a, "yz": (b, c)})) == [
        {"x": i, "yz": (10 + i, 20 + i)} for i in range(3)]
    assert len(Dataset.zip(a, b.repeat())) == 3
    assert run(Dataset.zip(a)) == [0, 1, 2]
    with pytest.raises(ef.ArgumentTypeError, match="found list"):
        Dataset.zip(a, [1, 2])


def test_enumerate_concatenate_cache():
    ds = Dataset.range(3, 6)
    assert run(ds.enumerate(start=10)) == [(10, 3), (11, 4), (12, 5)]
    assert run(ds.concatenate(Dataset.range(2))) == [3, 4, 5, 0, 1]
    assert len(ds.concatenate(Dataset.range(2))) == 5

    calls = []
    cached = ds.map(lambda x: calls.append(int(x)) or x).cache()
    for _ in cached:
        break  # a partial epoch is not kept
    assert run(cached) == [3, 4, 5] and run(cached) == [3, 4, 5]
    assert calls == [3, 3, 4, 5]
    shuffled = cached.shuffle(3, seed=0)
    orders = {tuple(run(shuffled)) for _ in range(6)}
    assert len(orders) > 1 and all(sorted(o) == [3, 4, 5] for o in orders)
    assert calls == [3, 3, 4, 5]
    with pytest.raises(ef.InvalidArgumentError, match="only the in-memory cache"):
        ds.cache("/tmp/cache")


# -- inspection ------------------------------------------------------------------------------

FINITE = [
    lambda d: d, lambda d: d.batch(3), lambda d: d.batch(3, drop_remainder=True),
    lambda d: d.take(4), lambda d: d.take(40), lambda d: d.skip(3), lambda d: d.skip(30),
    lambda d: d.skip(-1), lambda d: d.take(-1), lambda d: d.shard(3, 2), lambda d: d.repeat(2),
    lambda d: d.repeat(0), lambda d: d.shuffle(4), lambda d: d.map(lambda x: x),
    lambda d: d.prefetch(1), lambda d: d.enumerate(), lambda d: d.cache(),
    lambda d: d.padded_batch(4), lambda d: d.concatenate(d),
    lambda d: Dataset.zip(d, d.skip(2)), lambda d: d.repeat().take(25),
]


@pytest.mark.parametrize("make", FINITE)
def test_known_cardinality_is_the_number_of_elements(make):
    ds = make(Dataset.range(10))
    n = len(list(ds))
    assert len(ds) == n and int(ds.cardinality()) == n
    assert ds.cardinality().dtype == ef.int64


@pytest.mark.parametrize("make, card, message", [
    (lambda d: d.repeat(), data.INFINITE_CARDINALITY, "infinite"),
    (lambda d: d.repeat().batch(2).map(lambda x: x), data.INFINITE_CARDINALITY, "infinite"),
    (lambda d: d.filter(lambda x: True), data.UNKNOWN_CARDINALITY, "unknown"),
    (lambda d: Dataset.from_generator(lambda: iter([1])), data.UNKNOWN_CARDINALITY, "unknown"),
    (lambda d: d.batch(2).unbatch(), data.UNKNOWN_CARDINALITY, "unknown"),
])
def test_unknown_and_infinite_cardinality(make, card, message):
    ds = make(Dataset.range(10))
    assert int(ds.cardinality()) == card
    with pytest.raises(TypeError, match=message):
        len(ds)
    assert bool(ds) is True and message in repr(ds)


def test_element_spec_static_and_after_map():
    x = np.zeros((10, 28, 28), np.float32)
    ds = Dataset.from_tensor_slices({"image": x, "label": np.arange(10)})
    spec = ds.element_spec
    assert spec == {"image": data.TensorSpec((28, 28), ef.float32),
                    "label": data.TensorSpec((), ef.int64)}
    assert ds.batch(4).element_spec["image"] == data.TensorSpec((None, 28, 28), ef.float32)
    assert ds.batch(4, drop_remainder=True).element_spec["label"].shape == (4,)
    assert ds.batch(4).unbatch().element_spec == spec
    assert ds.enumerate().element_spec[0] == data.TensorSpec((), ef.int64)

    for parallel in (None, 4):
        calls = []
        def flat(e, calls=calls):
            calls.append(1)
            return ef.reshape(e["image"], (784,))

        mapped = ds.map(flat, num_parallel_calls=parallel)
        assert mapped.element_spec == data.TensorSpec((784,), ef.float32)
        assert mapped.batch(2).element_spec.shape == (None, 784)
        assert len(calls) == 1  # one element was run to find the spec, once
    with pytest.raises(ef.InvalidArgumentError, match="produced no element"):
        Dataset.range(0).map(lambda x: x).element_spec  # noqa: B018


def test_as_numpy_iterator():
    ds = Dataset.from_tensor_slices((np.arange(3), np.ones((3, 2), np.float32)))
    out = list(ds.as_numpy_iterator())
    assert isinstance(out[0][0], np.integer) and isinstance(out[0][1], np.ndarray)
    assert [(int(a), b.tolist()) for a, b in out] == [(i, [1.0, 1.0]) for i in range(3)]


def test_datasets_are_immutable_and_reiterable():
    base = Dataset.range(6)
    derived = [base.batch(2), base.shuffle(3, seed=1), base.take(2), base.map(lambda x: -x),
               base.repeat(2), base.prefetch(1), base.shard(2, 0)]
    assert all(type(d) is Dataset and d is not base for d in derived)
    assert run(base) == list(range(6)) and run(base) == list(range(6))
    assert len(base) == 6
    with pytest.raises(ef.ArgumentTypeError, match="start from Dataset.from_tensor_slices"):
        Dataset(object())


@pytest.mark.parametrize("call, message", [
    (lambda d: d.batch(0), "batch_size must be >= 1, got 0"),
    (lambda d: d.batch(2.0), "batch_size must be an int, got float"),
    (lambda d: d.shuffle(0), "buffer_size must be >= 1, got 0"),
    (lambda d: d.shuffle(4, seed="a"), "seed must be an int"),
    (lambda d: d.shard(3, 3), r"index must be in \[0, num_shards\), got index 3"),
    (lambda d: d.shard(0, 0), "num_shards must be >= 1"),
    (lambda d: d.take(-2), "count must be >= 1 or 0 or -1, got -2"),
    (lambda d: d.repeat(-5), "count must be >= 1 or 0 or -1"),
    (lambda d: d.prefetch(-3), "buffer_size must be >= 1 or 0 or -1"),
    (lambda d: d.map(lambda x: x, num_parallel_calls=0), "num_parallel_calls must be >= 1"),
    (lambda d: d.map(3), "expected a function, got int"),
    (lambda d: d.concatenate([1]), "expected a Dataset, got list"),
])
def test_argument_errors(call, message):
    with pytest.raises(ef.EagerflowError, match=message):
        call(Dataset.range(5))


def test_batch_size_accepts_a_0d_tensor():
    assert run(Dataset.range(4).batch(ef.asarray(3))) == [[0, 1, 2], [3]]


def test_face_exports_data():
    assert ef.data is data and "data" in ef.__all__
    assert data.AUTOTUNE == -1
