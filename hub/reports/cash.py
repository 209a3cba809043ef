"""REP-T shift and cash reports: the X report of open shifts (REP-T-03), the synced Z reports
(REP-T-04) and the end-of-day reconciliation (REP-T-05)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hub.reports.days import day_bounds
from hub.reports.definitions import Ctx, Row, fetch, in_windows, ints, scope_sql
from posdomain.money import parse_minor


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
    for r in in_windows(ctx, fetch(sql, params), "as_of"):
        body = r.pop("body") or {}
        out.append(
            {
                **r,
                **_counts(body),
                "opening_float": _money(body, "cash", "opening_float"),
                "cash_expected": _tender(body, "cash", "expected"),
                "card_expected": _tender(body, "card", "expected"),
                "net_total": int(r.pop("net_total_minor")),
                "grand_total": _money(body, "grand_total"),
            }
        )
    return out


def _counts(body: dict[str, Any]) -> dict[str, int]:
    """The shift counters an X or Z body carries (REP-T-03/04's SHIFT_COUNTS columns)."""
    return {
        "sales": int(_money(body, "sales", "count") or 0),
        "refunds_count": int(_money(body, "refunds", "count") or 0),
        "voids": int(_money(body, "voids", "count") or 0),
        "no_sale_opens": int(body.get("no_sale_opens") or 0),
        "overrides": int(body.get("overrides") or 0),
    }


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
    start, end = utc_span(ctx)
    sql = """SELECT s.branch_id, s.box_id, s.z_no, s.till, s.cashier_id, s.opened_at,
        s.closed_at, s.net_total_minor, s.body, s.shift_id
        FROM shift_reports s WHERE s.tenant_id = %s AND s.branch_id = ANY(%s)
        AND s.closed_at >= %s AND s.closed_at < %s"""
    params: list[Any] = [ctx.tenant_id, ctx.branch_ids, start, end]
    for name, value in (("box_id", ctx.box_id), ("cashier_id", ctx.cashier_id)):
        if value:  # the box and cashier filters, as every other REP-T report keeps them
            sql += f" AND s.{name} = %s"
            params.append(value)
    rows = fetch(sql, params)
    out = []
    for r in in_windows(ctx, rows, "closed_at"):
        body = r.pop("body") or {}
        out.append(
            {
                **r,
                **_counts(body),
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


def utc_span(ctx: Ctx) -> tuple[datetime, datetime]:
    """[start, end) in UTC covering every branch's business days of the range (a superset:
    `in_windows` keeps the rows of each branch's own days)."""
    zones = ctx.extras.get("zones", {})
    bounds = [
        (day_bounds(w.first, zones[w.branch_id])[0], day_bounds(w.last, zones[w.branch_id])[1])
        for w in ctx.windows
        if w.branch_id in zones
    ]
    if not bounds:
        return datetime.max.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    return min(b[0] for b in bounds), max(b[1] for b in bounds)


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


def _cash_tenders(ctx: Ctx) -> dict[tuple[str, str], int]:
    """Σ cash tenders net (amount - change - refunds) per branch/day, from the tender rollup
    (the same figures as REP-T-09's cash row)."""
    where, params = scope_sql(ctx, "t")
    rows = fetch(
        f"""SELECT t.branch_id, t.business_day AS day,
            SUM(t.amount - t.change - t.refunds) AS cash
            FROM report_rollup_tenders t WHERE {where} AND t.tender = 'cash'
            GROUP BY t.branch_id, t.business_day""",
        params,
    )
    return {(r["branch_id"], r["day"]): int(r["cash"] or 0) for r in rows}


def _paid_out_events(ctx: Ctx) -> dict[tuple[str, str], int]:
    """Σ paid-outs (`drawer.cash_movement` of kind paid_out) per branch and the business day
    they were made on."""
    where, params = scope_sql(ctx, "m")
    rows = fetch(
        f"""SELECT m.branch_id, m.business_day AS day, SUM(m.amount_minor) AS paid
            FROM cash_movements m WHERE {where} AND m.kind = 'paid_out'
            GROUP BY m.branch_id, m.business_day""",
        params,
    )
    return {(r["branch_id"], r["day"]): int(r["paid"] or 0) for r in rows}


def _shifts_with_movements(ctx: Ctx, shift_ids: list[str]) -> set[str]:
    """The shifts among `shift_ids` whose box sent its drops and paid-outs as events."""
    if not shift_ids:
        return set()
    rows = fetch(
        """SELECT DISTINCT m.shift_id FROM cash_movements m
           WHERE m.tenant_id = %s AND m.shift_id = ANY(%s)""",
        [ctx.tenant_id, shift_ids],
    )
    return {r["shift_id"] for r in rows}


def _z_cash(ctx: Ctx) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """Per branch/day: Σ counted - expected cash of the Zs closed then, and Σ paid-outs —
    the paid-out events of the day, plus a Z's own paid-outs for a shift whose box sent no
    movement events (a box on an older release), never both for one shift."""
    counted: dict[tuple[str, str], int] = {}
    paid = _paid_out_events(ctx)
    zs = z_reports(ctx)
    evented = _shifts_with_movements(ctx, [z["shift_id"] for z in zs if z["paid_outs"]])
    for z in zs:
        key = (z["branch_id"], z["day"])
        if z["cash_difference"] is not None:
            counted[key] = counted.get(key, 0) + parse_minor(
                z["cash_difference"], _exp(ctx), "difference"
            )
        if z["paid_outs"] is not None and z["shift_id"] not in evented:
            paid[key] = paid.get(key, 0) + parse_minor(z["paid_outs"], _exp(ctx), "paid_outs")
    return counted, paid


def eod_reconciliation(ctx: Ctx) -> list[Row]:
    """REP-T-05 per branch/day: sales on time and late-synced, tenders, over/short of the Zs,
    bank deposits against the cash the day took in."""
    where, params = scope_sql(ctx, "d")
    # the daily rollup (migration 0033): documents, late-synced total and tenders net per day
    docs = fetch(
        f"""SELECT d.branch_id, d.business_day AS day,
            SUM(d.total - d.late_total) AS sales_on_time, SUM(d.late_total) AS sales_late,
            SUM(d.total) AS sales_total, SUM(d.cash_rounding) AS cash_rounding,
            SUM(d.tenders) AS tenders
            FROM report_rollup_daily d WHERE {where}
            GROUP BY d.branch_id, d.business_day HAVING SUM(d.documents) > 0""",
        params,
    )
    by_key = {(t["branch_id"], t["day"]): int(t.pop("tenders") or 0) for t in docs}
    cash = _cash_tenders(ctx)
    counted, paid = _z_cash(ctx)
    deposits = _deposits(ctx)
    keys = {(d["branch_id"], d["day"]) for d in docs}
    zero = dict.fromkeys(("sales_on_time", "sales_late", "sales_total", "cash_rounding"), 0)
    quiet = (set(deposits) | set(paid)) - keys  # days with cash moved but no sale
    docs += [{"branch_id": b, "day": day, **zero} for b, day in sorted(quiet)]
    out = []
    for d in docs:
        ints(d, "sales_on_time", "sales_late", "sales_total", "cash_rounding")
        key = (d["branch_id"], d["day"])
        d["tenders"] = by_key.get(key, 0)
        # tenders net = total - rounding adjustment; anything else is unexplained
        d["tenders_vs_sales"] = d["tenders"] - (d["sales_total"] - d["cash_rounding"])
        d["over_short"] = counted.get(key)
        d["cash_tenders"] = cash.get(key, 0)
        d["paid_outs"] = paid.get(key, 0)
        d["deposits"] = deposits.get(key, 0)
        # the cash the day took in and kept: cash tenders net - paid-outs + the drawers'
        # counted over/short; what the bank got beyond it is over (+), what it lacks short (-)
        to_bank = d["cash_tenders"] - d["paid_outs"] + (d["over_short"] or 0)
        d["deposit_over_short"] = d["deposits"] - to_bank
        out.append(d)
    return out


def _exp(ctx: Ctx) -> int:
    return int(ctx.extras.get("exponent", 2))
