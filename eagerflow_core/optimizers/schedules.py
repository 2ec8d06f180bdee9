"""Learning-rate schedules: Keras' ``keras.optimizers.schedules``, same names and formulas.

A schedule maps the optimizer's step (``iterations``, 0 on the first update) to a learning
rate. Calling one returns a float32 scalar tensor, as in Keras; optimizers ask the built-in
schedules for a Python float instead (``_value``), computed on the host from the step they
already know, so a schedule costs no op and no device sync per step. A schedule of your own
subclasses ``LearningRateSchedule`` and defines ``__call__(step)``, in eagerflow ops or plain
Python; the optimizer then calls it with its ``iterations`` Variable, as Keras does.

>>> import eagerflow_core as ef
>>> sched = ef.optimizers.schedules.ExponentialDecay(1.0, decay_steps=10, decay_rate=0.5)
>>> float(sched(20)), float(sched(5))
(0.25, 0.7071067690849304)
"""

from __future__ import annotations

import math

from .._errors import InvalidArgumentError


class LearningRateSchedule:
    """Base class: ``schedule(step)`` is the learning rate at ``step``."""

    def __call__(self, step):
        from .._dtypes import float32
        from ..ops.creation import constant
        return constant(self._value(float(step)), dtype=float32)

    def _value(self, step: float) -> float:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(step)")

    def _host_value(self, step: int, step_variable) -> float:
        """The rate as a Python float: computed here for schedules whose ``__call__`` is the
        base one, else ``float(self(step_variable))`` (the user's own ``__call__``)."""
        if type(self).__call__ is LearningRateSchedule.__call__:
            return self._value(float(step))
        return float(self(step_variable))

    def get_config(self) -> dict:
        """The constructor arguments (Keras' ``get_config``)."""
        return dict(self._config)

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args})"


def _positive(what: str, value) -> None:
    if not value > 0:
        raise InvalidArgumentError(f"`{what}` must be > 0, got {value!r}")


