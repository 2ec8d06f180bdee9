"""The special cases of the Array API 2024.12 elementwise functions, as data (issue #8).

Each function's "Special cases" section of the standard
(https://data-apis.org/array-api/2024.12/API_specification/elementwise_functions.html) is a
list of rules such as "If ``x1_i`` is ``+infinity`` and ``x2_i`` is a positive finite number,
the result is ``+infinity``". Here each rule is one :class:`EdgeCase` or a few, with
representative inputs for "a positive finite number" and friends (2.0, -2.0, 2.5...), in the
order of the standard's text. ``SPECIAL_CASES[name]`` holds an op's cases; the op's OpInfo
carries them as ``edge_cases`` and the conformance runner's ``special`` check compares a
backend with them exactly: NaN equals NaN, zeros must have the stated sign, and a value the
dtype represents exactly (0, 1, infinities, 2.5) must come out exactly. Values the standard
calls "an implementation-dependent approximation" (pi/2, 3pi/4) are within the dtype's
tolerance. Where the standard leaves a sign unspecified, every sign is accepted.

Real cases (Python floats) run on every real floating dtype the op takes, complex cases
(Python complex numbers) on every complex one. For complex inputs, the functions the standard
defines through another (``sin(x) = -1j * sinh(x*1j)``, ``log2(x) = log(x) / log(2)``,
``subtract(x1, x2) = add(x1, -x2)``) have their cases derived from that one's table, as the
standard says; multiplying by 1j rotates (``(a + bj) * 1j = -b + aj``, as C99's Annex G reads
it). A few cases beyond the standard's text keep facts that tests held before (``acos(-1)`` is
pi, comparisons with NaN are False); they are marked "not in the table".

>>> from eagerflow_core.testing.opdb import OPDB
>>> [c for c in OPDB["floor_divide"].edge_cases if c.args == (INF, 2.0)]
[EdgeCase(args=(inf, 2.0), expected=(inf,), nan_sign=False)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product

INF, NAN, PI = math.inf, math.nan, math.pi
LN2, LN10 = math.log(2), math.log(10)
C = complex


@dataclass(frozen=True)
class EdgeCase:
    """One call of an elementwise op on special values: ``args`` (Python floats for real
    dtypes, complex numbers for complex ones), and the results the standard allows."""

    args: tuple
    expected: tuple              # any one of these (usually one)
    nan_sign: bool = False       # a NaN result must have the expected sign bit (copysign)

    @property
    def is_complex(self) -> bool:
        return any(isinstance(a, complex) for a in self.args)


def cases(*rows, nan_sign=False) -> tuple:
    """``(arg, ..., expected)`` rows as EdgeCases; an expected value that is a tuple lists the
    alternatives the standard allows (see :func:`signs`)."""
    out = []
    for *args, want in rows:
        want = want if isinstance(want, tuple) else (want,)
        out.append(EdgeCase(tuple(args), want, nan_sign))
    return tuple(out)


def signs(z, re=True, im=True) -> tuple:
    """``z`` with the sign of its real (``re``) and/or imaginary (``im``) part unspecified."""
    z = complex(z)
    res = [math.copysign(z.real, s) for s in (1, -1)] if re else [z.real]
    ims = [math.copysign(z.imag, s) for s in (1, -1)] if im else [z.imag]
    return tuple(complex(r, i) for r, i in product(res, ims))


def _cis(r, b):
    """``r * cis(b)`` for r = +0 or +inf and a finite nonzero b: each part's sign is cos(b)'s
    and sin(b)'s (never 0 for the b used here)."""
    return complex(math.copysign(r, math.cos(b)), math.copysign(r, math.sin(b)))


NN = C(NAN, NAN)  # "NaN + NaN j"


def _rot(z, k):
    """``z * 1j**k`` as a rotation (exact for signed zeros, infinities and NaNs)."""
    for _ in range(k % 4):
        z = C(-z.imag, z.real)
    return z


def _via(table, pre, post):
    """Cases of ``f(x) = post(g(pre(x)))`` from g's complex cases: g's input ``w = pre(x)``
    means ``x = pre^-1(w)``. ``pre``/``post`` are rotations by 1j**k."""
    out = []
    for c in table:
        if not c.is_complex:
            continue
        (w,) = c.args
        out.append(EdgeCase((_rot(w, -pre),), tuple(_rot(e, post) for e in c.expected)))
    return tuple(out)


