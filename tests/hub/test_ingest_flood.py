"""Per-box flood guard of the ingest worker (issue 15, hub/sync/flood.py): a box's budget of
messages quarantined whole, dropped unread once spent, refilled over time, never shared."""

from __future__ import annotations

import pytest

from hub.sync.flood import FloodGuard


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.req("NFR-003")
def test_a_flooding_box_is_limited_alone_and_recovers() -> None:
    clock = Clock()
    guard = FloodGuard(burst=3, refill_per_s=1, clock=clock)
    for _ in range(3):
        assert guard.allow("bad")
        guard.strike("bad")
    assert not guard.allow("bad")  # budget spent: dropped unread
    assert not guard.allow("bad")
    assert guard.dropped("bad") == 2
    assert guard.allow("good")  # another box is never limited by it
    clock.now = 1.0  # one strike refilled
    assert guard.allow("bad")
    assert guard.dropped("bad") == 0
    guard.strike("bad")
    assert not guard.allow("bad")
    clock.now = 100.0  # refills up to the burst, no further
    for _ in range(3):
        assert guard.allow("bad")
        guard.strike("bad")
    assert not guard.allow("bad")


@pytest.mark.req("NFR-003")
def test_good_messages_take_no_strike_and_non_box_topics_pass() -> None:
    guard = FloodGuard(burst=1, refill_per_s=0, clock=Clock())
    assert all(guard.allow("healthy") for _ in range(1000))
    assert guard.allow(None)
    guard.strike(None)
