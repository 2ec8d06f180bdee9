"""``ef.saved_model``: save a traced function and load it back without its Python source
(TensorFlow's ``tf.saved_model.save`` / ``load``). See ``function/export.py`` for the format."""

from .function.export import ExportError, LoadedFunction, load, save

__all__ = ["save", "load", "LoadedFunction", "ExportError"]
