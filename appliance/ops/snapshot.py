"""Facts of one box database file, read with plain sqlite3 (a backup, or a restored copy).

Used to write a backup's manifest and to check a restore against it: integrity_check, row
counts per table, the outbox's last seq (gap-free), the audit chain verified end to end,
the stock ledger summed per product. Opened read-only and never through the peewee proxy,
so a drill never touches the live database.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from posdomain.audit_chain import AuditRecord, verify_chain


def connect_ro(path: Path) -> sqlite3.Connection:
    """A read-only connection to a database file (no journal written beside it)."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)


def integrity(conn: sqlite3.Connection) -> str:
    """`PRAGMA integrity_check` result: 'ok' or the first problems joined."""
    rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    return "ok" if rows == ["ok"] else "; ".join(rows[:5])


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Row count of every table (sqlite's own excluded)."""
    names = [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
    ]
    return {n: int(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}


def outbox_marks(conn: sqlite3.Connection) -> dict[str, int]:
    """Last outbox seq, row count and the next seq the box would give (gap-free if equal)."""
    last, rows = conn.execute("SELECT coalesce(max(seq), 0), count(*) FROM outbox").fetchone()
    next_seq = conn.execute("SELECT next_seq FROM box_state WHERE id = 1").fetchone()
    return {
        "last_seq": int(last),
        "rows": int(rows),
        "next_seq": int(next_seq[0]) if next_seq else 1,
    }


def audit_report(conn: sqlite3.Connection) -> dict[str, Any]:
    """The box audit chain verified over every stored entry, with its head."""
    cursor = conn.execute(
        "SELECT chain, seq, ts, actor, action, target, severity, details, prev_hash, hash"
        " FROM audit_log ORDER BY seq"
    )
    records = [
        AuditRecord(
            chain=r[0],
            seq=r[1],
            ts=r[2],
            actor=r[3],
            action=r[4],
            target=r[5],
            severity=r[6],
            details=json.loads(r[7]),
            prev_hash=r[8],
            hash=r[9],
        )
        for r in cursor
    ]
    chain = records[0].chain if records else "box:unknown"
    report = verify_chain(chain, records)
    head = records[-1] if records else None
    return {
        "ok": report.ok,
        "entries": len(records),
        "head_seq": None if head is None else head.seq,
        "head_hash": None if head is None else head.hash,
        "problems": report.problems[:5],
    }


def ledger_sums(conn: sqlite3.Connection) -> dict[str, int]:
    """Stock on hand per product as the ledger sums it (milli-units)."""
    rows = conn.execute(
        "SELECT product_id, sum(qty_milli) FROM stock_movements GROUP BY product_id"
    ).fetchall()
    return {str(p): int(q) for p, q in rows}


def facts(path: Path) -> dict[str, Any]:
    """Everything a manifest records and a drill compares, in one read transaction."""
    with contextlib.closing(connect_ro(path)) as conn:
        conn.execute("BEGIN")
        return {
            "integrity": integrity(conn),
            "counts": table_counts(conn),
            "outbox": outbox_marks(conn),
            "audit": audit_report(conn),
            "ledger": ledger_sums(conn),
        }
