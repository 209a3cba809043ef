"""Pricing a basket on the box: gather what the sale is priced from, cross into posdomain once.

`price_lines` reads the lines' products and the approved manual line prices, builds
`posdomain.sale_pricing.SaleInputs` with the money setup, makes the one `price_sale` call
(list prices, tiers, price labels, overrides, promotions, tax) and pairs its lines back with
the basket lines and products. The same call prices the basket shown after every scan and
the basket being paid. `line_json` / `totals_json` are the wire forms of the result.

Repricing after every scan (issue 15): an open basket is priced with a per-thread
`posdomain.sale_pricing.SaleMemo` (what depends on one line alone is kept between scans; the
result is the one whole-basket computation, digit for digit), so an added line costs its own
pricing and the basket-wide sums. A basket being paid (`kind="sale"`) is priced with the same
memo (issue 15, item 6: its lines were all priced by the scans that added them; the return
rules of a sale depend on the whole basket and are checked afresh), so paying costs the
basket-wide sums, not 30 lines again; `tests/posdomain/test_incremental_pricing.py` checks
both kinds against a fresh computation after every step.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, cast

from appliance.catalog.models import Product
from appliance.core.db import select_models
from appliance.till.line_rows import (
    StoredLine,
    active_stored_lines,
    qty_of,
    stored_line,
)
from appliance.till.models import Basket, BasketLine, BasketPriceOverride, Sale
from appliance.till.money_setup import MoneySetup
from posdomain.money import from_minor
from posdomain.pricing import (
    PriceList,
    PriceOverride,
    ProductPrice,
    base_unit_price,
)
from posdomain.sale_pricing import (
    PricedSale,
    PricedSaleLine,
    SaleInputs,
    SaleMemo,
    price_sale,
)
from posdomain.tax import TaxConfig
from posdomain.tax_wire import breakdown_json, line_taxes_json


@dataclass(frozen=True)
class PricedBasketLine:
    """One basket line with its product and what the domain priced it at (`sold`)."""

    line: BasketLine
    product: Product
    sold: PricedSaleLine


@dataclass(frozen=True)
class BasketTotals:
    """A whole priced basket: its lines and the domain's result (rejected policies to audit)."""

    lines: tuple[PricedBasketLine, ...]
    sale: PricedSale


def charged_unit_price(line: BasketLine, price: ProductPrice) -> Decimal:
    """The list unit price this line is charged now: the wholesale tier reached by the
    product's quantity in the basket on a wholesale basket, else retail."""
    basket = Basket.get_by_id(basket_of(line))
    if basket.price_list != "wholesale":
        return price.price
    same = BasketLine.select().where(
        BasketLine.basket == basket.id,
        BasketLine.product_id == line.product_id,
        BasketLine.voided == 0,
    )
    return base_unit_price(price, sum((qty_of(ln) for ln in same), Decimal(0)), "wholesale")


def _marks(values: Sequence[object]) -> str:
    """The "?, ?, ..." of an IN list (the values go as parameters)."""
    return ", ".join("?" * len(values))


def basket_of(line: BasketLine) -> int:
    """The basket id of a line without loading the basket (peewee's `basket_id` accessor)."""
    return int(cast(Any, line).basket_id)


def approved_prices(lines: Sequence[BasketLine], exponent: int) -> tuple[PriceOverride, ...]:
    """The supervisor-approved manual prices of these lines (line id = line number as text)."""
    if not lines:
        return ()
    baskets = sorted({basket_of(ln) for ln in lines})
    numbers = sorted({ln.line_no for ln in lines})
    sql = (
        f"SELECT * FROM basket_price_overrides WHERE basket_id IN ({_marks(baskets)})"
        f" AND line_no IN ({_marks(numbers)})"
    )
    rows = select_models(BasketPriceOverride, sql, (*baskets, *numbers))
    return tuple(
        PriceOverride(
            line_id=str(row.line_no),
            unit_price=from_minor(row.unit_price_minor, exponent),
            approver_id=row.approver_id,
            reason_code=row.reason_code,
            percent=None if row.percent is None else Decimal(row.percent),
        )
        for row in rows
    )


