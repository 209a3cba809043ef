"""Issue 12: X report snapshots, the tender rollup and tax per code (FR-600, NFR-001).

* `shift_snapshots`: one row per `shift.snapshot` event (the X report of an open shift as the
  till showed it, body as sent, checked at ingest by `posdomain.shift_checks`); REP-T-03
  shows the latest snapshot of each shift that has no Z yet;
* `report_rollup_tenders`: per tenant, branch, business day, local hour, box, cashier and
  tender the count, amount, refunds and change given of the documents (a post-void takes its
  sale's tenders out) - what REP-T-09 reads; filled here from the stored tender facts;
* `report_tax_parts`: one row per tax code of a sold or refunded line (a single-rate line is
  one part coded like its class; a multi-tax line one per tax of its class, a levy with base
  0), and `report_rollup_taxes` its daily sums per branch, box, cashier, class, code, rate
  and levy - what REP-T-10 reads. Lines stored before this get one part coded like their
  class (the line facts never held their parts).

RLS ENABLE + FORCE and the tenant policy on every table (hub.core.rls).
"""

from __future__ import annotations

from typing import Any

from hub.core.rls import tenant_table

TABLES = [
    """CREATE TABLE shift_snapshots (
        event_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        branch_id TEXT NOT NULL, box_id TEXT NOT NULL, shift_id TEXT NOT NULL,
        till TEXT NOT NULL, cashier_id TEXT NOT NULL, opened_at {TS} NOT NULL,
        as_of {TS} NOT NULL, net_total_minor BIGINT NOT NULL, body {JSON} NOT NULL,
        received_at {TS} NOT NULL)""",
    "CREATE INDEX shift_snapshots_shift ON shift_snapshots (tenant_id, shift_id, as_of)",
    "CREATE INDEX shift_snapshots_branch ON shift_snapshots (tenant_id, branch_id, as_of)",
    """CREATE TABLE report_rollup_tenders (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), branch_id TEXT NOT NULL,
        business_day TEXT NOT NULL, local_hour INTEGER NOT NULL, box_id TEXT NOT NULL,
        cashier_id TEXT NOT NULL, tender TEXT NOT NULL, count BIGINT NOT NULL DEFAULT 0,
        amount BIGINT NOT NULL DEFAULT 0, refunds BIGINT NOT NULL DEFAULT 0,
        change BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, branch_id, business_day, local_hour, box_id, cashier_id,
                     tender))""",
    """CREATE TABLE report_tax_parts (
        id {SERIAL}, tenant_id TEXT NOT NULL REFERENCES tenants(id), branch_id TEXT NOT NULL,
        box_id TEXT NOT NULL, cashier_id TEXT NOT NULL, business_day TEXT NOT NULL,
        kind TEXT NOT NULL, doc_id TEXT NOT NULL, line_no INTEGER NOT NULL,
        tax_class TEXT NOT NULL, tax_code TEXT NOT NULL, tax_rate TEXT NOT NULL,
        per_unit TEXT NOT NULL DEFAULT '', base BIGINT NOT NULL, tax BIGINT NOT NULL)""",
    "CREATE INDEX report_tax_parts_doc ON report_tax_parts (tenant_id, doc_id)",
    """CREATE TABLE report_rollup_taxes (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), branch_id TEXT NOT NULL,
        business_day TEXT NOT NULL, box_id TEXT NOT NULL, cashier_id TEXT NOT NULL,
        tax_class TEXT NOT NULL, tax_code TEXT NOT NULL, tax_rate TEXT NOT NULL,
        per_unit TEXT NOT NULL DEFAULT '', base BIGINT NOT NULL DEFAULT 0,
        tax BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, branch_id, business_day, box_id, cashier_id, tax_class,
                     tax_code, tax_rate, per_unit))""",
]
_VOIDED = """EXISTS (SELECT 1 FROM sale_voids v WHERE v.tenant_id = {a}.tenant_id
    AND v.sale_id = {a}.doc_id AND {a}.kind = 'sale')"""
BACKFILL = [
    f"""INSERT INTO report_rollup_tenders (tenant_id, branch_id, business_day, local_hour,
        box_id, cashier_id, tender, count, amount, refunds, change)
        SELECT t.tenant_id, t.branch_id, t.business_day, d.local_hour, t.box_id,
            t.cashier_id, t.tender, SUM(CASE WHEN t.kind = 'sale' THEN 1 ELSE 0 END),
            SUM(CASE WHEN t.kind = 'sale' THEN t.amount ELSE 0 END),
            SUM(CASE WHEN t.kind = 'refund' THEN -t.amount ELSE 0 END), SUM(t.change)
        FROM report_tenders t JOIN report_docs d ON d.tenant_id = t.tenant_id
            AND d.kind = t.kind AND d.doc_id = t.doc_id
        WHERE NOT {_VOIDED.format(a="t")}
        GROUP BY t.tenant_id, t.branch_id, t.business_day, d.local_hour, t.box_id,
            t.cashier_id, t.tender""",
    """INSERT INTO report_tax_parts (tenant_id, branch_id, box_id, cashier_id, business_day,
        kind, doc_id, line_no, tax_class, tax_code, tax_rate, per_unit, base, tax)
        SELECT tenant_id, branch_id, box_id, cashier_id, business_day, kind, doc_id, line_no,
            tax_class, tax_class, tax_rate, '', net, tax FROM report_lines""",
    f"""INSERT INTO report_rollup_taxes (tenant_id, branch_id, business_day, box_id,
        cashier_id, tax_class, tax_code, tax_rate, per_unit, base, tax)
        SELECT p.tenant_id, p.branch_id, p.business_day, p.box_id, p.cashier_id, p.tax_class,
            p.tax_code, p.tax_rate, p.per_unit, SUM(p.base), SUM(p.tax)
        FROM report_tax_parts p WHERE NOT {_VOIDED.format(a="p")}
        GROUP BY p.tenant_id, p.branch_id, p.business_day, p.box_id, p.cashier_id,
            p.tax_class, p.tax_code, p.tax_rate, p.per_unit""",
]
TENANT_TABLES = (
    "shift_snapshots",
    "report_rollup_tenders",
    "report_tax_parts",
    "report_rollup_taxes",
)


def up(ctx: Any) -> None:
    """Create the tables, fill the rollups from the stored facts; RLS and grants on PG."""
    for stmt in [*TABLES, *BACKFILL]:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for table in TENANT_TABLES:
            grants = "SELECT, INSERT" if table == "shift_snapshots" else "SELECT, INSERT, UPDATE"
            for stmt in tenant_table(table, grants):
                ctx.execute(stmt)
        ctx.execute("GRANT USAGE, SELECT ON SEQUENCE report_tax_parts_id_seq TO cfpos_app")
