"""A plugin whose module cannot be imported: a dependency is missing."""

import eagerflow_test_missing_dependency  # noqa: F401

from eagerflow_core.plugins import hookimpl


@hookimpl
def eagerflow_backend():
    raise AssertionError("never reached")
