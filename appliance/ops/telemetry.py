"""What the box reports about itself (FR-500): outbox, print queue, disk, version.

Read at the moment of asking (heartbeat, `/metrics`), from the box database and the file
system; a leaf of the ops area (models-level reads only), so the sync agent and the metrics
view both use it without a cycle.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, cast

from appliance.core.db import database
from appliance.devices import store
from appliance.sync import outbox
from firmware_config.schema import BoxConfig

DIST = "cosmic-forge-pos"


def software_version() -> str:
    """The installed box software version (≤ 40 characters, as the hub stores it)."""
    try:
        return metadata.version(DIST)[:40]
    except metadata.PackageNotFoundError:
        return "unknown"


def oldest_unsynced_at() -> str | None:
    """When the oldest event still waiting for the hub's ack was written (None if none).

    Refused events are not waiting (the hub answered them; they show apart on the till).
    Reads the first row of the partial index `outbox_unacked` (seq order = creation order).
    """
    cursor = cast(Any, database).execute_sql(
        "SELECT created_at FROM outbox WHERE acked_at IS NULL AND refused_at IS NULL"
        " ORDER BY seq LIMIT 1"
    )
    row = cursor.fetchone()
    return None if row is None else str(row[0])


def age_seconds(stamp: str | None, now: datetime | None = None) -> float | None:
    """Seconds since an ISO timestamp (None stays None; never negative)."""
    if stamp is None:
        return None
    moment = now or datetime.now(UTC)
    return max(0.0, (moment - datetime.fromisoformat(stamp)).total_seconds())


def disk(config: BoxConfig) -> dict[str, int]:
    """Free and total bytes of the file system holding the box database."""
    folder = Path(config.database_path).resolve().parent
    usage = shutil.disk_usage(folder if folder.exists() else Path.cwd())
    return {"disk_free_bytes": int(usage.free), "disk_total_bytes": int(usage.total)}


def heartbeat_fields(config: BoxConfig) -> dict[str, Any]:
    """The optional FR-500 heartbeat fields (docs/operations.md "What the box must do")."""
    fields: dict[str, Any] = {
        "version": software_version(),
        "oldest_unsynced_at": oldest_unsynced_at(),
        "queued": outbox.queued_count(),
        # refused by the hub and not yet settled (resolved there or acknowledged here)
        "refused": outbox.refused_count(),
        "refused_sales": outbox.refused_sales_count(),
    }
    fields.update(store.queue_facts())
    fields.update(disk(config))
    return fields
