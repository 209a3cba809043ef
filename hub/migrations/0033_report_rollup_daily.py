"""Issue 12 item 7: the daily, monthly product and category rollups and an index for
age-restricted lines (NFR-001, FR-600).

`report_rollup_daily`: per tenant, branch and business day the sums of the documents (like
`report_rollup_hourly` without hour, box and cashier) plus how many documents (sales and
refunds, post-voided sales left out), the total of the sales synced late and the tenders
net (tendered amount - change over every tender row). Kept at ingest beside the other
rollups (a post-void takes its sale back out); REP-T-05 reads it instead of every document
and tender of the range, REP-T-01 when no box, cashier or shift filter asks for more. Filled
here from the hourly rollup and the stored facts. RLS ENABLE + FORCE and the tenant policy.

`report_rollup_products_monthly`: the daily product rollup (`report_rollup_products`) per
calendar month (`YYYY-MM` of the business day); REP-T-06/14 read the whole months of a range
here (through a covering index: rows of a month sit in index order, not scattered over the
table as ingest wrote them) and only the days before and after them from the daily rollup.
Labels (sku, name, category) are the latest line's, like the daily rollup's; filled here with
the greatest.

`report_rollup_categories`: the daily product rollup per branch, day and category - the
category each (branch, day, product, tax) bucket of the daily rollup carries (its latest
line's), with how many buckets carry it: when a bucket's category changes, ingest moves the
bucket (its sums and its count) over, so REP-T-07 reads here exactly what grouping the daily
product rollup gives.

`report_lines_age`: a partial index on the age-restricted sale lines (REP-T-16 reads only
those; on PostgreSQL created on every partition of `report_lines`, present and future);
`shift_reports_closed`: the Z reports of a range by their closing instant (REP-T-04/05 no
longer read every Z of the branches).
"""

from __future__ import annotations

from typing import Any

from hub.core.rls import tenant_table

SUMS = "transactions, items_milli, gross, discounts, refunds, net, tax, total, cost, cash_rounding"
_LINE_SUMS = """qty_milli BIGINT NOT NULL DEFAULT 0, gross BIGINT NOT NULL DEFAULT 0,
        discounts BIGINT NOT NULL DEFAULT 0, refunds BIGINT NOT NULL DEFAULT 0,
        net BIGINT NOT NULL DEFAULT 0, tax BIGINT NOT NULL DEFAULT 0,
        total BIGINT NOT NULL DEFAULT 0, cost BIGINT NOT NULL DEFAULT 0"""
LINE_SUMS = "qty_milli, gross, discounts, refunds, net, tax, total, cost"
_SUMMED = ", ".join(f"SUM({n})" for n in LINE_SUMS.split(", "))
TABLES = [
    """CREATE TABLE report_rollup_daily (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), branch_id TEXT NOT NULL,
        business_day TEXT NOT NULL, documents BIGINT NOT NULL DEFAULT 0,
        transactions BIGINT NOT NULL DEFAULT 0, items_milli BIGINT NOT NULL DEFAULT 0,
        gross BIGINT NOT NULL DEFAULT 0, discounts BIGINT NOT NULL DEFAULT 0,
        refunds BIGINT NOT NULL DEFAULT 0, net BIGINT NOT NULL DEFAULT 0,
        tax BIGINT NOT NULL DEFAULT 0, total BIGINT NOT NULL DEFAULT 0,
        cost BIGINT NOT NULL DEFAULT 0, cash_rounding BIGINT NOT NULL DEFAULT 0,
        late_total BIGINT NOT NULL DEFAULT 0, tenders BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, branch_id, business_day))""",
    """CREATE INDEX report_lines_age ON report_lines (tenant_id, branch_id, business_day)
        WHERE age_required IS NOT NULL AND kind = 'sale'""",
    "CREATE INDEX shift_reports_closed ON shift_reports (tenant_id, branch_id, closed_at)",
    f"""CREATE TABLE report_rollup_products_monthly (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), branch_id TEXT NOT NULL,
        month TEXT NOT NULL, product_id TEXT NOT NULL, tax_class TEXT NOT NULL,
        tax_rate TEXT NOT NULL, sku TEXT NOT NULL, name TEXT NOT NULL, category TEXT,
        {_LINE_SUMS},
        PRIMARY KEY (tenant_id, branch_id, month, product_id, tax_class, tax_rate))""",
    f"""CREATE TABLE report_rollup_categories (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), branch_id TEXT NOT NULL,
        business_day TEXT NOT NULL, category TEXT NOT NULL,
        buckets BIGINT NOT NULL DEFAULT 0, {_LINE_SUMS},
        PRIMARY KEY (tenant_id, branch_id, business_day, category))""",
]
# a month of many branches read in index order without visiting the table (index-only; PG)
COVERING = f"""CREATE INDEX report_rollup_products_monthly_read ON report_rollup_products_monthly
    (tenant_id, branch_id, month) INCLUDE (product_id, sku, name, category, {LINE_SUMS})"""
