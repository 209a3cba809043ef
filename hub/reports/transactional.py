"""REP-T queries (report_catalog.md) over the ingest facts: money in minor units, post-voided
sales left out, refunds subtracted, business days local to each branch."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hub.i18n.catalog import N_
from hub.reports.definitions import (
    Column,
    Ctx,
    ReportDef,
    Row,
    fetch,
    margin_totals,
    not_voided,
    pct,
    scope_sql,
    with_margin,
)
from posdomain.errors import NotFound
from posdomain.money import parse_minor

M = "money"
SUMMARY_COLS = (
    Column("branch", "Branch"),
    Column("day", "Day", "date"),
    Column("transactions", "Transactions", "int", True),
    Column("items", "Items", "qty", True),
    Column("gross", "Gross", M, True),
    Column("discounts", "Discounts", M, True),
    Column("refunds", "Refunds", M, True),
    Column("net", "Net", M, True),
    Column("tax", "Tax", M, True),
    Column("total", "Total", M, True),
    Column("cost", "Cost", M, True),
    Column("margin", "Margin", M, True),
    Column("margin_pct", "Margin %", "pct"),
    Column("cash_rounding", "Cash rounding", M, True),
)
_SUMS = """SUM(transactions) AS transactions, SUM(items_milli) AS items, SUM(gross) AS gross,
    SUM(discounts) AS discounts, SUM(refunds) AS refunds, SUM(net) AS net, SUM(tax) AS tax,
    SUM(total) AS total, SUM(cost) AS cost, SUM(cash_rounding) AS cash_rounding"""


def _ints(row: Row, *names: str) -> Row:
    for name in names:
        row[name] = int(row[name] or 0)
    return row


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
    """REP-T-01 per branch and business day, from the hourly rollup (or, for one shift, from
    that box's documents between the shift's opening and its Z)."""
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
        where, params = scope_sql(ctx, "r")
        sql = f"""SELECT r.branch_id, r.business_day AS day, {_SUMS}
            FROM report_rollup_hourly r WHERE {where} GROUP BY r.branch_id, r.business_day"""
        rows = fetch(sql, params)
    return [with_margin(_ints(r, *_FIGS)) for r in rows]


def sales_by_hour(ctx: Ctx) -> list[Row]:
    """REP-T-02: business day x local hour, net and transactions."""
    where, params = scope_sql(ctx, "r")
    sql = f"""SELECT r.branch_id, r.business_day AS day, r.local_hour AS hour,
        SUM(transactions) AS transactions, SUM(net) AS net
        FROM report_rollup_hourly r WHERE {where}
        GROUP BY r.branch_id, r.business_day, r.local_hour"""
    return [_ints(r, "transactions", "net") for r in fetch(sql, params)]


def x_report(ctx: Ctx) -> list[Row]:
    """REP-T-03: the latest X report snapshot of each shift without a Z yet, taken in the
    range (the box sends one whenever the till shows or prints an X report)."""
    sql = """SELECT s.branch_id, s.box_id, s.shift_id, s.till, s.cashier_id, s.opened_at,
        s.as_of, s.net_total_minor, s.body FROM shift_snapshots s
        WHERE s.tenant_id = %s AND s.branch_id = ANY(%s)"""
    params: list[Any] = [ctx.tenant_id, ctx.branch_ids]
    for name, value in (("box_id", ctx.box_id), ("cashier_id", ctx.cashier_id)):
        if value:
            sql += f" AND s.{name} = %s"
            params.append(value)
    sql += """ AND s.as_of = (SELECT MAX(l.as_of) FROM shift_snapshots l
        WHERE l.tenant_id = s.tenant_id AND l.shift_id = s.shift_id)
        AND NOT EXISTS (SELECT 1 FROM shift_reports z WHERE z.tenant_id = s.tenant_id
        AND z.shift_id = s.shift_id)"""
    out = []
    for r in _in_windows(ctx, fetch(sql, params), "as_of"):
        body = r.pop("body") or {}
        out.append(
            {
                **r,
                "sales": int(_money(body, "sales", "count") or 0),
                "refunds_count": int(_money(body, "refunds", "count") or 0),
                "voids": int(_money(body, "voids", "count") or 0),
                "no_sale_opens": int(body.get("no_sale_opens") or 0),
                "overrides": int(body.get("overrides") or 0),
                "opening_float": _money(body, "cash", "opening_float"),
                "cash_expected": _tender(body, "cash", "expected"),
                "card_expected": _tender(body, "card", "expected"),
                "net_total": int(r.pop("net_total_minor")),
                "grand_total": _money(body, "grand_total"),
            }
        )
    return out


def _money(body: dict[str, Any], *path: str) -> str | None:
    value: Any = body
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return None if value is None else str(value)


def _tender(body: dict[str, Any], kind: str, name: str) -> str | None:
    for row in body.get("tenders") or []:
        if isinstance(row, dict) and row.get("kind") == kind:
            value = row.get(name)
            return None if value is None else str(value)
    return None


def z_reports(ctx: Ctx) -> list[Row]:
    """REP-T-04: the synced Z reports closed in the range (as the box numbered and sent them)."""
    rows = fetch(
        """SELECT s.branch_id, s.box_id, s.z_no, s.till, s.cashier_id, s.opened_at,
            s.closed_at, s.net_total_minor, s.body, s.shift_id
            FROM shift_reports s WHERE s.tenant_id = %s AND s.branch_id = ANY(%s)""",
        [ctx.tenant_id, ctx.branch_ids],
    )
    out = []
    for r in _in_windows(ctx, rows, "closed_at"):
        body = r.pop("body") or {}
        out.append(
            {
                **r,
                "sales": int(_money(body, "sales", "count") or 0),
                "refunds_count": int(_money(body, "refunds", "count") or 0),
                "voids": int(_money(body, "voids", "count") or 0),
                "no_sale_opens": int(body.get("no_sale_opens") or 0),
                "overrides": int(body.get("overrides") or 0),
                "cash_expected": _tender(body, "cash", "expected"),
                "cash_counted": _tender(body, "cash", "counted"),
                "cash_difference": _tender(body, "cash", "difference"),
                "paid_outs": _money(body, "cash", "paid_outs"),  # REP-T-05
                "grand_total": _money(body, "grand_total"),
                "net_total": int(r["net_total_minor"]),
            }
        )
    for row in out:
        row.pop("net_total_minor", None)
    return out


def _in_windows(ctx: Ctx, rows: list[Row], at: str) -> list[Row]:
    """Rows whose instant falls in their branch's business-day range."""
    zones = ctx.extras.get("zones", {})
    spans = {w.branch_id: (w.first, w.last) for w in ctx.windows}
    out = []
    for r in rows:
        span, zone = spans.get(r["branch_id"]), zones.get(r["branch_id"])
        if span is None or zone is None or r[at] is None:
            continue
        day = r[at].astimezone(zone).date()
        if span[0] <= day <= span[1]:
            r["day"] = day.isoformat()
            out.append(r)
    return out


