"""What a report is: its columns, sort keys, filters, runtime budget and query (the leaf the
report modules, the service and the exports share)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from hub.core.db import db
from posdomain.errors import HubReason, ValidationError

Row = dict[str, Any]
# column kinds: text, int, money (minor units), qty (thousandths), pct (Decimal), time (UTC)
KINDS = frozenset({"text", "int", "money", "qty", "pct", "time", "date", "bool"})


@dataclass(frozen=True)
class Column:
    """One report column: key in the rows, label on screen, kind, summed into the totals."""

    key: str
    label: str
    kind: str = "text"
    total: bool = False


@dataclass(frozen=True)
class Window:
    """One branch's inclusive business-day range."""

    branch_id: str
    first: date
    last: date


@dataclass(frozen=True)
class Ctx:
    """A report's filters, already checked against the caller's scope."""

    tenant_id: str
    windows: tuple[Window, ...]
    now: datetime
    box_id: str | None = None
    cashier_id: str | None = None
    shift_id: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def branch_ids(self) -> list[str]:
        """Every branch the report covers."""
        return [w.branch_id for w in self.windows]


Query = Callable[[Ctx], list[Row]]
Totals = Callable[[list[Row], dict[str, Any]], None]


@dataclass(frozen=True)
class ReportDef:
    """One catalog entry (report_catalog.md)."""

    report_id: str
    title: str
    columns: tuple[Column, ...]
    query: Query
    default_sort: str
    budget_ms: int = 2000
    dated: bool = True  # takes the date range (False: "as of now")
    filters: frozenset[str] = frozenset()  # of box, cashier, shift
    inventory: bool = False  # an inventory REP-O report (INVENTORY_CLERK may run it)
    derive_totals: Totals | None = None
    note: str = ""

    @property
    def family(self) -> str:
        """T (transactional) or O (operational)."""
        return self.report_id.split("-")[1]

    @property
    def keys(self) -> list[str]:
        """Column keys in order (the sort keys too)."""
        return [c.key for c in self.columns]


def fetch(sql: str, params: Sequence[Any] = ()) -> list[Row]:
    """Rows of a query as dicts (caller's transaction)."""
    cursor = db.execute_sql(sql, tuple(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def scope_sql(ctx: Ctx, alias: str, *, dated: bool = True) -> tuple[str, list[Any]]:
    """WHERE text for a fact table: the tenant, each branch's day range, box and cashier."""
    parts: list[str] = [f"{alias}.tenant_id = %s"]
    params: list[Any] = [ctx.tenant_id]
    if dated:
        spans: dict[tuple[str, str], list[str]] = {}
        for w in ctx.windows:  # branches sharing a range in one index-friendly condition
            spans.setdefault((w.first.isoformat(), w.last.isoformat()), []).append(w.branch_id)
        ors = []
        for (first, last), branch_ids in sorted(spans.items()):
            ors.append(f"({alias}.branch_id = ANY(%s) AND {alias}.business_day BETWEEN %s AND %s)")
            params += [sorted(branch_ids), first, last]
        parts.append("(" + (" OR ".join(ors) or "FALSE") + ")")
    else:
        parts.append(f"{alias}.branch_id = ANY(%s)")
        params.append(ctx.branch_ids)
    if ctx.box_id:
        parts.append(f"{alias}.box_id = %s")
        params.append(ctx.box_id)
    if ctx.cashier_id:
        parts.append(f"{alias}.cashier_id = %s")
        params.append(ctx.cashier_id)
    return " AND ".join(parts), params


def not_voided(alias: str) -> str:
    """A post-voided sale is no sale (its refunds cannot exist: a void needs no refunds).
    The kind is tested inside the NOT EXISTS so PostgreSQL plans one anti-join above the
    partitions of `report_lines`; `kind <> 'sale' OR NOT EXISTS (...)` became a hashed
    subplan that scanned every post-void once per partition (REP-T-16 for a year of one
    branch at 10 M lines: 12 scans, 280 of its 550 ms)."""
    return (
        f"NOT EXISTS (SELECT 1 FROM sale_voids v WHERE v.tenant_id = {alias}.tenant_id "
        f"AND v.sale_id = {alias}.doc_id AND {alias}.kind = 'sale')"
    )


def ints(row: Row, *names: str) -> Row:
    """Turn the named sums of a row into ints (a SUM over no rows is NULL: 0)."""
    for name in names:
        row[name] = int(row[name] or 0)
    return row


def in_windows(ctx: Ctx, rows: list[Row], at: str) -> list[Row]:
    """Rows whose instant falls in their branch's business-day range (each gets its `day`)."""
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


def pct(part: int, whole: int) -> Decimal | None:
    """part / whole in percent, two places (None when whole is 0)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def margin_totals(rows: list[Row], totals: dict[str, Any]) -> None:
    """Margin % of the totals from their own net and margin (never a sum of percents)."""
    if "margin_pct" in totals or any("margin_pct" in r for r in rows[:1]):
        totals["margin_pct"] = pct(int(totals.get("margin", 0)), int(totals.get("net", 0)))


def with_margin(row: Row) -> Row:
    """Add margin and margin % to a row with net and cost."""
    row["margin"] = int(row["net"]) - int(row["cost"])
    row["margin_pct"] = pct(row["margin"], int(row["net"]))
    return row


MONEY_SALES = (
    Column("gross", "Gross", "money", True),
    Column("discounts", "Discounts", "money", True),
)


def check_page(page: int, total: int, page_size: int) -> None:
    """400 REPORT_BAD_PAGE for a page past the last one of `total` rows."""
    pages = max(1, -(-total // page_size))
    if page > pages:
        raise ValidationError(
            f"page {page} does not exist (pages: {pages})",
            HubReason.REPORT_BAD_PAGE,
            {"field": "page", "pages": pages},
        )
