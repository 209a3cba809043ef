"""Stock operations (FR-201): receive, adjust, waste, count; box sales; on hand and history.

Every operation runs in ONE tenant transaction: idempotency-key claim, movements, alert
evaluation, the stored result and the audit entry commit together or not at all. The same
idempotency key returns the stored result and writes nothing (`"replayed": true`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from peewee import fn

from hub.core.db import tenant_tx
from hub.core.paging import PAGE_SIZE, paged
from hub.governance import audit
from hub.inventory import alerts, ledger
from hub.inventory.ledger import MovementSpec, format_qty, parse_qty
from hub.inventory.models import ReorderPoint, StockMovement, Transfer, TransferLine
from posdomain.errors import Forbidden, Reason, ValidationError
from posdomain.permissions import Principal

Effect = Callable[[], tuple[dict[str, Any], list[StockMovement]]]


class StockReason(StrEnum):
    """Reason codes an adjustment or waste entry must carry."""

    DAMAGE = "DAMAGE"
    THEFT = "THEFT"
    FOUND = "FOUND"
    ADMIN_CORRECTION = "ADMIN_CORRECTION"
    EXPIRED = "EXPIRED"
    SPOILED = "SPOILED"
    RECALL = "RECALL"
    SUPPLIER_RETURN = "SUPPLIER_RETURN"


@dataclass(frozen=True)
class Operation:
    """One idempotent request: its kind, client key, the request that the key must match."""

    kind: str
    key: str
    request: dict[str, Any]
    branch_id: str | None
    target: str


def tenant_of(principal: Principal) -> str:
    """The principal's tenant (inventory is never a platform-level action)."""
    if principal.tenant_id is None:
        raise Forbidden("inventory needs a tenant principal", Reason.FORBIDDEN_TENANT)
    return principal.tenant_id


def run_operation(principal: Principal, op: Operation, effect: Effect) -> dict[str, Any]:
    """Run `effect` once per idempotency key, atomically with its alerts, result and audit."""
    tenant_id = tenant_of(principal)
    fingerprint = ledger.request_hash(op.kind, op.request)
    with alerts.deliver_after_commit(), tenant_tx(tenant_id):
        stored = ledger.claim_key(tenant_id, op.key, op.kind, fingerprint)
        if stored is not None:
            return stored
        result, movements = effect()
        alerts.evaluate(tenant_id, [(m.branch_id, m.product_id) for m in movements])
        ledger.store_result(
            tenant_id, op.key, op.kind, fingerprint, op.branch_id, result, principal.actor
        )
        branches = {op.branch_id, result.get("from_branch_id"), result.get("to_branch_id")}
        details = {
            "branch_id": op.branch_id,
            "branch_ids": sorted(b for b in branches if b),
            "idempotency_key": op.key,
            "movements": [m.id for m in movements],
            **{k: v for k, v in result.items() if k in ("transfer_id", "state", "count_id")},
        }
        audit.record(principal, f"stock.{op.kind}", op.target, details=details)
    return result


def _movements_effect(
    tenant_id: str, op: Operation, specs: list[MovementSpec], actor: str
) -> Effect:
    def effect() -> tuple[dict[str, Any], list[StockMovement]]:
        ledger.require_branch(tenant_id, op.branch_id or "")
        ledger.require_products(tenant_id, [s.product_id for s in specs])
        moves = ledger.write_movements(tenant_id, specs, op.key, actor)
        result = {
            "kind": op.kind,
            "branch_id": op.branch_id,
            "movements": [ledger.movement_dict(m) for m in moves],
        }
        return result, moves

    return effect


def _positive(qty: str) -> int:
    milli = parse_qty(qty)
    if milli <= 0:
        raise ValidationError("qty must be greater than zero", Reason.INVALID_QUANTITY)
    return milli


def _reason(code: str | None) -> str:
    try:
        return str(StockReason(code or ""))
    except ValueError as err:
        raise ValidationError(
            "a reason code from the fixed list is required",
            Reason.REASON_REQUIRED,
            {"allowed": [r.value for r in StockReason]},
        ) from err


