"""Legal holds and customer erasure records (DDL in hub/migrations/0019_integrations.py)."""

from __future__ import annotations

from peewee import TextField

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
