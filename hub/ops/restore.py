"""`python -m hub restore`: replace the hub database with a backup, then ask boxes to resend.

The target database is dropped (sessions forced out) and recreated from the backup with
pg_restore. The restored hub's per-box high-water marks are the backup's; the hub records
them and publishes the `resend` request (hub.sync.resend) so every box republishes what it
kept above them: completed sales of the hub's lost minutes come back (NFR-004).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from hub.core.db import platform_tx
from hub.ops.backups import latest_good, restore_into
from hub.ops.models import BackupRun
from hub.ops.restore_drill import recreate_database
from posdomain.errors import HubReason, NotFound


def pick_backup(backup_id: str | None) -> tuple[str, Path]:
    """(id, file) of the named backup, or of the newest good one (NotFound NO_BACKUP)."""
    with platform_tx():
        run = (
            latest_good() if backup_id is None else BackupRun.get_or_none(BackupRun.id == backup_id)
        )
    if run is None or run.status != "ok" or not Path(run.path).exists():
        raise NotFound("no such usable backup", HubReason.NO_BACKUP)
    return run.id, Path(run.path)


def restore_database(admin_url: str, path: Path) -> dict[str, Any]:
    """Drop and recreate the admin URL's database from a backup file."""
    name = urlparse(admin_url).path.lstrip("/")
    recreate_database(admin_url, name)
    restore_into(path, admin_url)
    return {"database": name, "backup_file": str(path)}
