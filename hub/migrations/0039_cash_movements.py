"""REP-T-05 (FR-600, FR-303): drops and paid-outs the tills recorded, as events.

`cash_movements`: one row per `drawer.cash_movement` event the hub accepted (checked at
ingest by `posdomain.shift_checks.check_cash_movement`), keyed by its event id;
`movement_id` is the box's id of the movement, unique per tenant (a second event naming it
is refused DOCUMENT_ID_CONFLICT). Tenant, branch and box come from the enrolled box, never
the payload. `kind` is `drop` (to the safe: still the store's cash) or `paid_out` (cash
that left the business, with its reason); amount in minor units (> 0); the branch's business
day the till booked it on. Before this, REP-T-05 knew paid-outs only from closed Z reports;
it now sums these events and takes a Z's paid-outs only for shifts whose box sent none
(boxes on an older release). Insert-only for the app role; RLS ENABLE + FORCE and the tenant
policy (hub.core.rls); DELETE for the platform role's retention purge (class
`cash_movements`, tax years).
"""

from __future__ import annotations

from typing import Any

from hub.core.rls import tenant_table

TABLES = [
    """CREATE TABLE cash_movements (
        event_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        branch_id TEXT NOT NULL, box_id TEXT NOT NULL, movement_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('drop', 'paid_out')),
        business_day TEXT NOT NULL, amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
        exponent INTEGER NOT NULL, reason_code TEXT, shift_id TEXT NOT NULL,
        cashier_id TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', moved_at {TS} NOT NULL,
        received_at {TS} NOT NULL)""",
    "CREATE UNIQUE INDEX cash_movements_movement ON cash_movements (tenant_id, movement_id)",
    "CREATE INDEX cash_movements_day ON cash_movements (tenant_id, branch_id, business_day)",
    "CREATE INDEX cash_movements_shift ON cash_movements (tenant_id, shift_id)",
]


def up(ctx: Any) -> None:
    """Create the table; on PostgreSQL its RLS and grants, and DELETE for the platform
    role's retention purge."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in tenant_table("cash_movements", "SELECT, INSERT"):
            ctx.execute(stmt)
        ctx.execute("GRANT DELETE ON cash_movements TO cfpos_platform")
