"""ef.data's threads: parallel map (order kept, really concurrent) and prefetch (bounded, and
no thread left running after the loop ends, whichever way it ends); what the threads inherit
(the default device)."""

from __future__ import annotations

import gc
import importlib.util
import random
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core import data
from eagerflow_core.data import Dataset


def pipeline_threads():
    return [t for t in threading.enumerate() if t.name.startswith("eagerflow-")]


@pytest.fixture(autouse=True)
def no_thread_outlives_a_test():
    assert pipeline_threads() == []
    yield
    assert pipeline_threads() == [], "a pipeline thread is still running"


def ints(ds):
    return [int(x) for x in ds]


# -- parallel map ----------------------------------------------------------------------------

def test_parallel_map_keeps_the_order_when_later_elements_finish_first():
    rng = random.Random(0)
    delays = [rng.uniform(0, 0.01) for _ in range(40)]
    finished = []

    def slow(x):
        i = int(x)
        time.sleep(delays[i] if i % 5 else 0.03)  # every 5th element is much slower
        finished.append(i)
        return x * 2

    out = ints(Dataset.range(40).map(slow, num_parallel_calls=4))
    assert out == [2 * i for i in range(40)]
    assert finished != sorted(finished)  # they did complete out of order


def test_parallel_map_really_runs_concurrently():
    # Four calls must be inside the function at once to pass the barrier: a sequential map
    # would time out on it.
    barrier = threading.Barrier(4, timeout=10)
    active, peak, lock = [0], [0], threading.Lock()

    def meet(x):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        barrier.wait()
        with lock:
            active[0] -= 1
        return x

    assert ints(Dataset.range(12).map(meet, num_parallel_calls=4)) == list(range(12))
    assert peak[0] == 4


def test_parallel_map_threads_are_named_and_bounded():
    names, lock = set(), threading.Lock()

    def who(x):
        with lock:
            names.add(threading.current_thread().name)
        time.sleep(0.002)
        return x

    ints(Dataset.range(30).map(who, num_parallel_calls=3))
    assert 1 < len(names) <= 3 and all(n.startswith("eagerflow-map") for n in names)
    assert ints(Dataset.range(5).map(lambda x: x, num_parallel_calls=data.AUTOTUNE)) == [
        0, 1, 2, 3, 4]


def test_parallel_map_stops_early_without_running_everything():
    calls = []

    def record(x):
        calls.append(int(x))
        return x

    for i, _ in enumerate(Dataset.range(10_000).map(record, num_parallel_calls=2)):
        if i == 3:
            break
    assert len(calls) <= 10  # a few in flight ahead of the loop, not the whole input


# -- prefetch --------------------------------------------------------------------------------

def _counting(n, produced):
    def gen():
        for i in range(n):
            produced.append(i)
            yield i
    return Dataset.from_generator(gen)


def test_prefetch_runs_ahead_but_stays_bounded():
    produced = []
    it = iter(_counting(100, produced).prefetch(3))
    assert next(it).tolist() == 0
    deadline = time.monotonic() + 5
    while len(produced) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    # one taken, three queued, one made and waiting for room: no further
    assert len(produced) == 5
    assert [t.name for t in pipeline_threads()] == ["eagerflow-prefetch"]
    it.close()
    assert pipeline_threads() == []


def test_no_thread_after_the_input_is_exhausted():
    ds = Dataset.range(50).map(lambda x: x + 1, num_parallel_calls=3).prefetch(2)
    assert ints(ds) == list(range(1, 51))
    assert pipeline_threads() == []


def test_no_thread_after_break():
    ds = Dataset.range(10).repeat().map(lambda x: x, num_parallel_calls=2).prefetch(1)
    for i, _ in enumerate(ds):
        if i == 5:
            break
    assert pipeline_threads() == []


def test_no_thread_after_the_iterator_is_dropped_or_closed():
    ds = Dataset.range(1000).prefetch(1).prefetch(2)  # nested: two threads
    it = iter(ds)
    next(it)
    assert len(pipeline_threads()) == 2
    del it
    assert pipeline_threads() == []
    it = iter(ds)
    next(it)
    it.close()
    assert pipeline_threads() == []
    it = iter(ds)  # never started: no thread was made
    assert pipeline_threads() == []
    del it


def test_no_thread_after_garbage_collection_of_a_cycle():
    class Holder:
        pass

    h = Holder()
    h.self, h.it = h, iter(Dataset.range(1000).prefetch(2))
    next(h.it)
    del h
    gc.collect()
    assert pipeline_threads() == []


