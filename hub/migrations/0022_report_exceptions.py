"""Issue 12: till exceptions one by one (REP-T-13, FR-600) and sale lines partitioned by
business month (NFR-001).

`report_exceptions`: one row per `sale.line_voided` or `drawer.no_sale` event the box sent
(checked at ingest by `posdomain.shift_checks`), keyed by its event id, with the branch's
business day cut at ingest: kind (`line void` | `no-sale`), who, approver, when, value
(minor units, tax included; none for a no-sale), reason code and what was voided. Post-voids
and price overrides keep coming from `sale_voids` and `report_discounts`. Insert-only for the
app role; RLS ENABLE + FORCE and the tenant policy (hub.core.rls).

`report_lines` (PostgreSQL only) becomes a table partitioned by RANGE of `business_day`, one
partition per month from 2024-01 to 2030-12 plus a DEFAULT partition (days before or after),
converted in this migration's one transaction with the rows it holds: the old table is
renamed, the partitioned one created with the same columns (primary key `(id,
business_day)`, the same `id` sequence), the rows copied, the old table dropped, the indexes
and the RLS policy created on the parent. Every partition gets RLS ENABLE + FORCE and the
same tenant policy too and only SELECT for the app role, so reading a partition directly is
filtered exactly like reading the parent (writes go through the parent). The table is locked
while its rows are copied: ingest waits (its batch transaction blocks, then applies),
nothing is lost.
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


LINE_COLUMNS = """id BIGINT NOT NULL DEFAULT nextval('report_lines_id_seq'),
    tenant_id TEXT NOT NULL REFERENCES tenants(id), branch_id TEXT NOT NULL,
    box_id TEXT NOT NULL, cashier_id TEXT NOT NULL, business_day TEXT NOT NULL,
    kind TEXT NOT NULL, doc_id TEXT NOT NULL, sale_id TEXT, line_no INTEGER NOT NULL,
    product_id TEXT NOT NULL, sku TEXT NOT NULL, name TEXT NOT NULL, category TEXT,
    tax_class TEXT NOT NULL, tax_rate TEXT NOT NULL, qty_milli BIGINT NOT NULL,
    gross BIGINT NOT NULL, discounts BIGINT NOT NULL, refunds BIGINT NOT NULL,
    net BIGINT NOT NULL, tax BIGINT NOT NULL, total BIGINT NOT NULL, cost BIGINT NOT NULL,
    age_required INTEGER, age_verified_by TEXT"""
NAMES = (
    "id, tenant_id, branch_id, box_id, cashier_id, business_day, kind, doc_id, sale_id, "
    "line_no, product_id, sku, name, category, tax_class, tax_rate, qty_milli, gross, "
    "discounts, refunds, net, tax, total, cost, age_required, age_verified_by"
)
FIRST_YEAR, LAST_YEAR = 2024, 2030


def months() -> list[tuple[str, str, str]]:
    """(partition name, first day, first day of the next month) of every partition."""
    out = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        for month in range(1, 13):
            nxt = (year + 1, 1) if month == 12 else (year, month + 1)
            out.append(
                (f"report_lines_{year}_{month:02d}", f"{year}-{month:02d}-01",
                 f"{nxt[0]}-{nxt[1]:02d}-01")
            )  # fmt: skip
    return out


def partition_lines() -> list[str]:
    """Statements that turn report_lines into a partitioned table, rows kept (PostgreSQL)."""
    out = [
        "ALTER TABLE report_lines RENAME TO report_lines_unpartitioned",
        "ALTER SEQUENCE report_lines_id_seq OWNED BY NONE",
        f"""CREATE TABLE report_lines ({LINE_COLUMNS}, PRIMARY KEY (id, business_day))
            PARTITION BY RANGE (business_day)""",
    ]
    parts = [*(name for name, _, _ in months()), "report_lines_default"]
    for name, first, nxt in months():
        out.append(
            f"CREATE TABLE {name} PARTITION OF report_lines FOR VALUES FROM ('{first}')"
            f" TO ('{nxt}')"
        )
    out.append("CREATE TABLE report_lines_default PARTITION OF report_lines DEFAULT")
    out += [
        f"INSERT INTO report_lines ({NAMES}) SELECT {NAMES} FROM report_lines_unpartitioned",
        "DROP TABLE report_lines_unpartitioned",
        "ALTER SEQUENCE report_lines_id_seq OWNED BY report_lines.id",
        "CREATE INDEX report_lines_day ON report_lines (tenant_id, branch_id, business_day)",
        "CREATE INDEX report_lines_doc ON report_lines (tenant_id, doc_id)",
        *tenant_table("report_lines"),
    ]
    for name in parts:
        out += tenant_table(name, "SELECT")
    return out


def up(ctx: Any) -> None:
    """Create the exceptions table; on PostgreSQL also RLS and grants, and partition the sale
    lines by business month."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in tenant_table("report_exceptions", "SELECT, INSERT"):
            ctx.execute(stmt)
        for stmt in partition_lines():
            ctx.execute(stmt)
        # retention (hub.compliance.purges) deletes the tax parts with their document's facts
        ctx.execute("GRANT DELETE ON report_tax_parts TO cfpos_platform")
