"""Box events that move stock (FR-201 via FR-303), applied inside ingest's batch transaction.

* `sale.completed`: one negative `sale` movement per line, `source_event_id` = event id.
* `stock.movement`: a movement the box booked itself (waste at the till, a refund back to
  the shelf, a delivery taken in at the store). Payload:
  `{"movement_id": str, "product_id": str, "qty": "-1.5", "kind": "refund"|"receipt"|
  "adjustment"|"waste"|"count", "reason_code": str|null, "ref": str|null,
  "occurred_at": iso8601}` where `qty` is the signed change of stock on hand.

Both are keyed by the event id (`event:<event_id>#n` idempotency keys, unique per tenant),
so a batch delivered twice never counts twice even if ingest's own dedup were bypassed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from hub.inventory import alerts, ledger
from hub.inventory.ledger import MovementSpec
from hub.inventory.models import StockMovement
from hub.inventory.service import StockReason
from posdomain.errors import Reason, ValidationError
from posdomain.wire import Id, Name, Number, WireTime

_SIGN = {"refund": 1, "receipt": 1, "waste": -1}  # kinds whose direction is fixed


class BoxMovementIn(BaseModel):
    """A `stock.movement` payload from a box."""

    model_config = ConfigDict(extra="ignore")

    movement_id: Id
    product_id: Id
    qty: Number
    kind: Literal["refund", "receipt", "adjustment", "waste", "count"]
    reason_code: StockReason | None = None
    ref: Name | None = None
    occurred_at: WireTime


def _already_booked(tenant_id: str, event_id: str) -> bool:
    return (
        StockMovement.select()
        .where(StockMovement.tenant_id == tenant_id, StockMovement.source_event_id == event_id)
        .exists()
    )


@dataclass(frozen=True)
class SaleStock:
    """The stock side of one box sale: (product_id, signed qty in thousandths) per line."""

    event_id: str
    sale_id: str
    lines: list[tuple[str, int]]
    occurred_at: datetime


@dataclass
class SalesPlan:
    """A run of box sales with the stock read for them under the stock locks (`plan_sales`),
    before anything of the run is written."""

    tenant_id: str
    branch_id: str
    sales: list[SaleStock]
    booked: set[str]
    running: dict[str, int]  # on hand (thousandths) per product, moved on by `book_sales`
    watch: alerts.Watch


def plan_sales(
    tenant_id: str, branch_id: str, sales: list[SaleStock], *, fresh: bool = True
) -> SalesPlan:
    """Lock the run's stock and read what booking it needs: on hand of every product, the
    reorder points and alert states (no read is left for `book_sales`, whose inserts may
    then run on the writer thread while the next rows are built).

    `fresh`: every sale's `sales` row is new in this transaction (ingest's `sale_rows.write`:
    the sale's id and event id are unique), so none of them can have been booked before and
    booked events are not looked up. The `event:<id>#n` idempotency keys stay unique per
    tenant (a movement booked twice would fail the batch, never count twice)."""
    booked = set() if fresh or not sales else _booked(tenant_id, [s.event_id for s in sales])
    keys = sorted({(branch_id, pid) for s in sales for pid, _q in s.lines})
    if keys:
        ledger.lock_stock(tenant_id, keys)
    running = {pid: q for (_b, pid), q in ledger.on_hand_many(tenant_id, keys).items()}
    return SalesPlan(tenant_id, branch_id, sales, booked, running, alerts.watch(tenant_id, keys))


def book_sales(plan: SalesPlan) -> list[dict[str, int]]:
    """Book a planned run as `sale` movements, one per line, in one multi-row insert.

    Returns, per sale, on hand (thousandths) of its products right after its own movements,
    computed from the running balances read under the stock locks: what a sale-by-sale
    booking would have seen. Low-stock alerts are evaluated once for every touched product,
    against the balances the run leaves."""
    branch_id, running = plan.branch_id, plan.running
    items: list[tuple[MovementSpec, str, str]] = []
    after: list[dict[str, int]] = []
    for sale in plan.sales:
        if sale.event_id not in plan.booked:
            for n, (pid, milli) in enumerate(sale.lines, 1):
                spec = MovementSpec(
                    branch_id,
                    pid,
                    milli,
                    "sale",
                    None,
                    sale.sale_id,
                    sale.occurred_at,
                    sale.event_id,
                )
                items.append((spec, f"event:{sale.event_id}#{n}", f"sale:{sale.sale_id}"))
                running[pid] += milli
        after.append({pid: running[pid] for pid, _q in sale.lines})
    ledger.book_movements_keyed(plan.tenant_id, items, locked=True)  # locked by plan_sales
    touched = {(s.branch_id, s.product_id) for s, _k, _a in items}
    alerts.evaluate_watched(plan.watch, {k: running[k[1]] for k in touched})
    return after


def record_sales(
    tenant_id: str, branch_id: str, sales: list[SaleStock], *, fresh: bool = False
) -> list[dict[str, int]]:
    """Book box sales (in seq order): `plan_sales` then `book_sales` (`fresh`: see there)."""
    if not sales:
        return []
    return book_sales(plan_sales(tenant_id, branch_id, sales, fresh=fresh))


def _booked(tenant_id: str, event_ids: list[str]) -> set[str]:
    """The event ids that already have movements (never book an event twice)."""
    query = StockMovement.select(StockMovement.source_event_id).where(
        StockMovement.tenant_id == tenant_id, StockMovement.source_event_id.in_(event_ids)
    )
    return {str(r.source_event_id) for r in query.distinct()}


def record_box_movement(
    tenant_id: str, branch_id: str, box_id: str, event_id: str, body: BoxMovementIn
) -> list[StockMovement]:
    """Book one `stock.movement` event (400 INVALID_QUANTITY / REASON_REQUIRED when wrong)."""
    if _already_booked(tenant_id, event_id):
        return []
    milli = ledger.parse_qty(body.qty)
    sign = _SIGN.get(body.kind)
    wrong_sign = sign is not None and milli * sign <= 0
    if wrong_sign or (milli == 0 and body.kind == "adjustment"):
        raise ValidationError(
            f"qty {body.qty} has the wrong sign for {body.kind}", Reason.INVALID_QUANTITY
        )
    if body.kind in ledger.REASON_REQUIRED_KINDS and body.reason_code is None:
        raise ValidationError(f"{body.kind} needs a reason code", Reason.REASON_REQUIRED)
    spec = MovementSpec(
        branch_id,
        body.product_id,
        milli,
        body.kind,
        None if body.reason_code is None else str(body.reason_code),
        body.ref or f"box-movement:{body.movement_id}",
        body.occurred_at,
        event_id,
    )
    moves = ledger.write_movements(tenant_id, [spec], f"event:{event_id}", f"box:{box_id}")
    alerts.evaluate(tenant_id, [(branch_id, body.product_id)])
    return moves
