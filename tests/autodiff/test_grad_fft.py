"""Gradient rules of the fft extension: every transform's VJP against PyTorch's autograd on the
same inputs and cotangents (for every norm, with the input zero-padded, trimmed or used as
is), gradients against central differences to second order, and the dtypes gradients come
back in. The cases that need care: the Hermitian weighting of irfft/hfft (a frequency that
stands for its mirror image counts twice, the zero and Nyquist ones once), real inputs of the
complex transforms (their gradient is real), and the ``n``/``s`` padding and trimming.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core.testing import assert_close, check_grads

torch = pytest.importorskip("torch")

F = ef.fft
NORMS = ["backward", "ortho", "forward"]
ONE_AXIS = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
MANY_AXES = ["fftn", "ifftn", "rfftn", "irfftn"]
REAL_INPUT = {"rfft", "ihfft", "rfftn"}
shared_device = settings(suppress_health_check=[*settings.default.suppress_health_check,
                                                HealthCheck.function_scoped_fixture])


def _host(rng, shape, real):
    x = rng.standard_normal(shape)
    return x if real else x + 1j * rng.standard_normal(shape)


def _torch_kwargs(kwargs):
    out = dict(kwargs)
    for ours in ("axis", "axes"):
        if ours in out:
            out["dim"] = out.pop(ours)
    return out


def _against_torch(name, x, kwargs, seed=0):
    """ef.vjp of the transform against torch.autograd.grad, same input and cotangent."""
    rng = np.random.default_rng(seed)
    tx = torch.tensor(x, requires_grad=True)
    tout = getattr(torch.fft, name)(tx, **_torch_kwargs(kwargs))
    v = _host(rng, tuple(tout.shape), not tout.is_complex())
    (want,) = torch.autograd.grad(tout, tx, grad_outputs=torch.tensor(v))
    out, back = ef.vjp(lambda t: getattr(F, name)(t, **kwargs), ef.asarray(x))
    (got,) = back(ef.asarray(v))
    assert out.shape == tuple(tout.shape)
    assert_close(got, want.resolve_conj().numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ONE_AXIS)
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("n", [None, 1, 3, 6, 9])
def test_one_axis_vjp_matches_torch(device, name, norm, n):
    rng = np.random.default_rng(1)
    x = _host(rng, (3, 6), name in REAL_INPUT)
    _against_torch(name, x, {"n": n, "axis": 0 if n == 3 else -1, "norm": norm})


@pytest.mark.parametrize("name", MANY_AXES)
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("s, axes", [(None, None), ((3, 8), (0, 1)), ((5, 4), (1, 0)),
                                     ((4,), (1,)), ((-1, 7), (0, -1)), ((1, 1), (0, 1))])
def test_many_axes_vjp_matches_torch(device, name, norm, s, axes):
    rng = np.random.default_rng(2)
    _against_torch(name, _host(rng, (4, 6), name in REAL_INPUT), {"s": s, "axes": axes,
                                                                  "norm": norm})


@pytest.mark.parametrize("name", ONE_AXIS + MANY_AXES)
@shared_device
@given(seed=st.integers(0, 2**16), norm=st.sampled_from(NORMS), data=st.data())
def test_second_order_against_central_differences(device, name, seed, norm, data):
    rng = np.random.default_rng(seed)
    shape = tuple(int(v) for v in rng.integers(1, 4, 2))
    if name in ONE_AXIS:
        kwargs = {"n": data.draw(st.none() | st.integers(1, 5), label="n"),
                  "axis": data.draw(st.sampled_from([0, -1]), label="axis"), "norm": norm}
        if kwargs["n"] is None and name in ("irfft", "hfft"):
            shape = tuple(max(d, 2) for d in shape)
    else:
        s = data.draw(st.none() | st.tuples(st.integers(1, 4), st.integers(1, 4)), label="s")
        kwargs = {"s": s, "axes": (0, 1) if s is not None or name in ("rfftn", "irfftn")
                  else None, "norm": norm}
        if s is None and name == "irfftn":
            shape = (shape[0], max(shape[1], 2))
    x = ef.asarray(_host(rng, shape, name in REAL_INPUT))
    check_grads(lambda t: getattr(F, name)(t, **kwargs), (x,), order=2)


def test_real_input_of_a_complex_transform_gets_a_real_gradient(device):
    x = ef.asarray([1.0, -2.0, 0.5, 3.0])
    g = ef.grad(lambda t: ef.sum(ef.real(F.fft(t)) + ef.imag(F.fft(t)) * 2.0))(x)
    assert g.dtype is ef.float32
    # d/dx_j of sum_k Re X_k + 2 Im X_k: sum_k cos(2 pi jk/4) - 2 sin(2 pi jk/4)
    k = np.arange(4)
    want = [np.sum(np.cos(2 * np.pi * j * k / 4) - 2 * np.sin(2 * np.pi * j * k / 4))
            for j in range(4)]
    assert_close(g, want, atol=1e-5)


def test_irfft_counts_mirrored_frequencies_twice(device):
    # y = irfft(x, n=4): x_1 stands for frequencies 1 and 3, x_0 and x_2 for themselves, so
    # y_0 = (Re x_0 + 2 Re x_1 + Re x_2) / 4, whose gradient is [1, 2, 1] / 4 (no imaginary
    # part: y_0 does not depend on Im x_1, and irfft ignores Im x_0 and Im x_2).
    x = ef.asarray([1 + 3j, 2 - 1j, 0.5 + 2j])
    g = ef.grad(lambda t: ef.sum(F.irfft(t, n=4) * ef.asarray([1.0, 0.0, 0.0, 0.0])))(x)
    assert_close(g, np.array([0.25, 0.5, 0.25]) + 0j)


@pytest.mark.parametrize("dtype, grad_dtype", [(ef.float32, ef.float32),
                                               (ef.complex64, ef.complex64),
                                               (ef.float64, ef.float64),
                                               (ef.float16, ef.float16)])
def test_gradients_come_back_in_the_inputs_dtype(device, dtype, grad_dtype):
    x = ef.astype(ef.asarray([[1.0, 2.0, 0.5, 1.5]]), dtype)
    for fn in (lambda t: ef.abs(F.fft(t)), lambda t: F.irfft(F.fft(t)),
               lambda t: ef.abs(F.rfftn(ef.real(t)))):
        g = ef.grad(lambda t, fn=fn: ef.sum(fn(t)))(x)
        assert g.dtype is grad_dtype and g.shape == x.shape


def test_shifts_are_each_others_gradient(device):
    x = ef.asarray(np.arange(15.0).reshape(3, 5))
    w = ef.asarray(np.random.default_rng(0).standard_normal((3, 5)))
    for fwd, back in ((F.fftshift, np.fft.ifftshift), (F.ifftshift, np.fft.fftshift)):
        for axes in (None, 1, (0,)):
            g = ef.grad(lambda t, f=fwd, a=axes: ef.sum(f(t, axes=a) * w))(x)
            assert_close(g, back(w.numpy(), axes=axes))
            check_grads(lambda t, f=fwd, a=axes: f(t, axes=a), (x,), order=2)


def test_frequencies_have_no_gradient(device):
    assert not ef.fft.fftfreq.op.differentiable and not ef.fft.rfftfreq.op.differentiable
