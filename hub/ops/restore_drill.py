"""`python -m hub restore-drill` (FR-700, NFR-004): restore the latest backup, prove it, time it.

The drill creates a scratch database next to the hub's, pg_restores the newest good backup
into it, runs every check of hub.ops.drill_checks, drops the scratch database and stores the
report (`restore_drills`). RTO is measured from the start of the restore to the end of the
checks (what a real restore followed by its verification takes); RPO is the age of the
restored snapshot at drill time (what a hub lost now would lose, before the boxes resend).
A failed check or a figure over its target (CFPOS_RTO_TARGET_SECONDS, default 30 min;
CFPOS_RPO_TARGET_SECONDS, default 15 min) makes the drill not ok, which the alert rule
RESTORE_DRILL_OVER_TARGET reports.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import psycopg2
from psycopg2 import sql

from hub.core.db import platform_tx
from hub.core.models import utcnow
from hub.ops import drill_checks
from hub.ops.backups import latest_good, restore_into
from hub.ops.models import BackupRun, RestoreDrill
from posdomain.errors import HubReason, NotFound


def database_url(url: str, name: str) -> str:
    """`url` pointing at another database of the same server."""
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def _admin(url: str, statement: sql.Composable) -> None:
    conn = psycopg2.connect(database_url(url, "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def recreate_database(admin_url: str, name: str) -> None:
    """Drop (forcing out sessions) and create an empty database on the admin URL's server."""
    _admin(
        admin_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )
    _admin(admin_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin_url: str, name: str) -> None:
    """Drop a database if it exists."""
    _admin(
        admin_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


def _checks(scratch_url: str, manifest: dict[str, Any]) -> dict[str, Any]:
    conn = psycopg2.connect(scratch_url)
    try:
        with conn.cursor() as cur:
            return {
                "row_counts": drill_checks.check_counts(cur, manifest),
                "audit_chains": drill_checks.check_chains(cur, manifest["box_tenants"]),
                "ledger": drill_checks.check_ledger(cur),
                "last_events": drill_checks.check_last_events(cur, manifest),
            }
    finally:
        conn.close()


def _latest() -> BackupRun:
    with platform_tx():
        backup = latest_good()
    if backup is None:
        raise NotFound("no good hub backup to drill: run python -m hub backup", HubReason.NO_BACKUP)
    return backup


def restore_drill(admin_url: str, rto_target_s: int, rpo_target_s: int) -> dict[str, Any]:
    """Restore the newest backup into a scratch database, verify it, store the report."""
    backup = _latest()
    scratch = f"{urlparse(admin_url).path.lstrip('/')}_drill_{uuid.uuid4().hex[:8]}"
    started, t0 = utcnow(), time.perf_counter()
    recreate_database(admin_url, scratch)
    try:
        restore_into(Path(backup.path), database_url(admin_url, scratch))
        checks = _checks(database_url(admin_url, scratch), backup.manifest)
        rto = time.perf_counter() - t0
    finally:
        drop_database(admin_url, scratch)
    finished = utcnow()
    rpo = (finished - backup.snapshot_at).total_seconds()
    ok = all(c["ok"] for c in checks.values()) and rto <= rto_target_s and rpo <= rpo_target_s
    report = {
        "backup_id": backup.id,
        "snapshot_at": backup.snapshot_at.isoformat(),
        "scratch_database": scratch,
        "checks": checks,
    }
    with platform_tx():
        drill = RestoreDrill.create(
            id=uuid.uuid4().hex,
            backup_id=backup.id,
            started_at=started,
            finished_at=finished,
            rto_seconds=rto,
            rpo_seconds=rpo,
            rto_target_seconds=rto_target_s,
            rpo_target_seconds=rpo_target_s,
            ok=ok,
            report=report,
        )
    return drill_dict(drill, None)


def _for_tenant(checks: dict[str, Any], tenant_id: str) -> dict[str, Any]:
    """Only what concerns one tenant: verdicts, its chains, its boxes (no other tenant's ids)."""
    chains = [c for c in checks["audit_chains"]["chains"] if c["tenant_id"] == tenant_id]
    boxes = [b for b in checks["last_events"]["boxes"] if b["tenant_id"] == tenant_id]
    return {
        "row_counts": {"ok": checks["row_counts"]["ok"]},
        "audit_chains": {"ok": all(c["ok"] for c in chains), "chains": chains},
        "ledger": {
            "ok": not [m for m in checks["ledger"]["mismatches"] if m["tenant_id"] == tenant_id]
        },
        "last_events": {"ok": checks["last_events"]["ok"], "boxes": boxes},
    }


def drill_dict(drill: RestoreDrill, tenant_id: str | None) -> dict[str, Any]:
    """JSON form of a drill; for a tenant reader only that tenant's part of the checks."""
    report = dict(drill.report)
    if tenant_id is not None:
        report = {**report, "checks": _for_tenant(report["checks"], tenant_id)}
        report.pop("scratch_database", None)
    return {
        "id": drill.id,
        "backup_id": drill.backup_id,
        "started_at": drill.started_at.isoformat(),
        "finished_at": drill.finished_at.isoformat(),
        "rto_seconds": round(drill.rto_seconds, 3),
        "rto_target_seconds": drill.rto_target_seconds,
        "rpo_seconds": round(drill.rpo_seconds, 3),
        "rpo_target_seconds": drill.rpo_target_seconds,
        "ok": bool(drill.ok),
        "report": report,
    }


def list_drills(tenant_id: str | None, limit: int = 20) -> list[dict[str, Any]]:
    """The newest drills (tenant readers see their part only)."""
    with platform_tx():
        rows = list(RestoreDrill.select().order_by(RestoreDrill.finished_at.desc()).limit(limit))
    return [drill_dict(d, tenant_id) for d in rows]
