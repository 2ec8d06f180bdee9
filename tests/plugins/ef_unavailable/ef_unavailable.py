"""A plugin that is installed but whose device this machine does not have."""

from eagerflow_core.plugins import Backend, hookimpl


class AbsentBackend(Backend):
    name = "unavailable"
    device_type = "absent"

    def is_available(self):
        return False, "no toy accelerator is plugged in"

    def initialize(self):
        raise AssertionError("an unavailable backend must never be initialised")


@hookimpl
def eagerflow_backend():
    return AbsentBackend()
