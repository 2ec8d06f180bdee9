"""Tensors and Variables pickle and copy by value (issue #9, item 7): only eagerflow objects
are rebuilt, so copy.deepcopy(model) and multiprocessing work."""

from __future__ import annotations

import copy
import multiprocessing
import pickle
import pickletools

import numpy as np
import pytest

import eagerflow_core as ef

DTYPES = ["bool", "int8", "uint16", "int64", "float16", "bfloat16", "float32", "float64",
          "complex64", "complex128"]


@pytest.mark.parametrize("name", DTYPES)
def test_round_trip_every_dtype_and_shape(name):
    dt = getattr(ef, name)
    for shape in [(), (0,), (3,), (2, 3)]:
        host = (np.arange(int(np.prod(shape))) % 3).reshape(shape)
        t = ef.asarray(host.astype(dt.numpy))
        back = pickle.loads(pickle.dumps(t))
        assert back.dtype is dt and back.shape == t.shape and back.device == t.device
        wide = np.complex128 if dt.kind == "c" else np.float64
        np.testing.assert_array_equal(back.numpy().astype(wide), t.numpy().astype(wide))


def test_the_pickle_names_only_eagerflow_and_numpy_globals():
    data = pickle.dumps(ef.Variable(ef.ones((2, 2)), name="w"))
    globals_used = set()
    for op, arg, _ in pickletools.genops(data):
        if op.name in ("GLOBAL", "STACK_GLOBAL") and arg:
            globals_used.add(arg)
        if op.name == "SHORT_BINUNICODE" and arg.startswith(("eagerflow", "numpy")):
            globals_used.add(arg)
    assert all(g.startswith(("eagerflow_core", "numpy")) or "rebuild" in g or g.islower()
               for g in globals_used)
    assert b"floor_divide" not in data


def test_variables_deepcopy_to_independent_state():
    v = ef.Variable([1.0, 2.0], name="w", trainable=False)
    for c in (copy.deepcopy(v), copy.copy(v), pickle.loads(pickle.dumps(v))):
        assert c is not v and c.name == "w" and c.trainable is False
        c.assign_add(1.0)
        assert v.numpy().tolist() == [1.0, 2.0]
    holder = {"layer": [v, v]}
    clone = copy.deepcopy(holder)
    assert clone["layer"][0] is clone["layer"][1]  # shared Variables stay shared


def _double(t):
    return (t * 2.0).tolist()


def test_tensors_cross_process_boundaries():
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        assert pool.map(_double, [ef.constant([1.0, 2.0])]) == [[2.0, 4.0]]
