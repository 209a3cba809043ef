"""The box catalog: upserting hub chunks, barcode lookup (GTIN-14 keyed) and name search.

Every barcode is stored under its GTIN-14 (`posdomain.barcodes.normalize_gtin`), so a UPC-A
scanned as 12 digits, its EAN-13 form and its GTIN-14 all find the same product. Codes that
are not valid GTINs cannot be scanned and are skipped (logged) when a chunk is applied.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from peewee import SQL, fn
from pydantic import BaseModel, ConfigDict, Field

from appliance.models import Barcode, Product
from appliance.services.config_docs import current_exponent
from posdomain.barcodes import (
    BarcodeFormat,
    VariableMeasure,
    is_valid_gtin,
    normalize_gtin,
    parse_variable_measure,
    validate_gtin,
)
from posdomain.errors import NotFound, Reason
from posdomain.money import format_minor, parse_money, to_minor
from posdomain.obs import log_event

log = logging.getLogger(__name__)
ROWS_PER_INSERT = 100  # keeps every INSERT well under SQLite's bound-variable limit


class WireTier(BaseModel):
    """A wholesale tier on the wire."""

    model_config = ConfigDict(extra="ignore")

    min_qty: str
    price: str


class WireProduct(BaseModel):
    """A product in a catalog chunk (CONTRACT "Product on the wire"; newer fields ignored)."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=64)
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    barcodes: list[str] = []
    category: str | None = None
    tax_class: str
    unit: Literal["each", "weight"] = "each"
    price: str
    wholesale_tiers: list[WireTier] = []
    age_restriction: int | None = None
    deposit_product_id: str | None = None
    is_deposit: bool = False
    active: bool = True
    version: int = Field(default=0, ge=0)
    min_price: str | None = None
    cost: str | None = None


def _minor(value: str | None, exponent: int, field: str) -> int | None:
    return None if value is None else to_minor(parse_money(value, exponent, field), exponent)


def _row(p: WireProduct, exponent: int) -> dict[str, Any]:
    tiers = [
        {"min_qty": t.min_qty, "price": str(parse_money(t.price, exponent, "tier price"))}
        for t in p.wholesale_tiers
    ]
    return {
        "id": p.id,
        "sku": p.sku,
        "name": p.name,
        "price_minor": _minor(p.price, exponent, f"price of {p.sku}"),
        "tax_class": p.tax_class,
        "unit": p.unit,
        "age_restricted": int(p.age_restriction is not None),
        "active": int(p.active),
        "category": p.category,
        "wholesale_tiers": json.dumps(tiers),
        "min_price_minor": _minor(p.min_price, exponent, "min_price"),
        "cost_minor": _minor(p.cost, exponent, "cost"),
        "age_restriction": p.age_restriction,
        "deposit_product_id": p.deposit_product_id,
        "is_deposit": int(p.is_deposit),
        "version": p.version,
    }


