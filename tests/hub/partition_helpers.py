"""Helpers of the partitioned-worker tests (tests/hub/test_ingest_partition.py and
test_ingest_takeover.py): boxes enrolled into a given partition, simulated boxes on one MQTT
client that resend until acked, and a worker that notes which boxes it applied."""

from __future__ import annotations

import queue
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hub.core.db import platform_tx
from hub.identity.models import Box
from hub.sync.partition import owner
from hub.sync.worker import IngestWorker
from posdomain import topics
from posdomain.envelope import BatchAck
from tests.hub.ingest_helpers import B, T, raw_batch, sale


def enrol_in(k: int, count: int = 2) -> str:
    """Enrol a new box of partition k (ids drawn until one falls there); return its id."""
    while owner(box_id := f"box-{uuid.uuid4().hex[:12]}", count) != k:
        pass
    with platform_tx():
        Box.create(box_id=box_id, tenant_id=T, branch_id=B, name=box_id)
    return box_id


class Recording(IngestWorker):
    """An ingest worker that notes the box of every batch it applies."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.applied: list[str] = []

    def _apply_run(self, run) -> None:  # type: ignore[no-untyped-def]
        self.applied += [topics.box_id_from_topic(msg.topic) or "" for msg, _decoding in run]
        super()._apply_run(run)


class Boxes:
    """Simulated boxes on one client: publish a box's batch, resend it until its ack. With
    `login` (a box's enrolled username and password on an ACL'd broker) the client is that
    one box and reads only its own acks."""

    def __init__(self, port: int, login: tuple[str, str] | None = None) -> None:
        self.acks: dict[str, queue.Queue[BatchAck]] = {}
        self.every_ack: list[BatchAck] = []  # every ack heard, copies of one batch's too
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"boxes-{uuid.uuid4().hex[:6]}"
        )
        self.client.on_message = self._ack
        if login is not None:
            self.client.username_pw_set(*login)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe(topics.box_ack(login[0] if login else "+"), qos=1)

    def _ack(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        box_id = topics.box_id_from_topic(msg.topic) or ""
        self.every_ack.append(BatchAck.model_validate_json(msg.payload))
        self.acks.setdefault(box_id, queue.Queue()).put(BatchAck.model_validate_json(msg.payload))

    def sell(
        self, box_id: str, batches: int, per_batch: int, first_batch: int = 0
    ) -> dict[str, int]:
        """Send the box's sales batch after batch (from batch number `first_batch`: a later
        round), each resent until acked (as a box does); return {sale id: total minor}."""
        sold: dict[str, int] = {}
        acks = self.acks.setdefault(box_id, queue.Queue())
        for n in range(first_batch, first_batch + batches):
            events = [sale(box_id, n * per_batch + i + 1) for i in range(per_batch)]
            sold.update({e["payload"]["sale_id"]: 298 for e in events})
            raw = raw_batch(box_id, events)
            for _attempt in range(30):
                self.client.publish(topics.box_events(box_id), raw, qos=1)
                try:
                    ack = acks.get(timeout=2)
                except queue.Empty:
                    continue  # no worker had it (not subscribed yet): resent
                while ack.acked_through < (n + 1) * per_batch:  # an earlier copy's answer
                    ack = acks.get(timeout=10)
                break
            else:
                raise AssertionError(f"{box_id} batch {n} never acked")
        return sold

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
