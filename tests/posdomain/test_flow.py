"""Flow control policy (posdomain/flow.py): the box's ack wait and the reconnect jitter."""

from __future__ import annotations

import random

import pytest

from posdomain import topics
from posdomain.flow import (
    RECONNECT_MAX,
    RECONNECT_MIN,
    AckWait,
    ApplyClock,
    Flight,
    HubPresence,
    SendWindow,
    reconnect_wait,
)


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


@pytest.mark.req("NFR-003", "FR-303")
def test_the_hub_is_absent_only_while_every_worker_heard_of_is_offline() -> None:
    presence = HubPresence(hold=600.0)
    assert not presence.absent(), "no status heard (an old hub): never absent"
    presence.note("w1", True, 0.0)
    presence.note("w2", True, 0.0)
    presence.note("w1", False, 1.0)  # w1 died: w2 still takes the shared batches
    assert not presence.absent()
    presence.note("w2", None, 2.0)  # w2 stopped on purpose (its status cleared)
    assert presence.absent()
    assert presence.poll(3.0) == (True, False)
    presence.note("w1", True, 4.0)
    assert not presence.absent()
    assert presence.poll(5.0) == (False, True), "back: the waits restart, once"
    assert presence.poll(6.0) == (False, False)


@pytest.mark.req("NFR-003", "FR-303")
def test_an_answer_from_the_hub_outweighs_an_offline_status_and_a_hold_has_a_ceiling() -> None:
    presence = HubPresence(hold=60.0)
    presence.note("stale", False, 0.0)  # a status no live worker contradicts
    assert presence.poll(1.0) == (True, False)
    presence.heard(2.0)  # an ack or a flow signal: the hub is there (an old worker)
    assert presence.poll(3.0) == (False, True)
    presence.note("stale", False, 10.0)  # it says so again: absent from now on
    assert presence.poll(69.0) == (True, False)
    assert presence.poll(70.0) == (False, True), "held at most `hold`: then waits count"
    presence.reset()  # the link was lost: re-learnt from the retained statuses
    assert not presence.absent()


@pytest.mark.req("NFR-003", "FR-303")
def test_a_restarted_wait_runs_from_the_hubs_return_and_keeps_a_later_deadline() -> None:
    window = SendWindow(2)
    short = AckWait(sent_at=0.0, base=5.0, hold=20.0, cap=60.0)
    stretched = AckWait(sent_at=0.0, base=5.0, hold=20.0, cap=60.0)
    stretched.signal(1.0, eta_s=100.0)  # deadline 21
    window.add(Flight("a", [1], short))
    window.add(Flight("b", [2], stretched))
    window.restart(18.0)
    assert short.remaining(18.0) == pytest.approx(5.0), "the wait starts over from now"
    assert stretched.deadline == pytest.approx(23.0)
    stretched.signal(19.0, eta_s=100.0)
    assert stretched.deadline == pytest.approx(39.0), "the cap counts from the restart"


def test_worker_status_topics_name_one_level_and_parse_back() -> None:
    topic = topics.hub_ingest_status("cfpos/hub.ingest #1")
    assert topic == "cfpos/v1/hub/ingest/cfpos_hub_ingest__1/status"
    assert topics.hub_worker_from_topic(topic) == "cfpos_hub_ingest__1"
    assert topics.hub_worker_from_topic(topics.box_status("b1")) is None
