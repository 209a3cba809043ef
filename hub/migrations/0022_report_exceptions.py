"""Issue 12: till exceptions one by one (REP-T-13, FR-600).

`report_exceptions`: one row per `sale.line_voided` or `drawer.no_sale` event the box sent
(checked at ingest by `posdomain.shift_checks`), keyed by its event id, with the branch's
business day cut at ingest: kind (`line void` | `no-sale`), who, approver, when, value
(minor units, tax included; none for a no-sale), reason code and what was voided. Post-voids
and price overrides keep coming from `sale_voids` and `report_discounts`. Insert-only for the
app role; RLS ENABLE + FORCE and the tenant policy (hub.core.rls).
"""

from __future__ import annotations

from typing import Any

from hub.core.rls import tenant_table

TABLES = [
    """CREATE TABLE report_exceptions (
        event_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        branch_id TEXT NOT NULL, box_id TEXT NOT NULL, cashier_id TEXT NOT NULL,
        business_day TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL,
        approver_id TEXT, reason_code TEXT, at {TS} NOT NULL, value BIGINT,
        detail TEXT NOT NULL DEFAULT '', shift_id TEXT)""",
    """CREATE INDEX report_exceptions_day ON report_exceptions
        (tenant_id, branch_id, business_day)""",
]


def up(ctx: Any) -> None:
    """Create the table; RLS and grants on PostgreSQL."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in tenant_table("report_exceptions", "SELECT, INSERT"):
            ctx.execute(stmt)
