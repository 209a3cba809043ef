"""Flow control policy (posdomain/flow.py): the box's ack wait and the reconnect jitter."""

from __future__ import annotations

import random

import pytest

from posdomain.flow import RECONNECT_MAX, RECONNECT_MIN, AckWait, ApplyClock, reconnect_wait


@pytest.mark.req("NFR-003")
def test_without_signals_the_wait_is_the_base_timeout() -> None:
    wait = AckWait(sent_at=100.0, base=5.0, hold=20.0, cap=600.0)
    assert wait.remaining(104.0) == pytest.approx(1.0)
    assert wait.remaining(105.0) <= 0


@pytest.mark.req("NFR-003")
def test_a_queued_signal_stretches_the_wait_to_the_hubs_estimate_within_hold_and_cap() -> None:
    wait = AckWait(sent_at=0.0, base=5.0, hold=20.0, cap=60.0)
    wait.signal(1.0, eta_s=3.0)  # 1 + 5 + 2 x 3
    assert wait.deadline == pytest.approx(12.0)
    wait.signal(2.0, eta_s=100.0)  # a long queue: one signal holds at most `hold`
    assert wait.deadline == pytest.approx(22.0)
    wait.signal(15.0, eta_s=100.0)  # repeated signals keep it alive ...
    assert wait.deadline == pytest.approx(35.0)
    wait.signal(50.0, eta_s=100.0)  # ... but never past the cap after the send
    assert wait.deadline == pytest.approx(60.0)
    wait.signal(51.0, eta_s=0.0)  # a signal never shortens the wait
    assert wait.deadline == pytest.approx(60.0)
    assert wait.signals == 5


@pytest.mark.req("NFR-003")
def test_reconnect_waits_are_spread_over_the_window_not_in_lockstep() -> None:
    rng = random.Random(7)
    waits = [reconnect_wait(rng) for _ in range(200)]
    assert all(RECONNECT_MIN <= w <= RECONNECT_MAX for w in waits)
    assert len({round(w, 3) for w in waits}) > 150  # 200 boxes, hardly two alike
    assert max(waits) - min(waits) > (RECONNECT_MAX - RECONNECT_MIN) * 0.8


def test_apply_clock_estimates_the_wait_behind_the_queue() -> None:
    clock = ApplyClock(initial=0.5, weight=0.5)
    assert clock.eta_ms(0) == 500
    clock.observe(1.5)
    assert clock.mean == pytest.approx(1.0)
    assert clock.eta_ms(3) == 4000
