"""Gradients are validated (issue #9, item 4): output gradients of the wrong shape and custom
gradient rules that return the wrong shape, dtype or number of gradients get a clear error
naming the function and the input, instead of a silent reshape or sum."""

from __future__ import annotations

import pytest

import eagerflow_core as ef


def test_output_gradients_of_the_wrong_shape_raise():
    x = ef.constant([1.0, 2.0])
    with ef.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * 2.0
    with pytest.raises(ef.ShapeError, match=r"output_gradients of shape \(2, 2\) for a target "
                                            r"of shape \(2,\)"):
        tape.gradient(y, x, output_gradients=ef.ones((2, 2)))
    assert tape.gradient(y, x, output_gradients=ef.constant([1.0, 3.0])).tolist() == [2.0, 6.0]
    with pytest.raises(ef.DTypeError, match="complex output gradient"):
        tape.gradient(y, x, output_gradients=ef.constant([1j, 1j]))


def _with_rule(rule):
    @ef.custom_gradient
    def f(x):
        return x * 2.0, rule
    return f


@pytest.mark.parametrize("returned, words", [
    (lambda dy: ef.ones((3, 2)), r"got shape \(3, 2\) but expected the input's shape \(2, 3\)"),
    (lambda dy: ef.ones((6,)), r"got shape \(6,\)"),
    (lambda dy: ef.ones((4, 2, 3)), r"got shape \(4, 2, 3\)"),
    (lambda dy: ef.ones((2, 3), dtype=ef.int32), r"returned a int32 gradient"),
    (lambda dy: "nope", r"returned a str"),
    (lambda dy: (dy, dy), r"returned 2 gradients for 1 tensor arguments"),
])
def test_a_custom_gradient_that_returns_the_wrong_thing_is_named(returned, words):
    f = _with_rule(returned)
    f.__wrapped__.__name__ = "my_fn"
    with pytest.raises(ef.EagerflowError, match=words) as info:
        ef.grad(lambda x: ef.sum(f(x)))(ef.ones((2, 3)))
    assert "custom_gradient" in str(info.value)


def test_a_custom_gradient_that_does_not_return_a_pair_is_named():
    @ef.custom_gradient
    def no_pair(x):
        return x * 2.0

    with pytest.raises(ef.InvalidArgumentError, match=r"custom_gradient: no_pair must return "
                                                      r"\(y, grad_fn\)"):
        ef.grad(lambda x: ef.sum(no_pair(x)))(ef.ones(2))


def test_a_good_custom_gradient_still_works_with_none_and_numbers():
    @ef.custom_gradient
    def two(x, y):
        return x * y, lambda dy: (dy * y, None)
    x, y = ef.constant(2.0), ef.constant(5.0)
    gx, gy = ef.grad(lambda a, b: two(a, b), argnums=(0, 1))(x, y)
    assert gx.item() == 5.0 and gy.item() == 0.0
