"""Server-side sessions, expiring API tokens, usernames unique per tenant (P0 probe 1, 3, 6).

* `hub_sessions`: one row per portal/API login; the cookie carries a random secret whose
  SHA-256 is the row id. Logout, password change and deactivation set `revoked_at`; the
  idle timeout and absolute lifetime are checked against `last_seen_at` / `expires_at`.
  Looked up before the tenant is known (like a token), so the platform role reads it.
* `api_tokens.expires_at` / `last_used_at`: tokens issued before this migration get the
  default lifetime from their creation (90 days), so none stays valid forever.
* `users.username` is unique per tenant (platform users among themselves), so creating a
  user never reveals that another tenant has one of that name.
"""

from __future__ import annotations

from typing import Any

APP_ROLE = "cfpos_app"
TENANT = "nullif(current_setting('app.tenant_id', true), '')"
PLATFORM = "CURRENT_USER = 'cfpos_platform'"

TABLES = [
    """CREATE TABLE hub_sessions (
        id TEXT PRIMARY KEY, user_id TEXT NOT NULL, tenant_id TEXT,
        created_at {TS} NOT NULL, last_seen_at {TS} NOT NULL, expires_at {TS} NOT NULL,
        revoked_at {TS}, revoked_reason TEXT)""",
    "CREATE INDEX hub_sessions_user ON hub_sessions (user_id)",
    "ALTER TABLE api_tokens ADD COLUMN expires_at {TS}",
    "ALTER TABLE api_tokens ADD COLUMN last_used_at {TS}",
]

PG_EXTRA = [
    "UPDATE api_tokens SET expires_at = created_at + interval '90 days' WHERE expires_at IS NULL",
    "ALTER TABLE api_tokens ALTER COLUMN expires_at SET NOT NULL",
    "ALTER TABLE users DROP CONSTRAINT users_username_key",
    "CREATE UNIQUE INDEX users_tenant_username ON users (COALESCE(tenant_id, ''), username)",
    "ALTER TABLE hub_sessions ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE hub_sessions FORCE ROW LEVEL SECURITY",
    f"""CREATE POLICY hub_sessions_tenant ON hub_sessions
        USING (tenant_id = {TENANT} OR {PLATFORM})
        WITH CHECK (tenant_id = {TENANT} OR {PLATFORM})""",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON hub_sessions TO {APP_ROLE}",
]


def up(ctx: Any) -> None:
    """Create hub_sessions and the token columns; on PostgreSQL also RLS and the new keys."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in PG_EXTRA:
            ctx.execute(stmt)
