"""The money rules a till prices with, from the applied down messages (config, pricing, flags).

* `config` gives currency, exponent, the `tax` body (posdomain.tax), `barcode_formats` and the
  tenant's `policy_key` (the HMAC key pricing policies are signed with).
* `pricing` gives the signed policies; promotions run only with `advanced_discounts` on (the
  `flags` down message, or the pricing body's own `flags`), and only policies that verify
  (fail closed). A box without a policy key executes no policy at all.
* Every rejected policy version is audited once (`policy_rejections`), reason kept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from appliance.models import BasketLine, Product, SaleLine
from appliance.services.config_docs import config_body, exponent_of
from appliance.services.price_overrides import overrides_for
from appliance.services.state import held_versions
from posdomain.barcodes import BarcodeFormat, parse_barcode_formats
from posdomain.errors import Conflict, Reason
from posdomain.money import from_minor
from posdomain.policy import PolicyRejection as Rejection
from posdomain.pricing import (
    BasketItem,
    PricedBasket,
    PricedLine,
    PriceList,
    ProductPrice,
    WholesaleTier,
    price_basket,
)
from posdomain.tax import LineTax, TaxConfig, TaxLine, TaxResult, compute_tax, parse_tax_config


@dataclass(frozen=True)
class MoneySetup:
    """Currency, tax rules, barcode layouts and promotion policies in force on this box."""

    currency: str
    exponent: int
    tax: TaxConfig
    formats: tuple[BarcodeFormat, ...]
    advanced_discounts: bool
    policies: tuple[dict[str, Any], ...]
    policy_key: str | None
    versions: dict[str, int]


def _refuse(missing: str) -> Conflict:
    return Conflict(
        f"no {missing} configuration received from the hub yet",
        Reason.CONFLICT,
        {"missing": missing},
    )


def _advanced_discounts(pricing: dict[str, Any]) -> bool:
    flags = config_body("flags") or {}
    own = pricing.get("flags")
    if isinstance(own, dict) and "advanced_discounts" in own:
        return own["advanced_discounts"] is True
    return flags.get("advanced_discounts") is True


def money_setup() -> MoneySetup:
    """The rules from the hub's config; selling is refused until currency and tax arrived."""
    body = config_body("config")
    if body is None:
        raise _refuse("config")
    tax_body = body.get("tax") or {}
    if not body.get("currency"):
        raise _refuse("currency")
    if not tax_body.get("classes"):
        raise _refuse("tax")
    exponent = exponent_of(body)
    pricing = config_body("pricing") or {}
    key = body.get("policy_key")
    return MoneySetup(
        currency=str(body["currency"]),
        exponent=exponent,
        tax=parse_tax_config(tax_body, exponent),
        formats=parse_barcode_formats(body.get("barcode_formats") or []),
        advanced_discounts=_advanced_discounts(pricing),
        policies=tuple(pricing.get("policies") or ()),
        policy_key=key if isinstance(key, str) and key else None,
        versions=held_versions(),
    )


def policy_version(setup: MoneySetup) -> int:
    """The version of the pricing message whose policies priced this basket (0 = none)."""
    return setup.versions.get("pricing", 0) if setup.advanced_discounts else 0


def unverifiable_without_key(setup: MoneySetup) -> list[Rejection]:
    """With the flag on but no policy key, every policy is unverifiable (fail closed)."""
    if not setup.advanced_discounts or setup.policy_key is not None:
        return []
    return [
        Rejection(
            str(p.get("policy_id", "")),
            p.get("policyVersion") if type(p.get("policyVersion")) is int else None,
            Reason.POLICY_UNVERIFIABLE,
            "no policy key configured on this box",
        )
        for p in setup.policies
        if isinstance(p, dict)
    ]


@dataclass(frozen=True)
class PricedBasketLine:
    """One basket line with its product, quantity, list unit price, pricing and tax."""

    line: BasketLine
    product: Product
    qty: Decimal
    unit_price: Decimal
    priced: PricedLine
    tax: LineTax


@dataclass(frozen=True)
class BasketTotals:
    """A whole priced basket: lines, the engines' results and rejected policies to audit."""

    lines: tuple[PricedBasketLine, ...]
    pricing: PricedBasket
    tax: TaxResult
    rejections: tuple[Rejection, ...]


