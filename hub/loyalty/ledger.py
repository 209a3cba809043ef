"""The points ledger (FR-401): the one writer of `loyalty_ledger`, the running balances, reads.

Every function runs inside the caller's tenant transaction. A row is keyed by its source (the
box event id of the sale/refund/void, `adjust:<key>`, `expiry:<customer>:<day>`), its kind and
its line: `ON CONFLICT ON CONSTRAINT loyalty_ledger_source_key DO NOTHING` makes a replayed
source a no-op, and only the rows really inserted move the balance (`RETURNING`), so the
balance equals the ledger sum under any redelivery. The table refuses UPDATE and DELETE
(trigger + grants, migration 0010): a correction is a new row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import fn

from hub.core.bulk import insert_rows
from hub.core.db import is_postgres
from hub.core.models import utcnow
from hub.customers import directory
from hub.loyalty.models import Balance, LedgerRow

SYSTEM_ACTOR = "system:ingest"
_PG_CONFLICT = "ON CONFLICT ON CONSTRAINT loyalty_ledger_source_key DO NOTHING"
_SQLITE_CONFLICT = "ON CONFLICT (tenant_id, source, kind, line_no) DO NOTHING"


@dataclass(frozen=True)
class Entry:
    """One points movement to book (signed points, never 0)."""

    customer_id: str
    source: str
    kind: str
    points: int
    occurred_at: datetime
    line_no: int = 0
    sale_id: str | None = None
    branch_id: str | None = None
    box_id: str | None = None
    rules_version: int | None = None
    reason_code: str | None = None
    note: str | None = None
    actor: str = SYSTEM_ACTOR


def _row(tenant_id: str, e: Entry, now: datetime) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "customer_id": e.customer_id,
        "source": e.source,
        "kind": e.kind,
        "line_no": e.line_no,
        "points": e.points,
        "sale_id": e.sale_id,
        "branch_id": e.branch_id,
        "box_id": e.box_id,
        "rules_version": e.rules_version,
        "reason_code": e.reason_code,
        "note": e.note,
        "actor": e.actor,
        "occurred_at": e.occurred_at,
        "recorded_at": now,
    }


def book(tenant_id: str, entries: list[Entry]) -> list[Entry]:
    """Insert the entries whose (source, kind, line) is new, move the balances by exactly those,
    stamp the changed customers into the card directory; return the entries booked."""
    entries = [e for e in entries if e.points != 0]
    if not entries:
        return []
    now = utcnow()
    conflict = _PG_CONFLICT if is_postgres() else _SQLITE_CONFLICT
    inserted = insert_rows(
        LedgerRow,
        [_row(tenant_id, e, now) for e in entries],
        suffix=f"{conflict} RETURNING source, kind, line_no",
    )
    fresh = {(str(s), str(k), int(n)) for s, k, n in inserted}
    booked = [e for e in entries if (e.source, e.kind, e.line_no) in fresh]
    deltas: dict[str, int] = defaultdict(int)
    for e in booked:
        deltas[e.customer_id] += e.points
    _move_balances(tenant_id, deltas, now)
    directory.stamp(tenant_id, [c for c, d in deltas.items() if d])
    return booked


def _move_balances(tenant_id: str, deltas: dict[str, int], now: datetime) -> None:
    rows = [
        {"tenant_id": tenant_id, "customer_id": c, "points": d, "updated_at": now}
        for c, d in sorted(deltas.items())
    ]
    insert_rows(
        Balance,
        rows,
        suffix="ON CONFLICT (tenant_id, customer_id) DO UPDATE SET "
        "points = loyalty_balances.points + excluded.points, updated_at = excluded.updated_at",
    )


def balance(tenant_id: str, customer_id: str, *, lock: bool = False) -> int:
    """The running balance (optionally row-locked until the caller commits)."""
    query = Balance.select().where(
        Balance.tenant_id == tenant_id, Balance.customer_id == customer_id
    )
    if lock and is_postgres():
        query = query.for_update()
    row = query.first()
    return int(row.points) if row else 0


def ledger_sum(tenant_id: str, customer_id: str) -> int:
    """The SUM of a customer's ledger: what the running balance must equal."""
    total = (
        LedgerRow.select(fn.COALESCE(fn.SUM(LedgerRow.points), 0))
        .where(LedgerRow.tenant_id == tenant_id, LedgerRow.customer_id == customer_id)
        .scalar()
    )
    return int(total or 0)


def rows_of(tenant_id: str, customer_id: str) -> Any:
    """A customer's ledger rows as a query (caller orders and pages)."""
    return LedgerRow.select().where(
        LedgerRow.tenant_id == tenant_id, LedgerRow.customer_id == customer_id
    )


def sale_rows(tenant_id: str, sale_id: str) -> list[LedgerRow]:
    """Every ledger row of a sale (its earn, redemption and their reversals)."""
    return list(
        LedgerRow.select()
        .where(LedgerRow.tenant_id == tenant_id, LedgerRow.sale_id == sale_id)
        .order_by(LedgerRow.id)
    )


def entry_dict(row: LedgerRow) -> dict[str, Any]:
    """API view of one ledger row."""
    return {
        "id": row.id,
        "kind": row.kind,
        "points": int(row.points),
        "source": row.source,
        "line_no": row.line_no,
        "sale_id": row.sale_id,
        "branch_id": row.branch_id,
        "reason_code": row.reason_code,
        "note": row.note,
        "actor": row.actor,
        "occurred_at": row.occurred_at.isoformat(),
    }
