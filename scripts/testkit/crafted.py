"""Crafted box traffic for tests, benchmarks and chaos runs: sale payloads and envelopes as a
box would send them (docs/CONTRACT.md), batches around them, and `CraftedBox`, an enrolled box
whose batches a test publishes itself over the real broker and whose acks it reads."""

from __future__ import annotations

import json
import queue
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
import psycopg2
from paho.mqtt.enums import CallbackAPIVersion

from posdomain import topics
from posdomain.envelope import BatchAck, EventBatch, encode
from posdomain.money import round_money
from posdomain.tax import TaxClass, TaxConfig, TaxLine, TaxResult, compute_tax

if TYPE_CHECKING:
    from scripts.sync_harness import FaultStack

T, B, B2 = "t-greenbasket", "b-downtown", "b-riverside"


@dataclass(frozen=True)
class Item:
    """One crafted sale line: what was sold, how much, at which list price, and its tax."""

    product_id: str = "p-001"
    sku: str = "GB-0001"
    name: str = "Bananas"
    qty: str = "2"
    unit: str = "weight"
    unit_price: str = "1.49"
    tax_class: str = "REDUCED"
    rate: str = "0.05"
    inclusive: bool = True
    discount: str = "0.00"  # one promotion's amount on the line (0 = none)


BANANAS = Item()


def _priced(items: list[Item]) -> tuple[list[dict[str, Any]], TaxResult]:
    """Wire lines and the tax result, computed by the same engines the box uses."""
    classes = {i.tax_class: TaxClass(i.tax_class, Decimal(i.rate), i.inclusive) for i in items}
    amounts = []
    for item in items:
        extended = round_money(Decimal(item.qty) * Decimal(item.unit_price))
        amounts.append((extended, extended - Decimal(item.discount)))
    taxed = compute_tax(
        [
            TaxLine(str(n), i.tax_class, amount, Decimal(i.qty))
            for n, (i, (_e, amount)) in enumerate(zip(items, amounts, strict=True), start=1)
        ],
        TaxConfig(classes, level="line"),
    )
    lines = []
    for n, (item, (extended, _a), tax) in enumerate(
        zip(items, amounts, taxed.lines, strict=True), start=1
    ):
        discounts = []
        if Decimal(item.discount):
            discounts = [
                {
                    "policy_id": "promo-crafted",
                    "policy_version": 1,
                    "kind": "amount",
                    "amount": item.discount,
                }
            ]
        lines.append(
            {
                "line_no": n,
                "product_id": item.product_id,
                "sku": item.sku,
                "name": item.name,
                "barcode": "2000001000014",
                "qty": item.qty,
                "unit": item.unit,
                "weight": item.qty if item.unit == "weight" else None,
                "unit_price": item.unit_price,
                "extended": str(extended),
                "discounts": discounts,
                "line_total": str(tax.gross),
                "tax_class": tax.tax_class,
                "tax_rate": str(tax.rate),
                "tax": str(tax.tax),
                "deposit_for_line": None,
                "price_override": None,
            }
        )
    return lines, taxed


def sale_payload(
    receipt_no: int,
    total: str = "2.98",
    *,
    items: list[Item] | None = None,
    tendered: str | None = None,
    card: bool = False,
) -> dict[str, Any]:
    """A sale.completed payload per CONTRACT.md that adds up like a real box's: lines x
    prices - discounts, tax per class, total, tenders - change = payable. `total` other than
    the default sells one unit at that price."""
    if items is None:
        items = [BANANAS] if total == "2.98" else [Item(qty="1", unit="each", unit_price=total)]
    lines, taxed = _priced(items)
    payable = taxed.total
    if card:
        tenders = [{"kind": "card", "amount": str(payable), "reference": "AUTH-123456"}]
        change = Decimal("0.00")
    else:
        cash = Decimal(tendered) if tendered is not None else max(Decimal("5.00"), payable)
        tenders = [{"kind": "cash", "amount": str(cash)}]
        change = cash - payable
    return {
        "sale_id": str(uuid.uuid4()),
        "receipt_no": receipt_no,
        "idempotency_key": uuid.uuid4().hex,
        "cashier_id": "u-cashier",
        "cashier_name": "Carl Cashier",
        "currency": "EUR",
        "exponent": 2,
        "price_list": "retail",
        "lines": lines,
        "subtotal": str(sum((Decimal(ln["extended"]) for ln in lines), Decimal("0.00"))),
        "discount_total": str(sum((Decimal(i.discount) for i in items), Decimal("0.00"))),
        "tax_total": str(taxed.tax_total),
        "total": str(taxed.total),
        "cash_rounding": "0.00",
        "payable": str(payable),
        "tax_breakdown": [
            {
                "tax_class": r.tax_class,
                "rate": str(r.rate),
                "inclusive": r.inclusive,
                "net": str(r.net),
                "tax": str(r.tax),
                "gross": str(r.gross),
            }
            for r in taxed.breakdown
        ],
        "tenders": tenders,
        "change": str(change),
        "versions": {"catalog": 0, "tax": 0, "policy": 0},
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


def enrol_box_row(admin_dsn: str, tenant_id: str, branch_id: str) -> str:
    """Enrol a new active box straight in the hub database (as its owner); return its id."""
    box_id = f"box-crafted-{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO boxes (box_id, tenant_id, branch_id, name, status, "
            "last_contiguous_seq, max_seq_seen, created_at) "
            "VALUES (%s, %s, %s, %s, 'active', 0, 0, now())",
            (box_id, tenant_id, branch_id, box_id),
        )
    conn.close()
    return box_id


