"""Peewee models for pricing policies and tenant secrets (migration 0008 owns the DDL)."""

from __future__ import annotations

from peewee import CompositeKey, IntegerField, TextField

from hub.core.models import BaseModel, JsonField, UtcField, utcnow


class PricingPolicy(BaseModel):
    """One signed version of a tenant pricing policy (append-only)."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    policy_id = TextField()
    policy_version = IntegerField()
    effective_from = UtcField()
    effective_to = UtcField(null=True)
    kind = TextField()
    target = JsonField()
    params = JsonField()
    signature = TextField()
    key_id = TextField()
    created_by = TextField()
    reason = TextField()
    created_at = UtcField(default=utcnow)
    change_id = TextField(null=True)  # the rule change (promotion) that activated it

    class Meta:
        table_name = "pricing_policies"


class TenantSecret(BaseModel):
    """A random per-tenant key for one purpose (e.g. the pricing policy signing key)."""

    tenant_id = TextField()
    purpose = TextField()
    key_id = TextField()
    secret = TextField()
    created_at = UtcField(default=utcnow)

    class Meta:
        table_name = "tenant_secrets"
        primary_key = CompositeKey("tenant_id", "purpose")
