"""Events the hub refuses at ingest: quarantined one by one, raised for reconciliation.

A refusal is written in the batch's transaction, set-based: one `quarantine` row per event
(the event's own bytes, reason, box, seq, event id; once per (box, digest), so a resend
never doubles it), one `reconciliation_items` row (unique per event and kind), and, when the
refused event held a fresh seq of its box, its `ingested_events` row marked `quarantined`
with the reason so a redelivery is answered `rejected` again (docs/sync-protocol.md).

Severity: a (box, seq) or event-id conflict and a seq far beyond the high-water mark are
CRITICAL (a sale may be at stake or forged); so is every refused money or audit document;
anything else (a stock movement, an unknown type) is WARN.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from hub.core.bulk import insert_rows
from hub.identity.models import Box
from hub.sync.models import IngestedEvent, Quarantine, ReconciliationItem
from posdomain import topics
from posdomain.canonical import canonical_json
from posdomain.contract import (
    MAX_RESOLUTION_NOTE,
    MAX_RESOLUTIONS,
    EventType,
    RefusalResolution,
    RefusalResolutions,
)
from posdomain.envelope import IncomingEvent
from posdomain.errors import HubReason, Reason
from posdomain.obs import log_event
from posdomain.text import printable

log = logging.getLogger(__name__)
CONFLICTS = frozenset({Reason.SEQ_CONFLICT, Reason.EVENT_ID_CONFLICT, Reason.SEQ_OUT_OF_RANGE})
CRITICAL_TYPES = frozenset(
    {
        EventType.SALE_COMPLETED,
        EventType.REFUND_COMPLETED,
        EventType.SALE_VOIDED,
        EventType.SHIFT_CLOSED,
        EventType.AUDIT_ENTRY,
    }
)
QUARANTINED_KIND = "EVENT_QUARANTINED"
# reconciliation kinds of an event the hub refused (listed under the box's BatchAck
# `rejected`): resolving one tells the box (the `refusals` down message)
REFUSAL_KINDS = frozenset({*(str(c) for c in CONFLICTS), QUARANTINED_KIND})
GENERIC: dict[Reason | HubReason, str] = {
    Reason.INGEST_FAILED: "the hub could not apply this event; it is quarantined"
}


@dataclass(frozen=True)
class Refusal:
    """One refused event: why, whether it holds its seq, and what the rules found."""

    ev: IncomingEvent
    reason: Reason | HubReason
    message: str
    consumed: bool
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def event_type(self) -> str:
        """The event's type as sent (bounded), '' if it had none."""
        raw = self.ev.raw.get("type") if isinstance(self.ev.raw, dict) else None
        return raw[:64] if isinstance(raw, str) else ""

    @property
    def severity(self) -> str:
        """CRITICAL for conflicts and refused money/audit documents, else WARN."""
        if self.reason in CONFLICTS or self.event_type in CRITICAL_TYPES:
            return "CRITICAL"
        return "WARN"

    @property
    def key(self) -> str:
        """The reconciliation key, one item per refused event: the event id of one that
        holds its seq; id and digest of a conflict (several events may claim one id)."""
        if self.ev.event_id is None:
            return f"digest:{self.ev.digest}"
        return self.ev.event_id if self.consumed else f"{self.ev.event_id}~{self.ev.digest[:16]}"

    def ack_entry(self) -> dict[str, Any]:
        """The BatchAck `rejected` entry (the box never counts it as delivered)."""
        message = GENERIC.get(self.reason, self.message)
        return {
            "event_id": self.ev.event_id,
            "seq": self.ev.seq,
            "reason": str(self.reason),
            "message": message[:300],
        }


def _event_bytes(raw: Any) -> bytes:
    try:
        return canonical_json(raw)
    except (TypeError, ValueError):  # an Unparsable number: keep a faithful repr
        return repr(raw).encode("utf-8", "replace")


def _quarantine_row(box: Box, r: Refusal, now: datetime) -> dict[str, Any]:
    return {
        "topic": topics.box_events(box.box_id),
        "box_id": box.box_id,
        "payload": _event_bytes(r.ev.raw),
        "reason": str(r.reason),
        "error": r.message[:2000],
        "received_at": now,
        "event_id": r.ev.event_id,
        "seq": r.ev.seq,
        "event_type": r.event_type,
        "digest": r.ev.digest,
    }


