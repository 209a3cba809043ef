"""The portal overview (FR-601): today's sales by hour against the same weekday last week,
top products today, open alerts, boxes online/offline with sync lag, and the drill-down
branch → box → transaction. Charts are server-rendered SVG (`svg.py`), no script, no CDN."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hub.core.db import tenant_tx
from hub.core.paging import PAGE_SIZE, paged
from hub.governance import config
from hub.ops import fleet
from hub.reports.days import branch_zones, today
from hub.reports.definitions import fetch, not_voided
from hub.sales.queries import allowed_branches
from posdomain.money import format_minor
from posdomain.permissions import Principal, Scope

TOP = 5


def _days(tenant_id: str, branches: list[str], now: datetime) -> dict[str, tuple[str, str]]:
    zones = branch_zones(tenant_id)
    out = {}
    for b in branches:
        if b in zones:
            day = today(now, zones[b])
            out[b] = (day.isoformat(), (day - timedelta(days=7)).isoformat())
    return out


def _day_sql(days: dict[str, tuple[str, str]], alias: str, which: int) -> tuple[str, list[Any]]:
    ors, params = [], []
    for branch_id, pair in days.items():
        ors.append(f"({alias}.branch_id = %s AND {alias}.business_day = %s)")
        params += [branch_id, pair[which]]
    return "(" + (" OR ".join(ors) or "FALSE") + ")", params


def trend(tenant_id: str, days: dict[str, tuple[str, str]], last_week: bool) -> dict[str, Any]:
    """Net per local hour today (and the same weekday last week), minor units."""
    out: dict[str, list[int]] = {}
    for label, which in (("today", 0), ("last_week", 1)):
        if which and not last_week:
            continue
        where, params = _day_sql(days, "r", which)
        rows = fetch(
            f"""SELECT r.local_hour AS hour, SUM(r.net) AS net, SUM(r.transactions) AS n
                FROM report_rollup_hourly r WHERE r.tenant_id = %s AND {where}
                GROUP BY r.local_hour""",
            [tenant_id, *params],
        )
        series = [0] * 24
        for r in rows:
            series[int(r["hour"])] = int(r["net"] or 0)
        out[label] = series
    return out


def top_products(tenant_id: str, days: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    """Today's best sellers by net."""
    where, params = _day_sql(days, "l", 0)
    return fetch(
        f"""SELECT l.product_id, MAX(l.name) AS name, SUM(l.qty_milli) AS qty_milli,
            SUM(l.net) AS net FROM report_lines l WHERE l.tenant_id = %s AND {where}
            AND {not_voided("l")} GROUP BY l.product_id ORDER BY SUM(l.net) DESC,
            l.product_id LIMIT {TOP}""",
        [tenant_id, *params],
    )


def overview(
    principal: Principal,
    tenant_id: str,
    scope: Scope,
    now: datetime,
    *,
    sales: bool,
    last_week: bool,
    alerts: bool,
) -> dict[str, Any]:
    """What the overview shows the caller (sales parts only with sales.read, last week only
    for roles not limited to today, alerts only with alert.read)."""
    allowed = allowed_branches(principal, scope, None)
    health = fleet.fleet(tenant_id, allowed)
    out: dict[str, Any] = {
        "boxes": health["totals"],
        "branches": [
            {
                k: b[k]
                for k in (
                    "branch_id",
                    "name",
                    "online",
                    "offline",
                    "silent",
                    "max_sync_lag_s",
                    "outbox_depth",
                )
            }
            for b in health["branches"]
        ],
        "alerts": health["alerts"] if alerts else [],
        "trend": {},
        "top": [],
    }
    with tenant_tx(tenant_id):
        pricing = config.current(tenant_id, "pricing")
        out["exponent"] = int(pricing.body.get("exponent", 2)) if pricing else 2
    if sales:
        with tenant_tx(tenant_id):
            branches = allowed if allowed is not None else list(branch_zones(tenant_id))
            days = _days(tenant_id, branches, now)
            out["trend"] = trend(tenant_id, days, last_week)
            out["top"] = top_products(tenant_id, days)
        for row in out["top"]:
            row["net_text"] = format_minor(int(row["net"]), out["exponent"])
    return out


def branch_boxes(tenant_id: str, branch_id: str, now: datetime) -> list[dict[str, Any]]:
    """Drill-down step 1: a branch's boxes with today's transactions and total."""
    rows = [r for r in fleet.box_rows(tenant_id, [branch_id]) if r["branch_id"] == branch_id]
    with tenant_tx(tenant_id):
        pricing = config.current(tenant_id, "pricing")
        exponent = int(pricing.body.get("exponent", 2)) if pricing else 2
        days = _days(tenant_id, [branch_id], now)
        where, params = _day_sql(days, "d", 0)
        figs = {
            r["box_id"]: r
            for r in fetch(
                f"""SELECT d.box_id, SUM(CASE WHEN d.kind = 'sale' THEN 1 ELSE 0 END) AS n,
                    SUM(d.total) AS total FROM report_docs d WHERE d.tenant_id = %s
                    AND {where} AND {not_voided("d")} GROUP BY d.box_id""",
                [tenant_id, *params],
            )
        }
    for row in rows:
        fig = figs.get(row["box_id"], {})
        row["transactions_today"] = int(fig.get("n") or 0)
        row["total_today"] = format_minor(int(fig.get("total") or 0), exponent)
    return rows


SORTS = {"at": "d.at", "total": "d.total", "receipt": "d.receipt_no"}


def box_transactions(
    tenant_id: str, box_id: str, now: datetime, page: int, sort: str
) -> dict[str, Any]:
    """Drill-down step 2: one page of a box's documents today (sorted on the server)."""
    column = SORTS[sort.removeprefix("-")]
    order = f"{column} {'DESC' if sort.startswith('-') else 'ASC'}, d.doc_id"
    with tenant_tx(tenant_id):
        box = fetch("SELECT branch_id FROM boxes WHERE box_id = %s", [box_id])
        days = _days(tenant_id, [box[0]["branch_id"]], now) if box else {}
        where, params = _day_sql(days, "d", 0)
        base = f"""FROM report_docs d WHERE d.tenant_id = %s AND d.box_id = %s AND {where}"""
        args = [tenant_id, box_id, *params]
        total = int(fetch(f"SELECT COUNT(*) AS n {base}", args)[0]["n"])
        rows = fetch(
            f"""SELECT d.kind, d.doc_id, d.sale_id, d.receipt_no, d.at, d.total, d.exponent,
                d.cashier_name, EXISTS (SELECT 1 FROM sale_voids v WHERE v.tenant_id =
                d.tenant_id AND v.sale_id = d.doc_id AND d.kind = 'sale') AS voided
                {base} ORDER BY {order} LIMIT {PAGE_SIZE} OFFSET {(page - 1) * PAGE_SIZE}""",
            args,
        )
        zone = branch_zones(tenant_id).get(box[0]["branch_id"]) if box else None
        name = fetch("SELECT name FROM boxes WHERE box_id = %s", [box_id])
    for r in rows:
        r["total"] = format_minor(int(r["total"]), int(r["exponent"]))
        local = r["at"].astimezone(zone) if zone else r["at"]
        r["local_time"] = local.strftime("%Y-%m-%d %H:%M:%S %Z")
    out = paged(rows, page, total)
    out["box_name"] = name[0]["name"] if name else box_id
    return out
