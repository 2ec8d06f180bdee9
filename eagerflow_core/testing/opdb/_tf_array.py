"""TensorFlow's array ops with kernels of their own (pad, einsum, math.top_k), and some of
their compositions (split, cumsum, cumprod, math.xlogy, math.divide_no_nan), which name the
kernels they are built on so that a backend is checked on them too.

Values are small integers (cast to the dtype under test, complex ones with an integer
imaginary part), so sums of products are exact in every dtype and each backend's summation
order gives the reference's bits. The references are NumPy's ``np.pad``, ``np.einsum`` and a
stable descending argsort, written independently of the kernels.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from hypothesis import strategies as st

import eagerflow_core as ef

from ..._dtypes import float64
from .. import strategies as st_ef
from ._base import ALL, ErrorCase, OpInfo, Sample, away, kinds, positive

NUMERIC, REAL = kinds("iufc"), kinds("iuf")
_F = np.float32


def _ints(draw, dtype, shape, lo=-2, hi=2, label="x"):
    """Integers in [lo, hi] (from 0 for unsigned) as ``dtype``; complex ones get an integer
    imaginary part too; bool ones are True/False."""
    lo = 0 if dtype.kind in "bu" else lo
    hi = 1 if dtype.kind == "b" else hi
    re = draw(st_ef.arrays(ef.int64, shape, low=lo, high=hi), label=label)
    if dtype.kind == "c":
        im = draw(st_ef.arrays(ef.int64, shape, low=lo, high=hi), label=label + ".imag")
        return (re + 1j * im).astype(dtype.numpy)
    return re.astype(dtype.numpy)


# -- pad -----------------------------------------------------------------------------------------

@st.composite
def _pad_samples(draw, dtype, grad=False):
    shape = draw(st_ef.shapes(1, 3, 1 if grad else 0, 3 if grad else 4), label="shape")
    if grad:
        x = draw(st_ef.arrays(float64, shape, low=-3, high=3), label="x")
    else:
        x = _ints(draw, dtype, shape)
    mode = draw(st.sampled_from(["CONSTANT", "REFLECT", "SYMMETRIC", "reflect"]), label="mode")
    rows = []
    for n in shape:
        most = 3 if mode == "CONSTANT" else max(n - 1, 0) if mode.upper() == "REFLECT" else n
        rows.append([draw(st.integers(0, most)), draw(st.integers(0, most))])
    kwargs = {"mode": mode}
    if mode == "CONSTANT" and draw(st.booleans()):
        kwargs["constant_values"] = 1 if dtype.kind in "biu" else -1.5
    return Sample((x, rows), kwargs)


def _pad_ref(x, paddings, mode="CONSTANT", constant_values=0):
    mode = mode.lower()
    if mode == "constant":
        return np.pad(x, paddings, mode="constant", constant_values=constant_values)
    return np.pad(x, paddings, mode=mode)


# -- einsum --------------------------------------------------------------------------------------

#: equations and what they exercise: matmul forms, batch, outer, traces and diagonals,
#: implicit outputs, sums, three operands, the ellipsis with broadcasting.
_EQUATIONS = ["ij,jk->ik", "bij,bjk->bik", "bhqd,bhkd->bhqk", "ij,j->i", "i,i->", "i,j->ij",
              "ii->i", "ii", "ij->ji", "ij->", "ij", "ijk->kj", "iij,jk->ik", "ij,ij->ij",
              "abc,cd,de->abe", "a,ab,b", "...ij,...jk->...ik", "i...->...", "ab,b...->a..."]


@st.composite
def _einsum_samples(draw, dtype, grad=False):
    eq = draw(st.sampled_from(_EQUATIONS), label="equation")
    lhs = eq.split("->")[0].split(",")
    size = {c: draw(st.integers(1, 3)) for c in sorted(set("".join(lhs)) - {"."})}
    ell = [draw(st.integers(1, 2)) for _ in range(draw(st.integers(0, 2)))]
    operands = []
    for subs in lhs:
        head, dots, tail = subs.partition("...")
        # each operand's '...' dims: a suffix of the common ones, some of them 1 (broadcast)
        mine = [d if draw(st.booleans()) else 1 for d in ell[draw(st.integers(0, len(ell))):]]
        shape = tuple(size[c] for c in head) + (tuple(mine) if dots else ()) + \
            tuple(size[c] for c in tail)
        if grad:
            operands.append(draw(st_ef.arrays(float64, shape, low=-2, high=2), label=subs))
        else:
            operands.append(_ints(draw, dtype, shape, label=subs))
    return Sample((eq, *operands))


def _einsum_ref(equation, *operands):
    return np.einsum(equation, *operands)


# -- top_k ---------------------------------------------------------------------------------------

@st.composite
def _top_k_samples(draw, dtype):
    shape = draw(st_ef.shapes(1, 3, 1, 6), label="shape")
    x = _ints(draw, dtype, shape)  # few distinct values: ties check the lower-index rule
    k = draw(st.integers(0, shape[-1]), label="k")
    return Sample((x,), {"k": k})


def _top_k(x, k=1):
    return tuple(ef.math.top_k(x, k=k))


def _top_k_ref(x, k=1):
    n = x.shape[-1]
    order = n - 1 - np.flip(np.argsort(np.flip(x, -1), axis=-1, kind="stable"), -1)
    idx = order[..., :k]
    return np.take_along_axis(x, idx, axis=-1), idx.astype(np.int32)


# -- compositions -------------------------------------------------------------------------------

@st.composite
def _split_samples(draw, dtype, grad=False):
    shape = draw(st_ef.shapes(1, 3, 1, 4), label="shape")
    x = draw(st_ef.arrays(float64, shape, low=-3, high=3), label="x") if grad else \
        _ints(draw, dtype, shape)
    axis = draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    n = shape[axis]
    if draw(st.booleans()):
        parts = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]), label="count")
    else:
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3), label="cuts"))
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, n])]
        if draw(st.booleans()):
            parts[draw(st.integers(0, len(parts) - 1))] = -1
    return Sample((x, parts), {"axis": axis})


def _split_ref(x, parts, axis=0):
    n = x.shape[axis]
    if isinstance(parts, int):
        return tuple(np.split(x, parts, axis=axis))
    sizes = [n - sum(p for p in parts if p != -1) if p == -1 else p for p in parts]
    return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=axis))


@st.composite
def _cumulative_samples(draw, dtype, grad=False):
    shape = draw(st_ef.shapes(1, 3, 1, 4), label="shape")
    x = draw(st_ef.arrays(float64, shape, low=-2, high=2), label="x") if grad else \
        _ints(draw, dtype, shape)
    return Sample((x,), {"axis": draw(st.integers(-len(shape), len(shape) - 1), label="axis"),
                         "exclusive": draw(st.booleans(), label="exclusive"),
                         "reverse": draw(st.booleans(), label="reverse")})


def _cumulative_ref(fn, start):
    def ref(x, axis=0, exclusive=False, reverse=False):
        y = np.flip(x, axis) if reverse else x
        out = fn(y, axis=axis, dtype=x.dtype)
        if exclusive:
            first = np.full_like(np.take(out, [0], axis=axis), start)
            out = np.concatenate([first, np.delete(out, -1, axis=axis)], axis=axis)
        return np.flip(out, axis) if reverse else out
    return ref


@st.composite
def _where_zero_samples(draw, dtype, zero_arg, grad=False):
    """Two broadcasting float arrays; argument ``zero_arg`` has zeros (where the op is 0), the
    other is positive (a log's argument) - or, for the gradient, both are away from 0."""
    s1, s2 = draw(st_ef.broadcastable_shapes(2, 0, 2, 1, 3))
    if grad:  # x away from 0 (the op's switch); y positive for the log, away from 0 to divide
        y = positive(float64, s2) if zero_arg == 0 else away(float64, s2)
        return Sample((draw(away(float64, s1), label="x"), draw(y, label="y")))
    pos = draw(st_ef.arrays(dtype, (s1, s2)[1 - zero_arg], low=0.25, high=4), label="positive")
    zeros = _ints(draw, ef.int64, (s1, s2)[zero_arg], -1, 1).astype(dtype.numpy)
    return Sample((zeros, pos) if zero_arg == 0 else (pos, zeros))


def _xlogy_ref(x, y):
    return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


def _divide_no_nan_ref(x, y):
    return np.where(y == 0, 0.0, x / np.where(y == 0, 1.0, y))


INFOS = [
    OpInfo(name="pad", fn=ef.pad, ref=_pad_ref, dtypes=ALL, samples=_pad_samples,
           differentiable=True, grad_samples=partial(_pad_samples, grad=True),
           errors=(ErrorCase((np.ones((2, 3), _F), [[0, 0], [3, 0]]), {"mode": "REFLECT"},
                             "ShapeError", r"^pad: REFLECT padding of axis 1 \(size 3\) is at "
                                           r"most 2"),
                   ErrorCase((np.ones((2, 3), _F), [[0, 0], [4, 0]]), {"mode": "symmetric"},
                             "ShapeError", r"^pad: SYMMETRIC padding of axis 1 \(size 3\) is "
                                           r"at most 3"),
                   ErrorCase((np.ones((2, 3), _F), [[0, 0]]), {}, "ShapeError",
                             r"^pad: paddings has 1 rows for a tensor of rank 2"),
                   ErrorCase((np.ones((2, 3), _F), [[0, -1], [0, 0]]), {}, "ShapeError",
                             r"^pad: paddings must not be negative"),
                   ErrorCase((np.ones(3, _F), [[1, 1]]), {"mode": "EDGE"},
                             "InvalidArgumentError", r"^pad: mode must be one of CONSTANT"),
                   ErrorCase((np.ones(3, np.int64), [[1, 1]]), {"constant_values": 0.5},
                             "InvalidArgumentError", r"^pad: constant_values 0.5 is not"))),
    OpInfo(name="einsum", fn=ef.einsum, ref=_einsum_ref, dtypes=NUMERIC, samples=_einsum_samples,
           differentiable=True, grad_samples=partial(_einsum_samples, grad=True),
           errors=(ErrorCase(("ij,jk->ik", np.ones((2, 3), _F), np.ones((4, 2), _F)), {},
                             "ShapeError", r"^einsum: subscript 'j' has size 3 in operand 0 "
                                           r"and 4 in operand 1"),
                   ErrorCase(("ij,jk->ik", np.ones((2, 3, 1), _F), np.ones((3, 2), _F)), {},
                             "ShapeError", r"^einsum: operand 0 has 3 dimension\(s\)"),
                   ErrorCase(("ij,jk->ik", np.ones((2, 3), _F)), {}, "InvalidArgumentError",
                             r"^einsum: the equation 'ij,jk->ik' names 2 operand\(s\), got 1"),
                   ErrorCase(("ij->ik", np.ones((2, 3), _F)), {}, "InvalidArgumentError",
                             r"^einsum: the output of 'ij->ik'"),
                   ErrorCase(("ij", np.ones((2, 3), np.bool_)), {}, "DTypeError",
                             r"^einsum: .*numeric.*bool"))),
    # The op computes the indices (no gradient); the values are gathered with take_along_axis,
    # whose rule gives top_k's gradient (tests/backends/test_tf_array.py checks it).
    OpInfo(name="math.top_k", fn=_top_k, ref=_top_k_ref, dtypes=REAL, samples=_top_k_samples,
           note="indices are int32, as in TensorFlow; of equal values the lower index first",
           errors=(ErrorCase((np.ones((2, 3), _F),), {"k": 4}, "ShapeError",
                             r"^math.top_k: k = 4 must be in 0..3"),
                   ErrorCase((np.ones((), _F),), {"k": 1}, "ShapeError",
                             r"^math.top_k: the input must have at least 1 dimension"),
                   ErrorCase((np.ones(3, np.complex64),), {"k": 1}, "DTypeError",
                             r"^math.top_k: .*complex64"),
                   ErrorCase((np.ones(3, _F),), {"k": 1.5}, "ArgumentTypeError",
                             r"^math.top_k: k must be an int"))),
    OpInfo(name="split", fn=ef.split, ref=_split_ref, dtypes=ALL, samples=_split_samples,
           kernels=("getitem",), differentiable=True,
           grad_samples=partial(_split_samples, grad=True),
           errors=(ErrorCase((np.ones((5, 2), _F), 2), {}, "ShapeError",
                             r"^split: axis 0 of size 5 does not divide into 2"),
                   ErrorCase((np.ones((5, 2), _F), [2, 2]), {}, "ShapeError",
                             r"^split: sizes \[2, 2\] do not add up to 5"))),
    OpInfo(name="cumsum", fn=ef.cumsum, ref=_cumulative_ref(np.cumsum, 0), dtypes=NUMERIC,
           samples=_cumulative_samples, kernels=("cumulative_sum", "flip", "getitem"),
           differentiable=True, grad_samples=partial(_cumulative_samples, grad=True)),
    OpInfo(name="cumprod", fn=ef.cumprod, ref=_cumulative_ref(np.cumprod, 1), dtypes=NUMERIC,
           samples=_cumulative_samples, kernels=("cumulative_prod", "flip", "getitem"),
           differentiable=True, grad_samples=partial(_cumulative_samples, grad=True)),
    OpInfo(name="math.xlogy", fn=ef.math.xlogy, ref=_xlogy_ref, dtypes=kinds("f"),
           samples=partial(_where_zero_samples, zero_arg=0),
           kernels=("equal", "where", "multiply", "log"), differentiable=True,
           grad_samples=partial(_where_zero_samples, zero_arg=0, grad=True)),
    OpInfo(name="math.divide_no_nan", fn=ef.math.divide_no_nan, ref=_divide_no_nan_ref,
           dtypes=kinds("f"), samples=partial(_where_zero_samples, zero_arg=1),
           kernels=("equal", "where", "divide"), differentiable=True,
           grad_samples=partial(_where_zero_samples, zero_arg=1, grad=True)),
]
