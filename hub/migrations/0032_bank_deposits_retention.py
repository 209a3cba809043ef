"""Issue 12 item 1 (REP-T-05, FR-600/FR-303): bank deposits the tills recorded; issue 12 item
3 (FR-P7-1016): retention classes for X report snapshots and till exceptions.

`bank_deposits`: one row per `drawer.bank_deposit` event the hub accepted (checked at ingest
by `posdomain.shift_checks.check_bank_deposit`), keyed by its event id; `deposit_id` is the
box's id of the deposit, unique per tenant (a second event naming it is refused
DOCUMENT_ID_CONFLICT). Tenant, branch and box come from the enrolled box, never the payload.
Amount in minor units (> 0), the slip / bag number, the branch's business day the till booked
it on (REP-T-05 sums deposits per branch and that day), who took and who approved it, the
shift whose drawer it came from (none: from the safe), when. Insert-only for the app role;
RLS ENABLE + FORCE and the tenant policy (hub.core.rls).

Retention (hub.compliance.purges): the classes `bank_deposits` (tax years, like Z reports),
`x_snapshots` (`shift_snapshots`) and `till_exceptions` (`report_exceptions`) are purged by
the platform role in the purge's one transaction, so it gets DELETE on the three tables; the
app role never does.
"""

from __future__ import annotations

from typing import Any

from hub.core.rls import tenant_table

TABLES = [
    """CREATE TABLE bank_deposits (
        event_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        branch_id TEXT NOT NULL, box_id TEXT NOT NULL, deposit_id TEXT NOT NULL,
        business_day TEXT NOT NULL, amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
        exponent INTEGER NOT NULL, slip_no TEXT NOT NULL, cashier_id TEXT NOT NULL,
        approver_id TEXT NOT NULL, reason_code TEXT, shift_id TEXT,
        note TEXT NOT NULL DEFAULT '', deposited_at {TS} NOT NULL,
        received_at {TS} NOT NULL)""",
    "CREATE UNIQUE INDEX bank_deposits_deposit ON bank_deposits (tenant_id, deposit_id)",
    "CREATE INDEX bank_deposits_day ON bank_deposits (tenant_id, branch_id, business_day)",
]
PURGED = ("bank_deposits", "shift_snapshots", "report_exceptions")


def up(ctx: Any) -> None:
    """Create the deposits table; on PostgreSQL its RLS and grants, and DELETE for the
    platform role's retention purge."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in tenant_table("bank_deposits", "SELECT, INSERT"):
            ctx.execute(stmt)
        ctx.execute(f"GRANT DELETE ON {', '.join(PURGED)} TO cfpos_platform")
