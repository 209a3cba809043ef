"""Flow control policy (posdomain/flow.py): the box's ack wait and the reconnect jitter."""

from __future__ import annotations

import random

import pytest

from posdomain import topics
from posdomain.flow import (
    RECONNECT_MAX,
    RECONNECT_MIN,
    SILENT_CAP,
    WINDOW,
    AckWait,
    ApplyClock,
    Flight,
    HubPresence,
    SendWindow,
    ack_base,
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
    presence = HubPresence(hold=600.0, grace=0.0)
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
    presence = HubPresence(hold=60.0, grace=0.0)
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
def test_an_absence_shorter_than_the_grace_is_no_hold() -> None:
    """Re-subscribed, a box hears the dead worker's will before the live one's online: it
    must not hold (the waits go on as usual); an absence that lasts the grace holds."""
    presence = HubPresence(hold=600.0, grace=2.0)
    presence.note("dead", False, 10.0)  # its will, retained, first
    assert presence.absent()
    assert presence.poll(10.5) == (False, False), "within the grace: no hold"
    presence.note("live", True, 10.8)  # the live worker's retained online, just after
    assert presence.poll(11.0) == (False, False)
    assert presence.poll(13.0) == (False, False), "never held, so nothing resumes"
    presence.note("live", False, 20.0)  # now every worker is gone
    assert presence.poll(21.0) == (False, False)
    assert presence.poll(22.0) == (True, False), "absent for the grace: held"
    assert presence.poll(621.0) == (False, True), "the ceiling counts from the absence"


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


@pytest.mark.req("NFR-003")
def test_the_box_and_hub_draw_reconnect_waits_from_the_shared_generator() -> None:
    # the box's transport and the hub's worker call it without a generator of their own
    state = random.getstate()
    try:
        random.seed(11)
        first = reconnect_wait()
        random.seed(11)
        assert reconnect_wait() == first
    finally:
        random.setstate(state)
    assert RECONNECT_MIN <= first <= RECONNECT_MAX
    assert reconnect_wait(random.Random(3)) == random.Random(3).uniform(
        RECONNECT_MIN, RECONNECT_MAX
    )


@pytest.mark.req("NFR-003")
def test_a_signal_with_nothing_queued_waits_the_base_from_the_signal() -> None:
    wait = AckWait(sent_at=0.0, base=5.0, hold=20.0, cap=60.0)
    assert (wait.deadline, wait.signals) == (5.0, 0)
    wait.signal(2.0, eta_s=0.0)  # applying now: the base timeout from the signal
    assert wait.deadline == pytest.approx(7.0)
    wait.signal(3.0, eta_s=-4.0)  # a clock-skewed estimate never shortens the base
    assert wait.deadline == pytest.approx(8.0)
    wait.signal(4.0, eta_s=0.25)
    assert wait.deadline == pytest.approx(9.5)
    assert wait.remaining(9.0) == pytest.approx(0.5)


@pytest.mark.req("NFR-003")
def test_apply_clock_starts_at_a_fifth_of_a_second_and_moves_a_fifth_of_the_way() -> None:
    clock = ApplyClock()
    assert clock.eta_ms(0) == 200
    assert clock.eta_ms(4) == 1000  # four batches ahead of this one
    clock.observe(1.2)  # 0.2 + 0.2 x (1.2 - 0.2)
    assert clock.mean == pytest.approx(0.4)
    clock.observe(0.4)
    assert clock.mean == pytest.approx(0.4)
    clock.observe(2.4)  # 0.4 + 0.2 x 2.0
    assert clock.mean == pytest.approx(0.8)
    assert clock.eta_ms(1) == 1600


@pytest.mark.req("NFR-003")
def test_apply_clock_estimates_at_most_an_hour() -> None:
    clock = ApplyClock(initial=10.0)
    assert clock.eta_ms(359) == 3_600_000
    assert clock.eta_ms(360) == 3_600_000
    assert clock.eta_ms(10**6) == 3_600_000
    assert ApplyClock(initial=0.0015).eta_ms(0) == 1  # whole milliseconds, truncated


@pytest.mark.req("NFR-003")
def test_a_silent_hub_doubles_the_ack_wait_up_to_the_cap() -> None:
    assert [ack_base(5.0, silent) for silent in range(6)] == [5.0, 10.0, 20.0, 40.0, 40.0, 40.0]
    assert ack_base(5.0, 10**6) == SILENT_CAP  # no overflow however long the hub is silent
    assert ack_base(50.0, 3) == 50.0  # a base above the cap is never cut below itself
    assert ack_base(3.0, 2, cap=10.0) == 10.0
    assert ack_base(3.0, 1, cap=10.0) == 6.0
    # the growth stops after 16 doublings even under an enormous cap
    assert ack_base(1.0, 16, cap=1e9) == 2.0**16
    assert ack_base(1.0, 17, cap=1e9) == 2.0**16


def flight(batch: str, seqs: list[int], sent_at: float = 0.0, base: float = 5.0) -> Flight:
    return Flight(batch, seqs, AckWait(sent_at=sent_at, base=base, hold=20.0, cap=60.0))


@pytest.mark.req("NFR-003", "FR-303")
def test_the_send_window_holds_at_most_its_size() -> None:
    window = SendWindow()
    assert window.size == WINDOW == 4
    for n in range(4):
        assert window.has_room()
        window.add(flight(f"b{n}", [n * 10 + 1, n * 10 + 2]))
    assert len(window) == 4
    assert not window.has_room()
    assert window.answered("b0") is not None
    assert window.has_room()
    assert SendWindow(0).size == 1  # never a window without room: the old protocol
    assert SendWindow(-3).size == 1
    assert SendWindow(2).size == 2
    one = SendWindow(1)
    assert not one  # nothing in flight
    one.add(flight("x", [1]))
    assert one
    assert not one.has_room()


@pytest.mark.req("NFR-003", "FR-303")
def test_an_ack_answers_its_own_batch_only() -> None:
    window = SendWindow()
    first, second = flight("b1", [1, 2, 3]), flight("b2", [4, 5])
    window.add(first)
    window.add(second)
    assert window.get("b2") is second
    assert window.get("b9") is None
    assert window.answered("b1") is first
    assert window.get("b1") is None
    assert window.answered("b1") is None  # a late second ack of it: nothing in flight
    assert window.in_flight() == {4, 5}
    assert len(window) == 1


@pytest.mark.req("NFR-003", "FR-303")
def test_the_next_batch_starts_above_the_highest_seq_in_flight() -> None:
    window = SendWindow()
    assert window.last_seq() == 0
    assert window.in_flight() == set()
    window.add(flight("b1", [7, 8, 9]))
    window.add(flight("b2", []))  # a batch of nothing new carries no seq
    window.add(flight("b3", [3, 5]))  # a resend of lower seqs
    assert window.last_seq() == 9
    assert window.in_flight() == {3, 5, 7, 8, 9}
    window.answered("b1")
    assert window.last_seq() == 5
    empty = SendWindow()
    empty.add(flight("e", []))
    assert empty.last_seq() == 0


@pytest.mark.req("NFR-003", "FR-303")
def test_the_oldest_batch_whose_wait_ran_out_gives_up_the_window() -> None:
    window = SendWindow()
    assert window.remaining(0.0) == float("inf")
    assert window.expired(100.0) is None
    late, early = flight("b1", [1], sent_at=0.0, base=8.0), flight("b2", [2], sent_at=1.0)
    window.add(late)
    window.add(early)
    assert window.remaining(2.0) == pytest.approx(4.0)  # b2's deadline (6) comes first
    assert window.expired(5.9) is None
    assert window.expired(6.0) is early  # exactly at its deadline: unanswered
    assert window.expired(8.0) is late  # both ran out: the oldest sent
    assert window.remaining(9.0) == pytest.approx(-3.0)
    given_up = window.reset()
    assert given_up == [late, early]  # in send order
    assert len(window) == 0
    assert window.reset() == []
    assert window.remaining(9.0) == float("inf")


@pytest.mark.req("NFR-003", "FR-303")
def test_a_fresh_presence_is_a_plain_present_hub() -> None:
    presence = HubPresence(hold=600.0)
    assert presence.absent() is False
    assert presence.poll(0.0) == (False, False), "nothing held yet: nothing to resume"


@pytest.mark.req("NFR-003", "FR-303")
def test_a_cleared_status_alone_is_evidence_of_an_absent_hub() -> None:
    """The only worker stopped cleanly while the box was connected: the box hears its status
    cleared (a worker it never heard online) and holds, whatever it was told before."""
    presence = HubPresence(hold=600.0, grace=0.0)
    presence.note("only", None, 5.0)  # not a worker it knew: nothing to forget, no error
    assert presence.absent() is True
    assert presence.poll(6.0) == (True, False)


@pytest.mark.req("NFR-003", "FR-303")
def test_after_a_lost_link_the_presence_is_learnt_again_from_scratch() -> None:
    presence = HubPresence(hold=600.0, grace=0.0)
    presence.note("w1", True, 0.0)
    presence.heard(1.0)
    presence.note("w1", False, 2.0)
    assert presence.poll(3.0) == (True, False)
    presence.reset()
    assert presence.absent() is False
    assert presence.poll(4.0) == (False, True), "the hold ended with the link"
    presence.note("w1", None, 5.0)  # the retained status, cleared meanwhile
    assert presence.absent() is True, "no answer heard since the reset"
    assert presence.poll(6.0) == (True, False)
