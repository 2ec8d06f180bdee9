"""ef.data ordering steps: shuffle (the bounded buffer, seeds, epochs), repeat, take, skip and
shard, each on the batch-gathering path (index plans) and on the element path, against
plain-Python references."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eagerflow_core.data import Dataset
from eagerflow_core.data._shuffle import BufferShuffle


def ints(ds):
    return [int(x) for x in ds]


def rows(ds):
    return [b.tolist() for b in ds]


def three_paths(n):
    """The same n elements as a gathering source, through a map (element path over a plan
    source) and from a generator (no plan anywhere)."""
    src = Dataset.from_tensor_slices(np.arange(n))
    return {"plan": src, "map": src.map(lambda x: x),
            "generator": Dataset.from_generator(lambda: iter(range(n)))}


# -- the shuffle algorithm -----------------------------------------------------------------

def reference_shuffle(values, buffer_size, rng):
    """tf.data's shuffle one element at a time, drawing one pick per step."""
    buf, out = [], []
    for v in values:
        if len(buf) < buffer_size:
            buf.append(v)
            continue
        j = min(int(rng.random() * buffer_size), buffer_size - 1)
        out.append(buf[j])
        buf[j] = v
    return out + [buf[i] for i in rng.permutation(len(buf))]


@given(n=st.integers(0, 300), buffer_size=st.integers(1, 80),
       cuts=st.lists(st.integers(1, 90), max_size=6), seed=st.integers(0, 2**32))
def test_vectorised_shuffle_is_the_one_element_at_a_time_algorithm(n, buffer_size, cuts, seed):
    values = np.arange(1000, 1000 + n, dtype=np.int64)
    want = reference_shuffle(values.tolist(), buffer_size, np.random.default_rng(seed))
    sh = BufferShuffle(buffer_size, np.random.default_rng(seed))
    got, start = [], 0
    for cut in itertools.chain(cuts, itertools.repeat(37)):  # chunks of any sizes
        if start >= n:
            break
        got += sh.push(values[start:start + cut]).tolist()
        start += cut
    got += sh.drain().tolist()
    assert got == want


@given(n=st.integers(1, 120), buffer_size=st.integers(1, 40), seed=st.integers(0, 1000))
def test_shuffle_is_a_permutation_bounded_by_the_buffer(n, buffer_size, seed):
    for name, ds in three_paths(n).items():
        out = ints(ds.shuffle(buffer_size, seed=seed))
        assert sorted(out) == list(range(n)), name
        # element i enters the buffer only after output i - buffer_size: it cannot come out
        # earlier than position i - buffer_size + 1
        assert all(v <= p + buffer_size - 1 for p, v in enumerate(out)), name


def test_buffer_of_one_keeps_the_order():
    assert ints(Dataset.range(20).shuffle(1, seed=3)) == list(range(20))


def test_full_buffer_is_uniform():
    # Where element 0 lands over 3000 seeds: each of 5 places ~600 times.
    counts = Counter(ints(Dataset.range(5).shuffle(5, seed=s)).index(0) for s in range(3000))
    chi2 = sum((c - 600) ** 2 / 600 for c in counts.values())
    assert len(counts) == 5 and chi2 < 20  # p < 0.001 for 4 degrees of freedom


# -- seeds and epochs ----------------------------------------------------------------------

def test_same_seed_same_orders_every_epoch_sequence():
    a = Dataset.range(50).shuffle(10, seed=7)
    b = Dataset.range(50).shuffle(10, seed=7)
    epochs_a = [ints(a) for _ in range(4)]
    assert epochs_a == [ints(b) for _ in range(4)]
    assert len({tuple(e) for e in epochs_a}) == 4  # reshuffled each epoch
    assert ints(Dataset.range(50).shuffle(10, seed=8)) != epochs_a[0]


def test_reshuffle_each_iteration_false_repeats_the_order():
    for seed in (5, None):
        ds = Dataset.range(40).shuffle(40, seed=seed, reshuffle_each_iteration=False)
        first = ints(ds)
        assert first != list(range(40))
        assert all(ints(ds) == first for _ in range(3))
        assert rows(ds.repeat(2).batch(40)) == [first, first]


def test_no_seed_is_random_but_reshuffles():
    a, b = Dataset.range(60).shuffle(60), Dataset.range(60).shuffle(60)
    assert ints(a) != ints(b) and ints(a) != ints(a)


def test_all_paths_give_the_same_order_for_a_seed():
    for buffer_size in (1, 7, 64, 1000):
        orders = {name: ints(ds.shuffle(buffer_size, seed=11))
                  for name, ds in three_paths(300).items()}
        assert orders["plan"] == orders["map"] == orders["generator"], buffer_size
        batches = rows(three_paths(300)["plan"].shuffle(buffer_size, seed=11).batch(16))
        assert list(itertools.chain(*batches)) == orders["plan"]


