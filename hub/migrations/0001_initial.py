"""Initial hub schema: identity, boxes, audit, config, flags, sales, ingest, quarantine.

Portable DDL uses placeholders filled per dialect: {JSON} (JSONB / TEXT), {TS}
(TIMESTAMPTZ / TEXT), {SERIAL} (BIGSERIAL / INTEGER autoincrement), {BLOB}
(BYTEA / BLOB), {BOOL} (BOOLEAN / INTEGER). Money is BIGINT minor units.
"""

from __future__ import annotations

from typing import Any

APP_ROLE = "cfpos_app"

TABLES = [
    """CREATE TABLE tenants (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active',
        created_at {TS} NOT NULL)""",
    """CREATE TABLE branches (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        name TEXT NOT NULL, timezone TEXT NOT NULL DEFAULT 'UTC', created_at {TS} NOT NULL)""",
    """CREATE TABLE users (
        id TEXT PRIMARY KEY, tenant_id TEXT REFERENCES tenants(id),
        username TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
        password_hash TEXT NOT NULL, role TEXT NOT NULL, branch_ids {JSON} NOT NULL,
        active {BOOL} NOT NULL DEFAULT TRUE, failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until {TS}, pin_hash TEXT, created_at {TS} NOT NULL, updated_at {TS} NOT NULL)""",
    """CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, scopes {JSON} NOT NULL,
        created_by TEXT NOT NULL, created_at {TS} NOT NULL, revoked_at {TS})""",
    """CREATE TABLE boxes (
        box_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        branch_id TEXT NOT NULL REFERENCES branches(id), name TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active', last_seen_at {TS},
        last_contiguous_seq BIGINT NOT NULL DEFAULT 0, max_seq_seen BIGINT NOT NULL DEFAULT 0,
        created_at {TS} NOT NULL)""",
    """CREATE TABLE audit_log (
        id {SERIAL}, tenant_id TEXT, chain TEXT NOT NULL, seq BIGINT NOT NULL,
        ts TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
        severity TEXT NOT NULL, details {JSON} NOT NULL, prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL, UNIQUE (chain, seq))""",
    """CREATE TABLE config_versions (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), branch_id TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('branding','tax','pricing','risk','catalog')),
        version INTEGER NOT NULL, body {JSON} NOT NULL, actor TEXT NOT NULL,
        reason TEXT NOT NULL, before {JSON}, after {JSON} NOT NULL, created_at {TS} NOT NULL)""",
    """CREATE UNIQUE INDEX config_versions_uniq
        ON config_versions (tenant_id, COALESCE(branch_id, ''), kind, version)""",
    """CREATE TABLE feature_flags (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL,
        enabled {BOOL} NOT NULL DEFAULT FALSE, version INTEGER NOT NULL DEFAULT 0,
        change_ticket TEXT, emergency {BOOL} NOT NULL DEFAULT FALSE,
        backfill_required {BOOL} NOT NULL DEFAULT FALSE, updated_by TEXT NOT NULL,
        updated_at {TS} NOT NULL, UNIQUE (tenant_id, name))""",
    """CREATE TABLE down_state (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), kind TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (tenant_id, kind))""",
    """CREATE TABLE sales (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, branch_id TEXT NOT NULL,
        box_id TEXT NOT NULL, event_id TEXT NOT NULL UNIQUE, receipt_no BIGINT NOT NULL,
        cashier_id TEXT NOT NULL, cashier_name TEXT NOT NULL, currency TEXT NOT NULL,
        exponent INTEGER NOT NULL, subtotal_minor BIGINT NOT NULL, tax_minor BIGINT NOT NULL,
        total_minor BIGINT NOT NULL, change_minor BIGINT NOT NULL, tenders {JSON} NOT NULL,
        completed_at {TS} NOT NULL, received_at {TS} NOT NULL, correlation_id TEXT NOT NULL)""",
    "CREATE INDEX sales_tenant_branch_completed ON sales (tenant_id, branch_id, completed_at)",
    """CREATE TABLE sale_lines (
        id {SERIAL}, sale_id TEXT NOT NULL REFERENCES sales(id), tenant_id TEXT NOT NULL,
        branch_id TEXT NOT NULL, line_no INTEGER NOT NULL, product_id TEXT NOT NULL,
        sku TEXT NOT NULL, name TEXT NOT NULL, barcode TEXT NOT NULL, qty TEXT NOT NULL,
        unit_price_minor BIGINT NOT NULL, line_total_minor BIGINT NOT NULL,
        tax_class TEXT NOT NULL, tax_rate TEXT NOT NULL, tax_minor BIGINT NOT NULL,
        UNIQUE (sale_id, line_no))""",
    """CREATE TABLE ingested_events (
        event_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, branch_id TEXT NOT NULL,
        box_id TEXT NOT NULL, seq BIGINT NOT NULL, type TEXT NOT NULL,
        occurred_at {TS} NOT NULL, received_at {TS} NOT NULL, correlation_id TEXT NOT NULL,
        payload {JSON} NOT NULL, UNIQUE (box_id, seq))""",
    """CREATE TABLE quarantine (
        id {SERIAL}, topic TEXT NOT NULL, box_id TEXT, payload {BLOB} NOT NULL,
        reason TEXT NOT NULL, error TEXT NOT NULL, received_at {TS} NOT NULL)""",
    """CREATE TABLE box_audit (
        id {SERIAL}, tenant_id TEXT NOT NULL, branch_id TEXT NOT NULL, box_id TEXT NOT NULL,
        event_id TEXT NOT NULL UNIQUE, chain TEXT NOT NULL, seq BIGINT NOT NULL, ts TEXT NOT NULL,
        actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, severity TEXT NOT NULL,
        details {JSON} NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
        UNIQUE (box_id, chain, seq))""",
]

