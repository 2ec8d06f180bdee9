"""Random ops: the stateless kernels of ``ef.random`` and ``ef.nn.dropout`` built on them.

Their values match no NumPy reference bit for bit (a backend may use its own generator), so
these entries set ``check_values=False`` (``ref`` gives the shape) and a ``check`` asserting
what every backend must do instead: the range and the distribution's first moments, the same
values for the same ``(key, counter)`` or seed, other values for another counter; for dropout,
each element either dropped (0) or kept and scaled by ``1 / (1 - rate)``, one decision per
``noise_shape`` cell. Moment bounds are 6 standard errors wide: a correct backend fails one
with probability below 1e-8.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

import eagerflow_core as ef

from ... import _dispatch
from ..._devices import default_device
from ...random import _kernels as K
from ._base import ErrorCase, OpInfo, Sample, away, grad_shapes, kinds, shapes

FLOATS = kinds("f")
_KEYS = st.integers(0, 2 ** 64 - 1)


def _kernel(op):
    """The op's kernel called on the default device, with no fallback: what the kit tests."""
    def fn(*args, key, counter, dtype=None):
        params = dict(zip(op.posparams, (key, counter, *args, dtype)))
        return _dispatch.call(op, (), {k: v for k, v in params.items() if v is not None},
                              device=default_device())
    fn.__name__ = op.name
    return fn


_uniform, _normal, _permutation = (_kernel(K.uniform_op), _kernel(K.normal_op),
                                   _kernel(K.permutation_op))


@st.composite
def _draws(draw, dtype):
    """A shape (now and then a large one, for the moment checks) and a (key, counter)."""
    shape = draw(st.one_of(shapes(), st.sampled_from([(4096,), (64, 65)])))
    return Sample((shape,), {"key": draw(_KEYS), "counter": draw(_KEYS), "dtype": dtype})


def _shape_ref(shape, **params):
    return np.empty(shape)


def _again(fn, sample, out):
    """The same call on the same device: a stateless kernel must give the same values."""
    with out.device:
        return fn(*sample.args, **sample.kwargs)


def _other_counter(fn, sample, out):
    kwargs = dict(sample.kwargs, counter=(sample.kwargs["counter"] + 1) % 2 ** 64)
    with out.device:
        return fn(*sample.args, **kwargs)


def _check_stream(fn, sample, out, host):
    again = _again(fn, sample, out).numpy()
    assert np.array_equal(again, out.numpy(), equal_nan=True), \
        "the same (key, counter, shape, dtype) gave other values the second time"
    if host.size >= 16:
        other = _other_counter(fn, sample, out).numpy()
        assert not np.array_equal(other, out.numpy()), \
            "counter and counter + 1 gave the same values: draws would overlap"


def _moments_ok(host, mean, var, what):
    n = host.size
    if n < 1000:
        return
    m = float(np.mean(host))
    assert abs(m - mean) <= 6 * math.sqrt(var / n), \
        f"{what}: mean {m} of {n} draws, expected {mean}"
    v = float(np.var(host))
    # var of the sample variance ~ (mu4 - var**2) / n; 2 * var**2 / n is enough for both laws
    assert abs(v - var) <= 6 * math.sqrt(2 * var ** 2 / n) + 1e-3, \
        f"{what}: variance {v} of {n} draws, expected {var}"


def _check_uniform(sample, out):
    host = out.numpy().astype(np.float64)
    assert np.all((host >= 0) & (host < 1)), \
        f"values outside [0, 1): min {host.min(initial=0)}, max {host.max(initial=0)}"
    _check_stream(_uniform, sample, out, host)
    _moments_ok(host, 0.5, 1 / 12, "uniform")


def _check_normal(sample, out):
    host = out.numpy().astype(np.float64)
    assert np.all(np.isfinite(host)), "non-finite standard normal values"
    _check_stream(_normal, sample, out, host)
    _moments_ok(host, 0.0, 1.0, "normal")


@st.composite
def _perm_samples(draw, dtype):
    n = draw(st.one_of(st.integers(0, 10), st.just(1000)))
    return Sample((n,), {"key": draw(_KEYS), "counter": draw(_KEYS)})


def _check_permutation(sample, out):
    host = out.numpy()
    n = sample.args[0]
    assert sorted(host.tolist()) == list(range(n)), f"not a permutation of range({n}): {host}"
    _check_stream(_permutation, sample, out, host)


