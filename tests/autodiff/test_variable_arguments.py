"""Every op takes an ``ef.Variable`` exactly as it takes a Tensor (issue #7, item 9).

``ef.transpose(variable)`` used to raise "expected a Tensor, got Variable", and
``ef.linalg.matrix_rank`` / ``pinv`` skipped the integer lift for a Variable: public functions
tested ``isinstance(x, Tensor)``, which a Variable (not a Tensor subclass) fails. This test
calls every op of the conformance kit's op database with each of its tensors replaced, one at
a time, by a Variable holding the same value, and compares with the Tensor call: the same
dtype, shape and values, or the same error class.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core._registry import OPS
from eagerflow_core.testing.opdb import OPDB

DTYPES = {d.name: d for d in ef.__dict__.values() if isinstance(d, type(ef.float32))}
quick = settings(max_examples=2, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))


def _map(obj, fn):
    """``obj`` (args tuple, kwargs dict, nested lists) with each NumPy array replaced by
    ``fn(array)``, in a fixed order (the conformance kit's convention)."""
    if isinstance(obj, np.ndarray):
        return fn(obj)
    if isinstance(obj, tuple):
        return tuple(_map(x, fn) for x in obj)
    if isinstance(obj, list):
        return [_map(x, fn) for x in obj]
    if isinstance(obj, dict):
        return {k: _map(v, fn) for k, v in obj.items()}
    return obj


def _call(info, sample, variable_at=None):
    """``(result, None)`` or ``(None, exception)`` of the sample's call, the array number
    ``variable_at`` passed as a Variable."""
    count = [-1]

    def convert(a):
        count[0] += 1
        t = ef.asarray(a, copy=True)
        return ef.Variable(t, dtype=t.dtype) if count[0] == variable_at else t
    args, kwargs = _map((sample.args, sample.kwargs), convert)
    try:
        return info.fn(*args, **kwargs), None
    except Exception as exc:  # noqa: BLE001  (the Tensor call must raise the same)
        return None, exc


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _same(got, want, msg):
    got, want = _flat(got), _flat(want)
    assert len(got) == len(want), msg
    for g, w in zip(got, want):
        assert isinstance(g, ef.Tensor), f"{msg}: a {type(g).__name__}, not a Tensor"
        assert (g.dtype, g.shape) == (w.dtype, w.shape), f"{msg}: {g.dtype}{g.shape} vs {w.dtype}{w.shape}"
        np.testing.assert_array_equal(g.numpy(), w.numpy(), err_msg=msg)


def _arrays_in(sample) -> int:
    found = []
    _map((sample.args, sample.kwargs), found.append)
    return len(found)


# Internal ops (index_add) have no public function: only gradient rules call them, with tensors.
PUBLIC = sorted(n for n in OPDB if not getattr(OPS.get(n), "internal", False))


@pytest.mark.parametrize("name", PUBLIC)
@quick
@given(data=st.data())
def test_every_op_takes_a_variable_as_it_takes_a_tensor(name, data):
    info = OPDB[name]
    for dtype in info.dtypes:
        sample = data.draw(info.samples(DTYPES[dtype]), label=f"sample {dtype}")
        with ef.device("cpu"), warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            want, want_exc = _call(info, sample)
            for i in range(_arrays_in(sample)):
                got, exc = _call(info, sample, variable_at=i)
                msg = f"{name} [{dtype}] with array {i} as a Variable"
                if want_exc is not None:
                    assert type(exc) is type(want_exc), f"{msg}: raised {exc!r}, the Tensor " \
                                                        f"call raised {want_exc!r}"
                    continue
                assert exc is None, f"{msg}: raised {exc!r}; the Tensor call did not"
                _same(got, want, msg)


def test_transpose_of_a_variable():
    v = ef.Variable([[1.0, 2.0, 3.0]])
    assert ef.transpose(v).shape == (3, 1)
    with ef.GradientTape() as tape:
        y = ef.sum(ef.transpose(v) * ef.constant([[1.0], [2.0], [3.0]]))
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [[1.0, 2.0, 3.0]])


def test_integer_variables_are_lifted_by_the_linalg_functions():
    x = [[1, 2], [2, 4]]
    for fn in (ef.linalg.matrix_rank, ef.linalg.pinv):
        want = fn(ef.constant(x))
        got = fn(ef.Variable(ef.constant(x), dtype=ef.int64))
        assert (got.dtype, got.shape) == (want.dtype, want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
