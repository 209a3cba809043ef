"""Retry pacing of the sync agent: exponential, jittered, capped."""

from __future__ import annotations

import pytest

from appliance.sync.agent import AgentSettings, backoff_delay


@pytest.mark.req("FR-303")
def test_backoff_grows_and_is_capped() -> None:
    settings = AgentSettings(backoff_base=0.5, backoff_cap=10.0)
    first = [backoff_delay(1, settings) for _ in range(50)]
    late = [backoff_delay(30, settings) for _ in range(50)]
    assert all(0.5 <= d <= 1.0 for d in first)
    assert all(5.0 <= d <= 10.0 for d in late)
    assert len(set(late)) > 1  # jitter: boxes don't retry in lock-step
