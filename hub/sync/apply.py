"""Apply a box's EventBatch in one transaction and build the BatchAck (FR-303, FR-100).

Tenant, branch and box always come from the enrolled box row, never the payload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from hub.boxes import enrolment
from hub.core.bulk import insert_rows
from hub.core.db import db, platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.governance.box_chains import AuditIn
from hub.governance.models import BoxAudit
from hub.identity.models import Box
from hub.inventory import alerts, box_events, ledger
from hub.sales import till_documents
from hub.sales.models import Sale, SaleLine
from hub.sync import derived, health, reconciliation
from hub.sync.models import IngestedEvent
from posdomain.contract import EventType, field_details
from posdomain.envelope import BatchAck, EventBatch, EventEnvelope
from posdomain.errors import Reason, ValidationError
from posdomain.money import parse_minor
from posdomain.obs import correlation, log_event

log = logging.getLogger(__name__)
MAX_MISSING_REPORTED = 500
# event types applied set-based per run of consecutive events (others one by one, in seq order)
# seam: called inside the batch transaction after its writes, before the commit (fault tests
# inject a sleep here and SIGKILL the worker with the transaction open)
INSIDE_TRANSACTION_HOOKS: list[Callable[[], None]] = []
RUN_TYPES = frozenset({EventType.SALE_COMPLETED, EventType.AUDIT_ENTRY})


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
    discounts: list[dict[str, Any]] = Field(default_factory=list)


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


@dataclass(frozen=True)
class Arrival:
    """When the hub received the batch and how far the box clock is behind the hub's."""

    received_at: datetime
    skew_seconds: float


@dataclass(frozen=True)
class PreparedSale:
    """A validated sale event turned into rows, ready for the batch's multi-row inserts."""

    ev: EventEnvelope
    sale: dict[str, Any]
    lines: list[dict[str, Any]]
    stock: box_events.SaleStock
    facts: reconciliation.SaleFacts


def _prepare_sale(box: Box, ev: EventEnvelope, sale: SaleIn, arrival: Arrival) -> PreparedSale:
    """Check and convert a sale payload (ValidationError on bad money or quantities)."""
    exp = sale.exponent
    row = dict(
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
        subtotal_minor=parse_minor(sale.subtotal, exp, "subtotal"),
        tax_minor=parse_minor(sale.tax_total, exp, "tax_total"),
        total_minor=parse_minor(sale.total, exp, "total"),
        change_minor=parse_minor(sale.change, exp, "change"),
        tenders=sale.tenders,
        completed_at=sale.completed_at,
        correlation_id=ev.correlation_id,
        received_at=arrival.received_at,
        occurred_at=ev.occurred_at,
        clock_skew_seconds=arrival.skew_seconds,
        late=health.is_late(ev.occurred_at, arrival.received_at, arrival.skew_seconds),
    )
    lines = [
        dict(
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
            unit_price_minor=parse_minor(ln.unit_price, exp, "unit_price"),
            line_total_minor=parse_minor(ln.line_total, exp, "line_total"),
            tax_minor=parse_minor(ln.tax, exp, "tax"),
        )
        for ln in sale.lines
    ]
    stock = box_events.SaleStock(
        event_id=str(ev.event_id),
        sale_id=sale.sale_id,
        lines=[(ln.product_id, -ledger.parse_qty(ln.qty)) for ln in sale.lines],
        occurred_at=sale.completed_at,
    )
    facts = reconciliation.SaleFacts(
        event_id=str(ev.event_id),
        sale_id=sale.sale_id,
        cashier_id=sale.cashier_id,
        occurred_at=ev.occurred_at,
        catalog_version=ev.versions.catalog,
        policies=[
            (str(d["policy_id"]), int(d.get("policy_version") or 0))
            for ln in sale.lines
            for d in ln.discounts
            if d.get("policy_id")
        ],
    )
    return PreparedSale(ev, row, lines, stock, facts)


def _apply_sales(box: Box, sales: list[PreparedSale]) -> None:
    """Write a run of consecutive sales set-based: one insert per table, one stock booking,
    one reconciliation pass and one alert evaluation for the whole run."""
    if not sales:
        return
    insert_rows(Sale, [p.sale for p in sales])
    insert_rows(SaleLine, [ln for p in sales for ln in p.lines])
    after = box_events.record_sales(box.tenant_id, box.branch_id, [p.stock for p in sales])
    reconciliation.check_sales(box, list(zip([p.facts for p in sales], after, strict=True)))


def _bad_payload(ev: EventEnvelope, err: PydanticValidationError) -> ValidationError:
    """The error for an event whose payload does not match its type's schema."""
    return ValidationError(f"bad {ev.type} payload", Reason.MALFORMED_MESSAGE, field_details(err))


def _apply_event(box: Box, ev: EventEnvelope) -> None:
    """Apply one new event's business effect (raises ValidationError on a bad payload)."""
    # sale.completed and audit.entry never come here: apply_batch writes them in runs
    try:
        if ev.type == EventType.STOCK_MOVEMENT:
            body = box_events.BoxMovementIn.model_validate(ev.payload)
            box_events.record_box_movement(
                box.tenant_id, box.branch_id, box.box_id, str(ev.event_id), body
            )
        elif ev.type in till_documents.EVENT_TYPES:
            till_documents.apply_till_event(box, ev)
    except PydanticValidationError as err:
        raise _bad_payload(ev, err) from err


