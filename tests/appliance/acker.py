"""Test-only stand-in for the hub's ingest: receives a box's batches, "commits", acks.

It is a real MQTT peer on the real broker (nothing is mocked): it dedups by event id like
the hub, acks the highest contiguous seq and lists gaps as missing_seqs. Like a live hub
worker it says it is online (a retained `IngestStatus`, cleared at stop): the shared test
broker may carry offline statuses that killed workers of other runs left behind, and a box
hearing only those would hold its batches instead of resending them.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from posdomain import topics
from posdomain.envelope import BatchAck, EventBatch, EventEnvelope, IngestStatus, decode, encode


class Acker:
    """Subscribe to one box's events topic and answer every batch with a BatchAck."""

    def __init__(self, host: str, port: int, box_id: str, *, drop_seqs: set[int] | None = None):
        self.box_id = box_id
        self.events: dict[int, EventEnvelope] = {}
        self.deliveries: Counter[str] = Counter()
        self.batches = 0
        self.drop_seqs = set(drop_seqs or ())
        self._lock = threading.Lock()
        self._ready = threading.Event()
        client_id = f"test-acker-{uuid.uuid4().hex[:8]}"
        self.status_topic = topics.hub_ingest_status(client_id)
        self.online = encode(IngestStatus(worker=client_id, online=True))
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()

    def _on_connect(self, client: mqtt.Client, *_a: Any) -> None:
        client.subscribe(topics.box_events(self.box_id), qos=1)

    def _on_subscribe(self, *_a: Any) -> None:
        self.client.publish(self.status_topic, self.online, qos=1, retain=True)
        self._ready.set()

    def wait_ready(self, timeout: float = 5) -> None:
        """Block until the subscription is in place."""
        assert self._ready.wait(timeout), "acker did not subscribe"

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        batch = decode(bytes(msg.payload), EventBatch)
        with self._lock:
            self.batches += 1
            accepted, duplicates = [], []
            for ev in batch.events:
                self.deliveries[str(ev.event_id)] += 1
                if ev.seq in self.drop_seqs:
                    self.drop_seqs.discard(ev.seq)  # lose it once, as a flaky hub would
                    continue
                if ev.seq in self.events:
                    duplicates.append(ev.event_id)
                else:
                    self.events[ev.seq] = ev
                    accepted.append(ev.event_id)
            through = 0
            while through + 1 in self.events:
                through += 1
            missing = [
                s for s in range(through + 1, max(self.events, default=0)) if s not in self.events
            ]
        ack = BatchAck(
            batch_id=batch.batch_id,
            box_id=self.box_id,
            acked_through=through,
            accepted=accepted,
            duplicates=duplicates,
            missing_seqs=missing,
        )
        client.publish(topics.box_ack(self.box_id), encode(ack), qos=1)

    def of_type(self, event_type: str) -> list[EventEnvelope]:
        """Committed events of one type, in seq order."""
        with self._lock:
            return [
                self.events[s] for s in sorted(self.events) if self.events[s].type == event_type
            ]

    def stop(self) -> None:
        """Clear the status and disconnect (a second stop does nothing more)."""
        if self.client.is_connected():
            self.client.publish(self.status_topic, b"", qos=1, retain=True).wait_for_publish(5)
        self.client.disconnect()
        self.client.loop_stop()