def receive(
    principal: Principal,
    branch_id: str,
    key: str,
    lines: list[dict[str, str]],
    supplier_ref: str | None = None,
) -> dict[str, Any]:
    """Goods in from a supplier: one positive `receipt` movement per line."""
    request = {"branch_id": branch_id, "lines": lines, "supplier_ref": supplier_ref}
    op = Operation("receipt", key, request, branch_id, f"branch:{branch_id}")
    ref = supplier_ref or f"receipt:{key}"
    specs = [
        MovementSpec(branch_id, ln["product_id"], _positive(ln["qty"]), "receipt", ref=ref)
        for ln in lines
    ]
    effect = _movements_effect(tenant_of(principal), op, specs, principal.actor)
    return run_operation(principal, op, effect)


def adjust(
    principal: Principal, branch_id: str, key: str, lines: list[dict[str, str]]
) -> dict[str, Any]:
    """Signed corrections with a reason code each (`adjustment` movements; zero is refused)."""
    request = {"branch_id": branch_id, "lines": lines}
    op = Operation("adjustment", key, request, branch_id, f"branch:{branch_id}")
    specs = []
    for ln in lines:
        milli = parse_qty(ln["qty"])
        if milli == 0:
            raise ValidationError("an adjustment of zero changes nothing", Reason.INVALID_QUANTITY)
        reason = _reason(ln.get("reason_code"))
        specs.append(MovementSpec(branch_id, ln["product_id"], milli, "adjustment", reason, key))
    return run_operation(
        principal, op, _movements_effect(tenant_of(principal), op, specs, principal.actor)
    )


def waste(
    principal: Principal, branch_id: str, key: str, lines: list[dict[str, str]]
) -> dict[str, Any]:
    """Written-off stock: the positive qty given is booked as a negative `waste` movement."""
    request = {"branch_id": branch_id, "lines": lines}
    op = Operation("waste", key, request, branch_id, f"branch:{branch_id}")
    specs = [
        MovementSpec(
            branch_id,
            ln["product_id"],
            -_positive(ln["qty"]),
            "waste",
            _reason(ln.get("reason_code")),
            key,
        )
        for ln in lines
    ]
    return run_operation(
        principal, op, _movements_effect(tenant_of(principal), op, specs, principal.actor)
    )


def _count_lines(counted: dict[str, int], before: dict[str, int]) -> list[dict[str, str]]:
    return [
        {
            "product_id": p,
            "counted": format_qty(counted[p]),
            "on_hand_before": format_qty(before[p]),
            "difference": format_qty(counted[p] - before[p]),
        }
        for p in sorted(counted)
    ]


def count(
    principal: Principal, branch_id: str, key: str, lines: list[dict[str, str]]
) -> dict[str, Any]:
    """A stock count: per product one `count` movement of (counted - on hand), computed under
    the (branch, product) stock lock so a sale landing concurrently is never lost."""
    tenant_id = tenant_of(principal)
    counted = {ln["product_id"]: parse_qty(ln["counted"], "counted") for ln in lines}
    if len(counted) != len(lines) or min(counted.values(), default=0) < 0:
        raise ValidationError("one non-negative count per product", Reason.INVALID_QUANTITY)
    request = {"branch_id": branch_id, "lines": lines}
    op = Operation("count", key, request, branch_id, f"branch:{branch_id}")

    def effect() -> tuple[dict[str, Any], list[StockMovement]]:
        ledger.require_branch(tenant_id, branch_id)
        ledger.require_products(tenant_id, counted)
        ledger.lock_stock(tenant_id, [(branch_id, p) for p in counted])
        count_id = str(uuid.uuid4())
        before = {p: ledger.on_hand(tenant_id, branch_id, p) for p in sorted(counted)}
        specs = [
            MovementSpec(branch_id, p, counted[p] - before[p], "count", ref=count_id)
            for p in sorted(counted)
        ]
        moves = ledger.write_movements(tenant_id, specs, key, principal.actor)
        result: dict[str, Any] = {"kind": "count", "branch_id": branch_id, "count_id": count_id}
        result["lines"] = _count_lines(counted, before)
        result["movements"] = [ledger.movement_dict(m) for m in moves]
        return result, moves

    return run_operation(principal, op, effect)


