"""One sale priced in one call (FR-301, FR-302): what a till crosses into the domain with.

The box gathers everything a sale is priced from into `SaleInputs` (lines with their
products' pricing view, the price list, the approved line prices, the promotion policies and
their key, the tax config and the money setup) and calls `price_sale` once; the `PricedSale`
it gets back is what the basket shows and what a paid sale stores.

* A price-label line (the label carries the extended price) is one 'weighed' unit at the
  printed price; its shown unit price is the catalog price per kg for a weighed product.
* Promotions run only with `advanced_discounts` on and a policy key (fail closed): with the
  flag on but no key, every policy comes back rejected as unverifiable.
* Tax is computed on each line's amount after discounts (`posdomain.tax.compute_tax`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from posdomain.errors import Reason
from posdomain.policy import PolicyRejection
from posdomain.pricing import (
    BasketItem,
    PricedBasket,
    PricedLine,
    PriceList,
    PriceOverride,
    ProductPrice,
    price_basket,
)
from posdomain.tax import LineTax, TaxConfig, TaxLine, TaxResult, compute_tax

NO_KEY = "no policy key configured on this box"


@dataclass(frozen=True)
class SaleLineInput:
    """One line to price: id (unique in the sale), product, quantity and how it was sold.

    `unit` is how the line was sold (a weight label sells by weight whatever the product);
    `label_price` is the extended price printed on a price label; `tax_class` and
    `is_deposit` are the product's as the catalog holds them now.
    """

    line_id: str
    product: ProductPrice
    qty: Decimal
    unit: Literal["each", "weight"]
    tax_class: str
    is_deposit: bool = False
    label_price: Decimal | None = None


@dataclass(frozen=True)
class SaleInputs:
    """Everything one sale is priced from, gathered by the till before the one domain call."""

    lines: tuple[SaleLineInput, ...]
    price_list: PriceList
    tax: TaxConfig
    exponent: int
    now: datetime
    cash: bool
    overrides: tuple[PriceOverride, ...] = ()
    advanced_discounts: bool = False
    policies: tuple[Mapping[str, Any], ...] = ()
    policy_key: str | None = None


@dataclass(frozen=True)
class PricedSaleLine:
    """One priced line: the unit price to show, the engine's pricing and the line's tax."""

    line_id: str
    qty: Decimal
    unit_price: Decimal
    priced: PricedLine
    tax: LineTax


@dataclass(frozen=True)
class PricedSale:
    """A priced sale: lines in input order, the engines' results, rejected policies to audit."""

    lines: tuple[PricedSaleLine, ...]
    pricing: PricedBasket
    tax: TaxResult
    rejections: tuple[PolicyRejection, ...]


def _item(line: SaleLineInput) -> BasketItem:
    """A label-priced line is one 'weighed' unit at the printed price (extended = label)."""
    if line.label_price is None:
        return BasketItem(line.line_id, line.product, line.qty)
    label = ProductPrice(
        product_id=line.product.product_id,
        price=line.label_price,
        category=line.product.category,
        unit="weight",
    )
    return BasketItem(line.line_id, label, Decimal(1))


def _unit_price(line: SaleLineInput, priced: PricedLine) -> Decimal:
    """List unit price; a price label on a weighed product shows the catalog price per kg."""
    if line.label_price is None:
        return priced.unit_price
    if line.unit == "weight" and line.product.price > 0:
        return line.product.price
    return line.label_price


def _unverifiable_without_key(inputs: SaleInputs) -> list[PolicyRejection]:
    """With the flag on but no policy key, every policy is unverifiable (fail closed)."""
    if not inputs.advanced_discounts or inputs.policy_key is not None:
        return []
    return [
        PolicyRejection(
            str(p.get("policy_id", "")),
            p.get("policyVersion") if type(p.get("policyVersion")) is int else None,
            Reason.POLICY_UNVERIFIABLE,
            NO_KEY,
        )
        for p in inputs.policies
        if isinstance(p, Mapping)
    ]


def price_sale(inputs: SaleInputs) -> PricedSale:
    """Price, discount, override and tax a whole sale (the one call a till makes per sale)."""
    priced = price_basket(
        [_item(line) for line in inputs.lines],
        price_list=inputs.price_list,
        advanced_discounts=inputs.advanced_discounts and inputs.policy_key is not None,
        policies=inputs.policies,
        policy_key=inputs.policy_key or "",
        now=inputs.now,
        overrides=inputs.overrides,
        exponent=inputs.exponent,
    )
    pairs = list(zip(inputs.lines, priced.lines, strict=True))
    taxed = compute_tax(
        [TaxLine(pl.line_id, ln.tax_class, pl.amount, ln.qty, ln.is_deposit) for ln, pl in pairs],
        inputs.tax,
        cash=inputs.cash,
    )
    lines = tuple(
        PricedSaleLine(ln.line_id, ln.qty, _unit_price(ln, pl), pl, tx)
        for (ln, pl), tx in zip(pairs, taxed.lines, strict=True)
    )
    rejected = (*priced.rejected_policies, *_unverifiable_without_key(inputs))
    return PricedSale(lines, priced, taxed, rejected)
