"""Issue 12 item 7: the daily product rollup summed over every branch of the tenant
(`report_rollup_products_tenant_daily`, NFR-001, FR-600).

REP-T-06/14 over every branch of the tenant read the whole months of a range from the
tenant-wide monthly rollup (0034) and the days around them from the daily product rollup,
one row per branch, day and product: a range with two long partial months (2 January to 30
March: 59 edge days) read 170 000 scattered pages of it at 10 M lines, 5 s, past the 2 s
budget. Here the same days are one row per day and product for the whole tenant, read
index-only through a covering index. Kept at ingest beside the other product rollups (a
post-void takes its sale's lines back out); labels the latest line's, filled here with the
greatest of the day's. RLS ENABLE + FORCE and the tenant policy.
"""

from __future__ import annotations

from typing import Any

from hub.core.rls import tenant_table

LINE_SUMS = "qty_milli, gross, discounts, refunds, net, tax, total, cost"
_SUMMED = ", ".join(f"SUM({n})" for n in LINE_SUMS.split(", "))
_LINE_SUMS = ", ".join(f"{n} BIGINT NOT NULL DEFAULT 0" for n in LINE_SUMS.split(", "))
TABLES = [
    f"""CREATE TABLE report_rollup_products_tenant_daily (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), business_day TEXT NOT NULL,
        product_id TEXT NOT NULL, tax_class TEXT NOT NULL, tax_rate TEXT NOT NULL,
        sku TEXT NOT NULL, name TEXT NOT NULL, category TEXT, {_LINE_SUMS},
        PRIMARY KEY (tenant_id, business_day, product_id, tax_class, tax_rate))""",
]
COVERING = f"""CREATE INDEX report_rollup_products_tenant_daily_read
    ON report_rollup_products_tenant_daily (tenant_id, business_day)
    INCLUDE (product_id, sku, name, category, {LINE_SUMS})"""
BACKFILL = [
    f"""INSERT INTO report_rollup_products_tenant_daily (tenant_id, business_day, product_id,
        tax_class, tax_rate, sku, name, category, {LINE_SUMS})
        SELECT tenant_id, business_day, product_id, tax_class, tax_rate, MAX(sku), MAX(name),
            MAX(category), {_SUMMED}
        FROM report_rollup_products
        GROUP BY tenant_id, business_day, product_id, tax_class, tax_rate""",
]


def up(ctx: Any) -> None:
    """Create and fill the rollup; its covering index, RLS and grants on PostgreSQL."""
    for stmt in [*TABLES, *BACKFILL]:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        ctx.execute(COVERING)
        for stmt in tenant_table("report_rollup_products_tenant_daily"):
            ctx.execute(stmt)
