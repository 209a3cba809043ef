"""An open basket's active lines with their products and approved manual prices, in one read.

Every scan and every payment prices the whole basket (`till.pricing`), so each request used
to read the lines, then their products, then their manual prices, and turn every line into a
peewee instance of each and into the engine's `SaleLineInput` again (issue 15 item 6: about
0.05 ms of CPU per line, most of an add-line's growth from the first scan to the thirtieth).
Here one constant statement reads all three, and what a line is made into is kept per thread
by the **whole row as read** (every column of the line, its product and its manual price)
and the exponent: a line, product or manual price that changed in any column is a new key, so
nothing kept can be stale; the kept instances are only read (nothing on the till writes
through them). `tests/appliance/till/test_hot_path.py` compares the result with the three reads it
replaces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from appliance.catalog.models import Product
from appliance.core.db import execute, model_reader
from appliance.till.models import BasketLine, SaleLine
from posdomain.money import from_minor
from posdomain.pricing import PriceOverride, ProductPrice, WholesaleTier
from posdomain.sale_pricing import SaleLineInput

_LINE = [f.column_name for f in BasketLine._meta.sorted_fields]
_PRODUCT = [f.column_name for f in Product._meta.sorted_fields]
_OVERRIDE = ["unit_price_minor", "approver_id", "reason_code", "percent"]
_read_line = model_reader(BasketLine, _LINE)
_read_product = model_reader(Product, _PRODUCT)
_P0 = len(_LINE)
_O0 = _P0 + len(_PRODUCT)

_SQL = (
    "SELECT "
    + ", ".join(
        [f'l."{c}"' for c in _LINE]
        + [f'p."{c}"' for c in _PRODUCT]
        + [f'o."{c}"' for c in _OVERRIDE]
    )
    + " FROM basket_lines l LEFT JOIN products p ON p.id = l.product_id"
    " LEFT JOIN basket_price_overrides o ON o.basket_id = l.basket_id AND o.line_no = l.line_no"
    " WHERE l.basket_id = ? AND l.voided = 0 ORDER BY l.line_no"
)


def qty_of(line: BasketLine | SaleLine) -> Decimal:
    """A line's quantity (integer for 'each', kg with 3 decimals for 'weight'); a sale line
    of returned empties holds it negative."""
    if line.unit == "each":
        return Decimal(int(line.qty_milli / 1000))
    return Decimal(line.qty_milli).scaleb(-3)


# ProductPrice per stored product state: every scan prices the whole basket again
_PRICES: dict[tuple[Any, ...], ProductPrice] = {}
_PRICES_KEPT = 4096


def product_price(product: Product, exponent: int) -> ProductPrice:
    """The pricing engine's view of a stored product (kept per everything it is made from)."""
    key = (
        product.id, product.price_minor, product.category, product.unit,
        product.wholesale_tiers, product.min_price_minor, product.cost_minor, exponent,
    )  # fmt: skip
    found = _PRICES.get(key)
    if found is None:
        if len(_PRICES) >= _PRICES_KEPT:
            _PRICES.clear()
        found = _PRICES[key] = _product_price(product, exponent)
    return found


def _product_price(product: Product, exponent: int) -> ProductPrice:
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


def line_input(line: BasketLine, product: Product, exponent: int) -> SaleLineInput:
    """What the pricing engine prices a stored basket line from."""
    label = line.label_price_minor
    return SaleLineInput(
        line_id=str(line.line_no),
        product=product_price(product, exponent),
        qty=qty_of(line),
        unit="weight" if line.unit == "weight" else "each",
        tax_class=product.tax_class,
        is_deposit=bool(product.is_deposit),
        label_price=None if label is None else from_minor(label, exponent),
        returned=bool(line.returned),
        return_of=_return_of(line),
    )


def _return_of(line: BasketLine) -> str | None:
    """An exchange's returned line: "<sale id>:<line no>" of the sale line it brings back."""
    if line.return_sale_id is None:
        return None
    return f"{line.return_sale_id}:{line.return_line_no}"


@dataclass(frozen=True)
class StoredLine:
    """One active basket line as stored: the line, its product (None if the catalog no
    longer holds it), its approved manual price (line id = line number as text) and what
    the engine prices it from (None without a product)."""

    line: BasketLine
    product: Product | None
    override: PriceOverride | None
    entry: SaleLineInput | None


def stored_line(
    line: BasketLine, product: Product | None, override: PriceOverride | None, exponent: int
) -> StoredLine:
    """A line with its product and manual price, and the engine's input made of them."""
    entry = None if product is None else line_input(line, product, exponent)
    return StoredLine(line, product, override, entry)


KEEP = 4096  # stored lines kept per thread (cleared when full)


def _stored(row: tuple[Any, ...], exponent: int) -> StoredLine:
    line = _read_line(row[:_P0])
    product = None if row[_P0] is None else _read_product(row[_P0:_O0])
    price, approver, reason, percent = row[_O0:]
    override = None
    if price is not None:
        override = PriceOverride(
            line_id=str(line.line_no),
            unit_price=from_minor(price, exponent),
            approver_id=approver,
            reason_code=reason,
            percent=None if percent is None else Decimal(percent),
        )
    return stored_line(line, product, override, exponent)


def active_stored_lines(
    basket_id: int, exponent: int, kept: dict[tuple[Any, ...], StoredLine]
) -> list[StoredLine]:
    """The basket's non-voided lines in line order, each with its product and manual price;
    `kept` holds what earlier reads made of each row (one dict per request thread)."""
    out: list[StoredLine] = []
    for row in execute(_SQL, (basket_id,)):
        key = (exponent, row)
        found = kept.get(key)
        if found is None:
            if len(kept) >= KEEP:
                kept.clear()
            found = kept[key] = _stored(row, exponent)
        out.append(found)
    return out
