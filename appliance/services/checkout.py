"""Cash checkout: sale, lines, tender, receipt number, outbox event and audit in ONE txn."""

from __future__ import annotations

import json
import logging
import uuid
from decimal import Decimal
from typing import Any

from peewee import IntegrityError

from appliance.db import write_txn
from appliance.models import Basket, BasketLine, Sale, SaleLine, Staff, Tender
from appliance.services import audit, outbox
from appliance.services.basket import (
    MoneySetup,
    active_lines,
    find_basket,
    money_setup,
    totals_for,
)
from appliance.services.context import BoxContext, now_iso
from appliance.services.state import allocate_receipt_no
from posdomain.errors import Conflict, NotFound, Reason
from posdomain.money import parse_money, to_minor
from posdomain.obs import log_event
from posdomain.permissions import Action, Principal, authorize
from posdomain.sale import PricedLine, Totals, change_due

log = logging.getLogger(__name__)


def _line_json(pl: PricedLine) -> dict[str, Any]:
    """One sale line in the contract's wire form."""
    return {
        "line_no": pl.line.line_no,
        "product_id": pl.line.product_id,
        "sku": pl.line.sku,
        "name": pl.line.name,
        "barcode": pl.line.barcode,
        "qty": str(pl.line.qty),
        "unit_price": str(pl.line.unit_price),
        "line_total": str(pl.line_total),
        "tax_class": pl.line.tax_class,
        "tax_rate": str(pl.tax_rate),
        "tax": str(pl.tax),
    }


def _payload(
    sale_id: str,
    receipt_no: int,
    key: str,
    staff: Staff,
    setup: MoneySetup,
    totals: Totals,
    tendered: Decimal,
    change: Decimal,
) -> dict[str, Any]:
    """The contract's sale.completed payload (wire money as decimal strings)."""
    return {
        "sale_id": sale_id,
        "receipt_no": receipt_no,
        "idempotency_key": key,
        "cashier_id": staff.id,
        "cashier_name": staff.name,
        "currency": setup.currency,
        "exponent": setup.exponent,
        "lines": [_line_json(pl) for pl in totals.lines],
        "subtotal": str(totals.subtotal),
        "tax_total": str(totals.tax_total),
        "total": str(totals.total),
        "tax_breakdown": [
            {
                "tax_class": r.tax_class,
                "rate": str(r.rate),
                "net": str(r.net),
                "tax": str(r.tax),
                "gross": str(r.gross),
            }
            for r in totals.breakdown
        ],
        "tenders": [{"kind": "cash", "amount": str(tendered)}],
        "change": str(change),
        "completed_at": now_iso(),
    }


def _store_sale(
    payload: dict[str, Any], totals: Totals, setup: MoneySetup, event_id: str, correlation_id: str
) -> None:
    exp = setup.exponent
    Sale.insert(
        id=payload["sale_id"],
        receipt_no=payload["receipt_no"],
        idempotency_key=payload["idempotency_key"],
        staff_id=payload["cashier_id"],
        staff_name=payload["cashier_name"],
        currency=setup.currency,
        exponent=exp,
        subtotal_minor=to_minor(totals.subtotal, exp),
        tax_minor=to_minor(totals.tax_total, exp),
        total_minor=to_minor(totals.total, exp),
        change_minor=to_minor(Decimal(payload["change"]), exp),
        event_id=event_id,
        correlation_id=correlation_id,
        payload=json.dumps(payload, sort_keys=True),
        completed_at=payload["completed_at"],
    ).execute()
    _store_lines(payload, totals, exp)


def _store_lines(payload: dict[str, Any], totals: Totals, exp: int) -> None:
    for pl in totals.lines:
        SaleLine.insert(
            sale=payload["sale_id"],
            line_no=pl.line.line_no,
            product_id=pl.line.product_id,
            sku=pl.line.sku,
            name=pl.line.name,
            barcode=pl.line.barcode,
            qty=pl.line.qty,
            unit_price_minor=to_minor(pl.line.unit_price, exp),
            line_total_minor=to_minor(pl.line_total, exp),
            tax_class=pl.line.tax_class,
            tax_rate=str(pl.tax_rate),
            tax_minor=to_minor(pl.tax, exp),
        ).execute()
    for tender in payload["tenders"]:
        Tender.insert(
            sale=payload["sale_id"],
            kind=tender["kind"],
            amount_minor=to_minor(Decimal(tender["amount"]), exp),
        ).execute()


def _existing(key: str) -> dict[str, Any] | None:
    sale = Sale.get_or_none(Sale.idempotency_key == key)
    return None if sale is None else sale_dict(sale)


def pay_cash(
    ctx: BoxContext, staff: Staff, tendered: str, idempotency_key: str, correlation_id: str
) -> dict[str, Any]:
    """Complete the cashier's basket with a cash tender; a repeated key returns the same sale."""
    done = _existing(idempotency_key)
    if done is not None:
        return done
    ctx.require_chain_intact()
    setup = money_setup()
    amount = parse_money(tendered, setup.exponent, "tendered")
    try:
        with write_txn():
            done = _existing(idempotency_key)
            if done is not None:
                return done
            sale = _complete(ctx, staff, setup, amount, idempotency_key, correlation_id)
    except IntegrityError:
        done = _existing(idempotency_key)
        if done is None:
            raise
        return done
    log_event(
        log,
        "sale completed",
        sale_id=sale["sale_id"],
        receipt_no=sale["receipt_no"],
        total=sale["total"],
        lines=len(sale["lines"]),
    )
    return sale


def _complete(
    ctx: BoxContext,
    staff: Staff,
    setup: MoneySetup,
    tendered: Decimal,
    key: str,
    correlation_id: str,
) -> dict[str, Any]:
    basket = find_basket(ctx, staff.id)
    lines = active_lines(basket)
    if basket is None or not lines:
        raise Conflict("the basket is empty", Reason.EMPTY_BASKET)
    totals = totals_for(lines, setup)
    change = change_due(totals.total, tendered)
    sale_id = str(uuid.uuid4())
    payload = _payload(sale_id, allocate_receipt_no(), key, staff, setup, totals, tendered, change)
    envelope = outbox.enqueue(ctx, "sale.completed", payload, correlation_id)
    _store_sale(payload, totals, setup, str(envelope.event_id), correlation_id)
    BasketLine.delete().where(BasketLine.basket == basket.id).execute()
    Basket.delete().where(Basket.id == basket.id).execute()
    audit.append(
        ctx,
        actor=f"staff:{staff.id}",
        action="sale.completed",
        target=f"sale:{sale_id}",
        details={
            "receipt_no": payload["receipt_no"],
            "total": payload["total"],
            "event_id": str(envelope.event_id),
        },
    )
    return payload


def sale_dict(sale: Sale) -> dict[str, Any]:
    """API form of a stored sale (the sale.completed payload)."""
    return dict(json.loads(sale.payload))


def get_sale(principal: Principal, branch_id: str, sale_id: str) -> dict[str, Any]:
    """A sale for its own cashier, or for anyone allowed to read the branch's sales."""
    sale = Sale.get_or_none(Sale.id == sale_id)
    if sale is None:
        raise NotFound("no such sale on this box", Reason.NOT_FOUND)
    if sale.staff_id != principal.id:
        authorize(principal, Action.SALES_READ, branch_id=branch_id)
    return sale_dict(sale)
