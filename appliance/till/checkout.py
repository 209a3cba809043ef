"""Cash checkout: sale, lines, tender, receipt number, stock movements, outbox event and audit
in ONE transaction, into the till's open shift (`shifts.for_takings`: refused SHIFT_NOT_OPEN
with nothing written where drawers are counted and no shift is open). Prices and tax come
from one posdomain call per sale (`till.pricing`: `posdomain.sale_pricing.price_sale`), whose
result is stored as it is; the cash rounding is its own amount and
`payable = total + cash_rounding` is what the tender covers.
Split tender (`tenders.settle`): card amounts (terminal reference only) never exceed the total,
cash pays the rest with cash rounding on the cash part only, change comes only from cash."""

from __future__ import annotations

import json
import logging
import uuid
from decimal import Decimal
from typing import Any

from peewee import IntegrityError

from appliance.audit import log as audit_log
from appliance.catalog.policy_rejections import record_rejections
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import execute, insert_rows, select_models, write_txn
from appliance.customers import points
from appliance.customers.points import SaleLoyalty
from appliance.devices.hook import kick_after_sale, queue_receipt_with_sale
from appliance.identity.models import Staff
from appliance.inventory import stock_ledger
from appliance.sync import outbox
from appliance.sync.box_state import allocate_receipt_no
from appliance.till import exchange, shifts
from appliance.till.basket import find_basket, labels_for, price_open
from appliance.till.models import (
    Basket,
    Sale,
    SaleExtra,
    SaleLine,
    Tender,
)
from appliance.till.money_setup import MoneySetup, money_setup, policy_version
from appliance.till.pricing import BasketTotals, lines_json, totals_json
from appliance.till.suspend import customer_of
from appliance.till.tenders import Settlement, TenderIn, check_tenders, settle, settle_payout
from posdomain.contract import EventType
from posdomain.envelope import plain_json
from posdomain.errors import Conflict, NotFound, Reason
from posdomain.money import from_minor, to_minor
from posdomain.obs import log_event
from posdomain.permissions import Action, Principal, authorize

log = logging.getLogger(__name__)


def _payload(
    sale_id: str,
    receipt_no: int,
    key: str,
    staff: Staff,
    setup: MoneySetup,
    totals: BasketTotals,
    paid: Settlement,
    labels: dict[str, str],
) -> dict[str, Any]:
    """The contract's sale.completed payload (wire money as decimal strings); cash rounding
    and payable come from the settlement (rounding applies to the cash part only)."""
    summary = totals_json(totals)
    summary.pop("item_count")
    summary["cash_rounding"], summary["payable"] = str(paid.cash_rounding), str(paid.payable)
    return {
        "sale_id": sale_id,
        "receipt_no": receipt_no,
        "idempotency_key": key,
        "cashier_id": staff.id,
        "cashier_name": staff.name,
        "currency": setup.currency,
        "exponent": setup.exponent,
        "lines": [
            _sale_line(pbl, wire)
            for pbl, wire in zip(
                totals.lines, lines_json(totals, totals.sale.tax.config, labels), strict=True
            )
        ],
        **summary,
        "tenders": [dict(t) for t in paid.tenders],
        "change": str(paid.change),
        "versions": {
            "catalog": setup.versions.get("catalog", 0),
            "tax": setup.versions.get("config", 0),
            "policy": policy_version(setup),
        },
        "completed_at": now_iso(),
    }


def _sale_line(pbl: Any, shown: dict[str, Any]) -> dict[str, Any]:
    """A sale line on the wire (a copy of the line as the basket showed it: `lines_json`
    answers are shared); an age-restricted one names who checked the age (REP-T-16)."""
    wire = dict(shown)
    verified_by = getattr(pbl.line, "age_verified_by", None)
    if verified_by:
        wire["age_verified_by"] = verified_by
    return wire