class CraftedBox:
    """A second enrolled box whose batches the test publishes itself, as a box would."""

    def __init__(self, fs: FaultStack) -> None:
        self.fs = fs
        self.tenant, self.branch = fs.seed["tenant_id"], fs.seed["box_branch_id"]
        self.box_id = enrol_box_row(fs.admin_dsn, self.tenant, self.branch)
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

    def encoded(self, events: list[dict[str, Any]]) -> tuple[uuid.UUID, bytes]:
        """(batch id, message) of one batch of this box around `events`."""
        batch = batch_of(self.box_id, events)
        return batch.batch_id, encode(batch)

    def send_windowed(self, batches: list[tuple[uuid.UUID, bytes]], window: int) -> list[BatchAck]:
        """Publish encoded batches (`encoded`) in order with up to `window` unacked at once
        (as a box's window does: batch N+1 goes out before N's ack); the acks in batch order.
        Encoded beforehand, as a box's are on its own machine: here the box shares the hub's
        two cores, and its encoding would be timed as the hub's ingest."""
        acks: list[BatchAck | None] = [None] * len(batches)
        pending: dict[Any, int] = {}
        sent = 0
        while sent < len(batches) or pending:
            while sent < len(batches) and len(pending) < window:
                batch_id, raw = batches[sent]
                pending[batch_id] = sent
                self.client.publish(topics.box_events(self.box_id), raw, qos=1)
                sent += 1
            ack = self.acks.get(timeout=60)
            if ack.batch_id in pending:
                acks[pending.pop(ack.batch_id)] = ack
        return [a for a in acks if a is not None]

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


# (product id, sku, name, unit, list price, tax class, rate) of demo catalog products
# (hub/demo/catalog_seed.py); SNACKS lines get the seeded 10 % promotion
_REALISTIC = [
    ("p-001", "GB-0001", "Bananas", "weight", "1.49", "REDUCED", "0.05"),
    ("p-003", "GB-0003", "Whole Milk 1L", "each", "1.19", "REDUCED", "0.05"),
    ("p-005", "GB-0005", "Sourdough Loaf", "each", "2.79", "REDUCED", "0.05"),
    ("p-010", "GB-0010", "Spaghetti 500g", "each", "1.09", "REDUCED", "0.05"),
    ("p-016", "GB-0016", "Sparkling Water 1.5L", "each", "0.69", "STD", "0.20"),
    ("p-018", "GB-0018", "Dark Chocolate 100g", "each", "1.99", "STD", "0.20"),
    ("p-019", "GB-0019", "Salted Crisps 150g", "each", "1.59", "STD", "0.20"),
]
_PROMOTED = {"p-018", "p-019"}


def realistic_sale(receipt_no: int, lines: int) -> dict[str, Any]:
    """A sale of `lines` lines over several products and both tax classes (a weighed line,
    promoted lines with a 10 % discount, each a stock movement on the hub), paid by card
    for about half and cash for the rest (with change): a sale as a busy till rings it."""
    items = []
    for n in range(lines):
        pid, sku, name, unit, price, tax_class, rate = _REALISTIC[n % len(_REALISTIC)]
        qty = "0.734" if unit == "weight" else str(1 + n % 3)
        extended = round_money(Decimal(qty) * Decimal(price))
        discount = round_money(extended / 10) if pid in _PROMOTED else Decimal("0.00")
        items.append(Item(pid, sku, name, qty, unit, price, tax_class, rate, True, str(discount)))
    payload = sale_payload(receipt_no, items=items)
    for line in payload["lines"]:
        for d in line["discounts"]:
            d["policy_id"], d["kind"] = "demo-snacks-10pct", "percent"
    payable = Decimal(payload["payable"])
    card = (payable / 2).quantize(Decimal("0.01"))
    cash = (payable - card + Decimal("5.00")).quantize(Decimal("1"))
    payload["tenders"] = [
        {"kind": "card", "amount": str(card), "reference": "AUTH-123456"},
        {"kind": "cash", "amount": f"{cash}.00"},
    ]
    payload["change"] = str(card + cash - payable)
    return payload
