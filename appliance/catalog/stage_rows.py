"""A catch-up chunk's products as the rows the stage holds (issue 15 item 7).

`fast_rows(products)` answers a chunk body's products as products rows and barcode keys
(`catch_up.chunk_of` calls it). Most chunks take this fast path: each product dict is
checked with plain type and length tests that accept only what `WireProduct` certainly
accepts, with the values pydantic would give it (so a 100 000-product download builds no
model per product: one pass instead of pydantic's and then the row's). Anything else — a
field of another type, out of bounds, a product that is not an object, a bad price — sends
the whole chunk through `WireProduct` (`model_rows`), which refuses it or answers the same
rows (tests/appliance/catalog/test_stage_rows.py compares both on hostile products).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from appliance.catalog.models import Product
from appliance.catalog.wire import MAX_AGE, MAX_VERSION, WireProduct
from posdomain.barcodes import check_digit, validate_gtin
from posdomain.errors import ValidationError
from posdomain.money import parse_minor, parse_money
from posdomain.obs import log_event

log = logging.getLogger(__name__)

MAX_CHUNK_PRODUCTS = 5000  # CatalogChunk.products' max_length


@dataclass(frozen=True)
class StagedRows:
    """A chunk's products as rows (`ROW_NAMES` order), their ids, and their barcode rows."""

    rows: list[tuple[Any, ...]]
    ids: list[str]
    barcodes: list[tuple[str, str, str]]


ROW_NAMES = [
    "id", "sku", "name", "price_minor", "tax_class", "unit", "age_restricted", "active",
    "category", "wholesale_tiers", "min_price_minor", "cost_minor", "age_restriction",
    "deposit_product_id", "is_deposit", "version",
]  # fmt: skip  # the values of a row, in order

_COLUMNS: list[str] = []


def product_columns() -> list[str]:
    """The products columns of a row, in order."""
    if not _COLUMNS:
        _COLUMNS.extend(Product._meta.fields[n].column_name for n in ROW_NAMES)
    return _COLUMNS


def _minor(value: str | None, exponent: int, field: str) -> int | None:
    return None if value is None else parse_minor(value, exponent, field)


def _price(price: str, sku: str, exponent: int) -> int:
    """The price in minor units, parsed under the constant field name (parse_minor caches by
    value and field: with the SKU in the field every product missed the cache); a bad price
    is parsed again to name the product in the error."""
    try:
        return parse_minor(price, exponent, "price")
    except ValidationError:
        return parse_minor(price, exponent, f"price of {sku}")


def _tiers_text(tiers: Sequence[tuple[str, str]], exponent: int) -> str:
    if not tiers:
        return "[]"  # most products have none
    return json.dumps(
        [
            {"min_qty": qty, "price": str(parse_money(price, exponent, "tier price"))}
            for qty, price in tiers
        ]
    )


def _row(p: WireProduct, exponent: int) -> tuple[Any, ...]:
    """The product as a products row, its values in `ROW_NAMES` order."""
    return (
        p.id,
        p.sku,
        p.name,
        _price(p.price, p.sku, exponent),
        p.tax_class,
        p.unit,
        int(p.age_restriction is not None),
        int(p.active),
        p.category,
        _tiers_text([(t.min_qty, t.price) for t in p.wholesale_tiers], exponent),
        _minor(p.min_price, exponent, "min_price"),
        _minor(p.cost, exponent, "cost"),
        p.age_restriction,
        p.deposit_product_id,
        int(p.is_deposit),
        p.version,
    )


def gtin14(code: str) -> str:
    """`validate_gtin(code).gtin14`: a 12-, 13- or 14-digit code with its check digit is
    its own GTIN-14 zero-filled (what validate_gtin answers for one) without building its
    Gtin; anything else (EAN-8, UPC-E, odd input, a bad check digit) asks validate_gtin."""
    digits = len(code) in (12, 13, 14) and code.isascii() and code.isdigit()
    if digits and check_digit(code[:-1]) == code[-1]:
        return code.zfill(14)
    return validate_gtin(code).gtin14


