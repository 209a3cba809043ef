"""Apply a box's EventBatch in one transaction and build the BatchAck (FR-303, FR-100).

Tenant, branch and box always come from the enrolled box row, never the payload.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from hub.db import db, platform_tx, tenant_tx
from hub.models import Box, BoxAudit, IngestedEvent, Quarantine, Sale, SaleLine, utcnow
from hub.services import alerts, enrolment, stock_events
from posdomain.envelope import BatchAck, EventBatch, EventEnvelope, pydantic_errors
from posdomain.errors import PosError, Reason, ValidationError
from posdomain.money import parse_money, to_minor
from posdomain.obs import correlation, log_event

log = logging.getLogger(__name__)
MAX_MISSING_REPORTED = 500


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SaleLineIn(_Wire):
    """A sale.completed line as sent by a box."""

    line_no: int = Field(ge=1)
    product_id: str
    sku: str
    name: str
    barcode: str = ""
    qty: str
    unit_price: str
    line_total: str
    tax_class: str
    tax_rate: str
    tax: str


class SaleIn(_Wire):
    """A sale.completed payload (CONTRACT.md)."""

    sale_id: str = Field(min_length=1, max_length=64)
    receipt_no: int
    cashier_id: str
    cashier_name: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    exponent: int = Field(ge=0, le=3)
    lines: list[SaleLineIn] = Field(min_length=1)
    subtotal: str
    tax_total: str
    total: str
    tenders: list[dict[str, Any]]
    change: str = "0"
    completed_at: datetime


class AuditIn(_Wire):
    """An audit.entry payload: one box audit record."""

    chain: str
    seq: int = Field(ge=1)
    ts: str
    actor: str
    action: str
    target: str
    severity: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


def quarantine(topic: str, raw: bytes, err: PosError, box_id: str | None) -> None:
    """Store an unusable message with its reason code (not tenant-scoped) and log it."""
    with db.atomic():
        Quarantine.create(
            topic=topic, box_id=box_id, payload=raw, reason=str(err.reason), error=err.message
        )
    log_event(
        log,
        "message quarantined",
        logging.WARNING,
        topic=topic,
        reason=str(err.reason),
        error=err.message,
        box_id=box_id,
    )


def enrolled_box(batch: EventBatch, topic_box_id: str) -> Box:
    """The enrolled box the batch came from, after every identity check (else ValidationError)."""
    if batch.box_id != topic_box_id:
        raise ValidationError("batch box_id does not match the topic", Reason.BOX_MISMATCH)
    with platform_tx():
        box = Box.get_or_none(Box.box_id == topic_box_id)
    if box is None:
        raise ValidationError(f"unknown box {topic_box_id}", Reason.UNKNOWN_BOX)
    # a replaced box's late events are still accepted during its grace window (no lost sale)
    if box.status != "active" and not enrolment.accepts_late_events(box.box_id):
        raise ValidationError(f"box {topic_box_id} is not enrolled", Reason.BOX_NOT_ENROLLED)
    for ev in batch.events:
        if ev.box_id != box.box_id:
            raise ValidationError("event box_id mismatch", Reason.BOX_MISMATCH, {"seq": ev.seq})
        if ev.tenant_id != box.tenant_id:
            raise ValidationError("event tenant mismatch", Reason.TENANT_MISMATCH, {"seq": ev.seq})
        if ev.branch_id != box.branch_id:
            raise ValidationError("event branch mismatch", Reason.BRANCH_MISMATCH, {"seq": ev.seq})
    return box


def _minor(value: str, exponent: int, name: str) -> int:
    return to_minor(parse_money(value, exponent, name), exponent)


def _apply_sale(box: Box, ev: EventEnvelope, sale: SaleIn) -> None:
    exp = sale.exponent
    Sale.create(
        id=sale.sale_id,
        tenant_id=box.tenant_id,
        branch_id=box.branch_id,
        box_id=box.box_id,
        event_id=str(ev.event_id),
        receipt_no=sale.receipt_no,
        cashier_id=sale.cashier_id,
        cashier_name=sale.cashier_name,
        currency=sale.currency,
        exponent=exp,
        subtotal_minor=_minor(sale.subtotal, exp, "subtotal"),
        tax_minor=_minor(sale.tax_total, exp, "tax_total"),
        total_minor=_minor(sale.total, exp, "total"),
        change_minor=_minor(sale.change, exp, "change"),
        tenders=sale.tenders,
        completed_at=sale.completed_at,
        correlation_id=ev.correlation_id,
    )
    for ln in sale.lines:
        SaleLine.create(
            sale_id=sale.sale_id,
            tenant_id=box.tenant_id,
            branch_id=box.branch_id,
            line_no=ln.line_no,
            product_id=ln.product_id,
            sku=ln.sku,
            name=ln.name,
            barcode=ln.barcode,
            qty=ln.qty,
            tax_class=ln.tax_class,
            tax_rate=ln.tax_rate,
            unit_price_minor=_minor(ln.unit_price, exp, "unit_price"),
            line_total_minor=_minor(ln.line_total, exp, "line_total"),
            tax_minor=_minor(ln.tax, exp, "tax"),
        )
    lines = [(ln.product_id, ln.qty) for ln in sale.lines]
    stock_events.record_sale(
        box.tenant_id, box.branch_id, str(ev.event_id), sale.sale_id, lines, sale.completed_at
    )


def _apply_event(box: Box, ev: EventEnvelope) -> None:
    """Apply one new event's business effect (raises ValidationError on a bad payload)."""
    try:
        if ev.type == "sale.completed":
            _apply_sale(box, ev, SaleIn.model_validate(ev.payload))
        elif ev.type == "audit.entry":
            entry = AuditIn.model_validate(ev.payload)
            BoxAudit.create(
                tenant_id=box.tenant_id,
                branch_id=box.branch_id,
                box_id=box.box_id,
                event_id=str(ev.event_id),
                **entry.model_dump(),
            )
        elif ev.type == "stock.movement":
            body = stock_events.BoxMovementIn.model_validate(ev.payload)
            stock_events.record_box_movement(
                box.tenant_id, box.branch_id, box.box_id, str(ev.event_id), body
            )
    except PydanticValidationError as err:
        raise ValidationError(
            f"bad {ev.type} payload", Reason.MALFORMED_MESSAGE, {"errors": pydantic_errors(err)}
        ) from err


