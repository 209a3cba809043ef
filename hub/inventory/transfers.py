"""Branch transfers (FR-203): requested → dispatched → received, or cancelled.

Rules:
* dispatch (source-branch roles): one `transfer_out` per line at the source for the
  dispatched qty (default: requested); the goods are then in transit to the destination.
* receive (destination-branch roles): one `transfer_in` per line at the destination for the
  received qty (default: dispatched); short/over is stored per line as
  `variance = received - dispatched`. The source is never adjusted beyond what it dispatched.
* cancel: from `requested` (either branch) writes nothing but the state; from `dispatched`
  (source branch only) books a compensating `transfer_in` of the dispatched qty back at the
  source (the goods return). A received transfer cannot be cancelled (409).
* Every step is one transaction (state + movements + result + audit) run through
  `inventory.run_operation`, so it is idempotent per key; repeating a step that already
  happened returns the transfer unchanged, and any other transition is 409 INVALID_TRANSITION.
"""

from __future__ import annotations

import uuid
from typing import Any

from hub.core.db import is_postgres, tenant_tx
from hub.core.models import utcnow
from hub.core.paging import PAGE_SIZE, paged
from hub.inventory import ledger
from hub.inventory.ledger import MovementSpec, format_qty, parse_qty
from hub.inventory.models import StockMovement, Transfer, TransferLine
from hub.inventory.service import Operation, run_operation, tenant_of
from posdomain.errors import Conflict, Forbidden, NotFound, Reason, ValidationError
from posdomain.permissions import Action, Principal, authorize

Result = tuple[dict[str, Any], list[StockMovement]]


def _fmt(milli: int | None) -> str | None:
    return None if milli is None else format_qty(milli)


def transfer_dict(t: Transfer) -> dict[str, Any]:
    """JSON form of a transfer with its lines (quantities as decimal strings)."""
    lines = TransferLine.select().where(TransferLine.transfer_id == t.id)
    stamps = ("requested", "dispatched", "received", "cancelled")
    out: dict[str, Any] = {
        "transfer_id": t.id,
        "state": t.state,
        "from_branch_id": t.from_branch_id,
        "to_branch_id": t.to_branch_id,
        "note": t.note,
        "cancel_reason": t.cancel_reason,
    }
    for stamp in stamps:
        at = getattr(t, f"{stamp}_at")
        out[f"{stamp}_by"], out[f"{stamp}_at"] = getattr(t, f"{stamp}_by"), at and at.isoformat()
    out["lines"] = [
        {
            "product_id": ln.product_id,
            "requested": format_qty(ln.requested_milli),
            "dispatched": _fmt(ln.dispatched_milli),
            "received": _fmt(ln.received_milli),
            "variance": _fmt(ln.variance_milli),
        }
        for ln in sorted(lines, key=lambda ln: ln.product_id)
    ]
    return out


def _lines(t: Transfer) -> list[TransferLine]:
    rows = TransferLine.select().where(TransferLine.transfer_id == t.id)
    return sorted(rows, key=lambda ln: ln.product_id)


def _load(tenant_id: str, transfer_id: str, lock: bool = False) -> Transfer:
    query = Transfer.select().where(Transfer.id == transfer_id, Transfer.tenant_id == tenant_id)
    if lock and is_postgres():
        query = query.for_update()
    transfer = query.first()
    if transfer is None:
        raise NotFound("no such transfer")
    return transfer  # type: ignore[no-any-return]


def _authorize_any(principal: Principal, branch_ids: list[str]) -> None:
    """Allowed if the principal may transfer for at least one of the branches."""
    denied: Forbidden | None = None
    for branch_id in branch_ids:
        try:
            authorize(
                principal, Action.TRANSFER, tenant_id=principal.tenant_id, branch_id=branch_id
            )
            return
        except Forbidden as err:
            denied = err
    assert denied is not None
    raise denied


