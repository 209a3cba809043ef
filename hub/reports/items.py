"""REP-T line figures: sales by item (REP-T-06), by category (REP-T-07), gross margin (REP-T-14)
and age-restricted sales (REP-T-16)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hub.reports.definitions import Ctx, Row, fetch, ints, not_voided, pct, scope_sql, with_margin


def _line_source(ctx: Ctx) -> tuple[str, list[Any]]:
    """FROM/WHERE of line figures: the daily product rollup, or the line facts when a box or
    cashier filter asks for more than the rollup's grain."""
    if ctx.box_id or ctx.cashier_id:
        where, params = scope_sql(ctx, "l")
        return f"report_lines l WHERE {where} AND {not_voided('l')}", params
    plain = replace(ctx, box_id=None, cashier_id=None)
    where, params = scope_sql(plain, "l")
    return f"report_rollup_products l WHERE {where}", params


def _lines(ctx: Ctx, group: str, select: str) -> list[Row]:
    source, params = _line_source(ctx)
    sql = f"""SELECT {select}, SUM(l.qty_milli) AS qty, SUM(l.gross) AS gross,
        SUM(l.discounts) AS discounts, SUM(l.refunds) AS refunds, SUM(l.net) AS net,
        SUM(l.tax) AS tax, SUM(l.total) AS total, SUM(l.cost) AS cost
        FROM {source} GROUP BY {group}"""
    figs = ("qty", "gross", "discounts", "refunds", "net", "tax", "total", "cost")
    return [with_margin(ints(r, *figs)) for r in fetch(sql, params)]


def sales_by_item(ctx: Ctx) -> list[Row]:
    """REP-T-06 per product (refunded lines subtract)."""
    return _lines(
        ctx,
        "l.product_id",
        "l.product_id, MAX(l.sku) AS sku, MAX(l.name) AS product, MAX(l.category) AS category",
    )


def sales_by_category(ctx: Ctx) -> list[Row]:
    """REP-T-07 per category with its share of net."""
    rows = _lines(ctx, "COALESCE(l.category, '')", "COALESCE(l.category, '') AS category")
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
