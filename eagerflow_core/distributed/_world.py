"""The world: the processes of one job, how they were launched, and the settings every
collective obeys (timeout, check mode).

``init()`` reads the launcher's environment through MPI (``mpirun``, ``srun``, ``mpiexec``
of any MPI). Without mpi4py, and outside a launcher, it makes a world of one process, so the
same training script runs single-process with nothing installed. mpi4py is imported here, in
``init()``, never when eagerflow is imported.
"""

from __future__ import annotations

import atexit
import os
import sys
import time

import numpy as np

from ._errors import DistributedError, DistributedTimeoutError

DEFAULT_TIMEOUT = 600.0  # seconds: NCCL's default in PyTorch; long evaluations fit inside
_TRUE = ("1", "true", "yes", "on")
# Environment variables launchers set to the number of processes (used only to refuse a
# single-process world when mpi4py is missing under a launcher).
# (SLURM_STEP_NUM_TASKS, not SLURM_NTASKS: a batch script's own process has the latter.)
_SIZE_VARS = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE",
              "SLURM_STEP_NUM_TASKS")


class World:
    """Everything ``init()`` set up; one per process (``WORLD``)."""

    def __init__(self):
        self.initialized = False
        self.rank, self.size, self.local_rank, self.local_size = 0, 1, 0, 1
        self.MPI = None          # the mpi4py.MPI module, or None for a world of one
        self.comm = None         # our duplicate of COMM_WORLD (user MPI traffic stays apart)
        self.timeout = DEFAULT_TIMEOUT
        self.check = False
        self.broken: str | None = None   # why collectives can no longer run
        self.comms: dict = {}    # Device -> Communicator
        self.host = None         # the host (MPI or self) communicator
        self.seq = 0             # collectives started (named in errors)
        self.abort_at_exit = False  # set for good once a collective failed
        self._exit_hook = False


WORLD = World()


