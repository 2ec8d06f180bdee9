"""A plugin module that forgot its hook."""


def eagerflow_backend():  # not decorated with hookimpl
    return None
