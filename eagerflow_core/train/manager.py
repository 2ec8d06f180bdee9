"""``ef.train.CheckpointManager``: numbered checkpoints in a directory, the oldest deleted."""

from __future__ import annotations

import os
import time

from .._errors import InvalidArgumentError
from . import _io
from .checkpoint import Checkpoint


class CheckpointManager:
    """Saves ``checkpoint`` as ``directory/checkpoint_name-N`` and keeps the newest
    ``max_to_keep`` (None keeps all), as TensorFlow's ``tf.train.CheckpointManager``.

    ``keep_checkpoint_every_n_hours`` additionally keeps one checkpoint per that many hours.
    With ``step_counter`` and ``checkpoint_interval``, ``save()`` saves only when the counter
    moved at least that far since the last save. A manager made on a directory that has
    checkpoints picks them up (they count towards ``max_to_keep``).

    >>> import tempfile
    >>> import eagerflow_core as ef
    >>> step = ef.Variable(0)
    >>> manager = ef.train.CheckpointManager(ef.train.Checkpoint(step=step), tempfile.mkdtemp(),
    ...                                      max_to_keep=2)
    >>> for _ in range(3):
    ...     _ = step.assign_add(1)
    ...     _ = manager.save()
    >>> [p.rsplit("/", 1)[-1] for p in manager.checkpoints]
    ['ckpt-2', 'ckpt-3']
    >>> manager.latest_checkpoint == manager.checkpoints[-1]
    True
    """

    def __init__(self, checkpoint: Checkpoint, directory, max_to_keep=5,
                 keep_checkpoint_every_n_hours=None, checkpoint_name="ckpt", step_counter=None,
                 checkpoint_interval=None, init_fn=None):
        if not isinstance(checkpoint, Checkpoint):
            raise InvalidArgumentError(f"CheckpointManager: expected an ef.train.Checkpoint, got "
                                       f"{type(checkpoint).__name__}")
        if max_to_keep is not None and max_to_keep <= 0:
            raise InvalidArgumentError(f"CheckpointManager: max_to_keep must be a positive "
                                       f"number or None, got {max_to_keep!r}")
        if checkpoint_interval is not None and step_counter is None:
            raise InvalidArgumentError("CheckpointManager: checkpoint_interval needs a "
                                       "step_counter")
        self._checkpoint = checkpoint
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._keep_hours = keep_checkpoint_every_n_hours
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter, self._interval = step_counter, checkpoint_interval
        self._last_saved_step = None
        self._init_fn = init_fn
        state = _io.read_state(self._directory) or {}
        latest = state.get("model_checkpoint_path")
        self._latest = None
        if latest is not None and os.path.isfile(_io.data_path(_io.resolve(self._directory,
                                                                           latest))):
            self._latest = _io.resolve(self._directory, latest)
        now = time.time()
        paths = state.get("all_model_checkpoint_paths", [])
        stamps = state.get("all_model_checkpoint_timestamps", [])
        self._kept: dict[str, float] = {}  # path -> time saved, oldest first
        for i, name in enumerate(paths):
            path = _io.resolve(self._directory, name)
            if os.path.isfile(_io.data_path(path)):
                self._kept[path] = stamps[i] if i < len(stamps) else now
        self._last_preserved = state.get("last_preserved_timestamp", now)

    @property
    def directory(self) -> str:
        return self._directory

    @property
    def checkpoint(self) -> Checkpoint:
        return self._checkpoint

    @property
    def checkpoints(self) -> list[str]:
        """The kept checkpoints' paths, oldest first."""
        return list(self._kept)

    @property
    def latest_checkpoint(self) -> str | None:
        """The newest checkpoint's path, or None."""
        return self._latest

    @property
    def checkpoint_interval(self):
        return self._interval

    def save(self, checkpoint_number=None, check_interval=True) -> str | None:
        """Save a new checkpoint and delete the oldest beyond ``max_to_keep``. It is numbered
        ``checkpoint_number`` (an int or an integer Variable) if given, else by the
        checkpoint's ``save_counter``. Returns its path (None if ``checkpoint_interval`` said
        not yet)."""
        if self._interval is not None and check_interval:
            step = int(self._step_counter)
            if self._last_saved_step is not None and step < self._last_saved_step + self._interval:
                return None
            self._last_saved_step = step
        number = self._checkpoint._next_number()
        if checkpoint_number is not None:
            number = int(checkpoint_number)
        path = self._checkpoint.write(f"{self._prefix}-{number}")
        self._kept.pop(path, None)
        self._kept[path] = time.time()
        self._latest = path
        doomed = self._sweep()
        # The state file first: it must never name a deleted checkpoint.
        _io.write_state(self._directory, path, list(self._kept), list(self._kept.values()),
                        self._last_preserved)
        for old in doomed:
            try:
                os.remove(_io.data_path(old))
            except FileNotFoundError:
                pass
        return path

    def _sweep(self) -> list[str]:
        """Drop the oldest beyond ``max_to_keep`` (keeping one per ``keep_checkpoint_every_n_hours``);
        returns the paths whose files are to be deleted."""
        doomed = []
        if self._max_to_keep is None:
            return doomed
        while len(self._kept) > self._max_to_keep:
            path = next(iter(self._kept))
            stamp = self._kept.pop(path)
            if self._keep_hours and stamp - self._keep_hours * 3600 >= self._last_preserved:
                self._last_preserved = stamp  # kept forever, no longer managed
                continue
            doomed.append(path)
        return doomed

    def restore_or_initialize(self) -> str | None:
        """Restore the latest checkpoint and return its path; with none, call ``init_fn`` (if
        given) and return None."""
        if self._latest is not None:
            self._checkpoint.restore(self._latest)
            return self._latest
        if self._init_fn is not None:
            self._init_fn()
        return None
