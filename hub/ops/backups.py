"""Scheduled hub backups with pg_dump and retention (FR-700, NFR-004).

One backup = `pg_dump --format=custom --snapshot=S` of the hub database, where S is a
snapshot exported by a REPEATABLE READ transaction that also counts, in that very snapshot,
what the restore drill later verifies: rows per table, the last event seq per box and the
audit chain heads. The manifest is therefore exact for the dump, however busy the hub is.
Retention keeps the newest `keep` good backups; older files are deleted and marked pruned.
pg_dump runs with the admin (owner) DSN because the app role cannot read across tenants.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import ISOLATION_LEVEL_REPEATABLE_READ

from hub.core.db import platform_tx
from hub.core.models import utcnow
from hub.ops.models import BackupRun
from posdomain.errors import HubReason, PosError

DUMP_TIMEOUT_S = 30 * 60


class BackupFailed(PosError):
    """pg_dump or pg_restore failed (message carries its stderr)."""

    status = 500
    default_reason = HubReason.BACKUP_FAILED


def pg_tool(name: str) -> str:
    """Path of a PostgreSQL client tool (BackupFailed if it is not installed)."""
    found = shutil.which(name)
    if found is None:
        raise BackupFailed(f"{name} not found: install postgresql-client (Debian)")
    return found


def _tables(cur: Any) -> list[str]:
    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [r[0] for r in cur.fetchall()]


def count_manifest(cur: Any) -> dict[str, Any]:
    """Rows per table, last event seq per box and audit chain heads (cursor's snapshot)."""
    counts = {}
    for table in _tables(cur):
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = int(cur.fetchone()[0])
    cur.execute("SELECT box_id, max(seq) FROM ingested_events GROUP BY box_id ORDER BY box_id")
    last_seq = {box: int(seq) for box, seq in cur.fetchall()}
    cur.execute("SELECT chain, max(seq) FROM audit_log GROUP BY chain ORDER BY chain")
    chains = {chain: int(seq) for chain, seq in cur.fetchall()}
    cur.execute("SELECT box_id, tenant_id FROM boxes ORDER BY box_id")
    box_tenants = dict(cur.fetchall())
    return {"counts": counts, "last_seq": last_seq, "chains": chains, "box_tenants": box_tenants}


def _dump(admin_url: str, path: Path) -> tuple[datetime, dict[str, Any]]:
    """pg_dump the database in an exported snapshot; (snapshot time, manifest)."""
    conn = psycopg2.connect(admin_url)
    try:
        conn.set_session(isolation_level=ISOLATION_LEVEL_REPEATABLE_READ, readonly=True)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot(), now()")
            snapshot, taken_at = cur.fetchone()
            manifest = count_manifest(cur)
            argv = [
                pg_tool("pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={path}",
                f"--dbname={admin_url}",
            ]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=DUMP_TIMEOUT_S)
            if done.returncode != 0:
                raise BackupFailed(f"pg_dump failed: {done.stderr.strip()[:500]}")
        conn.commit()
    finally:
        conn.close()
    return taken_at, manifest


def run_backup(admin_url: str, backup_dir: Path, keep: int) -> dict[str, Any]:
    """Take one hub backup, record it, apply retention; the run as JSON."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    run_id = utcnow().strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    path = backup_dir / f"hub-{run_id}.dump"
    with platform_tx():
        run = BackupRun.create(id=run_id, path=str(path), started_at=utcnow())
    try:
        taken_at, manifest = _dump(admin_url, path)
    except (BackupFailed, psycopg2.Error, OSError, subprocess.SubprocessError) as err:
        with platform_tx():
            BackupRun.update(status="failed", error=str(err)[:1000], finished_at=utcnow()).where(
                BackupRun.id == run.id
            ).execute()
        raise BackupFailed(f"backup failed: {err}") from err
    with platform_tx():
        BackupRun.update(
            status="ok",
            finished_at=utcnow(),
            snapshot_at=taken_at,
            size_bytes=path.stat().st_size,
            manifest=manifest,
        ).where(BackupRun.id == run.id).execute()
        pruned = prune(keep)
        run = BackupRun.get_by_id(run.id)
    return {**backup_dict(run), "pruned_ids": pruned}


def prune(keep: int) -> list[str]:
    """Delete the files of good backups beyond the newest `keep` (caller's platform tx)."""
    good = BackupRun.select().where(BackupRun.status == "ok", BackupRun.pruned_at.is_null())
    old = list(good.order_by(BackupRun.snapshot_at.desc()).offset(keep))
    for run in old:
        Path(run.path).unlink(missing_ok=True)
        BackupRun.update(pruned_at=utcnow()).where(BackupRun.id == run.id).execute()
    return [r.id for r in old]


def latest_good() -> BackupRun | None:
    """The newest good, unpruned backup (caller's platform transaction)."""
    row: BackupRun | None = (
        BackupRun.select()
        .where(BackupRun.status == "ok", BackupRun.pruned_at.is_null())
        .order_by(BackupRun.snapshot_at.desc())
        .first()
    )
    return row


def recent_runs(limit: int) -> list[dict[str, Any]]:
    """The newest `limit` backup runs as answers, newest first (its own platform transaction)."""
    with platform_tx():
        rows = list(BackupRun.select().order_by(BackupRun.started_at.desc()).limit(limit))
    return [backup_dict(r) for r in rows]


def backup_dict(run: BackupRun) -> dict[str, Any]:
    """JSON form of a backup run (without the manifest)."""

    def iso(v: datetime | None) -> str | None:
        return v.isoformat() if v else None

    return {
        "id": run.id,
        "kind": run.kind,
        "status": run.status,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "snapshot_at": iso(run.snapshot_at),
        "size_bytes": run.size_bytes,
        "pruned": run.pruned_at is not None,
        "error": run.error,
    }


def restore_into(path: Path, target_url: str) -> None:
    """pg_restore a backup into an existing, empty database (BackupFailed on error)."""
    argv = [pg_tool("pg_restore"), "--exit-on-error", f"--dbname={target_url}", str(path)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=DUMP_TIMEOUT_S)
    if done.returncode != 0:
        raise BackupFailed(f"pg_restore failed: {done.stderr.strip()[:500]}")