def _scaled_log(table, base_log):
    """log2 / log10 of complex numbers: log(x) / log(base), part by part."""
    return tuple(EdgeCase(c.args, tuple(C(e.real / base_log, e.imag / base_log)
                                        for e in c.expected))
                 for c in table if c.is_complex)


# -- exponentials and logarithms ------------------------------------------------------------

_EXP = cases(
    (NAN, NAN), (0.0, 1.0), (-0.0, 1.0), (INF, INF), (-INF, 0.0),
    (C(0, 0), C(1, 0)), (C(-0.0, 0), C(1, 0)),
    (C(2, INF), NN), (C(2, NAN), NN),
    (C(INF, 0), C(INF, 0)),
    (C(-INF, 0), C(0, 0)), (C(-INF, 2), _cis(0.0, 2)), (C(-INF, -1), _cis(0.0, -1)),
    (C(INF, 2), _cis(INF, 2)), (C(INF, -1), _cis(INF, -1)),
    (C(-INF, INF), signs(0j)), (C(INF, INF), signs(C(INF, NAN), im=False)),
    (C(-INF, NAN), signs(0j)), (C(INF, NAN), signs(C(INF, NAN), im=False)),
    (C(NAN, 0), C(NAN, 0)), (C(NAN, 2), NN), (C(NAN, NAN), NN))

_EXPM1 = cases(
    (NAN, NAN), (0.0, 0.0), (-0.0, -0.0), (INF, INF), (-INF, -1.0),
    (C(0, 0), C(0, 0)),
    (C(2, INF), NN), (C(2, NAN), NN),
    (C(INF, 0), C(INF, 0)),
    (C(-INF, 2), _cis(0.0, 2) - 1), (C(-INF, -1), _cis(0.0, -1) - 1),
    (C(INF, 2), _cis(INF, 2)), (C(INF, -1), _cis(INF, -1)),
    (C(-INF, INF), signs(C(-1, 0), re=False)), (C(INF, INF), signs(C(INF, NAN), im=False)),
    (C(-INF, NAN), signs(C(-1, 0), re=False)), (C(INF, NAN), signs(C(INF, NAN), im=False)),
    (C(NAN, 0), C(NAN, 0)), (C(NAN, 2), NN), (C(NAN, NAN), NN))

_LOG_REAL = ((NAN, NAN), (-1.0, NAN), (-INF, NAN), (0.0, -INF), (-0.0, -INF), (1.0, 0.0),
             (INF, INF))
_LOG = cases(
    *_LOG_REAL,
    (C(-0.0, 0), C(-INF, PI)), (C(0, 0), C(-INF, 0)),
    (C(2, INF), C(INF, PI / 2)), (C(-2, INF), C(INF, PI / 2)), (C(2, NAN), NN),
    (C(-INF, 2), C(INF, PI)), (C(INF, 2), C(INF, 0)),
    (C(-INF, INF), C(INF, 3 * PI / 4)), (C(INF, INF), C(INF, PI / 4)),
    (C(INF, NAN), C(INF, NAN)), (C(-INF, NAN), C(INF, NAN)),
    (C(NAN, 2), NN), (C(NAN, INF), C(INF, NAN)), (C(NAN, NAN), NN))

_LOG1P = cases(
    (NAN, NAN), (-2.0, NAN), (-1.0, -INF), (-0.0, -0.0), (0.0, 0.0), (INF, INF),
    (C(-1, 0), C(-INF, 0)),
    (C(2, INF), C(INF, PI / 2)), (C(2, NAN), NN),
    (C(-INF, 2), C(INF, PI)), (C(INF, 2), C(INF, 0)),
    (C(-INF, INF), C(INF, 3 * PI / 4)), (C(INF, INF), C(INF, PI / 4)),
    (C(INF, NAN), C(INF, NAN)), (C(-INF, NAN), C(INF, NAN)),
    (C(NAN, 2), NN), (C(NAN, INF), C(INF, NAN)), (C(NAN, NAN), NN))

_SQRT = cases(
    (NAN, NAN), (-1.0, NAN), (-INF, NAN), (0.0, 0.0), (-0.0, -0.0), (INF, INF),
    (4.0, 2.0),  # not in the table
    (C(0, 0), C(0, 0)), (C(-0.0, 0), C(0, 0)),
    (C(2, INF), C(INF, INF)), (C(-INF, INF), C(INF, INF)), (C(NAN, INF), C(INF, INF)),
    (C(2, NAN), NN),
    (C(-INF, 2), C(0, INF)), (C(INF, 2), C(INF, 0)),
    (C(-INF, NAN), signs(C(NAN, INF), re=False)), (C(INF, NAN), C(INF, NAN)),
    (C(NAN, 2), NN), (C(NAN, NAN), NN))

