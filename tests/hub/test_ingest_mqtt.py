"""The ingest worker on the real Mosquitto: bad messages quarantined, good batch acked."""

from __future__ import annotations

import json
import queue
import subprocess
import time
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
from tests.hub.ingest_helpers import raw_batch, sale

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


def _mosquitto_pub(host: str, port: int, topic: str, raw: bytes) -> None:
    """Publish as an outside tester would: the mosquitto_pub client, QoS 1, any bytes."""
    subprocess.run(
        ["mosquitto_pub", "-h", host, "-p", str(port), "-q", "1", "-t", topic, "-s"],
        input=raw,
        check=True,
        timeout=20,
    )


@pytest.mark.req("FR-303", "NFR-003", "NFR-005")
def test_crafted_mosquitto_pub_batches_are_acked_with_their_refusals(app, mqtt_addr):
    """Findings 1 and 3 through the real worker and broker: a batch mixing a poison event, a
    rule breaker and a valid sale is acked (refusals listed, the sale applied) instead of
    being left unacked forever; a forged replay on a used seq is refused, never a duplicate;
    a message nested 100 000 deep is quarantined whole; the worker goes on."""
    host, port = mqtt_addr
    box = enrol_box(T, B)
    worker = IngestWorker(host, port, client_id=f"cfpos-hub-ingest-test-{uuid.uuid4().hex[:8]}")
    acks: queue.Queue[bytes] = queue.Queue()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}")
    sub.on_message = lambda _c, _u, msg: acks.put(msg.payload)
    worker.start()
    try:
        assert worker.ready.wait(10)
        sub.connect(host, port)
        sub.subscribe(topics.box_ack(box), qos=1)
        sub.loop_start()
        time.sleep(0.5)
        first, broken, poison = sale(box, 1), sale(box, 2, total="-2.98"), sale(box, 3)
        poison["payload"]["lines"].append(dict(poison["payload"]["lines"][0]))  # line no twice
        _mosquitto_pub(host, port, topics.box_events(box), raw_batch(box, [first, broken, poison]))
        ack = BatchAck.model_validate_json(acks.get(timeout=15))
        assert [str(e) for e in ack.accepted] == [first["event_id"]]
        assert {r["seq"]: r["reason"] for r in ack.rejected} == {
            2: "TOTALS_MISMATCH",
            3: "DUPLICATE_LINE_NO",
        }
        assert ack.acked_through == 3
        forged = sale(box, 1)
        _mosquitto_pub(host, port, topics.box_events(box), raw_batch(box, [forged]))
        ack = BatchAck.model_validate_json(acks.get(timeout=15))
        assert (ack.duplicates, ack.accepted) == ([], [])
        assert [r["reason"] for r in ack.rejected] == ["SEQ_CONFLICT"]
        deep = b'{"v": 1, "events": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        _mosquitto_pub(host, port, topics.box_events(box), deep)
        good = sale(box, 4)
        _mosquitto_pub(host, port, topics.box_events(box), raw_batch(box, [good]))
        ack = BatchAck.model_validate_json(acks.get(timeout=15))
        assert [str(e) for e in ack.accepted] == [good["event_id"]]
        assert poll_until(lambda: "MALFORMED_MESSAGE" in _quarantined({box}))
        assert sorted(_quarantined({box})) == sorted(
            ["DUPLICATE_LINE_NO", "MALFORMED_MESSAGE", "SEQ_CONFLICT", "TOTALS_MISMATCH"]
        )
    finally:
        sub.loop_stop()
        sub.disconnect()
        worker.stop()