def _deposits(ctx: Ctx) -> dict[tuple[str, str], int]:
    """Σ bank deposits (`drawer.bank_deposit`) per branch and the business day they were
    booked on."""
    where, params = scope_sql(replace(ctx, cashier_id=None), "b")
    rows = fetch(
        f"""SELECT b.branch_id, b.business_day AS day, SUM(b.amount_minor) AS deposits
            FROM bank_deposits b WHERE {where} GROUP BY b.branch_id, b.business_day""",
        params,
    )
    return {(r["branch_id"], r["day"]): int(r["deposits"] or 0) for r in rows}


def _z_cash(ctx: Ctx) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """Per branch/day of the Zs closed then: Σ counted - expected cash, Σ paid-outs."""
    counted: dict[tuple[str, str], int] = {}
    paid: dict[tuple[str, str], int] = {}
    for z in z_reports(ctx):
        key = (z["branch_id"], z["day"])
        if z["cash_difference"] is not None:
            counted[key] = counted.get(key, 0) + parse_minor(
                z["cash_difference"], _exp(ctx), "difference"
            )
        if z["paid_outs"] is not None:
            paid[key] = paid.get(key, 0) + parse_minor(z["paid_outs"], _exp(ctx), "paid_outs")
    return counted, paid


def eod_reconciliation(ctx: Ctx) -> list[Row]:
    """REP-T-05 per branch/day: sales on time and late-synced, tenders, over/short of the Zs,
    bank deposits against the cash the day took in."""
    where, params = scope_sql(ctx, "d")
    docs = fetch(
        f"""SELECT d.branch_id, d.business_day AS day,
            SUM(CASE WHEN NOT d.late THEN d.total ELSE 0 END) AS sales_on_time,
            SUM(CASE WHEN d.late THEN d.total ELSE 0 END) AS sales_late,
            SUM(d.total) AS sales_total, SUM(d.cash_rounding) AS cash_rounding
            FROM report_docs d WHERE {where} AND {not_voided("d")}
            GROUP BY d.branch_id, d.business_day""",
        params,
    )
    where_t, params_t = scope_sql(ctx, "t")
    tenders = fetch(
        f"""SELECT t.branch_id, t.business_day AS day, SUM(t.amount - t.change) AS tenders,
            SUM(CASE WHEN t.tender = 'cash' THEN t.amount - t.change ELSE 0 END) AS cash
            FROM report_tenders t WHERE {where_t} AND {not_voided("t")}
            GROUP BY t.branch_id, t.business_day""",
        params_t,
    )
    by_key = {(t["branch_id"], t["day"]): t for t in tenders}
    counted, paid = _z_cash(ctx)
    deposits = _deposits(ctx)
    keys = {(d["branch_id"], d["day"]) for d in docs}
    zero = dict.fromkeys(("sales_on_time", "sales_late", "sales_total", "cash_rounding"), 0)
    docs += [{"branch_id": b, "day": day, **zero} for b, day in sorted(set(deposits) - keys)]
    out = []
    for d in docs:
        _ints(d, "sales_on_time", "sales_late", "sales_total", "cash_rounding")
        key = (d["branch_id"], d["day"])
        tendered = by_key.get(key) or {}
        d["tenders"] = int(tendered.get("tenders") or 0)
        # tenders net = total - rounding adjustment; anything else is unexplained
        d["tenders_vs_sales"] = d["tenders"] - (d["sales_total"] - d["cash_rounding"])
        d["over_short"] = counted.get(key)
        d["cash_tenders"] = int(tendered.get("cash") or 0)
        d["paid_outs"] = paid.get(key, 0)
        d["deposits"] = deposits.get(key, 0)
        # the cash the day took in and kept: cash tenders net - paid-outs + the drawers'
        # counted over/short; what the bank got beyond it is over (+), what it lacks short (-)
        to_bank = d["cash_tenders"] - d["paid_outs"] + (d["over_short"] or 0)
        d["deposit_over_short"] = d["deposits"] - to_bank
        out.append(d)
    return out


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
    return [with_margin(_ints(r, *figs)) for r in fetch(sql, params)]


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


