"""A tensor's values never change once it exists (issue #9, item 1): host memory is copied
unless sharing is asked for, exports cannot be made writeable, and a tape's records are
never affected by later writes to the user's arrays."""

from __future__ import annotations

import numpy as np
import pytest

import eagerflow_core as ef


def test_asarray_copies_so_later_writes_do_not_reach_a_recorded_tape():
    src = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    x = ef.asarray(src)
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.sum(x * x)
    src[:] = 100.0
    assert tape.gradient(y, x).tolist() == [2.0, 4.0, 6.0]  # not [200, 200, 200]
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_sharing_is_explicit():
    src = np.arange(3.0)
    shared = ef.asarray(src, copy=False)
    assert np.shares_memory(np.asarray(shared), src)
    assert ef.from_dlpack(src).numpy().base is not None


@pytest.mark.parametrize("export", [lambda t: t.numpy(), lambda t: np.asarray(t),
                                    lambda t: t.raw, lambda t: np.array(t, copy=False)])
def test_no_export_can_be_made_writeable(export):
    t = ef.constant([1.0, 2.0])
    view = export(t)
    with pytest.raises(ValueError):
        view.flags.writeable = True
    with pytest.raises(ValueError):
        view[0] = 5.0
    assert t.tolist() == [1.0, 2.0]


def test_bfloat16_exports_are_read_only_too():
    t = ef.constant([1.0, 2.0], dtype=ef.bfloat16)
    view = t.numpy()
    with pytest.raises(ValueError):
        view.flags.writeable = True


def test_copies_are_values():
    import copy
    import pickle
    t = ef.constant([[1.0, 2.0]])
    for c in (copy.copy(t), copy.deepcopy(t), pickle.loads(pickle.dumps(t))):
        assert c is not t and c.tolist() == t.tolist() and c.dtype is t.dtype
        c[0, 0] = 9.0  # rebinding the copy leaves the original alone
        assert t.tolist() == [[1.0, 2.0]]
