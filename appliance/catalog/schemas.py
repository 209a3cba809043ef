"""Query of the catalog API (the OpenAPI source, enforced by `@api`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ProductQuery(BaseModel):
    """GET /products?q=: name, SKU or barcode (empty: the first products)."""

    q: str = Field(default="", max_length=64)
