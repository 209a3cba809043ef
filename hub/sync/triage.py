"""Sort a batch's events against what the hub already holds for the box (FR-303).

Only a repeated event — the same event id, box, seq and content digest — is a duplicate.
Everything else that touches a held id or seq is a conflict and never acked as held:

* `EVENT_ID_CONFLICT`: a known event id with another box, seq or content;
* `SEQ_CONFLICT`: a different event on an already used (box, seq) (or twice in one batch);
* `SEQ_OUT_OF_RANGE`: a seq more than `ingest_max_seq_ahead` above the high-water mark.

A conflict does not consume a seq: the seq is held by the event that came first. A new
event on a fresh seq of an authenticated box is that box's own event, so when it is
malformed, claims another tenant/branch/box, has an unknown type or an impossible time it is
refused *and* its seq is consumed (the box's queue drains; docs/sync-protocol.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.core.db import db
from hub.identity.models import Box
from hub.settings import settings
from hub.sync.refusals import Refusal
from posdomain.contract import EventType
from posdomain.envelope import IncomingEvent
from posdomain.errors import Reason

EVENT_TYPES = frozenset(t.value for t in EventType)


@dataclass(frozen=True)
class Held:
    """An ingested_events row the batch touches."""

    event_id: str
    box_id: str
    seq: int
    digest: str | None
    outcome: str
    reason: str | None


@dataclass
class Triage:
    """A batch sorted: new events to apply, duplicates, refusals, and refused-again ones."""

    fresh: list[IncomingEvent] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)  # to quarantine now
    again: list[Refusal] = field(default_factory=list)  # refused before: only re-answered
    twins: list[IncomingEvent] = field(default_factory=list)  # a second copy: answered once


def window() -> tuple[datetime, datetime]:
    """[earliest, latest] a business timestamp may have (hub clock now + tolerance)."""
    cfg = settings()
    earliest = cfg.ingest_earliest_event
    if earliest.tzinfo is None:  # a configured date without a zone means UTC
        earliest = earliest.replace(tzinfo=UTC)
    return earliest, datetime.now(UTC) + timedelta(seconds=cfg.ingest_max_future_seconds)


def _held(box: Box, events: list[IncomingEvent]) -> tuple[dict[str, Held], dict[int, Held]]:
    """Held rows by event id (any box of the tenant) and by seq (this box), one query."""
    ids = sorted({e.event_id for e in events if e.event_id})
    seqs = sorted({e.seq for e in events if e.seq is not None})
    if not ids and not seqs:
        return {}, {}
    p = db.param
    sql = (
        "SELECT event_id, box_id, seq, digest, outcome, reason FROM ingested_events WHERE "
        f"event_id IN ({', '.join([p] * len(ids)) or 'NULL'}) OR (box_id = {p} AND seq IN "
        f"({', '.join([p] * len(seqs)) or 'NULL'}))"
    )
    rows = [Held(*r) for r in db.execute_sql(sql, [*ids, box.box_id, *seqs]).fetchall()]
    return {r.event_id: r for r in rows}, {r.seq: r for r in rows if r.box_id == box.box_id}


def _same(held: Held, ev: IncomingEvent, box: Box) -> bool:
    # rows from before digests existed match on (box, seq) alone
    return (held.box_id, held.seq) == (box.box_id, ev.seq) and held.digest in (None, ev.digest)


def _identity(ev: IncomingEvent, box: Box, earliest: datetime, latest: datetime) -> Refusal | None:
    """Why a new event on a fresh seq is refused (its seq consumed), or None."""
    env = ev.envelope
    if env is None:
        assert ev.error is not None
        return Refusal(ev, ev.error.reason, ev.error.message, True, _fields(ev.error.details))
    for got, want, reason in (
        (env.box_id, box.box_id, Reason.BOX_MISMATCH),
        (env.tenant_id, box.tenant_id, Reason.TENANT_MISMATCH),
        (env.branch_id, box.branch_id, Reason.BRANCH_MISMATCH),
    ):
        if got != want:
            return Refusal(ev, reason, f"event says {got}, the enrolled box {want}", True)
    if env.type not in EVENT_TYPES:
        return Refusal(ev, Reason.UNKNOWN_EVENT_TYPE, f"unknown event type {env.type}", True)
    if not earliest <= env.occurred_at <= latest:
        return Refusal(ev, Reason.TIMESTAMP_OUT_OF_RANGE, "occurred_at outside the window", True)
    return None


def _fields(details: dict[str, Any]) -> dict[str, Any]:
    return {"fields": details["fields"]} if "fields" in details else {}


def _conflict(
    ev: IncomingEvent, reason: Reason, message: str, held_by: str | None = None
) -> Refusal:
    return Refusal(ev, reason, message, False, {"held_by": held_by} if held_by else {})


def triage(box: Box, events: list[IncomingEvent]) -> Triage:
    """Sort the batch (seq order; events without a usable seq refused, nothing consumed)."""
    by_id, by_seq = _held(box, events)
    high_water = max(box.max_seq_seen, box.last_contiguous_seq)
    earliest, latest = window()
    out = Triage()
    seen_id: dict[str, IncomingEvent] = {}
    seen_seq: dict[int, IncomingEvent] = {}
    for ev in sorted(events, key=lambda e: (e.seq is None, e.seq or 0)):
        if ev.event_id is None or ev.seq is None:
            error = ev.error
            assert error is not None
            out.refused.append(Refusal(ev, error.reason, error.message, False))
            continue
        first = seen_id.get(ev.event_id)
        if first is not None:  # twice in this batch
            if first.digest == ev.digest and first.seq == ev.seq:
                out.twins.append(ev)
            else:
                out.refused.append(_conflict(ev, Reason.EVENT_ID_CONFLICT, "id used twice"))
            continue
        held = by_id.get(ev.event_id)
        if held is not None:
            if not _same(held, ev, box):
                where = f"{held.box_id}#{held.seq}"
                out.refused.append(
                    _conflict(
                        ev, Reason.EVENT_ID_CONFLICT, "a known event id with other content", where
                    )
                )
            elif held.outcome == "applied":
                out.duplicates.append(ev.event_id)
            else:
                reason = Reason(held.reason or Reason.INGEST_FAILED)
                out.again.append(Refusal(ev, reason, "refused before; quarantined", True))
            continue
        holder = by_seq[ev.seq].event_id if ev.seq in by_seq else None
        if holder is not None or ev.seq in seen_seq:
            holder = holder or seen_seq[ev.seq].event_id
            out.refused.append(
                _conflict(ev, Reason.SEQ_CONFLICT, f"seq {ev.seq} is held by another event", holder)
            )
            continue
        if ev.seq > high_water + settings().ingest_max_seq_ahead:
            out.refused.append(
                _conflict(ev, Reason.SEQ_OUT_OF_RANGE, f"seq {ev.seq} is far beyond {high_water}")
            )
            continue
        seen_id[ev.event_id], seen_seq[ev.seq] = ev, ev
        refusal = _identity(ev, box, earliest, latest)
        if refusal is not None:
            out.refused.append(refusal)
        else:
            out.fresh.append(ev)
    return out
