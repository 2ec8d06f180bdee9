"""A process that test_checkpoint.py kills (SIGKILL) in the middle of a checkpoint save.

``python _ckpt_child.py DIRECTORY slow N``: save checkpoint 1 (every value 1.0), then save
checkpoint 2 (every value 2.0) through a writer that trickles bytes out slowly, printing
WRITING when it starts: the parent kills it then.
``python _ckpt_child.py DIRECTORY loop N``: save checkpoint 1, print SAVING, then keep saving
(values k = 2, 3, ...) with a CheckpointManager keeping 2, until killed at a random moment.
"""

from __future__ import annotations

import sys
import time

import eagerflow_core as ef
from eagerflow_core.train import _io


def _slow_writes():
    real = _io._write_array

    class Trickle:
        def __init__(self, member):
            self.member = member

        def write(self, data):
            view = memoryview(data).cast("B")
            for i in range(0, len(view), 1 << 14):
                self.member.write(view[i:i + (1 << 14)])
                time.sleep(0.005)

    def slow(member, array):
        if array.size > 1000:
            print("WRITING", flush=True)
            member = Trickle(member)
        real(member, array)
    _io._write_array = slow


def main(directory: str, mode: str, n: int) -> None:
    w = ef.Variable(ef.zeros((n,)))
    extra = ef.Variable(ef.zeros((3, 3)))
    manager = ef.train.CheckpointManager(ef.train.Checkpoint(w=w, extra=extra), directory,
                                         max_to_keep=2)
    w.assign(ef.ones((n,)))
    extra.assign(ef.ones((3, 3)))
    manager.save()
    if mode == "slow":
        _slow_writes()
        w.assign(ef.full((n,), 2.0))
        manager.save()
        print("FINISHED", flush=True)  # the parent must have killed us before this
        return
    print("SAVING", flush=True)
    while True:
        w.assign_add(1.0)
        extra.assign_add(1.0)
        manager.save()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
