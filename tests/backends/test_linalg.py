"""Linear algebra: matmul, tensordot, vecdot and the ``ef.linalg`` extension, on every backend.

Results are compared with NumPy computed in float64 from the very values the tensor holds
(after rounding to its dtype), on well-conditioned random matrices (``A @ A^H + n I`` for the
symmetric positive-definite ones, ``A + 2n I`` for general ones). Decompositions are checked by
their identities (``Q @ R == A``, ``U @ diag(S) @ Vh == A``, ``V diag(w) V^H == A``), never by
the signs or phases of vectors, which are not unique.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core.testing import TOLERANCES, assert_close, reference
from eagerflow_core.testing import strategies as st_ef

L = ef.linalg
FLOATS = [ef.float32, ef.float64, ef.complex64]
HALF = [ef.float16, ef.bfloat16]
# Factor on the per-dtype tolerance: LAPACK results carry a few roundings times the (small)
# condition number of the test matrices.
K = {"float16": 4, "bfloat16": 4, "float32": 100, "float64": 1000, "complex64": 100,
     "complex128": 1000}

# The device fixture only selects a device (the same for every example): nothing to reset.
_CHECKS = [*settings().suppress_health_check, HealthCheck.function_scoped_fixture]
prop = settings(suppress_health_check=_CHECKS)

seeds = st.integers(0, 2**32 - 1)
batches = st_ef.shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)
sides = st.integers(1, 5)


# -- helpers -----------------------------------------------------------------------------------

def _normal(rng, shape, dtype):
    x = rng.standard_normal(shape)
    if dtype.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x


def tensor(host, dtype):
    """A tensor of ``dtype`` from a float64/complex128 host array."""
    if dtype.kind in "iub":
        host = np.round(host.real)
    if dtype.kind == "u":
        host = np.abs(host)
    return ef.asarray(np.asarray(host).astype(dtype.numpy))


def general(rng, shape, dtype):
    """Square matrices far from singular: diagonally dominated."""
    n = shape[-1]
    return tensor(_normal(rng, shape, dtype) + 2 * n * np.eye(n), dtype)


def spd(rng, shape, dtype):
    """Symmetric (Hermitian) positive-definite matrices."""
    a = _normal(rng, shape, dtype)
    n = shape[-1]
    return tensor(a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n), dtype)


def H(a):
    """Conjugate transpose of the last two axes (NumPy)."""
    return np.conj(np.swapaxes(a, -1, -2))


def near(got, want, dtype, k=None):
    """NumPy arrays equal up to the dtype's tolerance, relative to the largest expected value."""
    r = TOLERANCES[dtype.name][0] * (K[dtype.name] if k is None else k)
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=r, atol=r * scale)


def close(actual, expected, dtype, k=None):
    """A tensor equal to a NumPy reference: dtype, shape and values."""
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    r = TOLERANCES[dtype.name][0] * (K[dtype.name] if k is None else k)
    assert_close(actual, expected, dtype=dtype, rtol=r, atol=r * scale)


# -- matmul, tensordot, vecdot -----------------------------------------------------------------

@pytest.mark.parametrize("dtype", [ef.float32, ef.float64, ef.complex64, ef.int32, ef.float16,
                                   ef.bfloat16])
@given(seed=seeds, batch=st_ef.broadcastable_shapes(2, max_dims=2, max_side=3),
       mkn=st.tuples(sides, sides, sides))
@prop
def test_matmul_batched(device, dtype, seed, batch, mkn):
    rng = np.random.default_rng(seed)
    m, k, n = mkn
    a = tensor(_normal(rng, batch[0] + (m, k), dtype), dtype)
    b = tensor(_normal(rng, batch[1] + (k, n), dtype), dtype)
    want = reference(a) @ reference(b)
    if dtype.kind in "iu":
        assert_close(ef.matmul(a, b), want, dtype=dtype)
    else:
        close(a @ b, want, dtype, k=2 if dtype in HALF else None)


def test_matmul_vectors_and_promotion(device):
    v = ef.constant([1.0, 2.0])
    m = ef.constant([[1, 2], [3, 4]], dtype=ef.int8)
    assert_close(ef.matmul(v, v), np.array(5.0), dtype=ef.float32)
    assert_close(ef.matmul(m, v), np.array([5.0, 11.0]), dtype=ef.float32)
    assert_close(ef.matmul(v, m), np.array([7.0, 10.0]), dtype=ef.float32)
    assert_close(ef.matmul(m, m), np.array([[7, 10], [15, 22]]), dtype=ef.int8)


def test_matmul_errors(device):
    with pytest.raises(ef.ShapeError, match=r"matmul.*\(2, 3\).*\(2, 3\)"):
        ef.matmul(ef.ones((2, 3)), ef.ones((2, 3)))
    with pytest.raises(ef.DTypeError, match="matmul.*bool"):
        ef.matmul(ef.ones((2, 2), dtype=ef.bool), ef.ones((2, 2), dtype=ef.bool))