def _store_sale(
    payload: dict[str, Any],
    totals: BasketTotals,
    setup: MoneySetup,
    event_id: str,
    correlation_id: str,
    stored: str,
) -> None:
    """The sale row (`stored`: its payload's JSON text) with its lines and tenders."""
    exp = setup.exponent
    row = dict(
        id=payload["sale_id"],
        receipt_no=payload["receipt_no"],
        idempotency_key=payload["idempotency_key"],
        staff_id=payload["cashier_id"],
        staff_name=payload["cashier_name"],
        currency=setup.currency,
        exponent=exp,
        subtotal_minor=to_minor(totals.sale.pricing.subtotal, exp),
        tax_minor=to_minor(totals.sale.tax.tax_total, exp),
        total_minor=to_minor(totals.sale.tax.total, exp),
        change_minor=to_minor(Decimal(payload["change"]), exp),
        cash_rounding_minor=to_minor(Decimal(payload["cash_rounding"]), exp),
        price_list=totals.sale.pricing.price_list,
        event_id=event_id,
        correlation_id=correlation_id,
        payload=stored,
        completed_at=payload["completed_at"],
    )
    insert_rows(Sale, [row])
    _store_lines(payload, totals, exp)


def _store_lines(payload: dict[str, Any], totals: BasketTotals, exp: int) -> None:
    """The sale's lines and tenders, one prepared statement each (`insert_rows`)."""
    rows = [
        dict(
            sale=payload["sale_id"],
            line_no=pbl.line.line_no,
            product_id=pbl.product.id,
            sku=pbl.line.sku,
            name=pbl.line.name,
            barcode=pbl.line.barcode,
            unit=pbl.line.unit,
            qty_milli=-pbl.line.qty_milli if pbl.line.returned else pbl.line.qty_milli,
            unit_price_minor=to_minor(pbl.sold.unit_price, exp),
            extended_minor=to_minor(pbl.sold.priced.extended, exp),
            discount_minor=to_minor(pbl.sold.priced.discount_total, exp),
            discounts=json.dumps(wire["discounts"]) if wire["discounts"] else "[]",
            line_total_minor=to_minor(pbl.sold.tax.gross, exp),
            tax_class=pbl.sold.tax.tax_class,
            tax_rate=str(pbl.sold.tax.rate),
            tax_minor=to_minor(pbl.sold.tax.tax, exp),
            deposit_for_line=pbl.line.parent_line_no,
            return_sale_id=pbl.line.return_sale_id,
            return_line_no=pbl.line.return_line_no,
        )
        for pbl, wire in zip(totals.lines, payload["lines"], strict=True)
    ]
    insert_rows(SaleLine, rows)
    tenders = [
        dict(
            sale=payload["sale_id"],
            kind=tender["kind"],
            amount_minor=to_minor(Decimal(tender["amount"]), exp),
        )
        for tender in payload["tenders"]
    ]
    insert_rows(Tender, tenders)


def _existing(key: str) -> dict[str, Any] | None:
    found = select_models(Sale, "SELECT * FROM sales WHERE idempotency_key = ?", (key,))
    return sale_dict(found[0]) if found else None


def pay(
    ctx: BoxContext,
    staff: Staff,
    requested: list[TenderIn],
    idempotency_key: str,
    correlation_id: str,
) -> dict[str, Any]:
    """Complete the basket with cash and/or card tenders (split tender; change only from
    cash); a repeated idempotency key returns the same sale."""
    return pay_text(ctx, staff, requested, idempotency_key, correlation_id)[0]


def pay_text(
    ctx: BoxContext,
    staff: Staff,
    requested: list[TenderIn],
    idempotency_key: str,
    correlation_id: str,
) -> tuple[dict[str, Any], str | None]:
    """`pay`, with the sale's canonical JSON text as stored with it (sorted keys, compact,
    UTF-8: the answer's JSON, written once for the event, the sale row and the answer) when
    this call made the sale; None for a sale the idempotency key found."""
    done = _existing(idempotency_key)
    if done is not None:
        return done, None
    ctx.require_chain_intact()
    setup = money_setup()
    check_tenders(requested, setup.exponent)  # bad money / unknown tender before any write
    try:
        with write_txn():
            done = _existing(idempotency_key)
            if done is not None:
                return done, None
            sale, stored = _complete(ctx, staff, setup, requested, idempotency_key, correlation_id)
            queue_receipt_with_sale(ctx, sale, stored)  # commits with the sale (one commit)
    except IntegrityError:
        done = _existing(idempotency_key)
        if done is None:
            raise
        return done, None
    _announce(ctx, sale)
    return sale, stored


