"""Suspend/resume (FR-300) and customer attach for the box-held basket.

A parked basket is stored in the box database (`suspended_baskets`), so it survives a browser
reload and a box restart. Resuming is allowed to the cashier who parked it, or to a SUPERVISOR
or BRANCH_MANAGER of the branch (who takes it over when the cashier has left); the resuming
staff member's own basket must be empty (an empty one with a customer is replaced). Line
numbers, weights, label prices, deposit links, returned lines, approved manual prices, the
customer and the points chosen for them are kept (the redemption is checked again at payment
against the usable balance then); list prices are recomputed on resume from the current
catalog, like any open basket.
"""

from __future__ import annotations

import json
from typing import Any

from appliance.audit import log as audit_log
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import select_one, write_txn
from appliance.customers.models import BasketRedemption
from appliance.identity.models import Staff
from appliance.till.basket import active_lines, basket_key, find_basket, open_basket
from appliance.till.models import (
    Basket,
    BasketCustomer,
    BasketLine,
    BasketPriceOverride,
    SuspendedBasket,
)
from posdomain.errors import Conflict, Forbidden, NotFound, Reason, ValidationError
from posdomain.till_codes import APPROVER_ROLES

LINE_FIELDS = (
    "line_no",
    "product_id",
    "barcode",
    "sku",
    "name",
    "tax_class",
    "unit",
    "qty_milli",
    "label_price_minor",
    "parent_line_no",
    "returned",
    "return_sale_id",
    "return_line_no",
    "age_verified_by",
)


def attach_customer(
    ctx: BoxContext, staff: Staff, customer_id: str, name: str | None, card: str | None = None
) -> dict[str, Any]:
    """Attach a customer (id, name and, scanned, the loyalty card) to the cashier's basket;
    a card scanned before the first item opens the basket empty with the customer on it."""
    key = basket_key(ctx, staff.id)
    with write_txn():
        open_basket(ctx, staff.id)
        BasketCustomer.insert(
            basket_key=key,
            customer_id=customer_id,
            customer_name=name,
            attached_at=now_iso(),
            card=card,
        ).on_conflict_replace().execute()
    return _customer_dict(customer_id, name, card)


def _customer_dict(customer_id: str, name: str | None, card: str | None) -> dict[str, Any]:
    found: dict[str, Any] = {"customer_id": customer_id, "customer_name": name}
    if card:
        found["card"] = card
    return found


def detach_customer(ctx: BoxContext, staff: Staff) -> None:
    """Take the customer off the cashier's open basket."""
    with write_txn():
        BasketCustomer.delete().where(
            BasketCustomer.basket_key == basket_key(ctx, staff.id)
        ).execute()


def customer_of(ctx: BoxContext, staff_id: str) -> dict[str, Any] | None:
    """The customer attached to a cashier's open basket, if any."""
    row = select_one(BasketCustomer, _CUSTOMER_SQL, (basket_key(ctx, staff_id),))
    if row is None:
        return None
    return _customer_dict(row.customer_id, row.customer_name, row.card)


# read by every payment: a constant statement (issue 15), the row peewee's get_or_none reads
_CUSTOMER_SQL = "SELECT * FROM basket_customers WHERE basket_key = ?"


def suspend(ctx: BoxContext, staff: Staff, label: str) -> dict[str, Any]:
    """Park the cashier's open basket under a label; the till is free for the next customer."""
    if not label.strip():
        raise ValidationError("a label is required", Reason.VALIDATION_FAILED)
    with write_txn():
        basket = find_basket(ctx, staff.id)
        lines = active_lines(basket)
        if basket is None or not lines:
            raise Conflict("the basket is empty", Reason.EMPTY_BASKET)
        rows = [{f: getattr(ln, f) for f in LINE_FIELDS} for ln in lines]
        _park_prices(basket.id, rows)
        customer = _parked_customer(ctx, staff.id)
        parked = SuspendedBasket.create(
            label=label.strip()[:60],
            staff_id=staff.id,
            price_list=basket.price_list,
            lines=json.dumps(rows),
            customer=json.dumps(customer) if customer else None,
            suspended_at=now_iso(),
        )
        _drop_basket(basket)
        audit_log.append(
            ctx,
            actor=f"staff:{staff.id}",
            action="basket.suspended",
            target=f"suspended:{parked.id}",
            details={"label": parked.label, "lines": len(rows)},
        )
    return _public(parked)


