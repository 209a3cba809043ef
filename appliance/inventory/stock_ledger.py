"""The box stock ledger (FR-201): append-only movements, on hand derived from them.

* A sale writes one negative `sale` movement per line in the sale's own transaction. The hub
  derives its sale movements from `sale.completed`, so these are never sent separately.
* Receive, adjust (reason code), count (the difference to the ledger) and waste (reason code)
  are booked here and each is queued as a `stock.movement` event in the same transaction
  (payload of hub/services/stock_events.py: qty = signed change of stock on hand).
* Corrections are new movements: the table refuses UPDATE and DELETE (triggers).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

from peewee import fn

from appliance.audit import log as audit_log
from appliance.catalog import products
from appliance.catalog.models import Product
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import insert_rows, write_txn
from appliance.identity.models import Staff
from appliance.inventory.models import StockMovement
from appliance.sync import outbox
from posdomain.contract import EventType
from posdomain.errors import NotFound, Reason, ValidationError

MILLI = Decimal(1000)
# the hub's fixed list (hub/services/inventory.py StockReason); the hub re-checks it
REASON_CODES = (
    "DAMAGE",
    "THEFT",
    "FOUND",
    "ADMIN_CORRECTION",
    "EXPIRED",
    "SPOILED",
    "RECALL",
    "SUPPLIER_RETURN",
)
BoxKind = Literal["receipt", "adjustment", "count", "waste"]


def _milli(qty: Decimal) -> int:
    return int(qty * MILLI)


def qty_text(milli: int) -> str:
    """A quantity in thousandths as a decimal string ("2", "-0.455")."""
    qty = Decimal(milli).scaleb(-3)
    return str(qty.quantize(Decimal(1)) if milli % 1000 == 0 else qty)


def on_hand_milli(product_id: str) -> int:
    """Stock on hand of a product in thousandths: the sum of its ledger movements."""
    total = (
        StockMovement.select(fn.COALESCE(fn.SUM(StockMovement.qty_milli), 0))
        .where(StockMovement.product_id == product_id)
        .scalar()
    )
    return int(total)


def record_sale(sale_id: str, lines: Sequence[tuple[str, Decimal]], staff_id: str, at: str) -> None:
    """One negative `sale` movement per sold line (inside the sale's transaction)."""
    rows = [
        {
            "id": str(uuid.uuid4()),
            "product_id": product_id,
            "kind": "sale",
            "qty_milli": -_milli(qty),
            "ref": f"sale:{sale_id}",
            "staff_id": staff_id,
            "occurred_at": at,
        }
        for product_id, qty in lines
    ]
    insert_rows(StockMovement, rows)


def _product(product_id: str) -> Product:
    product = products.get_product(product_id)
    if product is None:
        raise NotFound(
            f"no product {product_id} on this box",
            Reason.UNKNOWN_PRODUCT,
            {"product_id": product_id},
        )
    return product


def _check_qty(product: Product, qty: Decimal, *, allow_zero: bool = False) -> None:
    bad_scale = qty * MILLI != (qty * MILLI).to_integral_value()
    fractional_item = product.unit == "each" and qty != qty.to_integral_value()
    if bad_scale or fractional_item or (qty == 0 and not allow_zero):
        raise ValidationError(
            f"quantity {qty} is not valid for {product.name} ({product.unit})",
            Reason.INVALID_QUANTITY,
            {"unit": product.unit},
        )


def _check_reason(kind: BoxKind, reason_code: str | None) -> None:
    if kind in ("adjustment", "waste") and reason_code not in REASON_CODES:
        raise ValidationError(
            f"{kind} needs a reason code from the fixed list",
            Reason.REASON_REQUIRED,
            {"allowed": list(REASON_CODES)},
        )


def _book(
    ctx: BoxContext,
    staff: Staff,
    product: Product,
    kind: BoxKind | Literal["refund"],
    milli: int,
    reason_code: str | None,
    ref: str | None,
) -> dict[str, Any]:
    """Write the movement, its `stock.movement` event and audit entry (caller's transaction)."""
    movement_id, at = str(uuid.uuid4()), now_iso()
    payload = {
        "movement_id": movement_id,
        "product_id": product.id,
        "qty": qty_text(milli),
        "kind": kind,
        "reason_code": reason_code,
        "ref": ref,
        "occurred_at": at,
    }
    envelope = outbox.enqueue(ctx, EventType.STOCK_MOVEMENT, payload)
    StockMovement.insert(
        id=movement_id,
        product_id=product.id,
        kind=kind,
        qty_milli=milli,
        reason_code=reason_code,
        ref=ref,
        staff_id=staff.id,
        event_id=str(envelope.event_id),
        occurred_at=at,
    ).execute()
    audit_log.append(
        ctx,
        actor=f"staff:{staff.id}",
        action=f"stock.{kind}",
        target=f"product:{product.id}",
        details={"movement_id": movement_id, "qty": payload["qty"], "reason_code": reason_code},
    )
    return payload


def record_return(ctx: BoxContext, staff: Staff, product_id: str, milli: int, ref: str) -> None:
    """Book goods back from a refund or post-void (kind `refund`, sent as `stock.movement`;
    inside the caller's transaction). Products no longer on the box are skipped."""
    product = Product.get_or_none(Product.id == product_id)
    if product is not None:
        _book(ctx, staff, product, "refund", milli, None, ref)


def move(
    ctx: BoxContext,
    staff: Staff,
    kind: BoxKind,
    product_id: str,
    qty: Decimal,
    reason_code: str | None = None,
    ref: str | None = None,
) -> dict[str, Any]:
    """Book a receipt (+qty), adjustment (signed qty), waste (qty taken off) or count (qty counted).

    A count books the difference between the counted quantity and the ledger's on hand.
    """
    _check_reason(kind, reason_code)
    product = _product(product_id)
    _check_qty(product, qty, allow_zero=kind == "count")
    if kind in ("receipt", "waste", "count") and qty < 0:
        raise ValidationError(f"{kind} quantity must be positive", Reason.INVALID_QUANTITY)
    with write_txn():
        held = on_hand_milli(product.id)
        milli = {"receipt": _milli(qty), "waste": -_milli(qty), "adjustment": _milli(qty)}.get(
            kind, _milli(qty) - held
        )
        movement = _book(ctx, staff, product, kind, milli, reason_code, ref)
    return {
        "movement": movement,
        "product_id": product.id,
        "on_hand": qty_text(on_hand_milli(product.id)),
    }


def stock_of(product_id: str, limit: int = 50) -> dict[str, Any]:
    """On hand and the latest movements of a product."""
    product = _product(product_id)
    rows = (
        StockMovement.select()
        .where(StockMovement.product_id == product.id)
        .order_by(StockMovement.seq.desc())
        .limit(limit)
    )
    return {
        "product_id": product.id,
        "unit": product.unit,
        "on_hand": qty_text(on_hand_milli(product.id)),
        "movements": [
            {
                "movement_id": m.id,
                "kind": m.kind,
                "qty": qty_text(m.qty_milli),
                "reason_code": m.reason_code,
                "ref": m.ref,
                "staff_id": m.staff_id,
                "occurred_at": m.occurred_at,
            }
            for m in rows
        ],
    }
