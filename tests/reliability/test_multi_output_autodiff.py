"""Ops with several outputs, or none, under both autodiff engines (issue #9): forward mode
against torch.func.jvp, and the rules that combine per-input contributions per output."""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch
from torch.func import jvp as torch_jvp

import eagerflow_core as ef
from eagerflow_core.autodiff.forward import _tangents

# torch.func warns about torch.jit.script on import of its internals; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script:DeprecationWarning")

rng = np.random.default_rng(9)
A = rng.standard_normal((4, 3))
SQUARE = rng.standard_normal((3, 3))
SYM = SQUARE + SQUARE.T
T_A, T_SQ = rng.standard_normal((4, 3)), rng.standard_normal((3, 3))
T_SYM = T_SQ + T_SQ.T


def _jvps(ef_fn, torch_fn, x, t):
    _, ours = ef.jvp(ef_fn, (ef.asarray(x),), (ef.asarray(t),))
    _, theirs = torch_jvp(torch_fn, (torch.tensor(x),), (torch.tensor(t),))
    return [o.numpy() for o in ours], [t.numpy(force=True) for t in theirs]


def test_jvp_of_eigh_matches_torch():
    ours, theirs = _jvps(ef.linalg.eigh, torch.linalg.eigh, SYM, T_SYM)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10, atol=1e-10)
    _, vecs = ef.linalg.eigh(ef.asarray(SYM))
    _, tvecs = torch.linalg.eigh(torch.tensor(SYM))
    sign = np.sign(np.sum(vecs.numpy() * tvecs.numpy(), axis=0))  # each vector's sign is free
    np.testing.assert_allclose(ours[1] * sign, theirs[1], rtol=1e-8, atol=1e-10)


def test_jvp_of_qr_matches_torch():
    ours, theirs = _jvps(ef.linalg.qr, torch.linalg.qr, A, T_A)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-8, atol=1e-10)


def test_jvp_of_svd_singular_values_matches_torch():
    ours, theirs = _jvps(lambda x: ef.linalg.svd(x, full_matrices=False),
                         lambda x: torch.linalg.svd(x, full_matrices=False), A, T_A)
    assert [o.shape for o in ours] == [(4, 3), (3,), (3, 3)]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-8, atol=1e-10)


def test_jvp_of_slogdet_matches_torch():
    ours, theirs = _jvps(ef.linalg.slogdet, torch.linalg.slogdet, SQUARE, T_SQ)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-10)
    np.testing.assert_array_equal(ours[0], 0.0)  # the sign is piecewise constant


def test_per_input_rules_of_a_multi_output_op_add_per_output():
    # Two inputs, two outputs: the contributions add output by output; the tuples used to be
    # concatenated (a 4-tuple for 2 outputs).
    x, y = ef.constant([1.0, 2.0]), ef.constant([3.0, 4.0])
    op = types.SimpleNamespace(jvp=("each", (lambda t, ans, a, b: (t, None),
                                             lambda t, ans, a, b: (t * 2.0, t * 3.0))))
    out = _tangents(op, (x, y), {}, (x, y), [ef.constant([1.0, 1.0]), ef.constant([10.0, 10.0])])
    assert type(out) is tuple and len(out) == 2
    np.testing.assert_array_equal(out[0].numpy(), [21.0, 21.0])
    np.testing.assert_array_equal(out[1].numpy(), [30.0, 30.0])


def test_recording_an_op_without_outputs_is_a_no_op():
    x = ef.constant([1.0, 2.0])
    with ef.GradientTape() as tape:
        tape.watch(x)
        tape._record(ef.exp.op, (x,), {}, ())  # an op of zero outputs used to IndexError
        y = ef.exp(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.exp([1.0, 2.0]), rtol=1e-6)


def test_grad_through_eigh_and_qr_matches_torch():
    x = ef.asarray(SYM)
    g = ef.grad(lambda m: ef.sum(ef.linalg.eigh(m)[0] ** 2))(x)
    tx = torch.tensor(SYM, requires_grad=True)
    (torch.linalg.eigh(tx)[0] ** 2).sum().backward()
    np.testing.assert_allclose(g.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("fn", [ef.unique_counts, ef.unique_inverse])
def test_jvp_through_an_integer_output_op_keeps_going(fn):
    out, tans = ef.jvp(lambda v: fn(v)[0] * 2.0, (ef.constant([1.0, 1.0, 2.0]),),
                       (ef.constant([1.0, 1.0, 1.0]),))
    np.testing.assert_array_equal(out.numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(tans.numpy(), [0.0, 0.0])  # unique is not differentiable
