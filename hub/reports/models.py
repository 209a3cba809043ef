"""Report facts and rollups written at ingest (migration 0017; money in minor units)."""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, BooleanField, CompositeKey, IntegerField, TextField

from hub.core.models import BaseModel, JsonField, UtcField, utcnow


class ReportDoc(BaseModel):
    """One sale or refund document with its report figures."""

    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    cashier_id = TextField()
    business_day = TextField()  # YYYY-MM-DD, local to the branch
    kind = TextField()  # sale | refund
    doc_id = TextField()
    sale_id = TextField(null=True)
    cashier_name = TextField(default="")
    receipt_no = BigIntegerField()
    local_hour = IntegerField()
    at = UtcField()
    exponent = IntegerField()
    items_milli = BigIntegerField()
    gross = BigIntegerField()
    discounts = BigIntegerField()
    refunds = BigIntegerField()
    net = BigIntegerField()
    tax = BigIntegerField()
    total = BigIntegerField()
    cost = BigIntegerField()
    cash_rounding = BigIntegerField()
    change = BigIntegerField()
    late = BooleanField(default=False)

    class Meta:
        table_name = "report_docs"
        primary_key = CompositeKey("tenant_id", "kind", "doc_id")


class ReportLine(BaseModel):
    """One sold or refunded line."""

    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    cashier_id = TextField()
    business_day = TextField()  # YYYY-MM-DD, local to the branch
    id = AutoField()
    kind = TextField()
    doc_id = TextField()
    sale_id = TextField(null=True)
    line_no = IntegerField()
    product_id = TextField()
    sku = TextField()
    name = TextField()
    category = TextField(null=True)
    tax_class = TextField()
    tax_rate = TextField()
    qty_milli = BigIntegerField()
    gross = BigIntegerField()
    discounts = BigIntegerField()
    refunds = BigIntegerField()
    net = BigIntegerField()
    tax = BigIntegerField()
    total = BigIntegerField()
    cost = BigIntegerField()
    age_required = IntegerField(null=True)
    age_verified_by = TextField(null=True)

    class Meta:
        table_name = "report_lines"


class ReportTender(BaseModel):
    """One tender of a document."""

    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    cashier_id = TextField()
    business_day = TextField()  # YYYY-MM-DD, local to the branch
    id = AutoField()
    kind = TextField()
    doc_id = TextField()
    sale_id = TextField(null=True)
    tender = TextField()
    amount = BigIntegerField()
    change = BigIntegerField()

    class Meta:
        table_name = "report_tenders"


class ReportDiscount(BaseModel):
    """One discount source on a sold line."""

    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    cashier_id = TextField()
    business_day = TextField()  # YYYY-MM-DD, local to the branch
    id = AutoField()
    doc_id = TextField()
    line_no = IntegerField()
    source_kind = TextField()  # promotion | policy | override
    source_id = TextField()
    source_version = BigIntegerField()
    approver_id = TextField(null=True)
    reason_code = TextField(null=True)
    value = BigIntegerField()

    class Meta:
        table_name = "report_discounts"


class RollupHourly(BaseModel):
    """Document sums per branch, box, cashier, business day and local hour."""

    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    cashier_id = TextField()
    business_day = TextField()  # YYYY-MM-DD, local to the branch
    local_hour = IntegerField()
    transactions = BigIntegerField(default=0)
    items_milli = BigIntegerField(default=0)
    gross = BigIntegerField(default=0)
    discounts = BigIntegerField(default=0)
    refunds = BigIntegerField(default=0)
    net = BigIntegerField(default=0)
    tax = BigIntegerField(default=0)
    total = BigIntegerField(default=0)
    cost = BigIntegerField(default=0)
    cash_rounding = BigIntegerField(default=0)

    class Meta:
        table_name = "report_rollup_hourly"
        primary_key = CompositeKey(
            "tenant_id", "branch_id", "business_day", "local_hour", "box_id", "cashier_id"
        )


