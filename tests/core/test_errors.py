"""Every kind of bad input gives an eagerflow error that subclasses the built-in a Python user
catches, with a message naming the op and the shapes, dtypes and devices involved."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core import _errors
from eagerflow_core.plugins import hookimpl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
import plugin_harness as H  # noqa: E402

toy = H.import_toy()


def raises(cls, builtin, *fragments):
    """``pytest.raises`` for ``cls`` that also checks the built-in base and message fragments."""
    assert issubclass(cls, ef.EagerflowError) and issubclass(cls, builtin)

    class _Check:
        def __enter__(self):
            self._cm = pytest.raises(cls)
            self.info = self._cm.__enter__()
            return self.info

        def __exit__(self, *exc):
            swallowed = self._cm.__exit__(*exc)
            if not swallowed:
                return False
            err = self.info.value
            assert isinstance(err, builtin), f"{type(err).__name__} is not a {builtin.__name__}"
            message = str(err)
            for fragment in fragments:
                assert fragment in message, f"{fragment!r} not in message: {message}"
            return swallowed
    return _Check()


# -- the hierarchy ----------------------------------------------------------------------------

@pytest.mark.parametrize("cls, builtins", [
    (ef.ShapeError, (ValueError,)),
    (ef.AxisError, (IndexError, ValueError)),
    (ef.DTypeError, (TypeError,)),
    (ef.ArgumentTypeError, (TypeError,)),
    (ef.InvalidArgumentError, (ValueError,)),
    (ef.OutOfRangeError, (IndexError,)),
    (ef.DeviceError, (ValueError,)),
    (ef.KernelNotFoundError, (NotImplementedError,)),
    (ef.PluginError, (RuntimeError,)),
    (ef.KernelError, (RuntimeError,)),
])
def test_each_error_subclasses_its_builtin(cls, builtins):
    assert issubclass(cls, ef.EagerflowError)
    for b in builtins:
        assert issubclass(cls, b)
    with pytest.raises(builtins[0]):
        raise cls("boom")


@pytest.mark.parametrize("raised, expected", [
    (IndexError("i"), ef.OutOfRangeError), (TypeError("t"), ef.DTypeError),
    (ValueError("v"), ef.InvalidArgumentError), (ZeroDivisionError("z"), ef.InvalidArgumentError),
    (FloatingPointError("f"), ef.InvalidArgumentError),
    (NotImplementedError("n"), ef.KernelNotFoundError), (RuntimeError("r"), ef.KernelError),
    (MemoryError("m"), ef.KernelError),
])
def test_kernel_exceptions_map_to_the_same_family(raised, expected):
    assert _errors.error_class_for(raised) is expected


# -- bad inputs, one kind each ----------------------------------------------------------------

def test_shape_mismatch_names_op_and_shapes():
    with raises(ef.ShapeError, ValueError, "add", "(2, 3)", "(4,)", "float32"):
        ef.add(ef.ones((2, 3)), ef.ones((4,)))


def test_matmul_inner_size_mismatch():
    with raises(ef.ShapeError, ValueError, "matmul", "(2, 3)", "(4, 5)"):
        ef.matmul(ef.ones((2, 3)), ef.ones((4, 5)))


def test_reshape_to_the_wrong_size():
    with raises(ef.ShapeError, ValueError, "reshape", "(2, 3)", "(4,)"):
        ef.reshape(ef.ones((2, 3)), (4,))


def test_bad_axis_names_op_axis_and_rank():
    with raises(ef.AxisError, IndexError, "sum", "5", "2 dimension"):
        ef.sum(ef.ones((2, 3)), axis=5)
    with pytest.raises(ValueError):  # NumPy's AxisError is both; so is ours
        ef.sum(ef.ones((2, 3)), axis=-3)


def test_wrong_dtype_names_op_and_dtype():
    with raises(ef.DTypeError, TypeError, "bitwise_and", "float32"):
        ef.bitwise_and(ef.ones(2), ef.ones(2))
    with raises(ef.DTypeError, TypeError, "bitwise_invert", "float64"):
        ef.bitwise_invert(ef.ones(2, dtype=ef.float64))


def test_no_common_dtype_names_both():
    a = ef.asarray([1], dtype=ef.uint64)
    b = ef.asarray([1], dtype=ef.int64)
    with raises(ef.DTypeError, TypeError, "add", "uint64", "int64"):
        ef.add(a, b)


def test_python_int_that_does_not_fit_the_tensor_dtype():
    with raises(ef.InvalidArgumentError, ValueError, "add", "1000", "int8"):
        ef.add(ef.asarray([1], dtype=ef.int8), 1000)


def test_non_tensor_argument_to_an_elementwise_op():
    with raises(ef.ArgumentTypeError, TypeError, "exp", "str"):
        ef.exp("a")
    with raises(ef.ArgumentTypeError, TypeError, "add", "dict"):
        ef.add(ef.ones(2), {})


def test_lists_and_arrays_convert_where_a_tensor_is_expected():
    # TensorFlow's implicit conversion (issue #8): on the other inputs' device, a list weak to
    # their dtype, a NumPy array with its own dtype.
    assert ef.matmul([1.0, 2.0], [3.0, 4.0]).item() == 11.0
    x = ef.constant([[1.0, 2.0]])
    assert ef.matmul([[2.0], [1.0]], x).dtype == ef.float32
    assert (x + np.array([1.0, 2.0])).dtype == ef.float64
    assert (ef.constant([1, 2], dtype=ef.int8) + [1, 2]).dtype == ef.int8
    with raises(ef.ArgumentTypeError, TypeError, "matmul", "set"):
        ef.matmul({1.0}, x)


def test_out_of_range_index_names_index_and_shape():
    x = ef.asarray([1, 2, 3])
    with raises(ef.OutOfRangeError, IndexError, "10", "3"):
        x[10]
    with raises(ef.OutOfRangeError, IndexError, "-4"):
        x[-4]


def test_unknown_device_names_it_and_the_known_ones():
    with raises(ef.DeviceError, ValueError, "'tpu'", "cpu", "ef.backends()"):
        ef.device("tpu")
    with raises(ef.DeviceError, ValueError, "'cpu:7'", "does not exist"):
        ef.device("cpu:7")
    with raises(ef.DeviceError, ValueError, "'cpu:zero'", "not a device name"):
        ef.device("cpu:zero")
    with raises(ef.DeviceError, ValueError, "'tpu'"):
        ef.zeros(2, device="tpu")


def test_unknown_dtype_names_it():
    with raises(ef.DTypeError, TypeError, "float128"):
        ef.zeros(2, dtype="float128")


def test_item_and_bool_of_many_elements():
    with raises(ef.InvalidArgumentError, ValueError, "item", "(2,)"):
        ef.ones(2).item()
    with raises(ef.InvalidArgumentError, ValueError, "(2, 2)", "ef.any", "ef.all"):
        bool(ef.ones((2, 2)))


# -- errors that involve a second backend -----------------------------------------------------

@pytest.fixture
def toy_device():
    with H.registered(toy=toy.make_plugin()):
        yield ef.device("toy")


def test_mixed_devices_say_to_move_with_to(toy_device):
    a = ef.ones(3)
    b = ef.ones(3, device=toy_device)
    with raises(ef.DeviceError, ValueError, "add", "cpu:0", "toy:0", ".to("):
        ef.add(a, b)
    with raises(ef.DeviceError, ValueError, "matmul", "cpu:0", "toy:0", ".to("):
        ef.matmul(b, a)
    with raises(ef.DeviceError, ValueError, "multiply", "cpu:0", "toy:0"):
        a * b
    assert ef.add(a.to(toy_device), b).tolist() == [2.0, 2.0, 2.0]  # the fix the message names


class _ToyWith(toy.ToyBackend):
    """A toy backend whose kernel table is edited: ``drop`` removes ops, ``fail`` makes
    kernels raise the given exception."""

    drop: tuple = ()
    fail: dict = {}

    def kernels(self):
        table = dict(super().kernels())
        for name in self.drop:
            table.pop(name, None)
        for name, exc in self.fail.items():
            def kernel(*args, _exc=exc, **kwargs):
                raise _exc
            table[name] = kernel
        return table


def _plugin(**attrs):
    backend_cls = type("Edited", (_ToyWith,), attrs)

    class Plugin:
        @hookimpl
        def eagerflow_backend(self):
            return backend_cls(device_type="edited")
    return Plugin()


def test_missing_kernel_is_kernel_not_found():
    with H.registered(edited=_plugin(drop=("exp", "sum"))):
        x = ef.ones(2, device="edited")
        with raises(ef.KernelNotFoundError, NotImplementedError, "exp", "'edited'", ".to("):
            ef.exp(x)
        with raises(ef.KernelNotFoundError, NotImplementedError, "sum", "edited:0"):
            ef.sum(x)
        assert ef.exp(x.to("cpu")).device == "cpu"


@pytest.mark.parametrize("exc, cls, builtin", [
    (ZeroDivisionError("divide by zero in toy"), ef.InvalidArgumentError, ValueError),
    (RuntimeError("toy device lost"), ef.KernelError, RuntimeError),
    (IndexError("toy index"), ef.OutOfRangeError, IndexError),
])
def test_unexpected_kernel_failure_names_op_backend_and_cause(exc, cls, builtin):
    with H.registered(edited=_plugin(fail={"exp": exc, "sum": exc})):
        x = ef.ones(2, device="edited")
        with raises(cls, builtin, "exp", "'edited' kernel raised", type(exc).__name__, str(exc)) as info:
            ef.exp(x)
        assert info.value.__suppress_context__  # no backend traceback chained on
        with raises(cls, builtin, "sum", str(exc)):
            ef.sum(x)


def test_numpy_errors_never_escape_bare():
    # Whatever NumPy itself raises inside a kernel reaches the user as an eagerflow error.
    bad_calls = [
        lambda: ef.add(ef.ones((2, 3)), ef.ones((3, 2))),
        lambda: ef.matmul(ef.ones(3), ef.ones(4)),
        lambda: ef.sum(ef.ones(3), axis=1),
        lambda: ef.reshape(ef.ones(6), (4, -1)),
        lambda: ef.broadcast_to(ef.ones(3), (2, 2)),
        lambda: ef.asarray([[1, 2], [3]]),
        lambda: ef.asarray(np.array(["a", "b"])),
    ]
    for call in bad_calls:
        with pytest.raises(ef.EagerflowError):
            call()
