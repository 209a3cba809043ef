"""What ingest derives from a batch's accepted events for the customer, loyalty and
performance areas — the one hook `apply_batch` calls, inside the batch transaction, after the
events themselves are written (so a refund sees its stored sale, a sale its stored refunds).

Order, per event in seq order: the customer area first (a `customer.enrolled` creates the
customer a later sale of the same batch names; purchase-history links), then loyalty
(points). Performance counters are tallied over the whole batch and written at the end.
A `customer.enrolled` the customer area refuses (bad payload, an id already taken) moves from
`accepted` to `rejected` in the ack, with its reason; its seq stays held, nothing is written.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from hub.core.db import db
from hub.customers import box_events as customer_events
from hub.identity.models import Box
from hub.loyalty import box_events as loyalty_events
from hub.performance import derive as performance
from posdomain.contract import EventType
from posdomain.envelope import EventEnvelope
from posdomain.errors import ValidationError
from posdomain.obs import correlation, log_event

log = logging.getLogger(__name__)


def _refuse(ev: EventEnvelope, err: ValidationError, ack: dict[str, list[Any]]) -> None:
    ack["accepted"] = [e for e in ack["accepted"] if e != ev.event_id]
    ack["rejected"].append(
        {
            "event_id": str(ev.event_id),
            "seq": ev.seq,
            "reason": str(err.reason),
            "message": err.message,
        }
    )
    log_event(log, "event rejected", logging.WARNING, seq=ev.seq, reason=str(err.reason))


CUSTOMER_DOCUMENTS = frozenset(
    {EventType.CUSTOMER_ENROLLED, EventType.REFUND_COMPLETED, EventType.SALE_VOIDED}
)


def _concerns_customers(ev: EventEnvelope) -> bool:
    """Whether the customer and loyalty areas have anything to do with the event (most sales
    have no customer: they skip the savepoints and lookups on the hot ingest path)."""
    if ev.type == EventType.SALE_COMPLETED:
        return "customer" in ev.payload or "loyalty" in ev.payload
    return ev.type in CUSTOMER_DOCUMENTS


def apply_derived(box: Box, events: list[EventEnvelope], ack: dict[str, list[Any]]) -> None:
    """Apply the customer, loyalty and performance effects of the batch's accepted events."""
    accepted: set[uuid.UUID] = set(ack["accepted"])
    applied = []
    for ev in sorted(events, key=lambda e: e.seq):
        if ev.event_id not in accepted:
            continue
        accepted.discard(ev.event_id)  # twice in one batch: applied once
        if not _concerns_customers(ev):
            applied.append(ev)
            continue
        with correlation(ev.correlation_id):
            try:
                with db.atomic():  # savepoint: a refused enrolment writes nothing
                    customer_events.apply_event(box, ev)
            except ValidationError as err:
                _refuse(ev, err, ack)
                continue
            loyalty_events.apply_event(box, ev)
        applied.append(ev)
    performance.apply_events(box, applied)
