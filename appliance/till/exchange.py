"""Exchange at the till (issue 14 item 3): return an item of an earlier sale of this box in
the open basket, beside what the customer buys instead, and pay the net.

A returned item needs the same approval as a refund with receipt (supervisor or manager, or a
supervisor's override token; audited with its reason). Each unit comes back as its own
returned line (qty 1) that names the sale line (`return_sale_id`, `return_line_no`) and is
priced at what the customer paid for that unit: the cumulative refund share of the line
(`posdomain.tax.refund_tax`, the same figures a refund would pay), taxed in its class on the
returns side. A deposit line that came with the item comes back with it. The sale line's
refundable quantity counts what exchanges brought back (`refunds.returned_so_far`) and what
open baskets hold now, so no unit is returned twice. Weighed lines, and sales with a loyalty
card or paid partly with points, are returned by a refund instead (RETURN_BY_REFUND: the
refund gives points back as points and takes back the points the returned items earned).

The net total may be positive (customer pays), zero, or negative (money back in cash:
`tenders.settle_payout`).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from appliance.approvals import override_tokens
from appliance.audit import log as audit_log
from appliance.catalog import products
from appliance.core.context import BoxContext
from appliance.core.db import write_txn
from appliance.customers.returns import points_minor
from appliance.identity.models import Staff
from appliance.till import basket as baskets
from appliance.till.basket import NewLine, ReturnOf, insert_line, open_basket
from appliance.till.line_rows import qty_of
from appliance.till.models import Basket, BasketLine, Sale, SaleLine, SaleVoid
from appliance.till.money_setup import money_setup
from appliance.till.refunds import find_sale, original_tax, parse_qty, returned_so_far
from posdomain.errors import Conflict, NotFound, Reason, ValidationError
from posdomain.money import to_minor
from posdomain.tax import refund_tax
from posdomain.till_codes import OverrideAction


def _in_baskets(sale_id: str) -> dict[str, Decimal]:
    """Units of a sale's lines that open baskets are returning now (line_no as text)."""
    rows = BasketLine.select(BasketLine.return_line_no, BasketLine.qty_milli).where(
        BasketLine.return_sale_id == sale_id, BasketLine.voided == 0
    )
    out: dict[str, Decimal] = {}
    for row in rows:
        key = str(row.return_line_no)
        out[key] = out.get(key, Decimal(0)) + Decimal(row.qty_milli).scaleb(-3)
    return out


def _check_sale(sale: Sale) -> None:
    if SaleVoid.get_or_none(SaleVoid.sale_id == sale.id) is not None:
        raise ValidationError("this sale was voided", Reason.REFUND_EXCEEDS_SALE, {"voided": True})
    payload = json.loads(sale.payload)
    if points_minor(payload) or payload.get("customer"):
        # the refund path settles the points (those paid back, those earned taken back); an
        # exchange would keep the points the returned item earned
        raise Conflict(
            "a sale with a loyalty card or points is returned by a refund (the points are "
            "settled there)",
            Reason.RETURN_BY_REFUND,
            {"use": "refund"},
        )


def _units(sold: SaleLine, raw: str) -> int:
    if sold.unit != "each" or sold.deposit_for_line is not None or sold.qty_milli < 0:
        raise ValidationError(
            f"line {sold.line_no} cannot be exchanged: refund it instead",
            Reason.INVALID_QUANTITY,
            {"line_no": sold.line_no, "unit": sold.unit},
        )
    qty = parse_qty(raw)
    if qty != qty.to_integral_value():
        raise ValidationError(
            "items sold per unit come back in whole units", Reason.INVALID_QUANTITY
        )
    return int(qty)


