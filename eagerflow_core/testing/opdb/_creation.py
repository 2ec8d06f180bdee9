"""Creation ops. Those that make a tensor from nothing take no arrays: their samples carry a
shape and values, and ``kwargs["dtype"]`` is the dtype under test (the runner makes the device
under test the default one). astype, meshgrid, tril and triu take tensors as usual.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from hypothesis import strategies as st

import eagerflow_core as ef

from ..._dtypes import float64
from ._base import ALL, ErrorCase, OpInfo, Sample, arrays, grad_shapes, kinds, lift, shapes


def _fill(dtype):
    """A Python scalar of the dtype's kind, exact in it and within its range."""
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind == "u":
        return st.integers(0, 100)
    if dtype.kind == "i":
        return st.integers(-100, 100)
    real = st.sampled_from([0.0, -0.0, 1.0, -2.5, 0.375, 100.0, np.inf])
    return st.builds(complex, real, real) if dtype.kind == "c" else real


@st.composite
def _shaped(draw, dtype):
    return Sample((draw(shapes()),), {"dtype": dtype})


@st.composite
def _full_samples(draw, dtype):
    return Sample((draw(shapes()), draw(_fill(dtype))), {"dtype": dtype})


@st.composite
def _arange_samples(draw, dtype):
    """Whole numbers (and halves for floating dtypes): every value is exact in the dtype, so
    the length (ceil((stop - start) / step)) has no rounding to argue about."""
    if dtype.kind == "u":
        start, stop = draw(st.integers(0, 20)), draw(st.integers(0, 20))
    else:
        start, stop = draw(st.integers(-10, 10)), draw(st.integers(-10, 10))
    step = draw(st.sampled_from([1, 2, 3, -1, -2]))
    if dtype.kind in "fc" and draw(st.booleans()):
        start, stop, step = start / 2, stop / 2, step / 2
    if draw(st.integers(0, 3)) == 0:  # the one-argument form: [0, start)
        return Sample((abs(start),), {"dtype": dtype})
    return Sample((start, stop, step), {"dtype": dtype})


def _arange_ref(start, stop=None, step=1, *, dtype):
    if stop is None:
        start, stop = 0, start
    return np.arange(start, stop, step, dtype=np.float64)


@st.composite
def _linspace_samples(draw, dtype):
    vals = st.sampled_from([-3.0, -1.0, 0.0, 0.5, 2.0, 10.0])
    start, stop = draw(vals), draw(vals)
    if dtype.kind == "c":
        start, stop = complex(start, draw(vals)), complex(stop, draw(vals))
    return Sample((start, stop), {"num": draw(st.integers(0, 6)), "dtype": dtype,
                                  "endpoint": draw(st.booleans())})


def _linspace_ref(start, stop, *, num, dtype, endpoint=True):
    return np.linspace(start, stop, num, endpoint=endpoint)


@st.composite
def _eye_samples(draw, dtype):
    n = draw(st.integers(0, 4))
    m = draw(st.none() | st.integers(0, 4))
    return Sample((n, m), {"k": draw(st.integers(-4, 4)), "dtype": dtype})


@st.composite
def _asarray_samples(draw, dtype):
    """Nested Python lists (what a user passes), from an array of the dtype."""
    host = draw(arrays(dtype, draw(shapes(max_dims=2))))
    return Sample((host.astype(np.float64).tolist() if dtype.name == "bfloat16" else
                   host.tolist(),), {"dtype": dtype})


def _asarray_ref(obj, *, dtype):
    return np.asarray(obj, dtype=np.complex128 if dtype.kind == "c" else
                      np.float64 if dtype.kind == "f" else dtype.numpy)


# -- astype --------------------------------------------------------------------------------------

def _cast_ok(src, dst) -> bool:
    return not (src.kind == "c" and dst.kind != "c")  # dropping the imaginary part is refused


# The other side of a cast is one of these, which every backend has: a cast draws no dtype
# that the runner, which skips the dtypes a backend lacks, did not choose.
_COMMON = (ef.bool, ef.int32, ef.float32, ef.complex64)


@st.composite
def _astype_samples(draw, dtype, grad=False):
    if grad:
        target = draw(st.sampled_from([ef.float64, ef.complex128]))
        return Sample((draw(arrays(float64, draw(grad_shapes())), label="x"), target))
    other = draw(st.sampled_from([d for d in _COMMON if d.kind != "c" or dtype.kind == "c"]),
                 label="other dtype")
    src, dst = (dtype, other) if draw(st.booleans(), label="from dtype") else (other, dtype)
    if not _cast_ok(src, dst):
        src, dst = dst, src
    # values every dtype holds: non-negative where unsigned (a negative value cast to an
    # unsigned dtype is unspecified), within int8 for integers
    low = 0 if "u" in (src.kind, dst.kind) else -100
    x = draw(arrays(src, draw(shapes()), low=low, high=100), label="x")
    return Sample((x, dst))


def _astype_ref(x, dtype):
    if dtype.kind == "b":
        return x != 0
    if dtype.kind in "iu":
        return np.trunc(lift(x.real if x.dtype.kind == "c" else x)).astype(np.int64)
    return x.astype(np.complex128 if dtype.kind == "c" else np.float64)


# -- meshgrid, tril, triu ------------------------------------------------------------------------

