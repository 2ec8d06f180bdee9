"""Automatic differentiation: tapes, the functional API, custom gradients, Variables."""

from .composite import composite
from .custom import custom_gradient, identity, stop_gradient
from .functional import grad, hessian, jacobian, jvp, value_and_grad, vjp
from .tape import GradientTape, GradientTapeError
from .variable import Variable

__all__ = ["GradientTape", "GradientTapeError", "Variable", "grad", "value_and_grad", "vjp",
           "jvp", "jacobian", "hessian", "custom_gradient", "stop_gradient", "identity", "composite"]