# -- hyperbolic functions and their inverses -----------------------------------------------

_SINH = cases(
    (NAN, NAN), (0.0, 0.0), (-0.0, -0.0), (INF, INF), (-INF, -INF),
    (C(0, 0), C(0, 0)),
    (C(0, INF), signs(C(0, NAN), im=False)), (C(0, NAN), signs(C(0, NAN), im=False)),
    (C(2, INF), NN), (C(2, NAN), NN),
    (C(INF, 0), C(INF, 0)), (C(INF, 2), _cis(INF, 2)),
    (C(INF, INF), signs(C(INF, NAN), im=False)), (C(INF, NAN), signs(C(INF, NAN), im=False)),
    (C(NAN, 0), C(NAN, 0)), (C(NAN, 2), NN), (C(NAN, NAN), NN))

_COSH = cases(
    (NAN, NAN), (0.0, 1.0), (-0.0, 1.0), (INF, INF), (-INF, INF),
    (C(0, 0), C(1, 0)),
    (C(0, INF), signs(C(NAN, 0), re=False)), (C(0, NAN), signs(C(NAN, 0), re=False)),
    (C(2, INF), NN), (C(2, NAN), NN),
    (C(INF, 0), C(INF, 0)), (C(INF, 2), _cis(INF, 2)),
    (C(INF, INF), signs(C(INF, NAN), im=False)), (C(INF, NAN), C(INF, NAN)),
    (C(NAN, 0), signs(C(NAN, 0), re=False)), (C(NAN, -0.0), signs(C(NAN, 0), re=False)),
    (C(NAN, 2), NN), (C(NAN, NAN), NN))

_TANH = cases(
    (NAN, NAN), (0.0, 0.0), (-0.0, -0.0), (INF, 1.0), (-INF, -1.0),
    (C(0, 0), C(0, 0)),
    (C(2, INF), NN), (C(0, INF), C(0, NAN)), (C(2, NAN), NN), (C(0, NAN), C(0, NAN)),
    (C(INF, 2), C(1, 0)),
    (C(INF, INF), signs(C(1, 0), re=False)), (C(INF, NAN), signs(C(1, 0), re=False)),
    (C(NAN, 0), C(NAN, 0)), (C(NAN, 2), NN), (C(NAN, NAN), NN))

_ASINH = cases(
    (NAN, NAN), (0.0, 0.0), (-0.0, -0.0), (INF, INF), (-INF, -INF),
    (C(0, 0), C(0, 0)),
    (C(2, INF), C(INF, PI / 2)), (C(2, NAN), NN),
    (C(INF, 2), C(INF, 0)), (C(INF, INF), C(INF, PI / 4)),
    (C(NAN, 0), C(NAN, 0)), (C(NAN, 2), NN),
    (C(NAN, INF), signs(C(INF, NAN), im=False)), (C(NAN, NAN), NN))

_ACOSH = cases(
    (NAN, NAN), (0.5, NAN), (-INF, NAN), (1.0, 0.0), (INF, INF),
    (C(0, 0), C(0, PI / 2)), (C(-0.0, 0), C(0, PI / 2)),
    (C(2, INF), C(INF, PI / 2)), (C(2, NAN), NN),
    (C(0, NAN), signs(C(NAN, PI / 2), re=False)),
    (C(-INF, 2), C(INF, PI)), (C(INF, 2), C(INF, 0)),
    (C(-INF, INF), C(INF, 3 * PI / 4)), (C(INF, INF), C(INF, PI / 4)),
    (C(INF, NAN), C(INF, NAN)), (C(-INF, NAN), C(INF, NAN)),
    (C(NAN, 2), NN), (C(NAN, INF), C(INF, NAN)), (C(NAN, NAN), NN))

_ATANH = cases(
    (NAN, NAN), (-2.0, NAN), (2.0, NAN), (-1.0, -INF), (1.0, INF), (0.0, 0.0), (-0.0, -0.0),
    (C(0, 0), C(0, 0)), (C(0, NAN), C(0, NAN)),
    (C(1, 0), C(INF, 0)),
    (C(2, INF), C(0, PI / 2)), (C(2, NAN), NN),
    (C(INF, 2), C(0, PI / 2)), (C(INF, INF), C(0, PI / 2)), (C(INF, NAN), C(0, NAN)),
    (C(NAN, 2), NN), (C(NAN, INF), signs(C(0, PI / 2), im=False)), (C(NAN, NAN), NN))

