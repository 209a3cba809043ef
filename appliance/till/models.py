"""Tables of the till: the open basket (lines, customer, approved manual prices, parked
baskets), completed sales (lines, tenders, extras), shifts with cash movements and Z reports,
refunds, post-voids and no-sale opens.

The schema lives in the numbered migrations (appliance/migrations/); these models must
equal it (tests/appliance/core/test_models_match_migrations.py).
"""

from __future__ import annotations

from peewee import AutoField, CompositeKey, ForeignKeyField, IntegerField, TextField

from appliance.core.models import BaseModel


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
    price); `parent_line_no` links an automatic deposit line to the line that caused it;
    `returned` marks returned empties (the sale carries them with negative qty and money).
    """

    id = AutoField()
    # looked up through UNIQUE (basket_id, line_no), so no index of its own
    basket = ForeignKeyField(Basket, column_name="basket_id", on_delete="CASCADE", index=False)
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
    returned = IntegerField(default=0)  # 1: brought back (returned empties), negative on the sale
    return_sale_id = TextField(null=True)  # an exchange: the sale (and line) brought back
    return_line_no = IntegerField(null=True)
    age_verified_by = TextField(null=True)  # staff who confirmed the age check (REP-T-16)

    class Meta:
        table_name = "basket_lines"
        indexes = ((("basket", "line_no"), True),)


class BasketCustomer(BaseModel):
    """The customer (id and name only) attached to an open basket, keyed by basket key."""

    basket_key = TextField(primary_key=True)
    customer_id = TextField()
    customer_name = TextField(null=True)
    attached_at = TextField()
    card = TextField(null=True)

    class Meta:
        table_name = "basket_customers"


class BasketPriceOverride(BaseModel):
    """An approved manual unit price (price override or discount) of an open basket line."""

    basket_id = IntegerField()
    line_no = IntegerField()
    kind = TextField()
    unit_price_minor = IntegerField()
    percent = TextField(null=True)
    approver_id = TextField()
    reason_code = TextField()
    created_at = TextField()

    class Meta:
        table_name = "basket_price_overrides"
        primary_key = CompositeKey("basket_id", "line_no")


class SuspendedBasket(BaseModel):
    """A parked basket (lines as JSON) waiting to be resumed on this box."""

    id = AutoField()
    label = TextField()
    staff_id = TextField()
    price_list = TextField()
    lines = TextField()
    customer = TextField(null=True)
    suspended_at = TextField()

    class Meta:
        table_name = "suspended_baskets"


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
    sale = ForeignKeyField(Sale, column_name="sale_id", index=False)  # UNIQUE (sale_id, line_no)
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
    return_sale_id = TextField(null=True)  # an exchange's returned line: the sale line it returns
    return_line_no = IntegerField(null=True)

    class Meta:
        table_name = "sale_lines"
        indexes = ((("sale", "line_no"), True),)


class Tender(BaseModel):
    """A payment on a sale."""

    id = AutoField()
    sale = ForeignKeyField(Sale, column_name="sale_id")
    kind = TextField()
    amount_minor = IntegerField()

    class Meta:
        table_name = "tenders"


class SaleExtra(BaseModel):
    """What a sale carries beyond the core tables: card terminal reference and customer."""

    sale_id = TextField(primary_key=True)
    card_reference = TextField(null=True)
    customer_id = TextField(null=True)
    customer_name = TextField(null=True)
    created_at = TextField()

    class Meta:
        table_name = "sale_extras"


class Shift(BaseModel):
    """A till shift from opening float to close (one open per till).

    `kind` 'counted': opened by a cashier with a counted float; 'day': opened by the box at the
    first sale of `business_day` where drawers are not counted, closed by the day's Z.
    """

    id = TextField(primary_key=True)
    till = TextField()
    staff_id = TextField()
    opening_float_minor = IntegerField()
    opened_at = TextField()
    state = TextField(default="open")
    closed_at = TextField(null=True)
    closed_by = TextField(null=True)
    kind = TextField(default="counted")
    business_day = TextField(null=True)

    class Meta:
        table_name = "shifts"


class CashMovement(BaseModel):
    """A cash drop (to the safe) or paid-out (with a reason) during a shift."""

    id = TextField(primary_key=True)
    shift_id = TextField()
    kind = TextField()
    amount_minor = IntegerField()
    reason_code = TextField(null=True)
    note = TextField(null=True)
    staff_id = TextField()
    created_at = TextField()

    class Meta:
        table_name = "cash_movements"


class BankDeposit(BaseModel):
    """Cash taken from the drawer (an open shift's) or the safe to the bank (migration 0018)."""

    id = TextField(primary_key=True)
    shift_id = TextField(null=True)
    business_day = TextField()
    amount_minor = IntegerField()
    slip_no = TextField()
    staff_id = TextField()
    approver_id = TextField()
    reason_code = TextField()
    note = TextField(default="")
    event_id = TextField(unique=True)
    created_at = TextField()

    class Meta:
        table_name = "bank_deposits"


class ZReport(BaseModel):
    """A closed shift's Z report (immutable; z_no gap-free per box)."""

    z_no = IntegerField(primary_key=True)
    shift_id = TextField(unique=True)
    till = TextField()
    body = TextField()
    grand_total_minor = IntegerField()
    closed_at = TextField()

    class Meta:
        table_name = "z_reports"


class Refund(BaseModel):
    """A refund document (own gap-free receipt number; amounts negative, minor units)."""

    id = TextField(primary_key=True)
    receipt_no = IntegerField(unique=True)
    sale_id = TextField(null=True)
    shift_id = TextField(null=True)
    staff_id = TextField()
    approver_id = TextField()
    reason_code = TextField()
    tender = TextField()
    card_reference = TextField(null=True)
    total_minor = IntegerField()
    tax_minor = IntegerField()
    cash_rounding_minor = IntegerField()
    idempotency_key = TextField(unique=True)
    event_id = TextField(unique=True)
    payload = TextField()
    completed_at = TextField()

    class Meta:
        table_name = "refunds"


class RefundLine(BaseModel):
    """One returned line (qty positive thousandths; gross and tax negative)."""

    id = AutoField()
    refund_id = TextField()
    sale_line_no = IntegerField(null=True)
    product_id = TextField()
    qty_milli = IntegerField()
    gross_minor = IntegerField()
    tax_minor = IntegerField()
    tax_class = TextField()
    tax_rate = TextField()

    class Meta:
        table_name = "refund_lines"


class SaleVoid(BaseModel):
    """A post-voided sale."""

    sale_id = TextField(primary_key=True)
    shift_id = TextField(null=True)
    staff_id = TextField()
    approver_id = TextField()
    reason_code = TextField()
    total_minor = IntegerField()
    event_id = TextField(unique=True)
    voided_at = TextField()

    class Meta:
        table_name = "sale_voids"


class NoSale(BaseModel):
    """An approved no-sale drawer open."""

    id = TextField(primary_key=True)
    shift_id = TextField(null=True)
    staff_id = TextField()
    approver_id = TextField()
    reason_code = TextField()
    created_at = TextField()

    class Meta:
        table_name = "no_sales"