class _Kept(threading.local):
    """What one request thread keeps between scans (threads never share these)."""

    def __init__(self) -> None:
        self.memo = SaleMemo()
        self.lines: dict[tuple[Any, ...], StoredLine] = {}  # `till.line_rows`
        self.answers: dict[int, tuple[Any, ...]] = {}  # `lines_json`


_KEPT = _Kept()


def stored_lines(lines: Sequence[BasketLine], exponent: int) -> list[StoredLine]:
    """These lines with their products and approved manual prices, read now (a missing
    product is None)."""
    wanted = sorted({ln.product_id for ln in lines})
    sql = f"SELECT * FROM products WHERE id IN ({_marks(wanted)})"
    products = {p.id: p for p in select_models(Product, sql, wanted)} if wanted else {}
    overrides = {o.line_id: o for o in approved_prices(lines, exponent)}
    return [
        stored_line(ln, products.get(ln.product_id), overrides.get(str(ln.line_no)), exponent)
        for ln in lines
    ]


def sale_inputs(
    setup: MoneySetup,
    stored: Sequence[StoredLine],
    price_list: PriceList,
    *,
    cash: bool,
    now: datetime,
    kind: Literal["sale", "open"] = "open",
) -> SaleInputs:
    """Everything the domain prices these lines from (a line whose product the catalog no
    longer holds is a KeyError, as it always was)."""
    entries = []
    for s in stored:
        if s.entry is None:
            raise KeyError(s.line.product_id)
        entries.append(s.entry)
    return SaleInputs(
        lines=tuple(entries),
        price_list=price_list,
        tax=setup.tax,
        exponent=setup.exponent,
        now=now,
        cash=cash,
        overrides=tuple(s.override for s in stored if s.override is not None),
        advanced_discounts=setup.advanced_discounts,
        policies=setup.policies,
        policy_key=setup.policy_key,
        kind=kind,
    )


def price_lines(
    setup: MoneySetup,
    lines: Sequence[BasketLine],
    price_list: PriceList,
    *,
    cash: bool,
    now: datetime,
    kind: Literal["sale", "open"] = "open",
) -> BasketTotals:
    """Price and tax these lines of a basket in one posdomain call (`kind` "sale" when it is
    being paid: returned lines must then be matched, `posdomain.sale_pricing`)."""
    stored = stored_lines(lines, setup.exponent)
    return price_stored(setup, stored, price_list, cash=cash, now=now, kind=kind)


def price_basket(
    setup: MoneySetup,
    basket_id: int,
    price_list: PriceList,
    *,
    cash: bool,
    now: datetime,
    kind: Literal["sale", "open"] = "open",
) -> BasketTotals:
    """`price_lines` of a basket's active lines, read in one statement and made into the
    engine's inputs once per stored line state (`till.line_rows`)."""
    stored = active_stored_lines(basket_id, setup.exponent, _KEPT.lines)
    return price_stored(setup, stored, price_list, cash=cash, now=now, kind=kind)


def price_stored(
    setup: MoneySetup,
    stored: Sequence[StoredLine],
    price_list: PriceList,
    *,
    cash: bool,
    now: datetime,
    kind: Literal["sale", "open"] = "open",
) -> BasketTotals:
    """The one posdomain call over these stored lines, paired back with lines and products."""
    inputs = sale_inputs(setup, stored, price_list, cash=cash, now=now, kind=kind)
    # per-line results kept from the scans (the answer is the fresh one, digit for digit)
    sale = price_sale(inputs, memo=_KEPT.memo)
    out = tuple(
        PricedBasketLine(s.line, cast(Product, s.product), sold)
        for s, sold in zip(stored, sale.lines, strict=True)
    )
    return BasketTotals(out, sale)


