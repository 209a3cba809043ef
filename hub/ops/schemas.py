"""Response shapes of the fleet, backup and drill API: the source of truth for openapi.yaml."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from hub.alerting.schemas import AlertOut


class FleetBox(BaseModel):
    """One enrolled box: state, sync position, telemetry."""

    box_id: str
    branch_id: str
    name: str
    status: str
    state: str
    state_since: str
    state_for_s: float
    online: bool | None
    last_seen_at: str | None
    heartbeat_at: str | None
    last_contiguous_seq: int
    max_seq_seen: int
    outbox_depth: int | None
    oldest_unsynced_age_s: float | None
    clock_skew_s: float | None
    late_events: int
    open_conflicts: int
    version: str | None
    print_queue: int | None
    print_failed: int | None
    print_oldest_at: str | None
    disk_free_bytes: int | None
    disk_total_bytes: int | None
    devices: dict[str, str] | None
    refused: int | None = None
    refused_sales: int | None = None


class FleetBranch(BaseModel):
    """One branch of the fleet view."""

    branch_id: str
    name: str
    boxes: list[FleetBox]
    online: int
    offline: int
    silent: int
    offline_branch: bool
    max_sync_lag_s: float | None
    outbox_depth: int
    refused_sales: int = 0


class FleetOut(BaseModel):
    """Branches with their boxes, totals and the live alert feed."""

    branches: list[FleetBranch]
    alerts: list[AlertOut]
    totals: dict[str, int]


class BranchDetailOut(BaseModel):
    """One branch with all its alerts."""

    branch: FleetBranch
    alerts: list[AlertOut]


class BackupOut(BaseModel):
    """One hub backup run."""

    id: str
    kind: str
    status: str
    started_at: str | None
    finished_at: str | None
    snapshot_at: str | None
    size_bytes: int | None
    pruned: bool
    error: str | None
    pruned_ids: list[str] = []


class BackupList(BaseModel):
    """Backup runs, newest first."""

    items: list[BackupOut]


class DrillOut(BaseModel):
    """One restore drill report (tenant readers: their part of the checks)."""

    id: str
    backup_id: str
    started_at: str
    finished_at: str
    rto_seconds: float
    rto_target_seconds: int
    rpo_seconds: float
    rpo_target_seconds: int
    ok: bool
    report: dict[str, Any]


class DrillList(BaseModel):
    """Drills, newest first."""

    items: list[DrillOut]
