"""Demo promotions (seed-demo): advanced_discounts on and two signed policies to try at the till.

* `demo-passata-3for2`: multi-buy, any 3 "Tomato Passata" (p-011, 0.99 each) for 2.00.
* `demo-snacks-10pct`: 10 % off every product in category SNACKS.
"""

from __future__ import annotations

import uuid
from typing import Any

from hub.core.db import tenant_tx
from hub.demo.catalog_seed import SEED_ACTOR
from hub.governance import audit, rule_changes, versions
from hub.governance.models import FeatureFlag
from hub.pricing import policies as pricing_policies

DEMO_POLICIES: list[dict[str, Any]] = [
    {
        "policy_id": "demo-passata-3for2",
        "kind": "multibuy",
        "target": {"product_ids": ["p-011"], "categories": []},
        "params": {"qty": 3, "price": "2.00"},
        "effectiveFrom": "2024-01-01T00:00:00Z",  # well before any till clock, skew or not
        "reason": "demo seed: 3 Tomato Passata for 2.00",
    },
    {
        "policy_id": "demo-snacks-10pct",
        "kind": "percent",
        "target": {"product_ids": [], "categories": ["SNACKS"]},
        "params": {"percent": "10"},
        "effectiveFrom": "2024-01-01T00:00:00Z",
        "reason": "demo seed: 10% off snacks & sweets",
    },
]


def _enable_advanced_discounts(tenant_id: str) -> None:
    with tenant_tx(tenant_id):
        FeatureFlag.create(
            id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            name="advanced_discounts",
            enabled=True,
            version=1,
            updated_by=SEED_ACTOR,
        )
        details = {
            "tenant_id": tenant_id,
            "flag": "advanced_discounts",
            "before": False,
            "after": True,
            "reason": "demo seed",
        }
        audit.append(
            tenant_id, SEED_ACTOR, "flag.flipped", "flag:advanced_discounts", details=details
        )
        versions.bump(tenant_id, "flags")
        versions.bump(tenant_id, "pricing")


def seed_demo_pricing(tenant_id: str) -> list[str]:
    """Turn advanced_discounts on and sign the demo policies; return their policy ids."""
    _enable_advanced_discounts(tenant_id)
    for spec in DEMO_POLICIES:
        body = pricing_policies.PolicyIn.model_validate(spec)
        rule_changes.bootstrap_policy(tenant_id, body)  # audited; only before the first box
    return [str(spec["policy_id"]) for spec in DEMO_POLICIES]
