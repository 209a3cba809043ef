"""Query and answer of the catalog API (the OpenAPI source; the query is enforced by `@api`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from posdomain.openapi import ClosedAnswer


class ProductQuery(BaseModel):
    """GET /products?q=: name, SKU or barcode (empty: the first products)."""

    q: str = Field(default="", max_length=64)


class ProductOut(ClosedAnswer):
    """A product as the till shows and sells it (price a decimal string)."""

    id: str
    sku: str
    name: str
    price: str
    tax_class: str
    unit: str
    category: str | None
    barcodes: list[str]
    is_deposit: bool


class ProductsOut(ClosedAnswer):
    """GET /products: the matching active products."""

    products: list[ProductOut]
