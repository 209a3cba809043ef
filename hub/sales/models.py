"""Sales and till documents (refunds, post-voids, Z reports, bank deposits) as ingested from
the boxes (money in minor units)."""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, BooleanField, FloatField, IntegerField, TextField

from hub.core.models import BaseModel, JsonField, UtcField, utcnow


class Sale(BaseModel):
    """A completed sale as ingested from a box (money in minor units)."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    event_id = TextField(unique=True)
    receipt_no = BigIntegerField()
    cashier_id = TextField()
    cashier_name = TextField()
    currency = TextField()
    exponent = IntegerField()
    subtotal_minor = BigIntegerField()
    tax_minor = BigIntegerField()
    total_minor = BigIntegerField()
    change_minor = BigIntegerField()
    tenders = JsonField()
    completed_at = UtcField()
    received_at = UtcField(default=utcnow)
    correlation_id = TextField()
    occurred_at = UtcField(null=True)  # envelope time, box clock
    clock_skew_seconds = FloatField(default=0.0)  # hub estimate: hub clock - box clock
    late = BooleanField(default=False)  # arrived past the late window (REP-T-05 bucket)

    class Meta:
        table_name = "sales"


class SaleLine(BaseModel):
    """One line of an ingested sale."""

    id = AutoField()
    sale_id = TextField()
    tenant_id = TextField()
    branch_id = TextField()
    line_no = IntegerField()
    product_id = TextField()
    sku = TextField()
    name = TextField()
    barcode = TextField()
    qty = TextField()
    unit_price_minor = BigIntegerField()
    line_total_minor = BigIntegerField()
    tax_class = TextField()
    tax_rate = TextField()
    tax_minor = BigIntegerField()
    # an exchange's returned line: the sale and line it brings back (migration 0031)
    return_of_sale_id = TextField(null=True)
    return_of_line_no = IntegerField(null=True)

    class Meta:
        table_name = "sale_lines"


class BoxRefund(BaseModel):
    """A refund document from a box (money negative, minor units)."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    event_id = TextField(unique=True)
    receipt_no = BigIntegerField()
    sale_id = TextField(null=True)
    original_receipt_no = BigIntegerField(null=True)
    with_receipt = BooleanField()
    cashier_id = TextField()
    approver_id = TextField()
    reason_code = TextField()
    currency = TextField()
    exponent = IntegerField()
    total_minor = BigIntegerField()
    tax_minor = BigIntegerField()
    cash_rounding_minor = BigIntegerField()
    tenders = JsonField()
    lines = JsonField()
    completed_at = UtcField()
    received_at = UtcField(default=utcnow)

    class Meta:
        table_name = "box_refunds"


class HubSaleVoid(BaseModel):
    """A post-void of an ingested sale."""

    sale_id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    event_id = TextField(unique=True)
    receipt_no = BigIntegerField()
    cashier_id = TextField()
    approver_id = TextField()
    reason_code = TextField()
    total_minor = BigIntegerField()
    voided_at = UtcField()
    received_at = UtcField(default=utcnow)

    class Meta:
        table_name = "sale_voids"


class ShiftReport(BaseModel):
    """The Z report of a closed till shift."""

    shift_id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    event_id = TextField(unique=True)
    z_no = BigIntegerField()
    till = TextField()
    cashier_id = TextField()
    opened_at = UtcField()
    closed_at = UtcField()
    net_total_minor = BigIntegerField()
    body = JsonField()
    received_at = UtcField(default=utcnow)

    class Meta:
        table_name = "shift_reports"


class BankDeposit(BaseModel):
    """Cash a till took to the bank (`drawer.bank_deposit`, REP-T-05; migration 0032)."""

    event_id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    deposit_id = TextField()
    business_day = TextField()  # YYYY-MM-DD, local to the branch, as the till booked it
    amount_minor = BigIntegerField()
    exponent = IntegerField()
    slip_no = TextField()
    cashier_id = TextField()
    approver_id = TextField()
    reason_code = TextField(null=True)
    shift_id = TextField(null=True)
    note = TextField(default="")
    deposited_at = UtcField()
    received_at = UtcField(default=utcnow)

    class Meta:
        table_name = "bank_deposits"


class CashMovement(BaseModel):
    """A drop to the safe or a paid-out a till recorded (`drawer.cash_movement`, REP-T-05;
    migration 0039)."""

    event_id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    movement_id = TextField()
    kind = TextField()  # drop | paid_out
    business_day = TextField()  # YYYY-MM-DD, local to the branch, as the till booked it
    amount_minor = BigIntegerField()
    exponent = IntegerField()
    reason_code = TextField(null=True)
    shift_id = TextField()
    cashier_id = TextField()
    note = TextField(default="")
    moved_at = UtcField()
    received_at = UtcField(default=utcnow)

    class Meta:
        table_name = "cash_movements"
