"""Loyalty points at the till (FR-401): rules in force, usable balance, earn preview and
redemption as a `points` tender, with the same pure functions the hub books with
(`posdomain.loyalty`).

* Rules: the `config` body's `loyalty` ({version, rules}) while the `loyalty_rules` flag is on.
* Usable balance = the directory entry's balance - the points this box redeemed that the
  hub's directory does not reflect yet (unsettled `loyalty_redemptions`, see `directory`).
* Offline, the points this box redeemed while offline and not yet settled plus the new
  redemption may not pass `redeem.offline_cap_points` (REDEMPTION_OFFLINE_CAP).
* The sale event carries `loyalty` {customer_id, rules_version, tier, directory_version,
  balance_before, earned, redeemed, redeemed_value, offline} and the points tender
  (docs/CONTRACT.md "Box events"); the hub books and checks them, never rejecting the sale.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from peewee import fn

from appliance.catalog.config_docs import config_body
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import execute, select_one, write_txn
from appliance.customers.directory import find_customer
from appliance.customers.models import BasketRedemption, LoyaltyCard, Redemption
from appliance.identity.models import Staff
from appliance.sync.status import is_online
from appliance.till.basket import basket_key, find_basket, price_open
from appliance.till.money_setup import MoneySetup, money_setup
from appliance.till.pricing import BasketTotals
from appliance.till.suspend import customer_of
from posdomain.errors import Conflict, Reason, ValidationError
from posdomain.loyalty import (
    EarnLine,
    LoyaltyRules,
    check_redemption,
    earn,
    max_redeemable,
    parse_rules,
    require_points,
)
from posdomain.money import format_minor, to_minor
from posdomain.till_codes import POINTS_TENDER


def rules_in_force() -> LoyaltyRules | None:
    """The tenant's loyalty rules while the `loyalty_rules` flag is on (else None)."""
    if not (config_body("flags") or {}).get("loyalty_rules"):
        return None
    doc = (config_body("config") or {}).get("loyalty")
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), dict):
        return None
    return parse_rules(doc["rules"], int(doc.get("version", 0)))


def _require_rules() -> LoyaltyRules:
    if not (config_body("flags") or {}).get("loyalty_rules"):
        raise Conflict("loyalty points are switched off", Reason.LOYALTY_DISABLED)
    found = rules_in_force()
    if found is None:
        raise Conflict("no loyalty rules have reached this till", Reason.LOYALTY_RULES_MISSING)
    return found


def unsettled(customer_id: str) -> int:
    """Points this box redeemed for a customer that the directory does not reflect yet."""
    q = Redemption.select(fn.COALESCE(fn.SUM(Redemption.points), 0)).where(
        Redemption.customer_id == customer_id, Redemption.settled == 0
    )
    return int(q.scalar() or 0)


def offline_redeemed() -> int:
    """Points this box redeemed while offline that the hub has not reflected yet."""
    q = Redemption.select(fn.COALESCE(fn.SUM(Redemption.points), 0)).where(
        Redemption.offline == 1, Redemption.settled == 0
    )
    return int(q.scalar() or 0)


def usable_balance(row: LoyaltyCard) -> int:
    """What the till may let the customer redeem: directory balance - own unsettled."""
    return int(row.balance) - unsettled(row.customer_id)


def earn_lines(totals: BasketTotals) -> list[EarnLine]:
    """The priced lines as earning sees them (the hub builds the same from the sale event)."""
    return [
        EarnLine(
            line_no=p.line.line_no,
            line_total=p.sold.tax.gross,
            tax=p.sold.tax.tax,
            tax_class=p.sold.tax.tax_class,
            category=p.product.category,
            is_deposit=p.line.parent_line_no is not None or bool(p.product.is_deposit),
        )
        for p in totals.lines
    ]


@dataclass(frozen=True)
class Redeeming:
    """A checked redemption: points, their money value (minor units) and the facts used."""

    points: int
    value_minor: int
    usable: int
    offline: bool


def _check(
    points: int, row: LoyaltyCard, totals: BasketTotals, setup: MoneySetup, rules: LoyaltyRules
) -> Redeeming:
    require_points(points)
    usable = usable_balance(row)
    basket_minor = to_minor(totals.sale.tax.total, setup.exponent)
    value = check_redemption(points, usable, basket_minor, rules, setup.exponent)
    offline = not is_online()
    if offline:
        used = offline_redeemed()
        if used + points > rules.offline_cap_points:
            raise ValidationError(
                "offline, this till may redeem only a few more points",
                Reason.REDEMPTION_OFFLINE_CAP,
                {"cap": rules.offline_cap_points, "used": used},
            )
    return Redeeming(points, value, usable, offline)


def _customer_row(ctx: BoxContext, staff_id: str) -> LoyaltyCard:
    customer = customer_of(ctx, staff_id)
    row = None if customer is None else find_customer(customer["customer_id"])
    if row is None:
        raise Conflict("attach a customer's card first", Reason.NO_CUSTOMER)
    return row


def most_points(
    row: LoyaltyCard, totals: BasketTotals, setup: MoneySetup, rules: LoyaltyRules
) -> int:
    """The most points this basket may take now (rules, usable balance, offline cap)."""
    basket_minor = to_minor(totals.sale.tax.total, setup.exponent)
    most = max_redeemable(usable_balance(row), basket_minor, rules, setup.exponent)
    if not is_online():
        most = min(most, max(0, rules.offline_cap_points - offline_redeemed()))
        while most > 0 and Decimal(most) * 10**setup.exponent % rules.redeem_rate:
            most -= 1  # whole minor units only
    return most


