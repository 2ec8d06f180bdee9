"""Variables under concurrent and aliasing writers (issue #9, items 1, 2 and 8)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core.autodiff.variable import update_in_place


def _hammer(fn, threads=8, each=1000):
    barrier = threading.Barrier(threads)

    def run():
        barrier.wait()
        for _ in range(each):
            fn()
    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


@pytest.mark.parametrize("shape", [(), (200_000,)])
def test_concurrent_assign_add_loses_no_update(shape):
    v = ef.Variable(ef.zeros(shape, dtype=ef.float64), dtype=ef.float64)
    one = ef.ones(shape, dtype=ef.float64)
    _hammer(lambda: v.assign_add(one), threads=8, each=1000 if not shape else 200)
    want = 8 * (1000 if not shape else 200)
    np.testing.assert_array_equal(v.numpy(), np.full(shape, want, dtype=np.float64))


def test_a_value_read_never_changes_under_a_concurrent_writer():
    v = ef.Variable(ef.zeros((50_000,), dtype=ef.float64), dtype=ef.float64)
    stop = threading.Event()
    changed = []

    def writer():
        one = ef.ones((50_000,), dtype=ef.float64)
        while not stop.is_set():
            v.assign_add(one)

    def reader():
        for _ in range(300):
            r = v.read_value()
            first = r.numpy().copy()
            for _ in range(3):
                if not np.array_equal(r.numpy(), first):
                    changed.append(True)
    w = threading.Thread(target=writer)
    w.start()
    try:
        readers = [threading.Thread(target=reader) for _ in range(3)]
        for t in readers:
            t.start()
        for t in readers:
            t.join()
    finally:
        stop.set()
        w.join()
    assert not changed


def test_assign_copies_and_later_updates_never_write_user_memory():
    a = np.arange(4.0, dtype=np.float32)
    v = ef.Variable(ef.zeros(4))
    v.assign(a[:])
    v.assign_add(1.0)
    np.testing.assert_array_equal(a, np.arange(4.0, dtype=np.float32))
    b = np.zeros(4, dtype=np.float32)
    v1, v2 = ef.Variable(ef.zeros(4)), ef.Variable(ef.zeros(4))
    v1.assign(b[:])
    v2.assign(b[:])
    v1.assign_add(5.0)
    np.testing.assert_array_equal(v2.numpy(), np.zeros(4, np.float32))
    np.testing.assert_array_equal(b, np.zeros(4, np.float32))


def test_a_variable_made_from_a_view_never_writes_the_base():
    base = ef.constant([1.0, 2.0, 3.0, 4.0])
    v = ef.Variable(base[1:3])
    v.assign_add(10.0)
    np.testing.assert_array_equal(base.numpy(), [1.0, 2.0, 3.0, 4.0])


def test_assign_refuses_a_lossy_cast_and_a_device_move():
    v = ef.Variable(ef.zeros(2, dtype=ef.int32), dtype=ef.int32, name="counts")
    with pytest.raises(ef.DTypeError, match=r"assign: cannot write a float32 value into "
                                            r"Variable 'counts' of dtype int32"):
        v.assign([1.5, 2.5])
    with pytest.raises(ef.DTypeError, match=r"assign_add:"):
        v.assign_add(0.5)
    v.assign([1, 2])
    np.testing.assert_array_equal(v.numpy(), [1, 2])
    f = ef.Variable([0.0, 0.0])
    f.assign([1, 2])  # an int into a float Variable is fine, as in TensorFlow
    np.testing.assert_array_equal(f.numpy(), [1.0, 2.0])


def test_update_in_place_updates_several_variables_and_copies_observed_buffers():
    p, m = ef.Variable([1.0, 2.0]), ef.Variable([0.0, 0.0])
    seen = p.read_value()
    assert update_in_place("inplace_add", [p], [ef.constant([1.0, 1.0])])
    np.testing.assert_array_equal(seen.numpy(), [1.0, 2.0])  # the read value stayed put
    np.testing.assert_array_equal(p.numpy(), [2.0, 3.0])
    assert not update_in_place("no_such_kernel", [p, m])
    np.testing.assert_array_equal(p.numpy(), [2.0, 3.0])
