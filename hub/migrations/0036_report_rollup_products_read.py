"""Issue 12 item 7: a covering index on the daily product rollup per branch
(`report_rollup_products`, NFR-001, FR-600).

REP-T-06/14 over a branch set that is neither the whole tenant nor most of it (13 of 26
branches, 2 January to 30 March) read the 59 days around the whole month from the daily
product rollup, one row per branch, day and product: scattered heap pages, 1.7 s to over the
2 s budget at 10 M lines. Read index-only through this index (the per-branch monthly rollup
has had the same since 0033); the subtraction path for most of the tenant's branches reads
the few other branches the same way.
"""

from __future__ import annotations

from typing import Any

LINE_SUMS = "qty_milli, gross, discounts, refunds, net, tax, total, cost"
COVERING = f"""CREATE INDEX report_rollup_products_read
    ON report_rollup_products (tenant_id, branch_id, business_day)
    INCLUDE (product_id, sku, name, category, {LINE_SUMS})"""


def up(ctx: Any) -> None:
    """The covering index on PostgreSQL (SQLite, the embedded fallback, reads the table)."""
    if ctx.dialect == "postgres":
        ctx.execute(COVERING)
