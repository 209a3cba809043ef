"""Issue 17 item 4 (FR-P7-1016): retention purges every class of tenant data kept over time.

The purge job (hub.compliance.purges) now also deletes refunds, Z reports, post-voids and the
report facts copied from purged documents, sent alert notifications and ended login
sessions. As for sales in 0019, DELETE on them is granted to the platform role only (the
purge's one transaction), never to the app role; the append-only ledgers (audit log,
loyalty ledger and customer activity, stock movements) get no DELETE at all.
"""

from __future__ import annotations

from typing import Any

PURGED = (
    "box_refunds",
    "sale_voids",
    "shift_reports",
    "report_docs",
    "report_lines",
    "report_tenders",
    "report_discounts",
    "alert_deliveries",
    "hub_sessions",
)


def up(ctx: Any) -> None:
    """Grant DELETE on the newly purged tables to the platform role (PostgreSQL)."""
    if ctx.dialect == "postgres":
        ctx.execute(f"GRANT DELETE ON {', '.join(PURGED)} TO cfpos_platform")