def _barcode_rows(products: Sequence[WireProduct]) -> list[dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for p in products:
        for code in p.barcodes:
            if not is_valid_gtin(code):
                log_event(log, "invalid GTIN skipped", logging.WARNING, product=p.id, code=code)
                continue
            gtin = normalize_gtin(code)
            rows[gtin] = {"gtin14": gtin, "code": code, "product": p.id}
    return list(rows.values())


def upsert_products(products: Sequence[WireProduct], exponent: int) -> None:
    """Insert or update products by id and replace their barcodes (caller's transaction)."""
    rows = [_row(p, exponent) for p in products]
    update = [f for f in Product._meta.sorted_fields if f.name != "id"]
    for start in range(0, len(rows), ROWS_PER_INSERT):
        part = rows[start : start + ROWS_PER_INSERT]
        Product.insert_many(part).on_conflict(
            conflict_target=[Product.id], preserve=update
        ).execute()
    ids = [p.id for p in products]
    for start in range(0, len(ids), ROWS_PER_INSERT):
        Barcode.delete().where(Barcode.product.in_(ids[start : start + ROWS_PER_INSERT])).execute()
    codes = _barcode_rows(products)
    for start in range(0, len(codes), ROWS_PER_INSERT):
        Barcode.insert_many(codes[start : start + ROWS_PER_INSERT]).on_conflict_replace().execute()


def find_by_gtin(code: str) -> Product | None:
    """The active product whose barcode has the same GTIN-14 as `code` (a valid GTIN)."""
    product: Product | None = (
        Product.select()
        .join(Barcode)
        .where(Barcode.gtin14 == normalize_gtin(code), Product.active == 1)
        .first()
    )
    return product


def find_by_sku(sku: str) -> Product | None:
    """The active product with this SKU."""
    product: Product | None = Product.get_or_none(Product.sku == sku, Product.active == 1)
    return product


@dataclass(frozen=True)
class ScanHit:
    """What a scan resolved to: the product, and the weight/price label if it was one."""

    product: Product
    measure: VariableMeasure | None = None


def _measured_product(measure: VariableMeasure) -> Product | None:
    """A variable-measure item: by its zero-filled in-store barcode, else by SKU = item code."""
    if is_valid_gtin(measure.lookup_barcode):
        product = find_by_gtin(measure.lookup_barcode)
        if product is not None:
            return product
    return find_by_sku(measure.item_code)


def resolve_scan(code: str, formats: Sequence[BarcodeFormat]) -> ScanHit:
    """A scanned code → product (400 INVALID_BARCODE on a bad check digit, 404 if unknown).

    The GTIN lookup runs first, so an in-store code stored as a product barcode wins; only
    then are the tenant's weight/price layouts tried.
    """
    code = code.strip()
    measure_shaped = any(len(code) == f.length and code.startswith(f.prefix) for f in formats)
    if not measure_shaped:
        validate_gtin(code)
    direct = find_by_gtin(code) if is_valid_gtin(code) else None
    if direct is not None:
        return ScanHit(direct)
    if not measure_shaped:
        raise unknown(code)
    measure = parse_variable_measure(code, formats)
    found = None if measure is None else _measured_product(measure)
    if found is None:
        raise unknown(code)
    return ScanHit(found, measure)


def unknown(barcode: str) -> NotFound:
    """The 404 for a scan that matches no product."""
    return NotFound(
        f"no product with barcode {barcode}", Reason.UNKNOWN_BARCODE, {"barcode": barcode}
    )


def get_product(product_id: str) -> Product | None:
    """A product by id (archived ones too: lines already in a basket keep their product)."""
    product: Product | None = Product.get_or_none(Product.id == product_id)
    return product


def _candidates(text: str) -> Any:
    """Ids whose name contains `text` (FTS5 trigram), whose SKU is `text` or carrying it as GTIN.

    One indexed subquery per way of matching, so a rare term never walks the whole catalog.
    """
    parts = ["SELECT id FROM products WHERE lower(sku) = ?"]
    params: list[Any] = [text]
    if len(text) >= 3:  # trigrams need three characters
        parts.append(
            "SELECT id FROM products WHERE rowid IN"
            " (SELECT rowid FROM products_fts WHERE products_fts MATCH ?)"
        )
        params.append('"' + text.replace('"', '""') + '"')
    if is_valid_gtin(text):
        parts.append("SELECT product_id FROM barcodes WHERE gtin14 = ?")
        params.append(normalize_gtin(text))
    return SQL("(" + " UNION ".join(parts) + ")", params)


def search(query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Active products by name (contains), exact SKU or barcode; an empty query lists the first."""
    text = query.strip().lower()
    condition = Product.active == 1
    if len(text) in (1, 2):
        condition &= (fn.instr(fn.lower(Product.name), text) > 0) | Product.id.in_(
            _candidates(text)
        )
    elif text:
        condition &= Product.id.in_(_candidates(text))
    rows = Product.select().where(condition).order_by(fn.lower(Product.name)).limit(limit)
    return products_dicts(list(rows))


def products_dicts(products: list[Product]) -> list[dict[str, Any]]:
    """API form of products (one barcode query for all of them)."""
    exponent = current_exponent()
    codes: dict[str, list[str]] = {p.id: [] for p in products}
    if codes:
        rows = Barcode.select(Barcode.product, Barcode.code).where(Barcode.product.in_(list(codes)))
        pairs: Any = rows.order_by(Barcode.code).tuples()
        for product_id, code in pairs:
            codes[product_id].append(code)
    return [
        {
            "id": p.id,
            "sku": p.sku,
            "name": p.name,
            "price": format_minor(p.price_minor, exponent),
            "tax_class": p.tax_class,
            "unit": p.unit,
            "category": p.category,
            "barcodes": codes[p.id],
            "is_deposit": bool(p.is_deposit),
        }
        for p in products
    ]
