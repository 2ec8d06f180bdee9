"""``ef.saved_model``: save a traced function and load it back without its Python source
(TensorFlow's ``tf.saved_model.save`` / ``load``). See ``function/export.py`` and
``function/restore.py``."""

from .function.export import ExportError, save
from .function.restore import LoadedFunction, load

__all__ = ["save", "load", "LoadedFunction", "ExportError"]