class _TimeDecay(LearningRateSchedule):
    """What ExponentialDecay and InverseTimeDecay share: the decay exponent
    ``step / decay_steps``, floored with ``staircase``."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase, name):
        _positive("decay_steps", decay_steps)
        self._config = dict(initial_learning_rate=initial_learning_rate, decay_steps=decay_steps,
                            decay_rate=decay_rate, staircase=staircase, name=name)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def _exponent(self, step):
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p


class ExponentialDecay(_TimeDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; with ``staircase`` the
    exponent is floored (the rate drops every ``decay_steps`` steps)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def _value(self, step):
        return self.initial_learning_rate * self.decay_rate ** self._exponent(step)


class InverseTimeDecay(_TimeDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (floored ratio with
    ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def _value(self, step):
        return self.initial_learning_rate / (1 + self.decay_rate * self._exponent(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last boundary.

    >>> import eagerflow_core as ef
    >>> s = ef.optimizers.schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    >>> [float(s(t)) for t in (0, 10, 11, 20, 21)]
    [1.0, 1.0, 0.5, 0.5, 0.10000000149011612]
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        boundaries, values = list(boundaries), list(values)
        if len(values) != len(boundaries) + 1:
            raise InvalidArgumentError(f"PiecewiseConstantDecay: {len(boundaries)} boundaries "
                                       f"need {len(boundaries) + 1} values, got {len(values)}")
        if any(b >= a for b, a in zip(boundaries, boundaries[1:])):
            raise InvalidArgumentError(f"PiecewiseConstantDecay: boundaries must be increasing, "
                                       f"got {boundaries}")
        self._config = dict(boundaries=boundaries, values=values, name=name)
        self.boundaries, self.values, self.name = boundaries, values, name

    def _value(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps``:
    ``(initial - end) * (1 - step / decay_steps) ** power + end``, then ``end`` (or, with
    ``cycle``, again from the next multiple of ``decay_steps``)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        _positive("decay_steps", decay_steps)
        self._config = dict(initial_learning_rate=initial_learning_rate, decay_steps=decay_steps,
                            end_learning_rate=end_learning_rate, power=power, cycle=cycle,
                            name=name)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle = end_learning_rate, power, cycle
        self.name = name

    def _value(self, step):
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / decay_steps)
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return ((self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** self.power
                + self.end_learning_rate)


class CosineDecay(LearningRateSchedule):
    """Cosine decay from ``initial_learning_rate`` (or, after a linear warm-up of
    ``warmup_steps`` from ``initial_learning_rate`` to ``warmup_target``, from
    ``warmup_target``) to ``alpha`` times that over ``decay_steps``: Keras' formula
    ``rate * ((1 - alpha) * 0.5 * (1 + cos(pi * t / decay_steps)) + alpha)``.

    >>> import eagerflow_core as ef
    >>> s = ef.optimizers.schedules.CosineDecay(0.0, decay_steps=100, warmup_target=1.0,
    ...                                         warmup_steps=10)
    >>> [round(float(s(t)), 4) for t in (0, 5, 10, 60, 110, 500)]
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _positive("decay_steps", decay_steps)
        if warmup_target is not None:
            _positive("warmup_steps", warmup_steps)
        self._config = dict(initial_learning_rate=initial_learning_rate, decay_steps=decay_steps,
                            alpha=alpha, name=name, warmup_target=warmup_target,
                            warmup_steps=warmup_steps)
        self.initial_learning_rate, self.decay_steps, self.alpha = (initial_learning_rate,
                                                                    decay_steps, alpha)
        self.warmup_target, self.warmup_steps, self.name = warmup_target, warmup_steps, name

    def _decayed(self, step, rate):
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return rate * ((1 - self.alpha) * cosine + self.alpha)

    def _value(self, step):
        if self.warmup_target is None:
            return self._decayed(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return delta * (step / self.warmup_steps) + self.initial_learning_rate
        return self._decayed(step - self.warmup_steps, self.warmup_target)


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR: cosine decay over ``first_decay_steps``, then restarts, each period ``t_mul``
    times longer and ``m_mul`` times lower (Keras' formula)."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        _positive("first_decay_steps", first_decay_steps)
        self._config = dict(initial_learning_rate=initial_learning_rate,
                            first_decay_steps=first_decay_steps, t_mul=t_mul, m_mul=m_mul,
                            alpha=alpha, name=name)
        self.initial_learning_rate, self.first_decay_steps = (initial_learning_rate,
                                                              first_decay_steps)
        self.t_mul, self.m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def _value(self, step):
        fraction = step / self.first_decay_steps
        if self.t_mul == 1.0:
            i_restart = math.floor(fraction)
            fraction -= i_restart
        else:
            i_restart = math.floor(math.log(1.0 - fraction * (1.0 - self.t_mul))
                                   / math.log(self.t_mul))
            done = (1.0 - self.t_mul ** i_restart) / (1.0 - self.t_mul)
            fraction = (fraction - done) / self.t_mul ** i_restart
        cosine = 0.5 * self.m_mul ** i_restart * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)


class LinearWarmup(LearningRateSchedule):
    """A linear warm-up in front of another schedule (or a constant rate): from
    ``initial_learning_rate`` at step 0 up to ``after(0)`` at ``warmup_steps``, then
    ``after(step - warmup_steps)``.

    >>> import eagerflow_core as ef
    >>> decay = ef.optimizers.schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)
    >>> s = ef.optimizers.schedules.LinearWarmup(decay, warmup_steps=4)
    >>> [float(s(t)) for t in range(7)]
    [0.0, 0.25, 0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(self, after, warmup_steps, initial_learning_rate=0.0, name="LinearWarmup"):
        _positive("warmup_steps", warmup_steps)
        if not isinstance(after, LearningRateSchedule):
            after = float(after)
        self._config = dict(after=after, warmup_steps=warmup_steps,
                            initial_learning_rate=initial_learning_rate, name=name)
        self.after, self.warmup_steps = after, warmup_steps
        self.initial_learning_rate, self.name = initial_learning_rate, name

    def _after(self, step):
        if isinstance(self.after, LearningRateSchedule):
            return self.after._host_value(step, step)
        return self.after

    def _value(self, step):
        if step >= self.warmup_steps:
            return self._after(step - self.warmup_steps)
        target = self._after(0.0)
        return self.initial_learning_rate + (target - self.initial_learning_rate) * (
            step / self.warmup_steps)
