"""The single bank deposits behind REP-T-05's Deposits column: one row per
`drawer.bank_deposit` the hub accepted (`bank_deposits`, migration 0032), filtered like a
report (branches in the caller's scope, inclusive business days as the till booked them,
box, cashier), sorted and paged in the database.

The spec has no catalog or matrix row of its own for this list: it is REP-T-05's detail, so
it is governed by REP-T-05's row (`sales.read`; SUPERVISOR own branch, today only) and its
filters are checked by the report service (docs/reports.md, "Bank deposits")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hub.core.db import db, is_postgres, tenant_tx
from hub.identity.models import Box, Branch, User
from hub.reports.definitions import Column, Ctx, ReportDef, Row, check_page, fetch, scope_sql
from posdomain.errors import HubReason, ValidationError
from posdomain.money import format_minor

# sort key -> column (every order ends with the deposit id, so pages never overlap)
SORTS = {
    "deposited_at": "b.deposited_at",
    "business_day": "b.business_day",
    "amount": "b.amount_minor",
    "branch_id": "b.branch_id",
    "box_id": "b.box_id",
    "cashier_id": "b.cashier_id",
    "approver_id": "b.approver_id",
    "slip_no": "b.slip_no",
    "deposit_id": "b.deposit_id",
    "received_at": "b.received_at",
}
DEFAULT_SORT = "-deposited_at"
BUDGET_MS = 2000
# REP-T-05's permission row and filters (build_ctx checks role, scope, range and box)
DEFINITION = ReportDef(
    "REP-T-05",
    "Bank deposits",
    tuple(Column(k, k) for k in SORTS),
    lambda _ctx: [],
    DEFAULT_SORT,
    budget_ms=BUDGET_MS,
    filters=frozenset({"box", "cashier"}),
)


@dataclass(frozen=True)
class Listing:
    """One page of deposits, with the count and sum over every deposit the filters match."""

    items: list[Row]
    total: int
    amount_minor: int
    exponent: int
    sort: str


def _order(sort: str | None) -> tuple[str, str]:
    text = sort or DEFAULT_SORT
    column = SORTS.get(text.removeprefix("-"))
    if column is None:
        raise ValidationError(
            f"cannot sort bank deposits by {text.removeprefix('-')!r}",
            HubReason.REPORT_BAD_SORT,
            {"field": "sort", "allowed": sorted(SORTS)},
        )
    way = "DESC" if text.startswith("-") else "ASC"
    return f"{column} {way}, b.deposit_id {way}", text


def listing(ctx: Ctx, sort: str | None, page: int, page_size: int) -> Listing:
    """One page of the deposits of the context's branches and days (400 REPORT_BAD_SORT,
    REPORT_BAD_PAGE past the last page); runs in the tenant's transaction under the budget."""
    order, used = _order(sort)
    where, params = scope_sql(ctx, "b")
    with tenant_tx(ctx.tenant_id):
        if is_postgres():
            db.execute_sql(f"SET LOCAL statement_timeout = {BUDGET_MS}")
        (head,) = fetch(
            f"""SELECT COUNT(*) AS n, SUM(b.amount_minor) AS amount, MAX(b.exponent) AS exp
                FROM bank_deposits b WHERE {where}""",
            params,
        )
        total = int(head["n"])
        check_page(page, total, page_size)
        rows = fetch(
            f"""SELECT b.deposit_id, b.branch_id, b.box_id, b.business_day, b.amount_minor,
                b.exponent, b.slip_no, b.cashier_id, b.approver_id, b.reason_code, b.shift_id,
                b.note, b.deposited_at, b.received_at
                FROM bank_deposits b WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s""",
            [*params, page_size, (page - 1) * page_size],
        )
        _name(rows)
    exponent = int(head["exp"] if head["exp"] is not None else ctx.extras.get("exponent", 2))
    return Listing(rows, total, int(head["amount"] or 0), exponent, used)


def _name(rows: list[Row]) -> None:
    """Branch, box and staff names beside their ids (only the page's)."""
    if not rows:
        return
    branch_ids = sorted({r["branch_id"] for r in rows})
    box_ids = sorted({r["box_id"] for r in rows})
    user_ids = sorted({r[k] for r in rows for k in ("cashier_id", "approver_id")})
    branches = {
        b.id: b.name for b in Branch.select(Branch.id, Branch.name).where(Branch.id.in_(branch_ids))
    }
    boxes = {
        b.box_id: b.name for b in Box.select(Box.box_id, Box.name).where(Box.box_id.in_(box_ids))
    }
    people = {
        u.id: u.display_name
        for u in User.select(User.id, User.display_name).where(User.id.in_(user_ids))
    }
    for r in rows:
        r["branch"] = branches.get(r["branch_id"], r["branch_id"])
        r["box"] = boxes.get(r["box_id"], r["box_id"])
        r["cashier"] = people.get(r["cashier_id"], r["cashier_id"])
        r["approver"] = people.get(r["approver_id"], r["approver_id"])


def item(row: Row) -> dict[str, Any]:
    """The JSON form of one deposit (money as a decimal string and in minor units)."""
    return {
        "deposit_id": row["deposit_id"],
        "branch_id": row["branch_id"],
        "branch": row["branch"],
        "box_id": row["box_id"],
        "box": row["box"],
        "business_day": row["business_day"],
        "amount": format_minor(int(row["amount_minor"]), int(row["exponent"])),
        "amount_minor": int(row["amount_minor"]),
        "slip_no": row["slip_no"],
        "cashier_id": row["cashier_id"],
        "cashier": row["cashier"],
        "approver_id": row["approver_id"],
        "approver": row["approver"],
        "reason_code": row["reason_code"],
        "shift_id": row["shift_id"],
        "note": row["note"],
        "deposited_at": _utc(row["deposited_at"]),
        "received_at": _utc(row["received_at"]),
    }


def _utc(value: Any) -> str:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else str(value)
