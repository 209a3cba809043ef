"""SQL of the device tables (print_jobs, device_status, scan_events, drawer_log)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from appliance.core.db import database, write_txn
from appliance.migrations import run_sql

SERVICE_ROW = "_service"
SERVICE_FRESH = timedelta(seconds=10)
SCANS_KEPT = 500


def now_iso(delta_s: float = 0.0) -> str:
    """UTC ISO timestamp, optionally shifted."""
    return (datetime.now(UTC) + timedelta(seconds=delta_s)).isoformat()


def _rows(sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    cursor = run_sql(database.obj, sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def enqueue_job(ref: str, copy_no: int, kind: str, payload: str) -> dict[str, Any]:
    """Insert a print job once per (ref, copy_no); return the stored row."""
    stamp = now_iso()
    with write_txn():
        run_sql(
            database.obj,
            "INSERT OR IGNORE INTO print_jobs (ref, copy_no, kind, payload, next_attempt_at,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ref, copy_no, kind, payload, stamp, stamp, stamp),
        )
    return _rows("SELECT * FROM print_jobs WHERE ref = ? AND copy_no = ?", (ref, copy_no))[0]


def next_copy_no(ref: str) -> int:
    """The copy number a reprint of `ref` gets (the original is 0)."""
    rows = _rows("SELECT max(copy_no) AS n FROM print_jobs WHERE ref = ?", (ref,))
    current = rows[0]["n"]
    return 0 if current is None else int(current) + 1


def claim_due_job() -> dict[str, Any] | None:
    """Take the oldest due queued job and mark it printing (one write transaction)."""
    stamp = now_iso()
    with write_txn():
        rows = _rows(
            "SELECT * FROM print_jobs WHERE state = 'queued' AND next_attempt_at <= ?"
            " ORDER BY id LIMIT 1",
            (stamp,),
        )
        if not rows:
            return None
        run_sql(
            database.obj,
            "UPDATE print_jobs SET state = 'printing', attempts = attempts + 1, updated_at = ?"
            " WHERE id = ?",
            (stamp, rows[0]["id"]),
        )
    job = rows[0]
    job["attempts"] += 1
    return job


def settle_job(job_id: int, state: str, error: str | None, retry_in: float = 0.0) -> None:
    """Record a job's outcome: done, failed, or back to queued after `retry_in` seconds."""
    with write_txn():
        run_sql(
            database.obj,
            "UPDATE print_jobs SET state = ?, last_error = ?, next_attempt_at = ?,"
            " updated_at = ? WHERE id = ?",
            (state, error, now_iso(retry_in), now_iso(), job_id),
        )


def requeue_interrupted() -> int:
    """Jobs left 'printing' by a crash go back to the queue (a receipt twice beats none)."""
    with write_txn():
        cursor = run_sql(
            database.obj,
            "UPDATE print_jobs SET state = 'queued', last_error = 'interrupted' "
            "WHERE state = 'printing'",
        )
    return int(cursor.rowcount)


def jobs_for(ref: str) -> list[dict[str, Any]]:
    """Every print job of one receipt (original and copies), without payloads."""
    return _rows(
        "SELECT id, ref, copy_no, kind, state, attempts, last_error, updated_at"
        " FROM print_jobs WHERE ref = ? ORDER BY copy_no",
        (ref,),
    )


def recent_jobs(limit: int = 20) -> list[dict[str, Any]]:
    """The newest print jobs, for the hardware page."""
    return _rows(
        "SELECT id, ref, copy_no, kind, state, attempts, last_error, updated_at"
        " FROM print_jobs ORDER BY id DESC LIMIT ?",
        (limit,),
    )


def queue_depth() -> int:
    """Jobs waiting or printing."""
    rows = _rows("SELECT count(*) AS n FROM print_jobs WHERE state IN ('queued', 'printing')")
    return int(rows[0]["n"])


