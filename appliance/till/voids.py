"""Post-void of the last sale and no-sale drawer opens (FR-300), both with an override.

* Post-void: only the last completed sale of this box, inside the open shift, not yet
  refunded or voided. Writes `sale_voids`, a `sale.voided` event and the audit entry in one
  transaction; the Z report then reverses the sale in full and counts it under voids.
* No-sale: records the approved open (counted for the Z report) and audit, commits, then
  kicks the drawer now through the device service (TTL, never queued).
"""

from __future__ import annotations

import uuid
from typing import Any

from appliance.approvals import override_tokens
from appliance.audit import log as audit_log
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import write_txn
from appliance.devices.hook import kick_drawer
from appliance.identity.models import Staff
from appliance.inventory import stock_ledger
from appliance.sync import outbox
from appliance.till import shifts
from appliance.till.models import NoSale, Refund, Sale, SaleLine, SaleVoid
from posdomain.contract import EventType
from posdomain.errors import Conflict, Reason
from posdomain.money import format_minor
from posdomain.till_codes import OverrideAction


def _voidable(ctx: BoxContext, sale_id: str) -> tuple[Sale, str]:
    shift = shifts.require_open(ctx)
    last = Sale.select().order_by(Sale.completed_at.desc(), Sale.receipt_no.desc()).first()
    problem = None
    if last is None or last.id != sale_id:
        problem = "only the last completed sale can be post-voided"
    elif last.completed_at < shift.opened_at:
        problem = "the sale belongs to an earlier shift"
    elif Refund.get_or_none(Refund.sale_id == sale_id) is not None:
        problem = "the sale has refunds"
    elif SaleVoid.get_or_none(SaleVoid.sale_id == sale_id) is not None:
        problem = "the sale is already voided"
    if problem is not None or last is None:
        raise Conflict(problem or "nothing to void", Reason.SALE_NOT_VOIDABLE)
    return last, shift.id


def _stock_back(ctx: BoxContext, staff: Staff, sale: Sale) -> None:
    """Book the voided sale's goods back into the box ledger (kind refund)."""
    for line in SaleLine.select().where(SaleLine.sale == sale.id):
        stock_ledger.record_return(ctx, staff, line.product_id, line.qty_milli, f"void:{sale.id}")


def _void_payload(sale: Sale, staff: Staff, approval: override_tokens.Approval) -> dict[str, Any]:
    """The sale.voided payload (docs/CONTRACT.md)."""
    return {
        "sale_id": sale.id,
        "receipt_no": sale.receipt_no,
        "cashier_id": staff.id,
        "approver_id": approval.approver_id,
        "reason_code": approval.reason_code,
        "exponent": sale.exponent,
        "total": format_minor(sale.total_minor, sale.exponent),
        "voided_at": now_iso(),
    }


def post_void(
    ctx: BoxContext,
    staff: Staff,
    sale_id: str,
    token: str | None,
    reason_code: str | None,
    correlation_id: str,
) -> dict[str, Any]:
    """Void the last sale of the shift with a supervisor override; emits `sale.voided`."""
    ctx.require_chain_intact()
    approval = override_tokens.require(ctx, staff, OverrideAction.POST_VOID, token, reason_code)
    with write_txn():
        sale, shift_id = _voidable(ctx, sale_id)
        payload = _void_payload(sale, staff, approval)
        envelope = outbox.enqueue(ctx, EventType.SALE_VOIDED, payload, correlation_id)
        SaleVoid.insert(
            sale_id=sale.id,
            shift_id=shift_id,
            staff_id=staff.id,
            approver_id=approval.approver_id,
            reason_code=approval.reason_code,
            total_minor=sale.total_minor,
            event_id=str(envelope.event_id),
            voided_at=payload["voided_at"],
        ).execute()
        override_tokens.use(ctx, approval, staff, f"sale:{sale.id}")
        _stock_back(ctx, staff, sale)
        audit_log.append(
            ctx,
            actor=f"staff:{staff.id}",
            action="sale.voided",
            target=f"sale:{sale.id}",
            details=payload,
        )
    payload["drawer"] = kick_drawer(ctx, f"void:{sale.id}", "post_void")  # cash goes back now
    return payload


def no_sale(
    ctx: BoxContext, staff: Staff, token: str | None, reason_code: str | None
) -> dict[str, Any]:
    """Open the drawer without a sale (override, audited, counted on the Z)."""
    ctx.require_chain_intact()
    approval = override_tokens.require(ctx, staff, OverrideAction.NO_SALE, token, reason_code)
    ref = f"nosale:{uuid.uuid4().hex[:12]}"
    with write_txn():
        shift = shifts.for_takings(ctx, staff)
        NoSale.insert(
            id=ref,
            shift_id=shift.id,
            staff_id=staff.id,
            approver_id=approval.approver_id,
            reason_code=approval.reason_code,
            created_at=now_iso(),
        ).execute()
        override_tokens.use(ctx, approval, staff, ref)
        outbox.enqueue(
            ctx,
            EventType.NO_SALE,
            {
                "no_sale_id": ref,
                "cashier_id": staff.id,
                "approver_id": approval.approver_id,
                "reason_code": approval.reason_code,
                "shift_id": shift.id,
                "opened_at": now_iso(),
            },
        )
        audit_log.append(
            ctx,
            actor=f"staff:{staff.id}",
            action="drawer.no_sale",
            target=ref,
            details={"approver_id": approval.approver_id, "reason_code": approval.reason_code},
        )
    drawer = kick_drawer(ctx, ref, "no_sale")  # now or never: after the commit, not queued
    return {"id": ref, "approver_id": approval.approver_id, "drawer": drawer}