def _announce(ctx: BoxContext, sale: dict[str, Any]) -> None:
    """Log the committed sale and kick the drawer now (never raises); its receipt was queued
    in the sale's transaction; a card-only sale gets its receipt but no kick."""
    log_event(
        log,
        "sale completed",
        sale_id=sale["sale_id"],
        receipt_no=sale["receipt_no"],
        total=sale["total"],
        lines=len(sale["lines"]),
    )
    if any(t["kind"] == "cash" for t in sale["tenders"]):
        kick_after_sale(ctx, str(sale["sale_id"]))


def _complete(
    ctx: BoxContext,
    staff: Staff,
    setup: MoneySetup,
    requested: list[TenderIn],
    key: str,
    correlation_id: str,
) -> tuple[dict[str, Any], str]:
    """The sale written (not committed): its payload and the payload's stored JSON text."""
    basket = find_basket(ctx, staff.id)
    totals = price_open(setup, basket, cash=False, paying=True)
    if basket is None or not totals.lines:
        raise Conflict("the basket is empty", Reason.EMPTY_BASKET)
    exchange.check_returnable([p.line for p in totals.lines])
    customer = customer_of(ctx, staff.id)
    loyalty = points.at_checkout(ctx, staff.id, customer, setup, totals)
    redeemed = from_minor(loyalty.value_minor, setup.exponent)
    due = totals.sale.tax.total - redeemed
    paid = (settle if due > 0 else settle_payout)(due, requested, setup.tax)
    shift = shifts.for_takings(ctx, staff)  # no shift, no sale: the cash must reach a Z
    record_rejections(ctx, totals.sale.rejections)
    sale_id = str(uuid.uuid4())
    labels = labels_for(ctx, setup)
    payload = _payload(sale_id, allocate_receipt_no(), key, staff, setup, totals, paid, labels)
    payload["shift_id"] = shift.id
    if customer is not None:
        payload["customer"] = customer
    _with_loyalty(payload, loyalty, paid.payable + redeemed)
    wire = plain_json(payload)  # the payload's JSON once: in the event and on the sale row
    envelope = outbox.enqueue(ctx, EventType.SALE_COMPLETED, payload, correlation_id, wire)
    points.record(ctx, staff.id, sale_id, str(envelope.event_id), loyalty)
    stored = json.dumps(payload, sort_keys=True) if wire is None else wire.decode("utf-8")
    _store_sale(payload, totals, setup, str(envelope.event_id), correlation_id, stored)
    _store_extras(payload, paid, customer)
    stock_ledger.record_sale(
        sale_id,
        [(p.product.id, p.sold.qty) for p in totals.lines],
        staff.id,
        payload["completed_at"],
    )
    _clear_basket(basket)
    audit_log.append(
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
    return payload, stored


def _with_loyalty(payload: dict[str, Any], loyalty: SaleLoyalty, payable: Decimal) -> None:
    """The points tender first, the loyalty facts, and payable = total + cash rounding (points
    pay part of the total like a card: tenders - change = payable still holds)."""
    if loyalty.block is not None:
        payload["loyalty"] = loyalty.block
    if loyalty.tender is not None:
        payload["tenders"] = [loyalty.tender, *payload["tenders"]]
        payload["payable"] = str(payable)


# run by every payment: constant statements (issue 15), the ones peewee's deletes build
_CLEAR_CUSTOMER_SQL = "DELETE FROM basket_customers WHERE basket_key = ?"
_CLEAR_LINES_SQL = "DELETE FROM basket_lines WHERE basket_id = ?"
_CLEAR_BASKET_SQL = "DELETE FROM basket WHERE id = ?"


def _clear_basket(basket: Basket) -> None:
    """Remove the paid basket, its lines, manual prices (cascade) and attached customer."""
    execute(_CLEAR_CUSTOMER_SQL, (basket.key,))
    execute(_CLEAR_LINES_SQL, (basket.id,))
    execute(_CLEAR_BASKET_SQL, (basket.id,))


def _store_extras(
    payload: dict[str, Any], paid: Settlement, customer: dict[str, Any] | None
) -> None:
    """Card terminal reference (never a card number) and customer of a sale."""
    if paid.card_reference is None and customer is None:
        return
    SaleExtra.insert(
        sale_id=payload["sale_id"],
        card_reference=paid.card_reference,
        customer_id=None if customer is None else customer["customer_id"],
        customer_name=None if customer is None else customer["customer_name"],
        created_at=payload["completed_at"],
    ).execute()


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
