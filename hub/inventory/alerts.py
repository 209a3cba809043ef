"""Low-stock alerts (FR-202): one alert per crossing below the reorder point, re-armed on recovery.

`evaluate` runs inside the transaction that wrote the movements (the stock lock of every
touched (branch, product) is already held, so two writers cannot both see the crossing).
Alerts are stored in that transaction and handed to the alert channel only after the
commit (`deliver_after_commit`), so a rolled-back movement never pages anyone.

Low stock is also one rule of the general alerting (FR-501, `hub.alerting`): the crossing
opens the `LOW_STOCK` alert of key `low_stock:{branch}:{product}` in the same transaction
(queued to the tenant's channels), recovery resolves it, acknowledging acknowledges it.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hub.alerting import store as alerting
from hub.alerting.store import AlertSpec
from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.core.paging import PAGE_SIZE, paged
from hub.governance import audit
from hub.integrations import events as webhooks
from hub.inventory.alert_channels import current_channel
from hub.inventory.ledger import (
    StockKey,
    format_qty,
    lock_stock,
    on_hand_many,
    parse_qty,
    require_branch,
    require_products,
)
from hub.inventory.models import ReorderPoint, StockAlert, StockAlertState
from posdomain.errors import NotFound
from posdomain.permissions import Principal

LOW_STOCK = "LOW_STOCK"
_pending: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "cfpos_pending_alerts", default=None
)


@contextmanager
def deliver_after_commit() -> Iterator[None]:
    """Collect alerts raised inside the block; send them only if the block exits normally.

    Put it outside the transaction (`with deliver_after_commit(), tenant_tx(t):`) so the
    commit has happened when the alerts are sent.
    """
    token = _pending.set([])
    try:
        yield
        ready = list(_pending.get() or [])
    finally:
        _pending.reset(token)
    channel = current_channel()
    for alert in ready:
        channel.send(alert)


def alert_dict(a: StockAlert) -> dict[str, Any]:
    """JSON form of a stock alert."""
    return {
        "id": a.id,
        "kind": a.kind,
        "severity": a.severity,
        "tenant_id": a.tenant_id,
        "branch_id": a.branch_id,
        "product_id": a.product_id,
        "on_hand": format_qty(a.on_hand_milli),
        "reorder_point": format_qty(a.reorder_point_milli),
        "created_at": a.created_at.isoformat(),
        "acknowledged_at": a.acknowledged_at.isoformat() if a.acknowledged_at else None,
        "acknowledged_by": a.acknowledged_by,
    }


def _alert_key(key: StockKey) -> str:
    return f"low_stock:{key[0]}:{key[1]}"


def _raise_alert(tenant_id: str, key: StockKey, stock: int, point: int) -> None:
    alert = StockAlert.create(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        branch_id=key[0],
        product_id=key[1],
        kind=LOW_STOCK,
        severity="WARN",
        on_hand_milli=stock,
        reorder_point_milli=point,
    )
    spec = AlertSpec(
        rule=LOW_STOCK,
        key=_alert_key(key),
        severity="WARN",
        summary=f"{key[1]} below its reorder point in {key[0]}",
        details={"on_hand": format_qty(stock), "reorder_point": format_qty(point)},
        branch_id=key[0],
    )
    alerting.raise_alert(tenant_id, spec)
    webhooks.emit(tenant_id, webhooks.STOCK_BELOW_REORDER, alert.id, alert_dict(alert))
    pending = _pending.get()
    if pending is None:  # no caller collecting: deliver now (the write already happened)
        current_channel().send(alert_dict(alert))
    else:
        pending.append(alert_dict(alert))


def _rows_for(model: Any, tenant_id: str, keys: list[StockKey]) -> dict[StockKey, Any]:
    """The model's rows of `keys` in one query (keyed by (branch, product))."""
    branches = sorted({b for b, _p in keys})
    products = sorted({p for _b, p in keys})
    query = model.select().where(
        model.tenant_id == tenant_id,
        model.branch_id.in_(branches),
        model.product_id.in_(products),
    )
    return {(r.branch_id, r.product_id): r for r in query}


@dataclass
class Watch:
    """The reorder points and alert states of some (branch, product) keys, read up front."""

    tenant_id: str
    points: dict[StockKey, Any]
    states: dict[StockKey, Any]


def watch(tenant_id: str, keys: Iterable[StockKey]) -> Watch:
    """Read the reorder points and alert states of `keys` (two queries, none for no keys)."""
    wanted = sorted(set(keys))
    if not wanted:
        return Watch(tenant_id, {}, {})
    points = _rows_for(ReorderPoint, tenant_id, wanted)
    states = _rows_for(StockAlertState, tenant_id, wanted)
    return Watch(tenant_id, points, states)