def save_status(report: dict[str, Any]) -> None:
    """Upsert one device's report (written by the device service only)."""
    last_seen = report.get("last_seen")
    seen = datetime.fromtimestamp(last_seen, UTC).isoformat() if last_seen else None
    with write_txn():
        run_sql(
            database.obj,
            "INSERT INTO device_status (name, kind, path, state, online, detail, last_error,"
            " last_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, path = excluded.path,"
            " state = excluded.state, online = excluded.online, detail = excluded.detail,"
            " last_error = excluded.last_error,"
            " last_seen = coalesce(excluded.last_seen, device_status.last_seen),"
            " updated_at = excluded.updated_at",
            (
                report["name"],
                report["kind"],
                report.get("path", ""),
                report["state"],
                int(bool(report["online"])),
                report.get("detail", ""),
                report.get("last_error", ""),
                seen,
                now_iso(),
            ),
        )


def service_alive() -> bool:
    """True if the device service wrote its heartbeat row recently."""
    rows = _rows("SELECT updated_at FROM device_status WHERE name = ?", (SERVICE_ROW,))
    if not rows:
        return False
    return datetime.now(UTC) - datetime.fromisoformat(rows[0]["updated_at"]) <= SERVICE_FRESH


def device_rows() -> list[dict[str, Any]]:
    """Every device's stored report (without the service heartbeat row)."""
    return _rows(
        "SELECT name, kind, path, state, online, detail, last_error, last_seen, updated_at"
        " FROM device_status WHERE name != ? ORDER BY name",
        (SERVICE_ROW,),
    )


def add_scan(code: str, source: str) -> int:
    """Store a scan for the cashier screen's event stream; keep only the newest few."""
    with write_txn():
        cursor = run_sql(
            database.obj,
            "INSERT INTO scan_events (code, source, created_at) VALUES (?, ?, ?)",
            (code, source, now_iso()),
        )
        scan_id = int(cursor.lastrowid)
        run_sql(database.obj, "DELETE FROM scan_events WHERE id <= ?", (scan_id - SCANS_KEPT,))
    return scan_id


def log_drawer(ref: str, reason: str, ok: bool, error: str = "") -> None:
    """Record what happened to a kick when it was asked for (never replayed)."""
    with write_txn():
        run_sql(
            database.obj,
            "INSERT INTO drawer_log (ref, reason, ok, error, at) VALUES (?, ?, ?, ?, ?)",
            (ref, reason, int(ok), error, now_iso()),
        )


def drawer_result(ref: str) -> dict[str, Any] | None:
    """The latest kick outcome for a reference (a sale id)."""
    rows = _rows(
        "SELECT ok, error, reason, at FROM drawer_log WHERE ref = ? ORDER BY id DESC LIMIT 1",
        (ref,),
    )
    if not rows:
        return None
    return {**rows[0], "ok": bool(rows[0]["ok"])}


class ScanTail:
    """Reads new scans through its own read-only connection (never takes the write lock)."""

    def __init__(self, db_path: str | Path) -> None:
        uri = f"file:{Path(db_path).resolve()}?mode=ro"
        self._conn = sqlite3.connect(uri, uri=True, timeout=5, check_same_thread=False)

    def last_id(self) -> int:
        """The newest scan id (0 if none)."""
        row = self._conn.execute("SELECT coalesce(max(id), 0) FROM scan_events").fetchone()
        return int(row[0])

    def after(self, last_id: int) -> list[tuple[int, str]]:
        """Scans newer than `last_id`, oldest first."""
        cursor = self._conn.execute(
            "SELECT id, code FROM scan_events WHERE id > ? ORDER BY id LIMIT 50", (last_id,)
        )
        return [(int(i), str(c)) for i, c in cursor.fetchall()]

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def queue_facts() -> dict[str, Any]:
    """Print queue telemetry: jobs waiting, jobs failed, the oldest waiting job's time."""
    rows = _rows(
        "SELECT sum(state IN ('queued', 'printing')) AS waiting, sum(state = 'failed') AS failed,"
        " min(CASE WHEN state IN ('queued', 'printing') THEN created_at END) AS oldest"
        " FROM print_jobs"
    )
    row = rows[0]
    return {
        "print_queue": int(row["waiting"] or 0),
        "print_failed": int(row["failed"] or 0),
        "print_oldest_at": row["oldest"],
    }