_ACOS = cases(
    (NAN, NAN), (2.0, NAN), (-2.0, NAN), (1.0, 0.0),
    (-1.0, PI),  # not in the table
    (C(0, 0), C(PI / 2, -0.0)), (C(-0.0, 0), C(PI / 2, -0.0)),
    (C(0, NAN), C(PI / 2, NAN)), (C(-0.0, NAN), C(PI / 2, NAN)),
    (C(2, INF), C(PI / 2, -INF)), (C(2, NAN), NN),
    (C(-INF, 2), C(PI, -INF)), (C(INF, 2), C(0, -INF)),
    (C(-INF, INF), C(3 * PI / 4, -INF)), (C(INF, INF), C(PI / 4, -INF)),
    (C(INF, NAN), signs(C(NAN, INF), re=False)), (C(-INF, NAN), signs(C(NAN, INF), re=False)),
    (C(NAN, 2), NN), (C(NAN, INF), C(NAN, -INF)), (C(NAN, NAN), NN))

# sin(x) = -1j * sinh(x*1j), asin(x) = -1j * asinh(x*1j), ...; cos(x) = cosh(x*1j)
_SIN_REAL = cases((NAN, NAN), (0.0, 0.0), (-0.0, -0.0), (INF, NAN), (-INF, NAN))
_ROTATED = {
    "sin": _SIN_REAL + _via(_SINH, 1, -1),
    "tan": _SIN_REAL + _via(_TANH, 1, -1),
    "cos": cases((NAN, NAN), (0.0, 1.0), (-0.0, 1.0), (INF, NAN), (-INF, NAN))
    + _via(_COSH, 1, 0),
    "asin": cases((NAN, NAN), (2.0, NAN), (-2.0, NAN), (0.0, 0.0), (-0.0, -0.0),
                  (1.0, PI / 2))  # (1, pi/2): not in the table
    + _via(_ASINH, 1, -1),
    "atan": cases((NAN, NAN), (0.0, 0.0), (-0.0, -0.0), (INF, PI / 2), (-INF, -PI / 2))
    + _via(_ATANH, 1, -1),
}

# -- arithmetic ------------------------------------------------------------------------------

_ADD_REAL = (
    (NAN, 1.0, NAN), (1.0, NAN, NAN), (INF, -INF, NAN), (-INF, INF, NAN), (INF, INF, INF),
    (-INF, -INF, -INF), (INF, 2.0, INF), (-INF, 2.0, -INF), (2.0, INF, INF), (2.0, -INF, -INF),
    (-0.0, -0.0, -0.0), (-0.0, 0.0, 0.0), (0.0, -0.0, 0.0), (0.0, 0.0, 0.0),
    (0.0, 2.5, 2.5), (-0.0, -2.5, -2.5), (2.5, -0.0, 2.5), (-2.5, 0.0, -2.5), (2.5, -2.5, 0.0))
# complex: the real rules part by part ("-0 + 0j" + "-0 - 0j" is "-0 + 0j")
_ADD_COMPLEX = ((C(-0.0, 0), C(-0.0, -0.0), C(-0.0, 0)), (C(INF, 1), C(-INF, 2), C(NAN, 3)),
                (C(2, -INF), C(-0.0, INF), C(2, NAN)))
_ADD = cases(*_ADD_REAL, *_ADD_COMPLEX)
_SUBTRACT = tuple(EdgeCase((c.args[0], -c.args[1]), c.expected) for c in _ADD)  # x1 + (-x2)

_MULTIPLY = cases(
    (NAN, 1.0, NAN), (1.0, NAN, NAN),
    (INF, 0.0, NAN), (-INF, -0.0, NAN), (0.0, INF, NAN), (-0.0, -INF, NAN),
    (2.0, 3.0, 6.0), (-2.0, 3.0, -6.0), (-0.0, 2.0, -0.0), (0.0, -2.0, -0.0), (-0.0, -2.0, 0.0),
    (INF, INF, INF), (INF, -INF, -INF), (-INF, -INF, INF),
    (INF, 2.0, INF), (INF, -2.0, -INF), (-2.0, INF, -INF), (2.0, -INF, -INF),
    (NN, NN, NN))