def _page(query: Any, page: int, order: list[Any]) -> tuple[int, list[Any], int]:
    page = max(page, 1)
    total = query.count()
    rows = list(query.order_by(*order).paginate(page, PAGE_SIZE))
    return total, rows, page


def _extras(tenant_id: str, keys: list[tuple[str, str]]) -> tuple[dict[Any, int], dict[Any, int]]:
    """Reorder points and incoming in-transit quantities for the (branch, product) keys."""
    branches = sorted({b for b, _p in keys}) or [""]
    products = sorted({p for _b, p in keys}) or [""]
    points = {
        (r.branch_id, r.product_id): r.reorder_point_milli
        for r in ReorderPoint.select().where(
            ReorderPoint.branch_id.in_(branches), ReorderPoint.product_id.in_(products)
        )
    }
    transit_rows: Any = (
        TransferLine.select(
            Transfer.to_branch_id, TransferLine.product_id, fn.SUM(TransferLine.dispatched_milli)
        )
        .join(Transfer, on=(Transfer.id == TransferLine.transfer_id))
        .where(Transfer.state == "dispatched", Transfer.to_branch_id.in_(branches))
        .group_by(Transfer.to_branch_id, TransferLine.product_id)
        .tuples()
    )
    transit = {(b, p): int(q or 0) for b, p, q in transit_rows}
    return points, transit


def list_on_hand(
    tenant_id: str, branches: list[str] | None, product_id: str | None, page: int
) -> dict[str, Any]:
    """One page of on hand per (branch, product) — the ledger sum — with reorder point and
    the quantity dispatched to the branch but not yet received (in transit)."""
    total_qty = fn.SUM(StockMovement.qty_milli).alias("qty_milli")
    with tenant_tx(tenant_id):
        query = StockMovement.select(
            StockMovement.branch_id, StockMovement.product_id, total_qty
        ).where(StockMovement.tenant_id == tenant_id)
        if branches is not None:
            query = query.where(StockMovement.branch_id.in_(branches))
        if product_id:
            query = query.where(StockMovement.product_id == product_id)
        query = query.group_by(StockMovement.branch_id, StockMovement.product_id)
        order = [StockMovement.branch_id, StockMovement.product_id]
        total, rows, page = _page(query, page, order)
        points, transit = _extras(tenant_id, [(r.branch_id, r.product_id) for r in rows])
    items = []
    for r in rows:
        key, point = (r.branch_id, r.product_id), points.get((r.branch_id, r.product_id))
        items.append(
            {
                "branch_id": r.branch_id,
                "product_id": r.product_id,
                "on_hand": format_qty(int(r.qty_milli)),
                "reorder_point": None if point is None else format_qty(point),
                "below_reorder_point": point is not None and int(r.qty_milli) < point,
                "in_transit": format_qty(transit.get(key, 0)),
            }
        )
    return paged(items, page, total)


def history(tenant_id: str, branch_id: str, product_id: str, page: int) -> dict[str, Any]:
    """One page of a product's movements at a branch, newest first, with its on hand
    (404 UNKNOWN_PRODUCT for a product not in the tenant's catalog, another tenant's too)."""
    with tenant_tx(tenant_id):
        ledger.require_products(tenant_id, [product_id])
        query = StockMovement.select().where(
            StockMovement.tenant_id == tenant_id,
            StockMovement.branch_id == branch_id,
            StockMovement.product_id == product_id,
        )
        order = [StockMovement.recorded_at.desc(), StockMovement.id]
        total, rows, page = _page(query, page, order)
        stock = ledger.on_hand(tenant_id, branch_id, product_id)
    out = paged([ledger.movement_dict(m) for m in rows], page, total)
    return {**out, "branch_id": branch_id, "product_id": product_id, "on_hand": format_qty(stock)}
