"""Demo customers and loyalty rules (seed-demo): a few carded customers of the demo tenant,
the tenant's loyalty rules as a versioned config, the `loyalty_rules` flag on and a welcome
bonus on each card, booked through the ledger like any adjustment."""

from __future__ import annotations

import uuid
from typing import Any

from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.customers import directory
from hub.customers.models import Customer
from hub.customers.service import search_text
from hub.governance import config, rule_changes, versions
from hub.governance.models import FeatureFlag
from hub.loyalty import ledger
from hub.loyalty.ledger import Entry
from posdomain.barcodes import check_digit

SEED_ACTOR = "system:seed"
RULES: dict[str, Any] = {
    "earn": {
        "points_per_unit": "1",
        "basis": "net",
        "category_multipliers": {"PRODUCE": "2"},
        "excluded_categories": ["ALCOHOL", "NEWS", "DEPOSIT"],
        "exclude_deposits": True,
    },
    "redeem": {
        "points_per_unit": "100",
        "min_balance": 200,
        "max_share": "0.5",
        "offline_cap_points": 1000,
    },
    "tiers": {
        "basis": "spend",
        "window_days": 365,
        "levels": [
            {"name": "SILVER", "threshold": "250", "multiplier": "1.25"},
            {"name": "GOLD", "threshold": "1000", "multiplier": "1.5"},
        ],
    },
    "expiry": {"months": 12},
}
# (display name, full name, phone, e-mail, card stem, home branch, welcome points)
CUSTOMERS = [
    (
        "Anna K.",
        "Anna Karlsson",
        "+32470111222",
        "anna@example.org",
        "290000000001",
        "b-downtown",
        500,
    ),
    ("Ben O.", "Ben Okafor", "+32470333444", None, "290000000002", "b-downtown", 250),
    ("Chloé D.", "Chloé Dubois", None, "chloe@example.org", "290000000003", "b-riverside", 1200),
    ("Dev P.", None, None, None, "290000000004", "b-riverside", 0),
]


def demo_card(stem: str) -> str:
    """The demo card number of a stem (stem + GS1 check digit)."""
    return stem + check_digit(stem)


def seed_customers(tenant_id: str) -> None:
    """Create the demo customers, rules and flag once (caller: no open transaction)."""
    with tenant_tx(tenant_id):
        if config.current(tenant_id, "loyalty") is None:
            rule_changes.bootstrap_config(tenant_id, "loyalty", RULES, "demo seed")
        if (
            FeatureFlag.get_or_none(
                FeatureFlag.tenant_id == tenant_id, FeatureFlag.name == "loyalty_rules"
            )
            is None
        ):
            FeatureFlag.create(
                id=uuid.uuid4().hex,
                tenant_id=tenant_id,
                name="loyalty_rules",
                enabled=True,
                version=1,
                updated_by=SEED_ACTOR,
            )
            versions.bump(tenant_id, "flags")
        if Customer.select().where(Customer.tenant_id == tenant_id).exists():
            return
        ids = []
        for display, full, phone, email, stem, branch, welcome in CUSTOMERS:
            cid = f"c-demo-{stem[-4:]}"
            Customer.create(
                id=cid,
                tenant_id=tenant_id,
                display_name=display,
                full_name=full,
                phone=phone,
                email=email,
                card=demo_card(stem),
                search_text=search_text(display, full),
                consent_marketing=email is not None,
                home_branch_id=branch,
                source="hub",
                created_by=SEED_ACTOR,
            )
            ids.append(cid)
            if welcome:
                ledger.book(
                    tenant_id,
                    [
                        Entry(
                            customer_id=cid,
                            source=f"adjust:demo-welcome-{cid}",
                            kind="adjust",
                            points=welcome,
                            occurred_at=utcnow(),
                            branch_id=branch,
                            reason_code="GOODWILL",
                            note="welcome bonus",
                            actor=SEED_ACTOR,
                        )
                    ],
                )
        directory.stamp(tenant_id, ids)
