"""``tape.explain(target, source)``: why a gradient is None, in one sentence.

The answer users of TensorFlow look for in issue threads (tensorflow#42984, #56968): unwatched
source, unconnected target, integer dtype, values that left through ``.numpy()``, a
``stop_gradient``, or an op without a gradient on the way.
"""

from __future__ import annotations

from .._tensor import Tensor


def explain(tape, target, source) -> str:
    is_var = hasattr(source, "_ef_variable_")
    if not (is_var or isinstance(source, Tensor)):
        return f"the source is a {type(source).__name__}, not a tensor or Variable"
    name = f"Variable {source.name!r}" if is_var else "the source"
    if source.dtype.kind not in "fc":
        return (f"{name} has dtype {source.dtype}: integer and bool tensors have no gradient; "
                f"cast it to a float dtype before using it")
    src_ids = tape._source_tids(source)
    if not src_ids and tape._used:
        return ("this non-persistent tape already computed a gradient and freed its records; "
                "use GradientTape(persistent=True) to ask explain() after gradient()")
    if not src_ids:
        if is_var and not source.trainable:
            return f"{name} is not trainable, so the tape does not watch it; call tape.watch(v)"
        if is_var and not tape._watch_vars:
            return (f"{name} was not watched: the tape has watch_accessed_variables=False and "
                    f"tape.watch(v) was not called")
        if is_var:
            return f"{name} was never read while the tape was recording"
        return ("the source was never watched by this tape: call tape.watch(x) inside the "
                "`with` block before using x (or make it a trainable ef.Variable)")
    t_id = getattr(target, "_tid", None) or None
    if not isinstance(target, Tensor):
        return f"the target is a {type(target).__name__}, not a tensor"
    # Which tids does the source reach, and through which op?
    reached = {i: None for i in src_ids}
    for op, inputs, _, outs in tape._entries:
        if any(isinstance(x, Tensor) and x._tid in reached for x in inputs):
            for o in outs:
                reached.setdefault(o._tid, op.name)
    # Blocked steps downstream of the source (noted in time order: one pass follows chains).
    cut = {}
    for i, why in tape._blocked.items():
        ins = tape._blocked_from.get(i)
        if ins is None or any(j in reached or j in cut for j in ins):
            cut[i] = why
    if t_id is not None and t_id in reached:
        if t_id in src_ids:
            return "the target is the source itself: the gradient is ones"
        return f"the gradient flows: the target depends on {name} (last op: {reached[t_id]!r})"
    if t_id is not None and t_id in cut:
        return f"the target depends on {name} only through a blocked step: {cut[t_id]}"
    blocked = list(cut.values())
    exported = [how for i, how in tape._exported.items() if i in reached]
    if exported:
        return (f"values computed from {name} left eagerflow through {exported[0]}; ops on NumPy "
                f"values are not recorded, so the target is not connected to the source")
    if t_id is None or t_id not in tape._tracked:
        hint = f" (blocked on the way: {blocked[0]})" if blocked else ""
        return ("the target was not computed from the source while this tape was recording "
                "(computed before the `with` block, outside it, or from other tensors)" + hint)
    if blocked:
        return f"the target is not connected to {name}; on the way: {blocked[0]}"
    return f"the target does not depend on {name}"
