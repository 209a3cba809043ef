"""Attach a customer to the open basket by loyalty card (scanned or typed, offline too) or by
a search hit; a detach takes the customer and any chosen redemption off again."""

from __future__ import annotations

from typing import Any

from appliance.core.context import BoxContext
from appliance.core.db import write_txn
from appliance.customers.directory import find_card, find_customer
from appliance.customers.models import BasketRedemption
from appliance.identity.models import Staff
from appliance.till import suspend
from appliance.till.basket import basket_key
from posdomain.errors import NotFound, Reason


def by_card(ctx: BoxContext, staff: Staff, card_text: str) -> dict[str, Any]:
    """Attach the directory's holder of a card (INVALID_CARD, UNKNOWN_CARD)."""
    row = find_card(card_text)
    _drop_redemption(ctx, staff)
    return suspend.attach_customer(ctx, staff, row.customer_id, row.display_name, row.card)


def by_id(ctx: BoxContext, staff: Staff, customer_id: str) -> dict[str, Any]:
    """Attach a customer the hub's search found (it must be in the directory)."""
    row = find_customer(customer_id)
    if row is None or not row.active:
        raise NotFound("this customer is not known on this till yet", Reason.UNKNOWN_CUSTOMER)
    _drop_redemption(ctx, staff)
    return suspend.attach_customer(ctx, staff, row.customer_id, row.display_name, row.card)


def detach(ctx: BoxContext, staff: Staff) -> None:
    """Take the customer (and the points chosen for them) off the open basket."""
    _drop_redemption(ctx, staff)
    suspend.detach_customer(ctx, staff)


def _drop_redemption(ctx: BoxContext, staff: Staff) -> None:
    with write_txn():
        BasketRedemption.delete().where(
            BasketRedemption.basket_key == basket_key(ctx, staff.id)
        ).execute()
