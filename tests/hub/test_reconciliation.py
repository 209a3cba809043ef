"""Reconciliation queue (FR-303): conflicts never reject a sale; they are queued once each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from hub.catalog.models import Product
from hub.core.db import platform_tx, tenant_tx
from hub.identity.models import User
from hub.inventory import ledger
from hub.inventory.ledger import MovementSpec
from hub.pricing.models import PricingPolicy
from hub.sales.models import Sale
from hub.sync.apply import apply_batch
from hub.sync.models import ReconciliationItem
from scripts.testkit.crafted import B, T, batch_of, sale_event
from tests.hub.conftest import enrol_box
from tests.hub.rule_helpers import set_policy

pytestmark = [pytest.mark.pg]


def _kinds(box_id: str) -> list[str]:
    with tenant_tx(T):
        rows = ReconciliationItem.select().where(ReconciliationItem.box_id == box_id)
        return sorted(r.kind for r in rows)


def _stocked_product(qty: str = "100") -> str:
    pid = f"p-rec-{uuid.uuid4().hex[:8]}"
    with tenant_tx(T):
        spec = MovementSpec(B, pid, ledger.parse_qty(qty), "receipt", None, "test stock")
        ledger.write_movement(T, spec, f"test:{pid}", "test")
    return pid


@pytest.mark.req("FR-303")
def test_stock_below_zero_keeps_the_sale_and_queues_one_item_even_if_redelivered(app):
    box = enrol_box(T, B)
    pid = _stocked_product("1")  # the sale takes 2
    batch = batch_of(box, [sale_event(box, 1, product_id=pid)])
    ack = apply_batch(batch, box)
    assert ack.acked_through == 1
    assert len(ack.accepted) == 1
    assert ack.rejected == []
    apply_batch(batch, box)  # same batch again
    with tenant_tx(T):
        assert Sale.select().where(Sale.box_id == box).count() == 1
        item = ReconciliationItem.get(ReconciliationItem.box_id == box)
    assert _kinds(box) == ["STOCK_BELOW_ZERO"]
    assert item.details == {"products": [{"product_id": pid, "on_hand": "-1"}]}
    assert item.state == "open"
    assert item.sale_id == batch.events[0].payload["sale_id"]


@pytest.mark.req("FR-303")
def test_stock_below_zero_in_one_batch_flags_exactly_the_sales_that_went_below(app):
    """Sales of a batch are booked together, yet each is judged on the stock after itself."""
    box = enrol_box(T, B)
    pid = _stocked_product("5")  # each sale takes 2: 3, 1, -1, -3
    events = [sale_event(box, s, product_id=pid) for s in range(1, 5)]
    ack = apply_batch(batch_of(box, events), box)
    assert (ack.acked_through, len(ack.accepted)) == (4, 4)
    with tenant_tx(T):
        items = ReconciliationItem.select().where(ReconciliationItem.box_id == box)
        flagged = {i.event_id: i.details["products"][0]["on_hand"] for i in items}
        assert ledger.on_hand(T, B, pid) == ledger.ledger_sum(T, B, pid) == -3000
    assert flagged == {events[2]["event_id"]: "-1", events[3]["event_id"]: "-3"}


@pytest.mark.req("FR-303")
def test_a_stocked_sale_by_an_active_cashier_queues_nothing(app):
    box = enrol_box(T, B)
    apply_batch(batch_of(box, [sale_event(box, 1, product_id=_stocked_product())]), box)
    assert _kinds(box) == []


@pytest.mark.req("FR-303")
def test_unknown_and_deactivated_cashiers_are_flagged_by_sale_time(app):
    box = enrol_box(T, B)
    pid = _stocked_product()
    uid = f"u-gone-{uuid.uuid4().hex[:6]}"
    deactivated = datetime.now(UTC) - timedelta(hours=1)
    with platform_tx():
        User.create(
            id=uid, tenant_id=T, username=uid, display_name="Gone", password_hash="x",
            role="CASHIER", branch_ids=[B], active=False, updated_at=deactivated,
        )  # fmt: skip
    events = [
        sale_event(box, 1, product_id=pid, cashier_id="u-nobody"),
        sale_event(box, 2, product_id=pid, cashier_id=uid),  # sold after deactivation
        sale_event(  # sold before deactivation: the box was right to let them sell
            box, 3, product_id=pid, cashier_id=uid, occurred_at=deactivated - timedelta(hours=1)
        ),
    ]
    ack = apply_batch(batch_of(box, events), box)
    assert ack.acked_through == 3
    assert len(ack.accepted) == 3
    assert _kinds(box) == ["CASHIER_INACTIVE", "CASHIER_UNKNOWN"]


def _policy(policy_id: str, ended: datetime) -> None:
    """A promotion version that ended at `ended`. The hub refuses to create one that has
    already ended and never updates a version, so the test writes the old version itself,
    linked (as the schema demands) to a change a second person approved."""
    with tenant_tx(T):
        product_id = Product.select(Product.id).where(Product.tenant_id == T).first().id
    change = set_policy(
        T,
        {
            "kind": "percent",
            "target": {"product_ids": [product_id]},
            "params": {"percent": "10"},
            "reason": "test",
        },
    )
    with tenant_tx(T):
        PricingPolicy.create(
            id=str(uuid.uuid4()), tenant_id=T, policy_id=policy_id, policy_version=1,
            effective_from=ended - timedelta(days=7), effective_to=ended, kind="percent",
            target={"product_ids": []}, params={"percent": "10"}, signature="x" * 64,
            key_id="k1", created_by="test", reason="test", change_id=change["id"],
        )  # fmt: skip


@pytest.mark.req("FR-303")
def test_unknown_catalog_and_unknown_or_expired_policy_versions_are_flagged(app):
    box = enrol_box(T, B)
    pid = _stocked_product()
    expired = f"promo-{uuid.uuid4().hex[:6]}"
    _policy(expired, ended=datetime.now(UTC) - timedelta(days=1))

    def disc(policy_id: str, version: int) -> list[dict[str, object]]:
        return [
            {"policy_id": policy_id, "policy_version": version, "kind": "percent", "amount": "0.00"}
        ]

    events = [
        sale_event(box, 1, product_id=pid, versions={"catalog": 10**9}),
        sale_event(box, 2, product_id=pid, discounts=disc("promo-never-published", 3)),
        sale_event(box, 3, product_id=pid, discounts=disc(expired, 1)),
        sale_event(  # sold inside the window (late sync): fine
            box,
            4,
            product_id=pid,
            discounts=disc(expired, 1),
            occurred_at=datetime.now(UTC) - timedelta(days=2),
        ),
    ]
    ack = apply_batch(batch_of(box, events), box)
    assert len(ack.accepted) == 4
    assert ack.rejected == []
    assert _kinds(box) == ["CATALOG_VERSION_UNKNOWN", "POLICY_EXPIRED", "POLICY_VERSION_UNKNOWN"]


@pytest.mark.req("FR-303", "FR-100")
def test_other_tenant_cannot_see_reconciliation_items_rls(app):
    box = enrol_box(T, B)
    apply_batch(batch_of(box, [sale_event(box, 1, cashier_id="u-nobody")]), box)
    with tenant_tx("t-harborfoods"):
        assert ReconciliationItem.select().where(ReconciliationItem.box_id == box).count() == 0
    assert _kinds(box)