def _insert_events(box: Box, events: list[EventEnvelope], received_at: datetime) -> set[str]:
    """Record every event id/seq in one multi-row insert; return the ids that were new.

    `ON CONFLICT DO NOTHING` on the event id makes a redelivered event a no-op (idempotent).
    """
    if not events:
        return set()
    row = "(" + ", ".join([db.param] * 10) + ")"
    params: list[Any] = []
    for ev in events:
        params.extend(_event_values(box, ev, received_at))
    cur = db.execute_sql(
        "INSERT INTO ingested_events (event_id, tenant_id, branch_id, box_id, seq, type, "
        "occurred_at, received_at, correlation_id, payload) VALUES "
        + ", ".join([row] * len(events))
        + " ON CONFLICT DO NOTHING RETURNING event_id",
        params,
    )
    return {str(r[0]) for r in cur.fetchall()}


def _event_values(box: Box, ev: EventEnvelope, received_at: datetime) -> tuple[Any, ...]:
    fields = IngestedEvent._meta.fields
    return (
        str(ev.event_id),
        box.tenant_id,
        box.branch_id,
        box.box_id,
        ev.seq,
        ev.type,
        fields["occurred_at"].db_value(ev.occurred_at),
        fields["received_at"].db_value(received_at),
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
    now = utcnow()
    changes: dict[str, Any] = {"max_seq_seen": highest, "last_seen_at": now}
    if contiguous > box.last_contiguous_seq:
        changes.update(last_contiguous_seq=contiguous, last_acked_at=now)
    Box.update(**changes).where(Box.box_id == box.box_id).execute()
    box.last_contiguous_seq, box.max_seq_seen = contiguous, highest
    return missing[:MAX_MISSING_REPORTED]


def _reject(ev: EventEnvelope, err: ValidationError, ack: dict[str, list[Any]]) -> None:
    ack["rejected"].append(
        {
            "event_id": str(ev.event_id),
            "seq": ev.seq,
            "reason": str(err.reason),
            "message": err.message,
        }
    )
    log_event(log, "event rejected", logging.WARNING, seq=ev.seq, reason=str(err.reason))


def _accept(box: Box, ev: EventEnvelope, ack: dict[str, list[Any]]) -> None:
    ack["accepted"].append(ev.event_id)
    log_event(log, "event applied", type=ev.type, seq=ev.seq, box_id=box.box_id)


def _apply_one(box: Box, ev: EventEnvelope, arrival: Arrival, ack: dict[str, list[Any]]) -> None:
    with correlation(ev.correlation_id):
        try:
            with db.atomic():  # savepoint: a bad payload keeps its seq but writes nothing else
                _apply_event(box, ev)
        except ValidationError as err:
            _reject(ev, err, ack)
            return
        _accept(box, ev, ack)


@dataclass
class Run:
    """Consecutive events written together: sales and box audit entries (seq order)."""

    sales: list[PreparedSale] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    events: list[EventEnvelope] = field(default_factory=list)


def _prepare_one(box: Box, ev: EventEnvelope, arrival: Arrival, run: Run) -> ValidationError | None:
    """Add a sale or audit event to the run; return the error of a bad payload instead."""
    try:
        if ev.type == EventType.SALE_COMPLETED:
            run.sales.append(_prepare_sale(box, ev, SaleIn.model_validate(ev.payload), arrival))
        else:
            entry = AuditIn.model_validate(ev.payload)
            run.audits.append(
                dict(
                    tenant_id=box.tenant_id,
                    branch_id=box.branch_id,
                    box_id=box.box_id,
                    event_id=str(ev.event_id),
                    **entry.model_dump(),
                )
            )
    except PydanticValidationError as err:
        return _bad_payload(ev, err)
    except ValidationError as err:
        return err
    run.events.append(ev)
    return None


def _flush(box: Box, run: Run, ack: dict[str, list[Any]]) -> None:
    """Write the pending run set-based, then ack each of its events (in seq order)."""
    if not run.events:
        return
    _apply_sales(box, run.sales)
    insert_rows(BoxAudit, run.audits)
    for ev in run.events:
        with correlation(ev.correlation_id):
            _accept(box, ev, ack)
    run.sales, run.audits, run.events = [], [], []


def apply_batch(batch: EventBatch, topic_box_id: str) -> BatchAck:
    """Apply a batch in one tenant transaction; return the ack to publish after the commit."""
    box = enrolled_box(batch, topic_box_id)
    ack: dict[str, list[Any]] = {"accepted": [], "duplicates": [], "rejected": []}
    received_at = utcnow()
    events = sorted(batch.events, key=lambda e: e.seq)
    # stock alerts raised by the batch's movements go out only after the commit
    with alerts.deliver_after_commit(), tenant_tx(box.tenant_id):
        box = Box.get(Box.box_id == box.box_id)
        arrival = Arrival(received_at, health.clock_skew(box.box_id, batch.sent_at, received_at))
        fresh = _insert_events(box, events, received_at)
        run = Run()  # consecutive sales and audit entries, written together
        for ev in events:
            if str(ev.event_id) not in fresh:  # held already, or twice in this batch
                ack["duplicates"].append(ev.event_id)
                continue
            fresh.discard(str(ev.event_id))
            if ev.type in RUN_TYPES:
                error = _prepare_one(box, ev, arrival, run)
                if error is not None:  # its seq is held, nothing else is written
                    with correlation(ev.correlation_id):
                        _reject(ev, error, ack)
                continue
            _flush(box, run, ack)  # a later event (stock, a refund, a void) sees the run's effects
            _apply_one(box, ev, arrival, ack)
        _flush(box, run, ack)
        # customers, loyalty points, cashier performance: hub/sync/derived.py (one hook)
        derived.apply_derived(box, events, ack)
        for hook in INSIDE_TRANSACTION_HOOKS:
            hook()
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
