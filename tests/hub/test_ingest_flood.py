"""Per-box flood guard of the ingest worker (issue 15, hub/sync/flood.py): a box's budget of
messages quarantined whole, dropped unread once spent, refilled over time, never shared; and
the per-box fair queue (hub/sync/fair.py): boxes served round-robin, a box's own order kept,
a box over its share refused."""

from __future__ import annotations

import random

import pytest

from hub.sync.fair import FairQueue
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


@pytest.mark.req("NFR-003")
def test_boxes_are_served_round_robin_and_a_flooder_never_queues_ahead() -> None:
    q: FairQueue[str] = FairQueue(per_box=1000)
    for n in range(500):
        q.put("flood", f"flood-{n}")
    assert q.put("good-a", "a-1") == 1  # behind the flooder's first message only
    assert q.put("good-b", "b-1") == 2
    assert q.put("good-a", "a-2") == 4  # after one more round: flood-1, b-1 ... a-2
    order = list(q.in_order())
    served = [q.get(timeout=0) for _ in range(6)]
    assert served == ["flood-0", "a-1", "b-1", "flood-1", "a-2", "flood-2"]
    assert order[:6] == served
    assert q.qsize() == 497
    assert q.queued("flood") == 497
    assert q.queued("good-a") == 0


@pytest.mark.req("NFR-003")
def test_the_ahead_count_is_the_position_in_the_serving_order() -> None:
    """What a box is told when its batch is queued is where it stands at that moment (a
    later arrival of another box may move it back one round: the worker re-signals)."""
    rng = random.Random(7)
    q: FairQueue[tuple[str, int]] = FairQueue(per_box=50)
    for n in range(400):
        box = rng.choice(["a", "b", "c", "d", "e"])
        ahead = q.put(box, (box, n))
        if ahead is not None:
            assert list(q.in_order()).index((box, n)) == ahead
        if rng.random() < 0.05:
            order = list(q.in_order())
            served = [q.get(timeout=0) for _ in range(len(order))]
            assert served == order  # the snapshot is the order the queue serves
            for item in order:  # put back what was drained, same order
                q.put(item[0], item)


@pytest.mark.req("NFR-003")
def test_a_box_over_its_share_is_refused_and_order_within_a_box_holds() -> None:
    q: FairQueue[int] = FairQueue(per_box=3)
    assert [q.put("x", n) for n in range(5)] == [0, 1, 2, None, None]
    assert q.refused == 2
    assert q.put("y", 9) == 1
    assert [q.get(timeout=0) for _ in range(4)] == [0, 9, 1, 2]
    assert q.get(timeout=0) is None
