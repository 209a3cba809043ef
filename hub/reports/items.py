"""REP-T line figures: sales by item (REP-T-06), by category (REP-T-07), gross margin (REP-T-14)
and age-restricted sales (REP-T-16)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from hub.reports.definitions import (
    Ctx,
    Row,
    Window,
    fetch,
    ints,
    not_voided,
    pct,
    scope_sql,
    with_margin,
)

_COLS = (
    "product_id, sku, name, category, qty_milli, gross, discounts, refunds, net, tax, total, cost"
)


def whole_months(first: date, last: date) -> tuple[tuple[str, str] | None, list[Window]]:
    """The calendar months wholly inside [first, last] as (first, last) `YYYY-MM` (None if
    none) and the day ranges before and after them (as windows of branch '')."""
    start = first if first.day == 1 else _next_month(first)
    after = last + timedelta(days=1)
    end = date(after.year, after.month, 1)  # the first day not in a whole month
    if start >= end:
        return None, [Window("", first, last)]
    edges = []
    if first < start:
        edges.append(Window("", first, start - timedelta(days=1)))
    if end <= last:
        edges.append(Window("", end, last))
    return (start.strftime("%Y-%m"), (end - timedelta(days=1)).strftime("%Y-%m")), edges


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def _every_branch(ctx: Ctx) -> tuple[date, date] | None:
    """The one day range of a context that covers every branch of the tenant with the same
    days (the head office's default), else None."""
    spans = {(w.first, w.last) for w in ctx.windows}
    if len(spans) != 1:
        return None
    rows = fetch("SELECT b.id FROM branches b WHERE b.tenant_id = %s", [ctx.tenant_id])
    return spans.pop() if {r["id"] for r in rows} <= set(ctx.branch_ids) else None


def _products(ctx: Ctx) -> tuple[str, list[Any]]:
    """The whole months of each branch's range from the monthly product rollup, the days
    around them from the daily one (migration 0033); summed over every branch of the tenant
    when the range covers them all with the same days (0034, 0035)."""
    every = _every_branch(ctx)
    if every is not None:
        return _tenant_products(ctx.tenant_id, *every)
    edges: list[Window] = []
    months: dict[tuple[str, str], list[str]] = {}
    for w in ctx.windows:
        span, around = whole_months(w.first, w.last)
        edges += [replace(e, branch_id=w.branch_id) for e in around]
        if span:
            months.setdefault(span, []).append(w.branch_id)
    where, params = scope_sql(replace(ctx, windows=tuple(edges)), "d")
    daily = f"SELECT {_COLS} FROM report_rollup_products d WHERE {where}"
    ors = ["(m.branch_id = ANY(%s) AND m.month BETWEEN %s AND %s)" for _ in months]
    monthly: list[Any] = [ctx.tenant_id]
    for (first, last), branch_ids in sorted(months.items()):
        monthly += [sorted(branch_ids), first, last]
    sql = f"""({daily} UNION ALL SELECT {_COLS} FROM report_rollup_products_monthly m
        WHERE m.tenant_id = %s AND ({" OR ".join(ors) or "FALSE"})) l"""
    return sql, params + monthly


def _tenant_products(tenant_id: str, first: date, last: date) -> tuple[str, list[Any]]:
    """Every branch of the tenant over the same days: the whole months from the tenant-wide
    monthly rollup (0034), the days around them from the tenant-wide daily one (0035), both
    read index-only."""
    span, around = whole_months(first, last)
    parts: list[str] = []
    params: list[Any] = []
    for edge in around:
        parts.append(
            f"SELECT {_COLS} FROM report_rollup_products_tenant_daily d"
            " WHERE d.tenant_id = %s AND d.business_day BETWEEN %s AND %s"
        )
        params += [tenant_id, edge.first.isoformat(), edge.last.isoformat()]
    if span:
        parts.append(
            f"SELECT {_COLS} FROM report_rollup_products_tenant m"
            " WHERE m.tenant_id = %s AND m.month BETWEEN %s AND %s"
        )
        params += [tenant_id, *span]
    return f"({' UNION ALL '.join(parts)}) l", params


def _line_source(ctx: Ctx, by: str) -> tuple[str, list[Any]]:
    """FROM/WHERE of line figures by product or category: the rollups kept at ingest, or the
    line facts when a box or cashier filter asks for more than the rollups' grain."""
    if ctx.box_id or ctx.cashier_id:
        where, params = scope_sql(ctx, "l")
        return f"report_lines l WHERE {where} AND {not_voided('l')}", params
    if by == "product":
        return _products(ctx)
    where, params = scope_sql(ctx, "c")
    kept = f"SELECT * FROM report_rollup_categories c WHERE {where} AND c.buckets > 0"
    return f"({kept}) l", params


def _lines(ctx: Ctx, by: str, group: str, select: str) -> list[Row]:
    source, params = _line_source(ctx, by)
    # bigint sums: psycopg2 turns a numeric SUM into a Decimal per cell (a third of the time)
    sql = f"""SELECT {select}, SUM(l.qty_milli)::bigint AS qty, SUM(l.gross)::bigint AS gross,
        SUM(l.discounts)::bigint AS discounts, SUM(l.refunds)::bigint AS refunds,
        SUM(l.net)::bigint AS net, SUM(l.tax)::bigint AS tax, SUM(l.total)::bigint AS total,
        SUM(l.cost)::bigint AS cost FROM {source} GROUP BY {group}"""
    figs = ("qty", "gross", "discounts", "refunds", "net", "tax", "total", "cost")
    return [with_margin(ints(r, *figs)) for r in fetch(sql, params)]


def sales_by_item(ctx: Ctx) -> list[Row]:
    """REP-T-06 per product (refunded lines subtract)."""
    return _lines(
        ctx,
        "product",
        "l.product_id",
        "l.product_id, MAX(l.sku) AS sku, MAX(l.name) AS product, MAX(l.category) AS category",
    )


def sales_by_category(ctx: Ctx) -> list[Row]:
    """REP-T-07 per category with its share of net."""
    rows = _lines(
        ctx, "category", "COALESCE(l.category, '')", "COALESCE(l.category, '') AS category"
    )
    whole = sum(r["net"] for r in rows)
    for r in rows:
        r["share_pct"] = pct(r["net"], whole)
    return rows


def gross_margin(ctx: Ctx) -> list[Row]:
    """REP-T-14 per product and category, with contribution % of the total margin."""
    rows = sales_by_item(ctx)
    whole = sum(r["margin"] for r in rows)
    for r in rows:
        r["contribution_pct"] = pct(r["margin"], whole)
    return rows


def age_restricted(ctx: Ctx) -> list[Row]:
    """REP-T-16: lines of age-restricted products per product and the staff member who
    checked the customer's age (the sale line's `age_verified_by`; empty for sales of boxes
    that did not send it)."""
    where, params = scope_sql(ctx, "l")
    sql = f"""SELECT l.product_id, MAX(l.name) AS product, SUM(l.qty_milli) AS qty,
        SUM(l.total) AS value, MAX(l.age_required) AS required_age,
        l.age_verified_by AS verified_by
        FROM report_lines l WHERE {where} AND {not_voided("l")}
        AND l.age_required IS NOT NULL AND l.kind = 'sale'
        GROUP BY l.product_id, l.age_verified_by"""
    return [ints(r, "qty", "value", "required_age") for r in fetch(sql, params)]
