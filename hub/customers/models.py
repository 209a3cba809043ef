"""Tables of the customers area (schema: migration 0010)."""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, BooleanField, IntegerField, TextField

from hub.core.models import BaseModel, UtcField, utcnow


class Customer(BaseModel):
    """A tenant's customer: minimal PII, optional loyalty card, consent, tier."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    display_name = TextField()
    full_name = TextField(null=True)
    phone = TextField(null=True)
    email = TextField(null=True)
    card = TextField(null=True)
    search_text = TextField()
    consent_marketing = BooleanField(default=False)
    consent_email_receipts = BooleanField(default=False)
    home_branch_id = TextField(null=True)
    active = BooleanField(default=True)
    tier = TextField(null=True)
    dir_version = BigIntegerField(default=0)
    source = TextField()
    created_by = TextField()
    created_at = UtcField(default=utcnow)
    updated_at = UtcField(default=utcnow)
    erased_at = UtcField(null=True)  # PII erased, the row kept as a pseudonym (FR-P7-1017)

    class Meta:
        table_name = "customers"


class CustomerActivity(BaseModel):
    """One sale, refund or post-void of a customer (purchase history; REP-T-15 grain)."""

    id = AutoField()
    tenant_id = TextField()
    customer_id = TextField()
    doc_kind = TextField()
    doc_id = TextField()
    sale_id = TextField(null=True)
    event_id = TextField(unique=True)
    branch_id = TextField()
    box_id = TextField()
    receipt_no = BigIntegerField(null=True)
    total_minor = BigIntegerField()
    net_minor = BigIntegerField()
    exponent = IntegerField()
    occurred_at = UtcField()

    class Meta:
        table_name = "customer_activity"