def cashier_performance(ctx: Ctx) -> list[Row]:
    """REP-T-08 from the performance area's daily counters (hub/performance)."""
    where, params = scope_sql(ctx, "p")
    rows = fetch(
        f"""SELECT p.cashier_id, SUM(transactions) AS transactions, SUM(items) AS items,
            SUM(gross_minor) AS gross, SUM(net_minor) AS net, SUM(voids_count) AS voids,
            SUM(voids_minor) AS voids_value, SUM(refunds_count) AS refunds,
            SUM(refunds_net_minor) AS refunds_value, SUM(no_sale_opens) AS no_sale_opens,
            SUM(overrides) AS overrides, SUM(timed_items) AS timed_items,
            SUM(active_ms) AS active_ms, SUM(line_voids) AS line_voids
            FROM staff_performance_daily p WHERE {where} GROUP BY p.cashier_id""",
        params,
    )
    names = dict(
        (r["cashier_id"], r["cashier_name"])
        for r in fetch(
            "SELECT DISTINCT cashier_id, cashier_name FROM sales WHERE tenant_id = %s"
            " AND cashier_id = ANY(%s)",
            [ctx.tenant_id, [r["cashier_id"] for r in rows]],
        )
    )
    out = []
    for r in rows:
        _ints(r, "transactions", "items", "gross", "net", "voids", "voids_value", "refunds")
        _ints(r, "refunds_value", "no_sale_opens", "overrides", "timed_items", "active_ms")
        _ints(r, "line_voids")
        r["net"] -= r["refunds_value"]  # docs/CONTRACT.md: net_minor - refunds_net_minor
        r["cashier"] = names.get(r["cashier_id"], r["cashier_id"])
        r["avg_basket"] = r["net"] // r["transactions"] if r["transactions"] else 0
        ms = r.pop("active_ms")
        timed = r.pop("timed_items")
        r["items_per_minute"] = pct(timed * 60_000, ms * 100) if ms else None
        r["voids_pct"] = pct(r["voids_value"], r["gross"])
        r["refunds_pct"] = pct(r["refunds_value"], r["gross"])
        out.append(r)
    return out


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
        _ints(r, "count", "amount", "refunds", "change")
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
        _ints(r, "base", "tax")
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
    return [_ints(r, "count", "value") for r in fetch(sql, params)]


