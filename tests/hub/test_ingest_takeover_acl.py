"""Partition takeover on a broker locked with the ACLs `python -m hub mqtt-config` generates
(issue 15 item 3, NFR-005): three partitioned ingest workers log in as the hub's user, each
box with its own enrolled credentials; the boxes' batches drain, one worker dies without a
DISCONNECT (as SIGKILL: the broker publishes its last will, which the hub's ACL must let
through), the survivors take its boxes over and give them back when it returns. A box cannot
forge the hub's presence: a beat or an online status in the dead worker's name, or a cleared
status of a live one, is dropped by the broker (MQTT 3.1.1 still PUBACKs it), so no worker
takes a dead one for alive or a live one for gone; nor can a box publish another box's batch.

In-process workers (tests/hub/test_ingest_takeover.py has the same without ACLs; the process
SIGKILL mid-batch: tests/hub/test_ingest_takeover_kill.py).
"""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest

from hub.boxes import broker_acl, registry
from hub.boxes.models import BoxCredential
from hub.core.db import platform_tx
from hub.core.mqtt import MqttLogin
from hub.sync.partition import Partition, owner
from posdomain import topics
from posdomain.envelope import IngestStatus, encode
from scripts.testkit.broker import MOSQUITTO, acl_broker
from scripts.testkit.waiting import wait_until
from tests.hub.ingest_helpers import raw_batch, sale
from tests.hub.partition_helpers import Boxes, Recording, enrol_in
from tests.hub.test_ingest_takeover import _held
from tests.provisioning.helpers import Probe, probe

pytestmark = [
    pytest.mark.pg,
    pytest.mark.mqtt,
    pytest.mark.req("NFR-003", "NFR-005", "NFR-006"),
    pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="no mosquitto"),
]


def _enrol_with_login(k: int, count: int) -> tuple[str, str]:
    """A box of partition k with an MQTT login as enrolment makes it (username = box id,
    the password hashed for the broker's password file); returns (box id, password)."""
    box_id, password = enrol_in(k, count), broker_acl.new_password()
    with platform_tx():
        BoxCredential.create(
            box_id=box_id,
            tenant_id="t-greenbasket",
            mqtt_username=box_id,
            password_hash=broker_acl.hash_password(password),
        )
    return box_id, password


def _worker(port: int, run: str, k: int, login: MqttLogin) -> Recording:
    return Recording(
        "127.0.0.1",
        port,
        client_id=Partition(k, 3).client_id(f"ingest-acl-{run}"),
        login=login,
        partition=Partition(k, 3),
        partition_refresh=0.3,
        partition_stale=120.0,  # only wills and cleared statuses move boxes here
    )


def _die(worker: Recording) -> None:
    """As SIGKILL does: the connection drops without a DISCONNECT and nothing is cleared,
    so the broker publishes the worker's offline last will."""
    worker._stopping.set()
    if worker.partition is not None:
        worker.partition.stop()
    worker.client.loop_stop()
    sock = worker.client.socket()
    assert isinstance(sock, socket.socket)
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _statuses(port: int, hub_password: str) -> dict[str, IngestStatus | None]:
    """The retained worker statuses on the broker now, as a fresh hub client reads them."""
    reader: Probe = probe(port, broker_acl.HUB_USER, hub_password, f"t-st-{uuid.uuid4().hex[:6]}")
    try:
        assert reader.subscribe(topics.ALL_HUB_INGEST_STATUS) == [1]
        wait_until(lambda: len(reader.received) >= 3, 10, "three retained statuses")
        return {t: IngestStatus.model_validate_json(p) if p else None for t, p in reader.received}
    finally:
        reader.close()


