"""The errors of ``eagerflow_core.distributed``.

Each names the collective, the rank that raised and what the user can do; each subclasses the
built-in a user would catch (``RuntimeError``, ``TimeoutError``, ``ValueError``) and
``ef.EagerflowError``.
"""

from __future__ import annotations

from .._errors import EagerflowError


class DistributedError(EagerflowError, RuntimeError):
    """A collective failed (a peer died, MPI or NCCL reported an error), was called before
    ``dist.init()``, or after an earlier failure broke the world."""


class DistributedTimeoutError(DistributedError, TimeoutError):
    """A collective did not complete within the timeout (``EAGERFLOW_DIST_TIMEOUT``,
    ``dist.init(timeout=...)``): a peer rank died, hangs, or called another collective."""


class CollectiveMismatchError(DistributedError, ValueError):
    """The ranks called a collective with different shapes, dtypes, ops or roots, or called
    different collectives (found by the check mode, ``EAGERFLOW_DIST_CHECK=1``)."""
