"""Box audit chains as synced to the hub, verified here end to end (FR-802)."""

from __future__ import annotations

from itertools import groupby
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from hub.core.db import platform_tx, tenant_tx
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


def _reports() -> list[dict[str, Any]]:
    query = BoxAudit.select().order_by(BoxAudit.box_id, BoxAudit.chain, BoxAudit.seq)
    out = []
    for (box_id, chain), rows in groupby(query, key=lambda r: (r.box_id, r.chain)):
        report = verify_chain(chain, (to_record(r) for r in rows)).to_dict()
        report["box_id"] = box_id
        out.append(report)
    return out


def box_chain_reports(tenant_id: str | None) -> list[dict[str, Any]]:
    """Verify every box chain the hub holds for a tenant (all tenants for platform callers).

    Events arrive in box sequence order and are acked contiguously, so what the hub holds is
    always a prefix of the box's chain: a prefix verifies, an edited or missing entry does not.
    """
    if tenant_id is None:
        with platform_tx():
            return _reports()
    with tenant_tx(tenant_id):
        return _reports()
