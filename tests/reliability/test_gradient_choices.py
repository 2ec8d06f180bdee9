"""Deliberate gradient choices at points where the derivative is a choice (issue #9, item 9):
maximum/minimum ties (split as PyTorch and JAX do), and exactly where `where`'s masked
cotangent gives 0 instead of NaN (docs/gradients.md, "where without NaN")."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import eagerflow_core as ef

# sqrt of a negative in the forward pass warns as NumPy does (docs/errors.md): expected here.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

X = [1.0, 2.0, 3.0, -0.0, 5.0]
Y = [1.0, 3.0, 2.0, 0.0, 5.0]  # ties at 0, 3 (-0 == 0) and 4


def _torch_grads(fn, x, y, weights):
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    (fn(tx, ty) * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    return tx.grad.numpy(), ty.grad.numpy()


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_ties_split_the_gradient_as_torch_does(name):
    w = [1.0, 2.0, 4.0, 8.0, 16.0]
    weights = ef.constant(w, dtype=ef.float64)
    gx, gy = ef.grad(lambda a, b: ef.sum(getattr(ef, name)(a, b) * weights), argnums=(0, 1))(
        ef.constant(X, dtype=ef.float64), ef.constant(Y, dtype=ef.float64))
    tx, ty = _torch_grads(getattr(torch, name), X, Y, w)
    np.testing.assert_array_equal(gx.numpy(), tx)
    np.testing.assert_array_equal(gy.numpy(), ty)
    np.testing.assert_array_equal(gx.numpy()[[0, 3, 4]], [0.5, 4.0, 8.0])  # the split itself


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_ties_split_under_broadcasting_and_forward_mode(name):
    fn = getattr(ef, name)
    x = ef.constant([[1.0, 2.0], [3.0, 2.0]], dtype=ef.float64)
    y = ef.constant([2.0, 2.0], dtype=ef.float64)  # broadcast over rows
    gx, gy = ef.grad(lambda a, b: ef.sum(fn(a, b)), argnums=(0, 1))(x, y)
    tx, ty = (torch.tensor(v.numpy(), requires_grad=True) for v in (x, y))
    getattr(torch, name)(tx, ty).sum().backward()
    np.testing.assert_array_equal(gx.numpy(), tx.grad.numpy())
    np.testing.assert_array_equal(gy.numpy(), ty.grad.numpy())
    # Forward mode: at a tie the tangent is the mean of the inputs' tangents (torch's rule).
    _, t = ef.jvp(lambda a, b: fn(a, b), (ef.constant([2.0, 1.0]), ef.constant([2.0, 0.0])),
                  (ef.constant([1.0, 1.0]), ef.constant([3.0, 5.0])))
    np.testing.assert_array_equal(t.numpy(), [2.0, 1.0 if name == "maximum" else 5.0])


def test_max_of_x_with_itself_keeps_the_whole_gradient():
    g = ef.grad(lambda a: ef.sum(ef.maximum(a, a) * 3.0))(ef.constant([1.0, -2.0]))
    np.testing.assert_array_equal(g.numpy(), [3.0, 3.0])


# -- where: when the masked cotangent holds, and when it does not ----------------------------

XS = ef.constant([-1.0, 0.0, 4.0, 9.0])


def _torch_where_grad(branch):
    tx = torch.tensor(XS.numpy(), requires_grad=True)
    torch.where(tx > 0, branch(tx), torch.zeros(())).sum().backward()
    return tx.grad.numpy()


@pytest.mark.parametrize("branch, ef_branch", [
    (lambda v: torch.sqrt(v), lambda v: ef.sqrt(v)),
    (lambda v: torch.log(torch.sqrt(v) * 2.0) + v, lambda v: ef.log(ef.sqrt(v) * 2.0) + v),
], ids=["sqrt", "elementwise chain"])
def test_the_mask_holds_through_elementwise_ops(branch, ef_branch):
    g = ef.grad(lambda x: ef.sum(ef.where(x > 0, ef_branch(x), 0.0)))(XS).numpy()
    theirs = _torch_where_grad(branch)
    assert np.isnan(theirs[:2]).all()  # PyTorch: 0 * inf and 0 * nan
    np.testing.assert_array_equal(g[:2], [0.0, 0.0])  # eagerflow: the exact 0
    np.testing.assert_allclose(g[2:], theirs[2:], rtol=1e-6)


@pytest.mark.parametrize("branch, ef_branch", [
    (lambda v: torch.reshape(torch.sqrt(v), (2, 2)).reshape(4),
     lambda v: ef.reshape(ef.reshape(ef.sqrt(v), (2, 2)), (4,))),
    (lambda v: torch.sqrt(v)[[0, 1, 2, 3]], lambda v: ef.sqrt(v)[ef.constant([0, 1, 2, 3])]),
    (lambda v: torch.sqrt(v).to(torch.float64).to(torch.float32),
     lambda v: ef.astype(ef.astype(ef.sqrt(v), ef.float64), ef.float32)),
], ids=["reshape", "index", "astype"])
def test_the_mask_stops_at_a_general_op_and_nan_comes_back(branch, ef_branch):
    # Documented: a reshape, an index or any other op that is not elementwise (unary/binary)
    # between where and sqrt ends the mask; the result is then PyTorch's, NaN included.
    g = ef.grad(lambda x: ef.sum(ef.where(x > 0, ef_branch(x), 0.0)))(XS).numpy()
    np.testing.assert_allclose(g, _torch_where_grad(branch), rtol=1e-6)
    assert np.isnan(g[:2]).all()
    # The documented remedy, the double where, gives 0 again.
    safe = ef.grad(lambda x: ef.sum(ef.where(x > 0, ef_branch(ef.where(x > 0, x, 1.0)), 0.0)))
    np.testing.assert_array_equal(safe(XS).numpy()[:2], [0.0, 0.0])