@st.composite
def _meshgrid_samples(draw, dtype, grad=False):
    n = draw(st.integers(1 if grad else 0, 3))
    sizes = st.integers(1, 3) if grad else st.integers(0, 4)
    xs = tuple(draw(arrays(dtype, (draw(sizes),)), label=f"x{i}") for i in range(n))
    return Sample(xs, {"indexing": draw(st.sampled_from(["xy", "ij"]))})


def _meshgrid_ref(*xs, indexing="xy"):
    return tuple(np.meshgrid(*xs, indexing=indexing))


@st.composite
def _triangle_samples(draw, dtype, grad=False):
    shape = draw(grad_shapes(2, 3) if grad else shapes(2, 3))
    return Sample((draw(arrays(dtype, shape), label="x"),), {"k": draw(st.integers(-3, 3))})


def _triangle(name):
    return OpInfo(
        name=name, fn=getattr(ef, name), ref=lambda x, k=0: getattr(np, name)(x, k),
        dtypes=ALL, samples=_triangle_samples, differentiable=True,
        grad_samples=partial(_triangle_samples, grad=True),
        errors=(ErrorCase((np.ones(3, np.float32),), {}, "ShapeError",
                          rf"^{name}: needs a tensor of at least 2 dimensions"),
                ErrorCase((np.ones((2, 2), np.float32),), {"k": 1.5}, "ArgumentTypeError",
                          rf"^{name}: k must be an int")))


INFOS = [
    OpInfo(name="zeros", fn=ef.zeros, ref=lambda shape, dtype: np.zeros(shape), dtypes=ALL,
           samples=_shaped,
           errors=(ErrorCase(((2, -1),), {}, "ShapeError", r"^zeros: shape \(2, -1\) has a "
                                                           r"negative size"),)),
    OpInfo(name="ones", fn=ef.ones, ref=lambda shape, dtype: np.ones(shape), dtypes=ALL,
           samples=_shaped,
           errors=(ErrorCase(("x",), {}, "ArgumentTypeError",
                             r"^ones: shape must be an int or a sequence"),)),
    OpInfo(name="empty", fn=ef.empty, ref=lambda shape, dtype: np.empty(shape), dtypes=ALL,
           samples=_shaped, check_values=False,
           note="an uninitialised tensor: only its dtype and shape are checked",
           errors=(ErrorCase(((-1,),), {}, "ShapeError", r"^empty: .*negative size"),)),
    OpInfo(name="full", fn=ef.full, ref=lambda shape, fill, dtype: np.full(shape, fill),
           dtypes=ALL, samples=_full_samples,
           errors=(ErrorCase(((2,), 300), {"dtype": ef.int8}, "InvalidArgumentError",
                             r"^full: fill_value 300 does not fit int8"),
                   ErrorCase(((2,), [1]), {}, "ArgumentTypeError",
                             r"^full: fill_value must be a Python scalar"))),
    OpInfo(name="arange", fn=ef.arange, ref=_arange_ref, dtypes=kinds("iufc"),
           samples=_arange_samples,
           errors=(ErrorCase((0, 5, 0), {}, "InvalidArgumentError",
                             r"^arange: step must not be zero"),)),
    OpInfo(name="linspace", fn=ef.linspace, ref=_linspace_ref, dtypes=kinds("fc"),
           samples=_linspace_samples,
           errors=(ErrorCase((0.0, 1.0), {"num": -1}, "InvalidArgumentError",
                             r"^linspace: num must be a non-negative int"),)),
    OpInfo(name="eye", fn=ef.eye, ref=lambda n, m=None, *, k=0, dtype: np.eye(n, m, k),
           dtypes=ALL, samples=_eye_samples,
           errors=(ErrorCase((-1,), {}, "InvalidArgumentError",
                             r"^eye: n_rows must be a non-negative int"),
                   ErrorCase((2, 1.5), {}, "InvalidArgumentError", r"^eye: n_cols"))),
    OpInfo(name="asarray", fn=ef.asarray, ref=_asarray_ref, dtypes=ALL,
           samples=_asarray_samples,
           errors=(ErrorCase(("1.0",), {}, "ArgumentTypeError",
                             r"^asarray: cannot make a tensor from str"),
                   ErrorCase(([[1, 2], [3]],), {}, "InvalidArgumentError",
                             r"^asarray: cannot make a tensor from list"))),
    OpInfo(name="astype", fn=ef.astype, ref=_astype_ref, dtypes=ALL, samples=_astype_samples,
           differentiable=True, grad_samples=partial(_astype_samples, grad=True),
           errors=(ErrorCase((np.ones(2, np.complex64), ef.float32), {}, "DTypeError",
                             r"^astype: casting complex64 to float32 would drop the imaginary"),)),
    OpInfo(name="meshgrid", fn=ef.meshgrid, ref=_meshgrid_ref, dtypes=ALL,
           samples=_meshgrid_samples, differentiable=True,
           grad_samples=partial(_meshgrid_samples, grad=True),
           errors=(ErrorCase((np.ones(2, np.float32), np.ones((2, 2), np.float32)), {},
                             "ShapeError", r"^meshgrid: every input must be 1-D; input 1"),
                   ErrorCase((np.ones(2, np.float32),), {"indexing": "yx"},
                             "InvalidArgumentError", r"^meshgrid: indexing must be"))),
    _triangle("tril"),
    _triangle("triu"),
]