_DIVIDE_REAL = (
    (NAN, 1.0, NAN), (1.0, NAN, NAN),
    (INF, INF, NAN), (INF, -INF, NAN), (-INF, INF, NAN), (-INF, -INF, NAN),
    (0.0, 0.0, NAN), (-0.0, 0.0, NAN), (0.0, -0.0, NAN), (-0.0, -0.0, NAN),
    (0.0, 2.0, 0.0), (-0.0, 2.0, -0.0), (0.0, -2.0, -0.0), (-0.0, -2.0, 0.0),
    (2.0, 0.0, INF), (2.0, -0.0, -INF), (-2.0, 0.0, -INF), (-2.0, -0.0, INF),
    (INF, 2.0, INF), (INF, -2.0, -INF), (-INF, 2.0, -INF), (-INF, -2.0, INF),
    (2.0, INF, 0.0), (2.0, -INF, -0.0), (-2.0, INF, -0.0), (-2.0, -INF, 0.0))
_DIVIDE = cases(*_DIVIDE_REAL, (3.0, -2.0, -1.5), (-3.0, -2.0, 1.5), (NN, NN, NN))

# floor_divide: the standard prefers floor(x1 / x2) where Python's // differs (infinities)
_FLOOR_DIVIDE = cases(
    *_DIVIDE_REAL,
    (7.5, -2.0, -4.0), (3.0, 2.0, 1.0), (-3.0, 2.0, -2.0), (-0.5, 2.0, -1.0))

_REMAINDER = cases(
    (NAN, 1.0, NAN), (1.0, NAN, NAN),
    (INF, INF, NAN), (INF, -INF, NAN), (-INF, INF, NAN), (-INF, -INF, NAN),
    (0.0, 0.0, NAN), (-0.0, 0.0, NAN), (0.0, -0.0, NAN), (-0.0, -0.0, NAN),
    (0.0, 2.0, 0.0), (-0.0, 2.0, 0.0), (0.0, -2.0, -0.0), (-0.0, -2.0, -0.0),
    (2.0, 0.0, NAN), (2.0, -0.0, NAN), (-2.0, 0.0, NAN), (-2.0, -0.0, NAN),
    (INF, 2.0, NAN), (INF, -2.0, NAN), (-INF, 2.0, NAN), (-INF, -2.0, NAN),
    (2.0, INF, 2.0), (2.0, -INF, -INF), (-2.0, INF, INF), (-2.0, -INF, -2.0),
    (7.5, -2.0, -0.5), (-7.5, 2.0, 0.5), (4.0, 2.0, 0.0), (-4.0, 2.0, 0.0), (4.0, -2.0, -0.0))

_POW = cases(
    (2.0, NAN, NAN), (NAN, 0.0, 1.0), (NAN, -0.0, 1.0), (2.0, 0.0, 1.0), (0.0, 0.0, 1.0),
    (NAN, 2.0, NAN),
    (2.0, INF, INF), (-2.0, INF, INF), (2.0, -INF, 0.0), (-2.0, -INF, 0.0),
    (1.0, INF, 1.0), (-1.0, INF, 1.0), (1.0, -INF, 1.0), (-1.0, -INF, 1.0),
    (1.0, NAN, 1.0), (1.0, 2.5, 1.0),
    (0.5, INF, 0.0), (-0.5, INF, 0.0), (0.5, -INF, INF), (-0.5, -INF, INF),
    (INF, 2.0, INF), (INF, -2.0, 0.0),
    (-INF, 3.0, -INF), (-INF, 2.0, INF), (-INF, 2.5, INF),
    (-INF, -3.0, -0.0), (-INF, -2.0, 0.0), (-INF, -2.5, 0.0),
    (0.0, 2.0, 0.0), (0.0, -2.0, INF), (0.0, -1.0, INF),
    (-0.0, 3.0, -0.0), (-0.0, 2.0, 0.0), (-0.0, 2.5, 0.0),
    (-0.0, -3.0, -INF), (-0.0, -1.0, -INF), (-0.0, -2.0, INF), (-0.0, -2.5, INF),
    (-2.0, 2.5, NAN), (-2.0, -0.5, NAN), (-8.0, 1 / 3, NAN))

