"""Settling refused events on the box (FR-303, issue 9): head office resolved them on the hub
(the `refusals` down message), or a SUPERVISOR/BRANCH_MANAGER acknowledged them at the till.

A settled row is still refused: kept, never delivered, never sent again (migrations 0008,
0012); only the till's banner and the open-refusal counters let go of it. Both ways are
audited on the box's chain (which the hub receives as `audit.entry` events).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError as PydanticValidationError

from appliance.audit import log as audit_log
from appliance.catalog.config_docs import config_body
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import write_txn
from appliance.identity.models import Staff
from appliance.sync.models import Outbox
from posdomain.audit_chain import Severity
from posdomain.contract import DownKind, RefusalResolutions, field_details
from posdomain.errors import Conflict, Forbidden, NotFound, Reason, ValidationError
from posdomain.till_codes import APPROVER_ROLES

MAX_NOTE = 200


def parse_resolutions(body: dict[str, Any]) -> RefusalResolutions:
    """The `refusals` body (400 MALFORMED_MESSAGE naming the fields)."""
    try:
        return RefusalResolutions.model_validate(body)
    except PydanticValidationError as err:
        raise ValidationError(
            "refusals body does not match the schema", Reason.MALFORMED_MESSAGE, field_details(err)
        ) from err


def apply_resolutions(ctx: BoxContext, body: dict[str, Any]) -> int:
    """Mark the refused rows a `refusals` body names (event id and seq) resolved, each audited
    (caller's write transaction); entries for events this box does not hold as refused are
    ignored. Return how many rows became resolved."""
    count = 0
    for item in parse_resolutions(body).resolved:
        changed = (
            Outbox.update(
                resolved_at=item.resolved_at.isoformat(),
                resolved_by=item.resolved_by or "hub",
                resolution_note=item.note,
            )
            .where(
                Outbox.event_id == item.event_id,
                Outbox.seq == item.seq,
                Outbox.refused_at.is_null(False),
                Outbox.resolved_at.is_null(),
            )
            .execute()
        )
        if changed:
            count += 1
            audit_log.append(
                ctx,
                actor="hub",
                action="outbox.refusal_resolved",
                target=f"outbox:{item.seq}",
                details={
                    "event_id": item.event_id,
                    "resolved_by": item.resolved_by,
                    "resolved_at": item.resolved_at.isoformat(),
                    "note": item.note,
                },
            )
    return count


def settle_held(ctx: BoxContext) -> int:
    """Apply the held `refusals` body again (caller's write transaction): a resolution may
    reach the box before the refusal it settles (the box missed the ack and resent)."""
    body = config_body(DownKind.REFUSALS.value)
    return apply_resolutions(ctx, body) if body else 0


def _deny(ctx: BoxContext, staff: Staff, seq: int) -> Forbidden:
    audit_log.append_now(
        ctx,
        actor=f"staff:{staff.id}",
        action="outbox.refusal_acknowledge_denied",
        target=f"outbox:{seq}",
        severity=Severity.WARN,
        details={"role": staff.role, "reason": str(Reason.FORBIDDEN_ROLE)},
    )
    return Forbidden(
        "only a supervisor or branch manager acknowledges a refused event",
        Reason.FORBIDDEN_ROLE,
    )


def acknowledge(ctx: BoxContext, staff: Staff, seq: int, note: str) -> dict[str, Any]:
    """A supervisor/manager at the till acknowledges one refused event (audited WARN): the
    banner lets go of it; the hub's reconciliation item stays for head office."""
    ctx.require_chain_intact()
    note = note.strip()
    if not note or len(note) > MAX_NOTE:
        message = f"a note of 1-{MAX_NOTE} characters is required"
        raise ValidationError(message, Reason.REASON_REQUIRED)
    if staff.role not in APPROVER_ROLES:
        raise _deny(ctx, staff, seq)
    with write_txn():
        row = Outbox.get_or_none(Outbox.seq == seq, Outbox.refused_at.is_null(False))
        if row is None:
            raise NotFound(f"no refused event with seq {seq} on this box", Reason.NOT_FOUND)
        if row.resolved_at is not None or row.acknowledged_at is not None:
            raise Conflict("this refused event is already settled", Reason.INVALID_TRANSITION)
        stamp = now_iso()
        Outbox.update(
            acknowledged_at=stamp, acknowledged_by=f"staff:{staff.id}", acknowledged_note=note
        ).where(Outbox.seq == seq).execute()
        audit_log.append(
            ctx,
            actor=f"staff:{staff.id}",
            action="outbox.refusal_acknowledged",
            target=f"outbox:{seq}",
            severity=Severity.WARN,
            details={
                "event_id": row.event_id,
                "type": row.type,
                "reason": row.refused_reason,
                "note": note,
            },
        )
    return {
        "seq": seq,
        "event_id": row.event_id,
        "type": row.type,
        "reason": row.refused_reason,
        "acknowledged_at": stamp,
        "acknowledged_by": f"staff:{staff.id}",
    }
