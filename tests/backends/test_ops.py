"""Every op of the op database, on every device of every installed backend, on every dtype its
OpInfo lists (issue #10), as PyTorch's ``test_ops.py`` runs its ``op_db``.

Each row draws calls from the op's own sample strategy and checks them with the conformance
kit's per-sample check (``conformance.check_sample``): the result matches the op's NumPy
reference at the op's tolerances, lies on the device, has the dtype and shape of the same call
on the reference device (for devices other than it), and the inputs are not written. What an
op should do is written once, in ``eagerflow_core/testing/opdb/``; the family test files keep
what the database does not say (result dtypes as independent facts, errors, spot values,
signatures, warnings).

The number of examples per row follows the hypothesis profile (a fifth of it: 5 under ``ci``,
100 under ``thorough``), so that ``make test`` stays quick.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eagerflow_core._dtypes import as_dtype
from eagerflow_core.testing import conformance
from eagerflow_core.testing.opdb import OPDB

EXAMPLES = max(2, settings().max_examples // 5)


# One item per op, its dtypes in a loop (test_opdb.py does the same): with an item per (op,
# dtype), hypothesis's per-item state grows a chain that ~950 items overflow (RecursionError).
@pytest.mark.parametrize("name", sorted(OPDB))
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_op_matches_its_reference(device, name, data):
    info = OPDB[name]
    dtypes = [d for d in info.dtypes if d in {n.name for n in device.native}]
    if not dtypes:
        pytest.skip(f"{device} has none of {name}'s dtypes {info.dtypes}")
    ref = conformance.backend_device(conformance.REFERENCE)  # NumPy's device: dtypes, shapes
    reference = None if device == ref else ref
    for dtype in dtypes:
        sample = data.draw(info.samples(as_dtype(dtype)), label=f"sample {dtype}")
        # Overflow in an edge case is the op's business (the warning policy of the elementwise
        # ops is test_elementwise.py's): the values decide.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                conformance.check_sample(info, sample, device, reference_device=reference)
            except conformance.CheckFailure as exc:
                raise AssertionError(f"{name} [{dtype}] {exc.check}: {exc}") from None
