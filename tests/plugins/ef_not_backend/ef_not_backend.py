"""A plugin whose hook returns a plain dict instead of a Backend."""

from eagerflow_core.plugins import hookimpl


@hookimpl
def eagerflow_backend():
    return {"name": "not_backend", "device_type": "nb"}