def returns(ctx: Ctx) -> list[Row]:
    """REP-T-12: every refunded line with its original receipt, reason, receipt and approver."""
    where, params = scope_sql(ctx, "l")
    sql = f"""SELECT l.doc_id AS refund_id, r.receipt_no, r.original_receipt_no, l.sku,
        l.name AS product, -l.qty_milli AS qty, l.refunds AS value, r.reason_code,
        r.with_receipt, r.approver_id, r.completed_at AS at, l.branch_id
        FROM report_lines l JOIN box_refunds r ON r.tenant_id = l.tenant_id AND r.id = l.doc_id
        WHERE {where} AND l.kind = 'refund'"""
    return [_ints(r, "qty", "value") for r in fetch(sql, params)]


def exceptions(ctx: Ctx) -> list[Row]:
    """REP-T-13 one by one: post-voids (`sale_voids`), price overrides (`report_discounts`),
    line voids and no-sale drawer openings (`report_exceptions`, from the box's
    `sale.line_voided` / `drawer.no_sale` events)."""
    zones = ctx.extras.get("zones", {})
    voids = fetch(
        """SELECT v.branch_id, 'post-void' AS kind, v.cashier_id AS who, v.approver_id,
            v.voided_at AS at, v.total_minor AS value, v.reason_code, v.box_id
            FROM sale_voids v WHERE v.tenant_id = %s AND v.branch_id = ANY(%s)"""
        + (" AND v.box_id = %s" if ctx.box_id else "")
        + (" AND v.cashier_id = %s" if ctx.cashier_id else ""),
        [ctx.tenant_id, ctx.branch_ids]
        + ([ctx.box_id] if ctx.box_id else [])
        + ([ctx.cashier_id] if ctx.cashier_id else []),
    )
    out = _in_windows(ctx, voids, "at") if zones else []
    where, params = scope_sql(ctx, "x")
    out += fetch(
        f"""SELECT x.branch_id, 'price override' AS kind, x.cashier_id AS who, x.approver_id,
            d.at, x.value, x.reason_code, x.box_id, x.business_day AS day
            FROM report_discounts x JOIN report_docs d ON d.tenant_id = x.tenant_id
            AND d.kind = 'sale' AND d.doc_id = x.doc_id
            WHERE {where} AND x.source_kind = 'override'""",
        params,
    )
    out += fetch(
        f"""SELECT x.branch_id, x.kind, x.cashier_id AS who, x.approver_id, x.at, x.value,
            x.reason_code, x.box_id, x.business_day AS day, x.detail
            FROM report_exceptions x WHERE {where}""",
        params,
    )
    for r in out:
        r.setdefault("count", 1)
        r.setdefault("detail", "")
        r["value"] = None if r["value"] is None else int(r["value"])
    return out


