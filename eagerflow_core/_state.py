"""Per-thread state and the hooks through which upper layers reach down (the bottom module).

Everything that changes how an op call is handled lives here, so that the modules below the
interpreters (the tensor, the registry) can consult it without importing the modules that
set it:

- ``state.interp``: the innermost interpreter of this thread (a gradient tape, a tracer, a
  forward-mode interpreter), or None for plain eager execution. The dispatcher tests it once
  per op call, before any kernel runs (``_dispatch.py``).
- ``state.tapes``: the gradient tapes recording on this thread, innermost last (Variables
  report their reads to them).
- ``hooks``: functions an upper layer installs at its import: ``export`` (a tracked tensor's
  values left eagerflow, for ``tape.explain``) and ``rebind`` (``x[i] = v`` is about to give
  ``x`` a new value, so records holding ``x`` keep the old one).
"""

from __future__ import annotations

import threading


class _State(threading.local):
    interp = None      # the top of this thread's interpreter stack; None: eager
    tapes = ()         # recording GradientTapes, innermost last
    var_reads = ()     # dicts collecting Variable reads (custom_gradient bodies running)


state = _State()


class _Hooks:
    """Set by upper layers at import; None until then (nothing to tell)."""

    export = None      # export(tensor, how): a tensor's values left through numpy(), ...
    rebind = None      # rebind(tensor): the tensor object is about to hold a new value
    namespace = None   # the public module (``import eagerflow_core``), for __array_namespace__

    @staticmethod
    def value_read(tensor, how):  # replaced by ef.function: the error for a traced value read
        return RuntimeError(f"{how} of a tensor without values")


hooks = _Hooks()
