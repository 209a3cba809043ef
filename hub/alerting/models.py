"""Alerts, alert channels and the delivery outbox (DDL in hub/migrations/0010_operations.py)."""

from __future__ import annotations

from peewee import AutoField, BooleanField, IntegerField, TextField

from hub.core.models import BaseModel, JsonField, UtcField, utcnow


class Alert(BaseModel):
    """One alert episode: OPEN → ACKED → RESOLVED; one live row per (tenant, key)."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    rule = TextField()
    key = TextField()
    severity = TextField()
    state = TextField()
    branch_id = TextField(null=True)
    box_id = TextField(null=True)
    summary = TextField()
    details = JsonField()
    suppressed = BooleanField(default=False)
    opened_at = UtcField(default=utcnow)
    acked_at = UtcField(null=True)
    acked_by = TextField(null=True)
    resolved_at = UtcField(null=True)
    resolved_by = TextField(null=True)
    updated_at = UtcField(default=utcnow)

    class Meta:
        table_name = "alerts"


class AlertChannel(BaseModel):
    """Where a tenant's alerts of some severities go: a signed webhook, e-mail or the log."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    name = TextField()
    kind = TextField()
    target = TextField()
    secret = TextField(null=True)
    severities = JsonField()
    enabled = BooleanField(default=True)
    created_by = TextField()
    created_at = UtcField(default=utcnow)

    class Meta:
        table_name = "alert_channels"


class AlertDelivery(BaseModel):
    """One state change of one alert queued for one channel (the delivery outbox)."""

    id = AutoField()
    tenant_id = TextField()
    alert_id = TextField()
    transition = TextField()
    channel_id = TextField()
    message_id = TextField(unique=True)
    payload = JsonField()
    state = TextField(default="pending")
    attempts = IntegerField(default=0)
    next_attempt_at = UtcField(default=utcnow)
    last_error = TextField(null=True)
    created_at = UtcField(default=utcnow)
    sent_at = UtcField(null=True)

    class Meta:
        table_name = "alert_deliveries"
