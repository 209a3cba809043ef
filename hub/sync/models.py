"""Sync bookkeeping: every ingested event id, quarantined messages, the reconciliation queue,
box heartbeats."""

from __future__ import annotations

from peewee import (
    AutoField,
    BigIntegerField,
    BlobField,
    BooleanField,
    CompositeKey,
    FloatField,
    TextField,
)

from hub.core.models import BaseModel, JsonField, UtcField, utcnow


class IngestedEvent(BaseModel):
    """Every box event that holds its seq: applied, or refused on its own fresh seq
    (`outcome` quarantined, `reason`); `digest` tells a redelivery from a forged reuse."""

    event_id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    seq = BigIntegerField()
    type = TextField()
    occurred_at = UtcField()
    received_at = UtcField(default=utcnow)
    correlation_id = TextField()
    payload = JsonField()
    outcome = TextField(default="applied")
    reason = TextField(null=True)
    digest = TextField(null=True)

    class Meta:
        table_name = "ingested_events"


class Quarantine(BaseModel):
    """A refused MQTT message, or one refused event of a batch, with its reason code."""

    id = AutoField()
    topic = TextField()
    box_id = TextField(null=True)
    payload = BlobField()
    reason = TextField()
    error = TextField()
    received_at = UtcField(default=utcnow)
    event_id = TextField(null=True)
    seq = BigIntegerField(null=True)
    event_type = TextField(null=True)
    digest = TextField(null=True)

    class Meta:
        table_name = "quarantine"


class ReconciliationItem(BaseModel):
    """A conflict found while applying a box event, or an event the hub refused (FR-303)."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    event_id = TextField()
    sale_id = TextField(null=True)
    kind = TextField()
    severity = TextField(default="WARN")
    details = JsonField()
    state = TextField(default="open")
    created_at = UtcField(default=utcnow)
    resolved_by = TextField(null=True)
    resolved_at = UtcField(null=True)
    resolution_note = TextField(null=True)

    class Meta:
        table_name = "reconciliation_items"


class BoxHeartbeat(BaseModel):
    """The latest validated status heartbeat of a box, with the hub's clock-skew estimate."""

    box_id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    online = BooleanField()
    queued = BigIntegerField(null=True)
    oldest_unsynced_at = UtcField(null=True)
    box_ts = UtcField(null=True)
    received_at = UtcField(default=utcnow)
    clock_skew_seconds = FloatField(null=True)
    skew_measured_at = UtcField(null=True)
    # FR-500 fields a box may report (None until it does)
    version = TextField(null=True)
    print_queue = BigIntegerField(null=True)
    print_failed = BigIntegerField(null=True)
    print_oldest_at = UtcField(null=True)
    disk_free_bytes = BigIntegerField(null=True)
    disk_total_bytes = BigIntegerField(null=True)
    devices = JsonField(null=True)
    refused = BigIntegerField(null=True)  # refused events the box holds unsettled (0020)
    refused_sales = BigIntegerField(null=True)

    class Meta:
        table_name = "box_heartbeats"


class BoxResendRequest(BaseModel):
    """After a hub restore: resend every event above the restored high-water mark (NFR-004)."""

    restore_id = TextField()
    tenant_id = TextField()
    box_id = TextField()
    after_seq = BigIntegerField()
    restored_at = UtcField()

    class Meta:
        table_name = "box_resend_requests"
        primary_key = CompositeKey("restore_id", "box_id")
