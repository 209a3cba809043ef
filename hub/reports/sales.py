"""REP-T sales figures from the rollups kept at ingest: the summary by day (REP-T-01), by hour
(REP-T-02), payments by tender (REP-T-09), tax collected (REP-T-10) and discounts given
(REP-T-11). Money in minor units, post-voided sales left out, refunds subtracted, business
days local to each branch."""

from __future__ import annotations

from typing import Any

from hub.reports.definitions import Ctx, Row, fetch, ints, not_voided, scope_sql, with_margin
from posdomain.errors import NotFound

_SUMS = """SUM(transactions) AS transactions, SUM(items_milli) AS items, SUM(gross) AS gross,
    SUM(discounts) AS discounts, SUM(refunds) AS refunds, SUM(net) AS net, SUM(tax) AS tax,
    SUM(total) AS total, SUM(cost) AS cost, SUM(cash_rounding) AS cash_rounding"""


_FIGS = (
    "transactions",
    "items",
    "gross",
    "discounts",
    "refunds",
    "net",
    "tax",
    "total",
    "cost",
    "cash_rounding",
)


def _shift_bounds(ctx: Ctx) -> tuple[str, Any, Any]:
    row = fetch(
        "SELECT box_id, opened_at, closed_at FROM shift_reports WHERE tenant_id = %s"
        " AND shift_id = %s AND branch_id = ANY(%s)",
        [ctx.tenant_id, ctx.shift_id, ctx.branch_ids],
    )
    if not row:
        raise NotFound("no such closed shift in your branches")
    return row[0]["box_id"], row[0]["opened_at"], row[0]["closed_at"]


def sales_summary(ctx: Ctx) -> list[Row]:
    """REP-T-01 per branch and business day, from the daily rollup (the hourly one with a box
    or cashier filter; for one shift, from that box's documents between the shift's opening
    and its Z)."""
    if ctx.shift_id:
        box, opened, closed = _shift_bounds(ctx)
        sql = f"""SELECT d.branch_id, d.business_day AS day,
            SUM(CASE WHEN d.kind = 'sale' THEN 1 ELSE 0 END) AS transactions,
            SUM(items_milli) AS items, SUM(gross) AS gross, SUM(discounts) AS discounts,
            SUM(refunds) AS refunds, SUM(net) AS net, SUM(tax) AS tax, SUM(total) AS total,
            SUM(cost) AS cost, SUM(cash_rounding) AS cash_rounding
            FROM report_docs d WHERE d.tenant_id = %s AND d.box_id = %s
            AND d.at >= %s AND d.at <= %s AND {not_voided("d")}
            GROUP BY d.branch_id, d.business_day"""
        rows = fetch(sql, [ctx.tenant_id, box, opened, closed])
    else:
        # per day from the daily rollup; a box or cashier filter needs the hourly one
        table = "report_rollup_hourly" if ctx.box_id or ctx.cashier_id else "report_rollup_daily"
        where, params = scope_sql(ctx, "r")
        sql = f"""SELECT r.branch_id, r.business_day AS day, {_SUMS}
            FROM {table} r WHERE {where} GROUP BY r.branch_id, r.business_day"""
        rows = fetch(sql, params)
    return [with_margin(ints(r, *_FIGS)) for r in rows]


def sales_by_hour(ctx: Ctx) -> list[Row]:
    """REP-T-02: business day x local hour, net and transactions; from the rollup per branch,
    day and hour (migration 0034: one row per row shown), with a box or cashier filter from
    the hourly rollup by box and cashier."""
    table = "report_rollup_hourly" if ctx.box_id or ctx.cashier_id else "report_rollup_hours"
    where, params = scope_sql(ctx, "r")
    sql = f"""SELECT r.branch_id, r.business_day AS day, r.local_hour AS hour,
        SUM(transactions)::bigint AS transactions, SUM(net)::bigint AS net
        FROM {table} r WHERE {where}
        GROUP BY r.branch_id, r.business_day, r.local_hour"""
    return [ints(r, "transactions", "net") for r in fetch(sql, params)]


def payments_by_tender(ctx: Ctx) -> list[Row]:
    """REP-T-09: per tender count, amount, refunds, change, net (= amount - change - refunds),
    from the tender rollup (branch x day x hour x box x cashier x tender, migration 0021)."""
    where, params = scope_sql(ctx, "t")
    rows = fetch(
        f"""SELECT t.tender, SUM(t.count) AS count, SUM(t.amount) AS amount,
            SUM(t.refunds) AS refunds, SUM(t.change) AS change
            FROM report_rollup_tenders t WHERE {where} GROUP BY t.tender""",
        params,
    )
    for r in rows:
        ints(r, "count", "amount", "refunds", "change")
        r["net"] = r["amount"] - r["change"] - r["refunds"]
    return rows


def tax_collected(ctx: Ctx) -> list[Row]:
    """REP-T-10 per tax class, tax code and rate (a levy per unit with base 0): taxable base
    (the lines' net), tax, total = base + tax; from the tax rollup (migration 0021). A line of a
    multi-tax class is one row per tax of the class, like the receipt's breakdown, so Σ tax =
    REP-T-01 tax while its base counts once per percentage tax it carries."""
    where, params = scope_sql(ctx, "x")
    rows = fetch(
        f"""SELECT x.tax_class, x.tax_code, x.tax_rate, x.per_unit, SUM(x.base) AS base,
            SUM(x.tax) AS tax FROM report_rollup_taxes x WHERE {where}
            GROUP BY x.tax_class, x.tax_code, x.tax_rate, x.per_unit""",
        params,
    )
    for r in rows:
        ints(r, "base", "tax")
        r["per_unit"] = r["per_unit"] or None
        r["total"] = r["base"] + r["tax"]
    return rows


def discounts_given(ctx: Ctx) -> list[Row]:
    """REP-T-11 per source (promotion/policy with version, manual override with approver)."""
    where, params = scope_sql(ctx, "x")
    sql = f"""SELECT x.source_kind, x.source_id, x.source_version,
        COALESCE(x.approver_id, '') AS approver, COUNT(*) AS count, SUM(x.value) AS value
        FROM report_discounts x WHERE {where} AND NOT EXISTS (SELECT 1 FROM sale_voids v
        WHERE v.tenant_id = x.tenant_id AND v.sale_id = x.doc_id)
        GROUP BY x.source_kind, x.source_id, x.source_version, COALESCE(x.approver_id, '')"""
    return [ints(r, "count", "value") for r in fetch(sql, params)]