@st.composite
def tensordot_case(draw):
    """Shapes and axes: (x1 shape, x2 shape, axes as an int or as two sequences)."""
    free1 = draw(st_ef.shapes(0, 2, 1, 3))
    free2 = draw(st_ef.shapes(0, 2, 1, 3))
    summed = draw(st_ef.shapes(0, 2, 1, 3))
    if draw(st.booleans()):
        return free1 + summed, summed + free2, len(summed)
    s1 = free1 + summed
    s2 = summed + free2
    p1 = draw(st.permutations(range(len(s1))))
    p2 = draw(st.permutations(range(len(s2))))
    ax1 = [p1.index(len(free1) + i) for i in range(len(summed))]
    ax2 = [p2.index(i) for i in range(len(summed))]
    if draw(st.booleans()):  # negative axes count from the end
        ax1 = [a - len(s1) for a in ax1]
    return tuple(s1[i] for i in p1), tuple(s2[i] for i in p2), (ax1, ax2)


@pytest.mark.parametrize("dtype", [ef.float32, ef.float64, ef.complex64, ef.int64])
@given(seed=seeds, case=tensordot_case())
@prop
def test_tensordot(device, dtype, seed, case):
    rng = np.random.default_rng(seed)
    s1, s2, axes = case
    a = tensor(_normal(rng, s1, dtype), dtype)
    b = tensor(_normal(rng, s2, dtype), dtype)
    want = np.tensordot(reference(a), reference(b), axes=axes)
    got = ef.tensordot(a, b, axes=axes)
    if dtype.kind in "iu":
        assert_close(got, want, dtype=dtype)
    else:
        close(got, want, dtype)
    assert L.tensordot is ef.tensordot


def test_tensordot_default_and_outer(device):
    a = ef.reshape(ef.arange(6.0), (2, 3))
    assert_close(ef.tensordot(a, a), np.array(55.0), dtype=ef.float32)  # axes=2: sum of squares
    assert ef.tensordot(a, a, axes=0).shape == (2, 3, 2, 3)
    assert_close(ef.tensordot(a, a, axes=(0, 0)), np.tensordot(a.numpy(), a.numpy(), axes=(0, 0)),
                 dtype=ef.float32)  # one int per side, as NumPy takes it
    assert_close(ef.tensordot(ef.constant([1, 2], dtype=ef.int8), ef.constant([0.5, 1.0]),
                              axes=1), np.array(2.5), dtype=ef.float32)


def test_tensordot_errors(device):
    a = ef.ones((2, 3))
    with pytest.raises(ef.InvalidArgumentError, match=r"tensordot.*>= 0.*-1"):
        ef.tensordot(a, a, axes=-1)  # NumPy would silently give the outer product
    with pytest.raises(ef.ShapeError, match=r"tensordot.*axis 1 of shape \(2, 3\) has 3.*"
                                            r"axis 0 of shape \(2, 3\) has 2"):
        ef.tensordot(a, a, axes=1)
    with pytest.raises(ef.ShapeError, match=r"tensordot.*not broadcast"):
        ef.tensordot(ef.ones((3, 3)), ef.ones((1, 3)), axes=([0], [0]))
    with pytest.raises(ef.AxisError, match=r"tensordot.*axes=3"):
        ef.tensordot(a, a, axes=3)
    with pytest.raises(ef.AxisError, match="tensordot.*equal length"):
        ef.tensordot(a, a, axes=([0, 1], [0]))
    with pytest.raises(ef.InvalidArgumentError, match="tensordot.*pair of sequences"):
        ef.tensordot(a, a, axes="x")
    with pytest.raises(ef.InvalidArgumentError, match="tensordot.*pair of sequences"):
        ef.tensordot(a, a, axes=([0], [0], [1]))
    with pytest.raises(ef.InvalidArgumentError, match="tensordot.*pair of sequences.*True"):
        ef.tensordot(a, a, axes=True)
    with pytest.raises(ef.DTypeError, match="tensordot.*bool"):
        ef.tensordot(ef.ones(2, dtype=ef.bool), ef.ones(2, dtype=ef.bool), axes=1)


@pytest.mark.parametrize("dtype", [ef.float32, ef.float64, ef.complex64, ef.int32, ef.float16])
@given(seed=seeds, shapes=st_ef.broadcastable_shapes(2, min_dims=0, max_dims=3, max_side=3),
       n=sides, axis_pick=st.integers(0, 3))
@prop
def test_vecdot(device, dtype, seed, shapes, n, axis_pick):
    rng = np.random.default_rng(seed)
    ndim = min(len(shapes[0]), len(shapes[1])) + 1
    axis = -1 - axis_pick % ndim
    s1, s2 = list(shapes[0]), list(shapes[1])
    s1.insert(len(s1) + axis + 1, n)
    s2.insert(len(s2) + axis + 1, n)
    a = tensor(_normal(rng, tuple(s1), dtype), dtype)
    b = tensor(_normal(rng, tuple(s2), dtype), dtype)
    x, y = reference(a), reference(b)
    want = np.sum(np.conj(np.moveaxis(x, axis, -1)) * np.moveaxis(y, axis, -1), axis=-1)
    got = ef.vecdot(a, b, axis=axis)
    if dtype.kind in "iu":
        assert_close(got, want, dtype=dtype)
    else:
        close(got, want, dtype, k=2 if dtype in HALF else None)
    assert L.vecdot is ef.vecdot