def panel(ctx: BoxContext, staff_id: str) -> dict[str, Any]:
    """The loyalty panel of the basket: customer, earn preview, redemption, limits."""
    customer = customer_of(ctx, staff_id)
    if customer is None:
        return {"customer": None, "enabled": rules_in_force() is not None}
    row = find_customer(customer["customer_id"])
    setup = money_setup()
    totals = price_open(setup, find_basket(ctx, staff_id))
    rules = rules_in_force()
    out: dict[str, Any] = {"customer": customer_json(row, customer), "enabled": rules is not None}
    if rules is None or row is None:
        return out
    chosen = BasketRedemption.get_or_none(BasketRedemption.basket_key == basket_key(ctx, staff_id))
    points = 0 if chosen is None or chosen.customer_id != row.customer_id else int(chosen.points)
    value = 0
    if points:
        try:
            value = _check(points, row, totals, setup, rules).value_minor
        except ValidationError as err:
            out["redeem_problem"] = str(err.reason)
    out.update(
        earn_preview=earn(earn_lines(totals), rules, row.tier).total,
        redeem_points=points,
        redeem_value=format_minor(value, setup.exponent),
        to_pay=format_minor(
            to_minor(totals.sale.tax.total, setup.exponent) - value, setup.exponent
        ),
        max_points=most_points(row, totals, setup, rules),
        min_balance=rules.min_balance,
        points_per_unit=str(rules.redeem_rate),
        offline=not is_online(),
    )
    return out


def customer_json(row: LoyaltyCard | None, customer: dict[str, Any]) -> dict[str, Any]:
    """What the screen shows of the attached customer (card tail only)."""
    card = customer.get("card") or (row.card if row else None)
    return {
        "customer_id": customer["customer_id"],
        "name": customer.get("customer_name") or (row.display_name if row else ""),
        "card_tail": None if not card else card[-4:],
        "tier": row.tier if row else None,
        "balance": usable_balance(row) if row else 0,
    }


def set_redemption(ctx: BoxContext, staff: Staff, points: int) -> dict[str, Any]:
    """Choose how many points the open basket redeems (0 removes it); checked now and again
    at payment."""
    key = basket_key(ctx, staff.id)
    if points == 0:
        with write_txn():
            BasketRedemption.delete().where(BasketRedemption.basket_key == key).execute()
        return panel(ctx, staff.id)
    rules = _require_rules()
    row = _customer_row(ctx, staff.id)
    setup = money_setup()
    _check(points, row, price_open(setup, find_basket(ctx, staff.id)), setup, rules)
    with write_txn():
        BasketRedemption.insert(
            basket_key=key, customer_id=row.customer_id, points=points, created_at=now_iso()
        ).on_conflict_replace().execute()
    return panel(ctx, staff.id)


@dataclass(frozen=True)
class SaleLoyalty:
    """What a sale carries for loyalty: the points tender (if any) and the facts block."""

    value_minor: int
    tender: dict[str, Any] | None
    block: dict[str, Any] | None
    redeemed: int


NONE = SaleLoyalty(0, None, None, 0)


# every payment reads and drops the basket's choice: constant statements (issue 15)
_CHOSEN_SQL = "SELECT * FROM basket_redemptions WHERE basket_key = ?"
_DROP_CHOSEN_SQL = "DELETE FROM basket_redemptions WHERE basket_key = ?"


def at_checkout(
    ctx: BoxContext,
    staff_id: str,
    customer: dict[str, Any] | None,
    setup: MoneySetup,
    totals: BasketTotals,
) -> SaleLoyalty:
    """Check the basket's redemption again and compute the sale's loyalty facts (inside the
    sale's transaction); no customer or no rules: nothing."""
    key = basket_key(ctx, staff_id)
    chosen = select_one(BasketRedemption, _CHOSEN_SQL, (key,))
    rules = rules_in_force()
    row = None if customer is None else find_customer(customer["customer_id"])
    if chosen is not None and (row is None or chosen.customer_id != row.customer_id):
        chosen = None  # left from a parked basket or another customer: never redeemed
    if chosen is not None and rules is None:
        raise Conflict("loyalty points were switched off", Reason.LOYALTY_DISABLED)
    if customer is None or rules is None or row is None:
        return NONE
    usable = usable_balance(row)
    red = Redeeming(0, 0, usable, not is_online())
    if chosen is not None:
        red = _check(int(chosen.points), row, totals, setup, rules)
    value = format_minor(red.value_minor, setup.exponent)
    block = {
        "customer_id": row.customer_id,
        "rules_version": rules.version,
        "tier": row.tier,
        "directory_version": int(row.version),
        "balance_before": red.usable,
        "earned": earn(earn_lines(totals), rules, row.tier).total,
        "redeemed": red.points,
        "redeemed_value": value,
        "offline": red.offline,
    }
    tender = None
    if red.points:
        tender = {"kind": POINTS_TENDER, "amount": value, "points": red.points}
    return SaleLoyalty(red.value_minor, tender, block, red.points)


def record(ctx: BoxContext, staff_id: str, sale_id: str, event_id: str, facts: SaleLoyalty) -> None:
    """Keep the box's own redemption (until the hub reflects it) and drop the basket's choice
    (inside the sale's transaction)."""
    execute(_DROP_CHOSEN_SQL, (basket_key(ctx, staff_id),))
    if facts.redeemed and facts.block is not None:
        Redemption.insert(
            sale_id=sale_id,
            customer_id=facts.block["customer_id"],
            points=facts.redeemed,
            offline=int(facts.block["offline"]),
            redeemed_at=now_iso(),
            event_id=event_id,
        ).execute()