def _kernel_errors(fn_name):
    return (ErrorCase(((3,),), {"key": 0, "counter": 0, "dtype": ef.int32}, "DTypeError",
                      match=fn_name),
            ErrorCase(((-1, 2),), {"key": 0, "counter": 0, "dtype": ef.float32}, "ShapeError",
                      match="negative"))


# -- dropout -----------------------------------------------------------------------------------

def _dropout(x, *, rate, seed, noise_shape=None):
    return ef.nn.dropout(x, rate, noise_shape=noise_shape, seed=seed)


def _noise_shapes(shape):
    """None, or ``shape`` with some sizes replaced by 1 (shared decisions) or None."""
    cell = st.sampled_from(["same", "one", "none"])
    return st.one_of(st.none(), st.lists(cell, min_size=len(shape), max_size=len(shape)).map(
        lambda picks: tuple({"same": d, "one": 1, "none": None}[p] for p, d in zip(picks, shape))))


@st.composite
def _dropout_samples(draw, dtype, sides=shapes(min_dims=1, max_side=6)):
    shape = draw(sides)
    x = draw(away(dtype, shape, 0.25, 4.0))  # never 0: a 0 in the result means "dropped"
    kwargs = {"rate": draw(st.sampled_from([0.0, 0.1, 0.5, 0.9])),
              "seed": draw(st.integers(0, 2 ** 31)), "noise_shape": draw(_noise_shapes(shape))}
    return Sample((x,), kwargs)


def _dropout_ref(x, **params):
    return x


def _check_dropout(sample, out):
    x = np.asarray(sample.args[0], np.float64)
    rate, got = sample.kwargs["rate"], out.numpy().astype(np.float64)
    assert got.shape == x.shape, f"shape {got.shape}, x has {x.shape}"
    if rate == 0:
        assert np.array_equal(got, x), "rate 0 must return x unchanged"
        return
    kept = got != 0
    tol = {"float16": 2e-3, "bfloat16": 2e-2}.get(out.dtype.name, 1e-6)
    want = x / (1 - rate)
    bad = kept & ~np.isclose(got, want, rtol=tol, atol=0)
    assert not bad.any(), \
        f"kept values are not x / (1 - rate): got {got[bad][:3]}, want {want[bad][:3]}"
    noise = sample.kwargs["noise_shape"]
    for axis, d in enumerate(noise or ()):
        if d == 1 and x.shape[axis] > 1:
            first = np.take(kept, [0], axis=axis)
            assert np.array_equal(np.broadcast_to(first, kept.shape), kept), \
                f"noise_shape {noise}: decisions differ along axis {axis}, where they are shared"
    with out.device:
        again = _dropout(ef.asarray(sample.args[0]), **sample.kwargs)
    assert np.array_equal(again.numpy(), out.numpy()), "the same seed gave another mask"


INFOS = [
    OpInfo("random.uniform", _uniform, _shape_ref, FLOATS, _draws, check_values=False,
           check=_check_uniform, errors=_kernel_errors("random.uniform"),
           note="properties: [0, 1), moments, same values per (key, counter), none shared "
                "with the next counter"),
    OpInfo("random.normal", _normal, _shape_ref, FLOATS, _draws, check_values=False,
           check=_check_normal, errors=_kernel_errors("random.normal"),
           note="properties: finite, moments, same values per (key, counter)"),
    OpInfo("random.permutation", _permutation, _shape_ref, ("int64",), _perm_samples,
           check_values=False, check=_check_permutation,
           note="properties: a permutation of range(n), the same one per (key, counter)"),
    OpInfo("nn.dropout", _dropout, _dropout_ref, FLOATS, _dropout_samples, differentiable=True,
           grad_samples=lambda dtype: _dropout_samples(dtype, grad_shapes(min_dims=1)),
           check_values=False, check=_check_dropout, kernels=("random.uniform",),
           errors=(ErrorCase((np.ones(3, np.float32),), {"rate": 1.0, "seed": 0},
                             "InvalidArgumentError", match=r"\[0, 1\)"),
                   ErrorCase((np.ones(3, np.float32),), {"rate": -0.5, "seed": 0},
                             "InvalidArgumentError", match=r"\[0, 1\)"),
                   ErrorCase((np.ones((2, 3), np.float32),),
                             {"rate": 0.5, "seed": 0, "noise_shape": (2, 2)}, "ShapeError",
                             match="noise_shape")),
           note="a composite on random.uniform: kept values scaled by 1 / (1 - rate), shared "
                "decisions along noise_shape's 1s, the same mask per seed; gradients to "
                "second order"),
]
