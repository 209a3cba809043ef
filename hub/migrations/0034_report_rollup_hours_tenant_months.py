"""Issue 12 item 7, second pass: the rollups at the grain REP-T-02 and REP-T-06/14 read
(NFR-001, FR-600).

`report_rollup_hours`: per tenant, branch, business day and local hour the transactions and
net (the hourly rollup without box and cashier, which has up to boxes x cashiers rows per
hour). REP-T-02 without a box or cashier filter reads one row per row it shows. Kept at
ingest beside the hourly rollup (a post-void takes its sale back out of its hour).

`report_rollup_products_tenant`: the monthly product rollup summed over every branch of the
tenant (tenant x calendar month x product x tax class/rate; labels the latest line's, filled
here with the greatest of the month's, like 0033). REP-T-06/14 read the whole months of a
range here when the range covers every branch of the tenant with the same days (the head
office's default: no branch named), so a month costs one row per product instead of one per
product and branch; any other branch set reads the per-branch monthly rollup as before.

Both filled here from the rollups they condense; RLS ENABLE + FORCE and the tenant policy.
"""

from __future__ import annotations

from typing import Any

from hub.core.rls import tenant_table

LINE_SUMS = "qty_milli, gross, discounts, refunds, net, tax, total, cost"
_SUMMED = ", ".join(f"SUM({n})" for n in LINE_SUMS.split(", "))
_LINE_SUMS = ", ".join(f"{n} BIGINT NOT NULL DEFAULT 0" for n in LINE_SUMS.split(", "))
TABLES = [
    """CREATE TABLE report_rollup_hours (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), branch_id TEXT NOT NULL,
        business_day TEXT NOT NULL, local_hour INTEGER NOT NULL,
        transactions BIGINT NOT NULL DEFAULT 0, net BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, branch_id, business_day, local_hour))""",
    f"""CREATE TABLE report_rollup_products_tenant (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), month TEXT NOT NULL,
        product_id TEXT NOT NULL, tax_class TEXT NOT NULL, tax_rate TEXT NOT NULL,
        sku TEXT NOT NULL, name TEXT NOT NULL, category TEXT, {_LINE_SUMS},
        PRIMARY KEY (tenant_id, month, product_id, tax_class, tax_rate))""",
]
# a month's rows read in index order without visiting the table (index-only; PG)
COVERING = [
    """CREATE INDEX report_rollup_hours_read ON report_rollup_hours
        (tenant_id, branch_id, business_day) INCLUDE (local_hour, transactions, net)""",
    f"""CREATE INDEX report_rollup_products_tenant_read ON report_rollup_products_tenant
        (tenant_id, month) INCLUDE (product_id, sku, name, category, {LINE_SUMS})""",
]
BACKFILL = [
    """INSERT INTO report_rollup_hours (tenant_id, branch_id, business_day, local_hour,
        transactions, net)
        SELECT tenant_id, branch_id, business_day, local_hour, SUM(transactions), SUM(net)
        FROM report_rollup_hourly GROUP BY tenant_id, branch_id, business_day, local_hour""",
    f"""INSERT INTO report_rollup_products_tenant (tenant_id, month, product_id, tax_class,
        tax_rate, sku, name, category, {LINE_SUMS})
        SELECT tenant_id, month, product_id, tax_class, tax_rate, MAX(sku), MAX(name),
            MAX(category), {_SUMMED}
        FROM report_rollup_products_monthly
        GROUP BY tenant_id, month, product_id, tax_class, tax_rate""",
]
TENANT_TABLES = ("report_rollup_hours", "report_rollup_products_tenant")


def up(ctx: Any) -> None:
    """Create and fill both rollups; covering indexes, RLS and grants on PostgreSQL."""
    for stmt in [*TABLES, *BACKFILL]:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in COVERING:
            ctx.execute(stmt)
        for table in TENANT_TABLES:
            for stmt in tenant_table(table):
                ctx.execute(stmt)
