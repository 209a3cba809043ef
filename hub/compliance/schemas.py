"""Request and response models of the compliance API (the OpenAPI source)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class HoldOut(BaseModel):
    """A legal hold; `live` until released."""

    id: str
    scope: str
    target: str | None
    target_name: str | None = None  # the branch's or customer's name
    starts_at: str | None
    ends_at: str | None
    reason: str
    created_by: str
    created_at: str
    released_at: str | None
    released_by: str | None
    live: bool


class HoldList(BaseModel):
    """The tenant's legal holds."""

    items: list[HoldOut]


class HoldQuery(BaseModel):
    """?live=true lists only holds not released."""

    live: bool = False


class ErasureIn(BaseModel):
    """Body of a customer erasure: why (the customer's request, a ticket)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=300)


class ErasureOut(BaseModel):
    """What an erasure removed and what it kept under which rule."""

    id: str
    customer_id: str
    erased_by: str
    erased_at: str
    erased: dict[str, Any]
    kept: dict[str, Any]


class PiiExportOut(BaseModel):
    """Everything the hub holds about one customer."""

    customer: dict[str, Any]
    purchases: list[dict[str, Any]]
    points_ledger: list[dict[str, Any]]
    tier_changes: list[dict[str, Any]]
    legal_holds: list[HoldOut]
    erasure: ErasureOut | None
    exported_at: str


class PolicyOut(BaseModel):
    """The retention in force for one data class."""

    data_class: str
    keep_days: int
    floor_days: int
    purged: bool
    what: str  # what the purge deletes, or why the class is never purged
    reason: str
    updated_by: str | None


class PolicyList(BaseModel):
    """Every data class's retention."""

    items: list[PolicyOut]


class PurgeIn(BaseModel):
    """Body of a purge run now."""

    model_config = ConfigDict(extra="forbid")

    data_class: str = Field(min_length=1, max_length=40)


class PurgeOut(BaseModel):
    """What one purge deleted and what legal holds kept."""

    id: str
    data_class: str
    cutoff: str
    deleted: int
    kept_by_holds: int
    holds: list[str]
    actor: str
    finished_at: str
