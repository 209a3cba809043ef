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
* Mixed documents: a `returned` line (returned empties, the return half of an exchange) is
  priced at its list price without promotions or manual prices and enters the document with
  negative qty and money; tax is worked out per side and the total is the net of both. In a
  sale basket a returned line must be a deposit or name the sale line it returns
  (`return_of`), and returned empties may not outweigh what is sold: otherwise
  UNMATCHED_RETURN, nothing priced. Only matched returns (an exchange) may bring the net total
  to zero or below (money back). A matched return is priced at what the customer paid for it
  (`label_price`, one unit per line), taxed in its class like any line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from posdomain.errors import Reason, ValidationError
from posdomain.policy import PolicyRejection
from posdomain.pricing import (
    BasketItem,
    PricedBasket,
    PricedLine,
    PriceList,
    PriceMemo,
    PriceOverride,
    ProductPrice,
    price_basket,
)
from posdomain.tax import LineTax, TaxConfig, TaxLine, TaxResult, compute_tax
from posdomain.tax_engine import TaxMemo

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
    returned: bool = False
    return_of: str | None = None


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
    # "open": a basket being built (priced and shown; the return rules apply when it is paid)
    kind: Literal["sale", "open", "return"] = "sale"


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


def _unmatched(message: str, line_id: str) -> ValidationError:
    return ValidationError(message, Reason.UNMATCHED_RETURN, {"line_id": line_id})


def check_returns(inputs: SaleInputs) -> None:
    """UNMATCHED_RETURN for a returned line a sale basket cannot carry (see module doc)."""
    if inputs.kind != "sale":
        return
    for line in inputs.lines:
        if line.returned and not line.is_deposit and line.return_of is None:
            raise _unmatched(f"line {line.line_id}: a returned item needs its sale", line.line_id)
    returned = [ln for ln in inputs.lines if ln.returned and not ln.return_of]
    if returned and len(returned) == len(inputs.lines):
        raise _unmatched(
            "returned empties without a sale: use a deposit return", returned[0].line_id
        )


def _negated(line: PricedLine) -> PricedLine:
    return replace(
        line,
        qty=-line.qty,
        extended=-line.extended,
        discount_total=-line.discount_total,
        amount=-line.amount,
        floor_amount=-line.floor_amount,
    )


def _price_sides(inputs: SaleInputs, memo: PriceMemo | None) -> PricedBasket:
    """Sold lines with promotions and manual prices; returned lines at list price, negated."""
    sold = [ln for ln in inputs.lines if not ln.returned]
    back = [ln for ln in inputs.lines if ln.returned]
    ids = {ln.line_id for ln in sold}
    priced = price_basket(
        [_item(line) for line in sold],
        price_list=inputs.price_list,
        advanced_discounts=inputs.advanced_discounts and inputs.policy_key is not None,
        policies=inputs.policies,
        policy_key=inputs.policy_key or "",
        now=inputs.now,
        overrides=[o for o in inputs.overrides if o.line_id in ids],
        exponent=inputs.exponent,
        memo=memo,
    )
    if not back:
        return priced
    returned = price_basket([_item(line) for line in back], exponent=inputs.exponent, memo=memo)
    by_id = {pl.line_id: pl for pl in priced.lines}
    by_id.update({pl.line_id: _negated(pl) for pl in returned.lines})
    return replace(
        priced,
        lines=tuple(by_id[ln.line_id] for ln in inputs.lines),
        subtotal=priced.subtotal - returned.subtotal,
        total=priced.total - returned.total,
    )


def _signed(line: SaleLineInput) -> Decimal:
    """The line's quantity on the document: negative when returned."""
    return -line.qty if line.returned else line.qty


class SaleMemo:
    """What repricing an open basket after every scan keeps between calls (issue 15).

    Only results that depend on one line alone, keyed by every input they are made from
    (`posdomain.pricing.PriceMemo`, `posdomain.tax_engine.TaxMemo`); whatever depends on
    several lines is computed again, so `price_sale(inputs, memo=m)` is `price_sale(inputs)`
    whatever `m` held before."""

    def __init__(self) -> None:
        self.price = PriceMemo()
        self.tax = TaxMemo()


def price_sale(inputs: SaleInputs, memo: SaleMemo | None = None) -> PricedSale:
    """Price, discount, override and tax a whole sale (the one call a till makes per sale);
    `memo` (a basket being rung up) reuses per-line results of earlier calls."""
    check_returns(inputs)
    priced = _price_sides(inputs, None if memo is None else memo.price)
    pairs = list(zip(inputs.lines, priced.lines, strict=True))
    taxed = compute_tax(
        [
            TaxLine(pl.line_id, ln.tax_class, pl.amount, _signed(ln), ln.is_deposit)
            for ln, pl in pairs
        ],
        inputs.tax,
        cash=inputs.cash,
        memo=None if memo is None else memo.tax,
    )
    unmatched = sum(
        (tx.gross for ln, tx in zip(inputs.lines, taxed.lines, strict=True) if not ln.return_of),
        Decimal(0),
    )
    if inputs.kind == "sale" and unmatched < 0:
        first = next(ln.line_id for ln in inputs.lines if ln.returned and not ln.return_of)
        raise _unmatched(
            f"the returned empties ({unmatched}) outweigh the sale: use a deposit return", first
        )
    lines = tuple(
        PricedSaleLine(ln.line_id, _signed(ln), _unit_price(ln, pl), pl, tx)
        for (ln, pl), tx in zip(pairs, taxed.lines, strict=True)
    )
    rejected = (*priced.rejected_policies, *_unverifiable_without_key(inputs))
    return PricedSale(lines, priced, taxed, rejected)
