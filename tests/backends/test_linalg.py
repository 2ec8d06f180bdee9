"""Linear algebra: matmul, tensordot, vecdot and the ``ef.linalg`` extension, on every backend.

The values of every function on every dtype (well-conditioned random matrices, decompositions
through what is unique about them: ``Q @ R``, ``U @ diag(S) @ Vh``, ``V diag(w) V^H``, the
unitarity of Q, U, V) are checked from the op database by tests/backends/test_ops.py
(``eagerflow_core/testing/opdb/_linalg.py``). This file holds what the database does not say:
promotion of mixed dtypes, result types, field names and dtypes, lifting of integers and 16-bit
floats, rtol arguments, special values, empty matrices, errors and the docstring examples.
"""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eagerflow_core as ef
from eagerflow_core.testing import TOLERANCES, assert_close, reference

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


# -- inverses, determinants, solving, decompositions ------------------------------------------

def test_det_special_values(device):
    assert_close(L.det(ef.zeros((2, 2))), np.array(0.0), dtype=ef.float32)
    assert_close(L.det(ef.zeros((3, 0, 0))), np.ones(3), dtype=ef.float32)  # the empty product
    sign, logabs = L.slogdet(ef.zeros((2, 2), dtype=ef.float64))
    assert sign.item() == 0.0 and logabs.item() == -np.inf


def test_solve_promotes_and_lifts(device):
    a = ef.constant([[2, 0], [0, 4]], dtype=ef.int32)
    assert_close(L.solve(a, ef.constant([2, 2])), np.array([1.0, 0.5]), dtype=ef.float32)
    assert_close(L.solve(a, ef.constant([2.0, 2.0], dtype=ef.float64)), np.array([1.0, 0.5]),
                 dtype=ef.float64)
    assert_close(L.solve(ef.astype(a, ef.float32), ef.constant([2j, 2.0])),
                 np.array([1j, 0.5]), dtype=ef.complex64)


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


@pytest.mark.parametrize("dtype", FLOATS + [ef.complex128], ids=str)
def test_decompositions_give_named_results_of_their_dtypes(device, dtype):
    """What the op database does not compare: result types and field names, the real dtype of
    eigenvalues, singular values and log-determinants, shapes per mode, triangular factors."""
    real = ef.float64 if dtype in (ef.float64, ef.complex128) else ef.float32
    rng = np.random.default_rng(0)
    a, tall = spd(rng, (2, 3, 3), dtype), tensor(_normal(rng, (4, 2), dtype), dtype)
    res = L.eigh(a)
    assert isinstance(res, L.EighResult) and res._fields == ("eigenvalues", "eigenvectors")
    assert (res.eigenvalues.dtype, res.eigenvectors.dtype) == (real, dtype)
    assert L.eigvalsh(a).dtype is real and res.eigenvectors.shape == (2, 3, 3)
    for mode, k in (("reduced", 2), ("complete", 4)):
        q, r = res = L.qr(tall, mode=mode)
        assert isinstance(res, L.QRResult) and res._fields == ("Q", "R")
        assert (q.shape, r.shape, q.dtype, r.dtype) == ((4, k), (k, 2), dtype, dtype)
        assert np.array_equal(reference(r), np.triu(reference(r))), "R is not upper triangular"
    for full, (uc, vr) in ((True, (4, 2)), (False, (2, 2))):
        res = L.svd(tall, full_matrices=full)
        assert isinstance(res, L.SVDResult) and res._fields == ("U", "S", "Vh")
        assert (res.U.shape, res.S.shape, res.Vh.shape) == ((4, uc), (2,), (vr, 2))
        assert (res.U.dtype, res.S.dtype, res.Vh.dtype) == (dtype, real, dtype)
    assert L.svdvals(tall).dtype is real
    res = L.slogdet(a)
    assert isinstance(res, L.SlogdetResult) and res._fields == ("sign", "logabsdet")
    assert (res.sign.dtype, res.logabsdet.dtype) == (dtype, real)
    for upper in (False, True):
        f = reference(L.cholesky(a, upper=upper))
        assert np.array_equal(f, np.triu(f) if upper else np.tril(f)), "not triangular"
    assert L.matrix_rank(a).dtype is ef.int64
    assert L.matrix_norm(a).dtype is real and L.vector_norm(a).dtype is real


def test_pinv_rtol(device):
    a = ef.constant([[1.0, 0.0], [0.0, 1e-3]], dtype=ef.float64)
    assert_close(L.pinv(a), np.diag([1.0, 1e3]), dtype=ef.float64)
    assert_close(L.pinv(a, rtol=1e-2), np.diag([1.0, 0.0]), dtype=ef.float64)
    stack = ef.asarray(np.stack([a.numpy()] * 2))
    got = L.pinv(stack, rtol=ef.constant([1e-2, 1e-4], dtype=ef.float64))
    assert_close(got, np.stack([np.diag([1.0, 0.0]), np.diag([1.0, 1e3])]), dtype=ef.float64)


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

STANDARD_LINALG = json.loads((Path(__file__).resolve().parents[1] / "data" /
                              "array_api_2024_12.json").read_text())["extensions"]["linalg"]
STANDARD_LINALG = sorted(STANDARD_LINALG["functions"])


def test_namespace_functions_are_named_and_share_the_main_namespace_ops():
    # (that every standard name exists is tests/core/test_registry.py's)
    for name in STANDARD_LINALG:
        fn = getattr(L, name)
        assert fn.__name__ == name and fn.__doc__, name
    for name in ("matmul", "matrix_transpose", "tensordot", "vecdot"):
        assert getattr(L, name) is getattr(ef, name), name


def test_docstring_examples_run():
    """The examples in the linalg docstrings hold (their functions live in eagerflow_core.linalg,
    where --doctest-modules does not look for them)."""
    runner = doctest.DocTestRunner()
    finder = doctest.DocTestFinder()
    for name in STANDARD_LINALG:
        for test in finder.find(getattr(L, name), name, globs={}):
            assert test.examples, f"{name} has no example"
            runner.run(test)
    assert runner.failures == 0 and runner.tries >= len(STANDARD_LINALG)