def qty_of(line: BasketLine | SaleLine) -> Decimal:
    """A line's quantity (integer for 'each', kg with 3 decimals for 'weight')."""
    if line.unit == "each":
        return Decimal(line.qty_milli // 1000)
    return Decimal(line.qty_milli).scaleb(-3)


def product_price(product: Product, exponent: int) -> ProductPrice:
    """The pricing engine's view of a stored product."""
    tiers = tuple(
        WholesaleTier(Decimal(t["min_qty"]), Decimal(t["price"]))
        for t in json.loads(product.wholesale_tiers)
    )
    optional = {
        "min_price": product.min_price_minor,
        "cost": product.cost_minor,
    }
    return ProductPrice(
        product_id=product.id,
        price=from_minor(product.price_minor, exponent),
        category=product.category,
        unit="weight" if product.unit == "weight" else "each",
        wholesale_tiers=tuple(sorted(tiers, key=lambda t: t.min_qty)),
        **{k: None if v is None else from_minor(v, exponent) for k, v in optional.items()},
    )


def _item(line: BasketLine, product: Product, base: ProductPrice, exponent: int) -> BasketItem:
    """A label-priced line is one 'weighed' unit at the printed price (extended = label)."""
    if line.label_price_minor is None:
        return BasketItem(str(line.line_no), base, qty_of(line))
    label = ProductPrice(
        product_id=product.id,
        price=from_minor(line.label_price_minor, exponent),
        category=product.category,
        unit="weight",
    )
    return BasketItem(str(line.line_no), label, Decimal(1))


def _unit_price(line: BasketLine, product: Product, priced: PricedLine, exponent: int) -> Decimal:
    """List unit price; a price label on a weighed product shows the catalog price per kg."""
    if line.label_price_minor is None:
        return priced.unit_price
    if line.unit == "weight" and product.price_minor > 0:
        return from_minor(product.price_minor, exponent)
    return from_minor(line.label_price_minor, exponent)


def price_lines(
    setup: MoneySetup,
    lines: Sequence[BasketLine],
    price_list: PriceList,
    *,
    cash: bool,
    now: datetime,
) -> BasketTotals:
    """Price and tax the active lines of a basket through the posdomain engines."""
    wanted = list({ln.product_id for ln in lines})
    products = {p.id: p for p in Product.select().where(Product.id.in_(wanted))}
    prices = {pid: product_price(p, setup.exponent) for pid, p in products.items()}
    items = [
        _item(ln, products[ln.product_id], prices[ln.product_id], setup.exponent) for ln in lines
    ]
    priced = price_basket(
        items,
        price_list=price_list,
        advanced_discounts=setup.advanced_discounts and setup.policy_key is not None,
        policies=setup.policies,
        policy_key=setup.policy_key or "",
        now=now,
        overrides=overrides_for(lines, setup.exponent),
        exponent=setup.exponent,
    )
    taxed = compute_tax(
        [
            TaxLine(pl.line_id, products[ln.product_id].tax_class, pl.amount, qty_of(ln),
                    bool(products[ln.product_id].is_deposit))
            for ln, pl in zip(lines, priced.lines, strict=True)
        ],
        setup.tax,
        cash=cash,
    )  # fmt: skip
    out = tuple(
        PricedBasketLine(ln, products[ln.product_id], qty_of(ln),
                         _unit_price(ln, products[ln.product_id], pl, setup.exponent), pl, tx)
        for ln, pl, tx in zip(lines, priced.lines, taxed.lines, strict=True)
    )  # fmt: skip
    rejected = (*priced.rejected_policies, *unverifiable_without_key(setup))
    return BasketTotals(out, priced, taxed, rejected)


def line_json(pbl: PricedBasketLine) -> dict[str, Any]:
    """One line in the sale.completed wire form (also what the basket API shows)."""
    weighed = pbl.line.unit == "weight"
    return {
        "line_no": pbl.line.line_no,
        "product_id": pbl.product.id,
        "sku": pbl.line.sku,
        "name": pbl.line.name,
        "barcode": pbl.line.barcode,
        "qty": str(pbl.qty),
        "unit": pbl.line.unit,
        "weight": str(pbl.qty) if weighed else None,
        "unit_price": str(pbl.unit_price),
        "extended": str(pbl.priced.extended),
        "discounts": [
            {
                "policy_id": d.policy_id,
                "policy_version": d.policy_version,
                "kind": d.kind,
                "amount": str(d.amount),
            }
            for d in pbl.priced.discounts
        ],
        "line_total": str(pbl.tax.gross),
        "tax_class": pbl.tax.tax_class,
        "tax_rate": str(pbl.tax.rate),
        "tax": str(pbl.tax.tax),
        "deposit_for_line": pbl.line.parent_line_no,
        "price_override": _override_json(pbl),
    }


def _override_json(pbl: PricedBasketLine) -> dict[str, Any] | None:
    """The supervisor-approved manual price of a line (REP-T-11/13), if any."""
    found = pbl.priced.override
    if found is None:
        return None
    return {
        "unit_price": str(found.unit_price),
        "approver_id": found.approver_id,
        "reason_code": found.reason_code,
    }


def totals_json(totals: BasketTotals) -> dict[str, Any]:
    """Document totals, the tax breakdown and the cash-rounding line (wire form)."""
    tax = totals.tax
    return {
        "price_list": totals.pricing.price_list,
        "subtotal": str(totals.pricing.subtotal),
        "discount_total": str(totals.pricing.discount_total),
        "tax_total": str(tax.tax_total),
        "total": str(tax.total),
        "tax_breakdown": [
            {
                "tax_class": r.tax_class,
                "rate": str(r.rate),
                "inclusive": r.inclusive,
                "net": str(r.net),
                "tax": str(r.tax),
                "gross": str(r.gross),
            }
            for r in tax.breakdown
        ],
        "cash_rounding": str(tax.cash_rounding),
        "payable": str(tax.payable),
        "item_count": sum((int(pbl.qty) if pbl.line.unit == "each" else 1) for pbl in totals.lines),
    }