# tenant-owned tables and the column RLS compares with app.tenant_id
TENANT_TABLES = {
    "tenants": "id",
    "branches": "tenant_id",
    "users": "tenant_id",
    "api_tokens": "tenant_id",
    "boxes": "tenant_id",
    "audit_log": "tenant_id",
    "config_versions": "tenant_id",
    "feature_flags": "tenant_id",
    "down_state": "tenant_id",
    "sales": "tenant_id",
    "sale_lines": "tenant_id",
    "ingested_events": "tenant_id",
    "box_audit": "tenant_id",
}
APPEND_ONLY = ("audit_log", "box_audit")

_PG_APPEND_ONLY_FN = """
CREATE OR REPLACE FUNCTION cfpos_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$"""


def _policy(table: str, column: str) -> list[str]:
    cond = (
        f"{column} = nullif(current_setting('app.tenant_id', true), '') "
        "OR current_setting('app.platform', true) = 'on'"
    )
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_tenant ON {table} USING ({cond}) WITH CHECK ({cond})",
    ]


def _pg_security() -> list[str]:
    stmts: list[str] = []
    for table, column in TENANT_TABLES.items():
        stmts += _policy(table, column)
    stmts.append(_PG_APPEND_ONLY_FN)
    for table in APPEND_ONLY:
        stmts += [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION cfpos_append_only()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION cfpos_append_only()",
        ]
    tables = ", ".join([*TENANT_TABLES, "quarantine"])
    stmts += [
        f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {APP_ROLE}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {', '.join(APPEND_ONLY)} FROM {APP_ROLE}",
        f"REVOKE UPDATE, DELETE ON quarantine FROM {APP_ROLE}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}",
    ]
    return stmts


def _sqlite_append_only() -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for table in APPEND_ONLY
        for op in ("UPDATE", "DELETE")
    ]


def up(ctx: Any) -> None:
    """Create the schema; on PostgreSQL also RLS, append-only triggers and grants."""
    for stmt in TABLES:
        ctx.execute(stmt)
    extra = _pg_security() if ctx.dialect == "postgres" else _sqlite_append_only()
    for stmt in extra:
        ctx.execute(stmt)
