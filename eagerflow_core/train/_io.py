"""Checkpoint files: a NumPy ``.npz`` archive that never holds a pickle, written atomically.

One file per checkpoint: a zip of ``.npy`` members, one per value, named by its path in the
object graph, plus ``.meta``, a JSON document (format, version, the eagerflow dtype of each
value). Arrays are written with ``allow_pickle=False`` and read with ``allow_pickle=False``:
an archive holding an object array (a pickle) is refused, never unpickled. Dtypes NumPy
cannot name on its own (bfloat16) are stored as float32, which holds them exactly, and cast
back on restore.

Every file is written atomically: into a temporary file in the same directory, flushed and
``fsync``-ed, then renamed over the target with ``os.replace`` and the directory ``fsync``-ed.
A crash (even SIGKILL) mid-save leaves the previous checkpoint and the ``checkpoint`` state
file exactly as they were; at worst a stray ``.<name>.*.tmp`` file remains.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

from .._errors import InvalidArgumentError

FORMAT = "eagerflow-checkpoint"
VERSION = 1
META = ".meta"  # never a value's key: escaped path components cannot start with one '.'
STATE = "checkpoint"  # the state file naming the latest checkpoint (TensorFlow's name)
SUFFIX = ".npz"


class CheckpointFormatError(InvalidArgumentError):
    """A file that is not an eagerflow checkpoint, or one that asks for unpickling."""


def data_path(prefix: str) -> str:
    """The file a checkpoint prefix (``ckpts/run-3``) is stored in."""
    return prefix if prefix.endswith(SUFFIX) else prefix + SUFFIX


def prefix_of(path: str) -> str:
    return path[: -len(SUFFIX)] if path.endswith(SUFFIX) else path


# -- atomic writes ----------------------------------------------------------------------------

def write_atomic(path: str, write) -> None:
    """Call ``write(file)`` on a temporary file, make it durable, then rename it to ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- values -------------------------------------------------------------------------------------

def _write_array(member, array: np.ndarray) -> None:
    np.lib.format.write_array(member, array, allow_pickle=False)


def write_values(path: str, values: dict[str, np.ndarray], dtypes: dict[str, str]) -> None:
    """Write ``values`` (key -> host array) and their eagerflow dtype names to ``path``."""
    meta = json.dumps({"format": FORMAT, "version": VERSION, "dtypes": dtypes}).encode()

    def write(f):
        # What np.savez does, without its keyword interface (a key could be "file").
        with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED,
                             allowZip64=True) as zf:
            for key, array in [(META, np.frombuffer(meta, dtype=np.uint8)), *values.items()]:
                with zf.open(key + ".npy", "w", force_zip64=True) as member:
                    _write_array(member, array)
    write_atomic(path, write)


def read_values(path: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """``(values, dtypes)`` from a checkpoint file, refusing anything that needs unpickling."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    if not zipfile.is_zipfile(path):
        raise CheckpointFormatError(f"{path!r} is not an eagerflow checkpoint (not an .npz "
                                    f"archive); eagerflow never unpickles files")
    values = {}
    with np.load(path, allow_pickle=False) as npz:
        for key in npz.files:
            try:
                values[key] = npz[key]
            except ValueError as exc:  # NumPy: "Object arrays cannot be loaded when ..."
                raise CheckpointFormatError(
                    f"{path!r}: the value {key!r} is a pickled object array; eagerflow never "
                    f"unpickles checkpoint data ({exc})") from None
    meta = values.pop(META, None)
    try:
        meta = json.loads(bytes(meta)) if meta is not None else None
    except ValueError:
        meta = None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointFormatError(f"{path!r} is not an eagerflow checkpoint (no {META!r} "
                                    f"entry naming the format)")
    if meta.get("version", 0) > VERSION:
        raise CheckpointFormatError(f"{path!r} was written by a newer eagerflow (format "
                                    f"version {meta['version']}; this one reads {VERSION})")
    dtypes = meta.get("dtypes", {})
    missing = sorted(set(values) - set(dtypes))
    if missing:
        raise CheckpointFormatError(f"{path!r}: values without a recorded dtype: {missing[:5]}")
    return values, dtypes


# -- the state file -----------------------------------------------------------------------------

def read_state(directory: str, filename: str | None = None) -> dict | None:
    """The ``checkpoint`` state file of ``directory`` as a dict, or None if there is none."""
    path = os.path.join(directory or os.curdir, filename or STATE)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    try:
        state = json.loads(text)
    except ValueError:
        state = None
    if not isinstance(state, dict) or "model_checkpoint_path" not in state:
        raise CheckpointFormatError(f"{path!r} is not an eagerflow checkpoint state file")
    return state


def write_state(directory: str, latest: str, every: list[str], timestamps: list[float],
                last_preserved: float | None = None, filename: str | None = None) -> None:
    """Record ``latest`` and ``every`` kept checkpoint (paths relative to ``directory``)."""
    def rel(p):
        return os.path.relpath(p, directory or os.curdir)
    state = {"model_checkpoint_path": rel(latest),
             "all_model_checkpoint_paths": [rel(p) for p in every],
             "all_model_checkpoint_timestamps": list(timestamps)}
    if last_preserved is not None:
        state["last_preserved_timestamp"] = last_preserved
    text = json.dumps(state, indent=1).encode()
    write_atomic(os.path.join(directory or os.curdir, filename or STATE),
                 lambda f: f.write(text))


def resolve(directory: str, name: str) -> str:
    """A path from the state file, relative to its directory, as a usable path."""
    return name if os.path.isabs(name) else os.path.join(directory, name)
