"""What the forecast pages show (hub/forecasts/pages.py): names instead of ids, local times,
server-side sorting and paging of the forecast lists. Reads names only (read-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.dates import format_date
from flask import request
from peewee import fn

from hub.core.db import read_only_tx
from hub.core.paging import PAGE_SIZE, paged
from hub.i18n.request_locale import current_locale
from hub.identity.models import Box, Branch, User
from hub.reports.days import branch_zones
from hub.sales.models import Sale
from posdomain.errors import HubReason, ValidationError
from posdomain.locale_format import babel_locale
from posdomain.money import format_minor

COVER_SORTS = ("days_of_cover", "name", "branch", "daily_demand")
REORDER_SORTS = ("order_qty", "name", "branch", "daily_demand")
ANOMALY_SORTS = ("score", "subject", "takings_minor")


def sort_arg(default: str, allowed: tuple[str, ...]) -> str:
    """?sort= (a column, `-` for descending), checked (400 REPORT_BAD_SORT)."""
    sort = request.args.get("sort", default) or default
    if sort.removeprefix("-") not in allowed:
        raise ValidationError(
            f"sort by {', '.join(allowed)}",
            HubReason.REPORT_BAD_SORT,
            {"field": "sort", "allowed": list(allowed)},
        )
    return sort


def _order(item: dict[str, Any], key: str) -> Any:
    value = item.get(key)
    if key == "score":
        return abs(float(value or 0))
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value.casefold()
    return value if value is not None else float("inf")


def table(items: list[dict[str, Any]], sort: str, page: int) -> dict[str, Any]:
    """One page of `items` sorted by `sort` (ties by name), with the paging fields."""
    key = sort.removeprefix("-")
    ordered = sorted(items, key=lambda i: (_order(i, key), str(i.get("name", ""))),
                     reverse=sort.startswith("-"))  # fmt: skip
    start = (page - 1) * PAGE_SIZE
    return paged(ordered[start : start + PAGE_SIZE], page, len(ordered))


def _branches(tenant_id: str) -> tuple[dict[str, str], dict[str, Any]]:
    with read_only_tx(tenant_id):
        names = {b.id: b.name for b in Branch.select().where(Branch.tenant_id == tenant_id)}
        return names, branch_zones(tenant_id)


def _local(at: str, zone: Any) -> str:
    """A moment in the branch's zone as the reader's locale writes it (weekday and month
    names in the reader's language, the zone's abbreviation as the zone database has it)."""
    local = datetime.fromisoformat(at).astimezone(zone)
    return f"{_day_label(local)} {local.strftime('%H:%M %Z')}"


def _day_label(at: datetime) -> str:
    """'Tue 1 Dec 2026' / 'Di. 1 Dez. 2026' in the reader's locale (Babel's CLDR names)."""
    return str(format_date(at.date(), "EEE d MMM y", locale=babel_locale(current_locale())))


def named_cover(tenant_id: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stock-out items with the branch's name and the stock-out time in its zone."""
    names, zones = _branches(tenant_id)
    return [
        {
            **i,
            "branch": names.get(i["branch_id"], i["branch_id"]),
            "runs_out": _local(i["stock_out_at"], zones.get(i["branch_id"])),
        }
        for i in items
    ]


def named_reorder(tenant_id: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reorder items with the branch's name."""
    names, _zones = _branches(tenant_id)
    return [{**i, "branch": names.get(i["branch_id"], i["branch_id"])} for i in items]


def named_anomalies(tenant_id: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Anomaly items with the cashier's or box's name."""
    cashiers = {i["subject_id"] for i in items if i["kind"] == "cashier"}
    boxes = {i["subject_id"] for i in items if i["kind"] == "box"}
    people: dict[str, str] = {}
    tills: dict[str, str] = {}
    with read_only_tx(tenant_id):
        exponent = Sale.select(fn.MAX(Sale.exponent)).where(Sale.tenant_id == tenant_id).scalar()
        if cashiers:
            users = User.select().where(User.tenant_id == tenant_id, User.id.in_(sorted(cashiers)))
            people = {u.id: u.display_name for u in users}
        if boxes:
            rows = Box.select().where(Box.tenant_id == tenant_id, Box.box_id.in_(sorted(boxes)))
            tills = {b.box_id: b.name for b in rows}
    places = 2 if exponent is None else int(exponent)  # 0 is a currency's exponent (JPY)
    out = []
    for i in items:
        names = people if i["kind"] == "cashier" else tills
        out.append({**i, "subject": names.get(i["subject_id"]) or i["subject_id"],
                    "takings": format_minor(i["takings_minor"], places),
                    "median": format_minor(i["median_minor"], places)})  # fmt: skip
    return out


def day_page(items: list[dict[str, Any]], page: int) -> dict[str, Any]:
    """The hours of the `page`-th local day of an hourly forecast, and a bar per hour."""
    days: dict[str, list[dict[str, Any]]] = {}
    for i in items:
        at = datetime.fromisoformat(i["hour"])
        row = {**i, "local": at.strftime("%H:%M %Z"), "label": _day_label(at)}
        days.setdefault(at.date().isoformat(), []).append(row)
    keys = sorted(days)
    page = min(page, max(1, len(keys)))
    hours = days[keys[page - 1]] if keys else []
    top = max((h["sales"] for h in hours), default=0) or 1
    for h in hours:
        h["bar"] = round(100 * h["sales"] / top)
    return {
        "hours": hours,
        "label": hours[0]["label"] if hours else "",
        "page": page,
        "pages": max(1, len(keys)),
    }
