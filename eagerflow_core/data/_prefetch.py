"""prefetch: a background thread runs the pipeline ahead of the loop, into a bounded queue.

The thread never outlives the iteration (a tf.data pain point is prefetch threads left
running). It starts with the first ``next()`` and is stopped and joined when the iteration
ends, however it ends: the input is exhausted; the loop is left early (``break``: the
iterator is closed, or garbage collected, and the generator's ``finally`` runs); an error is
raised in the pipeline (it is handed to the loop and the thread ends); an error is raised in
the loop's body (the iterator is dropped as the exception leaves the loop). The producer
checks a stop flag after every element, and the consumer empties the queue before joining, so
a producer blocked on a full queue always wakes up.
"""

from __future__ import annotations

import queue
import threading

from ._context import Inherited
from ._node import Node, closing

_ITEM, _END, _ERROR = 0, 1, 2

# prefetch(AUTOTUNE): tf.data tunes the size while running; a fixed small buffer is what it
# usually settles on for a loop consuming batches.
AUTOTUNE_BUFFER = 2


def _produce(make_input, q: queue.Queue, stop: threading.Event, inherited: Inherited):
    try:
        with inherited.entered(), closing(make_input()) as it:
            for element in it:
                q.put((_ITEM, element))
                if stop.is_set():
                    return
        q.put((_END, None))
    except BaseException as exc:  # noqa: BLE001  (handed to the consumer, which re-raises it)
        if not stop.is_set():
            q.put((_ERROR, exc))


class Prefetch(Node):
    label = "prefetch"

    def __init__(self, input_node, buffer_size: int):
        self.inputs = (input_node,)
        self.buffer_size = buffer_size

    def elements(self):
        if self.buffer_size == 0:
            return self.inputs[0].elements()
        return self._run()

    def _run(self):
        q = queue.Queue(self.buffer_size)
        stop = threading.Event()
        thread = threading.Thread(target=_produce, name="eagerflow-prefetch", daemon=True,
                                  args=(self.inputs[0].elements, q, stop, Inherited()))
        thread.start()
        try:
            while True:
                kind, value = q.get()
                if kind == _ITEM:
                    yield value
                elif kind == _END:
                    return
                else:
                    raise value
        finally:
            stop.set()
            while thread.is_alive():
                _empty(q)  # unblocks a put on a full queue; the producer then sees `stop`
                thread.join(0.01)

    def cardinality(self):
        return self.inputs[0].cardinality()


def _empty(q: queue.Queue):
    try:
        while True:
            q.get_nowait()
    except queue.Empty:
        pass
