"""Forecast read models over synced sales and stock (FR-P7-1005..1008), strictly read-only.

Every function reads inside `read_only_tx` (PostgreSQL READ ONLY, one REPEATABLE READ
snapshot): a forecast cannot write, whatever a later change to this module tries
(tests/hub/test_forecasts.py proves the refusal). Times are UTC hours; money in minor units.
Sales only (refunds and post-voids are not subtracted): the forecast is of demand at the
till, labelled as an estimate in every answer.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from peewee import SQL, fn

from hub.catalog.models import Product
from hub.core.db import is_postgres, read_only_tx
from hub.forecasts import model
from hub.inventory.ledger import format_qty
from hub.inventory.models import ReorderPoint, StockBalance
from hub.sales.models import Sale, SaleLine
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


def _bucket(field: Any, unit: str) -> Any:
    if is_postgres():
        return fn.date_trunc(unit, fn.timezone("UTC", field))
    fmt = "%Y-%m-%dT%H:00:00" if unit == "hour" else "%Y-%m-%dT00:00:00"
    return fn.strftime(fmt, field)


def _utc(value: Any) -> datetime:
    at: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _dicts(query: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = list(query.dicts())
    return rows


def _in_branches(field: Any, branches: list[str] | None) -> Any:
    return True if branches is None else field.in_(branches)


def hourly_history(
    tenant_id: str, branches: list[str] | None, since: datetime
) -> tuple[dict[datetime, float], dict[datetime, float], int]:
    """(sales per hour, revenue minor per hour, money exponent) since `since`."""
    hour = _bucket(Sale.completed_at, "hour").alias("hour")
    query = (
        Sale.select(hour, fn.COUNT(Sale.id).alias("n"), fn.SUM(Sale.total_minor).alias("m"),
                    fn.MAX(Sale.exponent).alias("e"))
        .where(Sale.tenant_id == tenant_id, Sale.completed_at >= since,
               _in_branches(Sale.branch_id, branches))
        .group_by(SQL("1"))
    )  # fmt: skip
    counts: dict[datetime, float] = {}
    money: dict[datetime, float] = {}
    exponent = 2
    for row in _dicts(query):
        at = _utc(row["hour"])
        counts[at], money[at] = float(row["n"]), float(row["m"] or 0)
        exponent = int(row["e"] if row["e"] is not None else exponent)
    return counts, money, exponent


def sales_by_hour(
    tenant_id: str, branches: list[str] | None, now: datetime, days_ahead: int, weeks: int
) -> dict[str, Any]:
    """Sales count and revenue forecast per hour for the next `days_ahead` days."""
    start = model.hour_of(now) + timedelta(hours=1)
    with read_only_tx(tenant_id):
        counts, money, exponent = hourly_history(
            tenant_id, branches, start - timedelta(weeks=weeks)
        )
    hours = days_ahead * 24
    sales = model.seasonal_forecast(counts, start, hours, weeks)
    revenue = model.seasonal_forecast(money, start, hours, weeks)
    items = [
        {
            "hour": at.isoformat(),
            "sales": round(n, 2),
            "revenue": format_minor(round(m), exponent),
        }
        for (at, n), (_a, m) in zip(sales, revenue, strict=True)
    ]
    method = f"seasonal mean of the same hour of the week over the last {weeks} weeks"
    return {**_meta(method, now, history_hours=len(counts)), "items": items}


def _daily_demand(
    tenant_id: str, branches: list[str] | None, since: datetime, days: int
) -> dict[tuple[str, str], float]:
    qty = fn.SUM(SaleLine.qty.cast("NUMERIC" if is_postgres() else "REAL")).alias("q")
    query = (
        SaleLine.select(SaleLine.branch_id, SaleLine.product_id, qty)
        .join(Sale, on=(Sale.id == SaleLine.sale_id))
        .where(SaleLine.tenant_id == tenant_id, Sale.completed_at >= since,
               _in_branches(SaleLine.branch_id, branches))
        .group_by(SaleLine.branch_id, SaleLine.product_id)
    )  # fmt: skip
    return {(r["branch_id"], r["product_id"]): float(r["q"] or 0) / days for r in _dicts(query)}


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


def _daily_totals(
    tenant_id: str, branches: list[str] | None, subject: Any, since: datetime, until: datetime
) -> dict[str, dict[datetime, float]]:
    day = _bucket(Sale.completed_at, "day").alias("day")
    query = (
        Sale.select(subject.alias("who"), day, fn.SUM(Sale.total_minor).alias("m"))
        .where(Sale.tenant_id == tenant_id, Sale.completed_at >= since,
               Sale.completed_at < until, _in_branches(Sale.branch_id, branches))
        .group_by(SQL("1"), SQL("2"))
    )  # fmt: skip
    out: dict[str, dict[datetime, float]] = defaultdict(dict)
    for row in _dicts(query):
        out[row["who"]][_utc(row["day"])] = float(row["m"] or 0)
    return out


def anomalies(
    tenant_id: str, branches: list[str] | None, day: datetime, history_days: int
) -> dict[str, Any]:
    """Each cashier's and box's takings on `day` against their own past days (days worked)."""
    start = day.replace(hour=0, minute=0, second=0, microsecond=0)
    since, until = start - timedelta(days=history_days), start + timedelta(days=1)
    items: list[dict[str, Any]] = []
    with read_only_tx(tenant_id):
        subjects = {
            "cashier": _daily_totals(tenant_id, branches, Sale.cashier_id, since, until),
            "box": _daily_totals(tenant_id, branches, Sale.box_id, since, until),
        }
    for kind, by_subject in subjects.items():
        for who, days in sorted(by_subject.items()):
            past = [v for d, v in days.items() if d < start]
            score = model.anomaly_score(days.get(start, 0.0), past)
            if score is None:
                continue
            items.append(
                {
                    "kind": kind,
                    "subject_id": who,
                    "day": start.date().isoformat(),
                    "takings_minor": round(score.value),
                    "median_minor": round(score.median),
                    "score": score.score,
                    "unusual": score.unusual,
                    "history_days": score.history_days,
                }
            )
    items.sort(key=lambda i: -abs(i["score"]))
    method = (
        f"robust z-score (median, MAD) of the day's takings against the subject's own "
        f"days worked in the previous {history_days} days; |score| >= {model.UNUSUAL:g} is unusual"
    )
    return {**_meta(method, start, day=start.date().isoformat()), "items": items}