def customers_loyalty(ctx: Ctx) -> list[Row]:
    """REP-T-15 from the customer and loyalty areas: purchases in the range, points earned and
    redeemed in the range, the balance and tier now."""
    zones = ctx.extras.get("zones", {})
    acts = fetch(
        """SELECT a.customer_id, a.branch_id, a.doc_kind, a.net_minor, a.occurred_at
            FROM customer_activity a WHERE a.tenant_id = %s AND a.branch_id = ANY(%s)""",
        [ctx.tenant_id, ctx.branch_ids],
    )
    acts = _in_windows(ctx, acts, "occurred_at") if zones else []
    points = fetch(
        """SELECT l.customer_id, l.branch_id, l.points, l.occurred_at AS at
            FROM loyalty_ledger l WHERE l.tenant_id = %s AND l.branch_id = ANY(%s)""",
        [ctx.tenant_id, ctx.branch_ids],
    )
    points = _in_windows(ctx, points, "at") if zones else []
    per: dict[str, Row] = {}

    def row(cid: str) -> Row:
        return per.setdefault(
            cid,
            {"customer_id": cid, "transactions": 0, "net": 0, "earned": 0, "redeemed": 0},
        )

    for a in acts:
        r = row(a["customer_id"])
        if a["doc_kind"] == "sale":
            r["transactions"] += 1
        r["net"] += int(a["net_minor"])
    for p in points:
        r = row(p["customer_id"])
        if int(p["points"]) >= 0:
            r["earned"] += int(p["points"])
        else:
            r["redeemed"] += -int(p["points"])
    if per:
        info = fetch(
            """SELECT c.id, c.display_name, c.tier, COALESCE(b.points, 0) AS balance
                FROM customers c LEFT JOIN loyalty_balances b ON b.tenant_id = c.tenant_id
                AND b.customer_id = c.id WHERE c.tenant_id = %s AND c.id = ANY(%s)""",
            [ctx.tenant_id, list(per)],
        )
        for i in info:
            r = per[i["id"]]
            r.update(customer=i["display_name"], tier=i["tier"], balance=int(i["balance"]))
    for r in per.values():
        r.setdefault("customer", r["customer_id"])
        r.setdefault("tier", None)
        r.setdefault("balance", 0)
    return list(per.values())


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
    return [_ints(r, "qty", "value", "required_age") for r in fetch(sql, params)]


BR = Column("branch", "Branch")
# what an X and a Z report count over their shift (REP-T-03, REP-T-04)
SHIFT_COUNTS = (
    Column("sales", "Sales", "int", True),
    Column("refunds_count", "Refunds", "int", True),
    Column("voids", "Voids", "int", True),
    Column("no_sale_opens", "No-sale opens", "int", True),
    Column("overrides", "Overrides", "int", True),
)
ITEM_COLS = (
    Column("product", "Product"),
    Column("sku", "SKU"),
    Column("category", "Category"),
    Column("qty", "Qty", "qty", True),
    Column("gross", "Gross", M, True),
    Column("discounts", "Discounts", M, True),
    Column("refunds", "Refunds", M, True),
    Column("net", "Net", M, True),
    Column("tax", "Tax", M, True),
    Column("cost", "Cost", M, True),
    Column("margin", "Margin", M, True),
    Column("margin_pct", "Margin %", "pct"),
)
_MT = margin_totals
BOX_CASHIER = frozenset({"box", "cashier"})