def test_vecdot_conjugates_x1_and_promotes(device):
    a = ef.constant([1j, 2.0])
    b = ef.constant([1j, 1.0])
    assert_close(ef.vecdot(a, b), np.array(3.0 + 0j), dtype=ef.complex64)  # conj(i)*i = 1
    m = ef.constant([[1, 2], [3, 4]], dtype=ef.int16)
    assert_close(ef.vecdot(m, ef.constant([[1.0], [1.0]]), axis=0), np.array([4.0, 6.0]),
                 dtype=ef.float32)
    assert_close(ef.vecdot(m, m, axis=1), np.array([5, 25]), dtype=ef.int16)


def test_vecdot_errors(device):
    with pytest.raises(ef.ShapeError, match=r"vecdot.*\(2, 3\).*3.*\(2,\).*2"):
        ef.vecdot(ef.ones((2, 3)), ef.ones(2))
    with pytest.raises(ef.AxisError, match=r"vecdot.*axis 0.*\(2, 3\).*\(3,\).*negative"):
        ef.vecdot(ef.ones((2, 3)), ef.ones(3), axis=0)
    with pytest.raises(ef.AxisError, match=r"vecdot.*axis -2.*-1\.\.-1"):
        ef.vecdot(ef.ones((2, 3)), ef.ones(3), axis=-2)
    with pytest.raises(ef.ShapeError, match=r"vecdot.*differ"):
        ef.vecdot(ef.ones((2, 3)), ef.ones((2, 1)))  # the contracted axis is not broadcast


