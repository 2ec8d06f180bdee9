"""A plugin whose import waits for ever (a lock that is never released, a dead network)."""

import threading

threading.Event().wait()
