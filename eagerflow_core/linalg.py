"""The Array API ``linalg`` extension: ``ef.linalg.inv``, ``ef.linalg.svd``, ...

The ops are defined by purpose in ``ops/``: ``linalg_decomp.py`` (decompositions),
``linalg_solve.py`` (inverses, determinants, solving, powers, rank, norms) and ``linalg.py``
(products and diagonals, with the main namespace's matmul, matrix_transpose, tensordot and
vecdot); this module is their public namespace.
"""

from .ops.linalg import (cross, diagonal, matmul, matrix_transpose, outer, tensordot, trace,
                         vecdot)
from .ops.linalg_decomp import (EighResult, QRResult, SVDResult, cholesky, eigh, eigvalsh, qr,
                                svd, svdvals)
from .ops.linalg_solve import (SlogdetResult, det, inv, matrix_norm, matrix_power, matrix_rank,
                               pinv, slogdet, solve, vector_norm)

__all__ = ["EighResult", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "cross", "det",
           "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm", "matrix_power",
           "matrix_rank", "matrix_transpose", "outer", "pinv", "qr", "slogdet", "solve", "svd",
           "svdvals", "tensordot", "trace", "vecdot", "vector_norm"]
