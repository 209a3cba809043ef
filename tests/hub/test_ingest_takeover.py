"""Partition takeover (issue 15 item 3, hub/sync/takeover.py): when a partitioned ingest worker
is gone, the others serve its boxes and give them back when it returns; the lowest live
worker catches the batches of boxes that are not enrolled and refuses them as UNKNOWN_BOX;
two workers serving one box at once (a handover seen at different moments) still store
every sale once, because the box row lock and sequence are the final guard.

Fast tests on a private Mosquitto with in-process workers (a worker that leaves on purpose
clears its status); the SIGKILL of a worker process mid-batch:
tests/faults/test_partition_takeover.py.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from hub.core.db import tenant_tx
from hub.sales.models import Sale
from hub.sync import apply
from hub.sync.models import IngestedEvent
from hub.sync.partition import Partition, owner
from hub.sync.takeover import Liveness, server_of
from posdomain import topics
from posdomain.envelope import IngestStatus
from scripts.testkit.broker import MOSQUITTO, PrivateBroker
from scripts.testkit.waiting import wait_until
from tests.hub.ingest_helpers import T, quarantined, raw_batch, sale
from tests.hub.partition_helpers import Boxes, Recording, enrol_in

pytestmark = pytest.mark.req("NFR-003", "NFR-006")
needs_mosquitto = pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="no mosquitto")


def test_the_boxes_of_an_absent_partition_spread_over_the_live_ones_and_come_back() -> None:
    ids = [f"box-{uuid.uuid4().hex[:12]}" for _ in range(600)]
    everyone = frozenset(range(3))
    for box_id in ids:  # all live: every box at home
        assert server_of(box_id, 3, everyone) == owner(box_id, 3)
    without_1 = frozenset({0, 2})
    moved = [b for b in ids if server_of(b, 3, without_1) != owner(b, 3)]
    assert {owner(b, 3) for b in moved} == {1}  # only the absent partition's boxes move
    assert {server_of(b, 3, without_1) for b in moved} == {0, 2}  # spread over both
    assert min(sum(server_of(b, 3, without_1) == k for b in moved) for k in (0, 2)) > 50
    # one survivor takes everything; nobody live: the home (nobody serves)
    assert {server_of(b, 3, frozenset({2})) for b in ids} == {2}
    assert all(server_of(b, 3, frozenset()) == owner(b, 3) for b in ids)
    # a box of a still-absent partition stays where it went when a third one comes back
    gone = [b for b in ids if owner(b, 3) == 1]
    assert all(server_of(b, 3, everyone) == 1 for b in gone)  # the owner back: home again


def test_liveness_follows_last_wills_cleared_statuses_and_stale_beats() -> None:
    now = [100.0]
    live = Liveness(Partition(0, 3), "w0", stale=10.0, clock=lambda: now[0])

    def status(k: int, online: bool, n: int = 3) -> IngestStatus:
        return IngestStatus(worker=f"w{k}", online=online, partition=f"{k}/{n}")

    assert live.live() == {0, 1, 2}  # just started: the unheard are presumed alive
    assert live.note("w1", status(1, True))
    assert live.note("w2", status(2, False))  # w2's last will
    assert live.live() == {0, 1}
    assert not live.note("w9", status(1, True, n=4))  # another partitioning: ignored
    assert not live.note("w0", status(0, False))  # its own status
    now[0] += 11  # no beat from w1 for longer than stale: gone even without its will
    assert live.live() == {0}
    assert live.beat("w1", status(1, True))
    assert live.live() == {0, 1}
    assert live.note("w1", None)  # cleared: it left on purpose
    assert live.live() == {0}
    live.deaf_until_now()  # a reconnect: silence while deaf is no evidence
    assert live.beat("w2", status(2, True))  # w2 restarted
    assert live.live() == {0, 2}


def _workers(port: int, run: str, count: int, skip: tuple[int, ...] = ()) -> list[Recording]:
    return [
        Recording(
            "127.0.0.1",
            port,
            client_id=Partition(k, count).client_id(f"ingest-to-{run}"),
            partition=Partition(k, count),
            partition_refresh=0.3,
            partition_stale=30.0,
        )
        for k in range(count)
        if k not in skip
    ]


def _held(box_ids: list[str]) -> dict[str, int]:
    with tenant_tx(T):
        rows = Sale.select(Sale.id, Sale.total_minor).where(Sale.box_id.in_(box_ids))
        return {s.id: s.total_minor for s in rows}


def _sell_all(boxes: Boxes, ids: list[str], batches: int, first: int = 0) -> dict[str, int]:
    sold: dict[str, int] = {}
    threads = [
        threading.Thread(target=lambda b=b: sold.update(boxes.sell(b, batches, 5, first)))
        for b in ids
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    return sold


@pytest.mark.pg
@pytest.mark.mqtt
@needs_mosquitto
def test_a_gone_worker_s_boxes_are_taken_over_and_given_back_and_unknown_boxes_refused(
    app, tmp_path: Path
):
    broker = PrivateBroker(tmp_path / "broker")
    broker.start()
    run = uuid.uuid4().hex[:6]
    ids = [enrol_in(k % 3, 3) for k in range(9)]  # three boxes of each partition
    workers = _workers(broker.port, run, 3)
    boxes = None
    try:
        for w in workers:
            w.start()
            assert w.ready.wait(20)
        boxes = Boxes(broker.port)
        first, back = workers[0], None
        first.stop()  # partition 0, the catch-all, leaves (its status cleared)
        survivors = workers[1:]
        orphans = [b for b in ids if owner(b, 3) == 0]
        wait_until(
            lambda: (
                all(s.partition and s.partition.live == {1, 2} for s in survivors)
                and set(orphans) <= {b for s in survivors if s.partition for b in s.partition.boxes}
            ),
            30,
            "partition 0's boxes taken over",
        )
        assert survivors[0].partition is not None
        assert survivors[0].partition.catch_all  # partition 1, the lowest live one now
        sold = _sell_all(boxes, ids, 2)
        assert len(sold) == 9 * 10, "a box did not drain with partition 0 gone"
        for b in orphans:  # served by a survivor, the one the rule names
            assert any(b in s.applied for s in survivors)
        # a box nobody enrolled: the new catch-all refuses it, nothing stored, no ack
        stranger = f"box-{uuid.uuid4().hex[:12]}"
        boxes.client.publish(topics.box_events(stranger), raw_batch(stranger, [sale(stranger, 1)]))
        wait_until(lambda: bool(quarantined(stranger)), 30, "the unknown box's batch quarantined")
        assert quarantined(stranger) == ["UNKNOWN_BOX"]
        assert not _held([stranger])
        assert stranger not in boxes.acks

        # partition 0 comes back (a new process would be the same: same client id)
        (back,) = _workers(broker.port, run, 3, skip=(1, 2))
        back.start()
        assert back.ready.wait(20)
        wait_until(
            lambda: (
                all(s.partition and s.partition.live == {0, 1, 2} for s in survivors)
                and not any(s.partition and set(orphans) & s.partition.boxes for s in survivors)
            ),
            30,
            "partition 0's boxes given back",
        )
        before = [len(s.applied) for s in survivors]
        sold |= _sell_all(boxes, orphans, 1, first=2)
        assert set(orphans) <= set(back.applied)
        late = [b for s, n in zip(survivors, before, strict=True) for b in s.applied[n:]]
        assert not set(late) & set(orphans), "a survivor kept applying a box it gave back"
        assert _held(ids) == sold  # every sale once, to the cent
        assert len(sold) == 9 * 10 + 3 * 5
    finally:
        if boxes is not None:
            boxes.stop()
        for w in [*workers[1:], *([back] if back else [])]:
            w.stop()
        broker.stop()


@pytest.mark.pg
@pytest.mark.mqtt
@needs_mosquitto
def test_two_workers_serving_one_box_at_once_store_every_sale_once(app, tmp_path: Path):
    """The worst case of a handover: both workers subscribed to the box (here: two workers
    that both claim partition 0), so every batch reaches both, and one of them holds its
    transaction open while the other applies the same batch. The box row lock orders them;
    the second finds the events held and acks them as duplicates."""
    broker = PrivateBroker(tmp_path / "broker")
    broker.start()
    run = uuid.uuid4().hex[:6]
    box_id = enrol_in(0, 2)
    twins = [
        Recording(
            "127.0.0.1",
            broker.port,
            client_id=f"ingest-twin-{run}-{n}",
            partition=Partition(0, 2),
            partition_refresh=0.3,
            partition_stale=30.0,
        )
        for n in range(2)
    ]
    slow = twins[0]

    def hold() -> None:  # only the slow twin's apply thread waits inside its transaction
        if threading.current_thread() in slow._threads:
            threading.Event().wait(0.3)

    apply.INSIDE_TRANSACTION_HOOKS.append(hold)
    boxes = None
    try:
        for w in twins:
            w.start()
            assert w.ready.wait(20)
        boxes = Boxes(broker.port)
        sold = boxes.sell(box_id, 4, 5)
        wait_until(
            lambda: all(w.applied.count(box_id) >= 4 for w in twins),
            60,
            "both twins applied every batch",
        )
        assert _held([box_id]) == sold  # every sale once, to the cent
        with tenant_tx(T):
            seqs = [e.seq for e in IngestedEvent.select().where(IngestedEvent.box_id == box_id)]
        assert sorted(seqs) == list(range(1, 21))  # no seq twice, none missing
        acks = [a for a in boxes.every_ack if a.box_id == box_id]
        assert not any(a.rejected for a in acks)
        assert sum(len(a.accepted) for a in acks) == 20  # each event accepted by one twin
        assert sum(len(a.duplicates) for a in acks) >= 15  # and answered held by the other
    finally:
        apply.INSIDE_TRANSACTION_HOOKS.remove(hold)
        if boxes is not None:
            boxes.stop()
        for w in twins:
            w.stop()
        broker.stop()