def _checked(principal: Principal, transfer_id: str, side: str) -> Transfer:
    """The transfer, after checking the caller holds TRANSFER on `side` ('from'/'to'/'any')."""
    with tenant_tx(tenant_of(principal)):
        t = _load(tenant_of(principal), transfer_id)
    sides = {"from": [t.from_branch_id], "to": [t.to_branch_id]}
    _authorize_any(principal, sides.get(side, [t.from_branch_id, t.to_branch_id]))
    return t


def _quantities(
    lines: list[TransferLine], given: list[dict[str, str]] | None, field: str
) -> dict[str, int]:
    """Per product the qty of this step: the client's, else the line's `field`."""
    default = {ln.product_id: int(getattr(ln, field) or 0) for ln in lines}
    if given is None:
        return default
    out = dict(default)
    for item in given:
        if item["product_id"] not in default:
            raise ValidationError(
                "product is not on the transfer",
                Reason.VALIDATION_FAILED,
                {"product_id": item["product_id"]},
            )
        out[item["product_id"]] = parse_qty(item["qty"])
    if min(out.values(), default=0) < 0:
        raise ValidationError("quantities must not be negative", Reason.INVALID_QUANTITY)
    return out


def _invalid(t: Transfer, step: str) -> Conflict:
    return Conflict(
        f"cannot {step} a {t.state} transfer",
        Reason.INVALID_TRANSITION,
        {"transfer_id": t.id, "state": t.state, "step": step},
    )


def _move(
    principal: Principal, branch_id: str, qty: dict[str, int], kind: str, t: Transfer, key: str
) -> list[StockMovement]:
    sign = -1 if kind == "transfer_out" else 1
    reason = "TRANSFER_CANCELLED" if t.state == "cancelled" else None
    specs = [
        MovementSpec(branch_id, pid, sign * q, kind, reason, f"transfer:{t.id}")
        for pid, q in sorted(qty.items())
        if q
    ]
    return ledger.write_movements(tenant_of(principal), specs, key, principal.actor)


def request(
    principal: Principal,
    key: str,
    from_branch_id: str,
    to_branch_id: str,
    lines: list[dict[str, str]],
    note: str = "",
) -> dict[str, Any]:
    """Create a transfer in state `requested` (either branch's roles may ask)."""
    _authorize_any(principal, [from_branch_id, to_branch_id])
    tenant_id = tenant_of(principal)
    qty = {ln["product_id"]: parse_qty(ln["qty"]) for ln in lines}
    if (
        from_branch_id == to_branch_id
        or len(qty) != len(lines)
        or min(qty.values(), default=0) <= 0
    ):
        raise ValidationError(
            "two different branches and one positive qty per product", Reason.VALIDATION_FAILED
        )
    body = {"from": from_branch_id, "to": to_branch_id, "lines": lines, "note": note}
    op = Operation("transfer_request", key, body, from_branch_id, f"branch:{from_branch_id}")

    def effect() -> Result:
        for branch_id in (from_branch_id, to_branch_id):
            ledger.require_branch(tenant_id, branch_id)
        ledger.require_products(tenant_id, qty)
        t = Transfer.create(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            from_branch_id=from_branch_id,
            to_branch_id=to_branch_id,
            state="requested",
            note=note,
            requested_by=principal.actor,
        )
        for pid, milli in sorted(qty.items()):
            TransferLine.create(
                transfer_id=t.id, tenant_id=tenant_id, product_id=pid, requested_milli=milli
            )
        return transfer_dict(t), []

    return run_operation(principal, op, effect)


