"""Products at the till: barcode lookup (GTIN-14 keyed), scan resolution and name search.

Every barcode is stored under its GTIN-14 (`posdomain.barcodes.normalize_gtin`), so a UPC-A
scanned as 12 digits, its EAN-13 form and its GTIN-14 all find the same product (the rows are
written by `catalog.catch_up`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from peewee import SQL, fn

from appliance.catalog.config_docs import current_exponent
from appliance.catalog.models import Barcode, Product
from appliance.core.db import select_one
from posdomain.barcodes import (
    BarcodeFormat,
    VariableMeasure,
    is_valid_gtin,
    normalize_gtin,
    parse_variable_measure,
    validate_gtin,
)
from posdomain.errors import NotFound, Reason
from posdomain.money import format_minor


def find_by_gtin(code: str) -> Product | None:
    """The active product whose barcode has the same GTIN-14 as `code` (a valid GTIN)."""
    return select_one(Product, _BY_GTIN_SQL, (normalize_gtin(code),))


# every scan: a constant statement, no query building (issue 15)
_BY_GTIN_SQL = (
    "SELECT p.* FROM barcodes AS b JOIN products AS p ON p.id = b.product_id"
    " WHERE b.gtin14 = ? AND p.active = 1 LIMIT 1"
)


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
