"""eagerflow's testing kit, shipped in the package so that backend authors test the same way.

- ``strategies``: hypothesis strategies for dtypes, shapes and host arrays.
- ``assert_close``: compare a tensor with a NumPy reference, with per-dtype tolerances.
- ``check_grads``: reverse-mode gradients against central differences, to any order.

Importing this module needs ``hypothesis`` only for ``strategies``.
"""

from ._compare import TOLERANCES, assert_close, reference
from .gradcheck import GradientCheckError, check_grads, check_vjp

__all__ = ["assert_close", "reference", "TOLERANCES", "check_grads", "check_vjp",
           "GradientCheckError"]
