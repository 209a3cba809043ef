"""Response models of the pricing API (OpenAPI, hub.core.openapi)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class PolicyWireOut(BaseModel):
    """A signed policy as boxes receive it (CONTRACT `policy`)."""

    policy_id: str
    policy_version: int = Field(alias="policyVersion")
    kind: str
    target: dict[str, Any]
    params: dict[str, Any]
    effective_from: str = Field(alias="effectiveFrom")
    effective_to: str | None = Field(alias="effectiveTo")
    signature: str


class PolicyRowOut(BaseModel):
    """One stored policy version."""

    policy: PolicyWireOut
    key_id: str
    status: str
    reason: str
    created_at: str
    created_by: str


class PolicyPreviewOut(BaseModel):
    """Policies that execute at `at` (null: now)."""

    at: str | None
    policies: list[PolicyWireOut]


class PreviewLineOut(BaseModel):
    """A priced basket line."""

    line_id: str
    product_id: str
    name: str
    qty: str
    unit_price: str
    extended: str
    line_total: str
    tax: str
    tax_class: str
    tax_rate: str
    taxes: list[dict[str, Any]] = []
    discounts: list[dict[str, Any]]


class BasketPreviewOut(BaseModel):
    """A priced and taxed basket (nothing written)."""

    at: str
    branch_id: str | None
    price_list: str
    lines: list[PreviewLineOut]
    applied_policies: list[dict[str, Any]]
    subtotal: str
    discount_total: str
    tax_total: str
    tax_breakdown: list[dict[str, Any]]
    cash_rounding: str
    total: str
    payable: str
