"""Running a per-rank script under ``mpirun``, with a timeout that kills the whole job."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

RANKS = Path(__file__).resolve().parent / "ranks"
MPIRUN = shutil.which("mpirun")
HAVE_MPI = MPIRUN is not None and importlib.util.find_spec("mpi4py") is not None
WHY_NOT = "needs mpirun and mpi4py: `make test` installs Open MPI and the `mpi` extra"


class Result:
    def __init__(self, returncode, stdout, stderr, seconds):
        self.returncode, self.stdout, self.stderr, self.seconds = (returncode, stdout, stderr,
                                                                   seconds)

    @property
    def output(self):
        return self.stdout + self.stderr

    def __repr__(self):
        return (f"mpirun exited {self.returncode} after {self.seconds:.1f} s\n--- stdout\n"
                f"{self.stdout}\n--- stderr\n{self.stderr}")


def mpirun(script, n: int, *args, env=None, mca=(), timeout: float = 120) -> Result:
    """Run ``script`` (a path, or a name in ``ranks/``) on ``n`` ranks; the job is killed
    after ``timeout`` seconds."""
    cmd = [MPIRUN, "-n", str(n), "--oversubscribe", "--allow-run-as-root", *mca,
           sys.executable, str(RANKS / script), *map(str, args)]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("EAGERFLOW_")}
    child_env.setdefault("EAGERFLOW_DIST_TIMEOUT", "60")  # a broken test fails, never hangs
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):  # one BLAS thread per rank
        child_env.setdefault(var, "1")
    child_env.update(env or {})
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # mpirun and every rank it started
        out, err = proc.communicate()
        raise AssertionError(f"mpirun -n {n} {script} still ran after {timeout} s:\n{out}\n"
                             f"{err}") from None
    return Result(proc.returncode, out, err, time.monotonic() - start)
