"""The open basket, held by the box per till and cashier (a browser reload loses nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.db import write_txn
from appliance.models import Basket, BasketLine, Staff
from appliance.services import audit, catalog
from appliance.services.context import BoxContext, now_iso
from appliance.services.masterdata import config_body, exponent_of
from posdomain.audit_chain import Severity
from posdomain.errors import Conflict, NotFound, Reason
from posdomain.money import from_minor
from posdomain.sale import LineInput, TaxClass, Totals, compute_totals, parse_tax_classes

MAX_LINES = 500


@dataclass(frozen=True)
class MoneySetup:
    """Currency and tax rules from the applied config down message."""

    currency: str
    exponent: int
    classes: dict[str, TaxClass]
    rounding: str


def money_setup() -> MoneySetup:
    """Currency/tax from the hub's config; selling is refused until one has arrived."""
    body = config_body("config")
    if body is None:
        raise Conflict(
            "no tax/currency configuration received from the hub yet",
            Reason.CONFLICT,
            {"missing": "config"},
        )
    classes, rounding = parse_tax_classes(body.get("tax") or {})
    currency = body.get("currency")
    if not currency or not classes:
        raise Conflict(
            "the hub's configuration has no currency or tax classes yet",
            Reason.CONFLICT,
            {"missing": "currency" if not currency else "tax"},
        )
    return MoneySetup(str(currency), exponent_of(body), classes, rounding)


def basket_key(ctx: BoxContext, staff_id: str) -> str:
    """One open basket per till and cashier."""
    return f"{ctx.config.till_name}:{staff_id}"


def find_basket(ctx: BoxContext, staff_id: str) -> Basket | None:
    """The cashier's open basket, if any."""
    return Basket.get_or_none(Basket.key == basket_key(ctx, staff_id))


def active_lines(basket: Basket | None) -> list[BasketLine]:
    """Non-voided lines in line order."""
    if basket is None:
        return []
    query = BasketLine.select().where(BasketLine.basket == basket.id, BasketLine.voided == 0)
    return list(query.order_by(BasketLine.line_no))


def line_inputs(lines: list[BasketLine], exponent: int) -> list[LineInput]:
    """Basket lines as the pure arithmetic wants them."""
    return [
        LineInput(
            ln.line_no,
            ln.product_id,
            ln.sku,
            ln.name,
            ln.barcode,
            ln.qty,
            from_minor(ln.unit_price_minor, exponent),
            ln.tax_class,
        )
        for ln in lines
    ]


def add_line(ctx: BoxContext, staff: Staff, barcode: str, qty: int) -> dict[str, Any]:
    """Add a scanned product; unknown barcodes and unsellable products write nothing."""
    setup = money_setup()
    product = catalog.by_barcode(barcode)
    if product.tax_class not in setup.classes:
        raise Conflict(
            f"product {product.sku} has unknown tax class {product.tax_class}",
            Reason.CONFLICT,
            {"tax_class": product.tax_class},
        )
    with write_txn():
        basket = find_basket(ctx, staff.id)
        if basket is None:
            Basket.insert(
                key=basket_key(ctx, staff.id), staff_id=staff.id, opened_at=now_iso()
            ).execute()
            basket = Basket.get(Basket.key == basket_key(ctx, staff.id))
        if BasketLine.select().where(BasketLine.basket == basket.id).count() >= MAX_LINES:
            raise Conflict(f"a basket holds at most {MAX_LINES} lines", Reason.CONFLICT)
        BasketLine.insert(
            basket=basket.id,
            line_no=basket.next_line_no,
            product_id=product.id,
            barcode=barcode,
            sku=product.sku,
            name=product.name,
            tax_class=product.tax_class,
            qty=qty,
            unit_price_minor=product.price_minor,
        ).execute()
        Basket.update(next_line_no=Basket.next_line_no + 1).where(Basket.id == basket.id).execute()
    return view(ctx, staff.id)


def void_line(ctx: BoxContext, staff: Staff, line_no: int) -> dict[str, Any]:
    """Void one line (audited); privileged, so refused while the audit chain is broken."""
    ctx.require_chain_intact()
    with write_txn():
        basket = find_basket(ctx, staff.id)
        line = (
            None
            if basket is None
            else BasketLine.get_or_none(
                BasketLine.basket == basket.id,
                BasketLine.line_no == line_no,
                BasketLine.voided == 0,
            )
        )
        if basket is None or line is None:
            raise NotFound(
                f"no open line {line_no} in your basket",
                Reason.LINE_NOT_FOUND,
                {"line_no": line_no},
            )
        BasketLine.update(voided=1).where(BasketLine.id == line.id).execute()
        audit.append(
            ctx,
            actor=f"staff:{staff.id}",
            action="sale.line_void",
            target=f"basket:{basket.id}",
            severity=Severity.INFO,
            details={
                "line_no": line_no,
                "sku": line.sku,
                "qty": line.qty,
                "unit_price_minor": line.unit_price_minor,
            },
        )
    return view(ctx, staff.id)


def totals_for(lines: list[BasketLine], setup: MoneySetup) -> Totals:
    """Totals of basket lines under the current tax rules."""
    return compute_totals(
        line_inputs(lines, setup.exponent),
        setup.classes,
        exponent=setup.exponent,
        rounding=setup.rounding,
    )


def view(ctx: BoxContext, staff_id: str) -> dict[str, Any]:
    """API form of the cashier's basket with running totals."""
    setup = money_setup()
    lines = active_lines(find_basket(ctx, staff_id))
    totals = totals_for(lines, setup)
    return {
        "currency": setup.currency,
        "lines": [
            {
                "line_no": pl.line.line_no,
                "product_id": pl.line.product_id,
                "sku": pl.line.sku,
                "name": pl.line.name,
                "barcode": pl.line.barcode,
                "qty": pl.line.qty,
                "unit_price": str(pl.line.unit_price),
                "line_total": str(pl.line_total),
                "tax_class": pl.line.tax_class,
                "tax": str(pl.tax),
            }
            for pl in totals.lines
        ],
        "item_count": totals.item_count,
        "subtotal": str(totals.subtotal),
        "tax_total": str(totals.tax_total),
        "total": str(totals.total),
    }
