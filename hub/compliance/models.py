"""Legal holds and customer erasure records (DDL in hub/migrations/0019_integrations.py)."""

from __future__ import annotations

from peewee import BigIntegerField, CompositeKey, IntegerField, TextField

from hub.core.models import BaseModel, JsonField, UtcField, utcnow


class LegalHold(BaseModel):
    """A hold on the tenant, a branch, a customer or a date range (FR-P7-1015)."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    scope = TextField()
    target = TextField(null=True)
    starts_at = UtcField(null=True)
    ends_at = UtcField(null=True)
    reason = TextField()
    created_by = TextField()
    created_at = UtcField(default=utcnow)
    released_at = UtcField(null=True)
    released_by = TextField(null=True)

    class Meta:
        table_name = "legal_holds"


class CustomerErasure(BaseModel):
    """What one customer erasure removed and what it kept, under which rule (FR-P7-1017)."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    customer_id = TextField()
    erased_by = TextField()
    erased_at = UtcField(default=utcnow)
    erased = JsonField()
    kept = JsonField()

    class Meta:
        table_name = "customer_erasures"


class RetentionPolicy(BaseModel):
    """How many days one data class of a tenant is kept (FR-P7-1016)."""

    tenant_id = TextField()
    data_class = TextField()
    keep_days = IntegerField()
    reason = TextField()
    updated_by = TextField()
    updated_at = UtcField(default=utcnow)

    class Meta:
        table_name = "retention_policies"
        primary_key = CompositeKey("tenant_id", "data_class")


class PurgeRun(BaseModel):
    """One retention purge of one data class: what it deleted, what holds kept."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    data_class = TextField()
    cutoff = UtcField()
    deleted = BigIntegerField()
    held = BigIntegerField()
    holds = JsonField()
    actor = TextField()
    finished_at = UtcField(default=utcnow)

    class Meta:
        table_name = "purge_runs"
