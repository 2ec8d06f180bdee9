"""The op database of the conformance kit: one :class:`OpInfo` per op that a backend kernel
implements, saying how to call the op, what NumPy computes for it (the float64 reference),
which dtypes it takes, how to draw its inputs (hypothesis strategies, so that a failure
shrinks to a minimal input), where its gradient is smooth, and which bad inputs must raise.
One module per family (``_elementwise``, ``_creation``, ``_indexing``, ``_linalg``,
``_manipulation``, ``_reductions``, ``_searching``, ``_random``, ``_fft``, ``_special``, ``_nn``,
``_nn_functions``, ``_tf_array``, ``_tf_indexing``); ``OPDB`` gathers them by op name. Random
ops cannot match a reference bit for bit: their entries check properties of the result
instead (``OpInfo.check``); an ef.nn function with no kernel of its own (``nn.dropout``,
``nn.conv1d``, ``nn.layer_norm``) names the kernels it is built on (``OpInfo.kernels``).

Conventions (what the runner, ``eagerflow_core.testing.conformance``, relies on):

- In a :class:`Sample`, every NumPy array, at the top level of ``args``/``kwargs`` or inside
  a list or tuple there (``concat``'s list, ``getitem``'s key), stands for a tensor: the
  runner converts it, keeping its dtype, on the device under test before calling
  ``OpInfo.fn``. Anything else (Python scalars, slices, shapes, ef dtypes, strings) is passed
  as is. Arrays other than the drawn ones (index arrays, bool masks) carry their own dtype.
- ``OpInfo.ref`` takes the same arguments with each array replaced by its float64 /
  complex128 copy (``testing.reference``; integer and bool arrays unchanged) and returns the
  expected value: an array, or a tuple of arrays when ``fn`` returns a tuple or list (compared
  element by element). Compare with ``assert_close`` at the tolerance of each result's dtype:
  ``OpInfo.rtol.get(dtype name)``, a pair ``(rtol, atol)``, else ``TOLERANCES``; integer and
  bool results must match exactly. With ``check_values=False`` (``empty``) only the shape is
  compared. The reference gives values and shapes; the result dtype to expect is the one the
  reference backend ("numpy") gives for the same sample.
- ``samples(dtype)`` (``dtype`` an ef DType from ``OpInfo.dtypes``) draws the inputs for one
  dtype under test. Values stay where the op is defined and its result finite in that dtype,
  and (sums, products, matmul) on grids where the summation order cannot change the result.
  Creation ops take no arrays: their samples carry shapes and values, with
  ``kwargs["dtype"]`` the dtype under test; run every call with the device under test as the
  default device (``with device:``).
- Gradients (``differentiable``) are checked in float64 on ``grad_samples(ef.float64)``, with
  respect to every floating-point or complex array of the sample (those inside lists too);
  integer and bool arrays (indices, masks) stay constant. Gradient samples are small (sides
  1..3, never empty) and keep away from kinks, ties, poles and (near-)singular matrices.
- ``errors``: each :class:`ErrorCase` is called as a sample is; it must raise the eagerflow
  exception named ``exc_type_name`` (a class of ``eagerflow_core._errors``) on every backend,
  with a message that starts with ``"<op name>: "``; on the reference backend it must also
  match ``match`` (``re.search``) when given (other backends word it their own way). Its
  arrays use common dtypes (float32, int64, bool...).
- ``fn`` never changes its inputs (``setitem`` writes into another tensor of the same value),
  so the runner can check that a kernel does not mutate its inputs.

>>> from eagerflow_core.testing.opdb import OPDB
>>> info = OPDB["exp"]
>>> info.name, "bfloat16" in info.dtypes, info.differentiable
('exp', True, True)
>>> import eagerflow_core as ef
>>> from hypothesis import given
>>> @given(info.samples(ef.float32))
... def show(sample):
...     assert type(sample.args[0]).__name__ == "ndarray"
>>> show()
"""

from __future__ import annotations

from ._base import ErrorCase, OpInfo, Sample

#: Every op a backend kernel implements, by registry name ("add", "linalg.inv", "getitem"...),
#: and the ef.nn functions composed of such ops ("nn.conv1d", "nn.layer_norm"...), which are
#: checked the same way on every backend although they need no kernel of their own.
OPDB: dict[str, OpInfo] = {}


def _register(infos) -> None:
    for info in infos:
        if info.name in OPDB:
            raise ValueError(f"opdb: {info.name!r} is described twice")
        OPDB[info.name] = info


def _load() -> None:
    from . import (
        _creation,
        _elementwise,
        _fft,
        _indexing,
        _linalg,
        _manipulation,
        _nn,
        _nn_functions,
        _random,
        _reductions,
        _searching,
        _special,
        _tf_array,
        _tf_indexing,
    )
    for family in (_elementwise, _creation, _indexing, _linalg, _manipulation, _reductions,
                   _searching, _random, _fft, _special, _nn, _nn_functions, _tf_array,
                   _tf_indexing):
        _register(family.INFOS)


_load()

__all__ = ["OPDB", "ErrorCase", "OpInfo", "Sample"]