def line_json(
    pbl: PricedBasketLine, tax_config: TaxConfig, labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """One line in the sale.completed wire form (also what the basket API shows); each
    discount carries the promotion's display `name` (`till.promotion_names`) beside its id."""
    weighed = pbl.line.unit == "weight"
    names = labels or {}
    return {
        "line_no": pbl.line.line_no,
        "product_id": pbl.product.id,
        "sku": pbl.line.sku,
        "name": pbl.line.name,
        "barcode": pbl.line.barcode,
        "qty": str(pbl.sold.qty),
        "unit": pbl.line.unit,
        "weight": str(pbl.sold.qty) if weighed else None,
        "unit_price": str(pbl.sold.unit_price),
        "extended": str(pbl.sold.priced.extended),
        "discounts": [
            {
                "policy_id": d.policy_id,
                "name": names.get(d.policy_id) or d.policy_id,
                "policy_version": d.policy_version,
                "kind": d.kind,
                "amount": str(d.amount),
            }
            for d in pbl.sold.priced.discounts
        ],
        "line_total": str(pbl.sold.tax.gross),
        "tax_class": pbl.sold.tax.tax_class,
        "tax_rate": str(pbl.sold.tax.rate),
        "tax": str(pbl.sold.tax.tax),
        "taxes": line_taxes_json(pbl.sold.tax, tax_config),
        "deposit_for_line": pbl.line.parent_line_no,
        "price_override": _override_json(pbl),
        "return_of": _return_json(pbl.line),
    }


_ANSWERS_KEPT = 2048


def lines_json(
    totals: BasketTotals, tax_config: TaxConfig, labels: Mapping[str, str]
) -> list[dict[str, Any]]:
    """`line_json` of every line of a priced basket; a line's answer is kept while it is
    made of the very same objects: the stored line (`till.line_rows` keeps one per stored
    state), the engine's priced line and line tax (its memo hands back the kept ones), the
    tax config, equal promotion names and the same quantity and unit price texts; a line
    brought back by an exchange is always written afresh (it reads its sale). The kept
    entry holds those objects, so none of their ids can be reused while it is kept. The
    answers are shared: callers copy one before changing it."""
    kept = _KEPT.answers
    out = []
    for pbl in totals.lines:
        sold = pbl.sold
        texts = (str(sold.qty), str(sold.unit_price))
        entry = kept.get(id(pbl.line))
        if (
            entry is not None
            and entry[0] is pbl.line
            and entry[1] is pbl.product
            and entry[2] is sold.priced
            and entry[3] is sold.tax
            and entry[4] is tax_config
            and entry[5] == texts
            and entry[6] == labels
        ):
            out.append(entry[7])
            continue
        wire = line_json(pbl, tax_config, labels)
        if pbl.line.return_sale_id is None:
            if len(kept) >= _ANSWERS_KEPT:
                kept.clear()
            kept[id(pbl.line)] = (
                pbl.line,
                pbl.product,
                sold.priced,
                sold.tax,
                tax_config,
                texts,
                dict(labels),
                wire,
            )
        out.append(wire)
    return out


def _return_json(line: BasketLine) -> dict[str, Any] | None:
    """The sale line an exchange's returned line brings back (sale id, line, receipt no)."""
    if line.return_sale_id is None:
        return None
    sale = Sale.get_or_none(Sale.id == line.return_sale_id)
    return {
        "sale_id": line.return_sale_id,
        "line_no": line.return_line_no,
        "receipt_no": None if sale is None else sale.receipt_no,
    }


def _override_json(pbl: PricedBasketLine) -> dict[str, Any] | None:
    """The supervisor-approved manual price of a line (REP-T-11/13), if any."""
    found = pbl.sold.priced.override
    if found is None:
        return None
    return {
        "unit_price": str(found.unit_price),
        "approver_id": found.approver_id,
        "reason_code": found.reason_code,
    }


def totals_json(totals: BasketTotals) -> dict[str, Any]:
    """Document totals, the tax breakdown and the cash-rounding line (wire form)."""
    tax = totals.sale.tax
    return {
        "price_list": totals.sale.pricing.price_list,
        "subtotal": str(totals.sale.pricing.subtotal),
        "discount_total": str(totals.sale.pricing.discount_total),
        "tax_total": str(tax.tax_total),
        "total": str(tax.total),
        "tax_breakdown": breakdown_json(tax.breakdown),
        # the returns side on its own (returned empties, an exchange): rows that the breakdown
        # above nets into each class
        "return_tax_breakdown": breakdown_json(tax.return_breakdown),
        "cash_rounding": str(tax.cash_rounding),
        "payable": str(tax.payable),
        "item_count": sum(
            (int(pbl.sold.qty) if pbl.line.unit == "each" else 1)
            for pbl in totals.lines
            if not pbl.line.returned
        ),
        "returned_total": str(
            sum((p.sold.tax.gross for p in totals.lines if p.line.returned), Decimal(0))
        ),
    }