REPORTS = [
    ReportDef(
        "REP-T-01",
        "Sales summary by day",
        SUMMARY_COLS,
        sales_summary,
        "day",
        filters=frozenset({"box", "cashier", "shift"}),
        derive_totals=_MT,
    ),
    ReportDef(
        "REP-T-02",
        "Sales by hour",
        (
            BR,
            Column("day", "Day", "date"),
            Column("hour", "Local hour", "int"),
            Column("transactions", "Transactions", "int", True),
            Column("net", "Net", M, True),
        ),
        sales_by_hour,
        "hour",
        filters=BOX_CASHIER,
    ),
    ReportDef(
        "REP-T-03",
        "X report (open shift)",
        (
            BR,
            Column("box", "Box"),
            Column("till", "Till"),
            Column("cashier_id", "Cashier"),
            Column("opened_at", "Opened", "time"),
            Column("as_of", "As of", "time"),
            *SHIFT_COUNTS,
            Column("opening_float", "Opening float"),
            Column("cash_expected", "Cash expected"),
            Column("card_expected", "Card expected"),
            Column("net_total", "Net total", M, True),
            Column("grand_total", "Grand total"),
            Column("shift_id", "Shift"),
        ),
        x_report,
        "as_of",
        filters=BOX_CASHIER,
        note="The latest X report the till took of each shift not closed yet (nothing counted).",
    ),
    ReportDef(
        "REP-T-04",
        "Z reports",
        (
            BR,
            Column("box", "Box"),
            Column("till", "Till"),
            Column("z_no", "Z no.", "int"),
            Column("cashier_id", "Cashier"),
            Column("opened_at", "Opened", "time"),
            Column("closed_at", "Closed", "time"),
            *SHIFT_COUNTS,
            Column("cash_expected", "Cash expected"),
            Column("cash_counted", "Cash counted"),
            Column("cash_difference", "Difference"),
            Column("net_total", "Net total", M, True),
            Column("grand_total", "Grand total"),
            Column("shift_id", "Shift"),
        ),
        z_reports,
        "closed_at",
    ),
    ReportDef(
        "REP-T-05",
        "End-of-day reconciliation",
        (
            BR,
            Column("day", "Day", "date"),
            Column("sales_on_time", "Sales (synced on time)", M, True),
            Column("sales_late", "Sales (late-synced)", M, True),
            Column("sales_total", "Sales total", M, True),
            Column("cash_rounding", "Cash rounding", M, True),
            Column("tenders", "Tenders net", M, True),
            Column("tenders_vs_sales", "Tenders vs sales", M, True),
            Column("over_short", "Over/short (counted)", M, True),
            Column("cash_tenders", "Cash tenders net", M, True),
            Column("paid_outs", "Cash paid out", M, True),
            Column("deposits", "Deposits", M, True),
            Column("deposit_over_short", "Deposits over/short", M, True),
        ),
        eod_reconciliation,
        "day",
        note=N_(
            "Deposits over/short = deposits - (cash tenders net - cash paid out + counted"
            " over/short): the cash the day took in against what the tills booked to the bank."
        ),
    ),
    ReportDef(
        "REP-T-06",
        "Sales by item",
        ITEM_COLS,
        sales_by_item,
        "net",
        filters=BOX_CASHIER,
        derive_totals=_MT,
    ),
    ReportDef(
        "REP-T-07",
        "Sales by category",
        (ITEM_COLS[2], *ITEM_COLS[3:], Column("share_pct", "Share of net %", "pct")),
        sales_by_category,
        "net",
        filters=BOX_CASHIER,
        derive_totals=_MT,
    ),
    ReportDef(
        "REP-T-08",
        "Cashier performance",
        (
            Column("cashier", "Cashier"),
            Column("transactions", "Transactions", "int", True),
            Column("items", "Items", "int", True),
            Column("net", "Net", M, True),
            Column("avg_basket", "Avg basket", M),
            Column("items_per_minute", "Items/min", "pct"),
            Column("voids", "Voids", "int", True),
            Column("voids_value", "Voids value", M, True),
            Column("voids_pct", "Voids % of gross", "pct"),
            Column("refunds", "Refunds", "int", True),
            Column("refunds_value", "Refunds value", M, True),
            Column("refunds_pct", "Refunds %", "pct"),
            Column("line_voids", "Line voids", "int", True),
            Column("no_sale_opens", "No-sale opens", "int", True),
            Column("overrides", "Overrides", "int", True),
        ),
        cashier_performance,
        "net",
        filters=frozenset({"cashier"}),
    ),
    ReportDef(
        "REP-T-09",
        "Payments by tender",
        (
            Column("tender", "Tender"),
            Column("count", "Count", "int", True),
            Column("amount", "Amount", M, True),
            Column("refunds", "Refunds", M, True),
            Column("change", "Change given", M, True),
            Column("net", "Net", M, True),
        ),
        payments_by_tender,
        "tender",
        filters=BOX_CASHIER,
    ),
    ReportDef(
        "REP-T-10",
        "Tax collected",
        (
            Column("tax_class", "Tax class"),
            Column("tax_code", "Tax"),
            Column("tax_rate", "Rate"),
            Column("per_unit", "Levy per unit"),
            Column("base", "Taxable base", M, True),
            Column("tax", "Tax", M, True),
            Column("total", "Total", M, True),
        ),
        tax_collected,
        "tax_class",
        filters=BOX_CASHIER,
    ),
    ReportDef(
        "REP-T-11",
        "Discounts given",
        (
            Column("source_kind", "Source"),
            Column("source_id", "Promotion / policy / reason"),
            Column("source_version", "Version", "int"),
            Column("approver", "Approver"),
            Column("count", "Count", "int", True),
            Column("value", "Value", M, True),
        ),
        discounts_given,
        "value",
        filters=BOX_CASHIER,
    ),
    ReportDef(
        "REP-T-12",
        "Returns",
        (
            Column("at", "When", "time"),
            Column("receipt_no", "Refund receipt", "int"),
            Column("original_receipt_no", "Original receipt", "int"),
            Column("product", "Product"),
            Column("sku", "SKU"),
            Column("qty", "Qty", "qty", True),
            Column("value", "Value", M, True),
            Column("reason_code", "Reason"),
            Column("with_receipt", "With receipt", "bool"),
            Column("approver_id", "Approver"),
        ),
        returns,
        "at",
        filters=BOX_CASHIER,
    ),
    ReportDef(
        "REP-T-13",
        "Exceptions",
        (
            Column("kind", "Exception"),
            Column("who", "Who"),
            Column("approver_id", "Approver"),
            Column("day", "Day", "date"),
            Column("at", "When", "time"),
            Column("count", "Count", "int", True),
            Column("value", "Value", M, True),
            Column("reason_code", "Reason"),
            Column("detail", "What"),
        ),
        exceptions,
        "day",
        filters=BOX_CASHIER,
    ),
    ReportDef(
        "REP-T-14",
        "Gross margin",
        (
            Column("product", "Product"),
            Column("category", "Category"),
            Column("net", "Net", M, True),
            Column("cost", "Cost", M, True),
            Column("margin", "Margin", M, True),
            Column("margin_pct", "Margin %", "pct"),
            Column("contribution_pct", "Contribution %", "pct"),
        ),
        gross_margin,
        "margin",
        filters=BOX_CASHIER,
        derive_totals=_MT,
    ),
    ReportDef(
        "REP-T-15",
        "Customers and loyalty",
        (
            Column("customer", "Customer"),
            Column("tier", "Tier"),
            Column("transactions", "Transactions", "int", True),
            Column("net", "Net", M, True),
            Column("earned", "Points earned", "int", True),
            Column("redeemed", "Points redeemed", "int", True),
            Column("balance", "Balance", "int", True),
        ),
        customers_loyalty,
        "net",
    ),
    ReportDef(
        "REP-T-16",
        "Age-restricted sales",
        (
            Column("product", "Product"),
            Column("qty", "Qty", "qty", True),
            Column("value", "Value", M, True),
            Column("required_age", "Required age", "int"),
            Column("verified_by", "Verified by"),
        ),
        age_restricted,
        "product",
        filters=BOX_CASHIER,
    ),
]


def _exp(ctx: Ctx) -> int:
    return int(ctx.extras.get("exponent", 2))
