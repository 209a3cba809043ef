"""Hub audit log (FR-802): one hash chain per tenant plus "platform", anchored by checkpoints."""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.core.db import db, is_postgres, platform_tx, tenant_tx
from hub.governance.box_chains import box_chain_reports, to_record
from hub.governance.models import AuditLog
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
from posdomain.text import printable, printable_dumped

log = logging.getLogger(__name__)

PLATFORM_CHAIN = "platform"
CHAIN_BROKEN = "audit.chain_broken"
# what a branch-scoped reader may see of an integrity report: the verdict, no entry content
VERDICT_FIELDS = ("chain", "ok", "entries", "first_bad_seq")


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


def append(
    chain: str,
    actor: str,
    action: str,
    target: str,
    severity: Severity = Severity.INFO,
    details: dict[str, Any] | None = None,
    *,
    stored_details: Any = None,
) -> AuditRecord:
    """Append one entry to `chain` inside the caller's transaction (serialised per chain).

    `stored_details`: instead of `details`, what `storable_details(details)` gave for them
    (a caller that prepares a large entry while it waits on the database)."""
    if is_postgres():
        db.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (chain,))
    head_row = (
        AuditLog.select().where(AuditLog.chain == chain).order_by(AuditLog.seq.desc()).first()
    )
    rec = next_record(
        chain=chain,
        head=to_record(head_row) if head_row else None,
        ts=datetime.now(UTC).isoformat(timespec="microseconds"),
        actor=printable(actor),
        action=action,
        target=printable(target),
        severity=severity,
        details=storable_details(details) if stored_details is None else stored_details,
    )
    AuditLog.create(
        tenant_id=None if chain == PLATFORM_CHAIN else chain,
        **{k: getattr(rec, k) for k in AuditRecord.__dataclass_fields__},
    )
    return rec


def storable_details(details: dict[str, Any] | None) -> Any:
    """Details as an entry stores and hashes them: JSON values, and (JSONB cannot hold NUL)
    control characters written as escapes. Pure Python, no database."""
    return printable_dumped(json.dumps(details or {}, default=str))


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
    return [to_record(r) for r in rows]


def visible_chains() -> list[str]:
    """Names of the chains visible in the caller's transaction."""
    rows = AuditLog.select(AuditLog.chain).distinct().order_by(AuditLog.chain)
    return [r.chain for r in rows]


def entry_branches(rec: AuditRecord) -> set[str]:
    """Branch ids an entry concerns: details.branch_id, details.branch_ids, target branch:<id>."""
    details = rec.details if isinstance(rec.details, dict) else {}
    found: set[str] = set()
    if isinstance(details.get("branch_id"), str):
        found.add(details["branch_id"])
    if isinstance(details.get("branch_ids"), list):
        found.update(b for b in details["branch_ids"] if isinstance(b, str))
    if rec.target.startswith("branch:"):
        found.add(rec.target.removeprefix("branch:"))
    return found


def list_entries(
    chain: str, page: int, page_size: int = 50, branches: Collection[str] | None = None
) -> dict[str, Any]:
    """One page of a chain, newest first (caller's transaction).

    `branches` None: every entry (tenant/platform readers). Otherwise only entries that
    concern one of those branches (BRANCH_MANAGER, "B (own branch)"). The branch filter
    runs in Python over the chain: portable (PostgreSQL and the SQLite fallback) and fine
    at today's volumes; an indexed audit_branch table is the step up if chains grow large.
    """
    query = AuditLog.select().where(AuditLog.chain == chain)
    if branches is None:
        total = query.count()
        records = [
            to_record(r) for r in query.order_by(AuditLog.seq.desc()).paginate(page, page_size)
        ]
    else:
        wanted = set(branches)
        newest_first = (to_record(r) for r in query.order_by(AuditLog.seq.desc()))
        matching = [r for r in newest_first if entry_branches(r) & wanted]
        total = len(matching)
        start = (max(page, 1) - 1) * page_size
        records = matching[start : start + page_size]
    return {
        "chain": chain,
        "page": page,
        "page_size": page_size,
        "total": total,
        "items": [r.__dict__ for r in records],
    }


