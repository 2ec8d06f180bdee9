"""Bad input gets eagerflow's answer, never a backend's raw warning or exception (issue #9,
item 8); each case is a row of docs/errors.md's bad-input table."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import eagerflow_core as ef


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1e20])
@pytest.mark.parametrize("dtype", [ef.int32, ef.uint8, ef.int64])
def test_casting_a_float_that_has_no_integer_gives_no_warning(value, dtype):
    # PyTorch and TensorFlow give an unspecified value without a word; so does eagerflow. NumPy's
    # RuntimeWarning ("invalid value encountered in cast") must not reach the user.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ef.astype(ef.constant([value, 2.5]), dtype)
        t = torch.tensor([value, 2.5]).to(getattr(torch, dtype.name))
    assert out.dtype is dtype and out.shape == (2,)
    assert out.numpy()[1] == t[1].item() == 2  # the representable value is exact


def test_casting_nan_under_a_compiled_function_gives_no_warning():
    cast = ef.function(lambda x: ef.astype(x * 2.0, ef.int32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = cast(ef.constant([float("nan"), 1.0]))
    assert out.numpy()[1] == 2
