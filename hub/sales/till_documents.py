"""Store the box's till-document events (FR-300, REP-T-04/05/12/13) inside the ingest batch:
`refund.completed`, `sale.voided`, `shift.closed`, `drawer.bank_deposit` and
`drawer.cash_movement` (payloads:
docs/CONTRACT.md, schemas in posdomain.payloads, rules in posdomain.sale_checks and
posdomain.shift_checks, applied by hub.sync.rules).

Tenant, branch and box come from the enrolled box, never the payload. Each event is applied
once (ingested_events); stock for refunds and voids arrives as the box's own
`stock.movement` events (kind `refund`), so nothing here touches the ledger.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from peewee import fn

from hub.identity.models import Box
from hub.sales.models import (
    BankDeposit,
    BoxRefund,
    CashMovement,
    HubSaleVoid,
    Sale,
    SaleLine,
    ShiftReport,
)
from posdomain.contract import EventType
from posdomain.envelope import EventEnvelope
from posdomain.money import from_minor, parse_minor
from posdomain.payloads import BankDeposit as DepositIn
from posdomain.payloads import CashMovement as MovementIn
from posdomain.payloads import RefundCompleted, SaleVoided, ShiftClosed
from posdomain.refund_checks import SoldSale

EVENT_TYPES = frozenset({EventType.REFUND_COMPLETED, EventType.SALE_VOIDED, EventType.SHIFT_CLOSED})


def _ids(box: Box, ev: EventEnvelope) -> dict[str, str]:
    return {
        "tenant_id": box.tenant_id,
        "branch_id": box.branch_id,
        "box_id": box.box_id,
        "event_id": str(ev.event_id),
    }


def sold(tenant_id: str, sale_id: str) -> SoldSale | None:
    """What a void or refund is checked against: the stored sale (caller's transaction)."""
    sale = Sale.get_or_none(Sale.id == sale_id, Sale.tenant_id == tenant_id)
    if sale is None:
        return None
    voided = HubSaleVoid.select().where(HubSaleVoid.sale_id == sale_id).exists()
    return SoldSale(
        sale.box_id, sale.receipt_no, from_minor(sale.total_minor, sale.exponent), voided
    )


def refunded_minor(tenant_id: str, sale_id: str) -> int:
    """Minor units already refunded against a sale (negative or 0)."""
    total = (
        BoxRefund.select(fn.COALESCE(fn.SUM(BoxRefund.total_minor), 0))
        .where(BoxRefund.tenant_id == tenant_id, BoxRefund.sale_id == sale_id)
        .scalar()
    )
    return int(total or 0)


def exchanged_minor(tenant_id: str, sale_id: str) -> int:
    """Minor units exchanges have already credited back for lines of a sale (positive or 0)."""
    total = (
        SaleLine.select(fn.COALESCE(fn.SUM(SaleLine.line_total_minor), 0))
        .where(SaleLine.tenant_id == tenant_id, SaleLine.return_of_sale_id == sale_id)
        .scalar()
    )
    return -int(total or 0)


def sold_lines(tenant_id: str, sale_id: str) -> dict[int, tuple[str, Decimal]]:
    """Line no → (product id, quantity sold) of a stored sale (its returned lines left out)."""
    rows = SaleLine.select(SaleLine.line_no, SaleLine.product_id, SaleLine.qty).where(
        SaleLine.tenant_id == tenant_id, SaleLine.sale_id == sale_id
    )
    return {int(r.line_no): (str(r.product_id), Decimal(r.qty)) for r in rows if Decimal(r.qty) > 0}


def returned_qty(tenant_id: str, sale_id: str) -> dict[int, Decimal]:
    """Line no of a sale → quantity stored exchanges have brought back (positive)."""
    rows = SaleLine.select(SaleLine.return_of_line_no, SaleLine.qty).where(
        SaleLine.tenant_id == tenant_id, SaleLine.return_of_sale_id == sale_id
    )
    out: dict[int, Decimal] = {}
    for r in rows:
        line_no = int(str(r.return_of_line_no))
        out[line_no] = out.get(line_no, Decimal(0)) - Decimal(r.qty)
    return out


def store_refund(box: Box, ev: EventEnvelope, body: RefundCompleted) -> None:
    """Write a checked refund document."""
    exp = body.exponent
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
        total_minor=parse_minor(body.total, exp, "total"),
        tax_minor=parse_minor(body.tax_total, exp, "tax_total"),
        cash_rounding_minor=parse_minor(body.cash_rounding, exp, "cash_rounding"),
        tenders=[t.model_dump(exclude_none=True) for t in body.tenders],
        lines=[ln.model_dump() for ln in body.lines],
        completed_at=body.completed_at,
    )


def store_void(box: Box, ev: EventEnvelope, body: SaleVoided) -> None:
    """Write a checked post-void."""
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


def store_shift(box: Box, ev: EventEnvelope, body: ShiftClosed) -> None:
    """Write a Z report (the body as sent, bounded by the message limits)."""
    payload: dict[str, Any] = ev.payload
    ShiftReport.create(
        shift_id=body.shift_id,
        **_ids(box, ev),
        z_no=body.z_no,
        till=body.till,
        cashier_id=body.cashier_id,
        opened_at=body.opened_at,
        closed_at=body.as_of,
        net_total_minor=body.net_total_minor,
        body=payload,
    )


def store_deposit(box: Box, ev: EventEnvelope, body: DepositIn) -> None:
    """Write a checked bank deposit (a deposit id the tenant holds already: IntegrityError,
    refused DOCUMENT_ID_CONFLICT by the caller)."""
    BankDeposit.create(
        **_ids(box, ev),
        deposit_id=body.deposit_id,
        business_day=body.business_day,
        amount_minor=parse_minor(body.amount, body.exponent, "amount"),
        exponent=body.exponent,
        slip_no=body.slip_no,
        cashier_id=body.cashier_id,
        approver_id=body.approver_id,
        reason_code=body.reason_code,
        shift_id=body.shift_id,
        note=body.note,
        deposited_at=body.deposited_at,
    )


def store_cash_movement(box: Box, ev: EventEnvelope, body: MovementIn) -> None:
    """Write a checked drop or paid-out (a movement id the tenant holds already:
    IntegrityError, refused DOCUMENT_ID_CONFLICT by the caller)."""
    CashMovement.create(
        **_ids(box, ev),
        movement_id=body.movement_id,
        kind=body.kind,
        business_day=body.business_day,
        amount_minor=parse_minor(body.amount, body.exponent, "amount"),
        exponent=body.exponent,
        reason_code=body.reason_code,
        shift_id=body.shift_id,
        cashier_id=body.cashier_id,
        note=body.note,
        moved_at=body.moved_at,
    )
