"""Response models of the catalog API (OpenAPI, hub.core.openapi)."""

from __future__ import annotations

from pydantic import BaseModel


class TierOut(BaseModel):
    """A wholesale tier."""

    min_qty: str
    price: str


class ProductOut(BaseModel):
    """A product (money and quantities as decimal strings)."""

    id: str
    sku: str
    name: str
    barcodes: list[str]
    category: str | None
    tax_class: str
    unit: str
    price: str
    cost: str | None
    wholesale_tiers: list[TierOut]
    age_restriction: int | None
    is_deposit: bool
    deposit_product_id: str | None
    active: bool
    version: int
    created_at: str
    updated_at: str


class BranchPriceOut(BaseModel):
    """A branch's price override of a product."""

    branch_id: str
    price: str


class ProductDetailOut(ProductOut):
    """A product with its branch price overrides."""

    branch_prices: list[BranchPriceOut]


class BranchPriceSetOut(BaseModel):
    """The outcome of setting (price) or clearing (null) a branch price."""

    product_id: str
    branch_id: str
    price: str | None
    version: int


class CategoryOut(BaseModel):
    """A product category."""

    code: str
    name: str


class BarcodeFormatOut(BaseModel):
    """An in-store barcode format (CONTRACT shape plus id/active/version)."""

    id: str
    prefix: str
    length: int
    item: list[int]
    value: list[int]
    kind: str
    decimals: int
    check: str
    price_check: str | None = None
    active: bool
    version: int


class ImportSummaryOut(BaseModel):
    """What a CSV import did (all rows or none)."""

    rows: int
    created: int
    updated: int
    unchanged: int
    sha256: str
    from_version: int | None = None
    to_version: int | None = None
