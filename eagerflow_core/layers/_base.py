"""``ef.layers.Layer``: a Module that builds its weights from the first input it sees (Keras).

The life of a layer:

1. ``__init__`` stores the configuration; no weights exist yet.
2. The first ``layer(x)`` checks ``x`` against the layer's ``input_spec`` and calls
   ``build(x.shape)``, which makes the weights with ``add_weight`` on ``x``'s device. Building
   runs eagerly and unrecorded even inside a gradient tape or an ``ef.function`` trace
   (TensorFlow's ``init_scope``): initial values are concrete, and a traced step captures the
   new Variables by reference.
3. Every call checks the input spec (so a Dense built for 784 features given 100 says so, with
   both shapes), casts floating inputs to the layer's dtype (Keras' autocasting), and runs
   ``call(inputs, ...)``.

``training`` reaches ``call`` when it declares the argument; a layer called without it inherits
the value of the layer call it runs inside (Keras' call context), so ``model(x, training=True)``
puts every Dropout and BatchNormalization of a model in training mode, however deep, even
through a subclass's hand-written ``call``.

Weights are ordinary Variables held by attributes (``self.kernel = self.add_weight(...)``), so
``ef.Module``'s walk, checkpoints and deferred restores see them; one that ``add_weight`` made
and no attribute holds is tracked under its name all the same.
"""

from __future__ import annotations

import inspect
import threading

from .._dtypes import as_dtype, float32
from .._errors import ArgumentTypeError, InvalidArgumentError, ShapeError
from .._init_scope import init_scope
from .._tensor import Tensor
from ..autodiff.variable import Variable
from ..module import Module
from ..ops.creation import asarray, astype
from .. import initializers


class _CallContext(threading.local):
    training = None  # the `training` value of the innermost layer call running on this thread


_context = _CallContext()
_TAKES_TRAINING: dict[type, bool] = {}


