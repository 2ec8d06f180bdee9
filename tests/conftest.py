"""Shared fixtures: hypothesis profiles and the list of backends every backend test runs on."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

import eagerflow_core as ef

# `ci` keeps `make test` fast and repeatable; `thorough` (HYPOTHESIS_PROFILE=thorough) digs deeper.
# No `explain` phase in ci: a failing property reports its minimal example without minutes of
# extra analysis.
settings.register_profile("ci", max_examples=25, derandomize=True, deadline=None,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.function_scoped_fixture])
settings.register_profile("thorough", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _available_devices():
    return [str(d) for d in ef.devices()]


@pytest.fixture(params=_available_devices())
def device(request):
    """Each available device of each installed backend (the first device of each backend)."""
    dev = ef.device(request.param)
    with dev:
        yield dev

