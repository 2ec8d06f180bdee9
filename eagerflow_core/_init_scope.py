"""``ef.init_scope``: run code eagerly and unrecorded, even inside a trace or under a tape.

TensorFlow's ``tf.init_scope``. State made lazily (a layer's weights on its first call, an
optimizer's slots on its first step) must be made with concrete values, once, whatever is
running around it: inside ``ef.function`` a tracer would turn the initial values into graph
nodes, and a gradient tape would record their computation. Inside this scope neither sees
anything; the Variables made here are then read and updated by reference from the trace.

>>> import eagerflow_core as ef
>>> made = []
>>> @ef.function
... def f(x):
...     if not made:
...         with ef.init_scope():
...             made.append(ef.Variable(ef.ones(x.shape)))  # a concrete value, while tracing
...     return x * made[0]
>>> f(ef.constant([1.0, 2.0]))
ef.Tensor([1., 2.], shape=(2,), dtype=float32, device='cpu:0')
"""

from __future__ import annotations

from contextlib import contextmanager

from ._state import state


@contextmanager
def init_scope():
    """No tracer, no tape, no custom-gradient read collection while the block runs."""
    saved = state.interp, state.tapes, state.var_reads
    state.interp, state.tapes, state.var_reads = None, (), ()
    try:
        yield
    finally:
        state.interp, state.tapes, state.var_reads = saved


def tracing() -> bool:
    """Whether an ``ef.function`` tracer is the interpreter below the thread's top one."""
    interp = state.interp
    while interp is not None:
        if getattr(interp, "traces", False):
            return True
        interp = interp.parent
    return False


__all__ = ["init_scope", "tracing"]
