"""A second distribution whose entry point takes the plugin name ``"toy"`` again."""

import numpy as np

from eagerflow_core.plugins import ArrayAPIBackend, hookimpl


class ToyDupBackend(ArrayAPIBackend):
    name = "toy"
    device_type = "toydup"
    namespace = np


@hookimpl
def eagerflow_backend():
    return ToyDupBackend()