class RollupDaily(BaseModel):
    """Document and tender sums per branch and business day (migration 0033): what REP-T-05
    and REP-T-01 without a box or cashier filter read."""

    tenant_id = TextField()
    branch_id = TextField()
    business_day = TextField()  # YYYY-MM-DD, local to the branch
    documents = BigIntegerField(default=0)  # sales and refunds (not post-voided)
    transactions = BigIntegerField(default=0)
    items_milli = BigIntegerField(default=0)
    gross = BigIntegerField(default=0)
    discounts = BigIntegerField(default=0)
    refunds = BigIntegerField(default=0)
    net = BigIntegerField(default=0)
    tax = BigIntegerField(default=0)
    total = BigIntegerField(default=0)
    cost = BigIntegerField(default=0)
    cash_rounding = BigIntegerField(default=0)
    late_total = BigIntegerField(default=0)  # total of the sales synced late
    tenders = BigIntegerField(default=0)  # tendered amount - change over every tender

    class Meta:
        table_name = "report_rollup_daily"
        primary_key = CompositeKey("tenant_id", "branch_id", "business_day")


class RollupProduct(BaseModel):
    """Line sums per branch, business day, product and tax class/rate."""

    tenant_id = TextField()
    branch_id = TextField()
    business_day = TextField()
    product_id = TextField()
    tax_class = TextField()
    tax_rate = TextField()
    sku = TextField()
    name = TextField()
    category = TextField(null=True)
    qty_milli = BigIntegerField(default=0)
    gross = BigIntegerField(default=0)
    discounts = BigIntegerField(default=0)
    refunds = BigIntegerField(default=0)
    net = BigIntegerField(default=0)
    tax = BigIntegerField(default=0)
    total = BigIntegerField(default=0)
    cost = BigIntegerField(default=0)

    class Meta:
        table_name = "report_rollup_products"
        primary_key = CompositeKey(
            "tenant_id", "branch_id", "business_day", "product_id", "tax_class", "tax_rate"
        )


class RollupProductMonthly(BaseModel):
    """The daily product rollup per calendar month (migration 0033)."""

    tenant_id = TextField()
    branch_id = TextField()
    month = TextField()  # YYYY-MM of the business day
    product_id = TextField()
    tax_class = TextField()
    tax_rate = TextField()
    sku = TextField()
    name = TextField()
    category = TextField(null=True)
    qty_milli = BigIntegerField(default=0)
    gross = BigIntegerField(default=0)
    discounts = BigIntegerField(default=0)
    refunds = BigIntegerField(default=0)
    net = BigIntegerField(default=0)
    tax = BigIntegerField(default=0)
    total = BigIntegerField(default=0)
    cost = BigIntegerField(default=0)

    class Meta:
        table_name = "report_rollup_products_monthly"
        primary_key = CompositeKey(
            "tenant_id", "branch_id", "month", "product_id", "tax_class", "tax_rate"
        )


class RollupHours(BaseModel):
    """Transactions and net per branch, business day and local hour (migration 0034): what
    REP-T-02 without a box or cashier filter reads."""

    tenant_id = TextField()
    branch_id = TextField()
    business_day = TextField()  # YYYY-MM-DD, local to the branch
    local_hour = IntegerField()
    transactions = BigIntegerField(default=0)
    net = BigIntegerField(default=0)

    class Meta:
        table_name = "report_rollup_hours"
        primary_key = CompositeKey("tenant_id", "branch_id", "business_day", "local_hour")


class RollupProductTenant(BaseModel):
    """The monthly product rollup summed over every branch of the tenant (migration 0034)."""

    tenant_id = TextField()
    month = TextField()  # YYYY-MM of the business day
    product_id = TextField()
    tax_class = TextField()
    tax_rate = TextField()
    sku = TextField()
    name = TextField()
    category = TextField(null=True)
    qty_milli = BigIntegerField(default=0)
    gross = BigIntegerField(default=0)
    discounts = BigIntegerField(default=0)
    refunds = BigIntegerField(default=0)
    net = BigIntegerField(default=0)
    tax = BigIntegerField(default=0)
    total = BigIntegerField(default=0)
    cost = BigIntegerField(default=0)

    class Meta:
        table_name = "report_rollup_products_tenant"
        primary_key = CompositeKey("tenant_id", "month", "product_id", "tax_class", "tax_rate")


