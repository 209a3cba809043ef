"""Response models of config, flags, brand and audit (OpenAPI, hub.core.openapi)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ConfigVersionOut(BaseModel):
    """One version of a config document."""

    kind: str
    branch_id: str | None
    version: int
    body: dict[str, Any]
    actor: str
    reason: str
    created_at: str
    change_id: str | None = None


class RuleChangeOut(BaseModel):
    """One entry of the business-rule decision log (FR-901)."""

    id: str
    seq: int
    kind: str
    operation: str
    target: str
    branch_id: str | None
    payload: dict[str, Any]
    reason: str
    impact: str
    change_ref: str
    state: str
    proposed_by: str
    proposed_at: str
    decided_by: str | None
    decided_at: str | None
    effective_at: str | None
    bootstrap: bool
    note: str
    result: dict[str, Any] | None


class FlagOut(BaseModel):
    """A feature flag (fields past `version` only once it was ever set)."""

    name: str
    enabled: bool
    version: int
    change_ticket: str | None = None
    emergency: bool = False
    backfill_required: bool = False
    updated_by: str | None = None
    updated_at: str | None = None


class BrandOut(BaseModel):
    """What screens and receipts show of the tenant's brand."""

    store_name: str
    receipt_header: str
    receipt_footer: str
    primary_color: str
    logo_text: str


class AuditEntryOut(BaseModel):
    """One hash-chained audit entry."""

    chain: str
    seq: int
    ts: str
    actor: str
    action: str
    target: str
    severity: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPageOut(BaseModel):
    """One page of a chain, newest first."""

    chain: str
    page: int
    page_size: int
    total: int
    items: list[AuditEntryOut]


class ChainVerdictOut(BaseModel):
    """Whether one chain verifies (branch readers get the verdict fields only)."""

    chain: str
    ok: bool
    entries: int
    first_bad_seq: int | None
    head_hash: str | None = None
    problems: list[dict[str, Any]] | None = None
    box_id: str | None = None
    # a box's entries above its contiguous event seq (a later batch landed first): not judged
    held_above_gap: int | None = None


class IntegrityOut(BaseModel):
    """Integrity of every chain visible to the caller, and the write lock."""

    locked: bool
    chains: list[ChainVerdictOut]
    startup_breaks: list[dict[str, Any]]
    box_chains: list[ChainVerdictOut]
