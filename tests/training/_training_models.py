"""Modules shared by the training tests."""

from __future__ import annotations

import eagerflow_core as ef


class Lazy(ef.Module):
    """Makes its Variables on the first call, sized from the input (as layers do); until then
    ``kernel`` is a None placeholder."""

    def __init__(self, units, name=None):
        super().__init__(name=name)
        self.units = units
        self.kernel = None

    def __call__(self, x):
        if self.kernel is None:
            n = x.shape[-1]
            self.kernel = ef.Variable(ef.reshape(ef.arange(n * self.units, dtype=ef.float32),
                                                 (n, self.units)) / 10.0, name="kernel")
            self.bias = ef.Variable(ef.zeros((self.units,)), name="bias")
        return ef.tanh(x @ self.kernel + self.bias)
