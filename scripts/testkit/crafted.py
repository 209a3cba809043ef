"""Crafted box traffic for tests, benchmarks and chaos runs: sale payloads and envelopes as a
box would send them (docs/CONTRACT.md), batches around them, and `CraftedBox`, an enrolled box
whose batches a test publishes itself over the real broker and whose acks it reads."""

from __future__ import annotations

import json
import queue
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
import psycopg2
from paho.mqtt.enums import CallbackAPIVersion

from posdomain import topics
from posdomain.envelope import BatchAck, EventBatch, encode

if TYPE_CHECKING:
    from scripts.sync_harness import FaultStack

T, B, B2 = "t-greenbasket", "b-downtown", "b-riverside"


def sale_payload(receipt_no: int, total: str = "2.98") -> dict[str, Any]:
    """A sale.completed payload per CONTRACT.md."""
    return {
        "sale_id": str(uuid.uuid4()),
        "receipt_no": receipt_no,
        "idempotency_key": uuid.uuid4().hex,
        "cashier_id": "u-cashier",
        "cashier_name": "Carl Cashier",
        "currency": "EUR",
        "exponent": 2,
        "lines": [
            {
                "line_no": 1,
                "product_id": "p-001",
                "sku": "GB-0001",
                "name": "Bananas",
                "barcode": "2000001000014",
                "qty": "2",
                "unit_price": "1.49",
                "line_total": total,
                "tax_class": "REDUCED",
                "tax_rate": "0.05",
                "tax": "0.14",
            }
        ],
        "subtotal": total,
        "tax_total": "0.14",
        "total": total,
        "tax_breakdown": [],
        "tenders": [{"kind": "cash", "amount": "5.00"}],
        "change": "2.02",
        "completed_at": datetime.now(UTC).isoformat(),
    }


def make_batch(
    box_id: str, tenant_id: str, branch_id: str, seqs: list[int], **overrides: Any
) -> EventBatch:
    """A batch of sale.completed events with the given seqs."""
    events = [
        {
            "event_id": str(uuid.uuid4()),
            "box_id": box_id,
            "tenant_id": tenant_id,
            "branch_id": branch_id,
            "seq": s,
            "type": "sale.completed",
            "occurred_at": datetime.now(UTC).isoformat(),
            "correlation_id": uuid.uuid4().hex,
            "payload": sale_payload(s),
        }
        for s in seqs
    ]
    data = {
        "batch_id": str(uuid.uuid4()),
        "box_id": box_id,
        "sent_at": datetime.now(UTC).isoformat(),
        "events": events,
        **overrides,
    }
    return EventBatch.model_validate(data)


def sale_event(
    box_id: str,
    seq: int,
    *,
    branch_id: str = B,
    occurred_at: datetime | None = None,
    versions: dict[str, int] | None = None,
    product_id: str = "p-001",
    cashier_id: str = "u-cashier",
    discounts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One sale.completed envelope (dict) with the given knobs."""
    payload = sale_payload(seq)
    payload["cashier_id"] = cashier_id
    payload["lines"][0]["product_id"] = product_id
    if discounts is not None:
        payload["lines"][0]["discounts"] = discounts
    when = occurred_at or datetime.now(UTC)
    payload["completed_at"] = when.isoformat()
    return {
        "event_id": str(uuid.uuid4()),
        "box_id": box_id,
        "tenant_id": T,
        "branch_id": branch_id,
        "seq": seq,
        "type": "sale.completed",
        "occurred_at": when.isoformat(),
        "correlation_id": uuid.uuid4().hex,
        "versions": versions or {},
        "payload": payload,
    }


def batch_of(
    box_id: str, events: list[dict[str, Any]], sent_at: datetime | None = None
) -> EventBatch:
    """An EventBatch around crafted events."""
    return EventBatch.model_validate(
        {
            "batch_id": str(uuid.uuid4()),
            "box_id": box_id,
            "sent_at": (sent_at or datetime.now(UTC)).isoformat(),
            "events": events,
        }
    )


class CraftedBox:
    """A second enrolled box whose batches the test publishes itself, as a box would."""

    def __init__(self, fs: FaultStack) -> None:
        self.fs = fs
        self.box_id = f"box-crafted-{uuid.uuid4().hex[:8]}"
        self.tenant, self.branch = fs.seed["tenant_id"], fs.seed["box_branch_id"]
        conn = psycopg2.connect(fs.admin_dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO boxes (box_id, tenant_id, branch_id, name, status, "
                "last_contiguous_seq, max_seq_seen, created_at) "
                "VALUES (%s, %s, %s, %s, 'active', 0, 0, now())",
                (self.box_id, self.tenant, self.branch, self.box_id),
            )
        conn.close()
        self.acks: queue.Queue[BatchAck] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"cfpos-box-{self.box_id}")
        self.client.on_message = lambda _c, _u, m: self.acks.put(
            BatchAck.model_validate_json(m.payload)
        )
        self.client.connect("127.0.0.1", fs.broker.port)
        self.client.loop_start()
        self.client.subscribe(topics.box_ack(self.box_id), qos=1)

    def event(self, seq: int, **kw: Any) -> dict[str, Any]:
        """A sale event of this box."""
        ev = sale_event(self.box_id, seq, branch_id=self.branch, **kw)
        ev["tenant_id"] = self.tenant
        return ev

    def send(self, events: list[dict[str, Any]], sent_at: datetime | None = None) -> BatchAck:
        """Publish one batch (QoS 1) and wait for the hub's ack of it."""
        batch = batch_of(self.box_id, events, sent_at=sent_at)
        self.client.publish(topics.box_events(self.box_id), encode(batch), qos=1)
        while True:
            ack = self.acks.get(timeout=30)
            if ack.batch_id == batch.batch_id:
                return ack

    def heartbeat(self, box_ts: datetime) -> None:
        """Publish a live retained heartbeat stamped with the box's clock."""
        body = {"v": 1, "box_id": self.box_id, "online": True, "queued": 0}
        body["ts"] = box_ts.isoformat()
        self.client.publish(
            topics.box_status(self.box_id), json.dumps(body).encode(), qos=1, retain=True
        ).wait_for_publish(5)

    def expected(self, events: list[dict[str, Any]]) -> dict[str, int]:
        """{sale_id: total_minor} of crafted events (all totals are 2.98)."""
        return {e["payload"]["sale_id"]: 298 for e in events}

    def close(self) -> None:
        """Disconnect."""
        self.client.loop_stop()
        self.client.disconnect()
