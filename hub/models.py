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
    FloatField,
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
    """Base of every hub model: bound to the shared database proxy."""

    class Meta:
        database = db
        legacy_table_names = False


class Tenant(BaseModel):
    """A grocery chain (RLS: its own row)."""

    id = TextField(primary_key=True)
    name = TextField()
    status = TextField(default="active")
    created_at = UtcField(default=utcnow)

    class Meta:
        table_name = "tenants"


class Branch(BaseModel):
    """One store of a tenant, with its IANA time zone."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    name = TextField()
    timezone = TextField(null=True)  # IANA name; NULL = tenant pricing config, else UTC
    created_at = UtcField(default=utcnow)

    class Meta:
        table_name = "branches"


class User(BaseModel):
    """A hub user (password login, lockout counters, branch assignment)."""

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
    """An integration token: only its SHA-256 is stored."""

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
    """An enrolled store box and its sync position."""

    box_id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    name = TextField()
    status = TextField(default="active")
    last_seen_at = UtcField(null=True)
    last_contiguous_seq = BigIntegerField(default=0)
    max_seq_seen = BigIntegerField(default=0)
    last_acked_at = UtcField(null=True)  # when acked_through last moved forward
    created_at = UtcField(default=utcnow)

    class Meta:
        table_name = "boxes"


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

    class Meta:
        table_name = "config_versions"


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


class Sale(BaseModel):
    """A completed sale as ingested from a box (money in minor units)."""

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
    occurred_at = UtcField(null=True)  # envelope time, box clock
    clock_skew_seconds = FloatField(default=0.0)  # hub estimate: hub clock - box clock
    late = BooleanField(default=False)  # arrived past the late window (REP-T-05 bucket)

    class Meta:
        table_name = "sales"


class SaleLine(BaseModel):
    """One line of an ingested sale."""

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
    """Every applied box event (dedup on event_id)."""

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
    """A refused MQTT message with its reason code."""

    id = AutoField()
    topic = TextField()
    box_id = TextField(null=True)
    payload = BlobField()
    reason = TextField()
    error = TextField()
    received_at = UtcField(default=utcnow)

    class Meta:
        table_name = "quarantine"


class LoginFailure(BaseModel):
    """One failed login from a client address (per-IP rate limit, no tenant)."""

    id = AutoField()
    client_ip = TextField()
    failed_at = UtcField(default=utcnow)

    class Meta:
        table_name = "login_failures"


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
