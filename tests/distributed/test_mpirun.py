"""The distributed package under real ``mpirun``: 2 and 3 ranks on this machine.

Each test launches a script of ``ranks/`` once per rank (``--oversubscribe``: more ranks than
cores is fine for correctness) with a timeout that kills the whole job, so a hang fails the
test instead of the suite. The scripts check every rank's results themselves and exit
non-zero on the first wrong one; the tests read their exit code and output.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from launch import HAVE_MPI, WHY_NOT, mpirun

pytestmark = pytest.mark.skipif(not HAVE_MPI, reason=WHY_NOT)


def _ok(result, n, what):
    assert result.returncode == 0, result
    for rank in range(n):
        assert f"rank {rank} of {n}: {what} OK" in result.stdout, result


@pytest.mark.parametrize("n", [2, 3])
def test_every_collective_matches_numpy(n):
    """all_reduce (sum/mean/max/min), broadcast, all_gather, reduce_scatter, gather, scatter,
    send/recv over 11 dtypes and 4 shapes; strided inputs; gradients to second order; and the
    check mode's mismatch errors on every rank."""
    _ok(mpirun("collectives.py", n, timeout=240), n, "collectives")


@pytest.mark.parametrize("n, check", [(2, "0"), (3, "1")])
def test_training_gives_identical_replicas_equal_to_one_process(n, check):
    _ok(mpirun("train.py", n, env={"EAGERFLOW_DIST_CHECK": check}, timeout=240), n, "training")


def test_device_communicators_plugin_fallback_and_nccl_logic():
    _ok(mpirun("devices.py", 2, timeout=240), 2, "devices")


def test_the_example_trains_on_two_ranks(tmp_path):
    example = Path(__file__).resolve().parents[2] / "examples" / "distributed" / "train_mlp.py"
    saved = tmp_path / "weights.npz"
    result = mpirun(example, 2, "--steps", "20", "--save", saved, timeout=240)
    assert result.returncode == 0, result
    out = result.stdout
    assert "on 2 ranks" in out and "step 20 loss" in out and "replicas identical: True" in out
    assert out.count("step 20 loss") == 1, result  # printed by rank 0 only
    with np.load(saved) as weights:  # written by rank 0, complete when every rank went on
        assert sorted(weights.files) == ["b1", "b2", "w1", "w2"]


# A launcher that does not kill the other ranks when one dies (srun without
# --kill-on-bad-exit, mpirun with this MCA setting) leaves the survivors to find out.
KEEP_SURVIVORS = ("--mca", "orte_abort_on_non_zero_status", "0")


@pytest.mark.parametrize("mode, n", [("kill", 3), ("hang", 2)])
def test_a_dead_or_hung_peer_is_an_error_within_the_timeout(mode, n):
    """Rank 1 is killed (SIGKILL) or hangs; the survivors raise DistributedTimeoutError
    after the 2-second timeout and refuse further collectives; the first one to exit aborts
    the job (another survivor may be killed before it prints)."""
    result = mpirun("failure.py", n, mode, env={"EAGERFLOW_DIST_TIMEOUT": "2"},
                    mca=KEEP_SURVIVORS, timeout=120)
    assert result.returncode != 0, result
    raised = re.findall(r"RAISED rank (\d) after ([\d.]+) s: (.*)", result.stdout)
    survivors = {str(rank) for rank in range(n) if rank != 1}
    assert raised and {rank for rank, _, _ in raised} <= survivors, result
    for rank, seconds, message in raised:
        assert 2.0 <= float(seconds) < 10, result   # the timeout, not forever
        assert f"on rank {rank} of {n} did not complete within 2 s (mpi)" in message, result
        assert "distributed.all_reduce of float32[65536] on cpu:0" in message, result
    assert re.search(r"REFUSED rank \d: distributed.barrier: the distributed world is "
                     r"broken since an earlier failure", result.stdout), result
    assert "DistributedTimeoutError" in result.stderr, result
    assert "completed without its peer" not in result.stdout, result
