"""Peewee models of the catalog tables (migration 0003 owns the DDL)."""

from __future__ import annotations

from peewee import BigIntegerField, BooleanField, CompositeKey, IntegerField, TextField

from hub.core.models import BaseModel, UtcField, utcnow


class Category(BaseModel):
    """A product category of a tenant, referenced by its code."""

    tenant_id = TextField()
    code = TextField()
    name = TextField()
    created_at = UtcField(default=utcnow)

    class Meta:
        table_name = "categories"
        primary_key = CompositeKey("tenant_id", "code")


class Product(BaseModel):
    """A sellable item; never deleted (archive = active false). Money in minor units."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    sku = TextField()
    name = TextField()
    category = TextField(null=True)
    tax_class = TextField()
    unit = TextField()
    price_minor = BigIntegerField()
    cost_minor = BigIntegerField(null=True)
    age_restriction = IntegerField(null=True)
    is_deposit = BooleanField(default=False)
    deposit_product_id = TextField(null=True)
    active = BooleanField(default=True)
    version = BigIntegerField()
    created_at = UtcField(default=utcnow)
    updated_at = UtcField(default=utcnow)

    class Meta:
        table_name = "products"


class ProductBarcode(BaseModel):
    """One GTIN of a product: `barcode` = GTIN-14 key (unique per tenant), `code` as entered."""

    tenant_id = TextField()
    product_id = TextField()
    barcode = TextField()
    code = TextField()

    class Meta:
        table_name = "product_barcodes"
        primary_key = CompositeKey("tenant_id", "barcode")


class WholesaleTier(BaseModel):
    """Wholesale price from a minimum quantity (thousandths) on."""

    tenant_id = TextField()
    product_id = TextField()
    min_qty_milli = BigIntegerField()
    price_minor = BigIntegerField()

    class Meta:
        table_name = "wholesale_tiers"
        primary_key = CompositeKey("product_id", "min_qty_milli")


class BranchPrice(BaseModel):
    """A branch's retail price override for a product."""

    tenant_id = TextField()
    branch_id = TextField()
    product_id = TextField()
    price_minor = BigIntegerField()
    updated_by = TextField()
    updated_at = UtcField(default=utcnow)

    class Meta:
        table_name = "branch_prices"
        primary_key = CompositeKey("branch_id", "product_id")


class BarcodeFormat(BaseModel):
    """A tenant's in-store barcode layout (price- or weight-embedded, GS1 prefix 20-29)."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    prefix = TextField()
    length = IntegerField()
    item_start = IntegerField()
    item_end = IntegerField()
    value_start = IntegerField()
    value_end = IntegerField()
    kind = TextField()
    decimals = IntegerField()
    check_kind = TextField()
    price_check = IntegerField(null=True)
    active = BooleanField(default=True)
    version = IntegerField(default=1)
    created_at = UtcField(default=utcnow)
    updated_at = UtcField(default=utcnow)

    class Meta:
        table_name = "barcode_formats"


class CatalogState(BaseModel):
    """The tenant's catalog version counter (bumped in every catalog-changing transaction)."""

    tenant_id = TextField(primary_key=True)
    version = BigIntegerField(default=0)

    class Meta:
        table_name = "catalog_state"
