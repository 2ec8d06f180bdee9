"""A quick self-test of the op database (eagerflow_core/testing/opdb): every kernel op has an
entry, every entry's samples draw, its reference agrees with the NumPy backend on a few drawn
samples per dtype, its gradient samples pass the gradient check, and its error cases raise.
"""

from __future__ import annotations

import os
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core import _errors
from eagerflow_core._registry import OPS
from eagerflow_core.testing import TOLERANCES, assert_close, check_grads, reference
from eagerflow_core.testing.opdb import OPDB, ErrorCase, OpInfo, Sample

KERNEL_OPS = sorted(n for n, op in OPS.items() if op.needs_kernel)
# ef.nn functions composed of kernel ops (conv1d, layer_norm...): in the database, not in OPS.
COMPOSED = sorted(set(OPDB) - set(OPS))
DTYPES = {d.name: d for d in ef.__dict__.values() if isinstance(d, type(ef.float32))}
EXAMPLES = int(os.environ.get("OPDB_EXAMPLES", "4"))  # more for a deeper look at the domains
quick = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))


def _convert(value):
    """The runner's rule: NumPy arrays (also inside lists and tuples) become tensors."""
    if isinstance(value, np.ndarray):
        return ef.asarray(value)
    if isinstance(value, list):
        return [_convert(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_convert(v) for v in value)
    if isinstance(value, dict):
        return {k: _convert(v) for k, v in value.items()}
    return value


def _host(value):
    if isinstance(value, np.ndarray):
        return reference(value)
    if isinstance(value, list):
        return [_host(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_host(v) for v in value)
    if isinstance(value, dict):
        return {k: _host(v) for k, v in value.items()}
    return value


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _compare(info: OpInfo, sample: Sample, got, want):
    gots, wants = _flat(got), _flat(want)
    assert len(gots) == len(wants), f"{info.name}: {len(gots)} results, reference {len(wants)}"
    for i, (g, w) in enumerate(zip(gots, wants)):
        msg = f"{info.name} result {i}: "
        w = np.asarray(w)
        if info.check is not None:  # random ops: properties of the result, not its values
            info.check(sample, got)
        if not info.check_values:
            assert g.shape == w.shape, msg
            continue
        r, a = info.rtol.get(g.dtype.name, TOLERANCES.get(g.dtype.name, (0, 0)))
        if g.dtype.kind in "fc":
            assert_close(g, w, rtol=r, atol=a, msg=msg)
        else:
            assert_close(g, w.astype(g.dtype.numpy) if w.dtype == object else w, msg=msg)


def test_every_kernel_op_has_an_entry():
    missing = [n for n in KERNEL_OPS if n not in OPDB]
    assert not missing, f"ops without an OpInfo: {missing}"
    # Entries that are not kernel ops are composites (nn.dropout) naming the kernels they use.
    extra = [n for n in set(OPDB) - set(KERNEL_OPS) if not OPDB[n].kernels]
    assert not extra, f"entries for ops that need no kernel: {extra}"
    for name in OPDB:
        assert set(OPDB[name].kernels) <= set(KERNEL_OPS), (name, OPDB[name].kernels)


@pytest.mark.parametrize("name", sorted(OPDB))
def test_entry_is_well_formed(name):
    info = OPDB[name]
    assert info.name == name and callable(info.fn) and callable(info.ref)
    assert info.dtypes and set(info.dtypes) <= set(DTYPES), info.dtypes
    if info.differentiable:
        assert info.grad_samples is not None
    if info.kernels:  # a composite: no OpDef of its own
        return
    assert info.differentiable == OPS[name].differentiable or not info.differentiable
    if OPS[name].table is not None:  # elementwise: exactly the dtypes the core's rule takes
        assert set(info.dtypes) == {d.name for d in OPS[name].table}
    _check_common(info)


def _check_common(info):
    if info.differentiable:
        assert info.grad_samples is not None
    for case in info.errors:
        assert isinstance(case, ErrorCase) and hasattr(_errors, case.exc_type_name)
    for dt, pair in info.rtol.items():
        assert dt in DTYPES and len(pair) == 2


# One test per op (its dtypes in a loop): hypothesis's per-item settings grow a chain on a
# shared test function, which a thousand parametrized items would overflow.
@pytest.mark.parametrize("name", sorted(OPDB))
@quick
@given(data=st.data())
def test_reference_agrees_with_the_numpy_backend(name, data):
    info = OPDB[name]
    for dtype in info.dtypes:
        sample = data.draw(info.samples(DTYPES[dtype]), label=f"sample {dtype}")
        assert isinstance(sample, Sample)
        with ef.device("cpu"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got = info.fn(*_convert(sample.args), **_convert(sample.kwargs))
            with np.errstate(all="ignore"):
                want = info.ref(*_host(sample.args), **_host(sample.kwargs))
        _compare(info, sample, got, want)


GRAD_CASES = sorted(n for n in OPDB if OPDB[n].differentiable)


@pytest.mark.parametrize("name", GRAD_CASES)
@settings(max_examples=max(EXAMPLES - 1, 1), deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_gradient_samples_pass_the_gradient_check(name, data):
    info = OPDB[name]
    sample = data.draw(info.grad_samples(ef.float64), label="sample")
    args, kwargs = _convert(sample.args), _convert(sample.kwargs)
    flat, where = [], []  # the float tensors, and where each sits in args/kwargs

    def visit(value, path):
        if isinstance(value, ef.Tensor) and value.dtype.kind in "fc":
            flat.append(value)
            where.append(path)
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                visit(v, path + (i,))
    for i, a in enumerate(args):
        visit(a, ("args", i))
    for k, v in kwargs.items():
        visit(v, ("kwargs", k))
    assert flat, f"{name}: the gradient sample has no float array"

    def put(container, path, value):
        if len(path) == 1:
            if isinstance(container, tuple):
                return container[:path[0]] + (value,) + container[path[0] + 1:]
            if isinstance(container, dict):
                return {**container, path[0]: value}
            out = list(container)
            out[path[0]] = value
            return out
        inner = put(container[path[0]], path[1:], value)
        return put(container, path[:1], inner)

    def f(*ts):
        a, k = args, kwargs
        for t, path in zip(ts, where):
            if path[0] == "args":
                a = put(a, path[1:], t)
            else:
                k = put(k, path[1:], t)
        return info.fn(*a, **k)
    f.__name__ = name
    check_grads(f, flat, order=2)


ERROR_CASES = [(n, i) for n in sorted(OPDB) for i in range(len(OPDB[n].errors))]


@pytest.mark.parametrize("name, i", ERROR_CASES, ids=[f"{n}-{i}" for n, i in ERROR_CASES])
def test_error_cases_raise(name, i):
    case = OPDB[name].errors[i]
    cls = getattr(_errors, case.exc_type_name)
    with pytest.raises(cls) as info:
        OPDB[name].fn(*_convert(case.args), **_convert(case.kwargs))
    if case.match:
        assert re.search(case.match, str(info.value)), str(info.value)
