"""The Array API ``linalg`` extension: ``ef.linalg.inv``, ``ef.linalg.svd``, ...

The ops are defined in ``ops/linalg_ext.py``; this module is their public namespace.
"""

from .ops.linalg_ext import *  # noqa: F401,F403
from .ops.linalg_ext import __all__  # noqa: F401
