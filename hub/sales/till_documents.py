"""Apply the box's till-document events (FR-300, REP-T-04/12/13) inside the ingest batch:
`refund.completed`, `sale.voided` and `shift.closed` (payloads: docs/CONTRACT.md).

Tenant, branch and box come from the enrolled box, never the payload. Each event is applied
once (ingested_events); stock for refunds and voids arrives as the box's own
`stock.movement` events (kind `refund`), so nothing here touches the ledger.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.identity.models import Box
from hub.sales.models import BoxRefund, HubSaleVoid, ShiftReport
from posdomain.contract import EventType
from posdomain.envelope import EventEnvelope
from posdomain.errors import Reason, ValidationError
from posdomain.money import parse_minor


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class RefundIn(_Wire):
    """refund.completed payload."""

    refund_id: str = Field(min_length=1, max_length=64)
    receipt_no: int = Field(ge=1)
    sale_id: str | None = Field(default=None, max_length=64)
    original_receipt_no: int | None = None
    with_receipt: bool
    cashier_id: str
    approver_id: str
    reason_code: str = Field(max_length=40)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    exponent: int = Field(ge=0, le=3)
    lines: list[dict[str, Any]] = Field(min_length=1)
    tax_total: str
    total: str
    cash_rounding: str
    tenders: list[dict[str, Any]] = Field(min_length=1)
    completed_at: datetime


class VoidIn(_Wire):
    """sale.voided payload."""

    sale_id: str = Field(min_length=1, max_length=64)
    receipt_no: int
    cashier_id: str
    approver_id: str
    reason_code: str = Field(max_length=40)
    exponent: int = Field(default=2, ge=0, le=3)
    total: str
    voided_at: datetime


class ShiftClosedIn(_Wire):
    """shift.closed payload (the Z report body)."""

    shift_id: str = Field(min_length=1, max_length=64)
    z_no: int = Field(ge=1)
    till: str
    cashier_id: str
    opened_at: datetime
    as_of: datetime
    net_total_minor: int


def _ids(box: Box, ev: EventEnvelope) -> dict[str, str]:
    return {
        "tenant_id": box.tenant_id,
        "branch_id": box.branch_id,
        "box_id": box.box_id,
        "event_id": str(ev.event_id),
    }


def _refund(box: Box, ev: EventEnvelope) -> None:
    body = RefundIn.model_validate(ev.payload)
    exp = body.exponent
    total = parse_minor(body.total, exp, "total")
    if total > 0:
        raise ValidationError("a refund total is never positive", Reason.MALFORMED_MESSAGE)
    BoxRefund.create(
        id=body.refund_id,
        **_ids(box, ev),
        receipt_no=body.receipt_no,
        sale_id=body.sale_id,
        original_receipt_no=body.original_receipt_no,
        with_receipt=body.with_receipt,
        cashier_id=body.cashier_id,
        approver_id=body.approver_id,
        reason_code=body.reason_code,
        currency=body.currency,
        exponent=exp,
        total_minor=total,
        tax_minor=parse_minor(body.tax_total, exp, "tax_total"),
        cash_rounding_minor=parse_minor(body.cash_rounding, exp, "cash_rounding"),
        tenders=body.tenders,
        lines=body.lines,
        completed_at=body.completed_at,
    )


def _void(box: Box, ev: EventEnvelope) -> None:
    body = VoidIn.model_validate(ev.payload)
    HubSaleVoid.create(
        sale_id=body.sale_id,
        **_ids(box, ev),
        receipt_no=body.receipt_no,
        cashier_id=body.cashier_id,
        approver_id=body.approver_id,
        reason_code=body.reason_code,
        total_minor=parse_minor(body.total, body.exponent, "total"),
        voided_at=body.voided_at,
    )


def _shift(box: Box, ev: EventEnvelope) -> None:
    body = ShiftClosedIn.model_validate(ev.payload)
    ShiftReport.create(
        shift_id=body.shift_id,
        **_ids(box, ev),
        z_no=body.z_no,
        till=body.till,
        cashier_id=body.cashier_id,
        opened_at=body.opened_at,
        closed_at=body.as_of,
        net_total_minor=body.net_total_minor,
        body=ev.payload,
    )


def apply_till_event(box: Box, ev: EventEnvelope) -> None:
    """Store one till-document event (raises pydantic/ValidationError on a bad payload)."""
    _APPLIERS[EventType(ev.type)](box, ev)


_APPLIERS = {
    EventType.REFUND_COMPLETED: _refund,
    EventType.SALE_VOIDED: _void,
    EventType.SHIFT_CLOSED: _shift,
}
EVENT_TYPES = frozenset(_APPLIERS)
