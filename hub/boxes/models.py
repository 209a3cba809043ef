"""Peewee models for box enrolment (migration 0005 owns the DDL)."""

from __future__ import annotations

from peewee import AutoField, BooleanField, TextField

from hub.core.models import BaseModel, JsonField, UtcField, utcnow


class EnrolmentCode(BaseModel):
    """A one-time code a field tech types on a new box (only its SHA-256 is stored)."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    till_name = TextField()
    code_hash = TextField(unique=True)
    replaces_box_id = TextField(null=True)
    created_by = TextField()
    created_at = UtcField(default=utcnow)
    expires_at = UtcField()
    used_at = UtcField(null=True)
    used_box_id = TextField(null=True)

    class Meta:
        table_name = "enrolment_codes"


class BoxCredential(BaseModel):
    """A box's MQTT login: username and Mosquitto `$7$` password hash."""

    box_id = TextField(primary_key=True)
    tenant_id = TextField()
    mqtt_username = TextField(unique=True)
    password_hash = TextField()
    created_at = UtcField(default=utcnow)
    revoked_at = UtcField(null=True)

    class Meta:
        table_name = "box_credentials"


class BoxReplacement(BaseModel):
    """Which box replaced a dead one, and until when the old box's late events are accepted."""

    old_box_id = TextField(primary_key=True)
    tenant_id = TextField()
    new_box_id = TextField(unique=True)
    replaced_at = UtcField(default=utcnow)
    accept_late_until = UtcField()
    replaced_by = TextField()

    class Meta:
        table_name = "box_replacements"


class CommissioningReport(BaseModel):
    """A box's self-test report as uploaded by `python -m provisioning selftest`."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    ok = BooleanField()
    report = JsonField()
    received_at = UtcField(default=utcnow)

    class Meta:
        table_name = "commissioning_reports"


class EnrolmentFailure(BaseModel):
    """One failed enrol / commissioning-auth attempt from a client address (no tenant)."""

    id = AutoField()
    client_ip = TextField()
    failed_at = UtcField(default=utcnow)

    class Meta:
        table_name = "enrolment_failures"
