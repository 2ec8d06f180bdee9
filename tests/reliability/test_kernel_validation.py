"""Kernel results are not trusted blindly (issue #9, items 3 and 10): deliberately broken
backends, registered in-process, get a KernelError naming backend, op and what came back;
in kernel-check mode (EAGERFLOW_CHECK_KERNELS=1) wrong shapes and dtypes are caught too."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import eagerflow_core as ef

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "ef_toy"))

import plugin_harness as H  # noqa: E402
from ef_toy import ToyBackend  # noqa: E402
from eagerflow_core.plugins import hookimpl  # noqa: E402


def _broken(device_type, **overrides):
    class Broken(ToyBackend):
        def kernels(self):
            table = super().kernels()
            table.update(overrides)
            return table

    class Plugin:
        @hookimpl
        def eagerflow_backend(self):
            return Broken(device_type=device_type)
    return Plugin()


@pytest.fixture
def checks():
    ef.set_kernel_checks(True)
    try:
        yield
    finally:
        ef.set_kernel_checks(None)


BAD_RESULTS = {
    "None": (lambda x: None, "returned None"),
    "a string": (lambda x: "oops", "returned a builtins.str"),
    "a list": (lambda x: [1.0, 2.0], "returned a builtins.list"),
    "an object array": (lambda x: np.array([object(), object()]), "dtype object"),
}


@pytest.mark.parametrize("what", sorted(BAD_RESULTS))
def test_a_non_array_result_is_a_kernel_error_always(what):
    kernel, words = BAD_RESULTS[what]
    with H.registered(bad=_broken("bad", exp=kernel, sum=lambda x, **k: kernel(x))):
        x = ef.ones(2, device="bad")
        for call in (lambda: ef.exp(x), lambda: ef.sum(x)):
            with pytest.raises(ef.KernelError) as info:
                call()
            msg = str(info.value)
            assert "the 'bad' kernel" in msg and words in msg
            assert msg.split(":")[0] in ("exp", "sum")


def test_wrong_shapes_are_caught_in_check_mode(checks):
    wrong = _broken("shapes", sum=lambda x, **k: np.ones((4, 4), x.dtype),
                    matmul=lambda a, b: np.ones((7, 7), a.dtype),
                    exp=lambda x: np.exp(x)[:1])
    with H.registered(shapes=wrong):
        x = ef.ones((2, 3), device="shapes")
        with pytest.raises(ef.KernelError, match=r"sum: the 'shapes' kernel returned .* shape "
                                                 r"\(4, 4\).*shape rule says \(\)"):
            ef.sum(x)
        with pytest.raises(ef.KernelError, match=r"matmul: .*\(7, 7\).*shape rule says \(2, 2\)"):
            ef.matmul(x, ef.ones((3, 2), device="shapes"))
        with pytest.raises(ef.KernelError, match=r"exp: .*shape rule says \(2, 3\)"):
            ef.exp(x)


def test_a_result_in_the_wrong_dtype_is_caught_in_check_mode_and_cast_otherwise(checks):
    sloppy = _broken("sloppy", exp=lambda x: np.exp(x).astype(np.float16))
    with H.registered(sloppy=sloppy):
        x = ef.ones(2, device="sloppy")
        with pytest.raises(ef.KernelError, match=r"exp: .*float16.*dtype rule says float32"):
            ef.exp(x)
        ef.set_kernel_checks(False)
        assert ef.exp(x).dtype == ef.float32


def test_the_conformance_kit_turns_the_checks_on():
    from eagerflow_core.testing import conformance
    assert "set_kernel_checks" in conformance.run.__code__.co_names or \
        "set_kernel_checks" in Path(conformance.__file__).read_text()


def test_kernel_errors_keep_the_kernels_own_message_and_class_meaning():
    # A kernel's TypeError is the backend's limitation, not a wrong dtype from the user.
    def immutable(x):
        raise TypeError("JAX arrays are immutable")

    def unimplemented(x, *a, **k):
        raise NotImplementedError("not for this layout")
    with H.registered(limited=_broken("limited", exp=immutable, sin=unimplemented)):
        x = ef.ones(2, device="limited")
        with pytest.raises(ef.KernelError, match="JAX arrays are immutable") as info:
            ef.exp(x)
        assert not isinstance(info.value, ef.DTypeError)
        with pytest.raises(ef.KernelError, match="not for this layout") as info:
            ef.sin(x)
        assert not isinstance(info.value, ef.KernelNotFoundError)


def test_assign_sub_works_on_a_backend_whose_arrays_cannot_be_written():
    # The kit's in-place kernels return what `x -= y` gives: a new array on an immutable
    # backend. The Variable takes it (a silent no-op before issue #9).
    def functional_subtract(x, y):
        return x - y  # never writes x

    with H.registered(frozen=_broken("frozen", inplace_subtract=functional_subtract)):
        v = ef.Variable(ef.ones(3, device="frozen"))
        v.assign_sub(ef.ones(3, device="frozen") * 0.25)
        assert v.numpy().tolist() == [0.75, 0.75, 0.75]


def test_native_dtypes_are_normalised_by_the_kit():
    # getattr(np, "float32") is a scalar type; arrays report np.dtype("float32"): lookups by
    # the array's dtype must find it (gradients of gathers were silently wrong otherwise).
    with H.registered(norm=_broken("norm")):
        dev = ef.device("norm")
        for dt, native in dev.native.items():
            assert isinstance(native, np.dtype), dt
            assert dev.backend.from_native[np.empty(0, dtype=native).dtype] is dt


def test_a_kernel_may_declare_the_dtypes_it_takes(checks):
    calls = []

    def exp32(x):
        calls.append(x.dtype)
        assert x.dtype in (np.float32, np.float64), x.dtype
        return np.exp(x)

    class Narrow(ToyBackend):
        def kernels(self):
            table = super().kernels()
            table["exp"] = exp32
            return table

        def kernel_dtypes(self):
            return {"exp": ["float32", "float64"], "linalg.inv": ["float32"]}

    class Plugin:
        @hookimpl
        def eagerflow_backend(self):
            return Narrow(device_type="narrow")

    with H.registered(narrow=Plugin()):
        x = ef.asarray(np.array([0.0, 1.0], np.float16), device="narrow")
        y = ef.exp(x)  # computed in float32, cast back: the kernel-check mode is satisfied
        assert y.dtype == ef.float16 and calls == [np.float32]
        np.testing.assert_allclose(y.numpy().astype(np.float64), [1.0, np.e], rtol=1e-3)
        assert ef.exp(ef.ones(2, device="narrow")).dtype == ef.float32  # untouched dtypes
        with pytest.raises(ef.KernelNotFoundError, match=r"linalg.inv: backend 'narrow'\'s kernel "
                                                         r"takes float32, not float64"):
            ef.linalg.inv(ef.eye(2, dtype=ef.float64, device="narrow"))
        assert ef.linalg.inv(ef.eye(2, dtype=ef.float16, device="narrow")).dtype == ef.float16
