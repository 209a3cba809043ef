"""Tables of the catalog area: products, barcodes, applied down-message bodies and refused
pricing policy versions.

The schema lives in the numbered migrations (appliance/migrations/); these models must
equal it (tests/appliance/core/test_models_match_migrations.py).
"""

from __future__ import annotations

from peewee import CompositeKey, ForeignKeyField, IntegerField, TextField

from appliance.core.models import BaseModel


class Product(BaseModel):
    """A catalog product as the hub's chunks carry it (money in minor units)."""

    id = TextField(primary_key=True)
    sku = TextField()
    name = TextField()
    price_minor = IntegerField()
    tax_class = TextField()
    unit = TextField()
    age_restricted = IntegerField(default=0)
    active = IntegerField(default=1)
    category = TextField(null=True)
    wholesale_tiers = TextField(default="[]")
    min_price_minor = IntegerField(null=True)
    cost_minor = IntegerField(null=True)
    age_restriction = IntegerField(null=True)
    deposit_product_id = TextField(null=True)
    is_deposit = IntegerField(default=0)
    version = IntegerField(default=0)

    class Meta:
        table_name = "products"


class Barcode(BaseModel):
    """GTIN-14 lookup key → product (`code` is the barcode as the hub sent it)."""

    gtin14 = TextField(primary_key=True)
    code = TextField()
    product = ForeignKeyField(Product, column_name="product_id", on_delete="CASCADE")

    class Meta:
        table_name = "barcodes"


class ConfigDoc(BaseModel):
    """Latest applied body per down-message kind."""

    kind = TextField(primary_key=True)
    version = IntegerField()
    body = TextField()
    applied_at = TextField()

    class Meta:
        table_name = "config_doc"


class PolicyRejection(BaseModel):
    """A pricing policy version the box refused (audited once)."""

    policy_id = TextField()
    policy_version = IntegerField()
    reason = TextField()
    first_seen = TextField()

    class Meta:
        table_name = "policy_rejections"
        primary_key = CompositeKey("policy_id", "policy_version")
