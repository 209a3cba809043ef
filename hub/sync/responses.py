"""Response models of reconciliation and sync health (OpenAPI, hub.core.openapi)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ReconItemOut(BaseModel):
    """A reconciliation-queue item."""

    id: Any
    branch_id: str | None
    box_id: str | None
    event_id: str | None
    sale_id: str | None
    kind: str
    details: dict[str, Any]
    state: str
    created_at: str
    resolved_by: str | None
    resolved_at: str | None
    resolution_note: str | None


class HealthOut(BaseModel):
    """Sync health of one box (REP-O-08)."""

    box_id: str
    branch_id: str
    name: str
    status: str
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
    refused: int | None = None
    refused_sales: int | None = None
