"""Signed pricing policies (FR-301) and per-tenant secrets (the policy signing key).

* `pricing_policies` is append-only: a change or a retirement is a new `policy_version` of the
  same `policy_id` (UNIQUE per tenant). The app role may SELECT and INSERT, never UPDATE or
  DELETE, so a row the app wrote is never rewritten; the signature (hex HMAC-SHA256 over the
  CONTRACT wire body, keyed by the tenant policy key) is re-verified before every publish.
* `tenant_secrets` holds one random key per (tenant, purpose); only `hub.services.
  pricing_policies` reads it. RLS keeps each tenant's key invisible to other tenants.
"""

from __future__ import annotations

from typing import Any

APP_ROLE = "cfpos_app"

TABLES = [
    """CREATE TABLE pricing_policies (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        policy_id TEXT NOT NULL, policy_version INTEGER NOT NULL CHECK (policy_version >= 1),
        effective_from {TS} NOT NULL, effective_to {TS},
        kind TEXT NOT NULL CHECK (kind IN ('multibuy','percent','amount','bxgy','mix_match')),
        target {JSON} NOT NULL, params {JSON} NOT NULL, signature TEXT NOT NULL,
        key_id TEXT NOT NULL, created_by TEXT NOT NULL, reason TEXT NOT NULL,
        created_at {TS} NOT NULL,
        UNIQUE (tenant_id, policy_id, policy_version))""",
    "CREATE INDEX pricing_policies_tenant_created ON pricing_policies (tenant_id, created_at)",
    """CREATE TABLE tenant_secrets (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), purpose TEXT NOT NULL,
        key_id TEXT NOT NULL, secret TEXT NOT NULL, created_at {TS} NOT NULL,
        PRIMARY KEY (tenant_id, purpose))""",
]
TENANT_TABLES = ("pricing_policies", "tenant_secrets")


def _pg_security() -> list[str]:
    cond = (
        "tenant_id = nullif(current_setting('app.tenant_id', true), '') "
        "OR current_setting('app.platform', true) = 'on'"
    )
    stmts: list[str] = []
    for table in TENANT_TABLES:
        stmts += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY {table}_tenant ON {table} USING ({cond}) WITH CHECK ({cond})",
        ]
    # append-only for the app: no UPDATE, no DELETE on either table
    stmts.append(f"GRANT SELECT, INSERT ON {', '.join(TENANT_TABLES)} TO {APP_ROLE}")
    return stmts


def up(ctx: Any) -> None:
    """Create the pricing tables; on PostgreSQL also RLS and grants."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in _pg_security():
            ctx.execute(stmt)