_RECIPROCAL = cases((0.0, INF), (-0.0, -INF), (INF, 0.0), (-INF, -0.0), (NAN, NAN), (2.0, 0.5),
                    (-4.0, -0.25))  # as 1.0 / x

_SQUARE = cases((NAN, NAN), (0.0, 0.0), (-0.0, 0.0), (INF, INF), (-INF, INF), (-3.0, 9.0))

_LOGADDEXP = cases(
    (NAN, 1.0, NAN), (1.0, NAN, NAN), (INF, 2.0, INF), (INF, -INF, INF), (2.0, INF, INF),
    (-INF, INF, INF), (INF, INF, INF),
    (-INF, -INF, -INF))  # not in the table: log(0 + 0)

_HYPOT = cases(
    (INF, NAN, INF), (-INF, 2.0, INF), (2.0, INF, INF), (NAN, -INF, INF),
    (0.0, -3.0, 3.0), (-3.0, -0.0, 3.0), (2.0, NAN, NAN), (NAN, 2.0, NAN), (NAN, NAN, NAN),
    (3.0, 4.0, 5.0))

_ATAN2 = cases(
    (NAN, 1.0, NAN), (1.0, NAN, NAN),
    (2.0, 0.0, PI / 2), (2.0, -0.0, PI / 2),
    (0.0, 2.0, 0.0), (0.0, 0.0, 0.0), (0.0, -0.0, PI), (0.0, -2.0, PI),
    (-0.0, 2.0, -0.0), (-0.0, 0.0, -0.0), (-0.0, -0.0, -PI), (-0.0, -2.0, -PI),
    (-2.0, 0.0, -PI / 2), (-2.0, -0.0, -PI / 2),
    (2.0, INF, 0.0), (2.0, -INF, PI), (-2.0, INF, -0.0), (-2.0, -INF, -PI),
    (INF, 2.0, PI / 2), (-INF, 2.0, -PI / 2),
    (INF, INF, PI / 4), (INF, -INF, 3 * PI / 4), (-INF, INF, -PI / 4), (-INF, -INF, -3 * PI / 4))

_COPYSIGN = (
    cases((2.0, -3.0, -2.0), (2.0, -0.0, -2.0), (-2.0, 0.0, 2.0), (-2.0, 3.0, 2.0),
          (2.0, -NAN, -2.0), (-2.0, NAN, 2.0),
          (INF, -1.0, -INF), (0.0, -2.0, -0.0))  # the last two: not in the table
    + cases((NAN, -3.0, -NAN), (NAN, -0.0, -NAN), (NAN, 0.0, NAN), (NAN, 3.0, NAN),
            (NAN, -NAN, -NAN), (NAN, NAN, NAN), nan_sign=True))

_NEXTAFTER = cases((NAN, 1.0, NAN), (1.0, NAN, NAN), (-0.0, 0.0, 0.0), (0.0, -0.0, -0.0))

_EXTREMA_NAN = ((NAN, 1.0, NAN), (1.0, NAN, NAN), (NAN, NAN, NAN))

# -- rounding, sign and classification -------------------------------------------------------

_ROUNDING = ((INF, INF), (-INF, -INF), (0.0, 0.0), (-0.0, -0.0), (NAN, NAN), (3.0, 3.0),
             (-4.0, -4.0))
_SIGN = cases(
    (-2.0, -1.0), (-INF, -1.0), (0.0, (0.0, -0.0)), (-0.0, (0.0, -0.0)), (2.0, 1.0),
    (INF, 1.0), (NAN, NAN),
    (C(0, 0), signs(0j)), (C(-0.0, -0.0), signs(0j)),
    (C(NAN, 2), NN), (C(2, NAN), NN), (C(NAN, 0), NN))

_EQUAL = cases(
    (NAN, 1.0, False), (1.0, NAN, False), (NAN, NAN, False), (INF, INF, True),
    (-INF, -INF, True), (-0.0, 0.0, True), (-0.0, -0.0, True), (0.0, -0.0, True),
    (2.0, 2.0, True), (2.0, 3.0, False), (INF, -INF, False),
    (C(NAN, 0), C(NAN, 0), False), (C(1, NAN), C(1, 0), False), (C(1, 2), C(1, 2), True),
    (C(-0.0, 0), C(0, -0.0), True), (C(1, 2), C(1, 3), False))
_NOT_EQUAL = tuple(EdgeCase(c.args, (not c.expected[0],)) for c in _EQUAL)

