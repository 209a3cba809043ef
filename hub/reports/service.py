"""Running a report: the caller's filters checked against their scope, the query run under
the report's runtime budget (statement timeout), rows named, sorted, totalled and paged.

Views pass in who is calling (principal, tenant, scope from `hub.web.target_tenant`); the
permission matrix decides the action per family (REP-T: sales.read, SUPERVISOR for the
branch-local today only; REP-O: reports.operational, INVENTORY_CLERK inventory reports only).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from peewee import OperationalError

from hub.core.db import db, is_postgres, tenant_tx
from hub.governance import config
from hub.identity import scope as scope_ids
from hub.identity.models import Box, Branch, User
from hub.reports import operational, transactional
from hub.reports.days import branch_zones, today
from hub.reports.definitions import Ctx, ReportDef, Row, Window, check_page
from hub.sales.queries import allowed_branches
from posdomain.errors import Forbidden, HubReason, NotFound, Unavailable, ValidationError
from posdomain.permissions import Action, Principal, Role, Scope, today_only

REGISTRY: dict[str, ReportDef] = {
    d.report_id: d for d in [*transactional.REPORTS, *operational.REPORTS]
}
MAX_RANGE_DAYS = 400  # a year and a month: longer asks are refused, not run
BRANCH_SCOPES = frozenset({Scope.BRANCH, Scope.SELF, Scope.OVERRIDE})
QUERY_CANCELED = "57014"  # PostgreSQL: statement timeout


@dataclass(frozen=True)
class Filters:
    """A report request's raw filters (already bounded by the query model)."""

    date_from: str | None = None
    date_to: str | None = None
    branches: str | None = None
    box_id: str | None = None
    cashier_id: str | None = None
    shift_id: str | None = None
    days: int | None = None
    product_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The filters that were given (for exports and their audit entries)."""
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


@dataclass(frozen=True)
class Caller:
    """Who runs a report."""

    principal: Principal
    tenant_id: str
    scope: Scope


def definition(report_id: str) -> ReportDef:
    """The catalog entry, or 404 REPORT_UNKNOWN."""
    found = REGISTRY.get(report_id)
    if found is None:
        raise NotFound(
            f"no report {report_id!r}", HubReason.REPORT_UNKNOWN, {"known": list(REGISTRY)}
        )
    return found


def action_for(report: ReportDef) -> Action:
    """The permission matrix row that governs a report."""
    return Action.SALES_READ if report.family == "T" else Action.REPORTS_OPERATIONAL


def may_run(principal: Principal, report: ReportDef) -> bool:
    """Whether the role may run the report at all (the catalog list shows only these)."""
    if report.family == "O" and principal.role is Role.INVENTORY_CLERK:
        return report.inventory
    return True


def check_role(principal: Principal, report: ReportDef) -> None:
    """403 REPORT_NOT_PERMITTED for a report the role's row excludes (audited)."""
    if not may_run(principal, report):
        raise Forbidden(
            "an inventory clerk runs the inventory reports only",
            HubReason.REPORT_NOT_PERMITTED,
            {"report_id": report.report_id, "role": principal.role.value},
        )


