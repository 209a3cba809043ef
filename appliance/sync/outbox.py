"""The outbox: every business event committed with its seq, waiting for the hub's ack."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from typing import Any, cast

from appliance.core.context import BoxContext, now_iso
from appliance.core.db import database, insert_rows
from appliance.sync.box_state import allocate_seq, envelope_versions
from appliance.sync.models import Outbox
from posdomain.envelope import BatchAck, EventEnvelope, encode_event, new_event_id, utcnow
from posdomain.obs import current_correlation_id, new_correlation_id


def enqueue(
    ctx: BoxContext,
    event_type: str,
    payload: dict[str, Any],
    correlation_id: str | None = None,
    payload_json: bytes | None = None,
) -> EventEnvelope:
    """Append an event with the next gap-free seq (must run inside the business transaction).
    `payload_json`: the payload's `plain_json` bytes when the caller made them already (the
    stored envelope is the same bytes either way)."""
    cfg = ctx.config
    envelope = EventEnvelope(
        event_id=new_event_id(),
        box_id=cfg.box_id,
        tenant_id=cfg.tenant_id,
        branch_id=cfg.branch_id,
        seq=allocate_seq(),
        type=event_type,
        occurred_at=utcnow(),
        correlation_id=correlation_id or current_correlation_id() or new_correlation_id(),
        versions=envelope_versions(),
        payload=payload,
    )
    row = dict(
        seq=envelope.seq,
        event_id=str(envelope.event_id),
        type=event_type,
        payload=encode_event(envelope, payload_json).decode("utf-8"),
        created_at=now_iso(),
        attempts=0,
    )
    insert_rows(Outbox, [row])
    return envelope


REFUSED_SHOWN = 5  # the latest refusals the status carries (the count covers all)


def _waiting() -> Any:
    return Outbox.acked_at.is_null() & Outbox.refused_at.is_null()


def open_refused() -> Any:
    """Refused rows neither resolved by head office nor acknowledged at the till (0012)."""
    return (
        Outbox.refused_at.is_null(False)
        & Outbox.resolved_at.is_null()
        & Outbox.acknowledged_at.is_null()
    )


def unacked(limit: int, after: int = 0) -> list[Outbox]:
    """Oldest events still waiting to be sent (neither acked nor refused) in seq order, above
    seq `after` (the last one in flight: a window of batches sends each event once)."""
    query = Outbox.select().where(_waiting(), Outbox.seq > after).order_by(Outbox.seq)
    query = query.limit(limit)
    return list(query)


def by_seqs(seqs: Iterable[int]) -> list[Outbox]:
    """Events the hub asked for again (acked or not: the hub is the judge of what it lacks),
    except refused ones: the hub has answered those, and resending would loop."""
    wanted = sorted(set(seqs))
    if not wanted:
        return []
    query = Outbox.select().where(Outbox.seq.in_(wanted), Outbox.refused_at.is_null())
    return list(query.order_by(Outbox.seq))


def envelope_of(row: Outbox) -> EventEnvelope:
    """The stored envelope of an outbox row."""
    return EventEnvelope.model_validate(json.loads(row.payload))


def apply_ack(ack: BatchAck, sent: Collection[int]) -> int:
    """Apply the hub's answer to a batch whose seqs were `sent` (empty: an ack of a batch
    this agent did not send, e.g. a crafted publisher's on this box's topic); return how
    many rows became delivered.

    Delivered: every listed accepted or duplicate event id (the hub holds that very event),
    and the sent seqs <= acked_through. Refused: the sent events listed under `rejected`
    (matched on event id and seq). `acked_through` alone never delivers a row this batch did
    not carry, nor a rejected one: the hub may hold its seq under another event (a crafted
    one), so it says nothing about *this* event. Rejections in a foreign ack are ignored; a
    refused event's resend is answered `rejected` again.
    """
    stamp = now_iso()
    mine = set(sent)
    refuse([r for r in ack.rejected if r.get("seq") in mine], stamp)
    through = [s for s in mine if s <= ack.acked_through]
    marked = 0
    if through:
        query = Outbox.update(acked_at=stamp).where(_waiting(), Outbox.seq.in_(through))
        marked += int(query.execute())
    held_ids = [str(e) for e in [*ack.accepted, *ack.duplicates]]
    if held_ids:
        query = Outbox.update(acked_at=stamp).where(_waiting(), Outbox.event_id.in_(held_ids))
        marked += int(query.execute())
    return marked


def refuse(rejected: Iterable[dict[str, Any]], stamp: str) -> int:
    """Record the hub's refusals on the waiting rows they name; return how many."""
    count = 0
    for entry in rejected:
        event_id, seq = entry.get("event_id"), entry.get("seq")
        if not isinstance(event_id, str) or not isinstance(seq, int):
            continue  # a refusal of something that was never this box's event
        count += int(
            Outbox.update(
                refused_at=stamp,
                refused_reason=str(entry.get("reason") or "INGEST_FAILED")[:64],
                refused_message=str(entry.get("message") or "")[:300],
            )
            .where(_waiting(), Outbox.event_id == event_id, Outbox.seq == seq)
            .execute()
        )
    return count


def refused_count() -> int:
    """Events the hub knowingly refused and nobody has settled yet (kept, never delivered;
    trigger-kept, 0008/0012: a row leaves the count when resolved or acknowledged)."""
    return _counter("refused")


def refused_sales_count() -> int:
    """`sale.completed` events the hub refused, not yet settled: sales the hub has not booked
    that nobody has looked at."""
    return _counter("refused_sales")


def latest_refused(limit: int = REFUSED_SHOWN) -> list[dict[str, Any]]:
    """The latest refused events not yet settled, as the till shows them (newest first)."""
    query = Outbox.select().where(open_refused()).order_by(Outbox.seq.desc()).limit(limit)
    return [
        {
            "seq": r.seq,
            "event_id": r.event_id,
            "type": r.type,
            "reason": r.refused_reason,
            "message": r.refused_message,
            "refused_at": r.refused_at,
        }
        for r in query
    ]


def record_attempt(seqs: Iterable[int]) -> None:
    """Count a send attempt on the given rows."""
    wanted = list(seqs)
    if wanted:
        Outbox.update(attempts=Outbox.attempts + 1).where(Outbox.seq.in_(wanted)).execute()


def queued_count() -> int:
    """Events still waiting for the hub (the real backlog: neither acked nor refused).

    Read from the trigger-kept `outbox_queued` row (migration 0005): a COUNT(*) of unacked
    rows grew with the backlog (NFR-002: 17.7 ms at 200 000 queued events).
    """
    return _counter("queued")


def queued_sales_count() -> int:
    """`sale.completed` events still waiting (trigger-kept, migration 0007): what an
    owner reads as "sales waiting to sync", apart from shift closes, refunds and voids."""
    return _counter("queued_sales")


def _counter(column: str) -> int:
    row = cast(Any, database).execute_sql(f"SELECT {column} FROM outbox_queued WHERE id = 1")
    found = row.fetchone()
    return int(found[0]) if found else 0


def note_error(seqs: Iterable[int], error: str) -> None:
    """Remember why the last send of still-unacked rows failed."""
    wanted = list(seqs)
    if wanted:
        Outbox.update(last_error=error).where(Outbox.seq.in_(wanted), _waiting()).execute()
