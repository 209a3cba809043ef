"""Response shapes of the risk API: the source of truth for hub/openapi.yaml."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from posdomain.contract import RiskModeState


class RiskModeOut(BaseModel):
    """One risk-mode change."""

    id: str
    scope: str
    scope_id: str
    mode: str
    reason: str
    expires_at: str | None
    set_by: str
    set_at: str


class RiskOverview(BaseModel):
    """Modes in force, recent changes and whether the tenant enforces them."""

    enforced: bool
    in_force: list[RiskModeOut]
    recent: list[RiskModeOut]


class RiskScoreOut(BaseModel):
    """The latest score of one subject and the rules that fired with their figures."""

    subject_kind: str
    subject_id: str
    score: int
    fired: list[dict[str, Any]]
    figures: dict[str, str]
    rules_version: int
    window_start: str
    window_end: str
    computed_at: str


class ScoreList(BaseModel):
    """Scores, highest first."""

    items: list[RiskScoreOut]


class RecomputeOut(BaseModel):
    """What one scoring pass did."""

    subjects: int
    alerts: int
    rules_version: int


class BoxModeOut(BaseModel):
    """The mode in force for one box (what its `risk` down message carries)."""

    box_id: str
    mode_state: RiskModeState
