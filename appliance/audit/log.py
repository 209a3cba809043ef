"""The box's hash-chained audit log (FR-802): append, verify at start-up, sync to the hub."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from typing import Any

from appliance.audit.models import AuditLog
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import insert_rows, select_models, write_txn
from appliance.sync import outbox
from posdomain.audit_chain import AuditRecord, ChainReport, Severity, next_record, verify_chain
from posdomain.contract import EventType
from posdomain.obs import log_event

log = logging.getLogger(__name__)


def chain_name(ctx: BoxContext) -> str:
    """The chain id of this box ('box:<box_id>')."""
    return f"box:{ctx.config.box_id}"


def _to_record(row: AuditLog) -> AuditRecord:
    return AuditRecord(
        chain=row.chain,
        seq=row.seq,
        ts=row.ts,
        actor=row.actor,
        action=row.action,
        target=row.target,
        severity=row.severity,
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def head() -> AuditRecord | None:
    """The latest entry, if any."""
    found = select_models(AuditLog, "SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1")
    return _to_record(found[0]) if found else None


def append(
    ctx: BoxContext,
    *,
    actor: str,
    action: str,
    target: str = "",
    severity: Severity = Severity.INFO,
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append an entry and queue it as an `audit.entry` event (inside the caller's txn)."""
    record = next_record(
        chain=chain_name(ctx),
        head=head(),
        ts=now_iso(),
        actor=actor,
        action=action,
        target=target,
        severity=severity,
        details=details or {},
    )
    row = dict(
        seq=record.seq,
        chain=record.chain,
        ts=record.ts,
        actor=record.actor,
        action=record.action,
        target=record.target,
        severity=record.severity,
        details=json.dumps(record.details, sort_keys=True),
        prev_hash=record.prev_hash,
        hash=record.hash,
    )
    insert_rows(AuditLog, [row])
    outbox.enqueue(ctx, EventType.AUDIT_ENTRY, asdict(record))
    return record


def append_now(ctx: BoxContext, **fields: Any) -> AuditRecord:
    """Append an entry in its own write transaction."""
    with write_txn():
        return append(ctx, **fields)


def verify(ctx: BoxContext) -> ChainReport:
    """Verify the whole stored chain."""
    rows = AuditLog.select().order_by(AuditLog.seq)
    return verify_chain(chain_name(ctx), (_to_record(r) for r in rows.iterator()))


def verify_at_startup(ctx: BoxContext) -> ChainReport:
    """Verify on start; a broken chain is recorded CRITICAL and privileged writes refused."""
    report = verify(ctx)
    ctx.chain_broken = not report.ok
    if not report.ok:
        log_event(log, "audit chain broken", logging.CRITICAL, report=report.to_dict())
        append_now(
            ctx,
            actor="system",
            action="audit.chain_broken",
            target=chain_name(ctx),
            severity=Severity.CRITICAL,
            details={"first_bad_seq": report.first_bad_seq, "problems": report.problems[:10]},
        )
    return report


def integrity(ctx: BoxContext) -> dict[str, Any]:
    """The integrity endpoint body: the report plus whether privileged writes are refused."""
    body = verify(ctx).to_dict()
    body["privileged_writes_refused"] = ctx.chain_broken
    return body