def evaluate(tenant_id: str, keys: Iterable[StockKey]) -> None:
    """Check every touched (branch, product) for a crossing (caller's transaction).

    Set-based: the reorder points, alert states and running balances of all the keys are
    read in three queries; only a key whose below/above state changed is written.
    """
    seen = watch(tenant_id, keys)
    armed = sorted({*seen.points, *seen.states})
    if armed:
        evaluate_watched(seen, on_hand_many(tenant_id, armed))


def evaluate_watched(seen: Watch, stock: dict[StockKey, int]) -> None:
    """`evaluate` with the rows read by `watch` and on hand known to the caller (`stock`:
    the balances of every key it touched, under their stock locks); no read of its own."""
    tenant_id = seen.tenant_id
    armed = sorted(k for k in stock if k in seen.points or k in seen.states)
    for key in armed:
        point, state = seen.points.get(key), seen.states.get(key)
        was_below = bool(state and state.below)
        threshold = None if point is None else int(point.reorder_point_milli)
        below = threshold is not None and stock[key] < threshold
        if below == was_below:
            continue
        if threshold is not None and below:
            _raise_alert(tenant_id, key, stock[key], threshold)
        else:
            alerting.resolve_key(tenant_id, _alert_key(key))
        branch_id, product_id = key
        if state is None:
            StockAlertState.create(
                tenant_id=tenant_id, branch_id=branch_id, product_id=product_id, below=below
            )
        else:
            StockAlertState.update(below=below, changed_at=utcnow()).where(
                StockAlertState.tenant_id == tenant_id,
                StockAlertState.branch_id == branch_id,
                StockAlertState.product_id == product_id,
            ).execute()


def set_reorder_point(
    principal: Principal, branch_id: str, product_id: str, point_text: str
) -> dict[str, Any]:
    """Create or change a reorder point (audited) and evaluate the product right away."""
    tenant_id = principal.tenant_id or ""
    point = parse_qty(point_text, "reorder_point")
    with deliver_after_commit(), tenant_tx(tenant_id):
        require_branch(tenant_id, branch_id)
        require_products(tenant_id, [product_id])
        lock_stock(tenant_id, [(branch_id, product_id)])
        ReorderPoint.insert(
            tenant_id=tenant_id,
            branch_id=branch_id,
            product_id=product_id,
            reorder_point_milli=max(point, 0),
            updated_by=principal.actor,
            updated_at=utcnow(),
        ).on_conflict(
            conflict_target=[
                ReorderPoint.tenant_id,
                ReorderPoint.branch_id,
                ReorderPoint.product_id,
            ],
            update={
                ReorderPoint.reorder_point_milli: max(point, 0),
                ReorderPoint.updated_by: principal.actor,
                ReorderPoint.updated_at: utcnow(),
            },
        ).execute()
        evaluate(tenant_id, [(branch_id, product_id)])
        details = {"branch_id": branch_id, "product_id": product_id, "reorder_point": point_text}
        audit.record(principal, "stock.reorder_point", f"branch:{branch_id}", details=details)
    return {"branch_id": branch_id, "product_id": product_id, "reorder_point": format_qty(point)}


def list_alerts(
    tenant_id: str, branches: list[str] | None, page: int, open_only: bool = True
) -> dict[str, Any]:
    """One page of stock alerts, newest first (branch roles: their branches)."""
    page = max(page, 1)
    with tenant_tx(tenant_id):
        query = StockAlert.select().where(StockAlert.tenant_id == tenant_id)
        if branches is not None:
            query = query.where(StockAlert.branch_id.in_(branches))
        if open_only:
            query = query.where(StockAlert.acknowledged_at.is_null())
        total = query.count()
        rows = query.order_by(StockAlert.created_at.desc(), StockAlert.id).paginate(page, PAGE_SIZE)
        items = [alert_dict(a) for a in rows]
    return paged(items, page, total, PAGE_SIZE)


def acknowledge(principal: Principal, branches: list[str] | None, alert_id: str) -> dict[str, Any]:
    """Acknowledge an open alert (idempotent: acknowledging twice keeps the first ack)."""
    tenant_id = principal.tenant_id or ""
    with tenant_tx(tenant_id):
        alert = StockAlert.get_or_none(StockAlert.id == alert_id, StockAlert.tenant_id == tenant_id)
        if alert is None or (branches is not None and alert.branch_id not in branches):
            raise NotFound("no such alert")
        if alert.acknowledged_at is None:
            alert.acknowledged_at, alert.acknowledged_by = utcnow(), principal.actor
            alert.save()
            details = {"branch_id": alert.branch_id, "product_id": alert.product_id}
            audit.record(principal, "stock.alert_ack", f"alert:{alert.id}", details=details)
            alerting.acknowledge_key(principal, _alert_key((alert.branch_id, alert.product_id)))
        return alert_dict(alert)
