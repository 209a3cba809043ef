"""Webhook endpoints, deliveries and the delivery log (DDL: migration 0019)."""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, BooleanField, IntegerField, TextField

from hub.core.models import BaseModel, JsonField, UtcField, utcnow


class WebhookEndpoint(BaseModel):
    """Where an integration receives business events, signed with `secrets` (newest first)."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    integration_id = TextField()
    url = TextField()
    event_types = JsonField()
    secrets = JsonField()
    enabled = BooleanField(default=True)
    created_by = TextField()
    created_at = UtcField(default=utcnow)
    rotated_at = UtcField(null=True)

    class Meta:
        table_name = "webhook_endpoints"


class WebhookDelivery(BaseModel):
    """One business event queued for one endpoint (the raw body, so retries are identical)."""

    id = AutoField()
    tenant_id = TextField()
    endpoint_id = TextField()
    event_type = TextField()
    message_id = TextField(unique=True)
    body = TextField()
    state = TextField(default="pending")
    attempts = IntegerField(default=0)
    next_attempt_at = UtcField(default=utcnow)
    last_status = IntegerField(null=True)
    last_error = TextField(null=True)
    replays = IntegerField(default=0)
    created_at = UtcField(default=utcnow)
    sent_at = UtcField(null=True)

    class Meta:
        table_name = "webhook_deliveries"


class WebhookAttempt(BaseModel):
    """One HTTP attempt of a delivery: the delivery log."""

    id = AutoField()
    tenant_id = TextField()
    delivery_id = BigIntegerField()
    attempt = IntegerField()
    at = UtcField(default=utcnow)
    status_code = IntegerField(null=True)
    error = TextField(null=True)
    duration_ms = IntegerField()

    class Meta:
        table_name = "webhook_attempts"