def takes_training(fn) -> bool:
    """Whether ``fn`` (a layer's ``call``, a Module's ``__call__``) accepts ``training=``."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "training" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _call_takes_training(layer) -> bool:
    cls = type(layer)
    known = _TAKES_TRAINING.get(cls)
    if known is None:
        known = _TAKES_TRAINING[cls] = takes_training(layer.call)
    return known


def shape_str(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


class InputSpec:
    """What a layer accepts (Keras' ``InputSpec``): a rank (``ndim``, or ``min_ndim``) and
    sizes of given axes (``axes={-1: 784}``). ``hint`` says what the input should be."""

    __slots__ = ("ndim", "min_ndim", "axes", "hint")

    def __init__(self, ndim=None, min_ndim=None, axes=None, hint=""):
        self.ndim, self.min_ndim, self.axes, self.hint = ndim, min_ndim, dict(axes or {}), hint

    def check(self, layer: "Layer", x) -> None:
        shape = getattr(x, "shape", None)
        if shape is None:
            return
        n = len(shape)
        if (self.ndim is not None and n != self.ndim) or \
                (self.min_ndim is not None and n < self.min_ndim):
            want = f"ndim={self.ndim}" if self.ndim is not None else f"ndim>={self.min_ndim}"
            raise ShapeError(f"{layer._ef_who()}: expected an input with {want}{self.hint}, got "
                             f"ndim={n}: shape {shape_str(shape)}")
        for axis, size in self.axes.items():
            got = shape[axis] if -n <= axis < n else None
            if got is not None and got != size:
                built = layer.__dict__.get("_ef_build_shape")
                since = f" (it was built for input shape {shape_str(built)})" if built else ""
                raise ShapeError(f"{layer._ef_who()}: expected axis {axis} of the input to have "
                                 f"size {size}{since}, got an input of shape {shape_str(shape)}")


class Layer(Module):
    """Base class of ``ef.layers``: subclass it and write ``build(input_shape)`` (make weights
    with :meth:`add_weight`) and ``call(inputs, training=None)``; or just ``call``, for a layer
    without weights of its own (sub-layers build themselves).

    >>> import eagerflow_core as ef
    >>> class Scale(ef.layers.Layer):
    ...     def build(self, input_shape):
    ...         self.alpha = self.add_weight("alpha", (input_shape[-1],), "ones")
    ...     def call(self, inputs, training=None):
    ...         return inputs * self.alpha if training else inputs
    >>> layer = Scale()
    >>> layer.built, layer(ef.ones((2, 3)), training=True).shape, layer.built
    (False, (2, 3), True)
    >>> [(w.name, w.shape) for w in layer.weights], layer.count_params()
    ([('alpha', (3,))], 3)
    """

    input_spec: InputSpec | None = None

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        if kwargs:
            raise ArgumentTypeError(f"{type(self).__name__}: unexpected keyword arguments "
                                    f"{sorted(kwargs)}")
        super().__init__(name=name)
        self.trainable = bool(trainable)
        self.built = False
        dt = float32 if dtype is None else as_dtype(dtype)
        object.__setattr__(self, "_ef_dtype", dt)
        object.__setattr__(self, "_ef_extra", {})  # add_weight's Variables, by unique name
        object.__setattr__(self, "_ef_device", None)  # where build puts the weights

    # -- identity ------------------------------------------------------------------------------
    @property
    def dtype(self):
        """The dtype of the layer's weights and of the floating inputs it computes with."""
        return self.__dict__.get("_ef_dtype", float32)

    def _ef_who(self) -> str:
        return f"{type(self).__name__} {self.name!r}"

    # -- building ------------------------------------------------------------------------------
    def build(self, input_shape) -> None:
        """Make the weights, knowing the input's shape (batch axis included). The default
        makes none."""

    def add_weight(self, name=None, shape=None, initializer=None, trainable=True, dtype=None,
                   *, device=None) -> Variable:
        """A new Variable of ``shape`` from ``initializer`` (a name, an ``ef.initializers``
        instance or a callable ``f(shape, dtype)``; default ``glorot_uniform`` for floating
        weights, ``zeros`` otherwise), part of this layer's weights. Assign it to an attribute
        (``self.kernel = ...``) to reach it by name; checkpoints find it either way."""
        shape = () if shape is None else tuple(int(d) for d in shape)
        dt = self.dtype if dtype is None else as_dtype(dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dt.kind == "f" else "zeros"
        init = initializers.get(initializer, who=f"{self._ef_who()}: add_weight")
        device = device if device is not None else self.__dict__.get("_ef_device")
        with init_scope():
            if isinstance(init, initializers.Initializer):
                value = init(shape, dtype=dt, device=device)
            else:
                value = asarray(init(shape, dtype=dt), device=device)
            if tuple(value.shape) != shape:
                raise ShapeError(f"{self._ef_who()}: the initializer of weight {name!r} returned "
                                 f"shape {tuple(value.shape)}, not {shape}")
            var = Variable(value, trainable=trainable, name=name or "variable")
            self._ef_track_extra(var)
        return var

    def _ef_track_extra(self, var: Variable) -> None:
        extra = self._ef_extra
        key, n = var.name, 1
        while key in extra:
            key, n = f"{var.name}_{n}", n + 1
        extra[key] = var
        pending = self.__dict__.get("_ef_pending")
        if pending and key in pending and key not in self.__dict__:
            node = pending.pop(key)  # a checkpoint restored before the layer was built
            if not node._ef_bind(var):
                pending[key] = node

    def _tracked_children(self):
        own = super()._tracked_children()
        extra = self.__dict__.get("_ef_extra")
        if not extra:
            return own
        held = {id(v) for _, v in own}
        return own + [(k, v) for k, v in extra.items() if id(v) not in held]

    def _ef_build_from(self, inputs) -> None:
        shape = tuple(inputs.shape) if hasattr(inputs, "shape") else None
        object.__setattr__(self, "_ef_device", getattr(inputs, "device", None))
        with init_scope():
            self.build(shape)
        object.__setattr__(self, "_ef_build_shape", shape)
        self.built = True

    # -- calling -------------------------------------------------------------------------------
    def call(self, inputs, *args, **kwargs):
        """The layer's computation; subclasses write it."""
        raise NotImplementedError(f"{type(self).__name__} must define call(inputs, ...)")

    def _ef_convert(self, x):
        """Keras' autocasting: floating inputs computed in the layer's dtype; arrays and
        lists become tensors."""
        if isinstance(x, Tensor):
            if x._dtype.kind == "f" and x._dtype is not self.dtype:
                return astype(x, self.dtype)
            return x
        if isinstance(x, (Variable, dict, tuple)) or x is None or isinstance(x, Module):
            return x
        if hasattr(x, "__array__") or isinstance(x, (list, float, int)):
            return self._ef_convert(asarray(x))
        return x

    def __call__(self, *args, **kwargs):
        if args:
            inputs, rest = self._ef_convert(args[0]), args[1:]
        elif "inputs" in kwargs:
            inputs, rest = self._ef_convert(kwargs.pop("inputs")), ()
        else:
            raise ArgumentTypeError(f"{self._ef_who()}: called without inputs")
        spec = self.input_spec
        if spec is not None:
            spec.check(self, inputs)
        building = not self.built
        if building:
            self._ef_build_from(inputs)
            spec = self.input_spec  # build may have narrowed it (the sizes now known)
            if spec is not None:
                spec.check(self, inputs)
        training = kwargs.get("training")
        outer = _context.training
        if training is None:
            training = outer
        if _call_takes_training(self):
            kwargs["training"] = training
        else:
            kwargs.pop("training", None)
        _context.training = training
        try:
            out = self.call(inputs, *rest, **kwargs)
        finally:
            _context.training = outer
        if building:
            object.__setattr__(self, "_ef_output_shape", getattr(out, "shape", None))
        return out

    # -- weights -------------------------------------------------------------------------------
    def _ef_state_ids(self) -> set[int]:
        """Variables that are state but not weights (a Dropout's random-seed counter, a
        metric's totals): Keras leaves them out of ``weights``."""
        return {id(v) for m in self.submodules if getattr(m, "_ef_not_weights", False)
                for v in m.variables}

    @property
    def weights(self) -> list[Variable]:
        """Every weight of this layer and its sub-layers: its own first, then each
        sub-layer's (Keras 3's order; random-seed state excluded)."""
        skip = self._ef_state_ids()
        return [v for v in self.variables if id(v) not in skip]

    @property
    def trainable_weights(self) -> list[Variable]:
        """The weights that training updates (none when ``trainable`` is False)."""
        skip = self._ef_state_ids()
        return [v for v in self.trainable_variables if id(v) not in skip]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        """The other weights (BatchNormalization's moving statistics; all of a frozen
        layer's)."""
        skip = self._ef_state_ids()
        return [v for v in self.non_trainable_variables if id(v) not in skip]

    def get_weights(self) -> list:
        """The weights' values as NumPy arrays, in ``weights`` order."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights) -> None:
        """Assign NumPy arrays (or tensors) to the weights, in ``weights`` order; the count and
        every shape must match."""
        mine, weights = self.weights, list(weights)
        if len(weights) != len(mine):
            listed = ", ".join(f"{v.name!r} {shape_str(v.shape)}" for v in mine)
            raise InvalidArgumentError(f"{self._ef_who()}: set_weights got {len(weights)} "
                                       f"arrays for its {len(mine)} weights [{listed}]")
        for var, value in zip(mine, weights):
            got = tuple(getattr(value, "shape", ()) or asarray(value).shape)
            if got != tuple(var.shape):
                raise ShapeError(f"{self._ef_who()}: set_weights: weight {var.name!r} has shape "
                                 f"{shape_str(var.shape)}, the array given for it "
                                 f"{shape_str(got)}")
        for var, value in zip(mine, weights):
            var.assign(value)

    def _ef_unbuilt(self) -> list["Layer"]:
        """This layer and the sub-layers that are not built yet."""
        found = [self] if not self.built else []
        return found + [m for m in self.submodules if isinstance(m, Layer) and not m.built]

    def count_params(self) -> int:
        """The number of scalars in the weights (built layers only)."""
        unbuilt = self._ef_unbuilt()
        if unbuilt:
            raise InvalidArgumentError(f"{self._ef_who()}: count_params needs built layers; "
                                       f"{unbuilt[0]._ef_who()} is not built yet: call the "
                                       f"model on a batch first")
        return sum(v.size for v in self.weights)

    def __repr__(self):
        return f"<ef.layers.{type(self).__name__} name={self.name!r} built={self.built}>"


__all__ = ["InputSpec", "Layer", "init_scope"]
