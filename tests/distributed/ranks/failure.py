"""A peer that dies (``kill``) or hangs (``hang``): the other ranks must raise a clear error
within the timeout, not wait forever.

Run with ``EAGERFLOW_DIST_TIMEOUT`` set small. Rank 1 is the one that fails, after one
collective that works. The survivors print ``RAISED`` lines that the test reads, check that
the broken world refuses further collectives, and then let the error end the program (the
exit hook aborts the job, since requests stay pending on the dead peer).
"""

from __future__ import annotations

import os
import signal
import sys
import time

import eagerflow_core as ef
from eagerflow_core import distributed as dist

mode = sys.argv[1]
dist.init()
r = dist.rank()
dist.all_reduce(ef.ones(4))  # the world works

if r == 1:
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(120)  # "hang": alive, but never joins the collective below

start = time.monotonic()
try:
    dist.all_reduce(ef.ones(1 << 16))
except dist.DistributedTimeoutError as exc:
    print(f"RAISED rank {r} after {time.monotonic() - start:.1f} s: {exc}", flush=True)
    try:
        dist.barrier()
    except dist.DistributedError as again:
        print(f"REFUSED rank {r}: {again}", flush=True)
    raise
print(f"rank {r}: the collective completed without its peer", flush=True)