def _insert_event(box: Box, ev: EventEnvelope) -> bool:
    """Record the event id/seq; False if the hub already has it (idempotent)."""
    cur = db.execute_sql(
        "INSERT INTO ingested_events (event_id, tenant_id, branch_id, box_id, seq, type, "
        "occurred_at, received_at, correlation_id, payload) VALUES "
        + ("(" + ", ".join([db.param] * 10) + ")")
        + " ON CONFLICT DO NOTHING",
        _event_values(box, ev),
    )
    return bool(cur.rowcount == 1)


def _event_values(box: Box, ev: EventEnvelope) -> tuple[Any, ...]:
    fields = IngestedEvent._meta.fields
    return (
        str(ev.event_id),
        box.tenant_id,
        box.branch_id,
        box.box_id,
        ev.seq,
        ev.type,
        fields["occurred_at"].db_value(ev.occurred_at),
        fields["received_at"].db_value(utcnow()),
        ev.correlation_id,
        fields["payload"].db_value(ev.payload),
    )


def _advance(box: Box) -> list[int]:
    """Move last_contiguous_seq forward over received seqs; return the missing seqs below max."""
    seqs = [
        r.seq
        for r in IngestedEvent.select(IngestedEvent.seq)
        .where(IngestedEvent.box_id == box.box_id, IngestedEvent.seq > box.last_contiguous_seq)
        .order_by(IngestedEvent.seq)
    ]
    contiguous = box.last_contiguous_seq
    for s in seqs:
        if s != contiguous + 1:
            break
        contiguous = s
    highest = max([box.max_seq_seen, contiguous, *seqs])
    have = set(seqs)
    missing = [s for s in range(contiguous + 1, highest) if s not in have]
    Box.update(last_contiguous_seq=contiguous, max_seq_seen=highest, last_seen_at=utcnow()).where(
        Box.box_id == box.box_id
    ).execute()
    box.last_contiguous_seq, box.max_seq_seen = contiguous, highest
    return missing[:MAX_MISSING_REPORTED]


def _apply_one(box: Box, ev: EventEnvelope, ack: dict[str, list[Any]]) -> None:
    with correlation(ev.correlation_id):
        if not _insert_event(box, ev):
            ack["duplicates"].append(ev.event_id)
            return
        try:
            with db.atomic():  # savepoint: a bad payload keeps its seq but writes nothing else
                _apply_event(box, ev)
        except ValidationError as err:
            ack["rejected"].append(
                {
                    "event_id": str(ev.event_id),
                    "seq": ev.seq,
                    "reason": str(err.reason),
                    "message": err.message,
                }
            )
            log_event(log, "event rejected", logging.WARNING, seq=ev.seq, reason=str(err.reason))
            return
        ack["accepted"].append(ev.event_id)
        log_event(log, "event applied", type=ev.type, seq=ev.seq, box_id=box.box_id)


def apply_batch(batch: EventBatch, topic_box_id: str) -> BatchAck:
    """Apply a batch in one tenant transaction; return the ack to publish after the commit."""
    box = enrolled_box(batch, topic_box_id)
    ack: dict[str, list[Any]] = {"accepted": [], "duplicates": [], "rejected": []}
    # stock alerts raised by the batch's movements go out only after the commit
    with alerts.deliver_after_commit(), tenant_tx(box.tenant_id):
        box = Box.get(Box.box_id == box.box_id)
        for ev in sorted(batch.events, key=lambda e: e.seq):
            _apply_one(box, ev, ack)
        missing = _advance(box)
    return BatchAck(
        batch_id=batch.batch_id,
        box_id=box.box_id,
        acked_through=box.last_contiguous_seq,
        missing_seqs=missing,
        accepted=ack["accepted"],
        duplicates=ack["duplicates"],
        rejected=ack["rejected"],
    )
