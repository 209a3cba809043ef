"""Loyalty facts of box events, applied inside the ingest batch (FR-401, FR-303).

* `sale.completed` with a customer: the hub computes the points itself with
  `posdomain.loyalty.earn` — the rules version the box named in `loyalty.rules_version` (else
  the rules in force while the `loyalty_rules` flag is on), the customer's tier at the sale
  time, the hub catalog's category of each product — and books them per line. A redemption
  (`loyalty.redeemed`) is booked as it happened at the till, then checked: the rules
  (`LOYALTY_REDEMPTION_RULES`) and the balance (`LOYALTY_OVER_REDEMPTION` when it went below
  zero: several boxes redeemed the same balance offline). Never a rejection.
* `refund.completed` / `sale.voided`: `settle.settle_sale` reverses what they call for.

Every row is keyed by the event id, so a redelivered or replayed event books nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt
from pydantic import ValidationError as PydanticValidationError

from hub.catalog.models import Product
from hub.core.db import db
from hub.customers.models import Customer
from hub.identity.models import Box
from hub.loyalty import conflicts, ledger, rules, settle
from hub.loyalty.ledger import Entry
from hub.loyalty.models import LedgerRow
from posdomain.contract import EventType
from posdomain.envelope import EventEnvelope
from posdomain.errors import PosError
from posdomain.loyalty import MAX_POINTS, EarnLine, LoyaltyRules, check_redemption, earn
from posdomain.money import parse_minor, parse_money
from posdomain.obs import log_event

log = logging.getLogger(__name__)


class LoyaltyFactsIn(BaseModel):
    """The `loyalty` block of a sale.completed payload (docs/CONTRACT.md "Loyalty")."""

    model_config = ConfigDict(extra="ignore")

    customer_id: str = Field(min_length=1, max_length=64)
    rules_version: StrictInt = Field(ge=1)
    tier: str | None = Field(default=None, max_length=24)
    directory_version: StrictInt = Field(default=0, ge=0)
    balance_before: StrictInt = Field(default=0, ge=-MAX_POINTS, le=MAX_POINTS)
    earned: StrictInt = Field(default=0, ge=0, le=MAX_POINTS)
    redeemed: StrictInt = Field(default=0, ge=0, le=MAX_POINTS)
    redeemed_value: str = "0"
    offline: StrictBool = False


def _customer_id(payload: dict[str, Any]) -> str | None:
    facts = payload.get("loyalty")
    if isinstance(facts, dict) and isinstance(facts.get("customer_id"), str):
        return str(facts["customer_id"])
    customer = payload.get("customer")
    if isinstance(customer, dict) and isinstance(customer.get("customer_id"), str):
        return str(customer["customer_id"])
    return None


def _earn_lines(tenant_id: str, payload: dict[str, Any], exponent: int) -> list[EarnLine]:
    lines = [ln for ln in payload.get("lines", []) if isinstance(ln, dict)]
    ids = sorted({str(ln.get("product_id")) for ln in lines})
    products = {
        p.id: p for p in Product.select().where(Product.tenant_id == tenant_id, Product.id.in_(ids))
    }
    out = []
    for ln in lines:
        product = products.get(str(ln.get("product_id")))
        out.append(
            EarnLine(
                line_no=int(ln["line_no"]),
                line_total=parse_money(ln.get("line_total", "0"), exponent, "line_total"),
                tax=parse_money(ln.get("tax", "0"), exponent, "tax"),
                tax_class=str(ln.get("tax_class", "")),
                category=product.category if product else None,
                is_deposit=ln.get("deposit_for_line") is not None
                or bool(product and product.is_deposit),
            )
        )
    return out


class _Sale:
    """One sale.completed event as loyalty sees it."""

    def __init__(self, box: Box, ev: EventEnvelope) -> None:
        self.box, self.ev, self.payload = box, ev, ev.payload
        self.event_id = str(ev.event_id)
        self.sale_id = str(self.payload["sale_id"])
        self.exponent = int(self.payload.get("exponent", 2))
        self.at: datetime = ev.occurred_at

    def entry(
        self, customer_id: str, kind: str, points: int, rules_version: int | None, line_no: int = 0
    ) -> Entry:
        return Entry(
            customer_id=customer_id,
            source=self.event_id,
            kind=kind,
            points=points,
            occurred_at=self.at,
            line_no=line_no,
            sale_id=self.sale_id,
            branch_id=self.box.branch_id,
            box_id=self.box.box_id,
            rules_version=rules_version,
        )

    def conflict(self, kind: str, details: dict[str, Any]) -> None:
        conflicts.raise_item(self.box, self.event_id, self.sale_id, kind, details)


def _facts(sale: _Sale) -> LoyaltyFactsIn | PydanticValidationError | None:
    raw = sale.payload.get("loyalty")
    if raw is None:
        return None
    try:
        return LoyaltyFactsIn.model_validate(raw)
    except PydanticValidationError as err:
        return err


def _rules_for(sale: _Sale, facts: LoyaltyFactsIn | None) -> LoyaltyRules | None:
    tenant = sale.box.tenant_id
    if facts is None:
        return rules.current_rules(tenant) if rules.enabled(tenant) else None
    found = rules.rules_at(tenant, facts.rules_version)
    if found is None:
        sale.conflict("LOYALTY_RULES_UNKNOWN", {"rules_version": facts.rules_version})
        return rules.current_rules(tenant)
    return found


def _redeem(
    sale: _Sale, customer_id: str, facts: LoyaltyFactsIn, found: LoyaltyRules | None
) -> None:
    tenant = sale.box.tenant_id
    version = found.version if found else None
    booked = ledger.book(tenant, [sale.entry(customer_id, "redeem", -facts.redeemed, version)])
    if not booked:
        return
    after = ledger.balance(tenant, customer_id)
    problem = _rule_problem(sale, facts, found)
    if problem:
        sale.conflict("LOYALTY_REDEMPTION_RULES", {"customer_id": customer_id, **problem})
    if after < 0:
        sale.conflict("LOYALTY_OVER_REDEMPTION", _over_details(sale, customer_id, facts, after))


def _rule_problem(sale: _Sale, facts: LoyaltyFactsIn, found: LoyaltyRules | None) -> dict[str, Any]:
    if found is None:
        return {"problem": "no loyalty rules to redeem under"}
    total = parse_minor(sale.payload.get("total", "0"), sale.exponent, "total")
    try:
        value = check_redemption(facts.redeemed, facts.balance_before, total, found, sale.exponent)
        claimed = parse_minor(facts.redeemed_value, sale.exponent, "redeemed_value")
    except PosError as err:
        return {"reason": str(err.reason), "problem": err.message, "redeemed": facts.redeemed}
    if claimed != value:
        return {
            "problem": "redeemed value does not match the points",
            "value_minor": value,
            "claimed_minor": claimed,
        }
    return {}


def _over_details(
    sale: _Sale, customer_id: str, facts: LoyaltyFactsIn, after: int
) -> dict[str, Any]:
    recent = (
        ledger.rows_of(sale.box.tenant_id, customer_id)
        .where(LedgerRow.kind == "redeem")
        .order_by(LedgerRow.id.desc())
        .limit(5)
    )
    return {
        "customer_id": customer_id,
        "balance_after": after,
        "redeemed": facts.redeemed,
        "balance_box_knew": facts.balance_before,
        "offline": facts.offline,
        "redemptions": [
            {
                "box_id": r.box_id,
                "sale_id": r.sale_id,
                "points": -int(r.points),
                "occurred_at": r.occurred_at.isoformat(),
            }
            for r in recent
        ],
    }


def _earn(
    sale: _Sale, customer: Customer, facts: LoyaltyFactsIn | None, found: LoyaltyRules
) -> None:
    tenant = sale.box.tenant_id
    tier = rules.tier_at(tenant, customer.id, sale.at)
    result = earn(_earn_lines(tenant, sale.payload, sale.exponent), found, tier)
    ledger.book(
        tenant,
        [
            sale.entry(customer.id, "earn", pts, found.version, line_no)
            for line_no, pts in sorted(result.per_line.items())
        ],
    )
    if facts is not None and facts.earned != result.total:
        sale.conflict(
            "LOYALTY_EARN_MISMATCH",
            {
                "customer_id": customer.id,
                "box_earned": facts.earned,
                "hub_earned": result.total,
                "box_tier": facts.tier,
                "hub_tier": tier,
                "rules_version": found.version,
            },
        )


def apply_sale(box: Box, ev: EventEnvelope) -> None:
    """Book the points of one applied sale (caller's batch transaction)."""
    customer_id = _customer_id(ev.payload)
    if customer_id is None:
        return
    sale = _Sale(box, ev)
    facts = _facts(sale)
    if isinstance(facts, PydanticValidationError):
        sale.conflict("LOYALTY_FACTS_INVALID", {"problems": [e["msg"] for e in facts.errors()][:5]})
        return
    customer = Customer.get_or_none(Customer.tenant_id == box.tenant_id, Customer.id == customer_id)
    if customer is None:
        if facts is not None:
            sale.conflict("LOYALTY_CUSTOMER_UNKNOWN", {"customer_id": customer_id})
        return
    found = _rules_for(sale, facts)
    if facts is not None and facts.redeemed > 0:
        _redeem(sale, customer.id, facts, found)
    if found is not None:
        _earn(sale, customer, facts, found)
    settle.settle_sale(box.tenant_id, sale.sale_id)  # refunds or a void that came first


def apply_event(box: Box, ev: EventEnvelope) -> None:
    """Loyalty effect of one accepted event (sales, refunds, post-voids; others: none)."""
    try:
        with db.atomic():  # savepoint: a fact that fails half-way books nothing
            if ev.type == EventType.SALE_COMPLETED:
                apply_sale(box, ev)
            elif ev.type in (EventType.REFUND_COMPLETED, EventType.SALE_VOIDED):
                sale_id = ev.payload.get("sale_id")
                if isinstance(sale_id, str) and sale_id:
                    settle.settle_sale(box.tenant_id, sale_id)
    except PosError as err:  # money the sale's own validation let through: queue, never drop
        log_event(log, "loyalty facts not booked", logging.WARNING, reason=str(err.reason))
        conflicts.raise_item(
            box,
            str(ev.event_id),
            ev.payload.get("sale_id"),
            "LOYALTY_FACTS_INVALID",
            {"reason": str(err.reason), "problem": err.message},
        )