def _parked_customer(ctx: BoxContext, staff_id: str) -> dict[str, Any] | None:
    """The attached customer with the points chosen for them (`redeem_points`): a parked
    redemption comes back on resume and is checked again, against the balance then, at payment."""
    customer = customer_of(ctx, staff_id)
    chosen = BasketRedemption.get_or_none(BasketRedemption.basket_key == basket_key(ctx, staff_id))
    if (
        customer is not None
        and chosen is not None
        and chosen.customer_id == customer["customer_id"]
    ):
        customer["redeem_points"] = int(chosen.points)
    return customer


def _drop_basket(basket: Basket) -> None:
    """Remove a basket with its lines, customer and chosen redemption."""
    BasketCustomer.delete().where(BasketCustomer.basket_key == basket.key).execute()
    BasketRedemption.delete().where(BasketRedemption.basket_key == basket.key).execute()
    BasketLine.delete().where(BasketLine.basket == basket.id).execute()
    Basket.delete().where(Basket.id == basket.id).execute()


def _park_prices(basket_id: int, rows: list[dict[str, Any]]) -> None:
    """Carry approved manual prices into the parked lines (they are not re-approved)."""
    fields = ("kind", "unit_price_minor", "percent", "approver_id", "reason_code", "created_at")
    prices = {
        p.line_no: {f: getattr(p, f) for f in fields}
        for p in BasketPriceOverride.select().where(BasketPriceOverride.basket_id == basket_id)
    }
    for row in rows:
        if row["line_no"] in prices:
            row["price_override"] = prices[row["line_no"]]


def _public(row: SuspendedBasket) -> dict[str, Any]:
    return {
        "id": row.id,
        "label": row.label,
        "staff_id": row.staff_id,
        "lines": len(json.loads(row.lines)),
        "suspended_at": row.suspended_at,
    }


def list_suspended(staff: Staff) -> list[dict[str, Any]]:
    """Parked baskets this staff member may resume (own; all for supervisors/managers)."""
    query = SuspendedBasket.select().order_by(SuspendedBasket.id)
    if staff.role not in APPROVER_ROLES:
        query = query.where(SuspendedBasket.staff_id == staff.id)
    return [_public(row) for row in query]


def _restore(ctx: BoxContext, staff: Staff, parked: SuspendedBasket) -> None:
    rows = json.loads(parked.lines)
    key = basket_key(ctx, staff.id)
    Basket.insert(
        key=key,
        staff_id=staff.id,
        opened_at=now_iso(),
        price_list=parked.price_list,
        next_line_no=max(r["line_no"] for r in rows) + 1,
    ).execute()
    basket = Basket.get(Basket.key == key)
    for row in rows:
        price = row.pop("price_override", None)
        BasketLine.insert(basket=basket.id, voided=0, **row).execute()
        if price is not None:
            BasketPriceOverride.insert(
                basket_id=basket.id, line_no=row["line_no"], **price
            ).execute()
    if parked.customer:
        customer = json.loads(parked.customer)
        BasketCustomer.insert(
            basket_key=key,
            customer_id=customer["customer_id"],
            customer_name=customer["customer_name"],
            attached_at=now_iso(),
            card=customer.get("card"),
        ).on_conflict_replace().execute()
        if customer.get("redeem_points"):
            BasketRedemption.insert(
                basket_key=key,
                customer_id=customer["customer_id"],
                points=int(customer["redeem_points"]),
                created_at=now_iso(),
            ).on_conflict_replace().execute()


def resume(ctx: BoxContext, staff: Staff, parked_id: int) -> dict[str, Any]:
    """Bring a parked basket back as the staff member's open basket."""
    with write_txn():
        parked = SuspendedBasket.get_or_none(SuspendedBasket.id == parked_id)
        if parked is None:
            raise NotFound("no such parked sale", Reason.NOT_FOUND)
        if parked.staff_id != staff.id and staff.role not in APPROVER_ROLES:
            raise Forbidden("another cashier parked this sale", Reason.FORBIDDEN_ROLE)
        current = find_basket(ctx, staff.id)
        if active_lines(current):
            raise Conflict("finish or park the open basket first", Reason.BASKET_NOT_EMPTY)
        if current is not None:  # empty, maybe with a customer: the parked sale replaces it
            _drop_basket(current)
        _restore(ctx, staff, parked)
        SuspendedBasket.delete().where(SuspendedBasket.id == parked.id).execute()
        audit_log.append(
            ctx,
            actor=f"staff:{staff.id}",
            action="basket.resumed",
            target=f"suspended:{parked.id}",
            details={"label": parked.label, "parked_by": parked.staff_id},
        )
    return {"resumed": parked.id, "label": parked.label}
