"""Abstract evaluation (issue #10): for every op of the op database, what the op's rules say
(shape and dtype, without a kernel) is what the kernel gives.

The check runs as an interpreter on the seam, so every op a sample calls is checked, helpers
and composites' insides included, not only the op the sample is for.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import eagerflow_core as ef
from eagerflow_core._abstract import abstract_eval
from eagerflow_core._dispatch import eager
from eagerflow_core._registry import OPS
from eagerflow_core._state import state
from eagerflow_core.testing.opdb import OPDB

quick = settings(max_examples=3, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))


class AbstractChecker:
    """An interpreter that evaluates each op eagerly and compares it with abstract_eval."""

    def __init__(self):
        self.parent = None
        self.seen = []

    def process(self, op, inputs, params, device):
        out = eager(op, inputs, params, device)
        if op.dtype_rule is None and op.kind == "general":
            return out  # a user composite: its body is checked op by op
        try:
            shape, dtype = abstract_eval(op, inputs, params, device)
        except ef.EagerflowError as exc:
            raise AssertionError(f"{op.name}: the kernel ran, the rules refused: {exc}") from exc
        outs = out if isinstance(out, (tuple, list)) else (out,)
        shapes = shape if type(dtype) is tuple else [shape]
        dtypes = dtype if type(dtype) is tuple else (dtype,)
        assert len(outs) == len(dtypes), f"{op.name}: {len(outs)} results, rules say {len(dtypes)}"
        for o, s, d in zip(outs, shapes, dtypes):
            assert o.dtype is d, f"{op.name}: kernel gave {o.dtype}, rules say {d}"
            assert len(o.shape) == len(s) and all(w is None or w == h for w, h in zip(s, o.shape)), \
                f"{op.name}: kernel gave shape {o.shape}, rules say {s}"
        self.seen.append(op.name)
        return out


def _convert(value):
    if isinstance(value, np.ndarray):
        return ef.asarray(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_convert(v) for v in value)
    if isinstance(value, dict):
        return {k: _convert(v) for k, v in value.items()}
    return value


def test_every_op_has_a_shape_rule_and_a_dtype_rule():
    missing = [n for n, op in OPS.items()
               if op.shape_rule is None or (op.dtype_rule is None and op.table is None)]
    assert not missing, f"ops without a shape or dtype rule: {missing}"


@pytest.mark.parametrize("name", sorted(OPDB))
def test_abstract_eval_matches_the_kernel(name):
    info = OPDB[name]
    dtypes = [d for d in info.dtypes if d in ("float32", "int64", "bool", "complex64",
                                               "float64", "uint8", "int32")][:2] or info.dtypes[:1]
    checker = AbstractChecker()

    for dname in dtypes:
        dt = getattr(ef, "bool" if dname == "bool" else dname)

        @quick
        @given(info.samples(dt))
        def run(sample):
            args = _convert(sample.args)
            kwargs = _convert(sample.kwargs)
            checker.parent, state.interp = state.interp, checker
            try:
                with ef.device("cpu"):
                    info.fn(*args, **kwargs)
            except ef.EagerflowError:
                pass  # a sample the op refuses: the rules raised the same error or the call did
            finally:
                state.interp = checker.parent
        run()
    # asarray converts host data; it is not dispatched, so no interpreter sees it. An entry for
    # a composite (nn.dropout) is checked through the kernels it is built on, unless the
    # composite itself reached the seam with rules of its own (nn.layer_norm: its body runs
    # below the interpreters, which see the one op).
    wanted = info.kernels or (name,)
    assert all(k in checker.seen for k in wanted) or name in checker.seen or name == "asarray", \
        f"{name} never reached the seam: {sorted(set(checker.seen))}"