class RollupProductTenantDaily(BaseModel):
    """The daily product rollup summed over every branch of the tenant (migration 0035)."""

    tenant_id = TextField()
    business_day = TextField()
    product_id = TextField()
    tax_class = TextField()
    tax_rate = TextField()
    sku = TextField()
    name = TextField()
    category = TextField(null=True)
    qty_milli = BigIntegerField(default=0)
    gross = BigIntegerField(default=0)
    discounts = BigIntegerField(default=0)
    refunds = BigIntegerField(default=0)
    net = BigIntegerField(default=0)
    tax = BigIntegerField(default=0)
    total = BigIntegerField(default=0)
    cost = BigIntegerField(default=0)

    class Meta:
        table_name = "report_rollup_products_tenant_daily"
        primary_key = CompositeKey(
            "tenant_id", "business_day", "product_id", "tax_class", "tax_rate"
        )


class RollupCategory(BaseModel):
    """The daily product rollup per category its buckets carry (migration 0033)."""

    tenant_id = TextField()
    branch_id = TextField()
    business_day = TextField()
    category = TextField()  # '' for none
    buckets = BigIntegerField(default=0)  # daily product buckets carrying the category
    qty_milli = BigIntegerField(default=0)
    gross = BigIntegerField(default=0)
    discounts = BigIntegerField(default=0)
    refunds = BigIntegerField(default=0)
    net = BigIntegerField(default=0)
    tax = BigIntegerField(default=0)
    total = BigIntegerField(default=0)
    cost = BigIntegerField(default=0)

    class Meta:
        table_name = "report_rollup_categories"
        primary_key = CompositeKey("tenant_id", "branch_id", "business_day", "category")


class RollupTender(BaseModel):
    """Tender sums per branch, business day, local hour, box, cashier and tender (REP-T-09)."""

    tenant_id = TextField()
    branch_id = TextField()
    business_day = TextField()
    local_hour = IntegerField()
    box_id = TextField()
    cashier_id = TextField()
    tender = TextField()
    count = BigIntegerField(default=0)
    amount = BigIntegerField(default=0)
    refunds = BigIntegerField(default=0)
    change = BigIntegerField(default=0)

    class Meta:
        table_name = "report_rollup_tenders"
        primary_key = CompositeKey(
            "tenant_id", "branch_id", "business_day", "local_hour", "box_id", "cashier_id", "tender"
        )


class ReportTaxPart(BaseModel):
    """One tax code's share of a sold or refunded line (a levy has base 0)."""

    id = AutoField()
    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    cashier_id = TextField()
    business_day = TextField()
    kind = TextField()
    doc_id = TextField()
    line_no = IntegerField()
    tax_class = TextField()
    tax_code = TextField()
    tax_rate = TextField()
    per_unit = TextField(default="")
    base = BigIntegerField()
    tax = BigIntegerField()

    class Meta:
        table_name = "report_tax_parts"


class RollupTax(BaseModel):
    """Tax part sums per branch, business day, box, cashier, class, code, rate, levy."""

    tenant_id = TextField()
    branch_id = TextField()
    business_day = TextField()
    box_id = TextField()
    cashier_id = TextField()
    tax_class = TextField()
    tax_code = TextField()
    tax_rate = TextField()
    per_unit = TextField(default="")
    base = BigIntegerField(default=0)
    tax = BigIntegerField(default=0)

    class Meta:
        table_name = "report_rollup_taxes"
        primary_key = CompositeKey(
            "tenant_id",
            "branch_id",
            "business_day",
            "box_id",
            "cashier_id",
            "tax_class",
            "tax_code",
            "tax_rate",
            "per_unit",
        )


class ShiftSnapshot(BaseModel):
    """An X report of an open shift as the till showed it (`shift.snapshot`, REP-T-03)."""

    event_id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    shift_id = TextField()
    till = TextField()
    cashier_id = TextField()
    opened_at = UtcField()
    as_of = UtcField()
    net_total_minor = BigIntegerField()
    body = JsonField()
    received_at = UtcField(default=utcnow)

    class Meta:
        table_name = "shift_snapshots"


class ReportException(BaseModel):
    """A line void or a no-sale drawer opening, one by one (REP-T-13)."""

    event_id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    cashier_id = TextField()
    business_day = TextField()
    kind = TextField()  # line void | no-sale
    ref = TextField()
    approver_id = TextField(null=True)
    reason_code = TextField(null=True)
    at = UtcField()
    value = BigIntegerField(null=True)
    detail = TextField(default="")
    shift_id = TextField(null=True)

    class Meta:
        table_name = "report_exceptions"
