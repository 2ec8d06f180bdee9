"""Input pipelines (TensorFlow's ``tf.data``): ``ef.data.Dataset``.

>>> import numpy as np
>>> from eagerflow_core import data
>>> images, labels = np.zeros((100, 28, 28), np.float32), np.arange(100) % 10
>>> ds = (data.Dataset.from_tensor_slices((images, labels))
...       .shuffle(100, seed=0).batch(32).prefetch(data.AUTOTUNE))
>>> [tuple(x.shape) for x, y in ds]
[(32, 28, 28), (32, 28, 28), (32, 28, 28), (4, 28, 28)]

The package is split by purpose: ``_dataset.py`` (the class, sources, inspection),
``_transformations.py`` (its methods), and one module per kind of step (``_sources``,
``_order``, ``_shuffle``, ``_batch``, ``_map``, ``_prefetch``, ``_combine``, ``_generator``);
``_node.py`` explains how batches are gathered from a source without stacking.
"""

from ._dataset import Dataset
from ._function import DatasetFunctionError
from ._map import AUTOTUNE
from ._node import INFINITE as INFINITE_CARDINALITY
from ._node import UNKNOWN as UNKNOWN_CARDINALITY
from ._spec import TensorSpec

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "Dataset",
           "DatasetFunctionError", "TensorSpec"]