# -- inverses, determinants, solving -----------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS + [ef.complex128])
@given(seed=seeds, batch=batches, n=sides)
@prop
def test_inv(device, dtype, seed, batch, n):
    a = general(np.random.default_rng(seed), batch + (n, n), dtype)
    x = reference(a)
    got = L.inv(a)
    close(got, np.linalg.inv(x), dtype)
    near(x @ reference(got), np.broadcast_to(np.eye(n), x.shape), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@given(seed=seeds, batch=batches, n=sides)
@prop
def test_det_and_slogdet(device, dtype, seed, batch, n):
    a = general(np.random.default_rng(seed), batch + (n, n), dtype)
    want = np.linalg.det(reference(a))
    close(L.det(a), want, dtype)
    res = L.slogdet(a)
    assert isinstance(res, L.SlogdetResult) and res._fields == ("sign", "logabsdet")
    close(res.sign, want / np.abs(want), dtype)
    close(res.logabsdet, np.log(np.abs(want)), ef.float64 if dtype is ef.float64 else ef.float32,
          k=K[dtype.name])
    assert res.logabsdet.dtype is (ef.float64 if dtype is ef.float64 else ef.float32)


def test_det_special_values(device):
    assert_close(L.det(ef.zeros((2, 2))), np.array(0.0), dtype=ef.float32)
    assert_close(L.det(ef.zeros((3, 0, 0))), np.ones(3), dtype=ef.float32)  # the empty product
    sign, logabs = L.slogdet(ef.zeros((2, 2), dtype=ef.float64))
    assert sign.item() == 0.0 and logabs.item() == -np.inf


@pytest.mark.parametrize("dtype", FLOATS)
@given(seed=seeds, batches_=st_ef.broadcastable_shapes(2, min_dims=0, max_dims=2, max_side=3),
       n=sides, k=st.integers(0, 3))
@prop
def test_solve(device, dtype, seed, batches_, n, k):
    """x2 of shape (n,) is one vector for every matrix; otherwise a stack of (n, k) matrices
    whose batch broadcasts with x1's (k = 0: a vector)."""
    rng = np.random.default_rng(seed)
    a = general(rng, batches_[0] + (n, n), dtype)
    b_shape = (n,) if k == 0 else batches_[1] + (n, k)
    b = tensor(_normal(rng, b_shape, dtype), dtype)
    x, y = reference(a), reference(b)
    got = L.solve(a, b)
    want = np.linalg.solve(x, y)  # NumPy 2 follows the standard here
    close(got, want, dtype)
    sol = reference(got)
    lhs = x @ sol[..., None] if k == 0 else x @ sol
    near(lhs, np.broadcast_to(y[..., None] if k == 0 else y, lhs.shape), dtype)


def test_solve_promotes_and_lifts(device):
    a = ef.constant([[2, 0], [0, 4]], dtype=ef.int32)
    assert_close(L.solve(a, ef.constant([2, 2])), np.array([1.0, 0.5]), dtype=ef.float32)
    assert_close(L.solve(a, ef.constant([2.0, 2.0], dtype=ef.float64)), np.array([1.0, 0.5]),
                 dtype=ef.float64)
    assert_close(L.solve(ef.astype(a, ef.float32), ef.constant([2j, 2.0])),
                 np.array([1j, 0.5]), dtype=ef.complex64)


@pytest.mark.parametrize("dtype", FLOATS)
@given(seed=seeds, batch=batches, n=sides, p=st.integers(-3, 4))
@prop
def test_matrix_power(device, dtype, seed, batch, n, p):
    a = general(np.random.default_rng(seed), batch + (n, n), dtype)
    x = reference(a) / (2 * n)  # keep powers near 1 in size
    a = tensor(x, dtype)
    close(L.matrix_power(a, p), np.linalg.matrix_power(reference(a), p), dtype)


def test_inverse_errors(device):
    with pytest.raises(ef.ShapeError, match=r"linalg\.inv.*square.*\(2, 3\)"):
        L.inv(ef.ones((2, 3)))
    with pytest.raises(ef.ShapeError, match=r"linalg\.det.*\(3,\)"):
        L.det(ef.ones(3))
    with pytest.raises(ef.InvalidArgumentError, match=r"linalg\.inv.*[Ss]ingular.*pinv") as info:
        L.inv(ef.constant([[1.0, 2.0], [2.0, 4.0]]))
    assert isinstance(info.value, ValueError) and "float32[2, 2]" in str(info.value)
    with pytest.raises(ef.InvalidArgumentError, match=r"linalg\.inv.*[Ss]ingular"):
        L.inv(tensor(np.stack([np.eye(2), np.zeros((2, 2))]), ef.float32))  # one of a stack
    with pytest.raises(ef.InvalidArgumentError, match=r"linalg\.solve.*[Ss]ingular.*pinv"):
        L.solve(ef.zeros((2, 2)), ef.ones(2))
    with pytest.raises(ef.ShapeError, match=r"linalg\.solve.*\(3,\).*2.*\(2, 2\)"):
        L.solve(ef.eye(2), ef.ones(3))
    with pytest.raises(ef.ShapeError, match=r"linalg\.solve.*\(\.\.\., 2, k\).*\(3, 1\)"):
        L.solve(ef.eye(2), ef.ones((3, 1)))
    with pytest.raises(ef.ShapeError, match=r"linalg\.solve.*batch \(2,\).*batch \(3,\)"):
        L.solve(ef.ones((2, 2, 2)), ef.ones((3, 2, 1)))
    with pytest.raises(ef.ShapeError, match=r"linalg\.solve.*square.*\(2, 3\)"):
        L.solve(ef.ones((2, 3)), ef.ones(2))
    with pytest.raises(ef.InvalidArgumentError, match=r"matrix_power.*[Ss]ingular"):
        L.matrix_power(ef.zeros((2, 2)), -1)
    with pytest.raises(ef.InvalidArgumentError, match=r"matrix_power.*n must be an int.*1\.5"):
        L.matrix_power(ef.eye(2), 1.5)
    with pytest.raises(ef.ShapeError, match=r"matrix_power.*\(2, 3\)"):
        L.matrix_power(ef.ones((2, 3)), 2)


# -- decompositions ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("upper", [False, True])
@given(seed=seeds, batch=batches, n=sides)
@prop
def test_cholesky(device, dtype, upper, seed, batch, n):
    a = spd(np.random.default_rng(seed), batch + (n, n), dtype)
    x = reference(a)
    c = L.cholesky(a, upper=upper)
    assert c.dtype is dtype and c.shape == a.shape
    f = reference(c)
    tri = np.triu(f) if upper else np.tril(f)
    assert np.array_equal(f, tri), "the factor is not triangular"
    near(H(f) @ f if upper else f @ H(f), x, dtype)
    close(c, np.linalg.cholesky(x, upper=upper), dtype)  # unique: positive real diagonal


@pytest.mark.parametrize("dtype", FLOATS)
@given(seed=seeds, batch=batches, n=sides)
@prop
def test_eigh_and_eigvalsh(device, dtype, seed, batch, n):
    a = spd(np.random.default_rng(seed), batch + (n, n), dtype)
    x = reference(a)
    res = L.eigh(a)
    assert isinstance(res, L.EighResult) and res._fields == ("eigenvalues", "eigenvectors")
    w, v = res
    real = ef.float64 if dtype is ef.float64 else ef.float32
    want = np.linalg.eigvalsh(x)
    close(w, want, real, k=K[dtype.name])
    assert v.dtype is dtype and v.shape == a.shape
    vv = reference(v)
    near(vv @ (reference(w)[..., None] * H(vv)), x, dtype)  # V diag(w) V^H == A
    near(H(vv) @ vv, np.broadcast_to(np.eye(n), x.shape), dtype)
    close(L.eigvalsh(a), want, real, k=K[dtype.name])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode", ["reduced", "complete"])
@given(seed=seeds, batch=batches, m=sides, n=sides)
@prop
def test_qr(device, dtype, mode, seed, batch, m, n):
    a = tensor(_normal(np.random.default_rng(seed), batch + (m, n), dtype), dtype)
    x = reference(a)
    res = L.qr(a, mode=mode)
    assert isinstance(res, L.QRResult) and res._fields == ("Q", "R")
    k = m if mode == "complete" else min(m, n)
    assert res.Q.shape == batch + (m, k) and res.R.shape == batch + (k, n)
    assert res.Q.dtype is dtype and res.R.dtype is dtype
    q, r = reference(res.Q), reference(res.R)
    near(q @ r, x, dtype)
    near(H(q) @ q, np.broadcast_to(np.eye(k), batch + (k, k)), dtype)
    assert np.array_equal(r, np.triu(r)), "R is not upper triangular"


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("full", [True, False])
@given(seed=seeds, batch=batches, m=sides, n=sides)
@prop
def test_svd_and_svdvals(device, dtype, full, seed, batch, m, n):
    a = tensor(_normal(np.random.default_rng(seed), batch + (m, n), dtype), dtype)
    x = reference(a)
    res = L.svd(a, full_matrices=full)
    assert isinstance(res, L.SVDResult) and res._fields == ("U", "S", "Vh")
    k = min(m, n)
    u_cols, v_rows = (m, n) if full else (k, k)
    assert res.U.shape == batch + (m, u_cols) and res.Vh.shape == batch + (v_rows, n)
    real = ef.float64 if dtype is ef.float64 else ef.float32
    assert (res.U.dtype, res.S.dtype, res.Vh.dtype) == (dtype, real, dtype)
    want = np.linalg.svd(x, compute_uv=False)
    close(res.S, want, real, k=K[dtype.name])
    u, s, vh = reference(res.U), reference(res.S), reference(res.Vh)
    near((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], x, dtype)
    near(H(u) @ u, np.broadcast_to(np.eye(u_cols), batch + (u_cols, u_cols)), dtype)
    near(vh @ H(vh), np.broadcast_to(np.eye(v_rows), batch + (v_rows, v_rows)), dtype)
    close(L.svdvals(a), want, real, k=K[dtype.name])


@pytest.mark.parametrize("dtype", FLOATS)
@given(seed=seeds, batch=batches, m=sides, n=sides)
@prop
def test_pinv(device, dtype, seed, batch, m, n):
    # Full rank with singular values in [1, 2], so that the pseudo-inverse is well-conditioned.
    u, _, vh = np.linalg.svd(_normal(np.random.default_rng(seed), batch + (m, n), dtype),
                             full_matrices=False)
    k = min(m, n)
    a = tensor((u * np.linspace(2.0, 1.0, k)) @ vh, dtype)
    x = reference(a)
    got = L.pinv(a)
    close(got, np.linalg.pinv(x), dtype)
    near(x @ reference(got) @ x, x, dtype)


def test_pinv_rtol(device):
    a = ef.constant([[1.0, 0.0], [0.0, 1e-3]], dtype=ef.float64)
    assert_close(L.pinv(a), np.diag([1.0, 1e3]), dtype=ef.float64)
    assert_close(L.pinv(a, rtol=1e-2), np.diag([1.0, 0.0]), dtype=ef.float64)
    stack = ef.asarray(np.stack([a.numpy()] * 2))
    got = L.pinv(stack, rtol=ef.constant([1e-2, 1e-4], dtype=ef.float64))
    assert_close(got, np.stack([np.diag([1.0, 0.0]), np.diag([1.0, 1e3])]), dtype=ef.float64)


@pytest.mark.parametrize("dtype", FLOATS)
@given(seed=seeds, batch=batches, m=sides, n=sides, r=st.integers(0, 5))
@prop
def test_matrix_rank(device, dtype, seed, batch, m, n, r):
    """Integer factors keep the product exact in every dtype, so its rank is exact too."""
    rng = np.random.default_rng(seed)
    r = min(r, m, n)

    def ints(shape):
        return np.round(_normal(rng, shape, dtype) * 2)
    a = tensor(ints(batch + (m, r)) @ ints(batch + (r, n)), dtype)
    want = np.linalg.matrix_rank(reference(a))
    assert np.all(want <= r)
    assert_close(L.matrix_rank(a), np.asarray(want), dtype=ef.int64)
    assert_close(L.matrix_rank(a, rtol=1.0), np.zeros_like(want), dtype=ef.int64)


def test_matrix_rank_rtol_and_errors(device):
    a = ef.constant([[1.0, 0.0], [0.0, 1e-3]])
    assert L.matrix_rank(a).item() == 2
    assert L.matrix_rank(a, rtol=1e-2).item() == 1
    stack = ef.asarray(np.stack([a.numpy()] * 2))
    assert L.matrix_rank(stack, rtol=ef.constant([1e-2, 1e-4])).tolist() == [1, 2]
    # 16-bit floats are computed in float32, but the default rtol is their own eps: 1/3 in
    # float16 is off by 1e-4, which float32's eps would count as a second singular value.
    third = ef.asarray([[1.0, 1 / 3], [3.0, 1.0]], dtype=ef.float16)
    assert L.matrix_rank(third).item() == 1 and L.matrix_rank(ef.astype(third, ef.bfloat16)) == 1
    assert L.matrix_rank(ef.astype(third, ef.float32)).item() == 2
    with pytest.raises(ef.ShapeError, match=r"matrix_rank.*\(3,\)"):
        L.matrix_rank(ef.ones(3))  # NumPy would answer 1
    with pytest.raises(ef.InvalidArgumentError, match="matrix_rank.*rtol.*'big'"):
        L.matrix_rank(a, rtol="big")


def test_decomposition_errors(device):
    with pytest.raises(ef.InvalidArgumentError,
                       match=r"linalg\.cholesky.*positive-definite.*float32\[2, 2\]") as info:
        L.cholesky(ef.constant([[1.0, 2.0], [2.0, 1.0]]))
    assert isinstance(info.value, ValueError)
    with pytest.raises(ef.ShapeError, match=r"linalg\.cholesky.*\(3, 2\)"):
        L.cholesky(ef.ones((3, 2)))
    with pytest.raises(ef.ShapeError, match=r"linalg\.eigh.*square.*\(2, 3\)"):
        L.eigh(ef.ones((2, 3)))
    with pytest.raises(ef.ShapeError, match=r"linalg\.eigvalsh.*\(4,\)"):
        L.eigvalsh(ef.ones(4))
    with pytest.raises(ef.ShapeError, match=r"linalg\.qr.*\(4,\)"):
        L.qr(ef.ones(4))
    with pytest.raises(ef.InvalidArgumentError, match=r"linalg\.qr.*'reduced' or 'complete'.*'r'"):
        L.qr(ef.eye(2), mode="r")
    with pytest.raises(ef.ShapeError, match=r"linalg\.svd.*\(4,\)"):
        L.svd(ef.ones(4))
    with pytest.raises(ef.ShapeError, match=r"linalg\.svdvals.*\(\)"):
        L.svdvals(ef.ones(()))
    with pytest.raises(ef.ShapeError, match=r"linalg\.pinv.*\(4,\)"):
        L.pinv(ef.ones(4))


# -- norms -------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])
@given(seed=seeds, batch=batches, m=sides, n=sides, keepdims=st.booleans())
@settings(max_examples=10, suppress_health_check=_CHECKS)
def test_matrix_norm(device, dtype, ord, seed, batch, m, n, keepdims):
    a = tensor(_normal(np.random.default_rng(seed), batch + (m, n), dtype), dtype)
    want = np.linalg.matrix_norm(reference(a), ord=ord, keepdims=keepdims)
    real = ef.float64 if dtype is ef.float64 else ef.float32
    close(L.matrix_norm(a, ord=ord, keepdims=keepdims), want, real, k=K[dtype.name])


@st.composite
def norm_case(draw):
    shape = draw(st_ef.shapes(0, 3, 1, 4))
    axis = draw(st.none() | st.integers(-len(shape), len(shape) - 1) if shape else st.none())
    if shape and draw(st.booleans()):
        axis = tuple(draw(st.permutations(range(len(shape))))[:draw(st.integers(1, len(shape)))])
    return shape, axis


@pytest.mark.parametrize("dtype", FLOATS + [ef.float16, ef.int32])
@given(seed=seeds, case=norm_case(), keepdims=st.booleans(),
       ord=st.sampled_from([2, 1, np.inf, -np.inf, 0, 3, 0.5, -1]))
@prop
def test_vector_norm(device, dtype, seed, case, keepdims, ord):
    shape, axis = case
    a = tensor(3 * _normal(np.random.default_rng(seed), shape, dtype), dtype)
    x = reference(a)
    if ord in (-1, -np.inf) and np.any(x == 0):
        return  # a zero makes these orders 0 or a division by zero in the reference
    want = np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    real = {ef.float64: ef.float64, ef.float16: ef.float16}.get(dtype, ef.float32)
    close(L.vector_norm(a, axis=axis, keepdims=keepdims, ord=ord), want, real,
          k=4 if dtype is ef.float16 else K[real.name])


def test_norms_of_16_bit_floats_do_not_overflow(device):
    big = ef.full((4,), 300.0, dtype=ef.float16)  # 300**2 overflows float16
    assert_close(L.vector_norm(big), np.array(600.0), dtype=ef.float16)
    assert_close(L.matrix_norm(ef.reshape(big, (2, 2))), np.array(600.0), dtype=ef.float16)


def test_norm_errors(device):
    with pytest.raises(ef.InvalidArgumentError, match=r"matrix_norm.*ord.*'fro'.*got 3"):
        L.matrix_norm(ef.eye(2), ord=3)
    with pytest.raises(ef.InvalidArgumentError, match=r"vector_norm.*ord.*'fro'"):
        L.vector_norm(ef.ones(3), ord="fro")
    with pytest.raises(ef.ShapeError, match=r"matrix_norm.*\(3,\)"):
        L.matrix_norm(ef.ones(3))
    with pytest.raises(ef.AxisError, match=r"vector_norm.*axis 2"):
        L.vector_norm(ef.ones((2, 2)), axis=2)


# -- products and diagonals --------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [ef.float32, ef.float64, ef.complex64, ef.int64])
@given(seed=seeds, shapes=st_ef.broadcastable_shapes(2, min_dims=0, max_dims=2, max_side=3),
       axis_pick=st.integers(0, 2))
@prop
def test_cross(device, dtype, seed, shapes, axis_pick):
    rng = np.random.default_rng(seed)
    ndim = min(len(shapes[0]), len(shapes[1])) + 1
    axis = -1 - axis_pick % ndim
    s1, s2 = list(shapes[0]), list(shapes[1])
    s1.insert(len(s1) + axis + 1, 3)
    s2.insert(len(s2) + axis + 1, 3)
    a = tensor(_normal(rng, tuple(s1), dtype), dtype)
    b = tensor(_normal(rng, tuple(s2), dtype), dtype)
    want = np.cross(reference(a), reference(b), axis=axis)
    got = L.cross(a, b, axis=axis)
    if dtype.kind in "iu":
        assert_close(got, want, dtype=dtype)
    else:
        close(got, want, dtype)


def test_cross_errors(device):
    with pytest.raises(ef.ShapeError, match=r"linalg\.cross.*3-element.*\(2,\).*\(2,\)"):
        L.cross(ef.ones(2), ef.ones(2))
    with pytest.raises(ef.ShapeError, match=r"linalg\.cross.*3-element.*\(4, 3\).*\(3, 3\)"):
        L.cross(ef.ones((4, 3)), ef.ones((3, 3)), axis=-2)
    with pytest.raises(ef.AxisError, match=r"linalg\.cross.*axis 0.*negative"):
        L.cross(ef.ones((2, 3)), ef.ones(3), axis=0)
    with pytest.raises(ef.DTypeError, match=r"linalg\.cross.*bool"):
        L.cross(ef.ones(3, dtype=ef.bool), ef.ones(3, dtype=ef.bool))
    # A non-negative axis is fine when both inputs have the same rank.
    assert_close(L.cross(ef.eye(3), ef.eye(3), axis=0), np.zeros((3, 3)), dtype=ef.float32)


@pytest.mark.parametrize("dtypes", [(ef.float32, ef.float32), (ef.int8, ef.int64),
                                    (ef.int32, ef.float64), (ef.complex64, ef.float32)])
@given(seed=seeds, m=st.integers(0, 4), n=st.integers(0, 4))
@prop
def test_outer(device, dtypes, seed, m, n):
    rng = np.random.default_rng(seed)
    a = tensor(_normal(rng, (m,), dtypes[0]), dtypes[0])
    b = tensor(_normal(rng, (n,), dtypes[1]), dtypes[1])
    out_dtype = ef.result_type(*dtypes)
    got = L.outer(a, b)
    want = np.outer(reference(a), reference(b))
    if out_dtype.kind in "iu":
        assert_close(got, want, dtype=out_dtype)
    else:
        close(got, want, out_dtype, k=1)
    with pytest.raises(ef.ShapeError, match=r"linalg\.outer.*vectors.*\(1, 2\)"):
        L.outer(ef.ones((1, 2)), ef.ones(2))


@pytest.mark.parametrize("dtype", [ef.float32, ef.int8, ef.uint16, ef.bool, ef.complex64,
                                   ef.bfloat16])
@given(seed=seeds, batch=batches, m=st.integers(1, 4), n=st.integers(1, 4),
       offset=st.integers(-4, 4))
@prop
def test_diagonal_and_trace(device, dtype, seed, batch, m, n, offset):
    a = tensor(_normal(np.random.default_rng(seed), batch + (m, n), dtype) * 3, dtype)
    x = reference(a)
    assert_close(L.diagonal(a, offset=offset),
                 np.diagonal(x, offset=offset, axis1=-2, axis2=-1), dtype=dtype)
    want_dtype = {ef.int8: ef.int64, ef.uint16: ef.uint64, ef.bool: ef.int64}.get(dtype, dtype)
    want = np.trace(x, offset=offset, axis1=-2, axis2=-1)
    got = L.trace(a, offset=offset)
    if dtype.kind in "fc":
        close(got, want, dtype, k=2 if dtype in HALF else 1)
    else:
        assert_close(got, want.astype(np.int64) if dtype.kind == "b" else want, dtype=want_dtype)


def test_trace_dtype(device):
    a = ef.full((3, 3), 100, dtype=ef.int8)
    assert_close(L.trace(a), np.array(300), dtype=ef.int64)  # no int8 overflow
    assert_close(L.trace(a, dtype=ef.float64), np.array(300.0), dtype=ef.float64)
    assert L.trace(ef.eye(3, dtype=ef.float16)).dtype is ef.float16
    with pytest.raises(ef.DTypeError, match=r"linalg\.trace.*imaginary"):
        L.trace(ef.eye(2, dtype=ef.complex64), dtype=ef.float32)
    with pytest.raises(ef.ShapeError, match=r"linalg\.trace.*\(3,\)"):
        L.trace(ef.ones(3))
    with pytest.raises(ef.ShapeError, match=r"linalg\.diagonal.*\(3,\)"):
        L.diagonal(ef.ones(3))


def test_matrix_transpose(device):
    a = ef.reshape(ef.arange(12), (2, 2, 3))
    assert_close(L.matrix_transpose(a), np.swapaxes(a.numpy(), -1, -2), dtype=ef.int64)
    assert L.matmul is ef.matmul and L.matrix_transpose is ef.matrix_transpose
    with pytest.raises(ef.ShapeError, match=r"matrix_transpose.*\(3,\)"):
        L.matrix_transpose(ef.ones(3))


# -- dtypes across the extension ---------------------------------------------------------------

FLOAT_ONLY = {
    "inv": lambda x: L.inv(x), "det": lambda x: L.det(x), "cholesky": lambda x: L.cholesky(x),
    "solve": lambda x: L.solve(x, x), "pinv": lambda x: L.pinv(x),
    "matrix_power": lambda x: L.matrix_power(x, -2), "qr": lambda x: L.qr(x).R,
    "slogdet": lambda x: L.slogdet(x).logabsdet, "eigh": lambda x: L.eigh(x).eigenvalues,
    "eigvalsh": lambda x: L.eigvalsh(x), "svd": lambda x: L.svd(x).S,
    "svdvals": lambda x: L.svdvals(x), "matrix_norm": lambda x: L.matrix_norm(x, ord="nuc"),
    "vector_norm": lambda x: L.vector_norm(x),
}
_SPD = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])