def dispatch(
    principal: Principal, transfer_id: str, key: str, lines: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """Ship a requested transfer: `transfer_out` at the source for the dispatched qty."""
    _checked(principal, transfer_id, "from")
    op = Operation(
        "transfer_dispatch",
        key,
        {"id": transfer_id, "lines": lines},
        None,
        f"transfer:{transfer_id}",
    )

    def effect() -> Result:
        t = _load(tenant_of(principal), transfer_id, lock=True)
        if t.state == "dispatched":
            return transfer_dict(t), []
        if t.state != "requested":
            raise _invalid(t, "dispatch")
        qty = _quantities(_lines(t), lines, "requested_milli")
        moves = _move(principal, t.from_branch_id, qty, "transfer_out", t, key)
        for pid, milli in qty.items():
            TransferLine.update(dispatched_milli=milli).where(
                TransferLine.transfer_id == t.id, TransferLine.product_id == pid
            ).execute()
        t.state, t.dispatched_by, t.dispatched_at = "dispatched", principal.actor, utcnow()
        t.save()
        return transfer_dict(t), moves

    return run_operation(principal, op, effect)


def receive(
    principal: Principal, transfer_id: str, key: str, lines: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """Take a dispatched transfer in: `transfer_in` at the destination, variance per line."""
    _checked(principal, transfer_id, "to")
    op = Operation(
        "transfer_receive",
        key,
        {"id": transfer_id, "lines": lines},
        None,
        f"transfer:{transfer_id}",
    )

    def effect() -> Result:
        t = _load(tenant_of(principal), transfer_id, lock=True)
        if t.state == "received":
            return transfer_dict(t), []
        if t.state != "dispatched":
            raise _invalid(t, "receive")
        current = _lines(t)
        qty = _quantities(current, lines, "dispatched_milli")
        moves = _move(principal, t.to_branch_id, qty, "transfer_in", t, key)
        for ln in current:
            got = qty[ln.product_id]
            TransferLine.update(
                received_milli=got, variance_milli=got - int(ln.dispatched_milli or 0)
            ).where(
                TransferLine.transfer_id == t.id, TransferLine.product_id == ln.product_id
            ).execute()
        t.state, t.received_by, t.received_at = "received", principal.actor, utcnow()
        t.save()
        return transfer_dict(t), moves

    return run_operation(principal, op, effect)


def cancel(principal: Principal, transfer_id: str, key: str, reason: str) -> dict[str, Any]:
    """Cancel a requested transfer, or a dispatched one with the goods booked back at source."""
    _checked(principal, transfer_id, "any")
    op = Operation(
        "transfer_cancel",
        key,
        {"id": transfer_id, "reason": reason},
        None,
        f"transfer:{transfer_id}",
    )

    def effect() -> Result:
        t = _load(tenant_of(principal), transfer_id, lock=True)
        if t.state == "cancelled":
            return transfer_dict(t), []
        if t.state not in ("requested", "dispatched"):
            raise _invalid(t, "cancel")
        moves: list[StockMovement] = []
        was_dispatched = t.state == "dispatched"
        t.state, t.cancelled_by, t.cancelled_at = "cancelled", principal.actor, utcnow()
        t.cancel_reason = reason
        if was_dispatched:
            _authorize_any(principal, [t.from_branch_id])
            qty = _quantities(_lines(t), None, "dispatched_milli")
            moves = _move(principal, t.from_branch_id, qty, "transfer_in", t, key)
        t.save()
        return transfer_dict(t), moves

    return run_operation(principal, op, effect)


def get_transfer(tenant_id: str, branches: list[str] | None, transfer_id: str) -> dict[str, Any]:
    """One transfer (404 if another tenant's or none of the caller's branches is on it)."""
    with tenant_tx(tenant_id):
        t = _load(tenant_id, transfer_id)
        if branches is not None and not {t.from_branch_id, t.to_branch_id} & set(branches):
            raise NotFound("no such transfer")
        return transfer_dict(t)


def list_transfers(
    tenant_id: str, branches: list[str] | None, state: str | None, page: int
) -> dict[str, Any]:
    """One page of transfers touching the caller's branches, newest first."""
    page = max(page, 1)
    with tenant_tx(tenant_id):
        query = Transfer.select().where(Transfer.tenant_id == tenant_id)
        if branches is not None:
            query = query.where(
                Transfer.from_branch_id.in_(branches) | Transfer.to_branch_id.in_(branches)
            )
        if state:
            query = query.where(Transfer.state == state)
        total = query.count()
        rows = query.order_by(Transfer.requested_at.desc(), Transfer.id).paginate(page, PAGE_SIZE)
        items = [transfer_dict(t) for t in rows]
    return paged(items, page, total, PAGE_SIZE)
