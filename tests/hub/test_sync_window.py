"""A window of unacked batches per box (docs/sync-protocol.md "A window of batches"), through
the real ingest worker and a real broker: a box publishes batch N+1..N+k before N's ack; the
worker applies them in arrival order and acks each; a batch that overtakes an earlier one is
a gap the ack reports (the box does not resend seqs it still has in flight) and the late one
fills it; a resend of an in-window batch is answered as duplicates or supersedes its queued
copy. Every seq is held once, every sale stored once."""

from __future__ import annotations

import queue
import threading
import uuid
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from playhouse.pool import PooledPostgresqlDatabase

from hub.core import db as hub_db
from hub.sync.runs import RUN_BATCHES
from hub.sync.worker import IngestWorker
from posdomain import topics
from posdomain.envelope import BatchAck
from scripts.testkit.crafted import B, T
from tests.hub.conftest import enrol_box
from tests.hub.ingest_helpers import acked_ids, box_row, raw_batch, sale, sale_ids

pytestmark = [pytest.mark.pg, pytest.mark.mqtt]


class Box:
    """A crafted box on the real broker whose batches the test publishes without waiting."""

    def __init__(self, host: str, port: int) -> None:
        self.box_id = enrol_box(T, B)
        self.acks: queue.Queue[BatchAck] = queue.Queue()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}"
        )
        self.client.on_message = lambda _c, _u, m: self.acks.put(
            BatchAck.model_validate_json(m.payload)
        )
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_args: subscribed.set()
        self.client.connect(host, port)
        self.client.loop_start()
        self.client.subscribe(topics.box_ack(self.box_id), qos=1)
        self.runs = False  # the worker may apply queued batches together
        # the acks are not retained: one published before the broker took the subscription
        # would be lost and the test would wait for it forever (seen under load)
        assert subscribed.wait(30), "the broker never granted the ack subscription"

    def events(self, first: int, count: int) -> list[dict[str, Any]]:
        """Sale events with seqs first..first+count-1."""
        return [sale(self.box_id, s) for s in range(first, first + count)]

    def publish(self, raw: bytes) -> None:
        """Publish one batch (QoS 1) without waiting for its ack."""
        self.client.publish(topics.box_events(self.box_id), raw, qos=1).wait_for_publish(5)

    def answers(self, count: int) -> dict[str, BatchAck]:
        """The next `count` acks by batch id."""
        out: dict[str, BatchAck] = {}
        while len(out) < count:
            ack = self.acks.get(timeout=120)
            out[str(ack.batch_id)] = ack
        return out

    def answers_of(self, raws: list[bytes]) -> dict[str, BatchAck]:
        """Acks by batch id until each of these batches has one (others are kept too)."""
        wanted = {_id(raw) for raw in raws}
        out: dict[str, BatchAck] = {}
        while not wanted <= set(out):
            ack = self.acks.get(timeout=120)
            out[str(ack.batch_id)] = ack
        return out

    def close(self) -> None:
        """Disconnect."""
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture(params=[1, RUN_BATCHES], ids=["one-by-one", "runs"])
def window_box(app: Any, mqtt_addr: tuple[str, int], request: Any) -> Any:
    """A running in-process ingest worker and a crafted box on the real broker; the worker
    applies a box's queued batches one at a time, or in runs (hub/sync/runs.py)."""
    host, port = mqtt_addr
    worker = IngestWorker(
        host,
        port,
        client_id=f"cfpos-hub-ingest-test-{uuid.uuid4().hex[:8]}",
        run_batches=request.param,
    )
    worker.start()
    assert worker.ready.wait(10)
    box = Box(host, port)
    box.runs = request.param > 1
    try:
        yield box
    finally:
        box.close()
        worker.stop()


def _id(raw: bytes) -> str:
    return raw.split(b'"batch_id": "', 1)[1][:36].decode()


def _sale_ids(events: list[dict[str, Any]]) -> set[str]:
    return {e["payload"]["sale_id"] for e in events}


@pytest.mark.req("FR-303", "NFR-003")
def test_a_window_of_batches_is_applied_in_order_and_each_acked(window_box: Box) -> None:
    box = window_box
    events = box.events(1, 12)
    raws = [raw_batch(box.box_id, events[i : i + 3]) for i in range(0, 12, 3)]
    for raw in raws:  # all four before the first ack
        box.publish(raw)
    acks = box.answers(4)
    through = 0
    for n, raw in enumerate(raws):
        ack = acks[_id(raw)]
        assert acked_ids(ack) == {e["event_id"] for e in events[3 * n : 3 * n + 3]}
        if box.runs:  # a run's acks carry the run's acked_through: the box's, not the batch's
            assert ack.acked_through >= max(through, 3 * n + 3)
        else:
            assert ack.acked_through == 3 * n + 3, "applied in seq order: no gap on the way"
        through = ack.acked_through
        assert ack.missing_seqs == []
    assert sale_ids(box.box_id) == _sale_ids(events)
    assert box_row(box.box_id).last_contiguous_seq == 12


