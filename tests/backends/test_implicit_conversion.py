"""Python lists and NumPy arrays where a tensor is expected (issue #8, item 4): converted on
the other inputs' device; a list is weak (like a Python scalar), a NumPy array keeps its
dtype; eagerflow tensors still never move between devices silently."""

from __future__ import annotations

import numpy as np
import pytest

import eagerflow_core as ef


def test_lists_and_arrays_land_on_the_other_inputs_device(device):
    x = ef.ones((2, 2), device=device)
    for got in (x + [1.0, 2.0], [1.0, 2.0] * x, ef.matmul([[2.0, 0.0]], x), ef.where(x > 0, x, [0.0, 0.0]),
                ef.concat([x, [[5.0, 6.0]]]), ef.take(x, [1], axis=0)):
        assert got.device == device
    assert ef.maximum(x, np.array([3.0, 0.5], np.float32)).tolist() == [[3.0, 1.0], [3.0, 1.0]]


def test_a_list_is_weak_and_an_array_is_typed(device):
    i8 = ef.constant([1, 2], dtype=ef.int8, device=device)
    assert (i8 + [1, 2]).dtype == ef.int8
    assert (i8 * [0.5, 0.5]).dtype == ef.float32  # a float list beside ints: the default float
    f32 = ef.ones(2, device=device)
    assert (f32 + [1, 2]).dtype == ef.float32
    if ef.float64 in f32.device.native:
        assert (f32 + np.array([1.0, 2.0])).dtype == ef.float64


def test_conversion_checks_the_values(device):
    with pytest.raises(ef.InvalidArgumentError, match="add: cannot make a tensor"):
        ef.ones(2, device=device) + [[1.0], [2.0, 3.0]]
    with pytest.raises(ef.ArgumentTypeError, match="add: expected a Tensor, got builtins.dict"):
        ef.ones(2, device=device) + {}


def test_convert_to_tensor():
    t = ef.constant([1.0])
    assert ef.convert_to_tensor(t) is t
    with pytest.raises(ef.DTypeError, match="convert_to_tensor: the tensor has dtype float32"):
        ef.convert_to_tensor(t, dtype=ef.float64)
    assert ef.convert_to_tensor([1, 2], dtype_hint=ef.float64).dtype == ef.float64
    assert ef.convert_to_tensor([1.5], dtype_hint=ef.int32).dtype == ef.float32  # the hint cannot hold 1.5
    a = np.arange(3)
    c = ef.convert_to_tensor(a)
    a[0] = 7
    assert c.tolist() == [0, 1, 2]  # a copy
