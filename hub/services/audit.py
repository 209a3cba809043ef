"""Hub audit log (FR-802): one hash chain per tenant plus "platform", anchored by checkpoints."""

from __future__ import annotations

import hmac
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.db import db, is_postgres, platform_tx
from hub.models import AuditLog
from posdomain.audit_chain import (
    AuditRecord,
    ChainReport,
    Severity,
    next_record,
    sign_checkpoint,
    verify_chain,
)
from posdomain.errors import Locked, Reason
from posdomain.obs import log_event
from posdomain.permissions import Principal

log = logging.getLogger(__name__)

PLATFORM_CHAIN = "platform"


@dataclass
class IntegrityState:
    """Whether start-up validation found a broken chain (privileged writes then get 423)."""

    locked: bool = False
    broken: list[dict[str, Any]] = field(default_factory=list)

    def guard_writes(self) -> None:
        """Refuse a privileged write while the audit chain is broken."""
        if self.locked:
            raise Locked(
                "audit chain broken: privileged writes are refused until it is investigated",
                Reason.AUDIT_CHAIN_BROKEN,
                {"chains": [b["chain"] for b in self.broken]},
            )


def chain_for(principal: Principal | None) -> str:
    """The chain a principal's actions go to: its tenant, or the platform chain."""
    if principal is None or principal.tenant_id is None:
        return PLATFORM_CHAIN
    return principal.tenant_id


def _to_record(row: AuditLog) -> AuditRecord:
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


def append(
    chain: str,
    actor: str,
    action: str,
    target: str,
    severity: Severity = Severity.INFO,
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one entry to `chain` inside the caller's transaction (serialised per chain)."""
    if is_postgres():
        db.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (chain,))
    head_row = (
        AuditLog.select().where(AuditLog.chain == chain).order_by(AuditLog.seq.desc()).first()
    )
    rec = next_record(
        chain=chain,
        head=_to_record(head_row) if head_row else None,
        ts=datetime.now(UTC).isoformat(timespec="microseconds"),
        actor=actor,
        action=action,
        target=target,
        severity=severity,
        details=json.loads(json.dumps(details or {}, default=str)),
    )
    AuditLog.create(
        tenant_id=None if chain == PLATFORM_CHAIN else chain,
        **{k: getattr(rec, k) for k in AuditRecord.__dataclass_fields__},
    )
    return rec


def record(
    principal: Principal | None,
    action: str,
    target: str,
    severity: Severity = Severity.INFO,
    details: dict[str, Any] | None = None,
    *,
    actor: str | None = None,
) -> AuditRecord:
    """Append an entry for what `principal` did, to its tenant's chain (caller's transaction)."""
    who = actor or (principal.actor if principal else "anonymous")
    return append(chain_for(principal), who, action, target, severity, details)


def chain_records(chain: str) -> list[AuditRecord]:
    """Every record of a chain in seq order (visible under the caller's transaction)."""
    rows = AuditLog.select().where(AuditLog.chain == chain).order_by(AuditLog.seq)
    return [_to_record(r) for r in rows]


def visible_chains() -> list[str]:
    """Names of the chains visible in the caller's transaction."""
    rows = AuditLog.select(AuditLog.chain).distinct().order_by(AuditLog.chain)
    return [r.chain for r in rows]


def list_entries(chain: str, page: int, page_size: int = 50) -> dict[str, Any]:
    """One page of a chain, newest first."""
    query = AuditLog.select().where(AuditLog.chain == chain)
    total = query.count()
    rows = query.order_by(AuditLog.seq.desc()).paginate(page, page_size)
    return {
        "chain": chain,
        "page": page,
        "page_size": page_size,
        "total": total,
        "items": [_to_record(r).__dict__ for r in rows],
    }


# --- checkpoints: an HMAC anchor kept outside the database (PITFALLS "anchor it") ---


def _checkpoint_path(directory: str, chain: str) -> Path:
    return Path(directory) / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', chain)}.checkpoint.json"


def write_checkpoint(directory: str, key: bytes, report: ChainReport) -> Path:
    """Write a signed (entries, head_hash) checkpoint of a verified chain."""
    path = _checkpoint_path(directory, report.chain)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"chain": report.chain, "entries": report.entries, "head_hash": report.head_hash}
    body["signature"] = sign_checkpoint(key, report.chain, report.entries, report.head_hash)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, sort_keys=True))
    tmp.replace(path)
    return path


def check_against_checkpoint(
    directory: str, key: bytes, report: ChainReport, records: list[AuditRecord]
) -> None:
    """Mark the report broken if the chain is shorter than, or differs from, its checkpoint."""
    path = _checkpoint_path(directory, report.chain)
    if not path.exists():
        return
    cp = json.loads(path.read_text())
    expected = sign_checkpoint(key, cp["chain"], cp["entries"], cp["head_hash"])
    if not hmac.compare_digest(expected, str(cp.get("signature", ""))):
        report.fail(0, "checkpoint", "checkpoint signature invalid")
        return
    seq = int(cp["entries"])
    if report.entries < seq:
        report.fail(seq, "checkpoint", f"chain has {report.entries} entries, checkpoint {seq}")
        return
    at = next((r for r in records if r.seq == seq), None)
    if seq and (at is None or at.hash != cp["head_hash"]):
        report.fail(seq, "checkpoint", "entry hash differs from the signed checkpoint")


def verify_chain_with_anchor(
    chain: str, checkpoint_dir: str | None = None, key: bytes = b""
) -> ChainReport:
    """Verify one chain (hashes, links, gaps, severity) and compare with its checkpoint."""
    records = chain_records(chain)
    report = verify_chain(chain, records)
    if checkpoint_dir:
        check_against_checkpoint(checkpoint_dir, key, report, records)
    return report


def verify_all(checkpoint_dir: str | None = None, key: bytes = b"") -> list[ChainReport]:
    """Verify every chain in the database (platform transaction)."""
    with platform_tx():
        return [verify_chain_with_anchor(c, checkpoint_dir, key) for c in visible_chains()]


def startup_validation(checkpoint_dir: str | None, key: bytes) -> IntegrityState:
    """Verify all chains; on a break log + append a CRITICAL audit.chain_broken and lock writes."""
    reports = verify_all(checkpoint_dir, key)
    broken = [r.to_dict() for r in reports if not r.ok]
    if not broken:
        return IntegrityState()
    log_event(log, "audit chain broken", logging.CRITICAL, chains=broken)
    with platform_tx():
        append(
            PLATFORM_CHAIN,
            "system:hub",
            "audit.chain_broken",
            "audit_log",
            Severity.CRITICAL,
            {
                "broken": [
                    {"chain": b["chain"], "first_bad_seq": b["first_bad_seq"]} for b in broken
                ]
            },
        )
    return IntegrityState(locked=True, broken=broken)


def write_checkpoints(checkpoint_dir: str, key: bytes) -> list[str]:
    """Write a checkpoint for every chain that verifies; return the chain names written."""
    written = []
    for report in verify_all(checkpoint_dir, key):
        if report.ok:
            write_checkpoint(checkpoint_dir, key, report)
            written.append(report.chain)
    return written
