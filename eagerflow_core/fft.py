"""The Array API ``fft`` extension: ``ef.fft.fft``, ``ef.fft.rfft``, ``ef.fft.fftfreq``, ...

The ops are defined in ``ops/fft.py``; this module is their public namespace.
"""

from .ops.fft import *
from .ops.fft import __all__  # noqa: F401
