"""``ef.layers``: Keras' layers on eagerflow ops, built lazily from the first input.

Every layer is an ``ef.Module`` (its weights are Variables it tracks, so checkpoints, optimizers
and ``trainable_variables`` find them) and builds its weights on the first call, from the
input's shape and on the input's device, with Keras' default initialisers drawn from
``ef.random`` (``ef.random.set_seed`` makes a model's initial weights reproducible). Layouts
are Keras' (channels-last images, ``(in, out)`` Dense kernels, HWIO convolution kernels).

>>> import eagerflow_core as ef
>>> from eagerflow_core import layers
>>> model = layers.Sequential([layers.Conv2D(4, 3, activation="relu"), layers.MaxPool2D(2),
...                            layers.Flatten(), layers.Dense(10)])
>>> model(ef.ones((2, 8, 8, 1))).shape
(2, 10)
>>> [tuple(v.shape) for v in model.trainable_variables]
[(3, 3, 1, 4), (4,), (36, 10), (10,)]
"""

from . import _activations as activations
from ._activations import Activation
from ._base import InputSpec, Layer, init_scope
from ._conv import Conv1D, Conv2D, Convolution1D, Convolution2D
from ._core import Dense, Embedding, Flatten
from ._dropout import Dropout, SeedGenerator
from ._normalization import BatchNormalization, LayerNormalization
from ._pooling import (AveragePooling2D, AvgPool2D, GlobalAveragePooling2D, GlobalAvgPool2D,
                       GlobalMaxPool2D, GlobalMaxPooling2D, MaxPool2D, MaxPooling2D)
from ._sequential import Sequential

__all__ = ["Activation", "AvgPool2D", "AveragePooling2D", "BatchNormalization", "Conv1D",
           "Conv2D", "Convolution1D", "Convolution2D", "Dense", "Dropout", "Embedding",
           "Flatten", "GlobalAveragePooling2D", "GlobalAvgPool2D", "GlobalMaxPool2D",
           "GlobalMaxPooling2D", "InputSpec", "Layer", "LayerNormalization", "MaxPool2D",
           "MaxPooling2D", "SeedGenerator", "Sequential", "activations", "init_scope"]