def _env_timeout() -> float:
    text = os.environ.get("EAGERFLOW_DIST_TIMEOUT", "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        return check_timeout(float(text))
    except (ValueError, DistributedError):
        raise DistributedError(f"EAGERFLOW_DIST_TIMEOUT={text!r}: give a number of seconds "
                               f"> 0 (or 'inf')") from None


def check_timeout(value) -> float:
    value = float(value)
    if not value > 0:  # also refuses NaN
        raise DistributedError(f"timeout={value!r}: give a number of seconds > 0 (or "
                               f"float('inf') to wait forever)")
    return value


def _launcher_size() -> int:
    for var in _SIZE_VARS:
        text = os.environ.get(var, "")
        if text.isdigit():
            return int(text)
    return 1


def init(*, timeout: float | None = None, check: bool | None = None) -> None:
    """Join the job's world (see ``eagerflow_core.distributed.init``)."""
    w = WORLD
    if timeout is None and not w.initialized:
        timeout = _env_timeout()
    if check is None and not w.initialized:
        check = os.environ.get("EAGERFLOW_DIST_CHECK", "").strip().lower() in _TRUE
    if timeout is not None:
        w.timeout = check_timeout(timeout)
    if check is not None:
        w.check = bool(check)
    if w.initialized:
        return
    try:
        from mpi4py import MPI
    except ImportError as exc:
        n = _launcher_size()
        if n > 1:
            raise DistributedError(
                f"dist.init: this process was launched as one of {n} ranks, but mpi4py cannot "
                f"be imported ({exc}); install it with pip install 'eagerflow-core[mpi]' (it "
                f"needs an MPI library: apt-get install libopenmpi-dev, or your cluster's "
                f"module)") from None
        _init_single(w)
    else:
        _init_mpi(w, MPI)
    w.broken = None
    w.initialized = True


def _init_single(w: World) -> None:
    from ._local import SelfCommunicator
    w.MPI = w.comm = None
    w.rank, w.size, w.local_rank, w.local_size = 0, 1, 0, 1
    w.host = SelfCommunicator()


def _init_mpi(w: World, MPI) -> None:
    from ._mpi import MPICommunicator
    comm = MPI.COMM_WORLD.Dup()
    comm.Set_errhandler(MPI.ERRORS_RETURN)  # MPI errors raise (mpi4py's MPI.Exception)
    w.MPI, w.comm = MPI, comm
    w.rank, w.size = comm.Get_rank(), comm.Get_size()
    local = comm.Split_type(MPI.COMM_TYPE_SHARED, key=w.rank)  # the ranks of this host
    w.local_rank, w.local_size = local.Get_rank(), local.Get_size()
    local.Free()
    if w.size == 1:
        from ._local import SelfCommunicator
        w.host = SelfCommunicator()
    else:
        w.host = MPICommunicator(comm, MPI)
    if not w._exit_hook:
        w.exit_mpi = MPI  # kept through shutdown(): the exit hook may need to abort
        atexit.register(_at_exit)
        w._exit_hook = True


def _at_exit() -> None:
    """A collective failed: operations are still pending on dead or stuck peers, and
    MPI_Finalize would wait for them forever. Abort the job instead (the error that broke the
    world has been printed by then)."""
    w = WORLD
    if w.abort_at_exit:
        sys.stdout.flush()
        sys.stderr.flush()
        w.exit_mpi.COMM_WORLD.Abort(1)


def shutdown() -> None:
    """Release the communicators; ``init()`` may be called again (MPI itself stays up)."""
    w = WORLD
    if not w.initialized:
        return
    for comm in w.comms.values():
        try:
            comm.close()
        except Exception:  # a broken engine must not stop the others' release
            pass
    w.comms.clear()
    if w.comm is not None and not w.broken:
        w.comm.Free()
    w.MPI = w.comm = w.host = None
    w.initialized = False
    w.rank, w.size, w.local_rank, w.local_size = 0, 1, 0, 1


def require(what: str) -> World:
    """The world, ready for a collective; a clear error before ``init()`` or once broken."""
    w = WORLD
    if not w.initialized:
        raise DistributedError(f"{what}: call dist.init() first (it reads the mpirun/srun "
                               f"environment; without one it makes a single-process world)")
    if w.broken:
        raise DistributedError(f"{what}: the distributed world is broken since an earlier "
                               f"failure ({w.broken}); restart the job")
    return w


def mark_broken(w: World, why: str) -> None:
    if w.broken is None:
        w.broken = why
    w.abort_at_exit = True  # even after shutdown() and a new init(): the requests stay
    for comm in list(w.comms.values()) + [w.host]:
        try:
            comm.abort()
        except Exception:
            pass


# -- waiting ---------------------------------------------------------------------------------

# Polling a request: spin on Test first (a small message completes within microseconds, and
# giving the core away costs a scheduler quantum on a busy machine), then yield between tests
# (fair to oversubscribed cores, where the peer needs this core to progress), and after a
# second poll every millisecond (a wait that long is a slow peer, not data in flight).
_SPIN_SECONDS = 2e-4
_YIELD_SECONDS = 1.0


def wait(work, what, comm_name: str):
    """``work``'s result, polling until the world's deadline; a clear error after it.
    ``what`` describes the operation for errors (formatted only then)."""
    if test(work, what, comm_name):
        return work.result()
    w = WORLD
    start = time.monotonic()
    deadline = start + w.timeout
    try:
        while not test(work, what, comm_name):
            now = time.monotonic()
            waited = now - start
            if waited < _SPIN_SECONDS:
                continue
            if now > deadline:
                why = (f"{what} on rank {w.rank} of {w.size} did not complete within "
                       f"{w.timeout:g} s ({comm_name})")
                mark_broken(w, why)
                raise DistributedTimeoutError(
                    f"{why}: a peer rank died, hangs, or is in a different collective. The "
                    f"timeout is EAGERFLOW_DIST_TIMEOUT or dist.init(timeout=...); "
                    f"EAGERFLOW_DIST_CHECK=1 checks that the ranks call the same collectives")
            time.sleep(0 if waited < _YIELD_SECONDS else 0.001)
    except KeyboardInterrupt:  # a request stays in flight: MPI_Finalize would wait for it
        mark_broken(w, f"{what} was interrupted on rank {w.rank}")
        raise
    return work.result()


def test(work, what: str, comm_name: str) -> bool:
    """``work.test()``, with an engine error turned into a DistributedError that names the
    collective and the rank (and breaks the world: requests stay pending on a dead peer)."""
    try:
        return work.test()
    except DistributedError:
        raise
    except Exception as exc:
        w = WORLD
        why = f"{what} on rank {w.rank} of {w.size} failed ({comm_name})"
        mark_broken(w, f"{why}: {type(exc).__name__}: {exc}")
        raise DistributedError(f"{why}: {type(exc).__name__}: {exc}; a peer rank probably "
                               f"died (its own error names the cause)") from exc


# -- host-side helpers (small metadata, always over the host communicator) ------------------

def broadcast_bytes(data: bytes | None, root: int = 0, what: str = "broadcast_bytes") -> bytes:
    """Rank ``root``'s ``data`` on every rank (a length, then the bytes)."""
    w = require(what)
    host = w.host
    length = np.array([len(data) if w.rank == root else 0], np.int64)
    length = wait(host.broadcast(length, root), what, host.name)
    buf = np.frombuffer(data, np.uint8) if w.rank == root else np.empty(int(length[0]), np.uint8)
    return bytes(wait(host.broadcast(buf, root), what, host.name))
