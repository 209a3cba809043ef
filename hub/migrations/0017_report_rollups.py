"""Report facts and rollups maintained at ingest (FR-600, NFR-001; hub/reports).

Written by `hub.reports.ingest` from the one derived hook of apply (hub/sync/derived.py), in
the batch transaction, with each document's business day and local hour already cut in its
branch's time zone (DST-correct), so a report filters on `business_day` and never converts
times per row.

* `report_docs`: one row per sale or refund document (money in minor units; a refund's
  `refunds` is its tax-exclusive value, positive, and its `net`, `tax`, `total` negative;
  `cash_rounding` is the adjustment total - payable, reported on its own line);
* `report_lines`: one row per sold or refunded line (product, category, tax class/rate,
  quantity in thousandths, gross / discounts / refunds / net / tax / cost, required age);
* `report_tenders`: one row per tender of a document (amount and change given);
* `report_discounts`: one row per discount source of a line (promotion/policy with version,
  or a manual price override with its approver);
* `report_rollup_hourly`: per tenant, branch, box, cashier, business day and local hour the
  sums of the documents (sales added at ingest, a post-void moves its sale out, a refund is
  added in its own hour) - what REP-T-01/02 read;
* `report_rollup_products`: per tenant, branch, business day, product and tax class/rate the
  sums of the lines (a post-void takes its sale's lines out) - what REP-T-06/07/10/14 read
  when no box or cashier filter asks for the line facts.

Post-voids are not copied: reports leave out a sale with a `sale_voids` row.
"""

from __future__ import annotations

from typing import Any

from hub.core.rls import tenant_table

_KEY = """tenant_id TEXT NOT NULL REFERENCES tenants(id), branch_id TEXT NOT NULL,
        box_id TEXT NOT NULL, cashier_id TEXT NOT NULL, business_day TEXT NOT NULL"""

TABLES = [
    f"""CREATE TABLE report_docs (
        {_KEY}, kind TEXT NOT NULL, doc_id TEXT NOT NULL, sale_id TEXT,
        cashier_name TEXT NOT NULL DEFAULT '', receipt_no BIGINT NOT NULL,
        local_hour INTEGER NOT NULL, at {{TS}} NOT NULL, exponent INTEGER NOT NULL,
        items_milli BIGINT NOT NULL, gross BIGINT NOT NULL, discounts BIGINT NOT NULL,
        refunds BIGINT NOT NULL, net BIGINT NOT NULL, tax BIGINT NOT NULL,
        total BIGINT NOT NULL, cost BIGINT NOT NULL, cash_rounding BIGINT NOT NULL,
        change BIGINT NOT NULL, late BOOLEAN NOT NULL DEFAULT FALSE,
        PRIMARY KEY (tenant_id, kind, doc_id))""",
    "CREATE INDEX report_docs_day ON report_docs (tenant_id, branch_id, business_day)",
    "CREATE INDEX report_docs_box_at ON report_docs (tenant_id, box_id, at)",
    f"""CREATE TABLE report_lines (
        id {{SERIAL}}, {_KEY}, kind TEXT NOT NULL, doc_id TEXT NOT NULL, sale_id TEXT,
        line_no INTEGER NOT NULL, product_id TEXT NOT NULL, sku TEXT NOT NULL,
        name TEXT NOT NULL, category TEXT, tax_class TEXT NOT NULL, tax_rate TEXT NOT NULL,
        qty_milli BIGINT NOT NULL, gross BIGINT NOT NULL, discounts BIGINT NOT NULL,
        refunds BIGINT NOT NULL, net BIGINT NOT NULL, tax BIGINT NOT NULL,
        total BIGINT NOT NULL, cost BIGINT NOT NULL, age_required INTEGER,
        age_verified_by TEXT)""",
    "CREATE INDEX report_lines_day ON report_lines (tenant_id, branch_id, business_day)",
    "CREATE INDEX report_lines_doc ON report_lines (tenant_id, doc_id)",
    f"""CREATE TABLE report_tenders (
        id {{SERIAL}}, {_KEY}, kind TEXT NOT NULL, doc_id TEXT NOT NULL, sale_id TEXT,
        tender TEXT NOT NULL, amount BIGINT NOT NULL, change BIGINT NOT NULL)""",
    "CREATE INDEX report_tenders_day ON report_tenders (tenant_id, branch_id, business_day)",
    f"""CREATE TABLE report_discounts (
        id {{SERIAL}}, {_KEY}, doc_id TEXT NOT NULL, line_no INTEGER NOT NULL,
        source_kind TEXT NOT NULL, source_id TEXT NOT NULL, source_version BIGINT NOT NULL,
        approver_id TEXT, reason_code TEXT, value BIGINT NOT NULL)""",
    "CREATE INDEX report_discounts_day ON report_discounts (tenant_id, branch_id, business_day)",
    f"""CREATE TABLE report_rollup_hourly (
        {_KEY}, local_hour INTEGER NOT NULL, transactions BIGINT NOT NULL DEFAULT 0,
        items_milli BIGINT NOT NULL DEFAULT 0, gross BIGINT NOT NULL DEFAULT 0,
        discounts BIGINT NOT NULL DEFAULT 0, refunds BIGINT NOT NULL DEFAULT 0,
        net BIGINT NOT NULL DEFAULT 0, tax BIGINT NOT NULL DEFAULT 0,
        total BIGINT NOT NULL DEFAULT 0, cost BIGINT NOT NULL DEFAULT 0,
        cash_rounding BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, branch_id, business_day, local_hour, box_id, cashier_id))""",
    """CREATE TABLE report_rollup_products (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), branch_id TEXT NOT NULL,
        business_day TEXT NOT NULL, product_id TEXT NOT NULL, tax_class TEXT NOT NULL,
        tax_rate TEXT NOT NULL, sku TEXT NOT NULL, name TEXT NOT NULL, category TEXT,
        qty_milli BIGINT NOT NULL DEFAULT 0, gross BIGINT NOT NULL DEFAULT 0,
        discounts BIGINT NOT NULL DEFAULT 0, refunds BIGINT NOT NULL DEFAULT 0,
        net BIGINT NOT NULL DEFAULT 0, tax BIGINT NOT NULL DEFAULT 0,
        total BIGINT NOT NULL DEFAULT 0, cost BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, branch_id, business_day, product_id, tax_class, tax_rate))""",
]
TENANT_TABLES = (
    "report_docs",
    "report_lines",
    "report_tenders",
    "report_discounts",
    "report_rollup_hourly",
    "report_rollup_products",
)


def up(ctx: Any) -> None:
    """Create the report tables; on PostgreSQL also RLS, grants and sequence grants."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for table in TENANT_TABLES:
            for stmt in tenant_table(table):
                ctx.execute(stmt)
        for table in ("report_lines", "report_tenders", "report_discounts"):
            ctx.execute(f"GRANT USAGE, SELECT ON SEQUENCE {table}_id_seq TO cfpos_app")
