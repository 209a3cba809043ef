"""Peewee models over the migrated schema (the migrations own the DDL, not these classes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from peewee import (
    AutoField,
    BigIntegerField,
    BlobField,
    BooleanField,
    CompositeKey,
    Field,
    IntegerField,
    Model,
    TextField,
)

from hub.db import db


class JsonField(Field):
    """JSON in a JSONB (PostgreSQL) or TEXT (SQLite) column."""

    field_type = "TEXT"

    def db_value(self, value: Any) -> Any:
        """Serialise for storage."""
        return None if value is None else json.dumps(value, sort_keys=True)

    def python_value(self, value: Any) -> Any:
        """psycopg2 already decodes JSONB; SQLite gives text."""
        return json.loads(value) if isinstance(value, str) else value


class UtcField(Field):
    """Timezone-aware UTC datetime in TIMESTAMPTZ (PostgreSQL) or ISO text (SQLite)."""

    field_type = "TEXT"

    def db_value(self, value: Any) -> Any:
        """Store as ISO-8601 UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()

    def python_value(self, value: Any) -> Any:
        """Always hand back an aware UTC datetime."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value if value.tzinfo else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class Tenant(BaseModel):
    id = TextField(primary_key=True)
    name = TextField()
    status = TextField(default="active")
    created_at = UtcField(default=utcnow)

    class Meta:
        table_name = "tenants"


class Branch(BaseModel):
    id = TextField(primary_key=True)
    tenant_id = TextField()
    name = TextField()
    timezone = TextField(default="UTC")
    created_at = UtcField(default=utcnow)

    class Meta:
        table_name = "branches"


class User(BaseModel):
    id = TextField(primary_key=True)
    tenant_id = TextField(null=True)
    username = TextField(unique=True)
    display_name = TextField()
    password_hash = TextField()
    role = TextField()
    branch_ids = JsonField(default=list)
    active = BooleanField(default=True)
    failed_logins = IntegerField(default=0)
    locked_until = UtcField(null=True)
    pin_hash = TextField(null=True)
    created_at = UtcField(default=utcnow)
    updated_at = UtcField(default=utcnow)

    class Meta:
        table_name = "users"


class ApiToken(BaseModel):
    id = TextField(primary_key=True)
    tenant_id = TextField()
    name = TextField()
    token_hash = TextField(unique=True)
    scopes = JsonField(default=list)
    created_by = TextField()
    created_at = UtcField(default=utcnow)
    revoked_at = UtcField(null=True)

    class Meta:
        table_name = "api_tokens"


class Box(BaseModel):
    box_id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    name = TextField()
    status = TextField(default="active")
    last_seen_at = UtcField(null=True)
    last_contiguous_seq = BigIntegerField(default=0)
    max_seq_seen = BigIntegerField(default=0)
    created_at = UtcField(default=utcnow)

    class Meta:
        table_name = "boxes"


class AuditLog(BaseModel):
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


class ConfigVersion(BaseModel):
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

    class Meta:
        table_name = "config_versions"


class FeatureFlag(BaseModel):
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
    tenant_id = TextField()
    kind = TextField()
    version = IntegerField(default=0)

    class Meta:
        table_name = "down_state"
        primary_key = CompositeKey("tenant_id", "kind")


class Sale(BaseModel):
    id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    box_id = TextField()
    event_id = TextField(unique=True)
    receipt_no = BigIntegerField()
    cashier_id = TextField()
    cashier_name = TextField()
    currency = TextField()
    exponent = IntegerField()
    subtotal_minor = BigIntegerField()
    tax_minor = BigIntegerField()
    total_minor = BigIntegerField()
    change_minor = BigIntegerField()
    tenders = JsonField()
    completed_at = UtcField()
    received_at = UtcField(default=utcnow)
    correlation_id = TextField()

    class Meta:
        table_name = "sales"


class SaleLine(BaseModel):
    id = AutoField()
    sale_id = TextField()
    tenant_id = TextField()
    branch_id = TextField()
    line_no = IntegerField()
    product_id = TextField()
    sku = TextField()
    name = TextField()
    barcode = TextField()
    qty = TextField()
    unit_price_minor = BigIntegerField()
    line_total_minor = BigIntegerField()
    tax_class = TextField()
    tax_rate = TextField()
    tax_minor = BigIntegerField()

    class Meta:
        table_name = "sale_lines"


class IngestedEvent(BaseModel):
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

    class Meta:
        table_name = "ingested_events"


class Quarantine(BaseModel):
    id = AutoField()
    topic = TextField()
    box_id = TextField(null=True)
    payload = BlobField()
    reason = TextField()
    error = TextField()
    received_at = UtcField(default=utcnow)

    class Meta:
        table_name = "quarantine"


class BoxAudit(BaseModel):
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
