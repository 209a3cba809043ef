"""Audit chains (hub and synced box entries), config versions, feature flags, down versions."""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, BooleanField, CompositeKey, IntegerField, TextField

from hub.core.models import BaseModel, JsonField, UtcField, utcnow


class AuditLog(BaseModel):
    """One entry of a hub audit hash chain (append-only)."""

    id = AutoField()
    tenant_id = TextField(null=True)
    chain = TextField()
    seq = BigIntegerField()
    ts = TextField()
    actor = TextField()
    action = TextField()
    target = TextField()
    severity = TextField()
    details = JsonField()
    prev_hash = TextField()
    hash = TextField()

    class Meta:
        table_name = "audit_log"


class BoxAudit(BaseModel):
    """A box audit entry synced to the hub (verifiable box chain)."""

    id = AutoField()
    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    event_id = TextField(unique=True)
    chain = TextField()
    seq = BigIntegerField()
    ts = TextField()
    actor = TextField()
    action = TextField()
    target = TextField()
    severity = TextField()
    details = JsonField()
    prev_hash = TextField()
    hash = TextField()

    class Meta:
        table_name = "box_audit"


class ConfigVersion(BaseModel):
    """One version of a tenant config kind with before/after."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField(null=True)
    kind = TextField()
    version = IntegerField()
    body = JsonField()
    actor = TextField()
    reason = TextField()
    before = JsonField(null=True)
    after = JsonField()
    created_at = UtcField(default=utcnow)
    change_id = TextField(null=True)  # the rule change that activated it (rule kinds)

    class Meta:
        table_name = "config_versions"


class RuleChange(BaseModel):
    """One entry of the business-rule decision log (FR-901; hub.governance.rule_changes)."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    seq = IntegerField()
    kind = TextField()
    branch_id = TextField(null=True)
    operation = TextField()
    target = TextField()
    payload = JsonField()
    reason = TextField()
    impact = TextField()
    change_ref = TextField()
    state = TextField()
    proposed_by = TextField()
    proposed_at = UtcField(default=utcnow)
    decided_by = TextField(null=True)
    decided_at = UtcField(null=True)
    note = TextField(default="")
    bootstrap = BooleanField(default=False)
    effective_at = UtcField(null=True)
    result = JsonField(null=True)

    class Meta:
        table_name = "rule_changes"


class FeatureFlag(BaseModel):
    """A tenant feature flag and who last changed it."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    name = TextField()
    enabled = BooleanField(default=False)
    version = IntegerField(default=0)
    change_ticket = TextField(null=True)
    emergency = BooleanField(default=False)
    backfill_required = BooleanField(default=False)
    updated_by = TextField()
    updated_at = UtcField(default=utcnow)

    class Meta:
        table_name = "feature_flags"


class DownState(BaseModel):
    """Latest version of each down message kind per tenant."""

    tenant_id = TextField()
    kind = TextField()
    version = IntegerField(default=0)

    class Meta:
        table_name = "down_state"
        primary_key = CompositeKey("tenant_id", "kind")