def _credits(sale: Sale, wanted: list[tuple[int, str]]) -> list[tuple[SaleLine, int]]:
    """(sold line, credit in minor units) per returned unit, deposits after their item."""
    lines = list(SaleLine.select().where(SaleLine.sale == sale.id).order_by(SaleLine.line_no))
    by_no = {ln.line_no: ln for ln in lines}
    done = returned_so_far(sale.id)
    for key, qty in _in_baskets(sale.id).items():
        done[key] = done.get(key, Decimal(0)) + qty
    original = original_tax(sale, lines, money_setup().tax)
    out: list[tuple[SaleLine, int]] = []
    for line_no, raw in wanted:
        sold = by_no.get(line_no)
        if sold is None:
            raise NotFound(f"no line {line_no} on that receipt", Reason.LINE_NOT_FOUND)
        deposits = [ln for ln in lines if ln.deposit_for_line == line_no]
        for _ in range(_units(sold, raw)):
            for ln in (sold, *deposits):
                key = str(ln.line_no)
                taken = done.get(key, Decimal(0))
                if taken + 1 > qty_of(ln):
                    raise ValidationError(
                        f"line {ln.line_no}: nothing left to return",
                        Reason.REFUND_EXCEEDS_SALE,
                        {"line_no": ln.line_no},
                    )
                part = refund_tax(original, {key: Decimal(1)}, previously_returned=done)
                done[key] = taken + 1
                out.append((ln, -to_minor(part.lines[0].gross, sale.exponent)))
    return out


def add_returns(
    ctx: BoxContext, staff: Staff, request: dict[str, Any], correlation_id: str
) -> dict[str, Any]:
    """Bring back units of an earlier sale's lines into the open basket (approved, audited);
    `request` = {receipt, lines: [(line_no, qty)], override_token?, reason_code?}."""
    ctx.require_chain_intact()
    approval = override_tokens.require(
        ctx, staff, OverrideAction.REFUND, request.get("override_token"), request.get("reason_code")
    )
    with write_txn():
        sale = find_sale(request["receipt"])
        _check_sale(sale)
        credits = _credits(sale, request["lines"])
        basket = open_basket(ctx, staff.id)
        if len(baskets.active_lines(basket)) + len(credits) > baskets.MAX_LINES:
            raise Conflict(f"a basket holds at most {baskets.MAX_LINES} lines", Reason.CONFLICT)
        line_no = basket.next_line_no
        item_no = None
        for sold, credit in credits:
            parent = item_no if sold.deposit_for_line is not None else None  # voids with it
            insert_line(basket, _returned(sold, credit), line_no, parent=parent, returned=True,
                        return_of=ReturnOf(sale.id, sold.line_no))  # fmt: skip
            item_no = line_no if parent is None else item_no
            line_no += 1
        Basket.update(next_line_no=line_no).where(Basket.id == basket.id).execute()
        ref = f"exchange:{basket.id}:{basket.next_line_no}"
        override_tokens.use(ctx, approval, staff, ref)
        audit_log.append(
            ctx,
            actor=f"staff:{staff.id}",
            action="basket.exchange_return",
            target=f"sale:{sale.id}",
            details={
                "receipt_no": sale.receipt_no,
                "lines": [ln.line_no for ln, _c in credits],
                "credit_minor": sum(c for _l, c in credits),
                "approver_id": approval.approver_id,
                "reason_code": approval.reason_code,
                "correlation_id": correlation_id,
            },
        )
    return baskets.view(ctx, staff.id)


def _returned(sold: SaleLine, credit: int) -> NewLine:
    """One returned unit of a sold line, at its credit (the product as the catalog has it)."""
    product = products.get_product(sold.product_id)
    if product is None:
        raise NotFound(f"product {sold.product_id} is not in the catalog", Reason.UNKNOWN_PRODUCT)
    return NewLine(product, sold.barcode, "each", Decimal(1), credit)


def check_returnable(lines: list[BasketLine]) -> None:
    """At payment (inside its transaction): the basket's returned units are still there to
    return (a parked exchange holds none, so another basket may have taken them meanwhile)."""
    wanted: dict[tuple[str, int], Decimal] = {}
    for ln in lines:
        if ln.return_sale_id is not None and ln.return_line_no is not None:
            key = (str(ln.return_sale_id), int(ln.return_line_no))
            wanted[key] = wanted.get(key, Decimal(0)) + Decimal(ln.qty_milli).scaleb(-3)
    for (sale_id, line_no), qty in wanted.items():
        sold = SaleLine.get_or_none(SaleLine.sale == sale_id, SaleLine.line_no == line_no)
        done = returned_so_far(sale_id).get(str(line_no), Decimal(0))
        if sold is None or done + qty > qty_of(sold):
            raise ValidationError(
                f"line {line_no} of that receipt was returned meanwhile",
                Reason.REFUND_EXCEEDS_SALE,
                {"line_no": line_no, "sale_id": sale_id},
            )
