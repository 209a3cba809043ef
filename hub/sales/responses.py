"""Response models of the sales read side (OpenAPI, hub.core.openapi)."""

from __future__ import annotations

from pydantic import BaseModel


class SaleOut(BaseModel):
    """A sale header (money as decimal strings)."""

    sale_id: str
    branch_id: str
    box_id: str
    receipt_no: int
    cashier_name: str
    currency: str
    subtotal: str
    tax_total: str
    total: str
    completed_at: str
    received_at: str
    late_synced: bool
    correlation_id: str


class SaleLineOut(BaseModel):
    """One line of a sale."""

    line_no: int
    sku: str
    name: str
    qty: str
    unit_price: str
    line_total: str
    tax_class: str


class SaleDetailOut(SaleOut):
    """A sale with its lines."""

    lines: list[SaleLineOut]


class BranchOut(BaseModel):
    """A branch of the tenant."""

    id: str
    name: str
    timezone: str | None


class BoxOut(BaseModel):
    """A box's health summary."""

    box_id: str
    branch_id: str
    name: str
    status: str
    last_seen_at: str | None
    last_contiguous_seq: int
