"""Product lookup for the till: by barcode (scans) and by name/SKU search."""

from __future__ import annotations

from typing import Any

from peewee import fn

from appliance.models import Barcode, Product
from appliance.services.masterdata import current_exponent
from posdomain.errors import NotFound, Reason
from posdomain.money import format_minor


def by_barcode(barcode: str) -> Product:
    """The active product carrying this barcode, or 404 UNKNOWN_BARCODE."""
    product: Product | None = (
        Product.select()
        .join(Barcode)
        .where(Barcode.barcode == barcode, Product.active == 1)
        .first()
    )
    if product is None:
        raise NotFound(
            f"no product with barcode {barcode}", Reason.UNKNOWN_BARCODE, {"barcode": barcode}
        )
    return product


def search(query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Active products by name (contains), exact SKU or barcode; an empty query lists the first."""
    text = query.strip().lower()
    condition = Product.active == 1
    if text:
        barcode_hits = Barcode.select(Barcode.product).where(Barcode.barcode == query.strip())
        condition &= (
            (fn.instr(fn.lower(Product.name), text) > 0)
            | (fn.lower(Product.sku) == text)
            | (Product.id.in_(barcode_hits))
        )
    rows = Product.select().where(condition).order_by(fn.lower(Product.name)).limit(limit)
    exponent = current_exponent()
    return [product_dict(p, exponent) for p in rows]


def product_dict(product: Product, exponent: int) -> dict[str, Any]:
    """API form of a product."""
    codes = [b.barcode for b in Barcode.select().where(Barcode.product == product.id)]
    return {
        "id": product.id,
        "sku": product.sku,
        "name": product.name,
        "price": format_minor(product.price_minor, exponent),
        "tax_class": product.tax_class,
        "unit": product.unit,
        "barcodes": codes,
    }
