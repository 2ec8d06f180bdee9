"""A plugin whose hook raises (a driver that fails at discovery)."""

from eagerflow_core.plugins import hookimpl


@hookimpl
def eagerflow_backend():
    raise RuntimeError("the toy driver exploded")