def _reference_op(name, x):
    """The same function in NumPy float64, on a reconstruction-invariant quantity."""
    return {"qr": lambda: np.abs(np.linalg.qr(x).R), "slogdet": lambda: np.linalg.slogdet(x)[1],
            "eigh": lambda: np.linalg.eigvalsh(x), "svd": lambda: np.linalg.svdvals(x),
            "solve": lambda: np.linalg.solve(x, x),
            "matrix_norm": lambda: np.linalg.matrix_norm(x, ord="nuc"),
            "matrix_power": lambda: np.linalg.matrix_power(x, -2)}.get(
        name, lambda: getattr(np.linalg, name)(x))()


@pytest.mark.parametrize("name", sorted(FLOAT_ONLY))
@pytest.mark.parametrize("dtype", HALF + [ef.int32, ef.bool])
def test_float_only_functions_lift_ints_and_take_16_bit_floats(device, name, dtype):
    """Integers and bool become float32; float16 and bfloat16 (which NumPy's LAPACK lacks)
    are computed in float32 and come back in their own dtype."""
    host = np.eye(3) if dtype is ef.bool else _SPD
    x = tensor(host, dtype)
    got = FLOAT_ONLY[name](x)
    want_dtype = dtype if dtype in HALF else ef.float32
    assert got.dtype is want_dtype, f"{name}: {got.dtype}"
    want = _reference_op(name, reference(x).astype(np.float64))
    value = np.abs(reference(got)) if name == "qr" else reference(got)
    near(value, want, want_dtype, k=4 if dtype in HALF else 100)