@pytest.mark.req("FR-303", "NFR-003")
def test_a_batch_that_overtakes_the_one_before_is_a_gap_then_filled(window_box: Box) -> None:
    box = window_box
    events = box.events(1, 12)
    raws = [raw_batch(box.box_id, events[i : i + 3]) for i in range(0, 12, 3)]
    for n in (0, 2, 1, 3):  # batch 3 arrives before batch 2
        box.publish(raws[n])
    acks = box.answers(4)
    if box.runs:  # 3 may be applied alone (a gap) or with 2 (none): either way it is filled
        for n, raw in enumerate(raws):
            assert acked_ids(acks[_id(raw)]) == {e["event_id"] for e in events[3 * n : 3 * n + 3]}
            assert set(acks[_id(raw)].missing_seqs) <= {4, 5, 6}
        assert max(a.acked_through for a in acks.values()) == 12
        assert sale_ids(box.box_id) == _sale_ids(events)
        assert box_row(box.box_id).last_contiguous_seq == 12
        return
    third = acks[_id(raws[2])]
    assert third.acked_through == 3
    assert third.missing_seqs == [4, 5, 6], "the overtaken batch's seqs are reported missing"
    assert acked_ids(third) == {e["event_id"] for e in events[6:9]}, "held above the gap"
    assert acks[_id(raws[1])].acked_through == 9, "the late batch fills the gap"
    assert acks[_id(raws[3])].acked_through == 12
    assert sale_ids(box.box_id) == _sale_ids(events)
    assert box_row(box.box_id).last_contiguous_seq == 12


@pytest.mark.req("FR-303", "NFR-003")
def test_a_resend_of_an_in_window_batch_is_held_once(window_box: Box) -> None:
    box = window_box
    events = box.events(1, 9)
    raws = [raw_batch(box.box_id, events[i : i + 3]) for i in range(0, 9, 3)]
    again = raw_batch(box.box_id, events[3:6])  # the box resent batch 2 under a new id
    for raw in (raws[0], raws[1], again, raws[2]):
        box.publish(raw)
    # the first copy of batch 2 may be skipped unacked (superseded by the resend behind it)
    acks = box.answers_of([raws[0], again, raws[2]])
    resent = acks[_id(again)]
    assert acked_ids(resent) == {e["event_id"] for e in events[3:6]}
    assert not resent.rejected, "a duplicate is never a conflict"
    assert acks[_id(raws[2])].acked_through == 9
    assert sale_ids(box.box_id) == _sale_ids(events)
    assert box_row(box.box_id).last_contiguous_seq == 9


@pytest.mark.req("FR-303", "NFR-006")
def test_a_stopped_worker_gives_its_database_connections_back(
    app: Any, mqtt_addr: tuple[str, int]
) -> None:
    """Each worker thread that touched the database returns its pooled connection when the
    worker stops: a process that starts and stops workers must not drain the pool (it did:
    16 leaked connections and every later database call waited on the pool)."""
    host, port = mqtt_addr
    pool = hub_db.db.obj
    assert isinstance(pool, PooledPostgresqlDatabase)
    before = len(pool._in_use)
    for _ in range(3):
        worker = IngestWorker(host, port, client_id=f"cfpos-hub-ingest-test-{uuid.uuid4().hex[:8]}")
        worker.start()
        assert worker.ready.wait(10)
        box = Box(host, port)
        try:
            raw = raw_batch(box.box_id, box.events(1, 2))
            box.publish(raw)
            assert acked_ids(box.answers_of([raw])[_id(raw)])  # the apply thread wrote it
        finally:
            box.close()
            worker.stop()
    assert len(pool._in_use) == before


@pytest.mark.req("FR-303", "NFR-003")
def test_a_window_with_a_forged_total_and_a_broken_message_refuses_only_those(
    window_box: Box,
) -> None:
    """Whether the worker applies the window one by one or as a run: the sale whose total
    does not add up is refused in its own batch's ack only, the message that is not JSON is
    quarantined whole (no ack), and every other sale is stored once."""
    box = window_box
    events = box.events(1, 9)
    events[4] = sale(box.box_id, 5, total="999.99")
    raws = [raw_batch(box.box_id, events[i : i + 3]) for i in range(0, 9, 3)]
    for raw in (raws[0], b"{not json", raws[1], raws[2]):
        box.publish(raw)
    acks = box.answers_of(raws)
    assert [r["seq"] for r in acks[_id(raws[1])].rejected] == [5]
    assert acks[_id(raws[0])].rejected == []
    assert acks[_id(raws[2])].rejected == []
    for n, raw in enumerate(raws):
        want = {e["event_id"] for e in events[3 * n : 3 * n + 3]} - {events[4]["event_id"]}
        assert acked_ids(acks[_id(raw)]) == want
    assert sale_ids(box.box_id) == _sale_ids(events) - {events[4]["payload"]["sale_id"]}
    assert box_row(box.box_id).last_contiguous_seq == 9
