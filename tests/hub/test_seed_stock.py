"""The demo seed stocks both demo branches once, through the inventory service."""

from __future__ import annotations

import pytest

from hub.catalog.models import Product
from hub.core.db import tenant_tx
from hub.demo.seed import DEMO_BRANCHES, DEMO_TENANT, seed_demo
from hub.inventory.models import StockMovement

pytestmark = [pytest.mark.pg]


def _receipts() -> int:
    with tenant_tx(DEMO_TENANT):
        return (
            StockMovement.select()
            .where(StockMovement.kind == "receipt", StockMovement.ref == "demo initial stock")
            .count()
        )


def test_demo_branches_are_stocked_once(app):
    before = _receipts()
    seed_demo()  # a re-seed replays the same idempotency keys: no second receipt
    assert _receipts() == before
    with tenant_tx(DEMO_TENANT):
        units = {p.id: p.unit for p in Product.select().where(Product.tenant_id == DEMO_TENANT)}
        moves = list(StockMovement.select().where(StockMovement.ref == "demo initial stock"))
    per_branch = {b: {m.product_id for m in moves if m.branch_id == b} for b in DEMO_BRANCHES}
    seeded = per_branch[DEMO_BRANCHES[0]]  # the seed catalog (later tests add products)
    assert seeded
    assert per_branch[DEMO_BRANCHES[1]] == seeded <= set(units)
    assert before == len(seeded) * len(DEMO_BRANCHES)
    for m in moves:  # 50 kg of a weighed item, 200 units of anything else
        assert m.qty_milli == (50_000 if units[m.product_id] == "weight" else 200_000)
