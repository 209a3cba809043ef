"""Several ingest workers (issue 15 item 3): whichever worker gets a batch, a box's batches
are applied one at a time (the box row is locked for the batch), a late batch that arrives
after a later one is a gap the ack reports and then fills, and a resend applied by a second
worker at the same time is answered as duplicates — nothing twice, nothing lost."""

from __future__ import annotations

import threading
from typing import Any

import psycopg2
import pytest

from hub.sync.received import events_key, head_batch_id
from posdomain.envelope import BatchAck, encode
from scripts.testkit.crafted import B, T, batch_of
from scripts.testkit.waiting import wait_until
from tests.hub.conftest import enrol_box
from tests.hub.ingest_helpers import acked_ids, box_row, raw_batch, sale, sale_ids, send, send_raw

pytestmark = [pytest.mark.pg]


@pytest.mark.req("FR-303", "NFR-003")
def test_a_later_batch_first_is_a_gap_then_the_late_one_fills_it(app: Any) -> None:
    box = enrol_box(T, B)
    late, early = [sale(box, s) for s in (1, 2, 3)], [sale(box, s) for s in (4, 5)]
    ack = send(box, early)  # worker 2 was faster than worker 1
    assert ack is not None
    assert ack.acked_through == 0
    assert ack.missing_seqs == [1, 2, 3]
    ack = send(box, late)
    assert ack is not None
    assert ack.acked_through == 5
    assert ack.missing_seqs == []
    assert sale_ids(box) == {e["payload"]["sale_id"] for e in late + early}


def _waiting_on_locks(admin_url: str) -> int:
    conn = psycopg2.connect(admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND usename = 'cfpos_app'"
            )
            return int(cur.fetchone()[0])
    finally:
        conn.close()


@pytest.mark.req("FR-303", "NFR-003")
def test_two_workers_on_one_box_apply_one_after_the_other(
    app: Any, hub_urls: tuple[str, str]
) -> None:
    """Three batches of one box reach three workers at once — the next batch and a resend of
    the first included — while the box row is locked: each waits for the lock, then all
    apply; every seq is held once, the resend is answered as duplicates."""
    admin_url = hub_urls[0]
    box = enrol_box(T, B)
    first, second = [sale(box, s) for s in range(1, 6)], [sale(box, s) for s in range(6, 11)]
    raws = [raw_batch(box, first), raw_batch(box, second), raw_batch(box, first)]
    acks: dict[int, BatchAck | None] = {}
    holder = psycopg2.connect(admin_url)
    with holder.cursor() as cur:  # another worker inside a batch of this box
        cur.execute("SELECT 1 FROM boxes WHERE box_id = %s FOR UPDATE", (box,))

    def worker(n: int) -> None:
        acks[n] = send_raw(box, raws[n])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: _waiting_on_locks(admin_url) >= 3, 30, "three workers on the lock")
    finally:
        holder.rollback()
        holder.close()
    for t in threads:
        t.join(60)
    assert all(acks.get(n) is not None for n in range(3))
    held = {e["event_id"] for e in first + second}
    assert set().union(*(acked_ids(a) for a in acks.values() if a)) == held
    assert sum(len(a.duplicates) for a in acks.values() if a) == 5  # the resend, once
    assert sale_ids(box) == {e["payload"]["sale_id"] for e in first + second}
    row = box_row(box)
    assert row.last_contiguous_seq == 10


def test_identical_resends_share_an_events_key_and_other_batches_do_not() -> None:
    """An old box without flow control resends the same outbox rows under a new batch id
    and send time: the worker recognises the copy still queued (and applies the latest)."""

    box = "box-key"
    events = [sale(box, 1), sale(box, 2)]
    one, two = encode(batch_of(box, events)), encode(batch_of(box, events))
    other = encode(batch_of(box, [sale(box, 1)]))
    topic = f"cfpos/v1/box/{box}/events"
    assert one != two
    assert events_key(topic, one) == events_key(topic, two) is not None
    assert events_key(topic, other) != events_key(topic, one)
    assert events_key(f"cfpos/v1/box/{box}-2/events", one) != events_key(topic, one)
    assert events_key(topic, b'{"events": []}') is None
    assert head_batch_id(one) is not None
    assert head_batch_id(b'{"box_id": "x", "batch_id": "y"}') is None
