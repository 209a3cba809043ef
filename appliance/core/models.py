"""peewee models over the tables created by the numbered migrations (schema lives there)."""

from __future__ import annotations

from peewee import (
    AutoField,
    CompositeKey,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from appliance.db import database


class BaseModel(Model):
    """Binds every model to the box database proxy."""

    class Meta:
        database = database
        legacy_table_names = False


class BoxState(BaseModel):
    """The single row holding identity, counters and held master-data versions."""

    id = IntegerField(primary_key=True)
    box_id = TextField()
    tenant_id = TextField()
    branch_id = TextField()
    next_seq = IntegerField()
    next_receipt_no = IntegerField()
    versions = TextField()
    agent_seen_at = TextField(null=True)
    last_ack_at = TextField(null=True)
    created_at = TextField()

    class Meta:
        table_name = "box_state"


class Staff(BaseModel):
    """Staff synced from the hub (full list per version)."""

    id = TextField(primary_key=True)
    name = TextField()
    role = TextField()
    pin_hash = TextField()
    active = IntegerField()
    branch_ids = TextField()


class PinFailure(BaseModel):
    """Consecutive PIN failures and lockout per scope ('box' or 'staff:<id>')."""

    scope = TextField(primary_key=True)
    failures = IntegerField(default=0)
    locked_until = TextField(null=True)

    class Meta:
        table_name = "pin_failures"


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


class Basket(BaseModel):
    """The open basket of one cashier at this till, held by the box (survives reloads)."""

    id = AutoField()
    key = TextField(unique=True)
    staff_id = TextField()
    next_line_no = IntegerField(default=1)
    opened_at = TextField()
    price_list = TextField(default="retail")


class BasketLine(BaseModel):
    """One scanned line (qty in thousandths); voided lines stay (void is an audited action).

    `label_price_minor` is the price printed on a price-embedded label (the line's extended
    price); `parent_line_no` links an automatic deposit line to the line that caused it.
    """

    id = AutoField()
    basket = ForeignKeyField(Basket, column_name="basket_id", on_delete="CASCADE")
    line_no = IntegerField()
    product_id = TextField()
    barcode = TextField()
    sku = TextField()
    name = TextField()
    tax_class = TextField()
    unit = TextField(default="each")
    qty_milli = IntegerField()
    label_price_minor = IntegerField(null=True)
    parent_line_no = IntegerField(null=True)
    voided = IntegerField(default=0)

    class Meta:
        table_name = "basket_lines"


class Sale(BaseModel):
    """A completed sale (immutable); payload is the sale.completed event payload."""

    id = TextField(primary_key=True)
    receipt_no = IntegerField(unique=True)
    idempotency_key = TextField(unique=True)
    staff_id = TextField()
    staff_name = TextField()
    currency = TextField()
    exponent = IntegerField()
    subtotal_minor = IntegerField()
    tax_minor = IntegerField()
    total_minor = IntegerField()
    change_minor = IntegerField()
    event_id = TextField(unique=True)
    correlation_id = TextField()
    payload = TextField()
    completed_at = TextField()
    cash_rounding_minor = IntegerField(default=0)
    price_list = TextField(default="retail")

    class Meta:
        table_name = "sales"


class SaleLine(BaseModel):
    """One line of a completed sale."""

    id = AutoField()
    sale = ForeignKeyField(Sale, column_name="sale_id")
    line_no = IntegerField()
    product_id = TextField()
    sku = TextField()
    name = TextField()
    barcode = TextField()
    unit = TextField(default="each")
    qty_milli = IntegerField()
    unit_price_minor = IntegerField()
    extended_minor = IntegerField()
    discount_minor = IntegerField(default=0)
    discounts = TextField(default="[]")
    line_total_minor = IntegerField()
    tax_class = TextField()
    tax_rate = TextField()
    tax_minor = IntegerField()
    deposit_for_line = IntegerField(null=True)

    class Meta:
        table_name = "sale_lines"


class Tender(BaseModel):
    """A payment on a sale."""

    id = AutoField()
    sale = ForeignKeyField(Sale, column_name="sale_id")
    kind = TextField()
    amount_minor = IntegerField()

    class Meta:
        table_name = "tenders"


class Outbox(BaseModel):
    """An event waiting for (or having received) the hub's BatchAck."""

    id = AutoField()
    seq = IntegerField(unique=True)
    event_id = TextField(unique=True)
    type = TextField()
    payload = TextField()
    created_at = TextField()
    acked_at = TextField(null=True)
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)


class AuditLog(BaseModel):
    """One entry of the box's hash-chained audit log (append-only by trigger)."""

    seq = IntegerField(primary_key=True)
    chain = TextField()
    ts = TextField()
    actor = TextField()
    action = TextField()
    target = TextField()
    severity = TextField()
    details = TextField()
    prev_hash = TextField()
    hash = TextField(unique=True)

    class Meta:
        table_name = "audit_log"


class StockMovement(BaseModel):
    """One entry of the box stock ledger (append-only by trigger; qty signed, thousandths)."""

    seq = AutoField()
    id = TextField(unique=True)
    product_id = TextField()
    kind = TextField()
    qty_milli = IntegerField()
    reason_code = TextField(null=True)
    ref = TextField(null=True)
    staff_id = TextField(null=True)
    event_id = TextField(null=True)
    occurred_at = TextField()

    class Meta:
        table_name = "stock_movements"


class PolicyRejection(BaseModel):
    """A pricing policy version the box refused (audited once)."""

    policy_id = TextField()
    policy_version = IntegerField()
    reason = TextField()
    first_seen = TextField()

    class Meta:
        table_name = "policy_rejections"
        primary_key = CompositeKey("policy_id", "policy_version")
