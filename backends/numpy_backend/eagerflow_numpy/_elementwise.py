"""NumPy overrides for the elementwise ops (the kit's table covers the rest)."""

from __future__ import annotations

import numpy as np  # noqa: F401

KERNELS: dict = {}
