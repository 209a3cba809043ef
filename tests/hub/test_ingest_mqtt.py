"""The ingest worker on the real Mosquitto: bad messages quarantined, good batch acked."""

from __future__ import annotations

import json
import queue
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.core.db import db
from hub.sync.models import Quarantine
from hub.sync.worker import IngestWorker
from posdomain import topics
from posdomain.envelope import MAX_MESSAGE_BYTES, BatchAck, encode
from scripts.testkit.crafted import make_batch
from scripts.testkit.waiting import poll_until
from tests.hub.conftest import enrol_box

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]
T, B = "t-greenbasket", "b-downtown"


def _quarantined(box_ids: set[str]) -> list[str]:
    with db.atomic():
        rows = Quarantine.select().where(Quarantine.box_id.in_(list(box_ids)))
        return sorted(r.reason for r in rows)


@pytest.mark.req("FR-303", "NFR-005", "NFR-006")
def test_worker_quarantines_bad_messages_and_acks_good_batch(app, mqtt_addr):
    host, port = mqtt_addr
    box = enrol_box(T, B)
    other = enrol_box(T, B)
    worker = IngestWorker(host, port, client_id=f"cfpos-hub-ingest-test-{uuid.uuid4().hex[:8]}")
    acks: queue.Queue[bytes] = queue.Queue()
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}")
    pub.on_message = lambda _c, _u, msg: acks.put(msg.payload)
    worker.start()
    try:
        assert worker.ready.wait(10)
        pub.connect(host, port)
        pub.subscribe(topics.box_ack(box), qos=1)
        pub.loop_start()
        unknown = f"box-unknown-{uuid.uuid4().hex[:8]}"
        bad = [
            (box, b"not json"),
            (box, json.dumps({"v": 1, "box_id": box}).encode()),
            (box, b"{" + b" " * MAX_MESSAGE_BYTES + b"}"),
            (box, encode(make_batch(other, T, B, [1]))),
            (unknown, encode(make_batch(unknown, T, B, [1]))),
        ]
        for box_id, payload in bad:
            pub.publish(topics.box_events(box_id), payload, qos=1).wait_for_publish(5)
        expected = [
            "BOX_MISMATCH",
            "MALFORMED_MESSAGE",
            "MALFORMED_MESSAGE",
            "PAYLOAD_TOO_LARGE",
            "UNKNOWN_BOX",
        ]
        assert poll_until(lambda: _quarantined({box, unknown}) == expected), _quarantined(
            {box, unknown}
        )
        assert acks.empty()
        good = make_batch(box, T, B, [1, 2])
        pub.publish(topics.box_events(box), encode(good), qos=1).wait_for_publish(5)
        ack = BatchAck.model_validate_json(acks.get(timeout=10))
        assert ack.batch_id == good.batch_id
        assert ack.acked_through == 2
        assert len(ack.accepted) == 2
    finally:
        pub.loop_stop()
        pub.disconnect()
        worker.stop()
