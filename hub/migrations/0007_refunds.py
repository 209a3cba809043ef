"""Till documents from boxes (FR-300, REP-T-04/12/13): refunds, post-voids and shift Z reports.

* `box_refunds`: one row per `refund.completed` event (its own document: box receipt number,
  original sale if any, approver, reason code; money negative, minor units; lines as JSON).
* `sale_voids`: one row per `sale.voided`; the sale row stays as ingested, reports subtract it.
* `shift_reports`: the Z report of each closed shift (`shift.closed`), unique per (box, z_no).
All three are append-only for the app role (SELECT, INSERT), tenant-scoped with RLS.
Idempotency comes from ingested_events (an event is applied once) plus unique event ids here.
"""

from __future__ import annotations

from typing import Any

APP_ROLE = "cfpos_app"

TABLES = [
    """CREATE TABLE box_refunds (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        branch_id TEXT NOT NULL, box_id TEXT NOT NULL, event_id TEXT NOT NULL UNIQUE,
        receipt_no BIGINT NOT NULL, sale_id TEXT, original_receipt_no BIGINT,
        with_receipt {BOOL} NOT NULL, cashier_id TEXT NOT NULL, approver_id TEXT NOT NULL,
        reason_code TEXT NOT NULL, currency TEXT NOT NULL, exponent INTEGER NOT NULL,
        total_minor BIGINT NOT NULL CHECK (total_minor <= 0), tax_minor BIGINT NOT NULL,
        cash_rounding_minor BIGINT NOT NULL, tenders {JSON} NOT NULL, lines {JSON} NOT NULL,
        completed_at {TS} NOT NULL, received_at {TS} NOT NULL,
        UNIQUE (box_id, receipt_no))""",
    "CREATE INDEX box_refunds_sale ON box_refunds (tenant_id, sale_id)",
    "CREATE INDEX box_refunds_branch_time ON box_refunds (tenant_id, branch_id, completed_at)",
    """CREATE TABLE sale_voids (
        sale_id TEXT NOT NULL, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        branch_id TEXT NOT NULL, box_id TEXT NOT NULL, event_id TEXT NOT NULL UNIQUE,
        receipt_no BIGINT NOT NULL, cashier_id TEXT NOT NULL, approver_id TEXT NOT NULL,
        reason_code TEXT NOT NULL, total_minor BIGINT NOT NULL, voided_at {TS} NOT NULL,
        received_at {TS} NOT NULL, PRIMARY KEY (box_id, sale_id))""",
    """CREATE TABLE shift_reports (
        shift_id TEXT NOT NULL, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        branch_id TEXT NOT NULL, box_id TEXT NOT NULL, event_id TEXT NOT NULL UNIQUE,
        z_no BIGINT NOT NULL, till TEXT NOT NULL, cashier_id TEXT NOT NULL,
        opened_at {TS} NOT NULL, closed_at {TS} NOT NULL, net_total_minor BIGINT NOT NULL,
        body {JSON} NOT NULL, received_at {TS} NOT NULL,
        PRIMARY KEY (box_id, shift_id), UNIQUE (box_id, z_no))""",
]
TENANT_TABLES = ("box_refunds", "sale_voids", "shift_reports")


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
    stmts.append(f"GRANT SELECT, INSERT ON {', '.join(TENANT_TABLES)} TO {APP_ROLE}")
    return stmts


def up(ctx: Any) -> None:
    """Create the till-document tables; on PostgreSQL also RLS and grants."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in _pg_security():
            ctx.execute(stmt)
