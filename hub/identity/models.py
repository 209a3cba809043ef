"""Tenants, branches, hub users, API tokens, login failures and enrolled boxes."""

from __future__ import annotations

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CompositeKey,
    IntegerField,
    TextField,
)

from hub.core.models import BaseModel, JsonField, UtcField, utcnow


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
    username = TextField()  # unique per tenant (migration 0011)
    display_name = TextField()
    password_hash = TextField()
    role = TextField()
    branch_ids = JsonField(default=list)
    active = BooleanField(default=True)
    failed_logins = IntegerField(default=0)
    locked_until = UtcField(null=True)
    pin_hash = TextField(null=True)
    badge_digest = TextField(null=True)  # sha256 of "<tenant>:<badge>", unique per tenant
    locale = TextField(null=True)  # portal language chosen by the user (NULL: Accept-Language)
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
    expires_at = UtcField()
    last_used_at = UtcField(null=True)
    integration_id = TextField()  # the integration whose kill switch covers it (0025)
    rate_limit_per_minute = IntegerField(default=120)
    revoked_by = TextField(null=True)

    class Meta:
        table_name = "api_tokens"


class Integration(BaseModel):
    """A connected system of a tenant; `enabled` is its kill switch (FR-P7-1011)."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    name = TextField()
    enabled = BooleanField(default=True)
    disabled_at = UtcField(null=True)
    disabled_by = TextField(null=True)
    disabled_reason = TextField(null=True)
    created_by = TextField()
    created_at = UtcField(default=utcnow)

    class Meta:
        table_name = "integrations"


class ApiTokenUsage(BaseModel):
    """Requests of one token in one minute (the per-token rate limit, FR-P7-1012)."""

    token_id = TextField()
    tenant_id = TextField()
    window_start = UtcField()
    hits = IntegerField()

    class Meta:
        table_name = "api_token_usage"
        primary_key = CompositeKey("token_id", "window_start")


class HubSession(BaseModel):
    """A server-side login session: the cookie carries a secret whose SHA-256 is the id."""

    id = TextField(primary_key=True)
    user_id = TextField()
    tenant_id = TextField(null=True)
    created_at = UtcField(default=utcnow)
    last_seen_at = UtcField(default=utcnow)
    expires_at = UtcField()
    revoked_at = UtcField(null=True)
    revoked_reason = TextField(null=True)

    class Meta:
        table_name = "hub_sessions"


class LoginFailure(BaseModel):
    """One failed login from a client address (per-IP rate limit, no tenant)."""

    id = AutoField()
    client_ip = TextField()
    failed_at = UtcField(default=utcnow)

    class Meta:
        table_name = "login_failures"


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
