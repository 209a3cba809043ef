"""Backup and drill as audited jobs, and the schedule the sync process runs them on."""

from __future__ import annotations

import logging
import threading
from typing import Any

from appliance.audit import log as audit_log
from appliance.core.context import BoxContext
from appliance.core.db import database
from appliance.ops import backups, drill
from posdomain.audit_chain import Severity
from posdomain.obs import log_event

log = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 60.0


def backup_now(ctx: BoxContext) -> dict[str, Any]:
    """Take one backup and audit it (the caller holds a database connection)."""
    info = backups.run_backup(ctx.config)
    manifest = info.manifest
    summary = {
        "file": info.path.name,
        "created_at": info.created_at,
        "bytes": manifest["bytes"],
        "sha256": manifest["sha256"],
        "last_seq": manifest["outbox"]["last_seq"],
        "rows": sum(manifest["counts"].values()),
    }
    audit_log.append_now(
        ctx, actor="system", action="box.backup", target=info.path.name, details=summary
    )
    return summary


def drill_now(ctx: BoxContext) -> dict[str, Any]:
    """Run the restore drill on the newest backup and audit its outcome."""
    report = drill.restore_drill(ctx.config)
    failed = [c["check"] for c in report["checks"] if not c["ok"]]
    audit_log.append_now(
        ctx,
        actor="system",
        action="box.restore_drill",
        target=str(report.get("backup", "")),
        severity=Severity.INFO if report["ok"] else Severity.CRITICAL,
        details={
            "ok": report["ok"],
            "rto_seconds": report.get("rto_seconds"),
            "rpo_seconds": report.get("rpo_seconds"),
            "failed": failed or report.get("error"),
        },
    )
    return report


class BackupSchedule(threading.Thread):
    """Backs the box up whenever the newest backup is older than the interval."""

    def __init__(self, ctx: BoxContext, stop_event: threading.Event) -> None:
        super().__init__(name="box-backups", daemon=True)
        self.ctx = ctx
        self.stop_event = stop_event

    def run(self) -> None:
        """Check once a minute until stopped; a failed backup is logged and tried again."""
        while not self.stop_event.is_set():
            if backups.due(self.ctx.config):
                try:
                    with database.connection_context():
                        backup_now(self.ctx)
                except backups.BackupError as err:
                    log_event(log, "box backup failed", logging.ERROR, error=str(err))
            self.stop_event.wait(CHECK_EVERY_SECONDS)