def test_shuffle_then_repeat_reshuffles_each_repetition():
    out = ints(Dataset.range(30).shuffle(30, seed=1).repeat(3))
    epochs = [out[0:30], out[30:60], out[60:90]]
    assert all(sorted(e) == list(range(30)) for e in epochs)
    assert len({tuple(e) for e in epochs}) == 3
    mixed = ints(Dataset.range(30).repeat(3).shuffle(90, seed=1))
    assert sorted(mixed) == sorted(list(range(30)) * 3)


def test_element_spec_does_not_use_up_an_epoch():
    def make():
        return Dataset.range(30).shuffle(30, seed=4).map(lambda x: x * 1)

    looked = make()
    looked.element_spec  # noqa: B018  (runs the pipeline for one element)
    fresh = make()
    assert [ints(looked) for _ in range(2)] == [ints(fresh) for _ in range(2)]


# -- repeat, take, skip, shard ---------------------------------------------------------------

def ref_take(seq, k):
    return list(seq) if k == -1 else list(seq)[:k]


def ref_skip(seq, k):
    return [] if k == -1 else list(seq)[k:]


@given(n=st.integers(0, 25), k=st.integers(-1, 30), path=st.sampled_from(["plan", "map",
                                                                          "generator"]))
def test_take_skip_repeat_match_python(n, k, path):
    ds = three_paths(n)[path]
    assert ints(ds.take(k)) == ref_take(range(n), k)
    assert ints(ds.skip(k)) == ref_skip(range(n), k)
    if k >= 0:
        assert ints(ds.repeat(k)) == list(range(n)) * k
    assert ints(ds.repeat().take(2 * n + 1)) == (list(range(n)) * 3)[:2 * n + 1]


def test_repeat_forever_of_an_empty_dataset_ends():
    assert ints(Dataset.range(0).repeat()) == []
    assert ints(Dataset.range(3).filter(lambda x: x > 5).repeat()) == []


@given(n=st.integers(0, 60), num_shards=st.integers(1, 7), path=st.sampled_from(["plan", "map",
                                                                                "generator"]))
def test_shards_partition_exactly(n, num_shards, path):
    ds = three_paths(n)[path]
    shards = [ints(ds.shard(num_shards, i)) for i in range(num_shards)]
    for i, shard in enumerate(shards):
        assert shard == list(range(n))[i::num_shards]
        if path == "plan":
            assert len(ds.shard(num_shards, i)) == len(shard)
    together = sorted(itertools.chain(*shards))
    assert together == list(range(n))  # every element once: disjoint and complete


@given(n=st.integers(0, 200), ops=st.lists(st.tuples(
    st.sampled_from(["take", "skip", "shard", "repeat", "shuffle"]), st.integers(0, 9)),
    max_size=4), batch=st.integers(1, 16))
def test_chains_agree_between_gathering_and_stacking(n, ops, batch):
    """Any chain of order-only steps then a batch: the index-plan path (one gather per batch)
    equals the element path (stacking) and the number of batches equals len()."""
    def build(ds):
        for op, k in ops:
            if op == "shard":
                ds = ds.shard(k % 3 + 1, k % (k % 3 + 1))
            elif op == "repeat":
                ds = ds.repeat(k % 3)
            elif op == "shuffle":
                ds = ds.shuffle(k * 7 + 1, seed=k)
            else:
                ds = getattr(ds, op)(k * 5)
        return ds.batch(batch)

    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    src = Dataset.from_tensor_slices((x, np.arange(n)))
    fast, slow = build(src), build(src.map(lambda a, b: (a, b)))
    got_fast = [(a.tolist(), b.tolist()) for a, b in fast]
    assert got_fast == [(a.tolist(), b.tolist()) for a, b in slow]
    assert len(got_fast) == len(fast)
    for a, b in got_fast:  # rows stay together through the gathers
        assert a == [[3 * i, 3 * i + 1, 3 * i + 2] for i in b]


def test_skip_and_take_on_the_plan_do_not_touch_skipped_rows():
    big = Dataset.from_tensor_slices(np.arange(1_000_000, dtype=np.int32))
    assert rows(big.skip(999_990).batch(4)) == [[999_990 + i for i in range(4)],
                                                 [999_994 + i for i in range(4)],
                                                 [999_998, 999_999]]


@pytest.mark.parametrize("n, size", [(0, 3), (5, 5), (100, 7)])
def test_repeat_batches_straddle_epochs(n, size):
    flat = list(range(n)) * 3
    assert rows(Dataset.range(n).repeat(3).batch(size)) == [flat[i:i + size] for i in
                                                            range(0, len(flat), size)]
