"""Report cells as the API, the screen and every export show them: money as decimals in the
tenant's exponent, quantities with three places, times local to the row's branch."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from hub.reports.definitions import Column, Row
from hub.reports.service import Result
from posdomain.money import format_minor

Cell = str | int | bool | None


def _qty(milli: int) -> str:
    return str((Decimal(int(milli)) / 1000).quantize(Decimal("0.001")))


def cell(col: Column, value: Any, row: Row, result: Result) -> Cell:
    """One value in its JSON form."""
    if value is None:
        return None
    kind = col.kind
    exp = int(result.ctx.extras.get("exponent", 2))
    if kind == "money":
        return format_minor(int(value), exp)
    if kind == "qty":
        return _qty(value)
    if kind == "int":
        return int(value)
    if kind == "bool":
        return bool(value)
    if kind == "time" and isinstance(value, datetime):
        zone = result.ctx.extras.get("zones", {}).get(row.get("branch_id"))
        local = value.astimezone(zone) if zone else value
        return local.strftime("%Y-%m-%d %H:%M:%S %Z")
    return str(value)


def text(col: Column, value: Any, row: Row, result: Result) -> str:
    """One value as text (screen, CSV, print, PDF): the same digits as the JSON."""
    shown = cell(col, value, row, result)
    if shown is None:
        return ""
    if isinstance(shown, bool):
        return "yes" if shown else "no"
    return str(shown)


def json_rows(result: Result, rows: list[Row]) -> list[dict[str, Cell]]:
    """Rows in their JSON form, keyed by column."""
    return [{c.key: cell(c, r.get(c.key), r, result) for c in result.report.columns} for r in rows]


def json_totals(result: Result) -> dict[str, Cell]:
    """The totals in their JSON form."""
    cols = {c.key: c for c in result.report.columns}
    return {k: cell(cols[k], v, {}, result) for k, v in result.totals.items() if k in cols}


def text_rows(result: Result, rows: list[Row]) -> list[list[str]]:
    """Rows as text cells in column order."""
    cols = result.report.columns
    return [[text(c, r.get(c.key), r, result) for c in cols] for r in rows]


def text_totals(result: Result) -> list[str]:
    """The totals row as text cells in column order ('Total' in the first column)."""
    cols = result.report.columns
    out = [
        text(c, result.totals[c.key], {}, result) if c.key in result.totals else "" for c in cols
    ]
    if out and not out[0]:
        out[0] = "Total"
    return out
