"""Tables of the sync area: the box identity/counter row and the outbox.

The schema lives in the numbered migrations (appliance/migrations/); these models must
equal it (tests/appliance/core/test_models_match_migrations.py).
"""

from __future__ import annotations

from peewee import AutoField, IntegerField, TextField

from appliance.core.models import BaseModel


class BoxState(BaseModel):
    """The single row holding identity, counters and held master-data versions."""

    id = IntegerField(primary_key=True)
    box_id = TextField()
    tenant_id = TextField()
    branch_id = TextField()
    next_seq = IntegerField()
    next_receipt_no = IntegerField()
    versions = TextField()
    agent_seen_at = TextField(null=True)
    last_ack_at = TextField(null=True)
    created_at = TextField()

    class Meta:
        table_name = "box_state"


class Outbox(BaseModel):
    """An event waiting for (or having received) the hub's BatchAck."""

    id = AutoField()
    seq = IntegerField(unique=True)
    event_id = TextField(unique=True)
    type = TextField()
    payload = TextField()
    created_at = TextField()
    acked_at = TextField(null=True)
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    refused_at = TextField(null=True)  # the hub knowingly refused it (migration 0008)
    refused_reason = TextField(null=True)
    refused_message = TextField(null=True)
    resolved_at = TextField(null=True)  # head office resolved the refusal (migration 0012)
    resolved_by = TextField(null=True)
    resolution_note = TextField(null=True)
    acknowledged_at = TextField(null=True)  # a supervisor/manager at the till (0012)
    acknowledged_by = TextField(null=True)
    acknowledged_note = TextField(null=True)


class OutboxResend(BaseModel):
    """A hub's request to resend every kept event above its restored high-water mark."""

    restore_id = TextField(primary_key=True)
    after_seq = IntegerField()
    through_seq = IntegerField()
    cursor = IntegerField()
    requested_at = TextField()
    finished_at = TextField(null=True)

    class Meta:
        table_name = "outbox_resend"
