"""Integrations, outbound business webhooks, legal holds and customer erasure (FR-P7-1009..1018).

* `integrations`: one connected system of a tenant; `enabled` is its kill switch (off: its
  tokens answer 401 INTEGRATION_DISABLED and its webhooks send nothing), with who/when/why.
* `api_tokens.integration_id` (the integration a token belongs to), `rate_limit_per_minute`
  and `revoked_by`; `api_token_usage` counts requests per token and minute (fixed window,
  in the database so every gunicorn worker shares it; rows older than a day are pruned).
* `webhook_endpoints`: where an integration receives business events, with the signing
  secrets in use (several during a rotation) and the event types it wants.
* `webhook_deliveries`: one event for one endpoint (the raw body as sent, so a retry or a
  manual replay is byte for byte the same message with the same webhook-id; `replays`
  counts the manual replays);
  `webhook_attempts`: the delivery log, one row per HTTP attempt with its status or error.
* `legal_holds`: a hold on the tenant, a branch, a customer or a date range; blocks
  erasure and purge while not released.
* `customer_erasures`: what an erasure removed and what it kept under which rule;
  `customers.erased_at` marks a pseudonymised customer.
* `retention_policies`: days to keep per data class (FR-P7-1016); `purge_runs`: what each
  purge deleted and what it kept because of a hold. DELETE on sales, sale lines and webhook
  deliveries is granted to the platform role only (the purge job), never to the app role.
"""

from __future__ import annotations

from typing import Any

from hub.core.rls import tenant_table

TABLES = [
    """CREATE TABLE integrations (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        name TEXT NOT NULL, enabled {BOOL} NOT NULL DEFAULT TRUE,
        disabled_at {TS}, disabled_by TEXT, disabled_reason TEXT,
        created_by TEXT NOT NULL, created_at {TS} NOT NULL, UNIQUE (tenant_id, name))""",
    "ALTER TABLE api_tokens ADD COLUMN integration_id TEXT REFERENCES integrations(id)",
    "ALTER TABLE api_tokens ADD COLUMN rate_limit_per_minute INTEGER NOT NULL DEFAULT 120",
    "ALTER TABLE api_tokens ADD COLUMN revoked_by TEXT",
    """CREATE TABLE api_token_usage (
        token_id TEXT NOT NULL, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        window_start {TS} NOT NULL, hits INTEGER NOT NULL,
        PRIMARY KEY (token_id, window_start))""",
    """CREATE TABLE webhook_endpoints (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        integration_id TEXT NOT NULL REFERENCES integrations(id),
        url TEXT NOT NULL, event_types {JSON} NOT NULL, secrets {JSON} NOT NULL,
        enabled {BOOL} NOT NULL DEFAULT TRUE, created_by TEXT NOT NULL,
        created_at {TS} NOT NULL, rotated_at {TS})""",
    "CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id, enabled)",
    """CREATE TABLE webhook_deliveries (
        id {SERIAL}, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
        event_type TEXT NOT NULL, message_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at {TS} NOT NULL,
        last_status INTEGER, last_error TEXT, replays INTEGER NOT NULL DEFAULT 0,
        created_at {TS} NOT NULL, sent_at {TS})""",
    "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at)",
    "CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, id)",
    """CREATE TABLE webhook_attempts (
        id {SERIAL}, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries(id),
        attempt INTEGER NOT NULL, at {TS} NOT NULL, status_code INTEGER, error TEXT,
        duration_ms INTEGER NOT NULL)""",
    "CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt)",
    """CREATE TABLE legal_holds (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        scope TEXT NOT NULL CHECK (scope IN ('tenant', 'branch', 'customer', 'date_range')),
        target TEXT, starts_at {TS}, ends_at {TS}, reason TEXT NOT NULL,
        created_by TEXT NOT NULL, created_at {TS} NOT NULL,
        released_at {TS}, released_by TEXT)""",
    "CREATE INDEX legal_holds_live ON legal_holds (tenant_id, released_at)",
    """CREATE TABLE customer_erasures (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        customer_id TEXT NOT NULL, erased_by TEXT NOT NULL, erased_at {TS} NOT NULL,
        erased {JSON} NOT NULL, kept {JSON} NOT NULL, UNIQUE (tenant_id, customer_id))""",
    "ALTER TABLE customers ADD COLUMN erased_at {TS}",
    """CREATE TABLE retention_policies (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), data_class TEXT NOT NULL,
        keep_days INTEGER NOT NULL CHECK (keep_days > 0), reason TEXT NOT NULL,
        updated_by TEXT NOT NULL, updated_at {TS} NOT NULL,
        PRIMARY KEY (tenant_id, data_class))""",
    """CREATE TABLE purge_runs (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        data_class TEXT NOT NULL, cutoff {TS} NOT NULL, deleted BIGINT NOT NULL,
        held BIGINT NOT NULL, holds {JSON} NOT NULL, actor TEXT NOT NULL,
        finished_at {TS} NOT NULL)""",
]
TENANT_TABLES = (
    "integrations",
    "api_token_usage",
    "webhook_endpoints",
    "webhook_deliveries",
    "webhook_attempts",
    "legal_holds",
    "customer_erasures",
    "retention_policies",
    "purge_runs",
)
GRANTS = {"api_token_usage": "SELECT, INSERT, UPDATE, DELETE"}
SERIALS = ("webhook_deliveries_id_seq", "webhook_attempts_id_seq")


def _pg_security() -> list[str]:
    stmts: list[str] = []
    for table in TENANT_TABLES:
        stmts += tenant_table(table, GRANTS.get(table, "SELECT, INSERT, UPDATE"))
    stmts.append(f"GRANT USAGE, SELECT ON SEQUENCE {', '.join(SERIALS)} TO cfpos_app")
    # the retention purge deletes as the platform role only: a tenant transaction (the app
    # role) still cannot delete a sale, even with injected SQL
    stmts.append(
        "GRANT DELETE ON sales, sale_lines, webhook_deliveries, webhook_attempts TO cfpos_platform"
    )
    return stmts


def up(ctx: Any) -> None:
    """Create the integration and compliance tables; on PostgreSQL also RLS and grants."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in _pg_security():
            ctx.execute(stmt)
