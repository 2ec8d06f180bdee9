"""The fft extension (``ef.fft``) on every backend: values against ``torch.fft`` on the same
inputs, the standard's dtypes and shapes, the round trips the standard promises, hand-computed
transforms, and clear errors.

The values against ``numpy.fft`` in float64, for every transform, size, axis and norm, are
checked from the op database by tests/backends/test_ops.py (``testing/opdb/_fft.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core.testing import assert_close

F = ef.fft
NORMS = ["backward", "ortho", "forward"]
ONE_AXIS = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
MANY_AXES = ["fftn", "ifftn", "rfftn", "irfftn"]
REAL_INPUT = {"rfft", "ihfft", "rfftn"}
# Errors of a few eps times the sum of |x| over a transform (x in [-4, 4], <= 8 points).
TOL = {ef.complex64: (1e-5, 1e-4), ef.float32: (1e-5, 1e-4),
       ef.complex128: (1e-12, 1e-11), ef.float64: (1e-12, 1e-11)}


def host(rng, shape, real):
    x = rng.uniform(-4, 4, shape)
    return x if real else x + 1j * rng.uniform(-4, 4, shape)


def close(got, want):
    rtol, atol = TOL[got.dtype]
    assert_close(got, want, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", ONE_AXIS + MANY_AXES)
def test_single_precision_matches_torch_fft(device, name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    real = name in REAL_INPUT
    x = host(rng, (3, 6, 5), real).astype(np.float32 if real else np.complex64)
    kwargs = {"n": 7, "axis": 1} if name in ONE_AXIS else {"s": (4, 7), "axes": (0, 2)}
    got = getattr(F, name)(ef.asarray(x), **kwargs)
    tk = {"n": 7, "dim": 1} if name in ONE_AXIS else {"s": (4, 7), "dim": (0, 2)}
    want = getattr(torch.fft, name)(torch.from_numpy(x), **tk)
    assert str(want.dtype) == f"torch.{got.dtype.name}"
    close(got, want.resolve_conj().numpy().astype(np.complex128 if want.is_complex()
                                                  else np.float64))


# -- dtypes and shapes -----------------------------------------------------------------------

@pytest.mark.parametrize("name, given_dtype, result", [
    ("fft", ef.complex64, ef.complex64), ("fft", ef.complex128, ef.complex128),
    ("fft", ef.float32, ef.complex64), ("fft", ef.float64, ef.complex128),
    ("fft", ef.int16, ef.complex64), ("fft", ef.bool, ef.complex64),
    ("ifftn", ef.float16, ef.complex64), ("fftn", ef.bfloat16, ef.complex64),
    ("rfft", ef.float32, ef.complex64), ("rfft", ef.float64, ef.complex128),
    ("rfft", ef.float16, ef.complex64), ("rfftn", ef.int64, ef.complex64),
    ("ihfft", ef.float64, ef.complex128),
    ("irfft", ef.complex64, ef.float32), ("irfft", ef.complex128, ef.float64),
    ("irfftn", ef.float64, ef.float64), ("hfft", ef.complex64, ef.float32),
    ("hfft", ef.float32, ef.float32), ("hfft", ef.uint8, ef.float32),
])
def test_result_dtypes_keep_the_precision(device, name, given_dtype, result):
    x = ef.ones((2, 4), dtype=given_dtype)
    assert getattr(F, name)(x).dtype is result


def test_shapes_follow_n_and_s(device):
    x = ef.ones((3, 8), dtype=ef.complex64)
    assert F.fft(x, n=5).shape == (3, 5)
    assert F.fft(x, n=11, axis=0).shape == (11, 8)
    assert F.rfft(ef.ones((3, 8)), n=7).shape == (3, 4)
    assert F.irfft(x).shape == (3, 14) and F.irfft(x, n=5).shape == (3, 5)
    assert F.hfft(x, axis=0).shape == (4, 8)
    assert F.ihfft(ef.ones((3, 9))).shape == (3, 5)
    assert F.fftn(x, s=(2, -1), axes=(0, 1)).shape == (2, 8)
    assert F.rfftn(ef.ones((3, 8)), s=(4, 6), axes=(1, 0)).shape == (4, 4)
    assert F.fftn(x, axes=()).shape == (3, 8)  # nothing to transform: the input
    assert F.fftfreq(7).shape == (7,) and F.rfftfreq(7).shape == (4,)


def test_irfftn_default_uses_the_whole_last_axis(device):
    # The standard: with s[-1] == -1 (or no s) every input element is used, so the output
    # has 2 * (M - 1) points (NumPy 2.4 reads -1 there as M, which drops input elements).
    x = F.rfftn(ef.reshape(ef.arange(12.0), (3, 4)))
    assert F.irfftn(x).shape == (3, 4)
    assert F.irfftn(x, s=(3, -1), axes=(0, 1)).shape == (3, 4)
    assert_close(F.irfftn(x), np.arange(12.0).reshape(3, 4), atol=1e-5)


# -- what the standard promises, and hand-computed transforms ------------------------------

@pytest.mark.parametrize("norm", NORMS)
def test_round_trips(device, norm):
    rng = np.random.default_rng(0)
    z = ef.asarray(host(rng, (4, 6), real=False), dtype=ef.complex128)
    r = ef.asarray(host(rng, (4, 7), real=True))
    assert_close(F.ifft(F.fft(z, norm=norm), norm=norm), z.numpy())
    assert_close(F.ifftn(F.fftn(z, norm=norm), norm=norm), z.numpy())
    assert_close(F.irfft(F.rfft(r, norm=norm), n=7, norm=norm), r.numpy(), atol=1e-5)
    assert_close(F.irfftn(F.rfftn(r, norm=norm), s=(4, 7), axes=(0, 1), norm=norm), r.numpy(),
                 atol=1e-5)
    assert_close(F.hfft(F.ihfft(r, norm=norm), n=7, norm=norm), r.numpy(), atol=1e-5)


def test_ortho_preserves_the_norm(device):
    z = ef.asarray(host(np.random.default_rng(1), (16,), real=False), dtype=ef.complex128)
    energy = float(ef.sum(ef.abs(z) ** 2))
    assert float(ef.sum(ef.abs(F.fft(z, norm="ortho")) ** 2)) == pytest.approx(energy)


def test_hand_computed_transforms(device):
    delta = ef.asarray([1, 0, 0, 0], dtype=ef.complex64)
    assert_close(F.fft(delta), np.ones(4))
    assert_close(F.fft(ef.ones(4, dtype=ef.complex64)), [4, 0, 0, 0])
    assert_close(F.fft(delta, norm="forward"), np.full(4, 0.25))
    assert_close(F.fft(delta, norm="ortho"), np.full(4, 0.5))
    # e^{2 pi i k / 4} is the pure frequency 1
    wave = ef.asarray(np.exp(2j * np.pi * np.arange(4) / 4), dtype=ef.complex128)
    assert_close(F.fft(wave), [0, 4, 0, 0], atol=1e-12)
    assert_close(F.fft(ef.asarray([1.0, 2.0]), n=4), [3, 1 - 2j, -1, 1 + 2j])  # zero-padded
    assert_close(F.fft(ef.asarray([1.0, 2.0, 5.0]), n=2), [3, -1])  # trimmed
    # irfft ignores the imaginary parts of the zero and Nyquist frequencies
    assert_close(F.irfft(ef.asarray([4 + 7j, 0, 2 + 1j])), [1.5, 0.5, 1.5, 0.5])


def test_frequencies_and_shifts(device):
    assert_close(F.fftfreq(4), [0, 0.25, -0.5, -0.25])
    assert_close(F.fftfreq(5, d=0.5), [0, 0.4, 0.8, -0.8, -0.4])
    assert_close(F.rfftfreq(5, d=0.5), [0, 0.4, 0.8])
    assert F.fftfreq(3, dtype=ef.float64).dtype is ef.float64
    assert F.rfftfreq(3, dtype=ef.float16).dtype is ef.float16
    assert F.fftfreq(3, device=device).device == device
    x = ef.reshape(ef.arange(15), (3, 5))
    assert_close(F.fftshift(x), np.fft.fftshift(np.arange(15).reshape(3, 5)))
    assert_close(F.fftshift(x, axes=1), np.fft.fftshift(np.arange(15).reshape(3, 5), axes=1))
    assert_close(F.ifftshift(F.fftshift(x)), x.numpy())
    assert F.fftshift(x).dtype is ef.int64


# -- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("call, cls, match", [
    (lambda: F.fft(ef.ones(3, dtype=ef.complex64), axis=1), ef.AxisError,
     r"^fft\.fft: axis 1 is out of range .* valid axes are -1\.\.0"),
    (lambda: F.fft(ef.ones((), dtype=ef.complex64)), ef.ShapeError, r"^fft\.fft: .*shape \(\)"),
    (lambda: F.ifft(ef.ones(3, dtype=ef.complex64), n=0), ef.InvalidArgumentError,
     r"^fft\.ifft: n must be >= 1, got 0"),
    (lambda: F.fft(ef.ones(3, dtype=ef.complex64), norm="unit"), ef.InvalidArgumentError,
     r"'backward', 'ortho' or 'forward'"),
    (lambda: F.irfft(ef.ones(1, dtype=ef.complex64)), ef.InvalidArgumentError,
     r"n defaults to 2\*\(M-1\), with M = 1"),
    (lambda: F.rfft(ef.ones(3, dtype=ef.complex64)), ef.DTypeError,
     r"^fft\.rfft: expects a real input, got complex64"),
    (lambda: F.fftn(ef.ones((2, 2)), s=(3, 3)), ef.InvalidArgumentError,
     r"s was given without axes"),
    (lambda: F.fftn(ef.ones((2, 2)), axes=(0, 0)), ef.AxisError, r"repeats an axis"),
    (lambda: F.rfftn(ef.ones(())), ef.InvalidArgumentError, r"needs at least one axis"),
    (lambda: F.fftfreq(0), ef.InvalidArgumentError, r"^fft\.fftfreq: n .* >= 1"),
    (lambda: F.fftfreq(4, d=0), ef.InvalidArgumentError, r"d \(the sample spacing\)"),
    (lambda: F.rfftfreq(4, dtype=ef.int32), ef.DTypeError, r"real floating-point dtype"),
    (lambda: F.fftshift(ef.ones((2, 2)), axes=(2,)), ef.AxisError, r"^fft\.fftshift: axis 2"),
    (lambda: F.fft("1.0, 2.0"), ef.ArgumentTypeError, r"^fft\.fft: expected a Tensor, got builtins\.str"),
])
def test_bad_calls_raise_clear_errors(device, call, cls, match):
    with pytest.raises(cls, match=match):
        call()


# -- the op declarations -----------------------------------------------------------------------

def test_shape_rules_agree_with_the_kernels(device):
    from eagerflow_core._registry import OPS
    x = ef.ones((3, 8), dtype=ef.complex64)
    for name, params in [("fft", {"n": 5, "axis": 1, "norm": "ortho"}),
                         ("rfft", {"n": 7, "axis": 0, "norm": "backward"}),
                         ("irfft", {"n": 9, "axis": 1, "norm": "forward"}),
                         ("rfftn", {"s": (4, 6), "axes": (1, 0), "norm": "backward"}),
                         ("irfftn", {"s": (4, 6), "axes": (1, 0), "norm": "backward"})]:
        op = OPS[f"fft.{name}"]
        arg = ef.real(x) if name.startswith("rfft") else x
        assert op.shape_rule(x.shape, **params) == getattr(F, name)(arg, **params).shape
