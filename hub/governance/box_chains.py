"""Box audit chains as synced to the hub, verified here end to end (FR-802)."""

from __future__ import annotations

from collections.abc import Iterable
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


#: ids of box entries whose event seq is above their box's contiguous seq: a later batch of
#: the box's window arrived first and the earlier one is still on its way (or being resent);
#: they link to entries the hub does not hold yet. From each box's few events above its mark
#: (the (box_id, seq) index), not a join over every audit entry; the restore drill runs it too.
HELD_ABOVE_GAP_SQL = """SELECT a.id FROM boxes b
    JOIN ingested_events e ON e.box_id = b.box_id AND e.seq > b.last_contiguous_seq
    JOIN box_audit a ON a.event_id = e.event_id"""


def _held_above_gap() -> set[int]:
    return {int(r[0]) for r in db.execute_sql(HELD_ABOVE_GAP_SQL).fetchall()}


def judge_box_chain(
    box_id: str, chain: str, entries: Iterable[tuple[int, AuditRecord]], held: set[int]
) -> dict[str, Any]:
    """The verdict on one box chain (`entries`: (row id, record) in seq order): judged up to
    the box's contiguous event seq, the entries held above a gap counted."""
    kept = list(entries)
    report = verify_chain(chain, (rec for row_id, rec in kept if row_id not in held)).to_dict()
    report["box_id"] = box_id
    report["held_above_gap"] = sum(1 for row_id, _ in kept if row_id in held)
    return report


def _reports() -> list[dict[str, Any]]:
    query = BoxAudit.select().order_by(BoxAudit.box_id, BoxAudit.chain, BoxAudit.seq)
    held = _held_above_gap()
    return [
        judge_box_chain(box_id, chain, ((r.id, to_record(r)) for r in rows), held)
        for (box_id, chain), rows in groupby(query, key=lambda r: (r.box_id, r.chain))
    ]


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
