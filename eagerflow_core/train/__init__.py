"""``ef.train``: checkpoints (TensorFlow's ``tf.train.Checkpoint`` and ``CheckpointManager``).

Files are NumPy ``.npz`` archives written without pickles and read refusing them, written
atomically (a crash mid-save never damages the previous checkpoint). See ``checkpoint.py`` for
how objects are keyed by path and how values wait for objects that do not exist yet.
"""

from ._io import CheckpointFormatError
from .checkpoint import Checkpoint, CheckpointLoadStatus, latest_checkpoint
from .manager import CheckpointManager

__all__ = ["Checkpoint", "CheckpointManager", "CheckpointLoadStatus", "CheckpointFormatError",
           "latest_checkpoint"]
