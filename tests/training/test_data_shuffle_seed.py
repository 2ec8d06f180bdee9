"""Dataset.shuffle without a seed takes one from ef.random's global seed (TensorFlow's rule)."""

from __future__ import annotations

import subprocess
import sys

import eagerflow_core as ef
from eagerflow_core import data


def _orders():
    a = data.Dataset.range(50).shuffle(50)
    b = data.Dataset.range(50).shuffle(50)
    return [int(x) for x in a], [int(x) for x in a], [int(x) for x in b]


def test_shuffle_without_a_seed_follows_the_global_seed():
    ef.random.set_seed(4)
    first = _orders()
    ef.random.set_seed(4)
    again = _orders()
    assert first == again  # reproducible after set_seed
    a_epoch1, a_epoch2, b_epoch1 = first
    assert a_epoch1 != a_epoch2  # still reshuffled each epoch
    assert a_epoch1 != b_epoch1  # two shuffles get two seeds
    ef.random.set_seed(5)
    assert _orders() != first
    assert sorted(a_epoch1) == list(range(50))


def test_the_order_is_the_same_in_a_new_process_after_set_seed():
    code = ("import eagerflow_core as ef; from eagerflow_core import data; "
            "ef.random.set_seed(9); print([int(x) for x in data.Dataset.range(20).shuffle(8)])")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1] and runs[0].strip()


def test_without_a_global_seed_orders_differ_between_processes():
    code = ("from eagerflow_core import data; "
            "print([int(x) for x in data.Dataset.range(30).shuffle(30)])")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)}
    assert len(runs) == 2  # entropy: 30! orders, a repeat is (practically) impossible
