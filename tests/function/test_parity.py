"""Parity (issue #11, item 6): every op of the op database, and its gradient, gives the same
results through ef.function as eagerly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import eagerflow_core as ef
from eagerflow_core.testing.opdb import OPDB

quick = settings(max_examples=3, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))


def _convert(value):
    if isinstance(value, np.ndarray):
        return ef.asarray(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_convert(v) for v in value)
    if isinstance(value, dict):
        return {k: _convert(v) for k, v in value.items()}
    return value


def _flat(out):
    if isinstance(out, (list, tuple)):
        return [t for x in out for t in _flat(x)]
    return [out]


def _tensors(args):
    """The tensors of a sample, in order, and a function rebuilding the arguments."""
    found = []

    def strip(x):
        if isinstance(x, ef.Tensor):
            found.append(x)
            return _Hole(len(found) - 1)
        if isinstance(x, (list, tuple)):
            return type(x)(strip(v) for v in x)
        return x
    skeleton = strip(args)

    def fill(tensors):
        def put(x):
            if isinstance(x, _Hole):
                return tensors[x.i]
            if isinstance(x, (list, tuple)):
                return type(x)(put(v) for v in x)
            return x
        return put(skeleton)
    return found, fill


class _Hole:
    def __init__(self, i):
        self.i = i


def _compare(a, b, what):
    fa, fb = _flat(a), _flat(b)
    assert len(fa) == len(fb), what
    for x, y in zip(fa, fb):
        assert x.dtype == y.dtype and x.shape == y.shape, f"{what}: {x!r} vs {y!r}"
        wide = np.complex128 if x.dtype.kind == "c" else np.float64
        np.testing.assert_allclose(x.numpy().astype(wide), y.numpy().astype(wide),
                                   rtol=1e-5, atol=1e-6, equal_nan=True, err_msg=what)


# Output shapes that depend on the values cannot be traced (a clear TracingError instead).
VALUE_SHAPED = ("nonzero", "repeat", "segment_sum", "segment_mean", "segment_max", "bincount",
                "boolean_mask")
TRACEABLE = sorted(n for n, info in OPDB.items()
                   if not n.startswith("unique") and n not in VALUE_SHAPED
                   and info.check_values)


@pytest.mark.parametrize("name", TRACEABLE)
def test_values_through_ef_function(name):
    info = OPDB[name]
    dtypes = [d for d in info.dtypes if d in ("float32", "int64", "bool", "complex64")][:2] \
        or info.dtypes[:1]
    for dname in dtypes:
        dt = getattr(ef, "bool" if dname == "bool" else dname)

        @quick
        @given(info.samples(dt))
        def run(sample):
            args, kwargs = _convert(sample.args), _convert(sample.kwargs)
            try:
                want = info.fn(*args, **kwargs)
            except ef.EagerflowError:
                return
            tensors, fill = _tensors((args, kwargs))
            traced = ef.function(lambda *ts: info.fn(*fill(ts)[0], **fill(ts)[1]))
            _compare(traced(*tensors), want, f"{name}[{dname}]")
        run()


# repeat's result size depends on the values of repeats: its gradient needs that size, which
# a traced graph does not know (documented in docs/guide/function.md); so do the results of the
# others in VALUE_SHAPED.
DIFFERENTIABLE = sorted(n for n, info in OPDB.items() if info.differentiable
                        and info.grad_samples is not None and n not in VALUE_SHAPED)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_gradients_through_ef_function(name):
    info = OPDB[name]

    @quick
    @given(info.grad_samples(ef.float64))
    def run(sample):
        args, kwargs = _convert(sample.args), _convert(sample.kwargs)
        tensors, fill = _tensors((args, kwargs))
        sources = [i for i, t in enumerate(tensors) if t.dtype.kind in "fc"]

        def loss_grads(*ts):
            def loss(*xs):
                full = list(ts)
                for i, x in zip(sources, xs):
                    full[i] = x
                a, k = fill(full)
                out = _flat(info.fn(*a, **k))
                return sum(ef.sum(ef.real(o) if o.dtype.kind == "c" else o)
                           for o in out if o.dtype.kind in "fc")
            return ef.grad(loss, argnums=tuple(range(len(sources))))(
                *[ts[i] for i in sources])
        want = loss_grads(*tensors)
        got = ef.function(loss_grads)(*tensors)
        _compare(got, want, f"grad {name}")
    run()