_KEPT = """NOT EXISTS (SELECT 1 FROM sale_voids v WHERE v.tenant_id = {a}.tenant_id
    AND v.sale_id = {a}.doc_id AND {a}.kind = 'sale')"""
_SAME_DAY = """report_rollup_daily.tenant_id = x.tenant_id
    AND report_rollup_daily.branch_id = x.branch_id
    AND report_rollup_daily.business_day = x.business_day"""
BACKFILL = [
    # the same (branch, day) rows as the hourly rollup, with its sums
    f"""INSERT INTO report_rollup_daily (tenant_id, branch_id, business_day, {SUMS})
        SELECT tenant_id, branch_id, business_day, SUM(transactions), SUM(items_milli),
            SUM(gross), SUM(discounts), SUM(refunds), SUM(net), SUM(tax), SUM(total),
            SUM(cost), SUM(cash_rounding)
        FROM report_rollup_hourly GROUP BY tenant_id, branch_id, business_day""",
    f"""UPDATE report_rollup_daily SET documents = x.documents, late_total = x.late_total
        FROM (SELECT d.tenant_id, d.branch_id, d.business_day, COUNT(*) AS documents,
            SUM(CASE WHEN d.late THEN d.total ELSE 0 END) AS late_total
            FROM report_docs d WHERE {_KEPT.format(a="d")}
            GROUP BY d.tenant_id, d.branch_id, d.business_day) x
        WHERE {_SAME_DAY}""",
    f"""UPDATE report_rollup_daily SET tenders = x.tenders
        FROM (SELECT t.tenant_id, t.branch_id, t.business_day,
            SUM(t.amount - t.change) AS tenders
            FROM report_tenders t WHERE {_KEPT.format(a="t")}
            GROUP BY t.tenant_id, t.branch_id, t.business_day) x
        WHERE {_SAME_DAY}""",
    # the daily product rollup by calendar month (labels: the greatest of the month's)
    f"""INSERT INTO report_rollup_products_monthly (tenant_id, branch_id, month, product_id,
        tax_class, tax_rate, sku, name, category, {LINE_SUMS})
        SELECT tenant_id, branch_id, substr(business_day, 1, 7), product_id, tax_class,
            tax_rate, MAX(sku), MAX(name), MAX(category), {_SUMMED}
        FROM report_rollup_products GROUP BY tenant_id, branch_id, substr(business_day, 1, 7),
            product_id, tax_class, tax_rate""",
    # ... and by the category its (branch, day, product) bucket carries
    f"""INSERT INTO report_rollup_categories (tenant_id, branch_id, business_day, category,
        buckets, {LINE_SUMS})
        SELECT tenant_id, branch_id, business_day, COALESCE(category, ''), COUNT(*), {_SUMMED}
        FROM report_rollup_products
        GROUP BY tenant_id, branch_id, business_day, COALESCE(category, '')""",
]


TENANT_TABLES = (
    "report_rollup_daily",
    "report_rollup_products_monthly",
    "report_rollup_categories",
)


def up(ctx: Any) -> None:
    """Create the daily rollup and the age index, fill the rollup; RLS and grants on PG."""
    for stmt in [*TABLES, *BACKFILL]:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        ctx.execute(COVERING)
        for table in TENANT_TABLES:
            for stmt in tenant_table(table):
                ctx.execute(stmt)
