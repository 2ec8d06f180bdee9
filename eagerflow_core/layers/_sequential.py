"""``Sequential``: a stack of layers, each fed the previous one's output."""

from __future__ import annotations

from .._errors import ArgumentTypeError, InvalidArgumentError
from ..ops.creation import zeros
from ._base import Layer, init_scope, shape_str, takes_training


class Sequential(Layer):
    """Calls its layers in order; ``training`` is passed to each layer that takes it.

    ``layers`` may hold ``ef.layers`` layers, any ``ef.Module`` with a ``__call__`` and plain
    callables (``ef.nn.relu``); the weights of Modules are the model's. ``add`` appends.

    >>> import eagerflow_core as ef
    >>> ef.random.set_seed(0)
    >>> model = ef.layers.Sequential([ef.layers.Dense(8, activation="relu", name="hidden"),
    ...                               ef.layers.Dropout(0.5, name="dropout"),
    ...                               ef.layers.Dense(2, name="logits")], name="mlp")
    >>> model(ef.ones((4, 3)), training=True).shape
    (4, 2)
    >>> [w.name for w in model.trainable_weights]
    ['kernel', 'bias', 'kernel', 'bias']
    >>> model.summary()
    Model: "mlp"
    _________________________________________________________________
     Layer (type)                  Output Shape              Param #
    =================================================================
     hidden (Dense)                (None, 8)                 32
     dropout (Dropout)             (None, 8)                 0
     logits (Dense)                (None, 2)                 18
    =================================================================
    Total params: 50
    Trainable params: 50
    Non-trainable params: 0
    _________________________________________________________________
    """

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self.layers = []
        object.__setattr__(self, "_ef_training", [])  # per layer: does it take `training`?
        for layer in layers or ():
            self.add(layer)

    def add(self, layer) -> None:
        """Append a layer (or a Module, or a callable)."""
        if not callable(layer):
            raise ArgumentTypeError(f"Sequential {self.name!r}: add expects a layer or a "
                                    f"callable, got {type(layer).__name__} {layer!r}")
        if isinstance(layer, Layer):
            passes = True  # Layer.__call__ hands `training` on when `call` takes it
        else:
            passes = takes_training(layer)
        self.layers.append(layer)
        self._ef_training.append(passes)
        self.built = False  # a new layer: the next call builds again (Keras' rule)

    def pop(self):
        """Remove and return the last layer."""
        if not self.layers:
            raise InvalidArgumentError(f"Sequential {self.name!r}: pop on a model without "
                                       f"layers")
        self._ef_training.pop()
        return self.layers.pop()

    def build(self, input_shape=None):
        """Build every layer for inputs of ``input_shape`` (``None`` for the batch size) by
        running the layers once on zeros of that shape (Keras' ``model.build``). A model is
        otherwise built by its first call."""
        if input_shape is not None and any(not getattr(layer, "built", True)
                                           for layer in self.layers):
            with init_scope():
                self.call(zeros(tuple(1 if d is None else d for d in input_shape)))
        self.built = True

    def _ef_build_from(self, inputs) -> None:
        # Called by the first __call__: the layers build as the call reaches them.
        object.__setattr__(self, "_ef_build_shape", tuple(inputs.shape))
        self.built = True

    def call(self, inputs, training=None):
        x = inputs
        for layer, passes in zip(self.layers, self._ef_training):
            x = layer(x, training=training) if passes else layer(x)
        return x

    # -- summary -------------------------------------------------------------------------------
    def summary(self, line_length: int = 65, print_fn=None) -> None:
        """Print a table of the layers: name and type, output shape (known once the layer
        ran; the batch size shows as None), parameter count; then the totals."""
        print_fn = print_fn or print
        rows = []
        for layer in self.layers:
            name = getattr(layer, "name", getattr(layer, "__name__", "function"))
            shape = getattr(layer, "__dict__", {}).get("_ef_output_shape")
            shape_text = "?" if shape is None else shape_str((None,) + tuple(shape)[1:])
            if isinstance(layer, Layer):
                params = str(layer.count_params()) if not layer._ef_unbuilt() else "0 (unbuilt)"
            else:
                params = str(sum(v.size for v in getattr(layer, "variables", ())))
            rows.append((f"{name} ({type(layer).__name__})", shape_text, params))
        first = max([30] + [len(r[0]) + 2 for r in rows])
        widths = (first, 26, 15)
        line_length = max(line_length, first + 35)
        trainable = sum(v.size for v in self.trainable_weights)
        every = sum(v.size for v in self.weights)

        def line(cells):
            text = "".join(str(c).ljust(w) for c, w in zip(cells, widths))
            return " " + text.rstrip()

        print_fn(f'Model: "{self.name}"')
        print_fn("_" * line_length)
        print_fn(line(("Layer (type)", "Output Shape", "Param #")))
        print_fn("=" * line_length)
        for row in rows:
            print_fn(line(row))
        print_fn("=" * line_length)
        print_fn(f"Total params: {every:,}")
        print_fn(f"Trainable params: {trainable:,}")
        print_fn(f"Non-trainable params: {every - trainable:,}")
        print_fn("_" * line_length)


__all__ = ["Sequential"]