def barcode_rows(codes: Sequence[tuple[str, Sequence[str]]]) -> list[tuple[str, str, str]]:
    """(GTIN-14, code, product id) of every valid code of (product id, codes) pairs (each
    validated once; a later claim on a GTIN wins)."""
    rows: dict[str, tuple[str, str, str]] = {}
    for product_id, product_codes in codes:
        for code in product_codes:
            try:
                gtin = gtin14(code)
            except ValidationError:
                log_event(
                    log, "invalid GTIN skipped", logging.WARNING, product=product_id, code=code
                )
                continue
            rows[gtin] = (gtin, code, product_id)
    return list(rows.values())


def model_rows(products: Sequence[WireProduct], exponent: int) -> StagedRows:
    """The rows of validated products."""
    return StagedRows(
        [_row(p, exponent) for p in products],
        [p.id for p in products],
        barcode_rows([(p.id, p.barcodes) for p in products]),
    )


def _text(value: object, longest: int) -> TypeGuard[str]:
    return type(value) is str and 0 < len(value) <= longest


def _optional_text(value: object) -> bool:
    return value is None or type(value) is str


def _tiers(raw: object) -> list[tuple[str, str]] | None:
    """The tiers of a product dict as (min_qty, price), or None unless certainly valid."""
    if type(raw) is not list:
        return None
    out = []
    for tier in raw:
        if type(tier) is not dict:
            return None
        qty, price = tier.get("min_qty"), tier.get("price")
        if type(qty) is not str or type(price) is not str:
            return None
        out.append((qty, price))
    return out


def _fast_row(p: object, exponent: int) -> tuple[tuple[Any, ...], list[str]] | None:
    """(row, barcodes) of a product dict that `WireProduct` certainly accepts, with its
    values; None for anything else (the model decides)."""
    if type(p) is not dict:
        return None
    get = p.get
    pid, sku, name, tax_class, price = (
        get("id"),
        get("sku"),
        get("name"),
        get("tax_class"),
        get("price"),
    )
    if not (_text(pid, 64) and _text(sku, 64) and _text(name, 200)):
        return None
    if type(tax_class) is not str or type(price) is not str:
        return None
    codes = p.get("barcodes", [])
    if type(codes) is not list or any(type(c) is not str for c in codes):
        return None
    unit = p.get("unit", "each")
    category, deposit = p.get("category"), p.get("deposit_product_id")
    min_price, cost = p.get("min_price"), p.get("cost")
    if unit not in ("each", "weight") or type(unit) is not str:
        return None
    if not all(_optional_text(v) for v in (category, deposit, min_price, cost)):
        return None
    age = p.get("age_restriction")
    version = p.get("version", 0)
    is_deposit, active = p.get("is_deposit", False), p.get("active", True)
    if not (age is None or (type(age) is int and 0 <= age <= MAX_AGE)):
        return None
    if type(version) is not int or not 0 <= version <= MAX_VERSION:
        return None
    if type(is_deposit) is not bool or type(active) is not bool:
        return None
    tiers = _tiers(p.get("wholesale_tiers", []))
    if tiers is None:
        return None
    row = (
        pid,
        sku,
        name,
        _price(price, sku, exponent),
        tax_class,
        unit,
        int(age is not None),
        int(active),
        category,
        _tiers_text(tiers, exponent),
        _minor(min_price, exponent, "min_price"),
        _minor(cost, exponent, "cost"),
        age,
        deposit,
        int(is_deposit),
        version,
    )
    return row, codes


def fast_rows(products: object, exponent: int) -> StagedRows | None:
    """The rows of a chunk body's `products` if every product is certainly valid, else None
    (then `WireProduct` decides). A bad price raises as on the model path."""
    if type(products) is not list or len(products) > MAX_CHUNK_PRODUCTS:
        return None
    rows, codes = [], []
    for p in products:
        fast = _fast_row(p, exponent)
        if fast is None:
            return None
        rows.append(fast[0])
        codes.append((fast[0][0], fast[1]))
    return StagedRows(rows, [r[0] for r in rows], barcode_rows(codes))
