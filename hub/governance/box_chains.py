"""Box audit chains as synced to the hub, verified here end to end (FR-802)."""

from __future__ import annotations

from itertools import groupby
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from hub.core.db import db, platform_tx, tenant_tx
from hub.governance.models import AuditLog, BoxAudit
from posdomain.audit_chain import AuditRecord, verify_chain
from posdomain.wire import Code, Id, Name, Seq

# a chain hash is SHA-256 hex (posdomain.audit_chain); anything else is refused at ingest
Hash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class AuditIn(BaseModel):
    """An audit.entry payload: one box audit record."""

    model_config = ConfigDict(extra="ignore")

    chain: Id
    seq: Seq
    ts: Code
    actor: Name
    action: Name
    target: Name
    severity: Code
    details: dict[str, Any]
    prev_hash: Hash
    hash: Hash


def to_record(row: AuditLog | BoxAudit) -> AuditRecord:
    """A stored hub or box audit row as a chain record."""
    return AuditRecord(
        chain=row.chain,
        seq=row.seq,
        ts=row.ts,
        actor=row.actor,
        action=row.action,
        target=row.target,
        severity=row.severity,
        details=row.details,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _held_above_gap() -> set[int]:
    """Ids of box entries whose event seq is above their box's contiguous seq: a later batch
    of the box's window arrived first and the earlier one is still on its way (or being
    resent); they link to entries the hub does not hold yet."""
    cursor = db.execute_sql(
        """SELECT a.id FROM box_audit a JOIN ingested_events e ON e.event_id = a.event_id
           JOIN boxes b ON b.box_id = a.box_id WHERE e.seq > b.last_contiguous_seq"""
    )
    return {int(r[0]) for r in cursor.fetchall()}


def _reports() -> list[dict[str, Any]]:
    query = BoxAudit.select().order_by(BoxAudit.box_id, BoxAudit.chain, BoxAudit.seq)
    held = _held_above_gap()
    out = []
    for (box_id, chain), rows in groupby(query, key=lambda r: (r.box_id, r.chain)):
        entries = list(rows)
        judged = (to_record(r) for r in entries if r.id not in held)
        report = verify_chain(chain, judged).to_dict()
        report["box_id"] = box_id
        report["held_above_gap"] = sum(1 for r in entries if r.id in held)
        out.append(report)
    return out


def box_chain_reports(tenant_id: str | None) -> list[dict[str, Any]]:
    """Verify every box chain the hub holds for a tenant (all tenants for platform callers).

    What the hub holds up to a box's contiguous event seq is a prefix of the box's chain: a
    prefix verifies, an edited or missing entry does not. Entries above a gap (a window's
    later batch that landed first) are counted in `held_above_gap`, judged once it fills.
    """
    if tenant_id is None:
        with platform_tx():
            return _reports()
    with tenant_tx(tenant_id):
        return _reports()
