"""Tables of the identity area: synced staff, PIN lockout counters, server-side sessions.

The schema lives in the numbered migrations (appliance/migrations/); these models must
equal it (tests/appliance/core/test_models_match_migrations.py).
"""

from __future__ import annotations

from peewee import IntegerField, TextField

from appliance.core.models import BaseModel


class Staff(BaseModel):
    """Staff synced from the hub (full list per version)."""

    id = TextField(primary_key=True)
    name = TextField()
    role = TextField()
    pin_hash = TextField()
    active = IntegerField()
    branch_ids = TextField()
    badge_digest = TextField(null=True)  # sha256 of "<tenant_id>:<BADGE>" (CONTRACT)


class PinFailure(BaseModel):
    """Consecutive PIN failures and lockout per scope ('box' or 'staff:<id>')."""

    scope = TextField(primary_key=True)
    failures = IntegerField(default=0)
    locked_until = TextField(null=True)

    class Meta:
        table_name = "pin_failures"


class StaffSession(BaseModel):
    """One PIN login, keyed by the SHA-256 of the cookie secret (identity/session_store)."""

    id = TextField(primary_key=True)
    staff_id = TextField(index=True)
    created_at = TextField()
    last_seen_at = TextField()
    expires_at = TextField()
    revoked_at = TextField(null=True)
    revoked_reason = TextField(null=True)

    class Meta:
        table_name = "staff_sessions"
