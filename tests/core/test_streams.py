"""The backend execution contract (issue #10): synchronize, memory statistics, streams and
events, through every backend (no-ops on the CPU, the device's own on a GPU)."""

from __future__ import annotations

import pytest

import eagerflow_core as ef
from eagerflow_core.plugins import Backend


def test_the_contract_is_part_of_the_backend_api():
    for name in ("synchronize", "memory_stats", "empty_cache", "create_stream", "current_stream",
                 "set_current_stream", "stream_synchronize", "stream_query", "create_event",
                 "record_event", "event_synchronize", "event_query", "stream_wait_event",
                 "event_elapsed_ms"):
        assert callable(getattr(Backend, name)), name


def test_streams_and_events_on_every_device(device):
    s = ef.Stream(device)
    with s:
        y = ef.ones(4) * 3
        assert ef.current_stream(device).handle is s.handle or device.type == "cpu"
    s.synchronize()
    assert s.query()
    start = s.record_event()
    z = y + 1
    end = s.record_event()
    end.synchronize()
    assert end.query()
    assert start.elapsed_time(end) >= 0.0
    other = ef.Stream(device)
    other.wait_stream(s)
    ef.synchronize(device)
    assert z.tolist() == [4.0] * 4
    assert isinstance(ef.memory_stats(device), dict)
    ef.empty_cache(device)


def test_an_unrecorded_event_has_no_time():
    a, b = ef.Event("cpu"), ef.Event("cpu")
    b.record()
    with pytest.raises(ValueError, match="recorded"):
        a.elapsed_time(b)


def test_cuda_namespace_says_why_it_is_unavailable():
    if ef.cuda.is_available():
        assert ef.cuda.device_count() >= 1 and ef.cuda.why_unavailable() == ""
        return
    assert ef.cuda.device_count() == 0
    assert ef.cuda.why_unavailable()
    with pytest.raises(ef.DeviceError, match="ef.cuda: "):
        ef.cuda.synchronize()
