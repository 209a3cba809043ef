"""Scheduled loyalty jobs (FR-401 expiry, FR-402 tiers): `python -m hub loyalty-jobs` (cron or a
systemd timer; `--every SECONDS` loops) and `POST /api/v1/loyalty/tiers/recalculate` on demand.

* Expiry: for each customer, what is left of points earned `expiry.months` or more ago
  (oldest first, `posdomain.loyalty.expiring_points`) becomes one `expire` row keyed
  `expiry:<customer>:<UTC day>`, so a second run the same day books nothing.
* Tiers: rolling spend (net of sales minus refunds and voids, `customer_activity`) or points
  earned minus reversed over `tiers.window_days` picks the tier; a change updates the
  customer, appends `loyalty_tier_changes`, is audited and reaches the boxes through the card
  directory (the customer is stamped with a new `cards` version).
Both run only while the tenant's `loyalty_rules` flag is on and rules exist.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from peewee import fn

from hub.core.db import platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.customers import directory
from hub.customers.models import Customer, CustomerActivity
from hub.governance import audit
from hub.identity.models import Tenant
from hub.loyalty import ledger, rules
from hub.loyalty.ledger import Entry
from hub.loyalty.models import Balance, LedgerRow, TierChange
from posdomain.loyalty import LoyaltyRules, Movement, expiring_points, tier_for, window_start
from posdomain.permissions import Principal

JOB_ACTOR = "system:loyalty-jobs"


def _movements(tenant_id: str, customer_id: str) -> list[Movement]:
    rows = ledger.rows_of(tenant_id, customer_id).order_by(LedgerRow.occurred_at, LedgerRow.id)
    return [Movement(r.occurred_at, int(r.points)) for r in rows]


def expire_points(tenant_id: str, now: datetime, found: LoyaltyRules) -> dict[str, int]:
    """Book every customer's expired points (caller's tenant transaction)."""
    months = found.expiry_months
    if months is None:
        return {"customers": 0, "points": 0}
    holders = Balance.select().where(Balance.tenant_id == tenant_id, Balance.points > 0)
    day = now.date().isoformat()
    entries = []
    for holder in holders:
        gone = expiring_points(_movements(tenant_id, holder.customer_id), now, months)
        if gone > 0:
            entries.append(
                Entry(
                    customer_id=holder.customer_id,
                    source=f"expiry:{holder.customer_id}:{day}",
                    kind="expire",
                    points=-gone,
                    occurred_at=now,
                    rules_version=found.version,
                    actor=JOB_ACTOR,
                )
            )
    booked = ledger.book(tenant_id, entries)
    total = -sum(e.points for e in booked)
    if booked:
        details = {"customers": len(booked), "points": total, "months": months}
        audit.append(tenant_id, JOB_ACTOR, "loyalty.expired", "loyalty", details=details)
    return {"customers": len(booked), "points": total}


def _spend(tenant_id: str, since: datetime) -> dict[str, Decimal]:
    rows = (
        CustomerActivity.select(
            CustomerActivity.customer_id,
            fn.SUM(CustomerActivity.net_minor),
            fn.MAX(CustomerActivity.exponent),
        )
        .where(CustomerActivity.tenant_id == tenant_id, CustomerActivity.occurred_at >= since)
        .group_by(CustomerActivity.customer_id)
        .tuples()
    )
    triples: Any = rows
    return {str(c): Decimal(int(total)).scaleb(-int(exp)) for c, total, exp in triples}


def _points(tenant_id: str, since: datetime) -> dict[str, Decimal]:
    rows = (
        LedgerRow.select(LedgerRow.customer_id, fn.SUM(LedgerRow.points))
        .where(
            LedgerRow.tenant_id == tenant_id,
            LedgerRow.occurred_at >= since,
            LedgerRow.kind.in_(("earn", "earn_reversal")),
        )
        .group_by(LedgerRow.customer_id)
        .tuples()
    )
    pairs: Any = rows
    return {str(c): Decimal(int(total)) for c, total in pairs}


def recalculate_tiers(
    tenant_id: str, now: datetime, found: LoyaltyRules, actor: str = JOB_ACTOR
) -> dict[str, int]:
    """Give every customer the tier their rolling value reaches (caller's tenant transaction)."""
    since = window_start(now, found)
    values = (_spend if found.tier_basis == "spend" else _points)(tenant_id, since)
    customers = list(Customer.select().where(Customer.tenant_id == tenant_id))
    changed = []
    for c in customers:
        value = values.get(c.id, Decimal(0))
        tier = tier_for(value, found)
        if tier == c.tier:
            continue
        TierChange.create(
            tenant_id=tenant_id, customer_id=c.id, from_tier=c.tier, to_tier=tier,
            basis=found.tier_basis, basis_value=str(value), rules_version=found.version,
            actor=actor, changed_at=now,
        )  # fmt: skip
        audit.append(
            tenant_id, actor, "loyalty.tier_changed", f"customer:{c.id}",
            details={"from": c.tier, "to": tier, "basis": found.tier_basis, "value": str(value)},
        )  # fmt: skip
        Customer.update(tier=tier, updated_at=now).where(Customer.id == c.id).execute()
        changed.append(c.id)
    directory.stamp(tenant_id, changed)
    return {"customers": len(customers), "changed": len(changed), "rules_version": found.version}


def run_tiers_now(principal: Principal, tenant_id: str) -> dict[str, int]:
    """On-demand tier recalculation by a manager (audited as the request and each change)."""
    with tenant_tx(tenant_id):
        found = rules.required_rules(tenant_id)
        result = recalculate_tiers(tenant_id, utcnow(), found, principal.actor)
        audit.record(principal, "loyalty.tiers_recalculated", "loyalty", details=result)
    return result


def run_all(now: datetime | None = None) -> list[dict[str, Any]]:
    """Expiry then tiers for every tenant with loyalty on (the scheduled job)."""
    now = now or utcnow()
    with platform_tx():
        tenants = [t.id for t in Tenant.select(Tenant.id).where(Tenant.status == "active")]
    out = []
    for tenant_id in tenants:
        with tenant_tx(tenant_id):
            found = rules.current_rules(tenant_id) if rules.enabled(tenant_id) else None
            if found is None:
                continue
            expired = expire_points(tenant_id, now, found)
            tiers = recalculate_tiers(tenant_id, now, found)
        out.append({"tenant_id": tenant_id, "expired": expired, "tiers": tiers})
    return out
