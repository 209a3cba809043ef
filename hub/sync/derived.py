"""What ingest derives from a batch's accepted events for the customer, loyalty,
performance and report areas — the one hook `apply_batch` calls, inside the batch
transaction, after the events themselves are written (so a refund sees its stored sale, a
sale its stored refunds).

Order, per event in seq order: the customer area first (a `customer.enrolled` creates the
customer a later sale of the same batch names; purchase-history links), then loyalty
(points). Then, over the whole batch: the report facts and rollups (hub.reports.ingest),
the outbound webhooks, and the performance counters, written at the end. These three read
and write tables of their own, so their order is free; the report facts come first
because they are the largest inserts of a batch, which then run on the writer thread
(hub/core/writer.py) while the rest is worked out. What they read that the batch does not
write (zones, products, webhook endpoints) is read by `reads` before the batch's first
insert, so no look-up of theirs waits for the batch's inserts.
A `customer.enrolled` the customer area refuses (bad payload, an id already taken) is handed
back to `apply`, which refuses it like any other event: reason in the ack's `rejected`, seq
consumed, quarantined and raised for reconciliation; nothing of it is written.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from hub.core.db import db
from hub.customers import box_events as customer_events
from hub.identity.models import Box
from hub.integrations import events as webhooks
from hub.loyalty import box_events as loyalty_events
from hub.performance import derive as performance
from hub.reports import fact_reads
from hub.reports import ingest as reports
from posdomain.contract import EventType
from posdomain.envelope import EventEnvelope
from posdomain.errors import ValidationError
from posdomain.obs import correlation, log_event

log = logging.getLogger(__name__)


CUSTOMER_DOCUMENTS = frozenset(
    {EventType.CUSTOMER_ENROLLED, EventType.REFUND_COMPLETED, EventType.SALE_VOIDED}
)


def _concerns_customers(ev: EventEnvelope) -> bool:
    """Whether the customer and loyalty areas have anything to do with the event (most sales
    have no customer: they skip the savepoints and lookups on the hot ingest path)."""
    if ev.type == EventType.SALE_COMPLETED:
        return "customer" in ev.payload or "loyalty" in ev.payload
    return ev.type in CUSTOMER_DOCUMENTS


@dataclass(frozen=True)
class Reads:
    """What the derived effects of a batch read before its first insert (`reads`); None
    where no event of the batch needs it."""

    reports: fact_reads.Reads | None
    zone: Any  # the box's business-day zone for the performance counters
    endpoints: list[Any] | None  # the tenant's subscribed webhook endpoints


def reads(box: Box, events: list[EventEnvelope]) -> Reads | None:
    """Read, for `events` (a batch's fresh events: a superset of those it will accept), what
    the derived effects need and the batch itself does not write (None: no event)."""
    if not events:
        return None
    kinds = {ev.type for ev in events}
    hooked = kinds & _WEBHOOK_TYPES.keys()
    return Reads(
        fact_reads.reads(box, events) if kinds & fact_reads.KINDS else None,
        performance.zone_of(box),
        webhooks.subscribed_endpoints(str(box.tenant_id)) if hooked else None,
    )


def apply_derived(
    box: Box,
    events: list[EventEnvelope],
    bodies: Mapping[str, BaseModel] | None = None,
    seen: Reads | None = None,
    late: set[str] | None = None,
) -> list[tuple[str, ValidationError]]:
    """Apply the customer, loyalty, report, webhook and performance effects of the batch's
    accepted events; return the (event id, error) of each event the customer area refused.
    `bodies`: the payloads ingest already checked, by event id (parsed again where missing);
    `seen`: `reads` of the batch, done before its first insert; `late`: the ids of its late
    sales (each read here when not given)."""
    refused: list[tuple[str, ValidationError]] = []
    applied = []
    for ev in sorted(events, key=lambda e: e.seq):
        if not _concerns_customers(ev):
            applied.append(ev)
            continue
        with correlation(ev.correlation_id):
            try:
                with db.atomic():  # savepoint: a refused enrolment writes nothing
                    customer_events.apply_event(box, ev)
            except ValidationError as err:
                log_event(log, "event refused", logging.WARNING, seq=ev.seq, reason=str(err.reason))
                refused.append((str(ev.event_id), err))
                continue
            loyalty_events.apply_event(box, ev)
        applied.append(ev)
    seen = seen or reads(box, applied)
    if seen is None:  # nothing applied
        return refused
    reports.apply_events(box, applied, bodies or {}, seen.reports, late)
    business = [e for e in map(_business_event, applied) if e]
    webhooks.emit_many(str(box.tenant_id), business, seen.endpoints)
    performance.apply_events(box, applied, seen.zone)
    return refused


_WEBHOOK_TYPES: dict[str, str] = {
    EventType.SALE_COMPLETED: webhooks.SALE_COMPLETED,
    EventType.REFUND_COMPLETED: webhooks.REFUND_COMPLETED,
}
_WEBHOOK_FIELDS = (
    "sale_id",
    "refund_id",
    "receipt_no",
    "currency",
    "exponent",
    "subtotal",
    "tax_total",
    "total",
    "payable",
    "cashier_id",
)


def _business_event(ev: EventEnvelope) -> webhooks.BusinessEvent | None:
    """The outbound webhook of a sale or refund (FR-P7-1010): ids and money, no customer PII."""
    kind = _WEBHOOK_TYPES.get(ev.type)
    if kind is None:
        return None
    data = {k: ev.payload[k] for k in _WEBHOOK_FIELDS if k in ev.payload}
    data.update(
        branch_id=ev.branch_id,
        box_id=ev.box_id,
        occurred_at=ev.occurred_at.isoformat(),
        lines=len(ev.payload.get("lines") or []),
    )
    return webhooks.BusinessEvent(kind, str(ev.event_id), data)