def _sale_id(raw: Any) -> str | None:
    """The sale id a refused event names, if it names a plausible one (for the manager)."""
    payload = raw.get("payload") if isinstance(raw, dict) else None
    value = payload.get("sale_id") if isinstance(payload, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def _item_row(box: Box, r: Refusal, now: datetime) -> dict[str, Any]:
    kind = str(r.reason) if r.reason in CONFLICTS else QUARANTINED_KIND
    details = {
        "reason": str(r.reason),
        "message": r.message[:500],
        "seq": r.ev.seq,
        "event_id": r.ev.event_id,
        "event_type": r.event_type,
        "seq_consumed": r.consumed,
        "digest": r.ev.digest,
        **r.details,
    }
    sale_id = r.details.get("sale_id") or _sale_id(r.ev.raw)
    return {
        "id": str(uuid.uuid4()),
        "tenant_id": box.tenant_id,
        "branch_id": box.branch_id,
        "box_id": box.box_id,
        "event_id": r.key,
        "sale_id": sale_id,
        "kind": kind,
        "severity": r.severity,
        "details": details,
        "state": "open",
        "created_at": now,
    }


def consumed_row(box: Box, r: Refusal, received_at: datetime) -> dict[str, Any]:
    """The ingested_events row of a refused event that holds its fresh seq (payload kept in
    quarantine only: what the hub refused never sits beside what it applied)."""
    env = r.ev.envelope
    return {
        "event_id": r.ev.event_id,
        "tenant_id": box.tenant_id,
        "branch_id": box.branch_id,
        "box_id": box.box_id,
        "seq": r.ev.seq,
        "type": r.event_type or "unknown",
        "occurred_at": env.occurred_at if env is not None else received_at,
        "received_at": received_at,
        "correlation_id": env.correlation_id if env else "",
        "payload": {},
        "outcome": "quarantined",
        "reason": str(r.reason),
        "digest": r.ev.digest,
    }


def record(box: Box, refusals: list[Refusal], now: datetime) -> None:
    """Quarantine and raise every refusal (caller's transaction), once per event."""
    if not refusals:
        return
    insert_rows(
        Quarantine,
        [_quarantine_row(box, r, now) for r in refusals],
        suffix="ON CONFLICT (box_id, digest) WHERE digest IS NOT NULL DO NOTHING",
    )
    insert_rows(
        ReconciliationItem,
        [_item_row(box, r, now) for r in refusals],
        suffix="ON CONFLICT (event_id, kind) DO NOTHING",
    )
    for r in refusals:
        level = logging.ERROR if r.severity == "CRITICAL" else logging.WARNING
        log_event(
            log,
            "event quarantined",
            level,
            box_id=box.box_id,
            seq=r.ev.seq,
            event_id=r.ev.event_id,
            reason=str(r.reason),
            severity=r.severity,
            error=r.message[:300],
        )


def mark_quarantined(refusals: list[Refusal]) -> None:
    """Turn the applied-looking ingested rows of events refused while applying into
    quarantined ones (their seq stays consumed, their payload is dropped)."""
    for r in refusals:
        IngestedEvent.update(outcome="quarantined", reason=str(r.reason), payload={}).where(
            IngestedEvent.event_id == r.ev.event_id
        ).execute()


def reaches_box(kind: str) -> bool:
    """True if resolving an item of this kind settles a refused event on its box."""
    return kind in REFUSAL_KINDS


def _resolution(item: ReconciliationItem) -> RefusalResolution | None:
    details = item.details if isinstance(item.details, dict) else {}
    event_id, seq = details.get("event_id"), details.get("seq")
    if not isinstance(event_id, str) or not isinstance(seq, int) or item.resolved_at is None:
        return None  # a refusal of something that never had a usable id/seq: nothing to name
    try:
        return RefusalResolution(
            event_id=event_id,
            seq=seq,
            resolved_at=item.resolved_at,
            resolved_by=printable(item.resolved_by or "")[:64],
            note=printable(item.resolution_note or "")[:MAX_RESOLUTION_NOTE],
        )
    except PydanticValidationError:  # a crafted event's id or seq beyond the contract
        return None


def resolutions_body(box: Box) -> dict[str, Any]:
    """The `refusals` body for a box: its newest resolved refusals (caller's tenant tx).

    Every resolved item of a refused event of this box is named by the event id and seq its
    `rejected` entry carried; the box marks what it holds as refused and ignores the rest
    (a crafted event's item names an event the box never had)."""
    rows = (
        ReconciliationItem.select()
        .where(
            ReconciliationItem.box_id == box.box_id,
            ReconciliationItem.state == "resolved",
            ReconciliationItem.kind.in_(sorted(REFUSAL_KINDS)),
        )
        .order_by(ReconciliationItem.resolved_at.desc(), ReconciliationItem.id)
        .limit(MAX_RESOLUTIONS)
    )
    found = [r for r in (_resolution(item) for item in rows) if r is not None]
    return RefusalResolutions(resolved=found).model_dump(mode="json")
