"""Response shapes of the incidents API: the source of truth for hub/openapi.yaml."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Evidence(BaseModel):
    """The hub audit entry that evidences a step."""

    chain: str | None
    seq: int | None
    hash: str | None


class StepOut(BaseModel):
    """One lifecycle step."""

    step: str
    actor: str
    at: str
    details: dict[str, Any]
    evidence: Evidence


class IncidentOut(BaseModel):
    """One incident."""

    id: str
    title: str
    state: str
    severity: str | None
    module: str | None
    scope_kind: str | None
    scope_id: str | None
    branch_id: str | None
    source: str
    alert_id: str | None
    detected_at: str
    detected_by: str
    classified_at: str | None
    classified_by: str | None
    first_response_at: str | None
    resolved_at: str | None
    resolved_by: str | None
    root_cause: str | None
    verification: str | None


class IncidentDetail(IncidentOut):
    """One incident with its steps."""

    steps: list[StepOut]


class IncidentStats(BaseModel):
    """MTTA and MTTR (seconds) and counts per state."""

    mtta_seconds: float | None
    mttr_seconds: float | None
    by_state: dict[str, int]


class IncidentPage(BaseModel):
    """One page of incidents with the tenant's figures."""

    items: list[IncidentOut]
    page: int
    page_size: int
    total: int
    pages: int
    stats: IncidentStats
