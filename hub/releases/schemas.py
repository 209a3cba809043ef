"""Response shapes of the releases API: the source of truth for hub/openapi.yaml."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ArtifactOut(BaseModel):
    """One published artifact and the environment it has reached."""

    name: str
    version: str
    git_sha: str
    git_dirty: bool
    rv_tag: str
    dv_tag: str
    built_for: str
    environment: str
    built_at: str
    checksum: str
    published_by: str
    published_at: str
    prod_at: str | None
    pruned_at: str | None
    wheels: list[str]


class ArtifactList(BaseModel):
    """Every artifact, newest build first."""

    items: list[ArtifactOut]


class SmokeOut(BaseModel):
    """One smoke run stored with an artifact."""

    id: str
    environment: str
    trigger: str
    passed: bool
    summary: dict[str, Any]
    actor: str
    ran_at: str


class PromotionOut(BaseModel):
    """One promotion step."""

    from_env: str
    to_env: str
    actor: str
    reason: str
    at: str
    smoke_run_id: str | None
    decision_id: str | None


class ArtifactDetail(ArtifactOut):
    """An artifact with its smoke runs, promotions and decision ids."""

    smoke_runs: list[SmokeOut]
    promotions: list[PromotionOut]
    decisions: list[str]


class DecisionOut(BaseModel):
    """One entry of the decision log."""

    id: str
    artifact: str
    target: str
    decision: str
    state: str
    reason: str
    change_ref: str
    report: dict[str, Any]
    proposed_by: str
    proposed_at: str
    approved_by: str | None
    approved_at: str | None


class DecisionList(BaseModel):
    """The decision log, newest first."""

    items: list[DecisionOut]


class RolloutBoxOut(BaseModel):
    """One box of a rollout."""

    box_id: str
    branch_id: str
    cohort: str
    state: str
    reason: str | None
    detail: dict[str, Any] | None
    updated_at: str


class RolloutOut(BaseModel):
    """A staged rollout with its boxes."""

    id: str
    artifact: str
    strategy: str
    canary_branches: list[str]
    canary_percent: int | None
    max_failures: int
    state: str
    halted_reason: str | None
    reason: str
    created_by: str
    created_at: str
    updated_at: str
    boxes: list[RolloutBoxOut]
    failed: int


class RolloutList(BaseModel):
    """A tenant's rollouts, newest first."""

    items: list[RolloutOut]
