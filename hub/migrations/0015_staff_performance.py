"""Staff lifecycle and cashier performance foundations (FR-102, FR-600 / REP-T-08).

* `users.badge_digest`: hex SHA-256 of `<tenant_id>:<badge>` for a staff badge barcode,
  unique per tenant (a partial unique index: users without a badge are many).
* `staff_performance_daily`: one row per (tenant, branch, cashier, business day in the
  branch's time zone) with the counters derived at ingest (docs/CONTRACT.md "Staff
  performance"): transactions, items, gross/net/total, post-voids, line voids, refunds,
  overrides, no-sale opens, drawer opens, and the timed items / active milliseconds that items per
  minute is computed from (idle gaps over 600 s excluded).
* `staff_sale_activity`: one row per ingested sale (cashier, box, business day, when the
  basket started if the box said so, when it completed, items) — the timeline the active
  milliseconds are derived from, so late or out-of-order sales still give exact figures.
"""

from __future__ import annotations

from typing import Any

APP_ROLE = "cfpos_app"

TABLES = [
    "ALTER TABLE users ADD COLUMN badge_digest TEXT",
    """CREATE UNIQUE INDEX users_badge ON users (tenant_id, badge_digest)
        WHERE badge_digest IS NOT NULL""",
    """CREATE TABLE staff_performance_daily (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), branch_id TEXT NOT NULL,
        cashier_id TEXT NOT NULL, business_day TEXT NOT NULL,
        transactions BIGINT NOT NULL DEFAULT 0, items BIGINT NOT NULL DEFAULT 0,
        gross_minor BIGINT NOT NULL DEFAULT 0, net_minor BIGINT NOT NULL DEFAULT 0,
        total_minor BIGINT NOT NULL DEFAULT 0,
        voids_count BIGINT NOT NULL DEFAULT 0, voids_minor BIGINT NOT NULL DEFAULT 0,
        line_voids BIGINT NOT NULL DEFAULT 0,
        refunds_count BIGINT NOT NULL DEFAULT 0, refunds_minor BIGINT NOT NULL DEFAULT 0,
        refunds_net_minor BIGINT NOT NULL DEFAULT 0,
        overrides BIGINT NOT NULL DEFAULT 0, no_sale_opens BIGINT NOT NULL DEFAULT 0,
        drawer_opens BIGINT NOT NULL DEFAULT 0, timed_items BIGINT NOT NULL DEFAULT 0,
        active_ms BIGINT NOT NULL DEFAULT 0, exponent INTEGER NOT NULL DEFAULT 2,
        updated_at {TS} NOT NULL,
        PRIMARY KEY (tenant_id, branch_id, cashier_id, business_day))""",
    """CREATE TABLE staff_sale_activity (
        event_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        branch_id TEXT NOT NULL, box_id TEXT NOT NULL, cashier_id TEXT NOT NULL,
        business_day TEXT NOT NULL, started_at {TS}, completed_at {TS} NOT NULL,
        items BIGINT NOT NULL)""",
    """CREATE INDEX staff_sale_activity_timeline
        ON staff_sale_activity (tenant_id, box_id, cashier_id, business_day, completed_at)""",
]
TENANT_TABLES = ("staff_performance_daily", "staff_sale_activity")


def _pg_security() -> list[str]:
    cond = (
        "tenant_id = nullif(current_setting('app.tenant_id', true), '') "
        "OR CURRENT_USER = 'cfpos_platform'"
    )
    stmts: list[str] = []
    for table in TENANT_TABLES:
        stmts += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY {table}_tenant ON {table} USING ({cond}) WITH CHECK ({cond})",
        ]
    stmts += [
        f"GRANT SELECT, INSERT, UPDATE ON staff_performance_daily TO {APP_ROLE}",
        f"GRANT SELECT, INSERT ON staff_sale_activity TO {APP_ROLE}",
    ]
    return stmts


def up(ctx: Any) -> None:
    """Add the badge column and the performance tables; on PostgreSQL also RLS and grants."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in _pg_security():
            ctx.execute(stmt)