SPECIAL_CASES: dict[str, tuple[EdgeCase, ...]] = {
    "abs": cases((NAN, NAN), (-0.0, 0.0), (-INF, INF), (INF, INF),
                 (C(INF, NAN), INF), (C(-INF, 2), INF), (C(NAN, -INF), INF), (C(2, INF), INF),
                 (C(0, -3), 3.0), (C(-3, -0.0), 3.0), (C(NAN, 2), NAN), (C(2, NAN), NAN),
                 (C(NAN, NAN), NAN)),
    "acos": _ACOS,
    "acosh": _ACOSH,
    "add": _ADD,
    "asinh": _ASINH,
    "atan2": _ATAN2,
    "atanh": _ATANH,
    "ceil": cases(*_ROUNDING, (-0.5, -0.0), (0.5, 1.0), (-1.5, -1.0)),
    "clip": cases((NAN, 0.0, 1.0, NAN), (0.5, NAN, 1.0, NAN), (0.5, 0.0, NAN, NAN)),
    "copysign": _COPYSIGN,
    "cosh": _COSH,
    "divide": _DIVIDE,
    "equal": _EQUAL,
    "exp": _EXP,
    "expm1": _EXPM1,
    "floor": cases(*_ROUNDING, (-0.5, -1.0), (0.5, 0.0), (1.5, 1.0)),
    "floor_divide": _FLOOR_DIVIDE,
    "hypot": _HYPOT,
    "isfinite": cases((INF, False), (-INF, False), (NAN, False), (2.0, True), (-0.0, True),
                      (C(NAN, 0), False), (C(0, NAN), False), (C(INF, NAN), False),
                      (C(2, -INF), False), (C(2, 3), True)),
    "isinf": cases((INF, True), (-INF, True), (NAN, False), (2.0, False),
                   (C(INF, NAN), True), (C(-INF, 2), True), (C(2, -INF), True),
                   (C(NAN, INF), True), (C(NAN, 2), False), (C(2, 3), False)),
    "isnan": cases((NAN, True), (INF, False), (2.0, False),
                   (C(NAN, 2), True), (C(2, NAN), True), (C(INF, 2), False), (C(2, 3), False)),
    "log": _LOG,
    "log1p": _LOG1P,
    "log2": cases(*_LOG_REAL, (8.0, 3.0)) + _scaled_log(_LOG, LN2),
    "log10": cases(*_LOG_REAL) + _scaled_log(_LOG, LN10),
    "logaddexp": _LOGADDEXP,
    "maximum": cases(*_EXTREMA_NAN, (-INF, 2.0, 2.0)),
    "minimum": cases(*_EXTREMA_NAN, (INF, 2.0, 2.0)),
    "multiply": _MULTIPLY,
    "negative": cases((0.0, -0.0), (INF, -INF), (NAN, NAN),  # not in the table: -x
                      (C(0, -0.0), C(-0.0, 0))),
    "nextafter": _NEXTAFTER,
    "pow": _POW,
    "reciprocal": _RECIPROCAL,
    "remainder": _REMAINDER,
    "round": cases(*_ROUNDING, (0.5, 0.0), (1.5, 2.0), (2.5, 2.0), (-0.5, -0.0), (-2.5, -2.0),
                   (C(-0.5, 2.5), C(-0.0, 2)), (C(NAN, INF), C(NAN, INF))),
    "sign": _SIGN,
    "signbit": cases((0.0, False), (-0.0, True), (INF, False), (-INF, True), (2.0, False),
                     (-2.0, True), (NAN, False), (-NAN, True)),
    "sinh": _SINH,
    "sqrt": _SQRT,
    "square": _SQUARE,
    "subtract": _SUBTRACT,
    "tanh": _TANH,
    "trunc": cases(*_ROUNDING, (-0.5, -0.0), (1.5, 1.0), (-1.5, -1.0)),
    # IEEE 754 comparisons (the standard has no table for these): not in the table
    "not_equal": _NOT_EQUAL,
    "less": cases((NAN, 1.0, False), (1.0, NAN, False), (-0.0, 0.0, False), (-INF, 1.0, True)),
    "less_equal": cases((NAN, NAN, False), (-0.0, 0.0, True), (INF, INF, True)),
    "greater": cases((NAN, 1.0, False), (0.0, -0.0, False), (INF, 1.0, True)),
    "greater_equal": cases((NAN, NAN, False), (-0.0, 0.0, True), (-INF, -INF, True)),
    **_ROTATED,
}
