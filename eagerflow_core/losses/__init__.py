"""``ef.losses``: Keras' losses, as functions (one loss per example) and as classes (a
function plus a reduction and ``sample_weight``).

>>> import eagerflow_core as ef
>>> logits = ef.constant([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
>>> labels = ef.constant([0, 2])
>>> ef.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
ef.Tensor([0.16984603, 0.15200841], shape=(2,), dtype=float32, device='cpu:0')
>>> ef.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
ef.Tensor(0.16092722, shape=(), dtype=float32, device='cpu:0')
"""

from ._classes import (BinaryCrossentropy, CategoricalCrossentropy, Loss, LossFunctionWrapper,
                       MeanAbsoluteError, MeanSquaredError, SparseCategoricalCrossentropy)
from ._functions import (binary_crossentropy, categorical_crossentropy, mae,
                         mean_absolute_error, mean_squared_error, mse,
                         sparse_categorical_crossentropy)

_BY_NAME = {
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "MeanSquaredError": MeanSquaredError, "MeanAbsoluteError": MeanAbsoluteError,
    "BinaryCrossentropy": BinaryCrossentropy, "CategoricalCrossentropy": CategoricalCrossentropy,
    "SparseCategoricalCrossentropy": SparseCategoricalCrossentropy,
}


def get(identifier):
    """A loss by name (``"mse"``, ``"sparse_categorical_crossentropy"``, a class name gives an
    instance), or ``identifier`` itself if it is callable (Keras' ``losses.get``).

    >>> import eagerflow_core as ef
    >>> ef.losses.get("mse") is ef.losses.mean_squared_error
    True
    """
    from .._errors import InvalidArgumentError
    if callable(identifier):
        return identifier
    found = _BY_NAME.get(identifier) if isinstance(identifier, str) else None
    if found is None:
        raise InvalidArgumentError(f"losses.get: unknown loss {identifier!r}; known: "
                                   f"{', '.join(sorted(_BY_NAME))}")
    return found() if isinstance(found, type) else found


__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "Loss", "LossFunctionWrapper",
           "MeanAbsoluteError", "MeanSquaredError", "SparseCategoricalCrossentropy",
           "binary_crossentropy", "categorical_crossentropy", "get", "mae",
           "mean_absolute_error", "mean_squared_error", "mse", "sparse_categorical_crossentropy"]
