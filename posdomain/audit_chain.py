"""Hash-chained, append-only audit entries (FR-802), shared by box and hub.

Each entry's hash is SHA-256 over the canonical JSON of its fields plus the
previous entry's hash, so editing, deleting or reordering any stored entry
breaks every hash after it. Storage is the caller's concern; this module only
computes and verifies.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from posdomain.canonical import canonical_json

GENESIS_HASH = "0" * 64


class Severity(IntEnum):
    """Ordered severities; an entry's severity may never go down."""

    INFO = 10
    WARN = 20
    CRITICAL = 30

    @classmethod
    def parse(cls, name: str) -> Severity:
        """Severity from its name ('INFO', 'WARN', 'CRITICAL')."""
        return cls[name.upper()]


@dataclass(frozen=True)
class AuditRecord:
    """One audit entry as stored (hash fields included)."""

    chain: str
    seq: int
    ts: str
    actor: str
    action: str
    target: str
    severity: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def body(self) -> dict[str, Any]:
        """The fields the hash covers (everything but the hash itself)."""
        return {
            "chain": self.chain,
            "seq": self.seq,
            "ts": self.ts,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "severity": self.severity,
            "details": self.details,
            "prev_hash": self.prev_hash,
        }


def entry_hash(body: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical encoding of an entry body."""
    return hashlib.sha256(canonical_json(body)).hexdigest()


def next_record(
    *,
    chain: str,
    head: AuditRecord | None,
    ts: str,
    actor: str,
    action: str,
    target: str,
    severity: Severity,
    details: dict[str, Any],
) -> AuditRecord:
    """Build the record that follows `head` (or starts the chain) with its hash computed."""
    seq = 1 if head is None else head.seq + 1
    prev = GENESIS_HASH if head is None else head.hash
    body = {
        "chain": chain,
        "seq": seq,
        "ts": ts,
        "actor": actor,
        "action": action,
        "target": target,
        "severity": severity.name,
        "details": details,
        "prev_hash": prev,
    }
    return AuditRecord(**body, hash=entry_hash(body))  # type: ignore[arg-type]


@dataclass
class ChainReport:
    """Result of verifying one chain."""

    chain: str
    ok: bool = True
    entries: int = 0
    head_hash: str = GENESIS_HASH
    first_bad_seq: int | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, seq: int, kind: str, message: str) -> None:
        """Record a problem; the first one marks where the chain broke."""
        self.ok = False
        if self.first_bad_seq is None:
            self.first_bad_seq = seq
        self.problems.append({"seq": seq, "kind": kind, "message": message})

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the integrity endpoint."""
        return {
            "chain": self.chain,
            "ok": self.ok,
            "entries": self.entries,
            "head_hash": self.head_hash,
            "first_bad_seq": self.first_bad_seq,
            "problems": self.problems,
        }


def verify_chain(chain: str, records: Iterable[AuditRecord]) -> ChainReport:
    """Walk the records in seq order and report every break (hash, link, gap, severity)."""
    report = ChainReport(chain=chain)
    expected_prev = GENESIS_HASH
    expected_seq = 1
    max_severity: dict[str, Severity] = {}
    for rec in records:
        report.entries += 1
        if rec.seq != expected_seq:
            report.fail(rec.seq, "gap", f"expected seq {expected_seq}, found {rec.seq}")
        if rec.prev_hash != expected_prev:
            report.fail(rec.seq, "link", "prev_hash does not match the previous entry")
        # bytes, not str: compare_digest refuses non-ASCII text, and a stored hash is data
        if not hmac.compare_digest(entry_hash(rec.body()).encode(), rec.hash.encode()):
            report.fail(rec.seq, "hash", "entry content does not match its hash (edited)")
        _check_severity(report, rec, max_severity)
        expected_prev = rec.hash
        expected_seq = rec.seq + 1
        report.head_hash = rec.hash
    return report


def _check_severity(
    report: ChainReport, rec: AuditRecord, max_severity: dict[str, Severity]
) -> None:
    """Flag an entry about a subject whose severity is lower than an earlier entry's.

    Entries that re-state a subject's severity (details.subject) must never go down:
    that is how an incident or alert would be quietly downgraded.
    """
    try:
        sev = Severity.parse(rec.severity)
    except KeyError:
        report.fail(rec.seq, "severity", f"unknown severity {rec.severity!r}")
        return
    subject = rec.details.get("subject") if isinstance(rec.details, dict) else None
    if not isinstance(subject, str):
        return
    earlier = max_severity.get(subject)
    if earlier is not None and sev < earlier:
        report.fail(
            rec.seq,
            "severity downgrade",
            f"severity of {subject} lowered from {earlier.name} to {sev.name}",
        )
    max_severity[subject] = max(sev, earlier or sev)


def sign_checkpoint(key: bytes, chain: str, entries: int, head_hash: str) -> str:
    """HMAC-SHA256 over (chain, count, head): an anchor kept outside the database."""
    msg = canonical_json({"chain": chain, "entries": entries, "head_hash": head_hash})
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def severity_may_change(old: str, new: str) -> bool:
    """True if moving an item from `old` to `new` severity is allowed (never lower)."""
    return Severity.parse(new) >= Severity.parse(old)
