"""``ef.function``: trace Python functions into graphs and replay them (see ``api.py``).

The parts: ``graph.py`` (the traced program), ``tracer.py`` (the interpreter that builds it),
``compile.py`` (lowering to one generated Python function of kernel calls), ``passes.py``
(dead code, common subexpressions, constant folding, algebraic simplification).
"""

from .api import ConcreteFunction, Function, RetracingWarning, TensorSpec, function
from .control_flow import cond, switch_case
from .tracer import TracingError

__all__ = ["cond", "switch_case", "function", "Function", "ConcreteFunction", "TensorSpec", "RetracingWarning",
           "TracingError"]