@pytest.mark.parametrize("name", ["svdvals", "eigvalsh", "matrix_norm", "vector_norm"])
def test_complex_inputs_give_real_results(device, name):
    x = ef.astype(ef.asarray(_SPD), ef.complex128)
    assert FLOAT_ONLY[name](x).dtype is ef.float64
    assert FLOAT_ONLY[name](ef.astype(x, ef.complex64)).dtype is ef.float32


def test_empty_matrices(device):
    assert L.inv(ef.zeros((0, 0))).shape == (0, 0)
    assert L.inv(ef.zeros((0, 3, 3))).shape == (0, 3, 3)
    assert L.eigvalsh(ef.zeros((2, 0, 0))).shape == (2, 0)
    assert L.matrix_norm(ef.zeros((0, 0))).item() == 0.0
    assert L.solve(ef.zeros((0, 2, 2)), ef.zeros(2)).shape == (0, 2)


# -- the namespace -----------------------------------------------------------------------------

STANDARD_LINALG = {"cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul",
                   "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "outer",
                   "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "tensordot", "trace",
                   "vecdot", "vector_norm"}


def test_namespace_has_every_standard_function():
    assert STANDARD_LINALG <= set(L.__all__)
    for name in STANDARD_LINALG:
        fn = getattr(L, name)
        assert callable(fn) and fn.__name__ == name and fn.__doc__, name
        assert fn.op.name in (name, f"linalg.{name}"), name
    assert {"tensordot", "vecdot", "matmul", "matrix_transpose"} <= set(ef.__all__)


def test_docstring_examples_run():
    """The examples in the linalg docstrings hold (their functions live in eagerflow_core.linalg,
    where --doctest-modules does not look for them)."""
    runner = doctest.DocTestRunner()
    finder = doctest.DocTestFinder()
    for name in sorted(STANDARD_LINALG):
        for test in finder.find(getattr(L, name), name, globs={}):
            assert test.examples, f"{name} has no example"
            runner.run(test)
    assert runner.failures == 0 and runner.tries >= len(STANDARD_LINALG)
