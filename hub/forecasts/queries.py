"""Forecast read models over synced sales, refunds and stock (FR-P7-1005..1008), read-only.

Every function reads inside `read_only_tx` (PostgreSQL READ ONLY, one REPEATABLE READ
snapshot): a forecast cannot write, whatever a later change to this module tries
(tests/hub/test_forecasts.py proves the refusal). Hours and days are each branch's local
ones (its time zone, else the tenant's pricing zone, else UTC; DST-correct, hub.forecasts.
model): the database cuts each document's local hour or day in its branch's zone. Takings
are net of refunds (a refund counts in its own local hour, negative) and post-voided sales
are left out; demand is units sold minus units refunded. Money in minor units; every answer
is labelled as an estimate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from peewee import SQL, fn

from hub.catalog.models import Product
from hub.core.db import is_postgres, read_only_tx
from hub.forecasts import model
from hub.inventory.ledger import format_qty
from hub.inventory.models import ReorderPoint, StockBalance
from hub.reports.days import branch_zones
from hub.sales.models import BoxRefund, HubSaleVoid, Sale, SaleLine
from posdomain.money import format_minor

LABEL = "forecast: an estimate from synced sales and stock, not a record"
MILLI = 1000


def _meta(method: str, now: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "label": LABEL,
        "method": method,
        "generated_at": now.isoformat(),
        "read_only": True,
        **extra,
    }


def _dicts(query: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = list(query.dicts())
    return rows


def _in_branches(field: Any, branches: Iterable[str] | None) -> Any:
    return True if branches is None else field.in_(list(branches))


def zone_groups(tenant_id: str, branches: list[str] | None) -> dict[str, list[str]]:
    """Zone name -> the branches in scope in it (caller's transaction)."""
    out: dict[str, list[str]] = defaultdict(list)
    for branch_id, zone in sorted(branch_zones(tenant_id).items()):
        if branches is None or branch_id in branches:
            out[str(zone)].append(branch_id)
    return dict(out)


def _local(field: Any, zone: str, unit: str) -> Any:
    """The local hour/day of a timestamp in `zone`, cut by PostgreSQL (SQLite: the raw
    timestamp; `_key` cuts it in Python)."""
    if is_postgres():
        return fn.date_trunc(unit, fn.timezone(zone, field))
    return field


def _key(value: Any, zone: ZoneInfo, unit: str) -> datetime:
    """The naive local hour/day of a `_local` value."""
    if is_postgres():
        at: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return at.replace(tzinfo=None)
    raw: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = (raw.replace(tzinfo=UTC) if raw.tzinfo is None else raw).astimezone(zone)
    cut = local.replace(minute=0, second=0, microsecond=0, tzinfo=None)
    return cut.replace(hour=0) if unit == "day" else cut


def _voided(tenant_id: str) -> Any:
    return HubSaleVoid.select(HubSaleVoid.sale_id).where(HubSaleVoid.tenant_id == tenant_id)


def hourly_history(
    tenant_id: str, branches: list[str], zone_name: str, since: datetime
) -> tuple[dict[datetime, float], dict[datetime, float], int]:
    """(sales per naive local hour, takings minor per local hour net of refunds, money
    exponent) of branches sharing one zone, since `since` (caller's transaction)."""
    zone = ZoneInfo(zone_name)
    counts: dict[datetime, float] = defaultdict(float)
    money: dict[datetime, float] = defaultdict(float)
    exponent = 2
    hour = _local(Sale.completed_at, zone_name, "hour").alias("hour")
    sales = (
        Sale.select(hour, fn.COUNT(Sale.id).alias("n"), fn.SUM(Sale.total_minor).alias("m"),
                    fn.MAX(Sale.exponent).alias("e"))
        .where(Sale.tenant_id == tenant_id, Sale.completed_at >= since,
               Sale.branch_id.in_(branches), Sale.id.not_in(_voided(tenant_id)))
        .group_by(SQL("1"))
    )  # fmt: skip
    for row in _dicts(sales):
        at = _key(row["hour"], zone, "hour")
        counts[at] += float(row["n"])
        money[at] += float(row["m"] or 0)
        exponent = int(row["e"] if row["e"] is not None else exponent)
    rhour = _local(BoxRefund.completed_at, zone_name, "hour").alias("hour")
    refunds = (
        BoxRefund.select(rhour, fn.SUM(BoxRefund.total_minor).alias("m"))
        .where(BoxRefund.tenant_id == tenant_id, BoxRefund.completed_at >= since,
               BoxRefund.branch_id.in_(branches))
        .group_by(SQL("1"))
    )  # fmt: skip
    for row in _dicts(refunds):  # a refund's total is negative: it nets out in its hour
        money[_key(row["hour"], zone, "hour")] += float(row["m"] or 0)
    return model.per_occurrence(counts, zone), model.per_occurrence(money, zone), exponent


def _zone_forecast(
    tenant_id: str, branches: list[str], zone_name: str, now: datetime, hours: int, weeks: int
) -> tuple[dict[datetime, tuple[float, float]], int, int]:
    """{UTC hour: (sales, takings)} of one zone's branches, history hours, exponent."""
    zone = ZoneInfo(zone_name)
    targets = model.local_targets(now, hours, zone)
    first = targets[0][1]
    since = datetime.combine(first.date() - timedelta(weeks=weeks), time.min, zone)
    counts, money, exponent = hourly_history(tenant_id, branches, zone_name, since)
    naive = [t for _a, t in targets]
    sales = model.seasonal_at(counts, naive, first, weeks)
    takings = model.seasonal_at(money, naive, first, weeks)
    out = {a.astimezone(UTC): (n, m) for (a, _t), n, m in zip(targets, sales, takings, strict=True)}
    return out, len(counts), exponent


def sales_by_hour(
    tenant_id: str, branches: list[str] | None, now: datetime, days_ahead: int, weeks: int
) -> dict[str, Any]:
    """Sales count and takings (net of refunds) forecast per local hour for the next days."""
    hours = days_ahead * 24
    total: dict[datetime, list[float]] = defaultdict(lambda: [0.0, 0.0])
    seen, exponent = 0, 2
    with read_only_tx(tenant_id):
        groups = zone_groups(tenant_id, branches)
        shown = ZoneInfo(next(iter(groups)) if len(groups) == 1 else "UTC")  # several: UTC
        for zone_name, ids in groups.items():
            part, n, exponent = _zone_forecast(tenant_id, ids, zone_name, now, hours, weeks)
            seen += n
            for at, (s, m) in part.items():
                total[at][0] += s
                total[at][1] += m
    if not total:  # no branch in scope: the hours of the shown zone, all zero
        for aware, _naive in model.local_targets(now, hours, shown):
            total[aware.astimezone(UTC)] = [0.0, 0.0]
    items = [
        {
            "hour": at.astimezone(shown).isoformat(),
            "sales": round(s, 2),
            "revenue": format_minor(round(m), exponent),
        }
        for at, (s, m) in sorted(total.items())[:hours]
    ]
    method = (
        f"seasonal mean of the same local hour of the week over the last {weeks} weeks "
        "(branch time zone, DST-correct), takings net of refunds, post-voids left out"
    )
    return {**_meta(method, now, history_hours=seen, timezone=str(shown)), "items": items}


def _daily_demand(
    tenant_id: str, branches: list[str] | None, since: datetime, days: int
) -> dict[tuple[str, str], float]:
    """Mean units a day per (branch, product): sold minus refunded, post-voids left out."""
    qty = fn.SUM(SaleLine.qty.cast("NUMERIC" if is_postgres() else "REAL")).alias("q")
    query = (
        SaleLine.select(SaleLine.branch_id, SaleLine.product_id, qty)
        .join(Sale, on=(Sale.id == SaleLine.sale_id))
        .where(SaleLine.tenant_id == tenant_id, Sale.completed_at >= since,
               _in_branches(SaleLine.branch_id, branches), Sale.id.not_in(_voided(tenant_id)))
        .group_by(SaleLine.branch_id, SaleLine.product_id)
    )  # fmt: skip
    units: dict[tuple[str, str], float] = defaultdict(float)
    for r in _dicts(query):
        units[r["branch_id"], r["product_id"]] += float(r["q"] or 0)
    refunds = BoxRefund.select(BoxRefund.branch_id, BoxRefund.lines).where(
        BoxRefund.tenant_id == tenant_id,
        BoxRefund.completed_at >= since,
        _in_branches(BoxRefund.branch_id, branches),
    )
    for refund in refunds:
        for line in refund.lines or []:
            key = (refund.branch_id, str(line.get("product_id")))
            units[key] -= abs(float(line.get("qty") or 0))  # returned qty is positive
    return {k: max(0.0, v) / days for k, v in units.items()}


def _stock(tenant_id: str, branches: list[str] | None) -> dict[tuple[str, str], float]:
    query = StockBalance.select().where(
        StockBalance.tenant_id == tenant_id, _in_branches(StockBalance.branch_id, branches)
    )
    return {(s.branch_id, s.product_id): s.on_hand_milli / MILLI for s in query}


def _points(tenant_id: str, branches: list[str] | None) -> dict[tuple[str, str], float]:
    query = ReorderPoint.select().where(
        ReorderPoint.tenant_id == tenant_id, _in_branches(ReorderPoint.branch_id, branches)
    )
    return {(p.branch_id, p.product_id): p.reorder_point_milli / MILLI for p in query}


def _names(tenant_id: str, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    query = Product.select(Product.id, Product.name).where(
        Product.tenant_id == tenant_id, Product.id.in_(sorted(ids))
    )
    return {p.id: p.name for p in query}


def _stock_view(
    tenant_id: str, branches: list[str] | None, now: datetime, days: int
) -> tuple[
    dict[tuple[str, str], float],
    dict[tuple[str, str], float],
    dict[tuple[str, str], float],
    dict[str, str],
]:
    with read_only_tx(tenant_id):
        demand = _daily_demand(tenant_id, branches, now - timedelta(days=days), days)
        stock = _stock(tenant_id, branches)
        points = _points(tenant_id, branches)
        names = _names(tenant_id, {p for _b, p in (*demand, *stock)})
    return demand, stock, points, names


def _qty(value: float) -> str:
    return format_qty(round(value * MILLI))


def stock_out(
    tenant_id: str, branches: list[str] | None, now: datetime, days: int
) -> dict[str, Any]:
    """Days of cover per product and branch at the average daily demand of the last days,
    soonest stock-out first (products that do not sell are left out)."""
    demand, stock, _, names = _stock_view(tenant_id, branches, now, days)
    items = []
    for key in sorted(set(demand) | set(stock)):
        on_hand, daily = stock.get(key, 0.0), demand.get(key, 0.0)
        cover = model.days_of_cover(on_hand, daily)
        if cover is None:
            continue
        items.append(
            {
                "branch_id": key[0],
                "product_id": key[1],
                "name": names.get(key[1], key[1]),
                "on_hand": _qty(on_hand),
                "daily_demand": round(daily, 3),
                "days_of_cover": round(cover, 2),
                "stock_out_at": (now + timedelta(days=cover)).isoformat(),
            }
        )
    items.sort(key=lambda i: (i["days_of_cover"], i["branch_id"], i["product_id"]))
    method = f"on hand / mean daily units sold over the last {days} days"
    return {**_meta(method, now, window_days=days), "items": items}


def reorder(
    tenant_id: str,
    branches: list[str] | None,
    now: datetime,
    days: int,
    lead_time_days: float,
    safety_days: float,
) -> dict[str, Any]:
    """Order suggestions: up to lead time plus safety days of demand above the reorder point."""
    demand, stock, points, names = _stock_view(tenant_id, branches, now, days)
    items = []
    for key in sorted(set(demand) | set(points)):
        on_hand, daily = stock.get(key, 0.0), demand.get(key, 0.0)
        s = model.reorder_suggestion(on_hand, daily, lead_time_days, safety_days, points.get(key))
        if s is None:
            continue
        items.append(
            {
                "branch_id": key[0],
                "product_id": key[1],
                "name": names.get(key[1], key[1]),
                "on_hand": _qty(on_hand),
                "daily_demand": round(daily, 3),
                "reorder_point": _qty(points[key]) if key in points else None,
                "order_qty": _qty(s.order_qty),
                "reason": s.reason,
            }
        )
    method = (
        f"order up to {lead_time_days:g}+{safety_days:g} days of mean daily demand "
        f"(last {days} days) above the reorder point"
    )
    return {**_meta(method, now, window_days=days), "items": items}


def _subject_days(
    tenant_id: str, branches: list[str], zone_name: str, since: datetime, until: datetime
) -> dict[tuple[str, str], dict[date, float]]:
    """{(kind, subject): {local day: takings minor net of refunds}} of one zone's branches."""
    zone = ZoneInfo(zone_name)
    out: dict[tuple[str, str], dict[date, float]] = defaultdict(lambda: defaultdict(float))
    docs: list[tuple[Any, dict[str, Any]]] = [
        (Sale, {"cashier": Sale.cashier_id, "box": Sale.box_id}),
        (BoxRefund, {"cashier": BoxRefund.cashier_id, "box": BoxRefund.box_id}),
    ]
    for doc, kinds in docs:
        day = _local(doc.completed_at, zone_name, "day").alias("day")
        for kind, subject in kinds.items():
            cond = [doc.tenant_id == tenant_id, doc.completed_at >= since,
                    doc.completed_at < until, doc.branch_id.in_(branches)]  # fmt: skip
            if doc is Sale:
                cond.append(Sale.id.not_in(_voided(tenant_id)))
            query = (
                doc.select(subject.alias("who"), day, fn.SUM(doc.total_minor).alias("m"))
                .where(*cond)
                .group_by(SQL("1"), SQL("2"))
            )
            for row in _dicts(query):
                out[kind, row["who"]][_key(row["day"], zone, "day").date()] += float(row["m"] or 0)
    return out


def _local_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, zone).astimezone(UTC)


def anomalies(
    tenant_id: str, branches: list[str] | None, now: datetime, day: date | None, history_days: int
) -> dict[str, Any]:
    """Each cashier's and box's takings (net of refunds) on a local day (default: today in
    the branch's zone) against their own past days worked."""
    subjects: dict[tuple[str, str], dict[timedelta, float]] = defaultdict(
        lambda: defaultdict(float)
    )
    days: dict[str, date] = {}
    with read_only_tx(tenant_id):
        for zone_name, ids in zone_groups(tenant_id, branches).items():
            zone = ZoneInfo(zone_name)
            target = day or now.astimezone(zone).date()
            days[zone_name] = target
            since = _local_day(target - timedelta(days=history_days), zone)
            until = _local_day(target + timedelta(days=1), zone)
            for key, by_day in _subject_days(tenant_id, ids, zone_name, since, until).items():
                for d, v in by_day.items():  # past days are relative to each zone's target
                    subjects[key][d - target] += v
    shown = (day or (min(days.values()) if days else now.date())).isoformat()
    items: list[dict[str, Any]] = []
    for (kind, who), by_offset in sorted(subjects.items()):
        past = [v for off, v in by_offset.items() if off.days < 0]
        score = model.anomaly_score(by_offset.get(timedelta(0), 0.0), past)
        if score is None:
            continue
        items.append(
            {
                "kind": kind,
                "subject_id": who,
                "day": shown,
                "takings_minor": round(score.value),
                "median_minor": round(score.median),
                "score": score.score,
                "unusual": score.unusual,
                "history_days": score.history_days,
            }
        )
    items.sort(key=lambda i: -abs(i["score"]))
    method = (
        f"robust z-score (median, MAD) of the local day's takings net of refunds against the "
        f"subject's own days worked in the previous {history_days} days; "
        f"|score| >= {model.UNUSUAL:g} is unusual"
    )
    return {**_meta(method, now, day=shown), "items": items}