def test_takeover_on_the_generated_acls_and_a_box_cannot_forge_the_hub_s_presence(
    app, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    logins = dict(_enrol_with_login(k % 3, 3) for k in range(6))  # two boxes a partition
    ids = list(logins)
    orphans = [b for b in ids if owner(b, 3) == 0]
    forger = next(b for b in ids if owner(b, 3) == 1)
    with acl_broker(tmp_path / "mqtt", registry.broker_users()) as broker:
        pw_file = tmp_path / "hub.password"
        pw_file.write_text(broker.hub_password + "\n")
        login = MqttLogin(broker_acl.HUB_USER, pw_file)
        workers = [_worker(broker.port, run, k, login) for k in range(3)]
        boxes = {b: Boxes(broker.port, login=(b, logins[b])) for b in ids}
        watcher = probe(broker.port, broker_acl.HUB_USER, broker.hub_password, f"t-w-{run}")
        back = None
        try:
            for w in workers:
                w.start()
                assert w.ready.wait(20), "a worker's filters were refused on the ACL'd broker"
            sold: dict[str, int] = {}
            for b in ids:  # every box at home: per-box subscriptions pass the ACL
                sold |= boxes[b].sell(b, 1, 5)
                assert b in workers[owner(b, 3)].applied

            dead, survivors = workers[0], workers[1:]
            _die(dead)
            wait_until(
                lambda: (
                    all(s.partition and s.partition.live == {1, 2} for s in survivors)
                    and set(orphans)
                    <= {b for s in survivors if s.partition for b in s.partition.boxes}
                ),
                30,
                "the dead worker's last will heard and its boxes taken over",
            )

            # a box forges the hub's presence and another box's batch
            assert watcher.subscribe(topics.ALL_HUB_INGEST_BEATS) == [1]
            for every in (topics.ALL_BOX_EVENTS, topics.ALL_BOX_STATUS, topics.ALL_BOX_REQUESTS):
                assert watcher.subscribe(every) == [1]
            dead_id = Partition(0, 3).client_id(f"ingest-acl-{run}")
            beat = IngestStatus(worker=dead_id, online=True, partition="0/3")
            forged = probe(broker.port, forger, logins[forger], f"t-forge-{run}")
            try:
                # a box may read the workers' statuses (its hold: docs/sync-protocol.md) but
                # not their beats (Mosquitto grants the filter and delivers it nothing)
                forged.subscribe(topics.ALL_HUB_INGEST_BEATS)
                forged.subscribe(topics.ALL_HUB_INGEST_STATUS)
                # MQTT 3.1.1: each is PUBACKed, and dropped by the ACL (PITFALLS "Sync")
                assert forged.publish(topics.hub_ingest_beat(dead_id), encode(beat))
                online = encode(IngestStatus(worker=dead_id, online=True, partition="0/3"))
                info = forged.client.publish(dead.status_topic, online, qos=1, retain=True)
                info.wait_for_publish(5)
                info = forged.client.publish(survivors[0].status_topic, b"", qos=1, retain=True)
                info.wait_for_publish(5)
                victim = orphans[0]
                stolen = raw_batch(victim, [sale(victim, 900)])
                assert forged.publish(topics.box_events(victim), stolen)
                assert forged.publish(topics.box_status(victim), b'{"forged": "status"}')
                assert forged.publish(topics.box_request(victim), b'{"forged": "request"}')
                # the forger's own next batch, sent after the forgeries, is applied: the
                # survivors have heard whatever the broker let pass
                before = [s.partition.refreshes for s in survivors if s.partition]
                sold |= boxes[forger].sell(forger, 1, 5, first_batch=1)
                mark = topics.box_events(forger)
                wait_until(lambda: any(t == mark for t, _ in watcher.received), 10, "the marker")
                heard = len(watcher.received)
                wait_until(
                    lambda: (
                        all(
                            s.partition is not None and s.partition.refreshes >= n + 3
                            for s, n in zip(survivors, before, strict=True)
                        )
                        and sum(1 for t, _ in watcher.received[heard:] if t.endswith("/beat")) >= 4
                    ),
                    30,
                    "three more refreshes of each survivor and four of their beats",
                )
                assert [t for t, _ in forged.received if t.endswith("/status")]  # it can listen
                assert not [t for t, _ in forged.received if t.endswith("/beat")]
            finally:
                forged.close()
            beats_of_dead = [
                t
                for t, _ in watcher.received
                if topics.hub_worker_from_topic(t, "beat") == topics.worker_segment(dead_id)
            ]
            assert not beats_of_dead, "a box's forged beat got through"
            assert (topics.box_events(victim), stolen) not in watcher.received
            assert not [t for t, _ in watcher.received if topics.box_id_from_topic(t) == victim]
            for s in survivors:  # neither the forged beat nor the statuses moved anything
                assert s.partition is not None
                assert s.partition.live == {1, 2}
            statuses = _statuses(broker.port, broker.hub_password)
            assert statuses[dead.status_topic] is not None
            assert statuses[dead.status_topic].online is False  # its will, not the forgery
            assert all(statuses[s.status_topic] for s in survivors)  # not cleared by a box

            for b in orphans:  # the dead worker's boxes drain through the survivors
                sold |= boxes[b].sell(b, 1, 5, first_batch=1)
                assert any(b in s.applied for s in survivors)

            back = _worker(broker.port, run, 0, login)  # same client id: its session
            back.start()
            assert back.ready.wait(20)
            wait_until(
                lambda: all(
                    s.partition is not None
                    and s.partition.live == {0, 1, 2}
                    and not set(orphans) & s.partition.boxes
                    for s in survivors
                ),
                30,
                "the boxes given back",
            )
            for b in orphans:
                sold |= boxes[b].sell(b, 1, 5, first_batch=2)
            assert set(orphans) <= set(back.applied)
            assert _held(ids) == sold  # every sale once, to the cent; the stolen one never
            assert len(sold) == 6 * 5 + 1 * 5 + 2 * 2 * 5
        finally:
            watcher.close()
            for bx in boxes.values():
                bx.stop()
            for w in [*workers, *([back] if back else [])]:
                w.stop()