def _day(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as err:
        raise ValidationError(
            f"{name} must be a date YYYY-MM-DD", HubReason.REPORT_BAD_FILTER, {"field": name}
        ) from err


def _range(filters: Filters) -> tuple[date, date] | None:
    given = (filters.date_from or None, filters.date_to or None)
    if given == (None, None):
        return None
    if None in given:
        raise ValidationError(
            "give both date_from and date_to (inclusive business days)",
            HubReason.REPORT_RANGE_UNBOUNDED,
        )
    first, last = _day(str(given[0]), "date_from"), _day(str(given[1]), "date_to")
    if first > last:
        raise ValidationError(
            "date_from is after date_to",
            HubReason.REPORT_RANGE_INVERTED,
            {"date_from": first.isoformat(), "date_to": last.isoformat()},
        )
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValidationError(
            f"a report covers at most {MAX_RANGE_DAYS} days; narrow the range",
            HubReason.REPORT_RANGE_TOO_LONG,
            {"max_days": MAX_RANGE_DAYS},
        )
    return first, last


def _branches(caller: Caller, filters: Filters, zones: dict[str, ZoneInfo]) -> list[str]:
    if filters.branches:
        named = sorted({b.strip() for b in filters.branches.split(",") if b.strip()})
        for branch_id in named:
            allowed_branches(caller.principal, caller.scope, branch_id)  # 403, audited
        return named
    allowed = allowed_branches(caller.principal, caller.scope, None)
    return sorted(zones) if allowed is None else [b for b in allowed if b in zones]


def _filter_use(report: ReportDef, filters: Filters) -> None:
    for name, value in (
        ("box", filters.box_id),
        ("cashier", filters.cashier_id),
        ("shift", filters.shift_id),
    ):
        if value and name not in report.filters:
            raise ValidationError(
                f"{report.report_id} takes no {name} filter",
                HubReason.REPORT_BAD_FILTER,
                {"field": f"{name}_id", "report_id": report.report_id},
            )


def build_ctx(caller: Caller, report: ReportDef, filters: Filters, now: datetime) -> Ctx:
    """The checked filters as a query context (403/400 with reason codes otherwise)."""
    check_role(caller.principal, report)
    _filter_use(report, filters)
    if filters.box_id:
        scope_ids.check_box(
            caller.principal, filters.box_id, assigned=caller.scope in BRANCH_SCOPES
        )
    span = _range(filters)
    with tenant_tx(caller.tenant_id):
        zones = branch_zones(caller.tenant_id)
        branches = _branches(caller, filters, zones)
        pricing = config.current(caller.tenant_id, "pricing")
        exponent = int(pricing.body.get("exponent", 2)) if pricing else 2
        if filters.box_id:
            box = Box.get_or_none(Box.box_id == filters.box_id)
            if box is None or box.branch_id not in branches:
                raise ValidationError(
                    "that box is not in the branches asked for",
                    HubReason.REPORT_BAD_FILTER,
                    {"field": "box_id"},
                )
    limited = report.family == "T" and today_only(caller.principal, Action.SALES_READ)
    windows = []
    for branch_id in branches:
        local_today = today(now, zones[branch_id])
        first, last = span or (local_today, local_today)
        if limited and (first, last) != (local_today, local_today):
            raise Forbidden(
                "a supervisor reads today's reports of their own branch only",
                HubReason.REPORT_TODAY_ONLY,
                {"today": local_today.isoformat(), "branch_id": branch_id},
            )
        windows.append(Window(branch_id, first, last))
    extras: dict[str, Any] = {"zones": zones, "exponent": exponent}
    if filters.days is not None:
        extras["days"] = filters.days
    if filters.product_id:
        extras["product_id"] = filters.product_id
    return Ctx(
        caller.tenant_id,
        tuple(windows),
        now,
        filters.box_id,
        filters.cashier_id,
        filters.shift_id,
        extras,
    )


def with_extras(ctx: Ctx, **extras: Any) -> Ctx:
    """The context with more inputs (the audit integrity report from the app)."""
    return replace(ctx, extras={**ctx.extras, **extras})


def run_query(report: ReportDef, ctx: Ctx) -> list[Row]:
    """The report's rows, inside the tenant's transaction with its statement timeout:
    503 REPORT_BUDGET_EXCEEDED (with a hint) when the database cancels it."""
    try:
        with tenant_tx(ctx.tenant_id):
            if is_postgres():
                db.execute_sql(f"SET LOCAL statement_timeout = {int(report.budget_ms)}")
                # JIT compiling took 300 of 390 ms of a month's tax report (bench-reports):
                # these aggregates are short, compilation never pays for itself
                db.execute_sql("SET LOCAL jit = off")
            rows = report.query(ctx)
            _name(ctx, rows)
    except OperationalError as err:
        orig = getattr(err, "orig", None) or err.__cause__
        if getattr(orig, "pgcode", None) != QUERY_CANCELED:
            raise
        raise Unavailable(
            f"{report.report_id} ran past its budget of {report.budget_ms} ms",
            HubReason.REPORT_BUDGET_EXCEEDED,
            {
                "budget_ms": report.budget_ms,
                "hint": "narrow the date range or the branches, or filter by box or cashier",
            },
        ) from err
    return rows


def _name(ctx: Ctx, rows: list[Row]) -> None:
    """Names instead of ids: branch, box and staff names (ids stay the filters' values).
    Only the names a row can carry are loaded, and each row is visited once per such key."""
    keys: set[str] = set().union(*rows) if rows else set()
    staff = [k for k in ("cashier_id", "who", "approver_id", "verified_by") if k in keys]
    moved = [k for k in ("from_branch_id", "to_branch_id") if k in keys]
    if "branch_id" in keys or moved:
        branches = {b.id: b.name for b in Branch.select(Branch.id, Branch.name)}
        for row in rows:
            if "branch_id" in row:
                row["branch"] = branches.get(row["branch_id"], row["branch_id"])
            for name in moved:
                if row.get(name) in branches:
                    row[name] = branches[row[name]]
    if "box_id" in keys:
        boxes = {b.box_id: b.name for b in Box.select(Box.box_id, Box.name)}
        for row in rows:
            if "box_id" in row and "box" not in row:
                row["box"] = boxes.get(row["box_id"], row["box_id"])
    if staff:
        people = {u.id: u.display_name for u in User.select(User.id, User.display_name)}
        for row in rows:
            for key in staff:
                if row.get(key) in people:
                    row[key] = people[row[key]]


def _sort_key(kind: str) -> Any:
    def key(value: Any) -> tuple[int, Any]:
        if value is None:
            return (1, "")
        if kind in ("text", "date", "time", "bool") and not isinstance(value, (int, float)):
            return (0, str(value))
        return (0, value)

    return key


def sort_rows(report: ReportDef, rows: list[Row], sort: str | None) -> tuple[list[Row], str]:
    """Rows in the asked order (`key` or `-key`); 400 REPORT_BAD_SORT for an unknown key."""
    text = sort or report.default_sort
    name = text.removeprefix("-")
    kinds = {c.key: c.kind for c in report.columns}
    if name not in kinds:
        raise ValidationError(
            f"cannot sort {report.report_id} by {name!r}",
            HubReason.REPORT_BAD_SORT,
            {"field": "sort", "allowed": report.keys},
        )
    key = _sort_key(kinds[name])
    ordered = sorted(rows, key=lambda r: key(r.get(name)), reverse=text.startswith("-"))
    if text.startswith("-"):  # None last either way
        ordered = [r for r in ordered if r.get(name) is not None] + [
            r for r in ordered if r.get(name) is None
        ]
    return ordered, text


def totals(report: ReportDef, rows: list[Row]) -> dict[str, Any]:
    """Column totals over every row (not just the page), derived ones recomputed."""
    out: dict[str, Any] = {}
    for col in report.columns:
        if col.total:  # a column with no value at all has no total either
            given = [int(v) for r in rows if (v := r.get(col.key)) is not None]
            out[col.key] = sum(given) if given or not rows else None
    if report.derive_totals is not None:
        report.derive_totals(rows, out)
    return out


@dataclass(frozen=True)
class Result:
    """A report run: every row sorted, the totals, and the sort used."""

    report: ReportDef
    ctx: Ctx
    rows: list[Row]
    totals: dict[str, Any]
    sort: str


def run(report: ReportDef, ctx: Ctx, sort: str | None = None) -> Result:
    """Run, sort and total a report."""
    rows, used = sort_rows(report, run_query(report, ctx), sort)
    return Result(report, ctx, rows, totals(report, rows), used)


def page_of(result: Result, page: int, page_size: int) -> list[Row]:
    """One page of the result; 400 REPORT_BAD_PAGE past the last page."""
    check_page(page, len(result.rows), page_size)
    return result.rows[(page - 1) * page_size : page * page_size]
