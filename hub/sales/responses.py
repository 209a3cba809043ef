"""Response models of the sales read side (OpenAPI, hub.core.openapi)."""

from __future__ import annotations

from pydantic import BaseModel

from hub.compliance.schemas import HoldOut


class VoidOut(BaseModel):
    """The post-void of a sale: who voided it, who approved, why and when."""

    voided_at: str
    cashier_id: str
    approver_id: str
    reason_code: str


class RefundOut(BaseModel):
    """A refund document from a box (money negative, decimal strings)."""

    refund_id: str
    branch_id: str
    box_id: str
    receipt_no: int
    sale_id: str | None
    original_receipt_no: int | None
    with_receipt: bool
    cashier_id: str
    approver_id: str
    reason_code: str
    currency: str
    tax_total: str
    total: str
    cash_rounding: str
    completed_at: str


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
    voided: bool
    void: VoidOut | None
    refunded: str


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
    """A sale with its lines and its refunds."""

    lines: list[SaleLineOut]
    refunds: list[RefundOut]
    legal_holds: list[HoldOut] = []  # live holds covering this sale (FR-P7-1015)


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
