"""Tables of the loyalty area (schema: migration 0010)."""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, CompositeKey, IntegerField, TextField

from hub.core.models import BaseModel, UtcField, utcnow


class LedgerRow(BaseModel):
    """One immutable points movement, unique per (tenant, source, kind, line_no)."""

    id = AutoField()
    tenant_id = TextField()
    customer_id = TextField()
    source = TextField()
    kind = TextField()
    line_no = IntegerField(default=0)
    points = BigIntegerField()
    sale_id = TextField(null=True)
    branch_id = TextField(null=True)
    box_id = TextField(null=True)
    rules_version = IntegerField(null=True)
    reason_code = TextField(null=True)
    note = TextField(null=True)
    actor = TextField()
    occurred_at = UtcField()
    recorded_at = UtcField(default=utcnow)

    class Meta:
        table_name = "loyalty_ledger"


class Balance(BaseModel):
    """The running points balance of a customer (= the ledger sum, same transaction)."""

    tenant_id = TextField()
    customer_id = TextField()
    points = BigIntegerField()
    updated_at = UtcField(default=utcnow)

    class Meta:
        table_name = "loyalty_balances"
        primary_key = CompositeKey("tenant_id", "customer_id")


class TierChange(BaseModel):
    """A customer's tier moving from one level to another (append-only)."""

    id = AutoField()
    tenant_id = TextField()
    customer_id = TextField()
    from_tier = TextField(null=True)
    to_tier = TextField(null=True)
    basis = TextField()
    basis_value = TextField()
    rules_version = IntegerField()
    actor = TextField()
    changed_at = UtcField(default=utcnow)

    class Meta:
        table_name = "loyalty_tier_changes"
