"""Risk modes (history per scope) and the latest risk scores (DDL in 0010_operations.py)."""

from __future__ import annotations

from peewee import CompositeKey, IntegerField, TextField

from hub.core.models import BaseModel, JsonField, UtcField, utcnow


class RiskModeChange(BaseModel):
    """One risk-mode change of a scope; the newest row of a scope is in force until it expires."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    scope_kind = TextField()
    scope_id = TextField()
    mode = TextField()
    reason = TextField()
    expires_at = UtcField(null=True)
    set_by = TextField()
    set_at = UtcField(default=utcnow)

    class Meta:
        table_name = "risk_modes"


class RiskScore(BaseModel):
    """The latest score of one cashier, box or branch with the rules that fired (REP-O-09)."""

    tenant_id = TextField()
    subject_kind = TextField()
    subject_id = TextField()
    branch_id = TextField(null=True)
    score = IntegerField()
    fired = JsonField()
    figures = JsonField()
    rules_version = IntegerField()
    window_start = UtcField()
    window_end = UtcField()
    computed_at = UtcField(default=utcnow)

    class Meta:
        table_name = "risk_scores"
        primary_key = CompositeKey("tenant_id", "subject_kind", "subject_id")
