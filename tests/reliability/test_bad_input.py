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


_NAMES = ("bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, bfloat16, "
          "float32, float64, complex64, complex128")


@pytest.mark.parametrize("call, op", [
    (lambda: ef.astype(ef.ones(2), "float128"), "astype"),
    (lambda: ef.ones(2).astype("float128"), "astype"),
    (lambda: ef.zeros(2, dtype="float128"), "zeros"),
    (lambda: ef.full(2, 1.0, dtype="float128"), "full"),
    (lambda: ef.asarray([1.0], dtype="float128"), "asarray"),
    (lambda: ef.arange(3, dtype=np.float128 if hasattr(np, "float128") else "f16"), "arange"),
    (lambda: ef.finfo("float128"), "finfo"),
    (lambda: ef.isdtype("float128", "real floating"), "isdtype"),
])
def test_an_unknown_dtype_names_the_op_and_the_valid_names(call, op):
    with pytest.raises(ef.DTypeError) as err:
        call()
    assert str(err.value).startswith(f"{op}: ")
    assert "is not a dtype eagerflow knows" in str(err.value)
    assert str(err.value).endswith(f"use one of: {_NAMES}")


def test_astype_to_none_is_refused_not_float64():
    # NumPy reads dtype=None as float64; a forgotten dtype must not become a silent cast.
    with pytest.raises(ef.DTypeError, match=r"^astype: a dtype is required, not None; use one "
                                            r"of: bool, int8"):
        ef.astype(ef.ones(2, dtype=ef.int32), None)
    with pytest.raises(TypeError, match="^astype: a dtype is required"):
        ef.ones(2).astype(None)


# -- messages name the call the user made, not the conversion inside it ------------------------

@pytest.mark.parametrize("call, op", [
    (lambda v, vi: v.assign_add("x"), "assign_add"),
    (lambda v, vi: v.assign_sub(np.array(["a", "b"])), "assign_sub"),
    (lambda v, vi: v.assign([[1.0, 2.0], [3.0]]), "assign"),
    (lambda v, vi: ef.Variable("abc"), "Variable"),
    (lambda v, vi: ef.Variable([1.0], dtype="float128"), "Variable"),
])
def test_variable_messages_name_the_method(call, op):
    v, vi = ef.Variable(ef.ones(2), name="w"), ef.Variable(ef.ones(2, dtype=ef.int32), name="i")
    with pytest.raises(ef.EagerflowError) as err:
        call(v, vi)
    assert str(err.value).startswith(f"{op}: "), str(err.value)
    assert "asarray" not in str(err.value) and "constant" not in str(err.value)


@pytest.mark.parametrize("how", ["assign_add", "assign_sub", "assign"])
def test_an_integer_that_does_not_fit_an_int_variable_is_refused_not_wrapped(how):
    # NumPy's cast wraps 2**40 round to 0 in int32: the update was silently lost.
    vi = ef.Variable(ef.ones(2, dtype=ef.int32), name="i")
    with pytest.raises(ef.InvalidArgumentError, match=rf"^{how}: the value 1099511627776 does "
                                                      r"not fit Variable 'i' of dtype int32 "
                                                      r"\(range -2147483648..2147483647\)"):
        getattr(vi, how)([2**40, 1])
    np.testing.assert_array_equal(vi.numpy(), [1, 1])
    getattr(vi, how)([3, 3])  # values that fit still convert
    np.testing.assert_array_equal(vi.numpy(), {"assign_add": [4, 4], "assign_sub": [-2, -2],
                                               "assign": [3, 3]}[how])


def test_a_python_int_out_of_range_says_so_once():
    with pytest.raises(ef.InvalidArgumentError) as err:
        ef.asarray(2**40, dtype=ef.int32)
    assert str(err.value) == ("asarray: the Python int 1099511627776 does not fit int32 "
                              "(range -2147483648..2147483647)")


@pytest.mark.parametrize("seed", ["a", np.array(["a", "b"])])
def test_bad_output_gradients_name_gradient(seed):
    x = ef.ones(2)
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = x * 2.0
    with pytest.raises(ef.EagerflowError, match=r"^gradient: output_gradients: "):
        tape.gradient(y, x, output_gradients=seed)


@pytest.mark.parametrize("method", ["jacobian", "batch_jacobian"])
def test_tape_jacobian_of_a_non_tensor_names_jacobian(method):
    x = ef.ones((2, 2))
    with ef.GradientTape() as tape:
        tape.watch(x)
    with pytest.raises(ef.InvalidArgumentError, match=rf"^{method}: the target must be one "
                                                      r"tensor, got str"):
        getattr(tape, method)("y", x)


# -- function transforms given functions that do not return tensors -------------------------

_TRANSFORMS = {
    "jacobian": lambda f: ef.jacobian(f)(ef.ones(2)),
    "jvp": lambda f: ef.jvp(f, (ef.ones(2),), (ef.ones(2),)),
    "vjp": lambda f: ef.vjp(f, ef.ones(2)),
}


@pytest.mark.parametrize("name", list(_TRANSFORMS))
@pytest.mark.parametrize("result", ["x", None, 3.0, ("tensor", "x")])
def test_a_transform_of_a_function_returning_no_tensor_names_the_transform(name, result):
    f = (lambda v: (v, "x")) if result == ("tensor", "x") else (lambda v: result)
    with pytest.raises(ef.InvalidArgumentError) as err:
        _TRANSFORMS[name](f)
    msg = str(err.value)
    assert msg.startswith(f"{name}: ")
    kind = "str" if isinstance(result, tuple) else type(result).__name__
    assert f"f returned a {kind}; it must return a tensor or a tuple/list/dict of tensors" in msg


def test_jacobian_refuses_argnums_that_are_not_ints():
    # ef.jacobian(f, x) (x where argnums goes) used to return a function that failed later.
    with pytest.raises(ef.InvalidArgumentError, match=r"^jacobian: argnums must be an int or a "
                                                      r"tuple of ints, got Tensor"):
        ef.jacobian(lambda v: v, ef.ones(2))
    with pytest.raises(ef.InvalidArgumentError, match=r"^jacobian: argnums=1 but f got 1 "):
        ef.jacobian(lambda v: v, argnums=1)(ef.ones(2))
    np.testing.assert_array_equal(ef.jacobian(lambda a, b: a * b, argnums=-1)(
        ef.constant([1.0, 2.0]), ef.constant([3.0, 4.0])).numpy(), np.diag([1.0, 2.0]))


# -- ef.Tensor is not a constructor ------------------------------------------------------------

@pytest.mark.parametrize("args", [([1, 2],), (), (np.ones(2),), ([1.0],)])
def test_calling_the_tensor_class_points_to_constant_and_asarray(args):
    with pytest.raises(TypeError) as err:
        ef.Tensor(*args)
    assert isinstance(err.value, ef.ArgumentTypeError)
    assert str(err.value) == ("Tensor: ef.Tensor(...) is not a constructor; make a tensor with "
                              "ef.constant(value) or ef.asarray(value)")


def test_tensors_still_construct_copy_and_pickle():
    import copy
    import pickle
    t = ef.constant([1.0, 2.0]) * 2.0  # made by dispatch (object.__new__(Tensor))
    for back in (pickle.loads(pickle.dumps(t)), copy.copy(t), copy.deepcopy(t)):
        assert type(back) is ef.Tensor and back.dtype is ef.float32
        np.testing.assert_array_equal(back.numpy(), [2.0, 4.0])
    from eagerflow_core._abstract import _Abstract
    assert _Abstract((2, 3), ef.float32).shape == (2, 3)  # a subclass constructs as usual