def read_entries(
    tenant_id: str, page: int, branches: Collection[str] | None = None
) -> dict[str, Any]:
    """One page of a tenant's chain in its own tenant transaction (see list_entries)."""
    with tenant_tx(tenant_id):
        return list_entries(tenant_id, page, branches=branches)


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


def _break_key(item: dict[str, Any]) -> tuple[Any, Any, Any]:
    return (item.get("chain"), item.get("first_bad_seq"), item.get("bad_hash"))


def _describe_break(report: dict[str, Any]) -> dict[str, Any]:
    """Identity of one break: chain, first bad seq, the stored hash there, and the head.

    A break is "the same" when chain, first_bad_seq and the hash stored at that seq match.
    The head hash is recorded too, but not compared: audited logins keep appending to a
    locked chain, so its head moves while the break itself has not changed.
    """
    seq = report["first_bad_seq"]
    row = AuditLog.get_or_none(AuditLog.chain == report["chain"], AuditLog.seq == seq)
    return {
        "chain": report["chain"],
        "first_bad_seq": seq,
        "bad_hash": row.hash if row else None,
        "head_hash": report["head_hash"],
    }


def _reported_breaks() -> set[tuple[Any, Any, Any]]:
    """Keys of every break already written as audit.chain_broken (caller's transaction)."""
    rows = AuditLog.select(AuditLog.details).where(
        AuditLog.chain == PLATFORM_CHAIN, AuditLog.action == CHAIN_BROKEN
    )
    keys: set[tuple[Any, Any, Any]] = set()
    for row in rows:
        items = row.details.get("broken", []) if isinstance(row.details, dict) else []
        keys.update(_break_key(i) for i in items if isinstance(i, dict))
    return keys


def startup_validation(checkpoint_dir: str | None, key: bytes) -> IntegrityState:
    """Verify all chains; on a break lock privileged writes (every start) and write one
    CRITICAL audit.chain_broken per distinct break (not again while the same break persists).
    """
    reports = verify_all(checkpoint_dir, key)
    broken = [r.to_dict() for r in reports if not r.ok]
    if not broken:
        return IntegrityState()
    log_event(log, "audit chain broken", logging.CRITICAL, chains=broken)
    with platform_tx():
        known = _reported_breaks()
        new = [d for d in map(_describe_break, broken) if _break_key(d) not in known]
        if new:
            append(
                PLATFORM_CHAIN,
                "system:hub",
                CHAIN_BROKEN,
                "audit_log",
                Severity.CRITICAL,
                {"broken": new},
            )
    return IntegrityState(locked=True, broken=broken)


def integrity_report(
    tenant_id: str | None,
    state: IntegrityState,
    checkpoint_dir: str | None,
    key: bytes,
    *,
    verdict_only: bool = False,
) -> dict[str, Any]:
    """Reports of the tenant's chain (every chain for platform callers) plus the lock state.

    `verdict_only` (branch-scoped readers): the whole chain is still verified, since every
    row is needed to check the hashes, but only VERDICT_FIELDS are returned, never the
    problems, hashes or anything else about other branches' entries.
    """
    if tenant_id is None:
        reports = [r.to_dict() for r in verify_all(checkpoint_dir, key)]
    else:
        with tenant_tx(tenant_id):
            reports = [verify_chain_with_anchor(tenant_id, checkpoint_dir, key).to_dict()]
    breaks = [b for b in state.broken if tenant_id is None or b["chain"] == tenant_id]
    boxes = box_chain_reports(tenant_id)
    if verdict_only:
        reports = [_verdict(r) for r in reports]
        breaks = [_verdict(b) for b in breaks]
        boxes = [{**_verdict(b), "box_id": b["box_id"]} for b in boxes]
    return {
        "locked": state.locked,
        "chains": reports,
        "startup_breaks": breaks,
        "box_chains": boxes,
    }


def _verdict(report: dict[str, Any]) -> dict[str, Any]:
    return {k: report[k] for k in VERDICT_FIELDS}


def write_checkpoints(checkpoint_dir: str, key: bytes) -> list[str]:
    """Write a checkpoint for every chain that verifies; return the chain names written."""
    written = []
    for report in verify_all(checkpoint_dir, key):
        if report.ok:
            write_checkpoint(checkpoint_dir, key, report)
            written.append(report.chain)
    return written
