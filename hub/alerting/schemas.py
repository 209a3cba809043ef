"""Response shapes of the alerting API: the source of truth for hub/openapi.yaml."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Severity = Literal["INFO", "WARN", "CRITICAL"]


class AlertOut(BaseModel):
    """One alert episode."""

    id: str
    rule: str = Field(examples=["BOX_OFFLINE"])
    key: str
    severity: Severity
    state: Literal["OPEN", "ACKED", "RESOLVED"]
    branch_id: str | None
    box_id: str | None
    summary: str
    details: dict[str, Any]
    suppressed: bool
    opened_at: str
    acked_at: str | None
    acked_by: str | None
    resolved_at: str | None
    resolved_by: str | None


class AlertPage(BaseModel):
    """One page of alerts."""

    items: list[AlertOut]
    page: int
    page_size: int
    total: int
    pages: int


class ChannelOut(BaseModel):
    """An alert channel (`secret` only in the answer that created a webhook channel)."""

    id: str
    name: str
    kind: Literal["webhook", "email", "log"]
    target: str
    severities: list[Severity]
    enabled: bool
    created_by: str
    created_at: str
    secret: str | None = None


class ChannelList(BaseModel):
    """Every channel of the tenant."""

    items: list[ChannelOut]


class EnabledIn(BaseModel):
    """Body of a channel enable/disable."""

    model_config = {"extra": "forbid"}

    enabled: bool
