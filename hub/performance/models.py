"""Tables of the performance area (schema: migration 0011)."""

from __future__ import annotations

from peewee import BigIntegerField, CompositeKey, IntegerField, TextField

from hub.core.models import BaseModel, UtcField, utcnow


class StaffDay(BaseModel):
    """Counters of one cashier at one branch on one business day (REP-T-08 grain)."""

    tenant_id = TextField()
    branch_id = TextField()
    cashier_id = TextField()
    business_day = TextField()
    transactions = BigIntegerField(default=0)
    items = BigIntegerField(default=0)
    gross_minor = BigIntegerField(default=0)
    net_minor = BigIntegerField(default=0)
    total_minor = BigIntegerField(default=0)
    voids_count = BigIntegerField(default=0)
    voids_minor = BigIntegerField(default=0)
    line_voids = BigIntegerField(default=0)
    refunds_count = BigIntegerField(default=0)
    refunds_minor = BigIntegerField(default=0)
    refunds_net_minor = BigIntegerField(default=0)
    overrides = BigIntegerField(default=0)
    no_sale_opens = BigIntegerField(default=0)
    drawer_opens = BigIntegerField(default=0)
    timed_items = BigIntegerField(default=0)
    active_ms = BigIntegerField(default=0)
    exponent = IntegerField(default=2)
    updated_at = UtcField(default=utcnow)

    class Meta:
        table_name = "staff_performance_daily"
        primary_key = CompositeKey("tenant_id", "branch_id", "cashier_id", "business_day")


class SaleActivity(BaseModel):
    """When one sale of a cashier started and completed (the items-per-minute timeline)."""

    event_id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    cashier_id = TextField()
    business_day = TextField()
    started_at = UtcField(null=True)
    completed_at = UtcField()
    items = BigIntegerField()

    class Meta:
        table_name = "staff_sale_activity"
