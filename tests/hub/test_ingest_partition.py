"""Ingest workers with an explicit partition of the boxes (`CFPOS_INGEST_PARTITION=k/n`,
hub/sync/partition.py), for brokers without shared subscriptions (issue 15 item 3).

The assignment is stable (CRC-32 of the box id, not Python's salted hash), every box belongs
to exactly one worker, and a box enrolled after the workers started is picked up by its
worker's refresh. On a private Mosquitto two partitioned workers and several boxes: each
box's batches are applied by its own worker only, and the hub holds every sale once.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.core.db import tenant_tx
from hub.sales.models import Sale
from hub.settings import SettingsError, load_settings
from hub.sync.follower import CATCH_ALL, PartitionFollower
from hub.sync.partition import Partition, box_filters, owner
from hub.sync.worker import IngestWorker
from posdomain import topics
from scripts.testkit.broker import MOSQUITTO, PrivateBroker
from scripts.testkit.waiting import wait_until
from tests.hub.conftest import enrol_box
from tests.hub.ingest_helpers import B, T, quarantined, raw_batch, sale
from tests.hub.partition_helpers import Boxes, Recording, enrol_in

pytestmark = pytest.mark.req("NFR-003", "NFR-006")


def test_assignment_is_stable_and_gives_every_box_exactly_one_worker() -> None:
    # CRC-32 of the id: the same in every process, host and Python run (PYTHONHASHSEED);
    # fixed values, so a change of the hash (moving boxes between workers) fails here
    fixed = {"box-a": 0, "box-downtown-1": 1, "box-0123456789ab": 2, "box-uptown-2": 2}
    assert {b: owner(b, 4) for b in fixed} == fixed
    ids = [f"box-{uuid.uuid4().hex[:12]}" for _ in range(400)]
    for count in (1, 2, 3, 5):
        workers = [Partition(k, count) for k in range(count)]
        for box_id in ids:
            assert sum(w.owns(box_id) for w in workers) == 1
        shares = [sum(w.owns(b) for b in ids) for w in workers]
        assert min(shares) > 0.6 * len(ids) / count  # spread, not all on one worker
    assert Partition.parse(" 1/3 ") == Partition(1, 3)
    assert Partition(1, 3).client_id("cfpos-hub-ingest") == "cfpos-hub-ingest-p1of3"
    for bad in ("3/3", "1", "-1/2", "a/b", "0/0", "0/300"):
        with pytest.raises(ValueError, match="partition"):
            Partition.parse(bad)


@pytest.mark.pg
def test_a_box_enrolled_after_the_worker_started_joins_its_share_at_the_next_refresh(app):
    unconnected = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="never-connected")
    followers = [PartitionFollower(Partition(k, 2), unconnected) for k in range(2)]
    early = enrol_box(T, B)
    for f in followers:
        f.refresh()
    late = enrol_box(T, B)
    assert not any(late in f.boxes for f in followers)
    added = [f.refresh()[0] for f in followers]
    assert added[owner(late, 2)] == {late}
    assert added[1 - owner(late, 2)] == set()
    mine = followers[owner(late, 2)]
    assert late in mine.boxes
    # partition 0, the lowest live one, takes every box's topics through the `+` filters
    wanted = set(CATCH_ALL) if mine.catch_all else set(box_filters(late))
    assert wanted <= set(mine.filters())
    assert [f.catch_all for f in followers] == [True, False]
    assert early in followers[owner(early, 2)].boxes
    assert not (followers[0].boxes & followers[1].boxes)


@pytest.mark.pg
@pytest.mark.mqtt
@pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="no mosquitto")
def test_two_partitioned_workers_each_apply_only_their_boxes_and_reconcile_exactly(
    app, tmp_path: Path
):
    broker = PrivateBroker(tmp_path / "broker")
    broker.start()
    early = [enrol_in(k % 2) for k in range(6)]  # three boxes of each worker
    workers = [
        Recording(
            "127.0.0.1",
            broker.port,
            client_id=f"ingest-part-{uuid.uuid4().hex[:6]}-p{k}of2",
            partition=Partition(k, 2),
            partition_refresh=0.3,
        )
        for k in range(2)
    ]
    boxes = None
    try:
        for w in workers:
            w.start()
            assert w.ready.wait(20)
        boxes = Boxes(broker.port)
        # two boxes enrolled while the workers run: served once a refresh has listed them
        late = [enrol_in(0), enrol_in(1)]
        done = [w.partition.refreshes for w in workers if w.partition is not None]
        wait_until(
            lambda: all(
                w.partition is not None and w.partition.refreshes > n + 1
                for w, n in zip(workers, done, strict=True)
            ),
            30,
            "two refreshes of each worker",
        )
        everyone = early + late
        sold: dict[str, dict[str, int]] = {}
        threads = [
            threading.Thread(target=lambda b=b: sold.update({b: boxes.sell(b, 2, 5)}))
            for b in everyone
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len(sold) == len(everyone), "a box did not drain"
        for k, w in enumerate(workers):
            assert w.applied, f"worker {k} applied nothing"
            strays = {b for b in w.applied if owner(b, 2) != k}
            assert not strays, f"worker {k} applied batches of other workers' boxes: {strays}"
        assert {b for w in workers for b in w.applied} == set(everyone)
        with tenant_tx(T):
            held = {
                s.id: s.total_minor
                for s in Sale.select(Sale.id, Sale.total_minor).where(Sale.box_id.in_(everyone))
            }
        expected = {sid: total for per_box in sold.values() for sid, total in per_box.items()}
        assert held == expected  # every sale once, to the cent
        assert len(held) == len(everyone) * 10
    finally:
        if boxes is not None:
            boxes.stop()
        for w in workers:
            w.stop()
        broker.stop()


def test_failover_urls_take_the_scheme_of_the_broker_url() -> None:
    cfg = load_settings(mqtt_failover="mqtt://127.0.0.1:1884, mqtt://localhost:1885")
    assert cfg.mqtt_endpoints() == [("127.0.0.1", 1883), ("127.0.0.1", 1884), ("localhost", 1885)]
    for bad in ("mqtts://127.0.0.1:8883", "127.0.0.1:1884"):
        with pytest.raises(SettingsError, match="CFPOS_MQTT_FAILOVER"):
            load_settings(mqtt_failover=bad)
    with pytest.raises(SettingsError, match="plain MQTT"):
        load_settings(env="STAGING", mqtt_failover="mqtt://10.1.2.3:1883")
    with pytest.raises(SettingsError, match="exclude each other"):
        load_settings(ingest_partition="0/2", ingest_shared_group="g")


@pytest.mark.pg
@pytest.mark.mqtt
@pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="no mosquitto")
def test_the_worker_moves_to_its_failover_broker_when_its_broker_dies(app, tmp_path: Path):
    first, second = PrivateBroker(tmp_path / "first"), PrivateBroker(tmp_path / "second")
    first.start()
    second.start()
    box_id = enrol_box(T, B)
    worker = IngestWorker(
        "127.0.0.1",
        first.port,
        client_id=f"ingest-fo-{uuid.uuid4().hex[:6]}",
        failover=[("127.0.0.1", second.port)],
    )
    boxes = None
    try:
        worker.start()
        assert worker.ready.wait(20)
        assert worker.endpoints.current == ("127.0.0.1", first.port)
        assert first.proc is not None
        first.proc.kill()  # SIGKILL: the worker's node is gone
        first.proc.wait(10)
        wait_until(
            lambda: (
                worker.endpoints.current == ("127.0.0.1", second.port)
                and worker.client.is_connected()
            ),
            30,
            "the worker on the second broker",
        )
        boxes = Boxes(second.port)  # a box of the second node (failed over, or always there)
        sold = boxes.sell(box_id, 2, 5)
        with tenant_tx(T):
            held = {s.id for s in Sale.select(Sale.id).where(Sale.box_id == box_id)}
        assert held == set(sold)
    finally:
        if boxes is not None:
            boxes.stop()
        worker.stop()
        first.stop()
        second.stop()


def test_asking_again_for_refused_subscriptions_of_an_emptied_partition_subscribes_nothing(
    app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    broker = PrivateBroker(tmp_path / "broker")
    broker.start()
    worker = IngestWorker("127.0.0.1", broker.port, client_id=f"ingest-e-{uuid.uuid4().hex[:6]}")
    try:
        worker.start()
        assert worker.ready.wait(20)
        monkeypatch.setattr(worker, "_filters", list)  # its last box went since the refusal
        worker._resubscribe()  # paho refuses an empty subscribe list with a ValueError
        assert worker.client.is_connected()
    finally:
        worker.stop()
        broker.stop()


@pytest.mark.pg
@pytest.mark.mqtt
@pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="no mosquitto")
def test_a_batch_of_an_unenrolled_box_is_refused_as_unknown_box_in_partition_mode(
    app, tmp_path: Path
):
    """Partitioned workers subscribe per enrolled box; a box nobody enrolled must still be
    refused with its reason (not left to resend into the void): the lowest live partition
    takes the `+` filters. Before, no worker subscribed to its topic and nothing was
    quarantined."""
    broker = PrivateBroker(tmp_path / "broker")
    broker.start()
    enrol_in(0)
    enrol_in(1)
    workers = [
        IngestWorker(
            "127.0.0.1",
            broker.port,
            client_id=f"ingest-unk-{uuid.uuid4().hex[:6]}-p{k}of2",
            partition=Partition(k, 2),
            partition_refresh=0.3,
        )
        for k in range(2)
    ]
    boxes = None
    try:
        for w in workers:
            w.start()
            assert w.ready.wait(20)
        boxes = Boxes(broker.port)
        stranger = f"box-{uuid.uuid4().hex[:12]}"
        boxes.client.publish(
            topics.box_events(stranger), raw_batch(stranger, [sale(stranger, 1)]), qos=1
        )
        wait_until(lambda: bool(quarantined(stranger)), 20, "the unknown box's batch refused")
        assert quarantined(stranger) == ["UNKNOWN_BOX"]  # once, by one worker
        with tenant_tx(T):
            assert not Sale.select().where(Sale.box_id == stranger).exists()
        assert stranger not in boxes.acks  # never acked as delivered
    finally:
        if boxes is not None:
            boxes.stop()
        for w in workers:
            w.stop()
        broker.stop()
