"""Sync robustness (FR-303, REP-O-08, REP-T-05): reconciliation queue, late sales, heartbeats.

* `reconciliation_items`: a conflict found while applying a box sale (stock below zero,
  unknown/deactivated cashier, unknown catalog or policy version). The sale is always stored;
  the item is created in the same transaction, unique per (event_id, kind) so a redelivered
  event never doubles it. Resolved with a note by a manager (audited).
* `sales.occurred_at` (box clock), `sales.clock_skew_seconds` (hub estimate of how far the box
  clock is behind) and `sales.late` (arrived more than the late window after the corrected
  sale time): the late-synced bucket of REP-T-05 and REP-O-08.
* `box_heartbeats`: the latest validated `status` heartbeat of each box (outbox depth, box
  clock, skew), upserted by the ingest worker.
"""

from __future__ import annotations

from typing import Any

APP_ROLE = "cfpos_app"

TABLES = [
    """CREATE TABLE reconciliation_items (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        branch_id TEXT NOT NULL, box_id TEXT NOT NULL, event_id TEXT NOT NULL,
        sale_id TEXT, kind TEXT NOT NULL, details {JSON} NOT NULL,
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
        created_at {TS} NOT NULL, resolved_by TEXT, resolved_at {TS}, resolution_note TEXT,
        UNIQUE (event_id, kind))""",
    "CREATE INDEX reconciliation_items_open ON reconciliation_items (tenant_id, state, kind)",
    "CREATE INDEX reconciliation_items_box ON reconciliation_items (box_id, state)",
    "ALTER TABLE sales ADD COLUMN occurred_at {TS}",
    "ALTER TABLE sales ADD COLUMN clock_skew_seconds DOUBLE PRECISION NOT NULL DEFAULT 0",
    "ALTER TABLE sales ADD COLUMN late {BOOL} NOT NULL DEFAULT FALSE",
    "CREATE INDEX sales_box_late ON sales (box_id, late)",
    """CREATE TABLE box_heartbeats (
        box_id TEXT PRIMARY KEY REFERENCES boxes(box_id), tenant_id TEXT NOT NULL,
        branch_id TEXT NOT NULL, online {BOOL} NOT NULL, queued BIGINT,
        oldest_unsynced_at {TS}, box_ts {TS}, received_at {TS} NOT NULL,
        clock_skew_seconds DOUBLE PRECISION, skew_measured_at {TS})""",
    "ALTER TABLE boxes ADD COLUMN last_acked_at {TS}",
]
TENANT_TABLES = ("reconciliation_items", "box_heartbeats")


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
    stmts.append(f"GRANT SELECT, INSERT, UPDATE ON {', '.join(TENANT_TABLES)} TO {APP_ROLE}")
    return stmts


def up(ctx: Any) -> None:
    """Create the sync-health tables and columns; on PostgreSQL also RLS and grants."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in _pg_security():
            ctx.execute(stmt)
