"""Inventory (FR-201/202/203): stock ledger, idempotent operations, alerts, branch transfers.

Quantities are integer thousandths (`*_milli BIGINT`): exact for weighed goods (3 decimals)
on both PostgreSQL and the SQLite demo, and SUM() stays exact (no float, no NUMERIC text).
Products are referenced by their text id only — no foreign key to the catalog's tables, so
this migration does not depend on 0003 (and foreign keys would bypass RLS, see PITFALLS).

`stock_movements` and `inventory_operations` are append-only: a trigger refuses UPDATE,
DELETE and TRUNCATE even for the owner, and the app role is granted SELECT/INSERT only.
"""

from __future__ import annotations

from typing import Any

APP_ROLE = "cfpos_app"
MOVEMENT_KINDS = (
    "sale",
    "refund",
    "receipt",
    "adjustment",
    "count",
    "transfer_out",
    "transfer_in",
    "waste",
)
_KINDS = ", ".join(f"'{k}'" for k in MOVEMENT_KINDS)

TABLES = [
    f"""CREATE TABLE stock_movements (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, branch_id TEXT NOT NULL,
        product_id TEXT NOT NULL, qty_milli BIGINT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ({_KINDS})),
        reason_code TEXT, ref TEXT, idempotency_key TEXT NOT NULL, actor TEXT NOT NULL,
        occurred_at {{TS}} NOT NULL, recorded_at {{TS}} NOT NULL, source_event_id TEXT,
        CHECK (kind NOT IN ('adjustment', 'waste') OR reason_code IS NOT NULL),
        UNIQUE (tenant_id, idempotency_key))""",
    """CREATE INDEX stock_movements_product
        ON stock_movements (tenant_id, branch_id, product_id, recorded_at)""",
    "CREATE INDEX stock_movements_event ON stock_movements (source_event_id)",
    """CREATE TABLE inventory_operations (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, idempotency_key TEXT NOT NULL,
        kind TEXT NOT NULL, branch_id TEXT, request_hash TEXT NOT NULL,
        result {JSON} NOT NULL, actor TEXT NOT NULL, created_at {TS} NOT NULL,
        UNIQUE (tenant_id, idempotency_key))""",
    """CREATE TABLE reorder_points (
        tenant_id TEXT NOT NULL, branch_id TEXT NOT NULL, product_id TEXT NOT NULL,
        reorder_point_milli BIGINT NOT NULL CHECK (reorder_point_milli >= 0),
        updated_by TEXT NOT NULL, updated_at {TS} NOT NULL,
        PRIMARY KEY (tenant_id, branch_id, product_id))""",
    """CREATE TABLE stock_alert_state (
        tenant_id TEXT NOT NULL, branch_id TEXT NOT NULL, product_id TEXT NOT NULL,
        below {BOOL} NOT NULL, changed_at {TS} NOT NULL,
        PRIMARY KEY (tenant_id, branch_id, product_id))""",
    """CREATE TABLE stock_alerts (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, branch_id TEXT NOT NULL,
        product_id TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,
        on_hand_milli BIGINT NOT NULL, reorder_point_milli BIGINT NOT NULL,
        created_at {TS} NOT NULL, acknowledged_at {TS}, acknowledged_by TEXT)""",
    "CREATE INDEX stock_alerts_open ON stock_alerts (tenant_id, branch_id, acknowledged_at)",
    """CREATE TABLE transfers (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, from_branch_id TEXT NOT NULL,
        to_branch_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('requested','dispatched','received','cancelled')),
        note TEXT NOT NULL DEFAULT '', requested_by TEXT NOT NULL, requested_at {TS} NOT NULL,
        dispatched_by TEXT, dispatched_at {TS}, received_by TEXT, received_at {TS},
        cancelled_by TEXT, cancelled_at {TS}, cancel_reason TEXT,
        CHECK (from_branch_id <> to_branch_id))""",
    "CREATE INDEX transfers_branches ON transfers (tenant_id, from_branch_id, to_branch_id)",
    """CREATE TABLE transfer_lines (
        transfer_id TEXT NOT NULL REFERENCES transfers(id), tenant_id TEXT NOT NULL,
        product_id TEXT NOT NULL, requested_milli BIGINT NOT NULL CHECK (requested_milli > 0),
        dispatched_milli BIGINT, received_milli BIGINT, variance_milli BIGINT,
        PRIMARY KEY (transfer_id, product_id))""",
]

TENANT_TABLES = (
    "stock_movements",
    "inventory_operations",
    "reorder_points",
    "stock_alert_state",
    "stock_alerts",
    "transfers",
    "transfer_lines",
)
APPEND_ONLY = ("stock_movements", "inventory_operations")
MUTABLE = tuple(t for t in TENANT_TABLES if t not in APPEND_ONLY)


def _policy(table: str) -> list[str]:
    cond = (
        "tenant_id = nullif(current_setting('app.tenant_id', true), '') "
        "OR current_setting('app.platform', true) = 'on'"
    )
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_tenant ON {table} USING ({cond}) WITH CHECK ({cond})",
    ]


def _pg_security() -> list[str]:
    stmts: list[str] = []
    for table in TENANT_TABLES:
        stmts += _policy(table)
    for table in APPEND_ONLY:  # cfpos_append_only() comes from 0001
        stmts += [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION cfpos_append_only()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION cfpos_append_only()",
        ]
    stmts += [
        f"GRANT SELECT, INSERT ON {', '.join(APPEND_ONLY)} TO {APP_ROLE}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {', '.join(APPEND_ONLY)} FROM {APP_ROLE}",
        f"GRANT SELECT, INSERT, UPDATE ON {', '.join(MUTABLE)} TO {APP_ROLE}",
        f"GRANT DELETE ON reorder_points TO {APP_ROLE}",
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
    """Create the inventory schema; on PostgreSQL also RLS, append-only triggers and grants."""
    for stmt in TABLES:
        ctx.execute(stmt)
    extra = _pg_security() if ctx.dialect == "postgres" else _sqlite_append_only()
    for stmt in extra:
        ctx.execute(stmt)
