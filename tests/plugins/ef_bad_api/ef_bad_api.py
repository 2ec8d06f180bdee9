"""A plugin built for a plugin API version this core does not speak."""

import numpy as np

from eagerflow_core.plugins import ArrayAPIBackend, hookimpl


class FutureBackend(ArrayAPIBackend):
    name = "bad_api"
    device_type = "future"
    api_version = 99
    namespace = np


@hookimpl
def eagerflow_backend():
    return FutureBackend()