def test_no_thread_after_an_error_in_the_pipeline():
    def bad(x):
        if int(x) == 7:
            raise ValueError("seven")
        return x

    ds = Dataset.range(100).map(bad, num_parallel_calls=3).prefetch(2)
    got = []
    with pytest.raises(ValueError, match="Dataset.map: the function raised ValueError on "
                                         "element 7") as info:
        for x in ds:
            got.append(int(x))
    assert got == list(range(7))
    assert isinstance(info.value.__cause__, ValueError)
    assert pipeline_threads() == []


def test_no_thread_after_an_error_in_the_loop_body():
    ds = Dataset.range(100).prefetch(2)
    with pytest.raises(RuntimeError, match="in the loop"):
        for x in ds:
            if int(x) == 3:
                raise RuntimeError("in the loop")
    assert pipeline_threads() == []


def test_no_thread_when_the_producer_is_blocked_on_a_full_queue():
    produced = []
    it = iter(_counting(1000, produced).prefetch(1))
    next(it)
    time.sleep(0.05)  # the producer fills the queue and blocks on the next put
    del it
    assert pipeline_threads() == []
    assert len(produced) <= 4


def test_two_epochs_at_once_are_independent():
    ds = Dataset.range(20).shuffle(20, seed=2).prefetch(2)
    a, b = iter(ds), iter(ds)
    pairs = list(zip(a, b))
    assert sorted(int(x) for x, _ in pairs) == list(range(20))
    assert sorted(int(y) for _, y in pairs) == list(range(20))
    assert [int(x) for x, _ in pairs] != [int(y) for _, y in pairs]  # two epochs, two orders


def test_prefetch_zero_and_autotune():
    assert ints(Dataset.range(4).prefetch(0)) == [0, 1, 2, 3]
    assert ints(Dataset.range(4).prefetch(data.AUTOTUNE)) == [0, 1, 2, 3]


def test_prefetched_batches_equal_plain_ones():
    x = np.random.default_rng(0).random((500, 8)).astype(np.float32)
    ds = Dataset.from_tensor_slices((x, np.arange(500))).shuffle(100, seed=0).batch(32)
    plain = [(a.tolist(), b.tolist()) for a, b in ds]
    fetched = [(a.tolist(), b.tolist()) for a, b in ds.prefetch(3)]
    assert plain != fetched  # the second iteration is epoch 1: a new order...
    again = Dataset.from_tensor_slices((x, np.arange(500))).shuffle(100, seed=0).batch(32)
    assert [(a.tolist(), b.tolist()) for a, b in again.prefetch(3)] == plain  # ...epoch 0 same


# -- what the threads inherit ----------------------------------------------------------------

HARNESS = Path(__file__).resolve().parents[1] / "plugins"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plugins" / "eagerflow_torch"


@pytest.fixture(scope="module")
def torch_device():
    """A second device type, from the example PyTorch plugin registered in-process."""
    if not all(importlib.util.find_spec(m) for m in ("torch", "array_api_compat")):
        pytest.skip("needs torch==2.13.0 and array-api-compat for the example plugin")
    for p in (HARNESS, EXAMPLE):
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))
    import eagerflow_torch
    import plugin_harness

    with plugin_harness.registered(torch=eagerflow_torch):
        yield ef.device("torchcpu")


def test_threads_make_tensors_on_the_loops_device(torch_device):
    seen = []

    def where(x, y):
        seen.append(ef.default_device())
        return x * 2, y

    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    ds = (Dataset.from_tensor_slices((x, np.arange(6))).shuffle(6, seed=0)
          .map(where, num_parallel_calls=2).batch(4).prefetch(2))
    with torch_device:
        batches = list(ds)
    assert all(t.device == torch_device for b in batches for t in b)
    assert seen and all(d == torch_device for d in seen)
    # outside the block, the same dataset makes its tensors on the default device
    assert all(t.device == ef.device("cpu") for b in ds for t in b)


def test_tensor_sources_gather_on_their_own_device(torch_device):
    with torch_device:
        t = ef.asarray(np.arange(20, dtype=np.float32).reshape(10, 2))
    ds = Dataset.from_tensor_slices(t).shuffle(10, seed=1).batch(4)
    batches = list(ds)
    assert all(b.device == torch_device for b in batches)
    ref = Dataset.from_tensor_slices(np.arange(20, dtype=np.float32).reshape(10, 2))
    assert [b.tolist() for b in batches] == [b.tolist() for b in
                                             ref.shuffle(10, seed=1).batch(4)]
