"""The tenant's loyalty rules: the versioned `loyalty` config document, parsed by
`posdomain.loyalty`, used only while the `loyalty_rules` flag is on (caller's transaction)."""

from __future__ import annotations

from datetime import datetime

from hub.governance import config
from hub.governance.flags import flag_values
from hub.loyalty.models import TierChange
from posdomain.errors import NotFound, Reason, ValidationError
from posdomain.loyalty import LoyaltyRules, parse_rules

KIND = "loyalty"
FLAG = "loyalty_rules"


def enabled(tenant_id: str) -> bool:
    """Whether the tenant's `loyalty_rules` flag is on."""
    return flag_values(tenant_id).get(FLAG, False)


def current_rules(tenant_id: str) -> LoyaltyRules | None:
    """The rules in force (None when the tenant has none yet)."""
    row = config.current(tenant_id, KIND)
    return parse_rules(row.body, int(row.version)) if row else None


def rules_at(tenant_id: str, version: int) -> LoyaltyRules | None:
    """The rules of one version (what a box used offline), or None if the hub has no such one."""
    row = config.at_version(tenant_id, KIND, version)
    return parse_rules(row.body, int(row.version)) if row else None


def required_rules(tenant_id: str) -> LoyaltyRules:
    """The rules in force; 409 LOYALTY_DISABLED / 404 LOYALTY_RULES_MISSING otherwise."""
    if not enabled(tenant_id):
        raise ValidationError("loyalty is switched off for this tenant", Reason.LOYALTY_DISABLED)
    rules = current_rules(tenant_id)
    if rules is None:
        raise NotFound("no loyalty rules configured yet", Reason.LOYALTY_RULES_MISSING)
    return rules


def tier_at(tenant_id: str, customer_id: str, at: datetime) -> str | None:
    """The tier a customer held at `at` (from the tier history; none before the first)."""
    row = (
        TierChange.select()
        .where(
            TierChange.tenant_id == tenant_id,
            TierChange.customer_id == customer_id,
            TierChange.changed_at <= at,
        )
        .order_by(TierChange.changed_at.desc(), TierChange.id.desc())
        .first()
    )
    return row.to_tier if row else None
