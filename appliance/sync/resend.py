"""Resend after a hub restore (NFR-004): the box side of hub/sync/resend.py.

A restored hub has lost whatever it acked after its backup. It publishes a retained
`resend` down message (`posdomain.contract.ResendRequest`: restore id, `after_seq`). The box
records it once per restore (`record`, in the down message's transaction, audited), and the
sync agent sends every kept outbox row in `(cursor, through_seq]` again, acked or not, oldest
first, before new events (`pending_rows`); each acked batch moves the cursor (`advance`).
The hub deduplicates on event id, so nothing doubles; rows are never deleted, so nothing
the box sold is missing (the retention window is the box's whole life). Events the hub had
refused are sent again too, once: the restored hub may have lost their quarantine record
and reconciliation item, and its contiguous mark needs their seqs; a repeated refusal
changes nothing on the box (outbox.refuse touches waiting rows only).
"""

from __future__ import annotations

import logging

from appliance.audit import log as audit_log
from appliance.core.context import BoxContext, now_iso
from appliance.sync.models import Outbox, OutboxResend
from posdomain.contract import ResendRequest
from posdomain.obs import log_event

log = logging.getLogger(__name__)
NO_RESTORE = "none"  # the hub's body for a box enrolled after its last restore


def _last_seq() -> int:
    row = Outbox.select(Outbox.seq).order_by(Outbox.seq.desc()).first()
    return 0 if row is None else int(row.seq)


def record(ctx: BoxContext, request: ResendRequest) -> bool:
    """Store a new restore's request (inside the caller's write txn); True if new."""
    if request.restore_id == NO_RESTORE:
        return False
    if OutboxResend.get_or_none(OutboxResend.restore_id == request.restore_id) is not None:
        return False
    through = _last_seq()
    done = through <= request.after_seq
    OutboxResend.insert(
        restore_id=request.restore_id,
        after_seq=request.after_seq,
        through_seq=through,
        cursor=min(request.after_seq, through),
        requested_at=now_iso(),
        finished_at=now_iso() if done else None,
    ).execute()
    audit_log.append(
        ctx,
        actor="hub",
        action="sync.resend.requested",
        target=request.restore_id,
        details={
            "after_seq": request.after_seq,
            "through_seq": through,
            "events": max(0, through - request.after_seq),
            "restored_at": request.restored_at,
            "reason": request.reason,
        },
    )
    log_event(log, "resend requested", restore_id=request.restore_id, after_seq=request.after_seq)
    return True


def open_request() -> OutboxResend | None:
    """The oldest unfinished resend request, if any."""
    query = OutboxResend.select().where(OutboxResend.finished_at.is_null())
    found: OutboxResend | None = query.order_by(OutboxResend.requested_at).first()
    return found


def pending_rows(limit: int) -> tuple[OutboxResend, list[Outbox]] | None:
    """The next rows to resend with their request, or None when nothing is to resend."""
    request = open_request()
    if request is None:
        return None
    rows = list(
        Outbox.select()
        .where(Outbox.seq > request.cursor, Outbox.seq <= request.through_seq)
        .order_by(Outbox.seq)
        .limit(limit)
    )
    return request, rows


def advance(ctx: BoxContext, restore_id: str, through: int) -> bool:
    """Move the cursor after an acked resend batch (caller's write txn); True when finished."""
    request = OutboxResend.get_or_none(OutboxResend.restore_id == restore_id)
    if request is None or request.finished_at is not None:
        return False
    cursor = max(int(request.cursor), through)
    finished = cursor >= int(request.through_seq)
    OutboxResend.update(cursor=cursor, finished_at=now_iso() if finished else None).where(
        OutboxResend.restore_id == restore_id
    ).execute()
    if finished:
        audit_log.append(
            ctx,
            actor="system",
            action="sync.resend.finished",
            target=restore_id,
            details={"after_seq": request.after_seq, "through_seq": request.through_seq},
        )
    return finished
