"""`ResendingBox`: a crafted box that honours the hub's `resend` request (NFR-004).

It stands in for the real box until the box half lands (docs/operations.md "What the box
must do"): it keeps every event it sold, acked or not (the retention window), publishes
batches over the real broker, reads the hub's acks, and when a retained `down/resend`
DownMessage of a new version arrives it republishes every kept event above `after_seq`.
Its Z report is the sum of its sales, to the cent.
"""

from __future__ import annotations

import queue
import threading
import uuid
from decimal import Decimal
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from posdomain import topics
from posdomain.contract import DownKind, ResendRequest
from posdomain.envelope import BatchAck, DownMessage, decode, encode
from scripts.testkit.crafted import batch_of, sale_event


class ResendingBox:
    """An enrolled box id with an in-memory outbox that keeps acked events."""

    def __init__(self, box_id: str, tenant_id: str, branch_id: str, host: str, port: int) -> None:
        self.box_id, self.tenant_id, self.branch_id = box_id, tenant_id, branch_id
        self.kept: dict[int, dict[str, Any]] = {}
        self.acked_through = 0
        self.resend_version = 0
        self.resends: list[ResendRequest] = []
        self.acks: queue.Queue[BatchAck] = queue.Queue()
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"cfpos-rbox-{uuid.uuid4().hex[:8]}"
        )
        self.client.on_message = self._on_message
        self.client.connect(host, port)
        self.client.subscribe(
            [(topics.box_ack(box_id), 1), (topics.box_down(box_id, DownKind.RESEND.value), 1)]
        )
        self.client.loop_start()

    def _on_message(self, _client: Any, _userdata: Any, msg: Any) -> None:
        if msg.topic.endswith("/ack"):
            ack = BatchAck.model_validate_json(msg.payload)
            with self._lock:
                self.acked_through = max(self.acked_through, ack.acked_through)
            self.acks.put(ack)
        elif msg.payload:
            self._on_resend(decode(msg.payload, DownMessage))

    def _on_resend(self, down: DownMessage) -> None:
        """Apply a resend request once per version: republish every kept event above it."""
        if down.version <= self.resend_version:
            return
        self.resend_version = down.version
        request = ResendRequest.model_validate(down.body)
        self.resends.append(request)
        again = [e for s, e in sorted(self.kept.items()) if s > request.after_seq]
        if again:
            self.publish(again)

    def sell(self, n: int) -> list[dict[str, Any]]:
        """Complete n sales (next seqs), keep them, publish them as one batch."""
        start = max(self.kept, default=0) + 1
        events = []
        for seq in range(start, start + n):
            ev = sale_event(self.box_id, seq, branch_id=self.branch_id)
            ev["tenant_id"] = self.tenant_id
            self.kept[seq] = ev
            events.append(ev)
        self.publish(events)
        return events

    def publish(self, events: list[dict[str, Any]]) -> None:
        """Publish events as one batch (QoS 1)."""
        batch = batch_of(self.box_id, events)
        self.client.publish(topics.box_events(self.box_id), encode(batch), qos=1)

    def z_report_minor(self) -> int:
        """The box's own total of every sale it completed, in minor units."""
        return sum(int(Decimal(e["payload"]["total"]) * 100) for e in self.kept.values())

    def close(self) -> None:
        """Clear the retained resend message of this box and disconnect."""
        topic = topics.box_down(self.box_id, DownKind.RESEND.value)
        self.client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
        self.client.loop_stop()
        self.client.disconnect()
